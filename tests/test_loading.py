"""Each loader on a real file: sections, page numbers, headings, titles; manifest metadata."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_docx, write_encrypted_pdf, write_pdf

from assistant.chunking import chunk_document, token_counter
from assistant.loading import LoadError, load_file, load_manifest
from assistant.settings import Settings


@pytest.fixture(scope="module")
def count():
    return token_counter(Settings().model_path)


def test_text_file_is_one_section_titled_from_its_name(tmp_path: Path):
    path = tmp_path / "shared_governance-notes.txt"
    path.write_text("Partners agreed on a charter.\nThey met monthly.", encoding="utf-8")
    document = load_file(path)
    assert [s.text for s in document.sections] == ["Partners agreed on a charter.\nThey met monthly."]
    assert document.metadata["title"] == "Shared governance notes"
    assert document.source == "shared_governance-notes.txt"


def test_utf16_and_bom_text_is_decoded(tmp_path: Path):
    (tmp_path / "a.txt").write_bytes("\ufeffCafé partners met.".encode())
    (tmp_path / "b.txt").write_bytes("Café partners met.".encode("utf-16"))
    assert load_file(tmp_path / "a.txt").sections[0].text == "Café partners met."
    assert load_file(tmp_path / "b.txt").sections[0].text == "Café partners met."


def test_markdown_headings_become_sections_and_the_first_h1_the_title(tmp_path: Path):
    path = tmp_path / "guide.md"
    path.write_text(
        "# Building Trust\n\nIntro text.\n\n## Shared goals ##\n\n> Partners set goals together.\n\n"
        "```\n# not a heading inside code\n```\n\n## Funding\n\nBraided funding helps.\n",
        encoding="utf-8",
    )
    document = load_file(path)
    assert document.metadata["title"] == "Building Trust"
    by_heading = {s.heading: s.text for s in document.sections}
    assert "Intro text." in by_heading["Building Trust"]
    assert "Partners set goals together." in by_heading["Shared goals"]  # quote marker dropped
    assert "# not a heading inside code" in by_heading["Shared goals"]
    assert by_heading["Funding"].strip() == "Braided funding helps."


def test_pdf_pages_keep_their_numbers_into_every_chunk(tmp_path: Path, count):
    pages = [
        f"Page {n} reports how partners shared data.\nEach partner signed an agreement on page {n}."
        for n in (1, 2, 3, 4)
    ]
    path = write_pdf(tmp_path / "report.pdf", pages, title="Data Sharing Report")
    document = load_file(path)
    assert document.metadata["title"] == "Data Sharing Report"
    assert [s.page for s in document.sections] == [1, 2, 3, 4]
    passages = chunk_document(document, count)
    assert {p.page for p in passages} == {1, 2, 3, 4}
    for passage in passages:  # a chunk never mixes pages: its text names its own page only
        assert f"on page {passage.page}." in passage.text
        assert all(f"page {n}." not in passage.text for n in {1, 2, 3, 4} - {passage.page})


def test_pdf_without_metadata_title_is_titled_from_its_file_name(tmp_path: Path):
    document = load_file(write_pdf(tmp_path / "annual_report-2021.pdf", ["Some text on a page."]))
    assert document.metadata["title"] == "Annual report 2021"


def test_docx_headings_become_section_metadata(tmp_path: Path, count):
    governance = " ".join(
        f"The steering committee met in quarter {n} to review the budget." for n in range(20)
    )
    path = write_docx(
        tmp_path / "toolkit.docx",
        [
            ("Title", "Partnership Toolkit"),
            ("Normal", "An introduction to the toolkit."),
            ("Heading 1", "Governance"),
            ("Normal", governance),
            ("Heading 2", "Decision rules"),
            ("Normal", "Decisions need consent of all partners."),
        ],
    )
    document = load_file(path)
    assert document.metadata["title"] == "Partnership Toolkit"
    by_heading = {s.heading: s.text for s in document.sections}
    assert by_heading["Governance"] == governance
    assert by_heading["Decision rules"] == "Decisions need consent of all partners."
    passages = chunk_document(document, count)
    assert {p.section for p in passages} <= {"Partnership Toolkit", "Governance", "Decision rules"}
    for passage in passages:  # a chunk is labelled with the heading its text sits under
        if "steering committee met in quarter 19" in passage.text:
            assert passage.section == "Governance"
        if "consent of all partners" in passage.text:
            assert passage.section in {"Governance", "Decision rules"}


def test_docx_core_title_wins_over_the_first_heading(tmp_path: Path):
    path = write_docx(tmp_path / "x.docx", [("Heading 1", "Intro"), ("Normal", "Text.")], title="Real Title")
    assert load_file(path).metadata["title"] == "Real Title"


def test_html_headings_title_and_boilerplate(tmp_path: Path):
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>Community &amp; Health</title><style>p {color: red}</style></head><body>"
        "<nav><a href='/'>Home</a> <h2>Menu</h2></nav><h1>Working Together</h1>"
        "<p>Partners <b>co-design</b> programs.</p><div>Plain div text.</div>"
        "<h2>Evaluation</h2><ul><li>Track outcomes.</li><li>Share results.</li></ul>"
        "<script>alert('x')</script><footer>Copyright</footer></body></html>",
        encoding="utf-8",
    )
    document = load_file(path)
    assert document.metadata["title"] == "Community & Health"
    by_heading = {s.heading: s.text for s in document.sections}
    assert by_heading["Working Together"] == "Partners co-design programs.\nPlain div text."
    assert by_heading["Evaluation"] == "Track outcomes.\nShare results."
    everything = " ".join(s.heading + " " + s.text for s in document.sections)
    for boilerplate in ("Menu", "Home", "alert", "Copyright", "color"):
        assert boilerplate not in everything


def test_html_without_title_uses_its_first_h1(tmp_path: Path):
    path = tmp_path / "p.htm"
    path.write_text("<h1>Coalitions</h1><p>Text under it.</p>", encoding="utf-8")
    assert load_file(path).metadata["title"] == "Coalitions"


def test_manifest_metadata_is_merged_and_read_by_file_name(tmp_path: Path):
    (tmp_path / "library.yaml").write_text(
        "documents:\n"
        "  - file: brief.md\n"
        "    title: Manifest Title\n"
        "    year: 2019\n"
        "    organization: Public Health Institute\n"
        "    type: report\n",
        encoding="utf-8",
    )
    (tmp_path / "brief.md").write_text("# Title In File\n\nBody text.", encoding="utf-8")
    manifest = load_manifest(tmp_path / "library.yaml")
    document = load_file(tmp_path / "brief.md", manifest.get("brief.md"))
    assert document.metadata == {
        "type": "report",
        "title": "Manifest Title",
        "year": 2019,
        "organization": "Public Health Institute",
    }
    assert load_manifest(tmp_path / "missing.yaml") == {}


def test_invalid_manifest_is_a_clear_error(tmp_path: Path):
    (tmp_path / "library.yaml").write_text("documents: [unclosed", encoding="utf-8")
    with pytest.raises(LoadError, match=r"library\.yaml: manifest is not valid YAML"):
        load_manifest(tmp_path / "library.yaml")


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        ("empty.txt", lambda p: p.write_bytes(b""), "empty file"),
        ("blank.md", lambda p: p.write_bytes(b"  \n\t\n"), "empty file"),
        ("binary.txt", lambda p: p.write_bytes(bytes(range(256)) * 40), "binary content"),
        ("latin1.txt", lambda p: p.write_bytes("Résumé des partenariats".encode("latin-1")), "not UTF-8"),
        ("fake.pdf", lambda p: p.write_text("just text", encoding="utf-8"), "not a PDF"),
        ("fake.docx", lambda p: p.write_text("just text", encoding="utf-8"), "not a Word document"),
        ("tables.xlsx", lambda p: p.write_bytes(b"PK\x03\x04"), "unsupported file type '.xlsx'"),
        ("empty.html", lambda p: p.write_text("<html><body> </body></html>"), "no text could be extracted"),
    ],
)
def test_bad_files_raise_load_error_with_the_reason(tmp_path: Path, name, make, reason):
    make(tmp_path / name)
    with pytest.raises(LoadError, match=reason):
        load_file(tmp_path / name)


def test_truncated_and_encrypted_pdfs_are_refused(tmp_path: Path):
    whole = write_pdf(tmp_path / "whole.pdf", [f"Page {n} text." for n in range(6)]).read_bytes()
    (tmp_path / "truncated.pdf").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(LoadError, match="truncated PDF"):
        load_file(tmp_path / "truncated.pdf")
    with pytest.raises(LoadError, match="encrypted PDF"):
        load_file(write_encrypted_pdf(tmp_path / "locked.pdf"))


def test_size_limit_is_checked_before_reading(tmp_path: Path):
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:  # sparse: costs no disk
        handle.truncate(3 * 2**20)
    with pytest.raises(LoadError, match=r"over the size limit \(3.0 MB > 2 MB\)"):
        load_file(path, max_mb=2)
