"""A store built by an older chunking pipeline is re-chunked, not silently kept."""

from assistant.ingest import ingest
from assistant.settings import PROJECT_ROOT

DOCUMENT = PROJECT_ROOT / "corpus" / "communities-joined-in-action-findings.md"


def test_changing_the_chunk_size_rechunks_unchanged_files(make_library):
    first = ingest(make_library(), [DOCUMENT], progress=False)
    assert first.count("added") == 1

    smaller = make_library(chunk_tokens=60)
    report = ingest(smaller, [DOCUMENT], progress=False)
    assert report.count("updated") == 1, report.summary()
    assert smaller.catalog.chunk_count() > first.files[0].chunks
    assert smaller.vectors.all_ids() == smaller.catalog.chunk_ids()  # old chunks gone

    again = ingest(smaller, [DOCUMENT], progress=False)
    assert again.count("unchanged") == 1 and again.chunks_written == 0
