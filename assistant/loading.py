"""File -> sections of text with page / heading metadata, one small function per format.

Own loaders rather than LangChain's: those drop the heading structure (docx, html, markdown) that
our chunks and citations carry, and we need to check each file's type by its content.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml

from assistant.apparatus import mark_apparatus
from assistant.errors import LoadError
from assistant.pdf import read_pdf
from assistant.reflow import LIST_ITEM, reflow_text, table_rows
from assistant.types import LoadedDocument, Section

__all__ = ["LoadError", "load_file", "load_manifest"]

SUPPORTED_SUFFIXES = {".txt", ".md", ".markdown", ".pdf", ".docx", ".html", ".htm"}
MAX_DOCX_UNCOMPRESSED = 200 * 1024 * 1024  # a zip bomb stops here
MAX_DOCX_XML = 25 * 1024 * 1024  # the body's XML: some 1,000 pages; python-docx holds it all in memory
# About 1,500 pages of prose (some minutes to embed); more is a data dump, not a document.
MAX_TEXT_CHARS = 5_000_000


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_manifest(path: Path) -> dict[str, dict[str, Any]]:
    """Bibliographic metadata keyed by file name, from a library.yaml beside the documents."""
    if not path.is_file():
        return {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise LoadError(f"{path}: manifest is not valid YAML ({exc})") from exc
    entries = raw.get("documents", []) if isinstance(raw, dict) else []
    return {str(e["file"]): {k: v for k, v in e.items() if k != "file"} for e in entries if "file" in e}


def load_file(
    path: Path, manifest_entry: dict[str, Any] | None = None, *, max_mb: float = 50
) -> LoadedDocument:
    """Read one file into sections; raises LoadError with a human reason for anything unusable."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(f"unsupported file type '{suffix or path.name}'")
    size = path.stat().st_size
    if size > max_mb * 1024 * 1024:
        raise LoadError(f"over the size limit ({size / 1024 / 1024:.1f} MB > {max_mb:g} MB)")
    data = path.read_bytes()
    if not data.strip():
        raise LoadError("empty file")
    reader = LOADERS[suffix]
    sections, found_title, *facts = reader(data)  # a PDF reader adds facts (OCRed pages)
    sections = mark_apparatus([s for s in sections if s.text.strip()])
    if not sections:
        raise LoadError("no text could be extracted")
    if (chars := sum(len(s.text) for s in sections)) > MAX_TEXT_CHARS:
        raise LoadError(
            f"too much text ({chars / 1e6:.1f} million characters, limit {MAX_TEXT_CHARS / 1e6:g} million);"
            " split the file"
        )
    found = facts[0] if facts else {}
    metadata: dict[str, Any] = {"type": "user document", **found, **(manifest_entry or {})}
    metadata.setdefault("title", found_title or _title_from_name(path))
    return LoadedDocument(
        source=path.name, sections=sections, metadata=metadata, content_hash=content_hash(data)
    )


def _title_from_name(path: Path) -> str:
    return re.sub(r"[-_]+", " ", path.stem).strip().capitalize() or path.name


ANSI_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")


def decode_text(data: bytes) -> str:
    encoding = "UTF-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else "UTF-8"
    if encoding == "UTF-8" and b"\x00" in data[:8192]:
        raise LoadError("binary content, not text")
    try:
        text = data.decode("utf-16" if encoding == "UTF-16" else "utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(
            f"not {encoding} text (invalid byte at offset {exc.start}); save it as UTF-8"
        ) from exc
    text = ANSI_ESCAPE.sub("", text)  # terminal colour codes in pasted logs
    controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > 0.05 * min(len(text), 8192):
        raise LoadError("binary content, not text")
    # Keep printable text; stray control characters would only pollute passages.
    return re.sub(r"[\x00-\x08\x0b\x0e-\x1f\x7f]", "", text)


def read_text(data: bytes) -> tuple[list[Section], str | None]:
    return [Section(text=reflow_text(decode_text(data)))], None


MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def read_markdown(data: bytes) -> tuple[list[Section], str | None]:
    sections: list[Section] = []
    heading, lines, title = "", [], None
    in_code = False
    for line in decode_text(data).splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        match = None if in_code else MD_HEADING.match(line)
        if match:
            sections.append(Section(markdown_paragraphs(lines), heading))
            heading, lines = match.group(2).strip(), []
            if match.group(1) == "#" and title is None:
                title = heading
        else:
            fence = in_code or line.lstrip().startswith("```")
            lines.append(line if fence else re.sub(r"^\s*>\s?", "", line))
    sections.append(Section(markdown_paragraphs(lines), heading))
    return sections, title


def markdown_paragraphs(lines: list[str]) -> str:
    """Markdown's own rule: lines up to a blank line are one paragraph; list items and code lines
    stay lines of their own."""
    paragraphs: list[list[str]] = []
    fresh, in_code = True, False
    for line in lines:
        fence = line.lstrip().startswith("```")
        if fence or in_code or not line.strip() or LIST_ITEM.match(line) or fresh:
            paragraphs.append([line])
        else:
            paragraphs[-1].append(line)
        in_code = in_code != fence
        fresh = fence or in_code or not line.strip()
    return "\n".join(" ".join(" ".join(p).split()) if len(p) > 1 else p[0] for p in paragraphs)


def read_docx(data: bytes) -> tuple[list[Section], str | None]:
    import io

    import docx
    from docx.table import Table as DocxTable

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if "word/document.xml" not in names:
                raise LoadError("not a Word document (no word/document.xml inside)")
            # Declared sizes are safe to trust: zipfile stops inflating a member at its declared size.
            if sum(info.file_size for info in archive.infolist()) > MAX_DOCX_UNCOMPRESSED:
                raise LoadError("Word document unpacks to over 200 MB (zip bomb?)")
            if archive.getinfo("word/document.xml").file_size > MAX_DOCX_XML:
                raise LoadError(f"Word document text is over {MAX_DOCX_XML // 2**20} MB of XML (zip bomb?)")
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
        raise LoadError(f"not a Word document (not a valid .docx zip: {exc})") from exc
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx wraps lxml and zip errors variously
        raise LoadError(f"unreadable Word document ({type(exc).__name__}: {exc})") from exc
    sections: list[Section] = []
    heading, lines, title = "", [], document.core_properties.title or None
    # paragraph.style searches styles.xml on every call (13 s for 20,000 paragraphs): map ids once.
    style_names = {style.style_id: style.name or "" for style in document.styles}
    for block in document.iter_inner_content():
        if isinstance(block, DocxTable):
            lines.extend(table_rows([[cell.text for cell in row.cells] for row in block.rows]))
            continue
        style = style_names.get(block._p.style, "")
        text = block.text.strip()
        if style.startswith(("Heading", "Title")) and text:
            sections.append(Section("\n".join(lines), heading))
            heading, lines = text, []
            if style == "Title" or (title is None and style == "Heading 1"):
                title = title or text
        elif text:
            lines.append(text)
    sections.append(Section("\n".join(lines), heading))
    return sections, title


HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
SKIP_TAGS = {"script", "style", "noscript", "template", "nav", "footer"}
# Tags that start a new line of text; inline tags (a, b, span, ...) do not.
BLOCK_TAGS = {
    *HEADING_TAGS,
    *"p div li ul ol dl dt dd td th tr table caption pre blockquote br hr section article main".split(),
    *"header aside figure figcaption address form fieldset details summary".split(),
}


class _HtmlText(HTMLParser):
    """Headings and lines of text of an HTML page in one pass over its tags. Our own walk rather
    than BeautifulSoup's tree: reading text out of that tree costs the square of the nesting depth,
    so 100,000 nested divs ran for hours."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[Section] = []
        self.heading, self.lines, self.line = "", [], []
        self.title: str | None = None
        self.first_h1: str | None = None
        self.skipping = 0  # depth inside script, style, nav, ...
        self.capturing: str | None = None  # the <title> or heading tag being read
        self.captured: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in SKIP_TAGS:
            self.skipping += 1
        elif tag == "title" or (tag in HEADING_TAGS and not self.skipping):
            self._end_line()
            self.capturing, self.captured = tag, []
        elif tag in BLOCK_TAGS:
            self._end_line()

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag == self.capturing:
            self._end_capture()
        elif tag in BLOCK_TAGS:
            self._end_line()

    def handle_data(self, data: str) -> None:
        if self.capturing:
            self.captured.append(data)
        elif not self.skipping:
            self.line.append(data)

    def close(self) -> None:
        super().close()
        self._end_capture()
        self._end_line()
        self.sections.append(Section("\n".join(self.lines), self.heading))

    def _end_line(self) -> None:
        text = " ".join("".join(self.line).split())
        if text:
            self.lines.append(text)
        self.line = []

    def _end_capture(self) -> None:
        tag, text = self.capturing, " ".join("".join(self.captured).split())
        self.capturing, self.captured = None, []
        if not text or tag is None:
            return
        if tag == "title":
            self.title = self.title or text
            return
        self.sections.append(Section("\n".join(self.lines), self.heading))
        self.heading, self.lines = text, []
        if tag == "h1":
            self.first_h1 = self.first_h1 or text


def read_html(data: bytes) -> tuple[list[Section], str | None]:
    parser = _HtmlText()
    parser.feed(decode_text(data))
    parser.close()
    return parser.sections, parser.title or parser.first_h1


Read = tuple[list[Section], str | None] | tuple[list[Section], str | None, dict[str, Any]]
Reader = Callable[[bytes], Read]
LOADERS: dict[str, Reader] = {
    ".txt": read_text,
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".pdf": read_pdf,
    ".docx": read_docx,
    ".html": read_html,
    ".htm": read_html,
}
