"""A citation names the heading right above its sentence: headings kept per chunk, through the
catalog and a sync from the vector store, and the uploaded file goes with a deleted document."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from assistant.ingest import document_key, ingest
from assistant.library import Library
from assistant.settings import PROJECT_ROOT, Settings
from assistant.sync import sync
from assistant.ui.uploads import store_upload

FINDINGS = PROJECT_ROOT / "corpus" / "communities-joined-in-action-findings.md"


def test_headings_survive_the_catalog_and_a_sync(make_library):
    library = make_library()
    ingest(library, [FINDINGS], progress=False)
    key = library.catalog.documents()[0].key
    before = library.catalog.passages(library.catalog.chunk_ids(key))
    funding = next(p for p in before.values() if "Stable funding for a backbone" in p.text)
    offset = funding.text.index("Stable funding for a backbone")
    assert funding.section_at(offset) == "Funding Stability is Integral"
    assert funding.section != "Funding Stability is Integral"  # the chunk starts under another heading
    assert all(funding.text[at:].startswith(h) for at, h in funding.headings)

    library.catalog.remove_document(key)  # the vectors stay: sync rebuilds the catalog from them
    assert sync(library).added == [key]
    after = library.catalog.passages(before)
    assert {i: p.headings for i, p in after.items()} == {i: p.headings for i, p in before.items()}


def test_the_answer_cites_the_section_of_its_sentence(corpus_assistant):
    answer = corpus_assistant.ask("Why does a backbone organization need stable funding?")
    funding = [c for c in answer.citations if c.sentence.startswith("Stable funding for a backbone")]
    assert funding and {c.location for c in funding} == {"Funding Stability is Integral"}
    assert "Funding Stability is Integral" in {c["location"] for c in answer.to_dict()["citations"]}


def test_deleting_an_uploaded_document_removes_its_file_and_never_a_corpus_file(embedder, tmp_path):
    (PROJECT_ROOT / "data").mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="test-delete-", dir=PROJECT_ROOT / "data"))
    try:
        settings = Settings(data_dir=folder)  # inside the project, like ./data: keys are relative
        library = Library.open(settings, embedder)
        source = tmp_path / "notes.md"
        source.write_text("# Pantry notes\n\nThe pantry partners with two clinics.\n")
        stored = store_upload(source, "notes.md", settings.uploads_dir, 5).path
        ingest(library, [stored, FINDINGS], progress=False)
        key = document_key(stored)
        assert not Path(key).is_absolute() and library.uploaded_file(key) == stored

        assert library.delete(key) == (True, True)
        assert not stored.exists() and library.catalog.document(key) is None

        corpus_key = document_key(FINDINGS)
        assert library.uploaded_file(corpus_key) is None
        assert library.delete(corpus_key) == (True, False)
        assert FINDINGS.is_file()

        link = settings.uploads_dir / "link.md"
        link.symlink_to(FINDINGS)
        assert library.uploaded_file(document_key(link)) is None  # a link is never followed
    finally:
        shutil.rmtree(folder, ignore_errors=True)
