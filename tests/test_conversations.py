"""Stored conversations: real answers from the corpus go in as JSON and come back whole."""

from __future__ import annotations

import json

from assistant.ui import conversations as books
from assistant.ui.conversations import ChatTurn, ServerBooks

QUESTION = "Why does a backbone organization need stable funding?"


def test_a_stored_conversation_comes_back_with_its_citations_and_passages(corpus_assistant):
    answer = corpus_assistant.ask(QUESTION)
    follow = corpus_assistant.ask("Who funds it?", [{"role": "user", "content": QUESTION}])
    book, conversation_id = books.save(None, None, [ChatTurn(answer, {"top_k": 6})])
    book, same_id = books.save(book, conversation_id, [ChatTurn(answer, {"top_k": 6}), ChatTurn(follow)])
    assert same_id == conversation_id and len(books.conversations(book)) == 1

    stored = json.loads(json.dumps(book))  # what the browser or the server file holds
    back = books.turns_of(stored, conversation_id)
    assert [t.answer.question for t in back] == [QUESTION, "Who funds it?"]
    restored = back[0].answer
    assert restored.to_dict() == answer.to_dict() and back[0].config == {"top_k": 6}
    for original, citation in zip(answer.citations, restored.citations, strict=True):
        assert citation.passage.text[slice(*citation.span)] == original.sentence
        assert citation.location == original.location
    assert books.choices(stored)[0][0].startswith(QUESTION + " · ")


def test_rename_delete_order_and_size_limit(corpus_assistant, monkeypatch):
    first = [ChatTurn(corpus_assistant.ask(QUESTION))]
    second = [ChatTurn(corpus_assistant.ask("What motivates organizations to collaborate?"))]
    book, one = books.save(None, None, first)
    book, two = books.save(book, None, second)
    assert [c for _, c in books.choices(book)] == [two, one]  # newest first
    book, _ = books.save(book, one, first)
    assert [c for _, c in books.choices(book)] == [one, two]  # used again: back on top

    book = books.rename(book, two, "  Funding   <b>notes</b> ")
    assert books.find(book, two)["title"] == "Funding <b>notes</b>"
    assert books.find(books.rename(book, two, "   "), two)["title"] == "Funding <b>notes</b>"
    assert books.choices(books.delete(book, one)) == [(books.choices(book)[1][0], two)]

    size = len(json.dumps(book))
    monkeypatch.setattr(books, "MAX_BOOK_CHARS", size - 1)  # room for one conversation, not two
    book, three = books.save(book, None, first)
    assert [c for _, c in books.choices(book)] == [three, one]  # the oldest went


def test_foreign_or_broken_data_is_an_empty_book():
    for junk in (None, "x", [], {"conversations": "x"}, {"conversations": [{"id": "a"}, 3]}):
        assert books.conversations(junk) == [] and books.choices(junk) == []
        assert books.turns_of(junk, "a") == []


def test_server_books_are_per_user(tmp_path, corpus_assistant):
    store = ServerBooks(tmp_path / "conversations")
    book, _ = books.save(None, None, [ChatTurn(corpus_assistant.ask(QUESTION))])
    store.store("ana", book)
    assert books.conversations(store.load("ana"))[0]["title"] == QUESTION
    assert store.load("ben") == books.empty_book()
    assert store.path("../../etc/passwd").parent == tmp_path / "conversations"
    store.path("ben").write_text("{not json")
    assert store.load("ben") == books.empty_book()
