"""benchmarks/load.py at a small scale: a real `assistant serve`, concurrent gradio_client sessions."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import benchmark_script

load = benchmark_script("load")


def test_follow_ups_come_right_after_the_question_they_follow():
    script = load.conversations()
    asked = [q for conversation in script for q in conversation]
    rows = [json.loads(line) for line in load.QUESTIONS.read_text().splitlines() if line.strip()]
    assert len(asked) == len(rows) + sum(bool(r.get("history")) for r in rows)
    for row in rows:
        if row.get("history"):
            assert [row["history"][0]["content"], row["question"]] in script


def test_concurrent_sessions_get_cited_answers_or_abstentions(tmp_path, corpus_settings, corpus_library):
    data = tmp_path / "data"
    shutil.copytree(corpus_settings.data_dir, data)  # the session's store, so no second ingest
    result = load.run(sessions=4, seconds=10, out=tmp_path / "out", data_dir=data, rss_every=1.0)

    assert result["errors"] == 0, result["failures"]
    assert result["requests"] == result["cited"] + result["abstained"]
    assert all(n >= 2 for n in result["per_session"])  # every session got answers, not just one
    assert result["cited"] and result["abstained"]  # the script has both kinds of question
    assert result["rss_mb"]["samples"] and result["rss_mb"]["ratio"] > 0
    assert result["rss_mb_after_warmup"]["warmup_s"] == 20.0  # longer than the run: judged on every sample
    assert result["rss_mb_after_warmup"]["ratio"] == result["rss_mb"]["ratio"]
    assert json.loads((tmp_path / "out" / "load.json").read_text()) == json.loads(json.dumps(result))


def test_run_is_bounded():
    with pytest.raises(ValueError, match="sessions must be"):
        load.run(sessions=1000, seconds=10)
