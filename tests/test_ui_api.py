"""The chat UI's API through gradio_client (Gradio's own Python client), against a real server."""

from __future__ import annotations

import httpx
import pytest
from gradio_client import Client

from assistant import cli
from assistant.ui.app import auth_for, build, launch

QUESTION = "Why does a backbone organization need stable funding?"


@pytest.fixture(scope="module")
def server(corpus_assistant):
    demo = build(corpus_assistant)
    _, url, _ = launch(
        demo, corpus_assistant.settings, "127.0.0.1", None, prevent_thread_lock=True, quiet=True
    )
    yield url
    demo.close()


@pytest.fixture(scope="module")
def client(server):
    return Client(server, verbose=False)


def test_ask_returns_a_cited_answer(client):
    answer = client.predict(question=QUESTION, api_name="/ask")
    assert not answer["abstained"] and answer["citations"]
    for citation in answer["citations"]:
        assert f"[{citation['number']}]" in answer["text"]
        start, end = citation["span"]
        assert citation["passage"]["text"][start:end] == citation["sentence"]


def test_follow_up_uses_the_history(client):
    history = [
        {"role": "user", "content": "What is a backbone organization?"},
        {"role": "assistant", "content": "A backbone organization coordinates a partnership."},
    ]
    answer = client.predict(question="Why does it need stable funding?", history=history, api_name="/ask")
    assert "backbone" in answer["standalone_question"].lower()
    assert (
        "backbone"
        not in client.predict(question="Why does it need stable funding?", api_name="/ask")[
            "standalone_question"
        ].lower()
    )


def test_filters_limit_the_sources(client, corpus_library):
    key = next(d.key for d in corpus_library.catalog.documents() if "motivations" in d.key)
    answer = client.predict(question=QUESTION, sources=[key], api_name="/ask")
    assert answer["retrieved"] and {p["source"] for p in answer["retrieved"]} == {key}


def test_top_k_sets_the_number_of_passages(client):
    assert len(client.predict(question=QUESTION, api_name="/ask")["retrieved"]) == 6
    assert len(client.predict(question=QUESTION, top_k=2, api_name="/ask")["retrieved"]) == 2


def test_off_topic_question_abstains(client):
    answer = client.predict(question="What is the boiling point of mercury in kelvin?", api_name="/ask")
    assert answer["abstained"] and not answer["citations"] and answer["retrieved"]


def test_chat_endpoint_streams_then_renders_sources(client):
    job = client.submit(message=QUESTION, api_name="/chat")
    final = job.result(timeout=120)
    updates = job.outputs()
    assert len(updates) >= 3  # placeholder, text pieces, final
    streaming = [u[1][-1]["content"] for u in updates[:-1]]
    assert any("pa-streaming" in str(s) for s in streaming)
    last = str(final[1][-1]["content"])
    assert 'class="pa-cite"' in last and "<mark>" in last and "pa-streaming" not in last
    assert final[0] == ""  # the question box is cleared


def test_new_conversation_clears_the_sessions_history(server):
    client = Client(server, verbose=False)  # its own session
    client.predict(message=QUESTION, api_name="/chat")
    assert len(client.predict(message="Who funds it?", api_name="/chat")[1]) == 4  # two turns
    client.predict(api_name="/new_conversation")
    fresh = client.predict(message=QUESTION, api_name="/chat")[1]
    assert len(fresh) == 2 and QUESTION in str(fresh[0]["content"])


def test_auth_is_enforced_when_configured(corpus_assistant):
    settings = corpus_assistant.settings.model_copy(update={"auth_user": "coord", "auth_password": "s3cret"})
    demo = build(corpus_assistant, settings)
    _, url, _ = launch(demo, settings, "127.0.0.1", None, prevent_thread_lock=True, quiet=True)
    try:
        assert httpx.get(f"{url}config", timeout=10).status_code == 401
        with pytest.raises(Exception):  # noqa: B017  (the client fails in its own way without login)
            Client(url, verbose=False)
        answer = Client(url, auth=("coord", "s3cret"), verbose=False).predict(
            question=QUESTION, api_name="/ask"
        )
        assert answer["citations"]
    finally:
        demo.close()


def test_public_host_needs_credentials(corpus_settings, monkeypatch, capsys):
    assert auth_for("127.0.0.1", corpus_settings) is None
    assert auth_for("::1", corpus_settings) is None
    with pytest.raises(ValueError, match=r"refusing to listen on 0\.0\.0\.0"):
        auth_for("0.0.0.0", corpus_settings)
    with_auth = corpus_settings.model_copy(update={"auth_user": "u", "auth_password": "p"})
    assert auth_for("0.0.0.0", with_auth) == ("u", "p")

    monkeypatch.delenv("ASSISTANT_AUTH_USER", raising=False)
    monkeypatch.delenv("ASSISTANT_AUTH_PASSWORD", raising=False)
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", "7999"]) == 2
    assert "ASSISTANT_AUTH_USER and ASSISTANT_AUTH_PASSWORD" in capsys.readouterr().err
