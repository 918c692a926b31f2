"""Answers, sources and reports -> the HTML the chat shows and the Markdown it exports (pure functions).

Everything that comes from a document, a question or a file name goes through `escape` before our
own markup is added, so text is always shown as text: no HTML, script or Markdown from a document
is ever interpreted. Each message is one line of HTML, which Markdown passes through untouched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
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


def reference(passage: Passage) -> str:
    """Title — authors, year, page or section: one plain line."""
    details = [byline(passage.metadata), str(passage.metadata.get("year") or "n.d."), passage.location]
    return f"{passage.title} — " + ", ".join(d for d in details if d)


def highlighted(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """The passage as inert HTML with the given character spans in <mark>."""
    parts, cursor = [], 0
    for start, end in sorted(set(spans)):
        start, end = max(start, cursor), min(end, len(text))
        if start >= end:
            continue
        parts += [escape(text[cursor:start]), f"<mark>{escape(text[start:end])}</mark>"]
        cursor = end
    parts.append(escape(text[cursor:]))
    return "".join(parts)


def _source_html(
    number: int | None, passage: Passage, spans: list[tuple[int, int]], anchor: str = "", note: str = ""
) -> str:
    label = f"[{number}] " if number is not None else ""
    anchor = f' id="{anchor}"' if anchor else ""
    kind = passage.metadata.get("type")
    file_line = " · ".join(escape(str(x)) for x in (passage.source.rsplit("/", 1)[-1], kind) if x)
    return (
        f'<details{anchor} class="pa-source">'
        f'<summary><span class="pa-num">{escape(label)}</span>{escape(reference(passage))}{note}</summary>'
        f'<div class="pa-passage">{highlighted(passage.text, spans)}</div>'
        f'<div class="pa-file">{file_line}</div></details>'
    )


def cited_sources(citations: Sequence[Citation]) -> list[tuple[int, Passage, list[tuple[int, int]], bool]]:
    """(number, passage, spans of its supporting sentences, all supported) in number order."""
    grouped: dict[int, tuple[Passage, list[tuple[int, int]], bool]] = {}
    for c in citations:
        passage, spans, supported = grouped.get(c.number, (c.passage, [], True))
        grouped[c.number] = (passage, [*spans, tuple(c.span)], supported and c.supported)
    return [(n, p, s, ok) for n, (p, s, ok) in sorted(grouped.items())]


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


def answer_html(answer: Answer, turn: int) -> str:
    """One chat message: the answer with linked [n], then its sources (or, if abstained, the nearest)."""
    if answer.abstained:
        nearest = "".join(_source_html(None, p, []) for p in answer.retrieved[:3])
        if nearest:
            nearest = f'<div class="pa-sources"><p class="pa-head">Nearest passages</p>{nearest}</div>'
        return (
            f'<div class="pa-turn pa-abstained">'
            f'<p class="pa-notice"><strong>{escape(NOT_COVERED)}</strong> {escape(answer.text)}</p>'
            + nearest
            + _notes_html(answer)
            + "</div>"
        )
    sources = cited_sources(answer.citations)
    items = "".join(
        _source_html(n, p, spans, f"pa-t{turn}-s{n}", "" if ok else UNVERIFIED) for n, p, spans, ok in sources
    )
    return (
        f'<div class="pa-turn">'
        f'<p class="pa-text">{_linked_text(answer.text, {n for n, *_ in sources}, turn)}</p>'
        f'<div class="pa-sources"><p class="pa-head">Sources</p>{items}</div>'
        f"{_notes_html(answer)}</div>"
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
            for n, passage, _, _ in cited_sources(answer.citations):
                lines.append(f"{n}. {reference(passage)} ({passage.source})")
                quotes = [c.sentence for c in answer.citations if c.number == n]
                lines += [f"   > {q}" for q in quotes]
        lines.append("")
    return "\n".join(lines)


OCR_MARK = ' <span class="pa-ocr" title="text read from scanned pages by OCR">(OCR)</span>'


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
            f'<tr><td>{escape(r.title)}{OCR_MARK if r.metadata.get("ocr_pages") else ""}'
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
