"""The library at a glance on the chat tab, and example questions drawn from what the library holds.

Examples are gold questions (evals/questions.jsonl) whose evidence is in the library, one per
document, practice questions first; when the library holds other documents, the rest are asked
about their own section headings. Either way an example is about something that is there.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from assistant.settings import PROJECT_ROOT
from assistant.ui.rendering import escape

GOLD_QUESTIONS = PROJECT_ROOT / "evals" / "questions.jsonl"
EXAMPLE_COUNT = 4
# Headings that say where a text is, not what it is about: no example is asked about them.
GENERIC_HEADINGS = frozenset(
    "abstract acknowledgments acknowledgements appendix background conclusion conclusions contents "
    "discussion introduction key findings limitations methods notes overview references results "
    "summary table of contents".split()
)
PREFERRED_TAGS = ("howto", "paraphrase", "multi-doc")
SKIPPED_TAGS = {"followup", "unanswerable", "multilingual", "near-miss"}


@lru_cache(maxsize=2)
def gold_questions(path: Path = GOLD_QUESTIONS) -> list[dict]:
    """Answerable gold questions that stand alone, practice questions first (missing file: none)."""
    try:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, ValueError):
        return []
    usable = [
        q for q in rows if q.get("answerable") and q.get("evidence") and not SKIPPED_TAGS & set(q["tags"])
    ]

    def rank(question: dict) -> tuple[int, int]:
        tags = set(question["tags"])
        preferred = next((i for i, tag in enumerate(PREFERRED_TAGS) if tag in tags), len(PREFERRED_TAGS))
        return preferred, len(question["question"])

    return sorted(usable, key=rank)


def example_questions(library, count: int = EXAMPLE_COUNT) -> list[str]:
    """Up to `count` questions the current library can answer, each about a different document.

    `library`: a Library (or anything with its documents(), contains_text() and sections())."""
    chosen: list[str] = []
    covered_docs: set[str] = set()
    for question in gold_questions():
        doc = next((t for t in question["tags"] if t.startswith("doc:")), question["id"])
        if doc in covered_docs or not all(library.contains_text(e) for e in question["evidence"][:1]):
            continue
        chosen.append(question["question"])
        covered_docs.add(doc)
        if len(chosen) == count:
            return chosen
    if chosen:
        return chosen
    for record in library.documents():  # a library without the gold documents: ask about its headings
        heading = next((h for h in library.sections(record.key) if h.lower() not in GENERIC_HEADINGS), "")
        if heading and len(heading) <= 80:
            chosen.append(f"What does the library say about “{heading}”?")
        if len(chosen) == count:
            break
    return chosen


def glance_html(documents: int, passages: int, updated: str | None) -> str:
    """One line: how many documents and passages, and when the library last changed."""
    if not documents:
        return '<p class="pa-glance">The library is empty: add documents on the Library tab.</p>'
    when = ""
    if updated:
        moment = datetime.fromisoformat(updated).replace(tzinfo=UTC).astimezone()
        when = f" · updated {moment:%d %b %Y %H:%M}".replace(" 0", " ", 1)
    plural = "" if documents == 1 else "s"
    return (
        f'<p class="pa-glance"><strong>Library:</strong> {documents:,} document{plural} · '
        f"{passages:,} passages{escape(when)}</p>"
    )
