"""The regression gate: the gold questions over the corpus store must stay at or above the recorded
thresholds (evals/thresholds.json); and `assistant eval` writes what it promises."""

from __future__ import annotations

import json

import pytest

from assistant.cli import main
from assistant.evaluation import load_questions, run_eval
from assistant.evaluation.report import GATED
from assistant.settings import PROJECT_ROOT

QUESTIONS = PROJECT_ROOT / "evals" / "questions.jsonl"
THRESHOLDS = json.loads((PROJECT_ROOT / "evals" / "thresholds.json").read_text())
RECORD_KEYS = {
    "id",
    "question",
    "standalone_question",
    "answer",
    "abstained",
    "citations",
    "retrieved",
    "latency_ms",
}


@pytest.fixture(scope="module")
def gold_run(corpus_assistant):
    questions = load_questions(QUESTIONS)
    records, summary = run_eval(corpus_assistant, questions, progress=False)
    return questions, records, summary


@pytest.mark.parametrize("metric", sorted(THRESHOLDS["thresholds"]))
def test_metric_stays_above_threshold(gold_run, metric):
    summary = gold_run[2]
    assert summary[metric] >= THRESHOLDS["thresholds"][metric], (
        f"{metric} fell to {summary[metric]:.3f} (threshold {THRESHOLDS['thresholds'][metric]}, "
        f"recorded {THRESHOLDS['measured'][metric]}); if the change is intended, re-record with "
        "`assistant eval --save-thresholds`"
    )


def test_thresholds_cover_the_gated_metrics():
    assert set(THRESHOLDS["thresholds"]) == set(GATED)
    assert "measured" in THRESHOLDS["source"]


def test_every_evidence_phrase_is_in_the_store(gold_run):
    assert gold_run[2]["warnings"] == []


def test_records_carry_the_whole_answer(gold_run):
    questions, records, _ = gold_run
    assert [r["id"] for r in records] == [q.id for q in questions]
    for record in records:
        assert set(record) >= RECORD_KEYS
        assert record["retrieved"] and record["latency_ms"] > 0
        assert {"source", "title", "page", "text", "score"} <= set(record["retrieved"][0])
        if record["abstained"]:
            assert record["citations"] == []
        else:
            numbers = [c["n"] for c in record["citations"]]
            assert numbers == sorted(set(numbers)) and all(f"[{n}]" in record["answer"] for n in numbers)
    followup = next(r for q, r in zip(questions, records, strict=True) if q.history)
    assert followup["standalone_question"] != followup["question"]  # the history reached the rewrite


def test_eval_command_writes_results_summary_and_report(corpus_settings, corpus_library, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["eval", "--data-dir", str(corpus_settings.data_dir), "--limit", "3", "--out", str(out), "--quiet"]
    assert main(args) == 0
    lines = (out / "results.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["q001", "q002", "q003"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["questions"] == 3 and 0 <= summary["hit@5"] <= 1
    report = (out / "report.md").read_text()
    for image in ("tags.png", "ranks.png", "latency.png"):
        assert f"({image})" in report
        assert (out / image).read_bytes()[:4] == b"\x89PNG"
    assert "| retrieval hit@5 |" in capsys.readouterr().out


def test_eval_compare_runs_each_configuration(corpus_settings, corpus_library, tmp_path, capsys):
    out = tmp_path / "cmp"
    args = ["eval", "--data-dir", str(corpus_settings.data_dir), "--limit", "2", "--out", str(out), "--quiet"]
    assert main([*args, "--compare", "bm25,hybrid-k3", "chunks-120"]) == 0
    summaries = json.loads((out / "compare.json").read_text())
    assert list(summaries) == ["bm25", "hybrid-k3", "chunks-120"]
    configs = {name: s["config"] for name, s in summaries.items()}
    assert (configs["bm25"]["mode"], configs["hybrid-k3"]["k"]) == ("bm25", 3)
    # its own store, chunked finer than the corpus store
    assert configs["chunks-120"]["chunk_tokens"] == 120
    assert configs["chunks-120"]["chunks_in_store"] > configs["bm25"]["chunks_in_store"]
    for name in summaries:
        records = [json.loads(line) for line in (out / name / "results.jsonl").read_text().splitlines()]
        assert len(records) == 2
        if name == "hybrid-k3":
            assert all(len(r["retrieved"]) <= 3 for r in records)
    assert (out / "compare.png").read_bytes()[:4] == b"\x89PNG"
    table = capsys.readouterr().out
    assert "| chunks-120 |" in table and "| bm25 |" in table


def test_eval_compare_refuses_an_unknown_configuration(tmp_path, capsys):
    assert main(["eval", "--compare", "hybrid", "sparse", "--data-dir", str(tmp_path / "data")]) == 2
    assert "unknown configuration 'sparse'" in capsys.readouterr().err


def test_eval_beir_leaves_the_table_to_the_beir_module(tmp_path, capsys):
    pytest.importorskip("assistant.evaluation.beir", reason="assistant/evaluation/beir.py not landed yet")
    dataset = tmp_path / "tiny"
    (dataset / "qrels").mkdir(parents=True)
    docs = {"d1": "Backbone organizations need stable funding.", "d2": "Clinics hired organizers."}
    (dataset / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": i, "title": "", "text": t}) + "\n" for i, t in docs.items())
    )
    (dataset / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "backbone funding"}) + "\n")
    (dataset / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    out, data = tmp_path / "out", tmp_path / "data"
    assert main(["eval", "--beir", str(dataset), "--data-dir", str(data), "--out", str(out)]) == 0
    report = (out / "report.md").read_text()
    assert report.startswith("# BEIR: tiny") and "| retrieval | nDCG@10 |" in report
    assert "| retrieval | nDCG@10 |" in capsys.readouterr().out


def test_eval_beir_reports_a_malformed_dataset(tmp_path, capsys):
    pytest.importorskip("assistant.evaluation.beir", reason="assistant/evaluation/beir.py not landed yet")
    (tmp_path / "broken").mkdir()
    assert main(["eval", "--beir", str(tmp_path / "broken"), "--data-dir", str(tmp_path / "data")]) == 2
    assert f"{tmp_path / 'broken' / 'corpus.jsonl'}: no such file" in capsys.readouterr().err
