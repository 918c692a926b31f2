"""A short document that is the best found, and of which only its set-up was found, is read whole
(retrieval.LibrarySearch.read_whole, Assistant._retrieve): real files, real store, real model."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.answering.turn import Turn
from assistant.assistant import Assistant
from assistant.ingest import ingest
from assistant.library import Library
from assistant.settings import RetrievalSettings

QUESTION = (
    "Can community health workers teaching asthma self-management at home help children in"
    " low-income neighborhoods?"
)
# A structured abstract of three chunks at 60 tokens a chunk: its background restates the question
# (the chunk the question finds), its results and conclusions are in later chunks.
ABSTRACT = """# Home visits and childhood asthma

## Background

Children with asthma in low-income neighborhoods often visit the emergency department. Community
health workers can visit families at home to teach asthma self-management and remove triggers.

## Methods

We randomized 240 families of children with asthma to home visits by community health workers or
to usual clinic care, and followed them for twelve months using hospital records.

## Results

Emergency department visits fell by 38% in the visited group compared with usual care (p = 0.01),
and missed school days fell by a quarter.

## Conclusions

The visits cut emergency care and lost school time within a year.
"""
OTHERS = {
    "orchards.md": "Apple orchards in the valley rely on migrant pickers each autumn.",
    "housing.md": "Housing navigators help families find stable homes near clinics and schools in the city.",
    "budgets.md": "Municipal budgets for road repair doubled after the storms of the previous winter.",
}


@pytest.fixture
def abstracts(tmp_path: Path, make_library) -> Library:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "asthma.md").write_text(ABSTRACT, encoding="utf-8")
    for name, text in OTHERS.items():
        (folder / name).write_text(f"# {name[:-3].title()}\n\n{text}\n", encoding="utf-8")
    library = make_library(chunk_tokens=60)
    ingest(library, [folder], progress=False)
    return library


def asthma_chunks(library: Library) -> int:
    return next(d.chunk_count for d in library.documents() if d.key.endswith("asthma.md"))


def test_the_rest_of_a_short_best_document_is_read_after_its_passages(abstracts: Library):
    assistant = Assistant(abstracts.settings, abstracts)
    assert 2 <= asthma_chunks(abstracts) <= 3
    found, vector = assistant.search.search(QUESTION, RetrievalSettings(k=2, max_per_document=1))
    assert found[0].source.endswith("asthma.md") and not any(p.read_along for p in found)

    whole = assistant.search.read_whole(found, vector, documents=1, wanted=lambda passages: True)
    added = [p for p in whole if p.read_along]
    assert added and all(p.source == found[0].source for p in added)
    assert len(added) == asthma_chunks(abstracts) - 1
    assert whole[: 1 + len(added)] == [found[0], *added]  # right after the document's passage found
    assert whole[1 + len(added) :] == found[1:]
    assert all(p.relevance is not None and -1 <= p.relevance <= 1 for p in added)
    assert any("fell by 38%" in p.text for p in added)  # the finding, not found by the search

    unwanted = assistant.search.read_whole(found, vector, documents=1, wanted=lambda passages: False)
    assert unwanted == found


def test_a_long_document_is_not_read_whole(abstracts: Library):
    assistant = Assistant(abstracts.settings, abstracts)
    found, vector = assistant.search.search(QUESTION, RetrievalSettings(k=2, max_per_document=1))
    long_document = [
        p.__class__(**{**p.__dict__, "metadata": {**p.metadata, "document_chunks": 9}}) for p in found
    ]
    assert assistant.search.read_whole(long_document, vector, 1, lambda passages: True) == long_document


def test_the_answer_quotes_the_finding_of_a_chunk_read_along(abstracts: Library):
    """With 2 passages of at most 1 per document retrieved, only the abstract's background is found;
    its finding comes from a later chunk, and the answer's retrieved list stays what was found."""
    settings = abstracts.settings.model_copy(update={"retrieval": RetrievalSettings(k=2, max_per_document=1)})
    assistant = Assistant(settings, abstracts)
    turn = assistant.prepare(Turn(QUESTION))
    found_first = [p for p in turn.passages if p.source.endswith("asthma.md") and not p.read_along]
    assert found_first and assistant.extractive.sets_up_only(found_first)
    answer = assistant.ask(QUESTION)
    assert not answer.abstained
    assert any("38%" in c.sentence or "cut emergency care" in c.sentence for c in answer.citations)
    assert any(c.passage.read_along for c in answer.citations)
    assert not any(p.read_along for p in answer.retrieved)


def test_nothing_is_read_along_when_the_best_document_does_not_stand_out(abstracts: Library):
    settings = abstracts.settings.model_copy(
        update={"retrieval": RetrievalSettings(k=2, max_per_document=1, whole_document_lead=1.0)}
    )
    turn = Assistant(settings, abstracts).prepare(Turn(QUESTION))
    assert not any(p.read_along for p in turn.passages)
