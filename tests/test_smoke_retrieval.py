"""For one question per seed document, a passage from that document ranks in the top 3."""

import pytest

from assistant.settings import RetrievalSettings

QUESTIONS = {
    "relational-organizing-covid19.md": (
        "How did relational organizing help COVID-19 response collaborations?"
    ),
    "multisector-partnership-strategies.md": "How can a partnership share power among its members?",
    "communities-joined-in-action-findings.md": "Why does a backbone organization need stable funding?",
    "health-care-organizations-partnering-with-cbos.md": (
        "How do health care organizations work with CBOs on social care?"
    ),
    "health-social-sector-collaboration-motivations.md": (
        "What frustrations did social sector organizations voice about health sector partners?"
    ),
}


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
@pytest.mark.parametrize(("document", "question"), QUESTIONS.items())
def test_seed_document_ranks_in_top_3(corpus_assistant, document, question, mode):
    passages, _ = corpus_assistant.search.search(question, RetrievalSettings(mode=mode, k=3))
    assert document in [p.source.rsplit("/", 1)[-1] for p in passages]


def test_langchain_retriever_returns_the_search_ranking_as_documents(corpus_assistant):
    from assistant.retrieval import LibraryRetriever

    question = "Why does a backbone organization need stable funding?"
    retriever = LibraryRetriever(searcher=corpus_assistant.search, config=RetrievalSettings(k=4))
    documents = retriever.invoke(question)
    passages, _ = corpus_assistant.search.search(question, RetrievalSettings(k=4))
    assert [d.id for d in documents] == [p.id for p in passages]
    assert documents[0].metadata["passage"].text == documents[0].page_content
