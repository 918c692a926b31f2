"""Ingest end to end with the real model and a real Chroma store: metadata, incremental reruns,
updates, prune, duplicates, bad files, and failures that must leave the store whole."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import write_docx, write_encrypted_pdf, write_pdf

from assistant import loading
from assistant.cli import main
from assistant.ingest import ingest
from assistant.library import Library
from assistant.settings import Settings

SENTENCES = [
    "Hospitals and community organizations signed a data sharing agreement.",
    "The steering committee met every month to review referrals.",
    "Funding was braided from three public sources.",
    "Community health workers connected patients with food banks.",
]


def text(n: int, words: str = "") -> str:
    return "\n\n".join(f"{s} {words} Item {n}.{i}." for i, s in enumerate(SENTENCES))


def state(library: Library) -> tuple[dict[str, set[str]], set[str]]:
    """Each document's chunk ids in the catalog, and every id in Chroma."""
    documents = {r.key: library.catalog.chunk_ids(r.key) for r in library.catalog.documents()}
    return documents, library.vectors.all_ids()


def assert_consistent(library: Library) -> None:
    documents, vectors = state(library)
    catalog_ids = [i for ids in documents.values() for i in ids]
    assert len(catalog_ids) == len(set(catalog_ids)) == library.catalog.chunk_count()
    assert set(catalog_ids) == vectors  # no orphan vectors, no chunk without a vector
    with_sentences = {r[0] for r in library.catalog.db.execute("SELECT chunk_id FROM sentence_vectors")}
    assert with_sentences == set(catalog_ids)  # every chunk has its sentence vectors, nothing else does
    for record in library.catalog.documents():
        assert record.chunk_count == len(documents[record.key])


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "library.yaml").write_text(
        "documents:\n  - file: listed.md\n    title: From The Manifest\n    year: 2020\n    type: report\n",
        encoding="utf-8",
    )
    (docs / "listed.md").write_text("# Title In The File\n\n" + text(1), encoding="utf-8")
    (docs / "titled.md").write_text("# Markdown Own Title\n\n" + text(2), encoding="utf-8")
    (docs / "plain_notes.txt").write_text(text(3), encoding="utf-8")
    write_pdf(docs / "slides.pdf", [text(4), text(5)], title="Slide Deck")
    write_docx(docs / "memo.docx", [("Heading 1", "Memo Heading"), ("Normal", text(6))])
    (docs / "page.html").write_text(f"<title>Web Page</title><p>{text(7)}</p>", encoding="utf-8")
    return docs


def test_ingest_stores_every_format_with_manifest_and_found_titles(make_library, folder):
    library = make_library()
    report = ingest(library, [folder], progress=False)
    assert report.count("added") == 6 and not report.skipped, report.summary()
    titles = {Path(r.key).name: r for r in library.catalog.documents()}
    assert titles["listed.md"].title == "From The Manifest"
    assert (titles["listed.md"].year, titles["listed.md"].type) == (2020, "report")
    assert titles["titled.md"].title == "Markdown Own Title"
    assert titles["plain_notes.txt"].title == "Plain notes"
    assert titles["slides.pdf"].title == "Slide Deck"
    assert titles["memo.docx"].title == "Memo Heading"
    assert titles["page.html"].title == "Web Page"
    assert titles["titled.md"].type == "user document"
    assert_consistent(library)
    pages = {
        p.page for p in library.catalog.passages(library.catalog.chunk_ids(titles["slides.pdf"].key)).values()
    }
    assert pages == {1, 2}


def test_rerun_writes_and_embeds_nothing(make_library, folder, model_passes):
    library = make_library()
    ingest(library, [folder], progress=False)
    before = state(library)
    assert model_passes
    model_passes.clear()
    report = ingest(make_library(), [folder], progress=False)  # a new process would open it afresh
    assert report.count("unchanged") == 6 and report.chunks_written == 0, report.summary()
    assert model_passes == []
    assert state(library) == before
    assert library.vectors.count() == len(before[1])


def test_changed_file_replaces_all_its_old_chunks(make_library, folder):
    library = make_library()
    ingest(library, [folder], progress=False)
    documents, _ = state(library)
    key = next(k for k in documents if k.endswith("plain_notes.txt"))
    (folder / "plain_notes.txt").write_text(text(3, "now revised"), encoding="utf-8")
    report = ingest(library, [folder], progress=False)
    assert report.count("updated") == 1 and report.count("unchanged") == 5
    after, vectors = state(library)
    assert after[key] and not after[key] & documents[key]
    assert not documents[key] & vectors  # none of the old chunks is left in Chroma
    texts = [p.text for p in library.catalog.passages(after[key]).values()]
    assert all("now revised" in t for t in texts)
    assert_consistent(library)


def test_prune_removes_documents_whose_file_is_gone(make_library, folder):
    library = make_library()
    ingest(library, [folder], progress=False)
    gone = next(k for k in state(library)[0] if k.endswith("memo.docx"))
    gone_ids = library.catalog.chunk_ids(gone)
    (folder / "memo.docx").unlink()
    ingest(library, [folder], progress=False)
    assert gone in state(library)[0]  # kept without --prune
    report = ingest(library, [folder], prune=True, progress=False)
    assert [(f.source, f.status) for f in report.files if f.status == "removed"] == [(gone, "removed")]
    documents, vectors = state(library)
    assert gone not in documents and not gone_ids & vectors
    assert_consistent(library)


def test_same_content_under_two_names_is_stored_once(make_library, folder):
    (folder / "copy-of-notes.txt").write_bytes((folder / "plain_notes.txt").read_bytes())
    library = make_library()
    report = ingest(library, [folder], progress=False)
    duplicate = next(f for f in report.files if f.status == "duplicate")
    assert duplicate.source.endswith("plain_notes.txt") or duplicate.source.endswith("copy-of-notes.txt")
    assert "stored once" in duplicate.reason
    assert report.count("added") == 6
    assert_consistent(library)


def test_file_edited_to_match_another_drops_its_old_version(make_library, folder):
    library = make_library()
    ingest(library, [folder], progress=False)
    (folder / "titled.md").write_bytes((folder / "listed.md").read_bytes())
    report = ingest(library, [folder], progress=False)
    assert report.count("duplicate") == 1
    assert not any(k.endswith("titled.md") for k in state(library)[0])
    assert_consistent(library)


def bad_files(folder: Path) -> dict[str, str]:
    """Each bad file, made for real, and words its skip reason must contain."""
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 64)
    (folder / "latin1.txt").write_bytes("Coopération entre hôpitaux et associations.".encode("latin-1"))
    whole = write_pdf(folder / "whole.pdf", [text(8), text(9), text(10)]).read_bytes()
    (folder / "whole.pdf").unlink()
    (folder / "truncated.pdf").write_bytes(whole[: len(whole) // 2])
    write_encrypted_pdf(folder / "encrypted.pdf")
    with (folder / "oversize.txt").open("wb") as handle:
        handle.truncate(2 * 2**20)  # sparse: the limit is checked before reading
    (folder / "sheet.xlsx").write_bytes(b"PK\x03\x04not really")
    return {
        "empty.txt": "empty file",
        "binary.txt": "binary content",
        "latin1.txt": "not UTF-8",
        "truncated.pdf": "truncated PDF",
        "encrypted.pdf": "encrypted PDF",
        "oversize.txt": "over the size limit",
        "sheet.xlsx": "unsupported type '.xlsx'",
    }


def test_bad_files_are_skipped_with_a_reason_and_the_run_goes_on(make_library, folder):
    expected = bad_files(folder)
    library = make_library(max_file_mb=1)
    report = ingest(library, [folder], progress=False)
    reasons = {Path(f.source).name: f.reason for f in report.skipped}
    assert set(reasons) == set(expected)
    for name, words in expected.items():
        assert words in reasons[name], (name, reasons[name])
    assert report.count("added") == 6  # every good file still went in
    assert not any(Path(k).name in expected for k in state(library)[0])
    assert_consistent(library)


def test_cli_strict_turns_a_skip_into_exit_code_1(tmp_path, folder, monkeypatch, capsys):
    bad_files(folder)
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "cli-data"))
    monkeypatch.setenv("ASSISTANT_MAX_FILE_MB", "1")
    assert main(["ingest", str(folder), "--quiet"]) == 0
    err = capsys.readouterr().err
    for name in ("empty.txt", "binary.txt", "encrypted.pdf", "sheet.xlsx"):
        assert f"{name}:" in err  # one line naming the file and the reason
    assert main(["ingest", str(folder), "--quiet", "--strict"]) == 1
    good = tmp_path / "good"
    good.mkdir()
    (good / "fine.txt").write_text(text(11), encoding="utf-8")
    assert main(["ingest", str(good), "--quiet", "--strict"]) == 0


def test_a_parser_crash_inside_one_file_skips_only_that_file(make_library, folder, monkeypatch):
    real = loading.LOADERS[".html"]

    def crashing(data: bytes):
        raise RecursionError("maximum recursion depth exceeded")  # what a parser bug looks like

    monkeypatch.setitem(loading.LOADERS, ".html", crashing)
    library = make_library()
    report = ingest(library, [folder], progress=False)
    (skipped,) = report.skipped
    assert skipped.source.endswith("page.html") and "RecursionError" in skipped.reason
    assert report.count("added") == 5
    monkeypatch.setitem(loading.LOADERS, ".html", real)
    assert ingest(library, [folder], progress=False).count("added") == 1
    assert_consistent(library)


def test_a_failed_write_leaves_nothing_of_the_batch_and_loses_nothing(
    make_library, folder, monkeypatch, tmp_path, embedder
):
    library = make_library()
    ingest(library, [folder], progress=False)
    before, _ = state(library)
    (folder / "extra.txt").write_text(text(12), encoding="utf-8")
    (folder / "plain_notes.txt").write_text(text(3, "edited"), encoding="utf-8")
    real = library.catalog.replace_document

    def failing(record, passages, *rest):
        if record.key.endswith("plain_notes.txt"):  # the catalog write fails on the second document
            raise sqlite3.OperationalError("simulated failure")
        return real(record, passages, *rest)

    monkeypatch.setattr(library.catalog, "replace_document", failing)
    with pytest.raises(sqlite3.OperationalError, match="simulated failure"):
        ingest(library, [folder], progress=False)
    documents, _ = state(library)
    notes = next(k for k in documents if k.endswith("plain_notes.txt"))
    assert documents[notes] == before[notes]  # the old version is intact
    assert_consistent(library)  # and no vector of the failed document was left behind
    monkeypatch.setattr(library.catalog, "replace_document", real)
    report = ingest(library, [folder], progress=False)
    assert [f.status for f in report.files if f.source == notes] == ["updated"]
    clean = Library.open(Settings(data_dir=tmp_path / "clean"), embedder)
    ingest(clean, [folder], progress=False)
    assert state(library) == state(clean)


def test_parsing_in_worker_processes_stores_the_same_chunks(tmp_path, folder, embedder):
    for i in range(8):  # enough files for the workers to start
        (folder / f"extra-{i}.md").write_text(f"# Extra {i}\n\n" + text(20 + i), encoding="utf-8")
    stores = {}
    for workers in (1, 2):
        settings = Settings(data_dir=tmp_path / f"data-{workers}", parse_workers=workers)
        library = Library.open(settings, embedder)
        report = ingest(library, [folder], progress=False)
        assert report.count("added") == 14 and not report.skipped
        assert_consistent(library)
        stores[workers] = state(library)
    assert stores[2] == stores[1]


def test_a_file_named_twice_is_ingested_once(make_library, folder):
    (folder / "link.md").symlink_to(folder / "titled.md")
    library = make_library()
    named = [folder, folder / "titled.md", folder / "nowhere.md", folder / "nowhere.md"]
    report = ingest(library, named, progress=False)
    titled = [f for f in report.files if f.source.endswith("titled.md")]
    assert [f.status for f in titled] == ["added"]  # not a second write of the same chunk ids
    assert [f.status for f in report.files if f.source.endswith("link.md")] == []  # resolves to titled.md
    assert sum(f.source.endswith("nowhere.md") for f in report.files) == 1
    assert_consistent(library)
