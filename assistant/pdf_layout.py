"""A PDF page's words -> lines in reading order -> paragraphs and headings, with their pages.

pdfplumber (MIT, on pdfminer.six) rather than pypdf or pypdfium2, measured on the typeset corpus
(evals/pdf-library.md): as plain text all three lose most sentences (0.39 pypdf, 0.27 pypdfium2,
0.28 pdfplumber of the sentences equal the Markdown original's: columns interleave, heads and page
numbers land mid-sentence), and pdfplumber's word boxes, fonts and ruled tables are what this module
needs to get 1.00; it costs about 0.3 s a page. No AGPL code (PyMuPDF).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from statistics import median
from typing import Any

import numpy as np

from assistant.reflow import CJK_GAP, table_rows

BOLD_FONT = re.compile(r"bold|black|heavy|semibold|cmbx|-bd\b|\bbd\b", re.I)
# Lines alone on their line that only number the page: "3", "- 3 -", "Page 3 of 9", "iv".
PAGE_NUMBER = re.compile(
    r"^[\s\-–—|]*(?:page\s+)?(?:\d{1,4}|[ivxlc]{1,6})(?:\s+(?:of|/)\s+\d{1,4})?[\s\-–—|]*$", re.I
)
EDGE_ROWS = 2  # running heads, footers and page numbers sit in a page's first or last rows
MIN_GUTTER = 6  # points: the white between two columns (word spaces are about 3)
HEADING_SIZE_RATIO = 1.08  # a line this much larger than the body text is a heading


@dataclass
class Line:
    page: int
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool
    text: str
    column: int = 0  # 0 full width, 1 left, 2 right
    table_row: bool = False  # a table row: its own paragraph, never joined to a neighbour
    indent: float = 0.0  # from its column's left edge on its page


@dataclass
class PageLayout:
    number: int
    width: float
    height: float
    lines: list[Line] = field(default_factory=list)


def page_layout(page: Any, number: int) -> PageLayout:
    """The page's lines, tables as "column: value; ..." rows, in reading order."""
    tables = _tables(page)
    words = page.extract_words(extra_attrs=["size", "fontname"], x_tolerance=1.5, y_tolerance=2.5)
    words = [w for w in words if not any(_inside(w, box) for box, _ in tables)]
    gutter = _gutter(words, page.width)
    lines = [line for row in _rows(words) for line in _split_row(row, gutter, number)]
    for box, rows in tables:
        x0, top, x1, bottom = box
        step = (bottom - top) / max(1, len(rows))
        column = 0 if gutter is None or (x0 < gutter < x1) else (1 if x1 <= gutter else 2)
        for index, text in enumerate(rows):
            y = top + index * step
            lines.append(Line(number, x0, x1, y, y + step, 0.0, False, text, column, table_row=True))
    return PageLayout(number, float(page.width), float(page.height), _reading_order(lines))


def _tables(page: Any) -> list[tuple[tuple[float, float, float, float], list[str]]]:
    """Ruled tables with a header row and at least one data row, as text rows."""
    found = []
    for table in page.find_tables():
        cells = [[c or "" for c in row] for row in table.extract()]
        if len(cells) < 2 or len(cells[0]) < 2 or not all(c.strip() for c in cells[0]):
            continue
        rows = table_rows(cells)
        found.append((tuple(table.bbox), rows))
    return found


def _inside(word: dict, box: tuple[float, float, float, float]) -> bool:
    x0, top, x1, bottom = box
    middle_x, middle_y = (word["x0"] + word["x1"]) / 2, (word["top"] + word["bottom"]) / 2
    return x0 <= middle_x <= x1 and top <= middle_y <= bottom


def _rows(words: list[dict]) -> list[list[dict]]:
    """Words grouped into rows by their vertical middle (a raised bullet or a superscript stays on
    its line), left to right."""
    rows: list[list[dict]] = []
    middles: list[float] = []
    for word in sorted(words, key=lambda w: ((w["top"] + w["bottom"]) / 2, w["x0"])):
        middle = (word["top"] + word["bottom"]) / 2
        tolerance = 0.35 * max(1.0, word["bottom"] - word["top"])
        if rows and abs(middles[-1] - middle) <= tolerance:
            rows[-1].append(word)
        else:
            rows.append([word])
            middles.append(middle)
    return [sorted(row, key=lambda w: w["x0"]) for row in rows]


def _gutter(words: list[dict], width: float) -> float | None:
    """The x of the gap between two columns, or None for a one-column page: the widest stretch
    near the middle that (full-width title lines aside) no word covers, with rows on both sides."""
    if len(words) < 40:
        return None
    rows = _rows(words)
    low, high = int(width * 0.3), int(width * 0.7)
    coverage = np.zeros(int(width) + 2)
    for w in words:
        coverage[max(0, math.ceil(w["x0"])) : max(0, math.floor(w["x1"])) + 1] += 1
    open_x = coverage[low:high] <= 0.15 * len(rows) + 2
    best, widest, start = None, 0, None
    for x, is_open in enumerate([*open_x, False]):
        if is_open and start is None:
            start = x
        elif not is_open and start is not None:
            if x - start > widest:
                stretch = coverage[low + start : low + x]
                emptiest = np.flatnonzero(stretch == stretch.min())  # the gap itself, not text beside it
                best, widest = low + start + (emptiest[0] + emptiest[-1]) / 2, x - start
            start = None
    if best is None or widest < MIN_GUTTER:
        return None
    side_by_side = sum(
        1
        for row in rows
        if any(w["x1"] <= best for w in row)
        and any(w["x0"] >= best for w in row)
        and not any(w["x0"] < best < w["x1"] for w in row)
    )
    return best if side_by_side >= 0.15 * len(rows) else None


def _split_row(row: list[dict], gutter: float | None, page: int) -> list[Line]:
    crosses = gutter is None or any(w["x0"] < gutter < w["x1"] for w in row)
    if crosses:
        return [_line(row, page, 0)]
    left = [w for w in row if w["x1"] <= gutter]
    right = [w for w in row if w["x0"] >= gutter]
    return [_line(part, page, side) for side, part in ((1, left), (2, right)) if part]


def _line(words: list[dict], page: int, column: int) -> Line:
    chars = sum(len(w["text"]) for w in words)
    bold = sum(len(w["text"]) for w in words if BOLD_FONT.search(w.get("fontname", ""))) > 0.8 * chars
    sizes = Counter()
    for w in words:
        sizes[round(float(w.get("size", 0)), 1)] += len(w["text"])
    return Line(
        page=page,
        x0=min(w["x0"] for w in words),
        x1=max(w["x1"] for w in words),
        top=min(w["top"] for w in words),
        bottom=max(w["bottom"] for w in words),
        size=sizes.most_common(1)[0][0],
        bold=bold,
        text=_clean(" ".join(w["text"] for w in words)),
        column=column,
    )


LIGATURES = str.maketrans({"ﬁ": "fi", "ﬂ": "fl", "ﬀ": "ff", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
UNMAPPED_GLYPH = re.compile(r"\(cid:\d+\)")


def _clean(text: str) -> str:
    """Ligatures as letters, ". . ." as an ellipsis; a glyph the PDF gives no character for is a
    bullet at a line's start and nothing elsewhere."""
    text = UNMAPPED_GLYPH.sub("•", text[:12], count=1) + text[12:] if text.startswith("(cid:") else text
    text = UNMAPPED_GLYPH.sub("", text.translate(LIGATURES))
    return CJK_GAP.sub("", " ".join(re.sub(r"\.\s\.\s\.", "…", text).split()))


def _reading_order(lines: list[Line]) -> list[Line]:
    """Top to bottom; between two full-width lines, the left column before the right one."""
    ordered: list[Line] = []
    band: list[Line] = []
    for line in sorted(lines, key=lambda item: item.top):
        if line.column == 0:
            ordered.extend(sorted(band, key=lambda item: (item.column, item.top)))
            band = []
            ordered.append(line)
        else:
            band.append(line)
    ordered.extend(sorted(band, key=lambda item: (item.column, item.top)))
    return ordered


def drop_running_lines(pages: list[PageLayout]) -> None:
    """Remove running heads, footers and page numbers: among a page's first and last lines, those
    that repeat on other pages (digits aside) or only give the page number."""

    def key(line: Line) -> str:
        return " ".join(re.sub(r"\d+", " ", line.text.lower()).split())

    edges = {page.number: _edge_lines(page) for page in pages}
    seen = Counter(k for lines in edges.values() for k in {key(line) for line in lines})
    # A row may join repeated pieces differently on some pages (a head over both columns where the
    # other pages split it): an edge line made only of words of repeated edge lines is furniture too.
    furniture_words = {w for k, n in seen.items() if n > 1 and len(k) > 3 for w in re.findall(r"\w+", k)}

    def is_furniture(line: Line) -> bool:
        words = re.findall(r"\w+", key(line))
        return bool(PAGE_NUMBER.match(line.text) or (words and set(words) <= furniture_words))

    for page in pages:
        furniture = {id(line) for line in edges[page.number] if is_furniture(line)}
        page.lines = [line for line in page.lines if id(line) not in furniture]


def _edge_lines(page: PageLayout) -> list[Line]:
    """The lines of the page's top two and bottom two rows (a head and its page number share a row)."""
    rows = sorted({round(line.top) for line in page.lines if not line.table_row})
    if len(rows) <= 2 * EDGE_ROWS:
        return []  # a page of a few lines is all body (a slide, a short note)
    edge_rows = set(rows[:EDGE_ROWS] + rows[-EDGE_ROWS:])
    return [line for line in page.lines if not line.table_row and round(line.top) in edge_rows]


def body_size(pages: list[PageLayout]) -> float:
    """The font size most of the text is set in."""
    sizes = Counter()
    for page in pages:
        for line in page.lines:
            if not line.table_row:
                sizes[line.size] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


def is_heading(line: Line, body: float, column_width: float) -> bool:
    """Larger than the body text, or a short bold line that is not a sentence."""
    if line.table_row or len(line.text.split()) > 20:
        return False
    if line.size >= HEADING_SIZE_RATIO * body and re.search(r"[^\W\d_]{2}", line.text):
        return True
    short = line.x1 - line.x0 < 0.75 * column_width
    return (
        line.bold and short and not line.text.rstrip().endswith((".", ",", ";", ":")) and len(line.text) > 2
    )


def line_pitch(pages: list[PageLayout]) -> float:
    """The usual distance from one line of body text to the next."""
    steps = [
        b.top - a.top
        for page in pages
        for a, b in zip(page.lines, page.lines[1:], strict=False)
        if a.column == b.column and 0 < b.top - a.top < 3 * max(a.size, 1)
    ]
    return median(steps) if steps else 12.0
