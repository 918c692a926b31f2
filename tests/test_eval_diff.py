"""`assistant eval diff` on real runs over the corpus store: the same configuration twice shows no
significant change; a weakened one (dense only, 2 passages) is flagged and fails --fail-on-drop."""

from __future__ import annotations

import json

import pytest

from assistant.cli import main
from assistant.evaluation import load_questions, run_eval
from assistant.evaluation.report import write_run
from assistant.settings import PROJECT_ROOT

QUESTIONS = PROJECT_ROOT / "evals" / "questions.jsonl"


@pytest.fixture(scope="module")
def runs(corpus_assistant, tmp_path_factory):
    """Folders of three runs: the default twice, then dense-only with top_k 2."""
    questions = load_questions(QUESTIONS)
    root = tmp_path_factory.mktemp("diff-runs")
    configurations = {
        "before": corpus_assistant,
        "again": corpus_assistant,
        "weak": corpus_assistant.with_retrieval(mode="dense", k=2),
    }
    for name, bot in configurations.items():
        records, summary = run_eval(bot, questions, progress=False)
        write_run(root / name, questions, records, summary, name)
    return root


def diff_of(runs, a: str, b: str, *extra: str) -> tuple[int, dict]:
    out = runs / f"{a}-vs-{b}"
    code = main(["eval", "diff", str(runs / a), str(runs / b), "--out", str(out), *extra])
    return code, json.loads((out / "diff.json").read_text())


def test_the_same_configuration_twice_shows_no_significant_change(runs, capsys):
    code, diff = diff_of(runs, "before", "again", "--fail-on-drop", "hit@5=0", "--fail-on-drop", "mrr=0")
    assert code == 0
    assert diff["shared_questions"] == len(load_questions(QUESTIONS))
    tested = {name: row for name, row in diff["metrics"].items() if "interval" in row}
    assert {"hit@5", "mrr", "correct_rate", "supported_answer_rate", "answer_carries_evidence"} <= set(tested)
    assert not any(row["significant"] for row in tested.values())
    assert diff["newly_failing"] == [] and diff["newly_passing"] == []
    assert "significant changes: none" in capsys.readouterr().out


def test_a_weakened_configuration_is_flagged_and_fails_the_drop_gate(runs, capsys):
    code, diff = diff_of(runs, "before", "weak", "--fail-on-drop", "hit@5=0.02")
    assert code == 1
    hit = diff["metrics"]["hit@5"]
    assert hit["delta"] < -0.02 and hit["significant"] and hit["interval"][1] < -0.02 and hit["p"] < 0.05
    assert "drop: hit@5 fell by" in capsys.readouterr().err
    assert diff["newly_failing"], "dense-only top_k=2 should lose some supported answers"
    for change in diff["newly_failing"]:
        assert change["a"] in ("supported", "abstained right")
        assert change["b"] in ("unsupported", "abstained wrong") and change["reason"]
    report = (runs / "before-vs-weak" / "diff.md").read_text()
    assert "| hit@5 |" in report and "**yes**" in report
    assert f"| {diff['newly_failing'][0]['id']} |" in report


def test_a_margin_wider_than_the_drop_passes(runs):
    code, diff = diff_of(runs, "before", "weak", "--fail-on-drop", "hit@5=0.9")
    assert code == 0 and diff["metrics"]["hit@5"]["significant"]


def test_diff_refuses_bad_input_with_the_reason(runs, tmp_path, capsys):
    assert main(["eval", "diff", str(runs / "before"), str(tmp_path / "nowhere")]) == 2
    assert f"{tmp_path / 'nowhere' / 'results.jsonl'}: no such file" in capsys.readouterr().err
    args = ["eval", "diff", str(runs / "before"), str(runs / "again"), "--out", str(tmp_path / "o")]
    assert main([*args, "--fail-on-drop", "hit@5=lots"]) == 2
    assert "expected METRIC=MARGIN" in capsys.readouterr().err
    assert main([*args, "--fail-on-drop", "recall@99=0"]) == 2
    assert "unknown metric 'recall@99'" in capsys.readouterr().err
