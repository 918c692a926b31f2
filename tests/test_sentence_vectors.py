"""Sentence vectors made once at ingest and stored with their chunk: a question embeds only itself,
an old store is upgraded without embedding its chunks again, a new way of making them is applied to
every chunk on the next ingest."""

from __future__ import annotations

import numpy as np
import pytest

from assistant import sentences
from assistant.answering.citations import passage_sentences
from assistant.assistant import Assistant
from assistant.chunking import embedding_text
from assistant.ingest import ingest
from assistant.settings import PROJECT_ROOT

CORPUS = PROJECT_ROOT / "corpus"


@pytest.fixture
def encoded(monkeypatch, embedder) -> list[str]:
    """The real embedder, recording every text it is asked to embed."""
    texts: list[str] = []
    real = embedder.encode

    def recording(batch, **kwargs):
        texts.extend(batch)
        return real(batch, **kwargs)

    monkeypatch.setattr(embedder, "encode", recording)
    return texts


def chunk_texts(library) -> set[str]:
    passages = library.catalog.passages(library.catalog.chunk_ids()).values()
    return {embedding_text(p.title, p.section, p.text) for p in passages}


def test_ingest_stores_each_sentence_vector_as_if_encoded_alone(make_library, embedder):
    library = make_library()
    ingest(library, [CORPUS / "communities-joined-in-action-findings.md"], progress=False)
    passages = list(library.catalog.passages(library.catalog.chunk_ids()).values())
    stored = library.sentence_vectors([p.id for p in passages])
    assert set(stored) == {p.id for p in passages}
    for passage in passages:
        sentence_list = passage_sentences(passage)
        by_span = stored[passage.id].by_span()
        assert list(by_span) == [s.span for s in sentence_list]
        alone = embedder.encode([s.text for s in sentence_list])
        kept = np.stack([by_span[s.span] for s in sentence_list]).astype(np.float32)
        assert np.abs((kept * alone).sum(axis=1) - 1).max() < 1e-3  # float16 storage: cosine ~1


def test_a_question_embeds_only_itself(make_library, encoded):
    library = make_library()
    ingest(library, [CORPUS], progress=False)
    bot = Assistant(library.settings, library)
    encoded.clear()
    answer = bot.ask("How do we share power with a new CBO?")
    assert answer.citations and not answer.abstained
    assert encoded == ["How do we share power with a new CBO?"]


def test_an_old_store_is_upgraded_without_embedding_its_chunks_again(make_library, encoded):
    library = make_library()
    ingest(library, [CORPUS], progress=False)
    before = library.vectors.embeddings(sorted(library.catalog.chunk_ids()))
    with library.catalog.transaction() as db:  # what a catalog from before sentence vectors holds
        db.execute("DELETE FROM sentence_vectors")
    encoded.clear()

    report = ingest(make_library(), [CORPUS], progress=False)  # as a new process would open it
    assert report.count("unchanged") == 5 and report.chunks_written == 0, report.summary()
    assert encoded  # the sentences were encoded ...
    assert not set(encoded) & chunk_texts(library)  # ... and not one chunk text
    assert library.catalog.chunks_lacking_sentence_vectors(library.sentence_version) == []
    after = library.vectors.embeddings(sorted(before))
    assert all(np.array_equal(before[i], after[i]) for i in before)

    encoded.clear()
    ingest(make_library(), [CORPUS], progress=False)
    assert encoded == []  # upgraded once


def test_a_new_way_of_making_them_remakes_every_chunks_sentences_only(make_library, encoded, monkeypatch):
    library = make_library()
    ingest(library, [CORPUS], progress=False)
    count = library.catalog.chunk_count()
    encoded.clear()
    monkeypatch.setattr(sentences, "SENTENCE_METHOD", sentences.SENTENCE_METHOD + 1)
    report = ingest(make_library(), [CORPUS], progress=False)
    assert report.count("unchanged") == 5
    assert encoded and not set(encoded) & chunk_texts(library)
    versions = library.catalog.db.execute("SELECT DISTINCT version FROM sentence_vectors").fetchall()
    assert [v[0] for v in versions] == [library.sentence_version]
    assert library.catalog.chunk_count() == count


def test_removing_a_document_removes_its_sentence_vectors(make_library):
    library = make_library()
    ingest(library, [CORPUS], progress=False)
    key = library.catalog.documents()[0].key
    ids = library.catalog.chunk_ids(key)
    assert library.remove(key)
    rows = library.catalog.db.execute("SELECT chunk_id FROM sentence_vectors").fetchall()
    assert not ids & {r[0] for r in rows}
    assert {r[0] for r in rows} == library.catalog.chunk_ids()
