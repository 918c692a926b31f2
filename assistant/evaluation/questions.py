"""The gold question file (JSON Lines), read strictly: a bad line stops the run naming file and line."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROLES = ("user", "assistant")


class QuestionFileError(ValueError):
    """A malformed question file; the message names the file and the line."""


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answerable: bool
    evidence: tuple[str, ...] = ()
    history: tuple[dict[str, Any], ...] = ()  # followups.Message: role, content, abstained, ...
    min_sources: int | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    # The documents that answer it (keys or file names without suffix), when known: PubMedQA's own
    # abstract. Gold questions leave it empty; their evidence documents are found by evidence phrase.
    documents: tuple[str, ...] = ()


def question_json(question: Question) -> dict[str, Any]:
    """The question as one line of a question file (optional keys only when set)."""
    raw: dict[str, Any] = {
        "id": question.id,
        "question": question.question,
        "answerable": question.answerable,
        "evidence": list(question.evidence),
    }
    if question.history:
        raw["history"] = list(question.history)
    if question.min_sources is not None:
        raw["min_sources"] = question.min_sources
    raw["tags"] = list(question.tags)
    return raw


def load_questions(path: Path) -> list[Question]:
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionFileError(f"{path}: cannot read the question file ({exc})") from exc
    questions: list[Question] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            question = parse_question(json.loads(line))
        except json.JSONDecodeError as exc:
            raise QuestionFileError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
        except ValueError as exc:
            raise QuestionFileError(f"{path}:{number}: {exc}") from exc
        if question.id in seen:
            raise QuestionFileError(f"{path}:{number}: duplicate id '{question.id}'")
        seen.add(question.id)
        questions.append(question)
    if not questions:
        raise QuestionFileError(f"{path}: no questions in the file")
    return questions


def parse_question(raw: Any) -> Question:
    """One question object, checked key by key (ValueError says which key is wrong)."""
    if not isinstance(raw, dict):
        raise ValueError("each line must be a JSON object")
    qid, text, answerable = raw.get("id"), raw.get("question"), raw.get("answerable")
    if not isinstance(qid, str) or not qid.strip():
        raise ValueError("'id' must be a non-empty string")
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"question {qid}: 'question' must be a non-empty string")
    if not isinstance(answerable, bool):
        raise ValueError(f"question {qid}: 'answerable' must be true or false")
    evidence = _strings(raw.get("evidence", []), f"question {qid}: 'evidence'")
    if answerable and not any(e.strip() for e in evidence):
        raise ValueError(f"question {qid}: an answerable question needs at least one evidence phrase")
    min_sources = raw.get("min_sources")
    if min_sources is not None and (type(min_sources) is not int or min_sources < 1):
        raise ValueError(f"question {qid}: 'min_sources' must be a whole number >= 1")
    return Question(
        id=qid,
        question=text,
        answerable=answerable,
        evidence=tuple(e for e in evidence if e.strip()),
        history=_history(raw.get("history", []), qid),
        min_sources=min_sources,
        tags=tuple(_strings(raw.get("tags", []), f"question {qid}: 'tags'")),
        documents=tuple(_strings(raw.get("documents", []), f"question {qid}: 'documents'")),
    )


def _strings(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{what} must be a list of strings")
    return value


def _history(value: Any, qid: str) -> tuple[dict[str, Any], ...]:
    if not isinstance(value, list):
        raise ValueError(f"question {qid}: 'history' must be a list of {{role, content}} messages")
    for message in value:
        if (
            not isinstance(message, dict)
            or message.get("role") not in ROLES
            or not isinstance(message.get("content"), str)
        ):
            raise ValueError(
                f"question {qid}: each 'history' message needs 'role' (user or assistant) and 'content' text"
            )
    for message in value:
        if not isinstance(message.get("abstained", False), bool) or not isinstance(
            message.get("standalone_question", ""), str
        ):
            raise ValueError(
                f"question {qid}: a 'history' message's 'abstained' must be true or false and its "
                "'standalone_question' text"
            )
    kept = ("role", "content", "abstained", "standalone_question")
    return tuple({key: m[key] for key in kept if key in m} for m in value)
