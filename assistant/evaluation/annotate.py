"""Growing the gold set: questions from feedback records and from passages of the library.

Both paths end in `add_question`, which validates before it writes: the question parses like any
line of a question file, its id and text are new to the file, and every evidence phrase occurs
(case- and whitespace-insensitively, as the metrics compare) in the passage it was marked in, or
else somewhere in the store. Nothing is written unless every check passes; the file is only ever
appended to.

`sample_passage` picks what to annotate next: a passage with sentences no gold evidence phrase
touches, from the document least covered, so annotation spreads across the library. Coverage is
counted per sentence, not per passage: a passage with one gold phrase can still hold ten unasked
facts.
"""

from __future__ import annotations

import json
import random
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.catalog import Catalog
from assistant.evaluation.metrics import holds_evidence, normalize
from assistant.evaluation.questions import (
    Question,
    QuestionFileError,
    load_questions,
    parse_question,
    question_json,
)
from assistant.text import split_sentences
from assistant.types import Passage

_LOCK = threading.Lock()  # the workbench's handlers run in threads; one append at a time
ID_PATTERN = re.compile(r"q(\d+)")


class GoldError(ValueError):
    """A gold question that cannot be added; the message says which file and why."""


@dataclass(frozen=True)
class Coverage:
    """A passage to annotate and how far gold questions already cover its document."""

    passage: Passage
    open_sentences: list[str]  # its sentences no gold evidence phrase touches
    document_share_covered: float  # of its document's sentences, the share gold evidence touches
    open_passages_in_document: int  # passages of the document with open sentences (not skipped)


def existing_questions(path: Path) -> list[Question]:
    """The file's questions; a missing or empty file is a new, empty set."""
    path = Path(path)
    if not path.is_file() or not path.read_text(encoding="utf-8").strip():
        return []
    try:
        return load_questions(path)
    except QuestionFileError as exc:
        raise GoldError(f"{exc} (fix the file before adding to it)") from exc


def next_id(questions: Sequence[Question]) -> str:
    """q + one more than the highest qNNN id in the set (three digits at least)."""
    numbers = [int(m.group(1)) for q in questions if (m := ID_PATTERN.fullmatch(q.id))]
    return f"q{max(numbers, default=0) + 1:03d}"


def library_passages(catalog: Catalog) -> list[Passage]:
    """Every stored passage, in document order."""
    passages = catalog.passages(catalog.chunk_ids()).values()
    return sorted(passages, key=lambda p: (p.source, p.metadata.get("ordinal", 0)))


def make_question(
    text: str,
    evidence: Iterable[str],
    tags: Iterable[str],
    *,
    answerable: bool = True,
    qid: str | None = None,
    existing: Sequence[Question] = (),
) -> Question:
    """A question checked like a line of the file (ValueError says which key is wrong)."""
    raw: dict[str, Any] = {
        "id": qid or next_id(existing),
        "question": " ".join(text.split()),
        "answerable": answerable,
        "evidence": [" ".join(e.split()) for e in evidence if e.strip()] if answerable else [],
        "tags": list(dict.fromkeys(t.strip() for t in tags if t.strip())),
    }
    return parse_question(raw)


def check_new(question: Question, existing: Sequence[Question], path: Path) -> None:
    if any(q.id == question.id for q in existing):
        raise GoldError(f"{path}: id '{question.id}' is already in the file")
    same = next((q for q in existing if normalize(q.question) == normalize(question.question)), None)
    if same:
        raise GoldError(f"{path}: the same question is already there as '{same.id}'")


def check_evidence(question: Question, catalog: Catalog, passage_id: str | None) -> None:
    """Each phrase in the marked passage (when one is given), and in the store in any case."""
    if passage_id is not None:
        passage = catalog.passages([passage_id]).get(passage_id)
        if passage is None:
            raise GoldError(f"passage {passage_id} is not in the store (was the library re-ingested?)")
        missing = [e for e in question.evidence if not holds_evidence(passage.text, [e])]
        if missing:
            raise GoldError(f"evidence not in passage {passage_id}: “{missing[0]}” (copy it word for word)")
        return
    texts = [p.text for p in library_passages(catalog)]
    for phrase in question.evidence:
        if not any(holds_evidence(t, [phrase]) for t in texts):
            raise GoldError(
                f"evidence not in any stored passage: “{phrase}” (a typo, or a phrase across two passages)"
            )


def add_question(
    path: Path, question: Question, catalog: Catalog, *, passage_id: str | None = None
) -> Question:
    """Validate against the file and the store, then append one line. GoldError: nothing written."""
    path = Path(path)
    with _LOCK:
        existing = existing_questions(path)
        check_new(question, existing, path)
        check_evidence(question, catalog, passage_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        needs_newline = path.is_file() and path.stat().st_size and not path.read_bytes().endswith(b"\n")
        with path.open("a", encoding="utf-8") as handle:
            handle.write(
                ("\n" if needs_newline else "")
                + json.dumps(question_json(question), ensure_ascii=False)
                + "\n"
            )
    return question


# --- from feedback -----------------------------------------------------------------------------
def feedback_records(path: Path) -> list[dict[str, Any]]:
    """data/feedback.jsonl, one record per rating or comment; a bad line names the file and line."""
    path = Path(path)
    if not path.is_file():
        return []
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise GoldError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
        if not isinstance(record, dict) or not isinstance(record.get("question"), str):
            raise GoldError(f"{path}:{number}: not a feedback record (no 'question')")
        records.append(record)
    return records


def feedback_passages(record: dict[str, Any], catalog: Catalog) -> list[Passage]:
    """The passages the answer was built from, in rank order, as they are stored now."""
    ids = [i for i in record.get("retrieved", []) if isinstance(i, str)]
    found = catalog.passages(ids)
    return [found[i] for i in ids if i in found]


# --- from the library --------------------------------------------------------------------------
def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """A phrase matched as the metrics match it: any case, any run of whitespace between words."""
    return re.compile(r"\s+".join(re.escape(w) for w in phrase.split()), re.IGNORECASE)


def evidence_spans(text: str, phrases: Iterable[str]) -> list[tuple[int, int]]:
    """Character spans of every occurrence of every phrase in the text."""
    return [m.span() for p in phrases if p.split() for m in phrase_pattern(p).finditer(text)]


def statement(sentence: str) -> bool:
    """A sentence worth a question: four words or more (a bare heading like "Results" is not), or in a
    script written without spaces."""
    return len(sentence.split()) >= 4 or not sentence.isascii()


def open_sentences(passage: Passage, phrases: Sequence[str]) -> tuple[list[str], int]:
    """(the passage's statements no evidence phrase touches, its statement count)."""
    covered = evidence_spans(passage.text, phrases)
    sentences, cursor, left = [s for s in split_sentences(passage.text) if statement(s)], 0, []
    for sentence in sentences:
        found = phrase_pattern(sentence).search(passage.text, cursor)
        start, end = found.span() if found else (cursor, cursor)
        cursor = max(cursor, end)
        if not any(a < end and start < b for a, b in covered):
            left.append(sentence)
    return left, len(sentences)


def sample_passage(
    passages: Sequence[Passage], questions: Sequence[Question], *, seed: int = 0, skip: Iterable[str] = ()
) -> Coverage | None:
    """A passage to write a question about: from the document with the smallest share of sentences
    covered by gold evidence (ties broken at random, seeded), a passage no evidence touches if there
    is one, else the one with the most open sentences."""
    phrases = [e for q in questions for e in q.evidence]
    skipped = set(skip)
    documents: dict[str, list[tuple[Passage, list[str], int]]] = {}
    for passage in passages:
        if not passage.quotable:  # reference lists, copyright lines: nothing to ask about
            continue
        left, total = open_sentences(passage, phrases)
        documents.setdefault(passage.source, []).append((passage, left, total))
    rng = random.Random(seed)
    candidates = []
    for rows in documents.values():
        total = sum(n for _, _, n in rows)
        share = 1 - sum(len(left) for _, left, _ in rows) / total if total else 1.0
        open_rows = [r for r in rows if r[1] and r[0].id not in skipped]
        if open_rows:
            candidates.append((share, rng.random(), open_rows))
    if not candidates:
        return None
    share, _, open_rows = min(candidates, key=lambda c: c[:2])
    passage, left, total = min(open_rows, key=lambda r: (len(r[1]) < r[2], -len(r[1])))
    return Coverage(passage, left, round(share, 3), len(open_rows))
