"""Sentence vectors made at ingest in the chunk's own pass and stored with it: a question embeds only
itself, an old store is upgraded without writing its chunk vectors again, a new way of making them is
applied to every chunk on the next ingest."""

from __future__ import annotations

import numpy as np

from assistant import sentences
from assistant.answering.citations import passage_sentences
from assistant.answering.extractive import SentenceVectors
from assistant.assistant import Assistant
from assistant.chunking import embedding_text
from assistant.ingest import ingest
from assistant.settings import PROJECT_ROOT
from assistant.types import Passage

CORPUS = PROJECT_ROOT / "corpus"


def chunk_texts(library) -> set[str]:
    passages = library.catalog.passages(library.catalog.chunk_ids()).values()
    return {embedding_text(p.title, p.section, p.text) for p in passages}


def pooled_independently(embedder, text: str, span: tuple[int, int]) -> np.ndarray:
    """The mean of the span's token embeddings, by sentence-transformers' own token output."""
    tokens = embedder.model.encode(text, output_value="token_embeddings").numpy()
    window = embedder.model.max_seq_length
    offsets = embedder.model.tokenizer(text, truncation=True, max_length=window, return_offsets_mapping=True)
    inside = [k for k, (a, b) in enumerate(offsets["offset_mapping"]) if b > a and span[0] <= a < span[1]]
    mean = tokens[inside].mean(axis=0)
    return mean / np.linalg.norm(mean)


def test_ingest_makes_chunk_and_sentence_vectors_in_one_pass(make_library, embedder, model_passes):
    library = make_library()
    ingest(library, [CORPUS / "communities-joined-in-action-findings.md"], progress=False)
    passages = list(library.catalog.passages(library.catalog.chunk_ids()).values())
    texts = {p.id: embedding_text(p.title, p.section, p.text) for p in passages}
    assert sorted(model_passes) == sorted(texts.values())  # each chunk through the model once, no sentence
    chunk_vectors = library.vectors.embeddings(list(texts))
    alone = embedder.encode([texts[p.id] for p in passages])
    assert all(abs(float(chunk_vectors[p.id] @ v) - 1) < 1e-4 for p, v in zip(passages, alone, strict=True))

    stored = library.sentence_vectors(list(texts))
    assert set(stored) == set(texts)
    for passage in passages:
        sentence_list = passage_sentences(passage)
        by_span = stored[passage.id].by_span()
        assert list(by_span) == [s.span for s in sentence_list]
        shift = len(texts[passage.id]) - len(passage.text)  # the title line before the passage text
        for sentence in sentence_list:
            span = (sentence.span[0] + shift, sentence.span[1] + shift)
            expected = pooled_independently(embedder, texts[passage.id], span)
            assert float(by_span[sentence.span].astype(np.float32) @ expected) > 0.999, sentence.text


def test_a_question_embeds_only_itself(make_library, model_passes):
    library = make_library()
    ingest(library, [CORPUS], progress=False)
    bot = Assistant(library.settings, library)
    model_passes.clear()
    answer = bot.ask("How do we share power with a new CBO?")
    assert answer.citations and not answer.abstained
    assert model_passes == ["How do we share power with a new CBO?"]


def test_an_old_store_is_upgraded_without_writing_its_chunk_vectors_again(make_library, model_passes):
    library = make_library()
    ingest(library, [CORPUS], progress=False)
    before = library.vectors.embeddings(sorted(library.catalog.chunk_ids()))
    with library.catalog.transaction() as db:  # what a catalog from before sentence vectors holds
        db.execute("DELETE FROM sentence_vectors")
    model_passes.clear()

    report = ingest(make_library(), [CORPUS], progress=False)  # as a new process would open it
    assert report.count("unchanged") == 5 and report.chunks_written == 0, report.summary()
    assert sorted(model_passes) == sorted(chunk_texts(library))  # one pass per chunk, for its sentences
    assert library.catalog.chunks_lacking_sentence_vectors(library.sentence_version) == []
    after = library.vectors.embeddings(sorted(before))
    assert all(np.array_equal(before[i], after[i]) for i in before)

    model_passes.clear()
    ingest(make_library(), [CORPUS], progress=False)
    assert model_passes == []  # upgraded once


def test_a_new_way_of_making_them_remakes_every_chunks_sentences_only(
    make_library, model_passes, monkeypatch
):
    library = make_library()
    ingest(library, [CORPUS], progress=False)
    count = library.catalog.chunk_count()
    before = library.vectors.embeddings(sorted(library.catalog.chunk_ids()))
    model_passes.clear()
    monkeypatch.setattr(sentences, "SENTENCE_METHOD", sentences.SENTENCE_METHOD + 1)
    report = ingest(make_library(), [CORPUS], progress=False)
    assert report.count("unchanged") == 5 and report.chunks_written == 0
    assert sorted(model_passes) == sorted(chunk_texts(library))
    versions = library.catalog.db.execute("SELECT DISTINCT version FROM sentence_vectors").fetchall()
    assert [v[0] for v in versions] == [library.sentence_version]
    assert library.catalog.chunk_count() == count
    after = library.vectors.embeddings(sorted(before))
    assert all(np.array_equal(before[i], after[i]) for i in before)


def test_removing_a_document_removes_its_sentence_vectors(make_library):
    library = make_library()
    ingest(library, [CORPUS], progress=False)
    key = library.catalog.documents()[0].key
    ids = library.catalog.chunk_ids(key)
    assert library.remove(key)
    rows = library.catalog.db.execute("SELECT chunk_id FROM sentence_vectors").fetchall()
    assert not ids & {r[0] for r in rows}
    assert {r[0] for r in rows} == library.catalog.chunk_ids()


def test_a_sentence_past_the_models_window_is_encoded_alone(embedder):
    """Chunking keeps every chunk inside the window; a passage that isn't (a longer chunk_tokens,
    another model) still gets a vector for every sentence."""
    text = " ".join(f"Partner number {i} met the clinic staff every week in the spring." for i in range(40))
    passage = Passage("long", text, "long.txt", "Long")
    (vector,), (made,) = sentences.encode_passages(embedder, [passage])
    by_span = made.by_span()
    sentence_list = passage_sentences(passage)
    assert len(by_span) == len(sentence_list) == 40
    last = sentence_list[-1]
    alone = embedder.encode([last.text])[0]
    assert float(by_span[last.span].astype(np.float32) @ alone) > 0.999  # past the window: alone
    first = sentence_list[0]
    assert float(by_span[first.span].astype(np.float32) @ embedder.encode([first.text])[0]) < 0.999
    assert abs(float(vector @ embedder.encode([embedding_text("Long", "", text)])[0]) - 1) < 1e-4


def test_a_passage_with_none_stored_is_pooled_the_same_way_at_question_time(corpus_library, embedder):
    passages = list(corpus_library.catalog.passages(sorted(corpus_library.catalog.chunk_ids())[:4]).values())
    sentence_list = [s for p in passages for s in passage_sentences(p)]
    stored = SentenceVectors(embedder, corpus_library.sentence_vectors)(sentence_list)
    made_now = SentenceVectors(embedder)(sentence_list)
    assert np.allclose((stored * made_now).sum(axis=1), 1, atol=1e-3)


def test_stored_spans_that_no_longer_match_the_sentences_are_encoded_anew(embedder):
    """A store made when sentences were split otherwise (an inline list cut into items) still answers:
    the passage is pooled again at question time instead of failing on a span it lacks."""
    text = "Surveys identify (a) major issues, (b) key people, and (c) obstacles. They help plan."
    passage = Passage("listed", text, "listed.txt", "Listed")
    old_split = sentences.ChunkSentences(
        np.array([[0, 34], [35, 69], [70, 83]], dtype=np.int32), np.ones((3, 384), dtype=np.float16)
    )
    sentence_list = passage_sentences(passage)
    assert sentence_list[0].text.endswith("(c) obstacles.")
    vectors = SentenceVectors(embedder, lambda ids: {"listed": old_split})(sentence_list)
    made_now = SentenceVectors(embedder)(sentence_list)
    assert np.allclose((vectors * made_now).sum(axis=1), 1, atol=1e-3)


def test_an_edited_document_embeds_only_the_chunks_that_changed(make_library, model_passes, tmp_path):
    """A chunk that reads as before (an edit elsewhere in its file, or a new chunker that cut it the
    same way) keeps its stored vectors: the model sees only the new text."""
    document = tmp_path / "findings.md"
    document.write_text((CORPUS / "communities-joined-in-action-findings.md").read_text(encoding="utf-8"))
    library = make_library()
    ingest(library, [document], progress=False)
    before = {
        embedding_text(p.title, p.section, p.text): p.id
        for p in library.catalog.passages(library.catalog.chunk_ids()).values()
    }
    old_vectors = library.vectors.embeddings(list(before.values()))
    model_passes.clear()

    added = "\n\n## A note added later\n\nThe coalition met again in the spring and agreed on new goals.\n"
    document.write_text(document.read_text(encoding="utf-8") + added)
    report = ingest(library, [document], progress=False)
    assert report.count("updated") == 1
    after = library.catalog.passages(library.catalog.chunk_ids()).values()
    texts = {embedding_text(p.title, p.section, p.text): p.id for p in after}
    changed = [t for t in texts if t not in before]
    assert changed and len(changed) < len(texts) / 2
    assert sorted(model_passes) == sorted(changed)  # only new text went through the model
    reused = len(texts) - len(changed)
    assert report.chunks_kept == reused
    assert f"({len(changed)} embedded, {reused} reused)" in report.summary()
    new_vectors = library.vectors.embeddings(list(texts.values()))
    for text in set(texts) & set(before):
        assert np.allclose(new_vectors[texts[text]], old_vectors[before[text]])
    stored = library.sentence_vectors(list(texts.values()))
    assert set(stored) == set(texts.values())  # every chunk, kept or new, has its sentence vectors
    assert library.vectors.all_ids() == library.catalog.chunk_ids()


def test_a_document_with_a_long_oddly_spaced_title_keeps_its_unchanged_chunks(
    make_library, model_passes, tmp_path
):
    """Chunks carry the title spaces normalized and a long one cut (what the model reads); the catalog
    keeps the document's own title. Reuse must compare what was embedded: 161 of SciFact's chunks
    (long titles, trailing spaces) were embedded again on every re-chunk before."""
    title = "A   study of partnerships " + " ".join(f"word{n}" for n in range(60)) + "  "
    manifest = f"documents:\n  - file: report.md\n    title: '{title}'\n"
    (tmp_path / "library.yaml").write_text(manifest, encoding="utf-8")
    document = tmp_path / "report.md"
    text = (CORPUS / "communities-joined-in-action-findings.md").read_text(encoding="utf-8")
    document.write_text(text, encoding="utf-8")
    library = make_library()
    ingest(library, [document], progress=False)
    stored = library.catalog.passages(library.catalog.chunk_ids()).values()
    assert {p.title for p in stored} == {title}  # the catalog shows the title as given
    model_passes.clear()

    document.write_text(text + "\n\n## Later\n\nThe coalition met again in the spring and set new goals.\n")
    report = ingest(library, [document], progress=False)
    assert report.count("updated") == 1
    assert len(model_passes) == report.chunks_written - report.chunks_kept >= 1
    assert report.chunks_kept >= report.chunks_written - 2  # only the chunk(s) the edit touched
