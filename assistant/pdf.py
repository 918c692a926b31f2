"""PDF -> sections: paragraphs in reading order with the page each sentence starts on.

pypdf checks the file (encryption, damage, page count) and reads its title and outline;
pdf_layout.py reads the words' positions; here lines become paragraphs and headings, a paragraph
that runs over a page is cut at the sentence that crosses it (that sentence keeps its start page
and records its end page), and pages without a text layer are OCRed (ocr.py).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any

from assistant.apparatus import is_apparatus
from assistant.errors import LoadError
from assistant.ocr import OcrUnavailable, ocr_pdf_page
from assistant.pdf_layout import (
    Line,
    PageLayout,
    body_size,
    drop_running_lines,
    is_heading,
    line_pitch,
    page_layout,
)
from assistant.reflow import (
    BROKEN_WORD,
    BULLET,
    LIST_ITEM,
    TERMINAL,
    Dehyphenator,
    join_lines,
    join_lines_at,
    reflow_text,
)
from assistant.text import split_sentences
from assistant.types import Section

MAX_PDF_PAGES = 5000
TITLE_SIZE_RATIO = 1.2  # a first-page line this much larger than the text may be the title


@dataclass
class Block:
    """A heading or a paragraph as read off the pages."""

    heading: bool
    lines: list[Line] = field(default_factory=list)


def read_pdf(data: bytes) -> tuple[list[Section], str | None, dict[str, Any]]:
    """Sections of a PDF, its title, and facts for the library list (OCRed pages)."""
    if not data.lstrip()[:5] == b"%PDF-":
        raise LoadError("not a PDF (file content does not start with %PDF-)")
    title, outline = _check(data)
    pages, scanned = _layouts(data)
    facts: dict[str, Any] = {}
    ocr_sections: list[Section] = []
    if scanned:
        try:
            ocr_sections = [Section(text=reflow_text(ocr_pdf_page(data, n)), page=n) for n in scanned]
            facts["ocr_pages"] = scanned
        except OcrUnavailable as exc:
            if not any(page.lines for page in pages):
                raise LoadError(f"PDF has no text layer (scanned pages) and {exc}") from exc
            facts["ocr_skipped"] = f"{len(scanned)} scanned page(s) skipped: {exc}"
    drop_running_lines(pages)
    sections = _sections(pages, outline) + ocr_sections
    sections.sort(key=lambda s: s.page or 0)
    if not any(s.text.strip() for s in sections):
        raise LoadError("PDF has no extractable text")
    return sections, title or _largest_line(pages, body_size(pages)), facts


def _check(data: bytes) -> tuple[str | None, set[str]]:
    """Refuse encrypted, damaged or oversized PDFs; return the metadata title and outline titles."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError("encrypted PDF (password protected)")
        if len(reader.pages) > MAX_PDF_PAGES:
            raise LoadError(f"PDF has {len(reader.pages)} pages (limit {MAX_PDF_PAGES})")
        title = reader.metadata.title if reader.metadata else None
        outline = {_normal(item.title) for item in _flatten(reader.outline)}
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        raise LoadError(f"unreadable or truncated PDF ({type(exc).__name__}: {exc})") from exc
    except Exception as exc:  # pypdf raises assorted errors on damaged files
        if "crypt" in str(exc).lower():
            raise LoadError("encrypted PDF (cannot be decrypted)") from exc
        raise LoadError(f"unreadable or truncated PDF ({type(exc).__name__}: {exc})") from exc
    return useful_title(title), outline


def _flatten(outline: list) -> list:
    items = []
    for item in outline:
        items.extend(_flatten(item) if isinstance(item, list) else [item])
    return [item for item in items if getattr(item, "title", None)]


def _layouts(data: bytes) -> tuple[list[PageLayout], list[int]]:
    """Every page's lines; the numbers of pages that have images but no text (scans)."""
    import pdfplumber

    pages, scanned = [], []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for number, page in enumerate(pdf.pages, start=1):
                layout = page_layout(page, number)
                if not layout.lines and page.images:
                    scanned.append(number)
                pages.append(layout)
                page.close()  # pdfplumber keeps every parsed page otherwise
    except Exception as exc:  # pdfminer raises assorted errors on damaged files
        raise LoadError(f"unreadable PDF ({type(exc).__name__}: {exc})") from exc
    return pages, scanned


def _blocks(pages: list[PageLayout], outline: set[str]) -> list[Block]:
    body, pitch = body_size(pages), line_pitch(pages)
    blocks: list[Block] = []
    previous: Line | None = None
    for page in pages:
        bounds = _column_bounds(page)
        for line in page.lines:
            left, right = bounds[line.column]
            line.indent = line.x0 - left
            heading = is_heading(line, body, right - left) or _normal(line.text) in outline
            last = blocks[-1] if blocks else None
            if heading and last and last.heading and previous and _close(previous, line, pitch):
                last.lines.append(line)  # a heading over two lines
            elif heading or line.table_row or not last or last.heading or last.lines[-1].table_row:
                blocks.append(Block(heading, [line]))
            elif _starts_paragraph(last.lines, line, bounds, pitch, body):
                blocks.append(Block(False, [line]))
            else:
                last.lines.append(line)
            previous = line
    return blocks


def _column_bounds(page: PageLayout) -> dict[int, tuple[float, float]]:
    bounds = {}
    for column in (0, 1, 2):
        lines = [x for x in page.lines if x.column == column and not x.table_row]
        bounds[column] = (min(x.x0 for x in lines), max(x.x1 for x in lines)) if lines else (0.0, page.width)
    return bounds


def _close(a: Line, b: Line, pitch: float) -> bool:
    return a.page == b.page and a.column == b.column and 0 < b.top - a.top < 1.6 * max(pitch, a.size)


def _starts_paragraph(
    block: list[Line], line: Line, bounds: dict[int, tuple[float, float]], pitch: float, body: float
) -> bool:
    """Whether `line` opens a new paragraph after the paragraph's lines so far."""
    previous = block[-1]
    right = max(x.x1 for x in block) if len(block) > 1 else bounds[previous.column][1]
    full = previous.x1 >= right - 2 * body
    if BULLET.match(line.text) or (LIST_ITEM.match(line.text) and not full):
        return True  # "(1)" after a full line is an enumeration inside a sentence
    if abs(line.size - previous.size) > 0.5:
        return True
    # A first-line indent, against the paragraph's own margin (a quotation is indented throughout);
    # an indent after a full line cut mid-sentence is a hanging indent (a reference entry).
    margin = block[1:] if LIST_ITEM.match(block[0].text) else block  # a list item's marker hangs left
    indented = bool(margin) and line.indent > min(x.indent for x in margin) + 0.9 * body
    hanging = BROKEN_WORD.search(previous.text) or (full and not TERMINAL.search(previous.text))
    if indented and not hanging:
        return True
    if not full and TERMINAL.search(previous.text):
        return True  # the line before stopped short at a full stop
    same_column = previous.page == line.page and previous.column == line.column
    if not same_column:
        # Over a column or page break a paragraph goes on only mid-sentence: a wrong cut there
        # would split a paragraph, never a sentence.
        return bool(TERMINAL.search(previous.text))
    return line.top - previous.top > 1.3 * pitch


def _sections(pages: list[PageLayout], outline: set[str]) -> list[Section]:
    """Paragraphs under their headings, a section per page; a paragraph that runs over a page is
    cut after the sentence that crosses it, and that sentence records the page it ends on."""
    words = Dehyphenator(line.text for page in pages for line in page.lines)
    sections: list[Section] = []
    heading = ""
    for block in _blocks(pages, outline):
        text = join_lines([line.text for line in block.lines], words)
        if block.heading and not is_apparatus(text, front=True):  # an affiliation set large is no heading
            heading = text
            sections.append(Section("", heading, block.lines[0].page))
            continue
        text, starts = join_lines_at([line.text for line in block.lines], words)
        for part, page, end_page in _page_parts(text, starts, block.lines):
            last = sections[-1] if sections else None
            if last and last.heading == heading and last.page == page and not last.end_page and not end_page:
                sections[-1] = Section(f"{last.text}\n{part}".strip(), heading, page, end_page)
            else:
                sections.append(Section(part, heading, page, end_page))
    return sections


def _page_parts(text: str, starts: list[int], lines: list[Line]) -> list[tuple[str, int, int | None]]:
    """(text, page, end page if it crosses one) pieces of one paragraph, cut at its page breaks."""
    breaks = [(starts[i], lines[i].page) for i in range(1, len(lines)) if lines[i].page != lines[i - 1].page]
    if not breaks:
        return [(text, lines[0].page, None)]
    parts, page, done = [], lines[0].page, 0
    ends = _sentence_ends(text)
    for offset, next_page in breaks:
        before = [end for end in ends if done < end <= offset]
        if before:
            parts.append((text[done : before[-1]], page, None))
            done = before[-1]
        if text[done:offset].strip():  # a sentence starts before the break and ends after it
            crossing = next((end for end in ends if end > offset), len(text))
            parts.append((text[done:crossing], page, next_page))
            done = crossing
        page = next_page
    parts.append((text[done:], page, None))
    return [(part.strip(), page, end) for part, page, end in parts if part.strip()]


def _sentence_ends(text: str) -> list[int]:
    ends, cursor = [], 0
    for sentence in split_sentences(text):
        found = text.find(sentence, cursor)
        if found >= 0:
            cursor = found + len(sentence)
            ends.append(cursor)
    return ends


def _largest_line(pages: list[PageLayout], body: float) -> str | None:
    """The first page's largest line, if set larger than the text, with the lines of that size
    right after it (a long title)."""
    lines = [line for line in (pages[0].lines if pages else []) if not line.table_row]
    largest = max((line.size for line in lines), default=0.0)
    if largest < TITLE_SIZE_RATIO * body:
        return None
    start = next(i for i, line in enumerate(lines) if line.size == largest)
    end = start + 1
    while (
        end < len(lines) and lines[end].size == largest and _close(lines[end - 1], lines[end], 0.85 * largest)
    ):
        end += 1
    return useful_title(" ".join(line.text for line in lines[start:end])[:300])


def _normal(text: object) -> str:
    return " ".join(str(text or "").lower().split())


# What PDF writers put in the title field when the author set none.
PLACEHOLDER_TITLE = re.compile(
    r"^\s*\(?(untitled|anonymous|no title|title|document\d*|microsoft word - .*)\)?\s*$", re.I
)


def useful_title(title: object) -> str | None:
    text = " ".join(str(title or "").split())
    return None if not text or PLACEHOLDER_TITLE.match(text) else text
