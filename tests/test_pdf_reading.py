"""Documents as people have them: typeset PDFs (LaTeX two-column, LibreOffice, reportlab), PDFs
nobody here wrote, hard-wrapped text, tables, references and scans."""

from __future__ import annotations

import re
import textwrap
from collections import Counter
from pathlib import Path

import pdfplumber
import pytest
from typeset import (
    REFERENCES,
    RUNNING_HEAD,
    docx_to_pdf,
    quotable_sentences,
    sentence_match,
)

from assistant.chunking import chunk_document, token_counter
from assistant.ingest import ingest
from assistant.loading import LoadError, load_file
from assistant.reflow import Dehyphenator, join_lines
from assistant.settings import Settings
from assistant.text import split_sentences

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
# LaTeX documentation PDFs from Debian's texlive-latex-base-doc: typeset by others, with running
# heads, two columns (TUGboat) and reference lists.
REAL_PDFS = [
    Path("/usr/share/doc/texlive-doc/bibtex/babelbib/tugboat-babelbib.pdf"),
    Path("/usr/share/doc/texlive-doc/latex/base/clsguide.pdf"),
    Path("/usr/share/doc/texlive-doc/generic/babel-english/english.pdf"),
]
LONE_NUMBER = re.compile(r"^\W*\d{1,4}\W*$")


@pytest.fixture(scope="module")
def count():
    return token_counter(Settings().model_path)


@pytest.mark.parametrize("name", sorted(CORPUS.glob("*.md")), ids=lambda p: p.stem)
def test_typeset_pdf_gives_the_markdown_sentences(typeset_pdfs, name: Path, count):
    markdown = quotable_sentences(load_file(name))
    document = load_file(typeset_pdfs[name.name])
    precision, recall = sentence_match(quotable_sentences(document), markdown)
    assert precision >= 0.98 and recall >= 0.98, (precision, recall)
    passages = chunk_document(document, count)
    quotable = [s for p in passages if p.quotable for s in split_sentences(p.text)]
    assert not [s for s in quotable if RUNNING_HEAD in s or LONE_NUMBER.match(s) or "Page " in s[:5]]
    assert not [s for s in quotable for ref in REFERENCES if ref[:30] in " ".join(s.split())]
    assert not [s for s in quotable if "Copyright" in s or "Example University" in s]


def test_reference_list_is_stored_but_unquotable(typeset_pdfs, count):
    document = load_file(typeset_pdfs["multisector-partnership-strategies.md"])
    passages = chunk_document(document, count)
    unquotable = " ".join(" ".join(p.text.split()) for p in passages if not p.quotable)
    for reference in REFERENCES:  # every entry kept (searchable), hyphenation undone
        assert reference.split(".")[1].strip() in unquotable
    assert "Copyright 2024 The Authors" in unquotable
    assert "Example University" in unquotable


def test_a_sentence_over_a_page_break_keeps_its_start_page_and_cites_both(typeset_pdfs, count):
    document = load_file(typeset_pdfs["multisector-partnership-strategies.md"])
    spanning = [s for s in document.sections if s.end_page]
    assert spanning, "the three-page two-column article has sentences over page breaks"
    for section in spanning:
        assert section.end_page == section.page + 1
    passages = chunk_document(document, count)
    cited = [p for p in passages if p.end_page]
    assert cited and all(p.location == f"pp. {p.page}–{p.end_page}" for p in cited)
    # The sentence that crosses from page 2 to 3 is whole, in the page-2 chunk.
    crossing = "Healthy North Carolina 2030 goals for the health and well-being of North Carolina residents."
    (holder,) = [p for p in passages if crossing in " ".join(p.text.split())]
    assert (holder.page, holder.end_page) == (2, 3)


def test_two_columns_read_in_order_and_headings_come_from_font_sizes(typeset_pdfs):
    document = load_file(typeset_pdfs["multisector-partnership-strategies.md"])
    headings = [s.heading for s in document.sections]
    assert "Strategy 2: Develop a joint mission and shared goals" in headings  # hyphenated over two lines
    assert headings.index("Strategy 2: Develop a joint mission and shared goals") > headings.index(
        "Strategy 1: Encourage engagement and build trust by centering mutual benefit"
    )
    assert document.metadata["title"] == "Multisector Partnership Strategies"


def test_hyphenation_is_undone_by_evidence_and_compounds_are_kept():
    lines = ["Partners formed partner-", "ships with community-", "based groups and co-", "leaders."]
    known = Dehyphenator([*lines, "Each co-leader chairs a community-based group."], vocab=frozenset())
    assert (
        join_lines(lines, known) == "Partners formed partnerships with community-based groups and co-leaders."
    )
    # No evidence in the text: the model's vocabulary decides ("uncovering" from "uncover").
    vocab = frozenset({"uncover", "community", "based"})
    words = Dehyphenator([], vocab=vocab)
    assert join_lines(["led to un-", "covering a community-", "based view"], words) == (
        "led to uncovering a community-based view"
    )


def test_hard_wrapped_text_file_reads_as_its_paragraphs(tmp_path: Path):
    source = CORPUS / "health-care-organizations-partnering-with-cbos.md"
    markdown = load_file(source)
    paragraphs = [p for s in markdown.sections for p in s.text.split("\n") if p.strip()]
    wrapped = "\n\n".join(textwrap.fill(p, 72, break_on_hyphens=False) for p in paragraphs)
    (tmp_path / "wrapped.txt").write_text(wrapped, encoding="utf-8")
    text = load_file(tmp_path / "wrapped.txt")
    assert text.sections[0].text.split("\n") == paragraphs
    precision, recall = sentence_match(quotable_sentences(text), quotable_sentences(markdown))
    assert precision == recall == 1.0


@pytest.mark.parametrize("path", REAL_PDFS, ids=lambda p: p.stem)
def test_real_pdfs_lose_their_running_heads_and_page_numbers(path: Path, count):
    if not path.is_file():
        pytest.fail(f"{path} missing: scripts/test.sh installs Debian's texlive-latex-base-doc")
    document = load_file(path)
    sentences = [
        (section.page, " ".join(s.split()))
        for section in document.sections
        if section.quotable
        for s in split_sentences(section.text)
    ]
    assert len(sentences) > 20
    numbers = _edge_numbers(path)
    assert len(numbers) >= 3, "these PDFs print page numbers"
    assert not [s for page, s in sentences if s.strip("–-— ") in numbers.get(page, ())]
    for head in _repeated_edge_lines(path):
        assert not [s for _, s in sentences if head in s.lower()], head


def test_a_real_two_column_article_loses_its_running_heads():
    heads = _repeated_edge_lines(REAL_PDFS[0])
    assert heads, "TUGboat's running heads repeat on every page"
    text = " ".join(" ".join(s.text.lower().split()) for s in load_file(REAL_PDFS[0]).sections)
    assert not [head for head in heads if head in " ".join(re.sub(r"\d+", " ", text).split())]


def _edge_numbers(path: Path) -> dict[int, set[str]]:
    """Per page, the bare numbers in its first and last lines (page numbers, read independently of
    the loader by pdfplumber's plain text)."""
    numbers = {}
    with pdfplumber.open(path) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            lines = [x for x in (page.extract_text() or "").splitlines() if x.strip()]
            found = {token for line in [*lines[:1], *lines[-1:]] for token in line.split() if token.isdigit()}
            if found:
                numbers[number] = found
    return numbers


def _repeated_edge_lines(path: Path) -> set[str]:
    """Lines that open or close three or more pages (digits aside), read independently of the loader
    by pdfplumber's plain text."""
    edges = Counter()
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            lines = [x for x in (page.extract_text() or "").splitlines() if x.strip()]
            for line in {*lines[:1], *lines[-1:]}:
                key = " ".join(re.sub(r"\d+", " ", line.lower()).split())
                if len(key) > 8:
                    edges[key] += 1
    return {line for line, n in edges.items() if n >= 3}


def test_docx_table_rows_are_column_value_text_in_their_section(tmp_path: Path):
    path = _budget_docx(tmp_path / "budget.docx")
    document = load_file(path)
    by_heading = {s.heading: s.text for s in document.sections}
    assert (
        "Partner: Eastside Food Bank; Role: meal delivery; Annual budget: $48,000." in by_heading["Funding"]
    )
    pdf = load_file(docx_to_pdf(path, tmp_path / "budget.pdf"))  # LibreOffice: a ruled table in a PDF
    rows = [(s.page, s.heading, s.text) for s in pdf.sections if "Eastside Food Bank" in s.text]
    assert rows and rows[0][1] == "Funding" and rows[0][0] == 1
    assert "Partner: Eastside Food Bank; Role: meal delivery; Annual budget: $48,000." in rows[0][2]


def test_docx_table_cell_answers_a_question_with_a_citation(tmp_path: Path, make_library):
    from assistant.assistant import Assistant

    library = make_library()
    folder = tmp_path / "docs"
    folder.mkdir()
    _budget_docx(folder / "budget.docx")
    assert ingest(library, [folder], progress=False).count("added") == 1
    answer = Assistant(library.settings, library).ask("What is the annual budget for Eastside Food Bank?")
    assert not answer.abstained
    assert "$48,000" in answer.text
    assert any("$48,000" in c.sentence and c.source.endswith("budget.docx") for c in answer.citations)


def _budget_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_paragraph("Coalition Budget", style="Title")
    document.add_paragraph("Funding", style="Heading 1")
    document.add_paragraph("The coalition funds its partners as the table below shows.")
    table = document.add_table(rows=3, cols=3)
    table.style = "Table Grid"
    cells = [
        ("Partner", "Role", "Annual budget"),
        ("Eastside Food Bank", "meal delivery", "$48,000"),
        ("Northside Clinic", "health screening", "$120,000"),
    ]
    for row, values in zip(table.rows, cells, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_paragraph("Budgets are reviewed each spring by the steering committee.")
    document.save(str(path))
    return path


def _scanned_pdf(path: Path) -> Path:
    """A page of text rendered to an image, saved as a PDF with no text layer (what a scanner gives)."""
    import pypdfium2
    from reportlab.pdfgen import canvas

    text_pdf = path.with_suffix(".text.pdf")
    pdf = canvas.Canvas(str(text_pdf))
    lines = [
        "Clinic and Food Bank Partnership Report",
        "",
        "The clinic referred 412 families to the food bank in 2022.",
        "Referrals doubled after the partners shared one intake form.",
        "Volunteers delivered groceries to homebound patients every week.",
    ]
    pdf.setFont("Helvetica", 13)
    for index, line in enumerate(lines):
        pdf.drawString(72, 740 - 22 * index, line)
    pdf.save()
    page = pypdfium2.PdfDocument(text_pdf)[0]
    image = page.render(scale=200 / 72, grayscale=True).to_pil()
    image.save(path, "PDF", resolution=200)
    text_pdf.unlink()
    return path


def test_scanned_page_is_ocred_and_answers_a_question(tmp_path: Path, make_library):
    from assistant.assistant import Assistant

    folder = tmp_path / "scans"
    folder.mkdir()
    _scanned_pdf(folder / "scan.pdf")
    with pdfplumber.open(folder / "scan.pdf") as pdf:
        assert not pdf.pages[0].chars  # no text layer at all
    library = make_library()
    assert ingest(library, [folder], progress=False).count("added") == 1
    (record,) = library.catalog.documents()
    assert record.metadata["ocr_pages"] == [1]
    answer = Assistant(library.settings, library).ask(
        "How many families did the clinic refer to the food bank?"
    )
    assert "412 families" in answer.text
    assert any(c.source.endswith("scan.pdf") and c.passage.location == "p. 1" for c in answer.citations)


def test_documents_list_marks_an_ocred_document(tmp_path: Path, monkeypatch, capsys):
    from assistant.cli import main

    folder = tmp_path / "scans"
    folder.mkdir()
    _scanned_pdf(folder / "scan.pdf")
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    assert main(["ingest", str(folder), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["documents"]) == 0
    listing = capsys.readouterr().out
    assert "scan.pdf" in listing or "Scan" in listing
    assert "OCR" in listing


def test_without_tesseract_a_scan_is_skipped_with_that_reason(tmp_path: Path, monkeypatch):
    _scanned_pdf(tmp_path / "scan.pdf")
    bare = tmp_path / "bin"
    bare.mkdir()
    monkeypatch.setenv("PATH", str(bare))  # tesseract hidden: not on PATH
    with pytest.raises(LoadError, match=r"no text layer.*tesseract is not installed"):
        load_file(tmp_path / "scan.pdf")


def test_answers_from_a_pdf_only_library_quote_whole_sentences(typeset_pdfs, make_library):
    from assistant.assistant import Assistant
    from assistant.evaluation.questions import load_questions

    library = make_library()
    folder = next(iter(typeset_pdfs.values())).parent
    report = ingest(library, [folder], progress=False)
    assert report.count("added") == 5, report.summary()
    assistant = Assistant(library.settings, library)
    questions = [q for q in load_questions(CORPUS.parent / "evals" / "questions.jsonl") if q.answerable]
    quoted = 0
    for question in questions[::4]:
        answer = assistant.ask(question.question, question.history)
        for citation in answer.citations:
            whole = {" ".join(s.split()) for s in split_sentences(citation.passage.text)}
            assert " ".join(citation.sentence.split()) in whole, citation.sentence
            assert re.match(r"[\W\d]*[^\W\d_a-z]", citation.sentence), (
                citation.sentence
            )  # no lower-case start
            assert citation.passage.quotable
            quoted += 1
    assert quoted >= 20
