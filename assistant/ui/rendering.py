"""Answers, sources and reports -> the HTML the chat shows and the Markdown it exports (pure functions).

Everything that comes from a document, a question or a file name goes through `escape` before our
own markup is added, so text is always shown as text: no HTML, script or Markdown from a document
is ever interpreted. Each message is one line of HTML, which Markdown passes through untouched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from assistant.types import Answer, Citation, Passage

# One pass over the text: HTML specials, and Markdown/LaTeX punctuation as numeric entities (shown
# literally, never read as syntax). A single translate cannot escape its own output twice.
_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
    | {c: f"&#{ord(c)};" for c in "\\`*_{}[]()#+-.!|~$:=^"}
)
CITE_MARK = re.compile(r"\[(\d+)\]")
NOT_COVERED = "Not covered by the library."
UNVERIFIED = ' <em class="pa-warn">(not verified)</em>'


def escape(text: str) -> str:
    """Plain text -> inert HTML on one line (line breaks kept as <br>)."""
    return re.sub(r"\r\n?|\n", "<br>", text.translate(_ESCAPES))


def byline(metadata: dict[str, Any]) -> str:
    """Authors (or the organization), the way a reference list names them."""
    authors = metadata.get("authors") or []
    if isinstance(authors, str):
        authors = [authors]
    names = [str(a) for a in authors if str(a).strip()]
    if len(names) > 3:
        return f"{names[0]} et al."
    if names:
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return str(metadata.get("organization") or "")


def reference(passage: Passage, location: str | None = None) -> str:
    """Title — authors, year, page or section: one plain line (`location` defaults to the passage's)."""
    where = passage.location if location is None else location
    details = [byline(passage.metadata), str(passage.metadata.get("year") or "n.d."), where]
    return f"{passage.title} — " + ", ".join(d for d in details if d)


def highlighted(text: str, spans: Iterable[tuple[int, int]], start: int = 0, end: int | None = None) -> str:
    """text[start:end] as inert HTML with the given character spans (offsets in `text`) in <mark>."""
    end = len(text) if end is None else end
    parts, cursor = [], start
    for a, b in sorted(set(spans)):
        a, b = max(a, cursor), min(b, end)
        if a >= b:
            continue
        parts += [escape(text[cursor:a]), f"<mark>{escape(text[a:b])}</mark>"]
        cursor = b
    parts.append(escape(text[cursor:end]))
    return "".join(parts)


def passage_html(passage: Passage, spans: Iterable[tuple[int, int]]) -> str:
    """The passage line by line: its heading lines as headings, the given spans in <mark>."""
    spans, starts = list(spans), {start for start, _ in passage.headings}
    lines, offset = [], 0
    for line in passage.text.split("\n"):
        inner = highlighted(passage.text, spans, offset, offset + len(line))
        heading = offset in starts
        lines.append(f'<span class="pa-h" role="heading" aria-level="4">{inner}</span>' if heading else inner)
        offset += len(line) + 1
    html = ""
    for i, line in enumerate(lines):  # a heading is a block of its own; other lines end with <br>
        html += line if line.startswith('<span class="pa-h"') or i == len(lines) - 1 else line + "<br>"
    return html


def _source_html(
    number: int | None,
    passage: Passage,
    spans: list[tuple[int, int]],
    anchor: str = "",
    note: str = "",
    location: str | None = None,
) -> str:
    label = f"[{number}] " if number is not None else ""
    anchor = f' id="{anchor}"' if anchor else ""
    kind = passage.metadata.get("type")
    file_line = " · ".join(escape(str(x)) for x in (passage.source.rsplit("/", 1)[-1], kind) if x)
    return (
        f'<details{anchor} class="pa-source">'
        f'<summary><span class="pa-num">{escape(label)}</span>'
        f"{escape(reference(passage, location))}{note}</summary>"
        f'<div class="pa-passage">{passage_html(passage, spans)}</div>'
        f'<div class="pa-file">{file_line}</div></details>'
    )


@dataclass
class CitedSource:
    """One numbered source of an answer: its passage, the spans of the sentences quoted from it."""

    number: int
    passage: Passage
    spans: list[tuple[int, int]]
    supported: bool
    location: str  # page, or the headings right above its quoted sentences ("; " between them)
    sentences: list[str]

    @property
    def note(self) -> str:
        return "" if self.supported else UNVERIFIED


def cited_sources(citations: Sequence[Citation]) -> list[CitedSource]:
    """The answer's sources in number order, each citation of a number folded into one."""
    grouped: dict[int, CitedSource] = {}
    for c in citations:
        source = grouped.setdefault(c.number, CitedSource(c.number, c.passage, [], True, c.location, []))
        source.spans.append(tuple(c.span))
        source.sentences.append(c.sentence)
        source.supported = source.supported and c.supported
        if c.location not in source.location.split("; "):  # sentences under different headings
            source.location += f"; {c.location}"
    return [grouped[n] for n in sorted(grouped)]


def _linked_text(text: str, numbers: set[int], turn: int) -> str:
    """Answer text with each known [n] as a link that opens source n of this answer."""
    parts, cursor = [], 0
    for match in CITE_MARK.finditer(text):
        number = int(match.group(1))
        if number not in numbers:
            continue
        parts.append(escape(text[cursor : match.start()]))
        parts.append(f'<a class="pa-cite" href="#pa-t{turn}-s{number}">&#91;{number}&#93;</a>')
        cursor = match.end()
    parts.append(escape(text[cursor:]))
    return "".join(parts)


COVERAGE_TIPS = {
    "answered": "Every part of the question is answered from passages in the library.",
    "partial": "The library answers part of the question; the part named here is in none of its passages.",
    "not_covered": "No passage in the library answers this question well enough to quote.",
}


def coverage(answer: Answer) -> tuple[str, str, str]:
    """(kind, label, one-line tooltip) from the answerer's own abstention decision, not a second guess."""
    kind = "not_covered" if answer.abstained else answer.coverage
    uncovered = [str(u) for u in answer.uncovered]
    labels = {"answered": "Answered from the library", "partial": "Partly covered"}
    label = labels.get(kind, "Not covered")
    if kind == "partial" and uncovered:
        label += f": nothing on {', '.join(uncovered)}"
    return kind, label, COVERAGE_TIPS.get(kind, COVERAGE_TIPS["not_covered"])


def _coverage_html(answer: Answer) -> str:
    kind, label, tip = coverage(answer)
    return f'<p class="pa-coverage pa-{kind}" title="{escape(tip)}">{escape(label)}</p>'


def limits_text(filters: dict[str, Any] | None) -> str:
    """The chat's document / type / year limits in words ("" when there are none)."""
    filters = filters or {}
    parts = [
        f"{name}: {', '.join(str(v).rsplit('/', 1)[-1] for v in values)}"
        for name, values in (
            ("documents", filters.get("sources")),
            ("types", filters.get("types")),
            ("years", filters.get("years")),
        )
        if values
    ]
    return "; ".join(parts)


def _more_html(answer: Answer, turn: int) -> str:
    """Up to three retrieved passages the answer did not quote, each one click from its text."""
    cited = {c.passage.id for c in answer.citations}
    unquoted = [p for p in answer.retrieved if p.id not in cited][:3]
    if not unquoted:
        return ""
    items = "".join(_source_html(None, p, [], f"pa-t{turn}-m{i}") for i, p in enumerate(unquoted, 1))
    return f'<div class="pa-more"><p class="pa-head">More in the library</p>{items}</div>'


def answer_html(answer: Answer, turn: int, limits: str = "") -> str:
    """One chat message: coverage, the answer with linked [n], its sources, then more passages (or,
    if abstained, the nearest). `limits` names the filters the question was asked under."""
    limited = f'<p class="pa-filtered">Limited to {escape(limits)}</p>' if limits else ""
    if answer.abstained:
        nearest = "".join(_source_html(None, p, []) for p in answer.retrieved[:3])
        if nearest:
            nearest = f'<div class="pa-sources"><p class="pa-head">Nearest passages</p>{nearest}</div>'
        return (
            f'<div class="pa-turn pa-abstained">{_coverage_html(answer)}{limited}'
            f'<p class="pa-notice"><strong>{escape(NOT_COVERED)}</strong> {escape(answer.text)}</p>'
            + nearest
            + _notes_html(answer)
            + "</div>"
        )
    sources = cited_sources(answer.citations)
    items = "".join(
        _source_html(s.number, s.passage, s.spans, f"pa-t{turn}-s{s.number}", s.note, s.location)
        for s in sources
    )
    return (
        f'<div class="pa-turn">{_coverage_html(answer)}{limited}'
        f'<p class="pa-text">{_linked_text(answer.text, {s.number for s in sources}, turn)}</p>'
        f'<div class="pa-sources"><p class="pa-head">Sources</p>{items}</div>'
        f"{_more_html(answer, turn)}{_notes_html(answer)}</div>"
    )


def streaming_html(partial: str) -> str:
    return f'<div class="pa-turn pa-streaming"><p class="pa-text">{escape(partial)}</p></div>'


def _notes_html(answer: Answer) -> str:
    """The rewritten follow-up (so the reader sees how it was understood), then the answerer's notes."""
    notes = list(answer.notes)
    if answer.standalone_question and answer.standalone_question.strip() != answer.question.strip():
        notes.insert(0, f"Read as: {answer.standalone_question}")
    return "".join(f'<p class="pa-note">{escape(n)}</p>' for n in notes)


def conversation_markdown(answers: Sequence[Answer], exported: datetime | None = None) -> str:
    """The conversation with each answer's references, for a download."""
    when = (exported or datetime.now()).strftime("%Y-%m-%d %H:%M")
    lines = ["# Partnership Assistant — conversation", "", f"Exported {when}.", ""]
    for i, answer in enumerate(answers, 1):
        lines += [f"## {i}. {answer.question}", "", answer.text, ""]
        if answer.abstained:
            lines += ["Nearest passages:", ""]
            lines += [f"- {reference(p)} ({p.source})" for p in answer.retrieved[:3]]
        else:
            lines += ["References:", ""]
            for s in cited_sources(answer.citations):
                lines.append(f"{s.number}. {reference(s.passage, s.location)} ({s.passage.source})")
                lines += [f"   > {q}" for q in s.sentences]
        lines.append("")
    return "\n".join(lines)


OCR_MARK = ' <span class="pa-ocr" title="text read from scanned pages by OCR">(OCR)</span>'


def conversation_text(answers: Sequence[Answer]) -> str:
    """The conversation as plain text: each question, its answer and that answer's own sources."""
    blocks = []
    for answer in answers:
        lines = [f"Q: {answer.question}", "", answer.text]
        if answer.abstained:
            lines[2] = f"{NOT_COVERED} {answer.text}"
            lines += ["", "Nearest passages:", *(reference(p) for p in answer.retrieved[:3])]
        elif answer.citations:
            sources = cited_sources(answer.citations)
            lines += ["", "Sources:", *(f"[{s.number}] {reference(s.passage, s.location)}" for s in sources)]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def documents_html(records: Sequence[Any]) -> str:
    """The library as an escaped table: title (file beneath), type, year, chunks.

    On a phone the type and year columns give way to a line under the title (see the app's CSS).
    """
    if not records:
        return '<p class="pa-head">The library is empty: add documents below.</p>'
    rows = []
    for r in records:
        kind, year = escape(r.type or ""), str(r.year or "")
        narrow = " · ".join(x for x in (kind, year) if x)
        rows.append(
            f"<tr><td>{escape(r.title)}{OCR_MARK if r.metadata.get('ocr_pages') else ''}"
            f'<div class="pa-file">{escape(r.key.rsplit("/", 1)[-1])}'
            f'<span class="pa-narrow"> · {narrow}</span></div></td>'
            f'<td class="pa-wide">{kind}</td><td class="pa-wide">{year}</td><td>{r.chunk_count}</td></tr>'
        )
    chunks = sum(r.chunk_count for r in records)
    return (
        f'<p class="pa-head">{len(records)} documents, {chunks} passages</p>'
        '<table class="pa-docs"><thead><tr><th>Title</th>'
        '<th class="pa-wide">Type</th><th class="pa-wide">Year</th><th>Chunks</th></tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def ingest_results_html(rows: Sequence[tuple[str, str, str]]) -> str:
    """Per-file upload results (name, status, detail) as an escaped table."""
    if not rows:
        return ""
    body = "".join(
        f'<tr class="pa-{escape(status)}"><td>{escape(name)}</td><td>{escape(status)}</td>'
        f"<td>{escape(detail)}</td></tr>"
        for name, status, detail in rows
    )
    return (
        '<table class="pa-results"><thead><tr><th>File</th><th>Result</th><th>Detail</th></tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )
