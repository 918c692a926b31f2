"""The workbench's HTML: markup from documents, questions and answers stays text; evidence is marked."""

from __future__ import annotations

from pathlib import Path

from assistant.cli import main
from assistant.evaluation import Question
from assistant.evaluation.diff import Run
from assistant.evaluation.viewer_html import FAILURES, detail_html, filtered_ids, summary_html, table_html

HOSTILE = "<script>alert(1)</script> Partners <b>met</b> WEEKLY\n to  plan outreach."
PASSAGE = {"source": "docs/<img src=x>.md", "title": "<i>Notes</i>", "page": 2, "text": HOSTILE}
QUESTIONS = {
    "a1": Question("a1", "How often did <b>partners</b> meet?", True, ("met weekly to plan",), tags=("x",)),
    "u1": Question("u1", "Weather?", False, tags=("unanswerable",)),
}
RECORDS = {
    "a1": {
        "id": "a1",
        "question": QUESTIONS["a1"].question,
        "standalone_question": QUESTIONS["a1"].question,
        "answer": "<img src=x onerror=alert(2)> They met. [1]",
        "abstained": False,
        "citations": [{"n": 1, "source": "b.md", "title": "B", "page": None, "text": "They met."}],
        "retrieved": [{**PASSAGE, "score": 1.0}],
        "latency_ms": 5.0,
    },
    "u1": {
        "id": "u1",
        "question": "Weather?",
        "standalone_question": "Weather?",
        "answer": "Not covered.",
        "abstained": True,
        "citations": [],
        "retrieved": [],
        "latency_ms": 5.0,
    },
}
RUN = Run(Path("/runs/<b>run"), QUESTIONS, RECORDS, {"hit@5": 1.0, "intervals": {"hit@5": [0.5, 1.0]}})


def test_detail_escapes_everything_from_documents_questions_and_answers():
    page = detail_html(RUN, "a1")
    assert "<script" not in page and "<img" not in page and "<b>" not in page and "<i>" not in page
    assert "&lt;script&gt;" in page and "&lt;img src" in page
    assert "unsupported" in page and "evidence not retrieved" in page  # markup splits the phrase


def test_evidence_across_whitespace_and_case_is_highlighted():
    run = Run(
        Path("r"),
        {"a1": QUESTIONS["a1"]},
        {
            "a1": {
                **RECORDS["a1"],
                "retrieved": [{**PASSAGE, "text": "Partners met WEEKLY\n to  plan outreach.", "score": 1.0}],
            }
        },
        {},
    )
    page = detail_html(run, "a1")
    assert "<mark>met WEEKLY<br> to  plan</mark>" in page
    assert "evidence retrieved at rank 1" in page


def test_summary_and_table_filters():
    summary = summary_html([RUN])
    assert "&lt;b&gt;run" in summary and "[0.500–1.000]" in summary
    assert filtered_ids([RUN], "all", FAILURES, "") == ["a1"]
    assert filtered_ids([RUN], "unanswerable", "all", "") == ["u1"]
    assert filtered_ids([RUN], "all", "abstained right", "") == ["u1"]
    assert filtered_ids([RUN], "all", "all", "PARTNERS") == ["a1"]
    table = table_html([RUN], ["a1"])
    assert "<b>" not in table and "no cited passage holds the evidence" in table


def test_view_refuses_to_listen_beyond_loopback_without_auth(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("ASSISTANT_AUTH_USER", raising=False)
    monkeypatch.delenv("ASSISTANT_AUTH_PASSWORD", raising=False)
    assert main(["eval", "view", str(tmp_path), "--host", "0.0.0.0", "--data-dir", str(tmp_path)]) == 2
    assert "refusing to listen on 0.0.0.0" in capsys.readouterr().err
