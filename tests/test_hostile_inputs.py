"""Hostile input: property tests of the loaders, the chunker and the citation helpers, and a set of
hostile files ingested in one real run that must finish, within bounded memory, with each file
stored correctly or skipped with a clear reason."""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from functools import cache
from itertools import islice
from pathlib import Path

import docx
import pytest
from conftest import write_encrypted_pdf, write_pdf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter
from transformers import AutoTokenizer

from assistant.answering.citations import CITATION_MARK, passage_sentences, support
from assistant.chunking import chunk_document, embedding_text, token_counter
from assistant.library import Library
from assistant.loading import SUPPORTED_SUFFIXES, LoadError, load_file
from assistant.settings import PROJECT_ROOT, Settings
from assistant.text import split_sentences
from assistant.types import LoadedDocument, Passage, Section

SCIFACT = "/work/shared/benchmarks/scifact/corpus.jsonl"
PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def squeeze(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace())


@cache
def tokenizer():
    return AutoTokenizer.from_pretrained(str(Settings().model_path))


@cache
def count():
    return token_counter(Settings().model_path)


@cache
def real_files() -> dict[str, bytes]:
    """Small valid files of each binary format, to be damaged by the property tests."""
    with tempfile.TemporaryDirectory() as folder:
        pdf = write_pdf(Path(folder) / "a.pdf", ["Partners met. They agreed.", "Second page text."])
        data = {".pdf": pdf.read_bytes()}
    buffer = io.BytesIO()
    document = docx.Document()
    document.add_heading("Heading", 1)
    document.add_paragraph("Partners met. They agreed.")
    document.save(buffer)
    data[".docx"] = buffer.getvalue()
    return data


# --- loaders: any bytes give a document or a LoadError, never anything else -----------------------
HEADERS = [b"", b"%PDF-1.7\n", b"PK\x03\x04", b"<html><body><h1>", b"\xef\xbb\xbf", b"\xff\xfe", b"# T\n"]


def load_bytes(suffix: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"file{suffix}"
        path.write_bytes(data)
        try:
            document = load_file(path)
        except LoadError as exc:
            assert str(exc).strip()
        else:
            assert document.sections and all(s.text.strip() for s in document.sections)
            assert isinstance(document.metadata["title"], str) and document.metadata["title"]


@PROPERTY
@given(st.sampled_from(sorted(SUPPORTED_SUFFIXES)), st.sampled_from(HEADERS), st.binary(max_size=3000))
def test_random_bytes_under_each_suffix_load_or_raise_load_error(suffix, header, body):
    load_bytes(suffix, header + body)


@PROPERTY
@given(st.sampled_from(sorted(SUPPORTED_SUFFIXES)), st.text(max_size=2000))
def test_random_text_under_each_suffix_loads_or_raises_load_error(suffix, text):
    load_bytes(suffix, text.encode("utf-8", "surrogatepass"))


@PROPERTY
@given(
    st.sampled_from([".pdf", ".docx"]),
    st.floats(0.05, 1.0),
    st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=12),
)
def test_damaged_pdf_and_docx_load_or_raise_load_error(suffix, keep, flips):
    data = bytearray(real_files()[suffix])
    for where, value in flips:
        data[int(where * (len(data) - 1))] = value
    load_bytes(suffix, bytes(data[: max(1, int(len(data) * keep))]))


# --- the chunker: any text gives chunks within the window, every character kept in order -----------
WORDS = st.sampled_from(
    ["Partners", "met.", "e.g.", "Dr.", "U.S.", "share", "power?", "yes!", "…", "(see p. 4)", "„quoted“"]
)
ODD = st.sampled_from(
    ["שותפות", "مرحبا", "🤝", "👩🏽‍⚕️", "合作。", "ｆｕｌｌ", "x" * 300, "a/b" * 150, "\u200b", "\t"]
)
RUN = st.lists(st.one_of(WORDS, ODD, st.text(min_size=1, max_size=12)), max_size=400)
TEXTS = st.one_of(
    st.text(max_size=3000),
    RUN.map(" ".join),
    st.lists(RUN.map(" ".join), max_size=6).map("\n\n".join),
)


@PROPERTY
@given(TEXTS, st.text(max_size=400), st.text(max_size=300))
def test_chunks_fit_the_window_and_keep_every_character(text, title, heading):
    document = LoadedDocument("x.txt", [Section(text, heading=heading)], {"title": title}, "hash")
    passages = chunk_document(document, count())
    for passage in passages:
        embedded = embedding_text(passage.title, passage.section, passage.text)
        assert len(tokenizer().encode(embedded)) <= 256
    # The heading leads the first chunk; after it comes every character of the text, in order.
    assert squeeze("".join(p.text for p in passages)).endswith(squeeze(text))
    assert heading.strip() or squeeze("".join(p.text for p in passages)) == squeeze(text)
    assert squeeze("".join(split_sentences(text))) == squeeze(text)


# --- citation helpers --------------------------------------------------------------------------
@PROPERTY
@given(TEXTS)
def test_passage_sentences_spans_point_at_their_sentences(text):
    passage = Passage("p", text, "x.txt", "T")
    sentences = passage_sentences(passage)
    assert len(sentences) == len(split_sentences(text))
    cursor = 0
    for sentence in sentences:
        start, end = sentence.span
        assert cursor <= start < end <= len(text)
        assert " ".join(text[start:end].split()) == sentence.text
        cursor = end


@PROPERTY
@given(TEXTS, TEXTS)
def test_support_is_a_share_and_points_into_the_passage(claim, text):
    passage = Passage("p", text, "x.txt", "T")
    score, sentence = support(claim, passage)
    assert 0.0 <= score <= 1.0
    if sentence is not None:
        assert sentence.passage is passage
        assert " ".join(text[slice(*sentence.span)].split()) == sentence.text


@PROPERTY
@given(st.lists(st.tuples(st.text().filter(lambda t: "[" not in t), st.integers(1, 999)), max_size=6))
def test_citation_marks_are_found_and_removed_exactly(parts):
    marked = "".join(f"{text} [{number}]" for text, number in parts)
    assert [int(n) for n in CITATION_MARK.findall(marked)] == [n for _, n in parts]
    assert CITATION_MARK.sub("", marked) == "".join(text.rstrip() for text, _ in parts)


# --- a hostile folder through one real ingest run ----------------------------------------------
def prose() -> str:
    with open(SCIFACT, encoding="utf-8") as handle:
        return "\n\n".join(json.loads(line)["text"] for line in islice(handle, 40))


def zip_bomb_docx(path: Path) -> None:
    """A real .docx plus a member of 300 MB of zeros (about 300 KB packed), written in pieces."""
    with zipfile.ZipFile(io.BytesIO(real_files()[".docx"])) as source, zipfile.ZipFile(path, "w") as out:
        for info in source.infolist():
            out.writestr(info, source.read(info.filename))
        zeros = zipfile.ZipInfo("word/media/zeros.bin")
        zeros.compress_type = zipfile.ZIP_DEFLATED
        with out.open(zeros, "w", force_zip64=True) as member:
            for _ in range(300):
                member.write(b"\0" * 2**20)


def xml_bomb_docx(path: Path) -> None:
    """A .docx whose body is 26 MB of XML: a million tiny paragraphs."""
    with zipfile.ZipFile(io.BytesIO(real_files()[".docx"])) as source:
        members = {info.filename: source.read(info.filename) for info in source.infolist()}
    paragraph = b"<w:p><w:r><w:t>Partners met.</w:t></w:r></w:p>"
    body = members["word/document.xml"]
    start = body.index(b"<w:body>") + len(b"<w:body>")
    members["word/document.xml"] = body[:start] + paragraph * (26 * 2**20 // len(paragraph)) + body[start:]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in members.items():
            out.writestr(name, data)


def long_pdf(path: Path, pages: int, text_on: dict[int, str]) -> None:
    """A PDF of many blank pages (cheap) with text on a few of them."""
    with tempfile.TemporaryDirectory() as folder:
        texts = PdfReader(write_pdf(Path(folder) / "t.pdf", list(text_on.values())))
        writer = PdfWriter()
        for number in range(1, pages + 1):
            if number in text_on:
                writer.add_page(texts.pages[list(text_on).index(number)])
            else:
                writer.add_blank_page(612, 792)
        writer.write(path)


def build_hostile_folder(folder: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Make every hostile file; returns {file: words its skip reason must contain} and
    {file: text that must be found in what is stored from it}."""
    rng = random.Random(7)
    text = prose()
    (folder / "zero.txt").write_bytes(b"")
    with (folder / "large.txt").open("w", encoding="utf-8") as handle:  # ~20 MB of real prose
        for _ in range(20 * 2**20 // len(text) + 1):
            handle.write(text + "\n\n")
    with (folder / "huge.txt").open("wb") as handle:  # 100 MB, sparse: the size check never reads it
        handle.truncate(100 * 2**20)
    (folder / "binary.txt").write_bytes(rng.randbytes(64 * 1024))
    (folder / "latin1.txt").write_bytes("Coopération et santé publique.\n".encode("latin-1") * 50)
    (folder / "controls.txt").write_text(
        "Partners\x07 met every\x1b[0m month. The board\x0b agreed on shared goals.\n" * 3, encoding="utf-8"
    )
    (folder / "mostly_controls.txt").write_bytes(bytes(range(1, 32)) * 300)
    (folder / "rtl_emoji.md").write_text(
        "# שותפות קהילתית\n\nשותפות בין ארגונים בונה אמון. 🤝\n\n"
        "الشراكة بين المستشفيات والمنظمات المجتمعية مهمة. 👩🏽‍⚕️\n\n"
        "Mixed: the clinic (מרפאה) works with 🏥 partners.\n",
        encoding="utf-8",
    )
    whole = write_pdf(folder / "whole.pdf", [text[:1500], text[1500:3000], text[3000:4500]]).read_bytes()
    (folder / "whole.pdf").unlink()
    (folder / "truncated.pdf").write_bytes(whole[: len(whole) // 2])
    write_encrypted_pdf(folder / "encrypted.pdf")
    long_pdf(
        folder / "pages3000.pdf", 3000, {1: "Opening page text.", 1500: "Middle page.", 3000: "Last page."}
    )
    long_pdf(folder / "pages5001.pdf", 5001, {1: "Too long to take."})
    zip_bomb_docx(folder / "zipbomb.docx")
    xml_bomb_docx(folder / "xmlbomb.docx")
    deep = "<html><body>" + "<div>" * 100_000 + "<p>Deep inside the page.</p>" + "</div>" * 100_000
    (folder / "deep.html").write_text(deep + "</body></html>", encoding="utf-8")
    levels = "".join(f"<blockquote>Level {n}." for n in range(3000)) + "</blockquote>" * 3000
    (folder / "deep_levels.html").write_text(f"<html><body>{levels}</body></html>", encoding="utf-8")
    (folder / "long_line.txt").write_text(" ".join(f"w{n}" for n in range(6000)), encoding="utf-8")
    skipped = {
        "zero.txt": "empty file",
        "large.txt": "too much text",
        "huge.txt": "over the size limit",
        "binary.txt": "binary content",
        "latin1.txt": "not UTF-8",
        "mostly_controls.txt": "binary content",
        "truncated.pdf": "truncated PDF",
        "encrypted.pdf": "encrypted PDF",
        "pages5001.pdf": "5001 pages (limit 5000)",
        "zipbomb.docx": "unpacks to over 200 MB",
        "xmlbomb.docx": "over 25 MB of XML",
    }
    stored = {
        "controls.txt": "Partners met every month. The board agreed on shared goals.",
        "rtl_emoji.md": "שותפות בין ארגונים בונה אמון. 🤝",
        "pages3000.pdf": "Middle page.",
        "deep.html": "Deep inside the page.",
        "deep_levels.html": "Level 2999.",
        "long_line.txt": "w5999",
    }
    return skipped, stored


# The CLI in a child process that reports its own peak memory when done.
CLI_WITH_PEAK_MEMORY = (
    "import resource, sys; from assistant.cli import main; code = main(sys.argv[1:]); "
    "print('peak-rss-kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); "
    "sys.exit(code)"
)


@pytest.mark.timeout(900)
def test_hostile_folder_is_ingested_or_skipped_with_reasons_in_bounded_memory(tmp_path, embedder):
    folder = tmp_path / "hostile"
    folder.mkdir()
    skipped, stored = build_hostile_folder(folder)
    data = tmp_path / "data"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", CLI_WITH_PEAK_MEMORY, "ingest", str(folder), "--quiet"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "ASSISTANT_DATA_DIR": str(data)},
        capture_output=True,
        text=True,
        timeout=800,
    )
    seconds, err = time.monotonic() - started, done.stderr
    assert done.returncode == 0, err[-3000:]
    peak_mb = int(err.rsplit("peak-rss-kb ", 1)[1]) / 1024
    summary = done.stdout.strip().splitlines()[-1]
    print(f"hostile ingest: {seconds:.0f} s, peak memory {peak_mb:.0f} MB; {summary}")
    assert peak_mb < 3000
    lines = [line for line in err.splitlines() if line.startswith("skipped ")]
    for name, words in skipped.items():
        (line,) = [line for line in lines if line.startswith(f"skipped {folder / name}:")]
        assert words in line, line
        print(line.replace(str(folder) + "/", ""))
    assert len(lines) == len(skipped)

    library = Library.open(Settings(data_dir=data), embedder)
    by_name = {Path(r.key).name: r for r in library.catalog.documents()}
    assert set(by_name) == set(stored)
    for name, expected in stored.items():
        texts = [
            p.text for p in library.catalog.passages(library.catalog.chunk_ids(by_name[name].key)).values()
        ]
        assert expected in " ".join(" ".join(t.split()) for t in texts), name
    pages = library.catalog.passages(library.catalog.chunk_ids(by_name["pages3000.pdf"].key)).values()
    assert {p.page for p in pages} == {1, 1500, 3000}
    assert library.vectors.count() == library.catalog.chunk_count()
