"""Shared fixtures: the real embedding model, loaded once, and a real Chroma store of the corpus."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.pdfgen import canvas

import assistant  # noqa: F401  (offline environment before any model import)
from assistant.assistant import Assistant
from assistant.ingest import ingest
from assistant.library import Library
from assistant.settings import PROJECT_ROOT, Settings
from assistant.store import Embedder

CORPUS = PROJECT_ROOT / "corpus"


# Debian's chromium, driven by Playwright (its own browser download fails offline)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    """A headless chromium for a test module's browser tests."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    settings = Settings()
    return Embedder(settings.model_path, settings.embedding_batch_size)


@pytest.fixture
def model_passes(monkeypatch, embedder: Embedder) -> list[str]:
    """The real embedder, recording every text it runs through the model: texts encoded alone
    (questions, sentences) and chunk texts passed for their vectors and their sentences' vectors."""
    texts: list[str] = []
    encode, encode_with_spans = embedder.encode, embedder.encode_with_spans

    def recording_encode(batch, **kwargs):
        texts.extend(batch)
        return encode(batch, **kwargs)

    def recording_pass(batch, spans):
        texts.extend(batch)
        return encode_with_spans(batch, spans)

    monkeypatch.setattr(embedder, "encode", recording_encode)
    monkeypatch.setattr(embedder, "encode_with_spans", recording_pass)
    return texts


@pytest.fixture
def make_library(tmp_path: Path, embedder: Embedder):
    """A fresh, empty library in its own data directory (real Chroma, real model)."""

    def make(**overrides) -> Library:
        settings = Settings(data_dir=tmp_path / "data", **overrides)
        return Library.open(settings, embedder)

    return make


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("corpus-store"))


@pytest.fixture(scope="session")
def corpus_library(corpus_settings: Settings, embedder: Embedder) -> Library:
    library = Library.open(corpus_settings, embedder)
    report = ingest(library, [CORPUS], progress=False)
    assert report.count("added") == 5, report.summary()
    return library


@pytest.fixture(scope="session")
def corpus_assistant(corpus_settings: Settings, corpus_library: Library) -> Assistant:
    return Assistant(corpus_settings, corpus_library)


# --- real files for loader and ingest tests (plain functions: import them from conftest) ----------
def benchmark_script(name: str):
    """benchmarks/NAME.py as a module, loaded by its path as `assistant bench` loads it (pysbd
    installs a top-level package named `benchmarks`, so `import benchmarks.NAME` would miss ours)."""
    from assistant.cli import benchmark_script as load

    script = load(name)
    assert script is not None, f"benchmarks/{name}.py is missing"
    return script


def write_pdf(path: Path, pages: list[str], title: str | None = None) -> Path:
    """A real PDF (reportlab), one string per page, each line of it drawn as a line of text."""
    pdf = canvas.Canvas(str(path))
    if title:
        pdf.setTitle(title)
    for page in pages:
        text = pdf.beginText(72, 760)
        for line in page.splitlines():
            text.textLine(line)
        pdf.drawText(text)
        pdf.showPage()
    pdf.save()
    return path


def write_encrypted_pdf(path: Path, password: str = "secret") -> Path:
    plain = write_pdf(path.with_suffix(".plain.pdf"), ["Confidential partnership terms."])
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(password)
    writer.write(path)
    plain.unlink()
    return path


def write_docx(path: Path, blocks: list[tuple[str, str]], title: str | None = None) -> Path:
    """A real Word file (python-docx) from (style, text) blocks, e.g. ("Heading 1", "Findings")."""
    document = docx.Document()
    if title:
        document.core_properties.title = title
    for style, text in blocks:
        document.add_paragraph(text, style=style)
    document.save(str(path))
    return path


@pytest.fixture(scope="session")
def typeset_pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """corpus/ typeset once per session by LaTeX, LibreOffice and reportlab (tests/typeset.py)."""
    from typeset import typeset_corpus

    return typeset_corpus(CORPUS, tmp_path_factory.mktemp("typeset"))
