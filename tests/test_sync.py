"""Scale-out: two app instances, each with its own catalog, sharing one real `chroma run` server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import benchmark_script

from assistant.chunking import embedding_text
from assistant.ingest import ingest
from assistant.library import Library
from assistant.retrieval import LibrarySearch
from assistant.settings import RetrievalSettings, Settings
from assistant.sync import sync

bench = benchmark_script("bench")  # benchmarks/bench.py, by its path
chroma_server, free_port = bench.chroma_server, bench.free_port
pytestmark = pytest.mark.server


@pytest.fixture
def instances(tmp_path: Path, embedder) -> Iterator[tuple[Library, Library, Path]]:
    """Two app instances (own data dirs) on one real `chroma run`, and a folder of two documents."""
    port = free_port()
    (tmp_path / "server").mkdir()
    server = chroma_server(tmp_path / "server", port)
    try:
        a, b = (
            Library.open(Settings(data_dir=tmp_path / n, chroma_host="127.0.0.1", chroma_port=port), embedder)
            for n in ("a", "b")
        )
        files = tmp_path / "files"
        files.mkdir()
        (files / "trust.md").write_text("# Building trust\n\nHealth workers build trust with people.\n")
        (files / "money.md").write_text("# Funding\n\nBlended funding pools pay for shared staff.\n")
        yield a, b, files
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_sync_shares_documents_between_instances_and_ingest_keeps_the_others(instances):
    a, b, files = instances
    trust, money = (str((files / name).resolve()) for name in ("trust.md", "money.md"))
    assert ingest(a, [files / "trust.md"], progress=False).count("added") == 1

    # B's own ingest must not delete A's vectors as "orphans" of B's catalog.
    assert ingest(b, [files / "money.md"], progress=False).count("added") == 1
    assert a.vectors.count() == 2 and b.catalog.document(trust) is None

    # After a sync B knows A's document, and BM25 (B's own FTS5 index) finds it.
    report = sync(b)
    assert report.added == [trust] and report.unchanged == 1
    assert b.catalog.document(trust).title == "Building trust"
    hits, _ = LibrarySearch(b).search("health workers trust", RetrievalSettings(mode="bm25"))
    assert hits and "trust" in hits[0].text
    assert sync(a).added == [money]

    # A removes its document; B's next sync drops it from B's catalog.
    a.remove(trust)
    assert sync(b).removed == [trust]
    assert [d.title for d in b.catalog.documents()] == ["Funding"]


def test_an_instance_cleans_its_own_uncommitted_vectors_and_only_its_own(instances):
    """A run killed between writing a new document's vectors and committing its catalog entry. The
    kill is simulated in-process: a KeyboardInterrupt at the commit escapes the write's clean-up,
    as a SIGKILL would (tests/test_faults.py kills real processes against a local store)."""
    a, b, files = instances
    assert a.catalog.instance_id != b.catalog.instance_id
    assert ingest(b, [files / "money.md"], progress=False).count("added") == 1

    def killed(*_):
        raise KeyboardInterrupt

    a.catalog.replace_document = killed
    with pytest.raises(KeyboardInterrupt):
        ingest(a, [files / "trust.md"], progress=False)
    del a.catalog.replace_document
    assert a.vectors.count() == 2 and a.catalog.chunk_count() == 0  # an orphan on the server

    ingest(b, [files / "money.md"], progress=False)  # B must leave A's (maybe in-flight) vectors be
    assert b.vectors.count() == 2
    assert a.reconcile() == 1  # A's next run removes its own orphan
    assert [m["source"] for m in a.vectors.metadatas().values()] == [str((files / "money.md").resolve())]
    assert ingest(a, [files / "trust.md"], progress=False).count("added") == 1
    assert a.vectors.count() == 2


def test_sentence_vectors_reach_other_instances_and_old_stores_are_upgraded(instances, model_passes):
    """A's sentence vectors ride in the chunks' metadata: B's sync stores them without embedding.
    A store from before sentence vectors (none in the catalog, none on the server) is upgraded by
    A's next ingest, server included: each chunk's text goes through the model once for its
    sentences, and no chunk vector is written again; B's next sync takes them."""
    a, b, files = instances
    assert ingest(a, [files], progress=False).count("added") == 2
    texts = model_passes
    texts.clear()

    report = sync(b)
    assert report.added and report.sentence_vectors == a.catalog.chunk_count() and texts == []
    ids = sorted(a.catalog.chunk_ids())
    version = a.sentence_version
    assert b.catalog.sentence_vectors(ids, version) == a.catalog.sentence_vectors(ids, version)

    # Both as they were before sentence vectors existed.
    for library in (a, b):
        with library.catalog.transaction() as db:
            db.execute("DELETE FROM sentence_vectors")
    a.vectors.update_metadata(ids, [{"sentences": None, "sentences_version": None}] * len(ids))
    assert sync(b).sentence_vectors == 0

    chunk_vectors = a.vectors.embeddings(ids)
    assert ingest(a, [files], progress=False).count("unchanged") == 2
    chunks = [embedding_text(p.title, p.section, p.text) for p in a.catalog.passages(ids).values()]
    assert sorted(texts) == sorted(chunks)  # one pass per chunk, for its sentences
    assert all(np.array_equal(chunk_vectors[i], v) for i, v in a.vectors.embeddings(ids).items())
    assert all("sentences" in m for m in a.vectors.metadatas().values())
    texts.clear()
    assert sync(b).sentence_vectors == len(ids) and texts == []
    assert b.catalog.chunks_lacking_sentence_vectors(b.sentence_version) == []
