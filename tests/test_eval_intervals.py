"""Bootstrap intervals on fixed records, against a bootstrap worked out by hand from the same draws."""

from __future__ import annotations

import json
from functools import partial

import numpy as np
import pytest

from assistant.evaluation import Question, compute_metrics
from assistant.evaluation.intervals import bootstrap_intervals, float_leaves, resample_indices
from assistant.evaluation.report import write_run
from assistant.evaluation.runner import measure

HIT = {"source": "a.md", "title": "A", "page": None, "text": "the evidence phrase is here", "score": 1.0}
MISS = {"source": "b.md", "title": "B", "page": None, "text": "nothing to see", "score": 0.5}


def record(qid: str, retrieved: list[dict], cited: list[dict], abstained: bool = False) -> dict:
    answer = " ".join(f"{c['text']} [{n}]" for n, c in enumerate(cited, start=1))
    return {
        "id": qid,
        "question": qid,
        "standalone_question": qid,
        "answer": "Not covered." if abstained else answer,
        "abstained": abstained,
        "citations": [{"n": n, **c} for n, c in enumerate(cited, start=1)],
        "retrieved": retrieved,
        "latency_ms": 10.0 * len(qid),
        "relevant_in_library": 1,
    }


# hit@5 per question: 1, 1, 0, 1, 0; cited passages (with evidence / all): 1/2, 1/1, 0/1, 0/0, 0/0
QUESTIONS = [
    *(Question(f"a{i}", "q", True, ("evidence phrase",), tags=("t",) if i < 3 else ()) for i in range(4)),
    Question("u0", "q", False, tags=("t",)),
]
RECORDS = [
    record("a0", [HIT, MISS], [HIT, MISS]),
    record("a1", [MISS, HIT], [HIT]),
    record("a2", [MISS], [MISS]),
    record("a3", [HIT], [], abstained=True),
    record("u0", [MISS], [], abstained=True),
]
HITS = np.array([1, 1, 0, 1, np.nan])  # u0 is unanswerable: not in hit@5
GOOD_CITES = np.array([1, 1, 0, 0, 0])
CITES = np.array([2, 1, 1, 0, 0])


def by_hand(values_per_draw: np.ndarray) -> list[float]:
    low, high = np.percentile(values_per_draw, [2.5, 97.5])
    return [round(float(low), 4), round(float(high), 4)]


@pytest.fixture(scope="module")
def intervals() -> dict:
    return bootstrap_intervals(RECORDS, partial(compute_metrics, QUESTIONS), resamples=400, seed=5)


def test_rate_interval_matches_a_hand_worked_bootstrap(intervals):
    draws = resample_indices(len(RECORDS), 400, seed=5)  # the documented draws: rng(seed).integers
    hit_means = [np.nanmean(HITS[row]) for row in draws if not np.isnan(HITS[row]).all()]
    assert intervals["hit@5"] == by_hand(np.array(hit_means))


def test_pooled_ratio_interval_matches_a_hand_worked_bootstrap(intervals):
    draws = resample_indices(len(RECORDS), 400, seed=5)
    answerable = np.array([1, 1, 1, 1, 0])
    ratios = [
        GOOD_CITES[row].sum() / CITES[row].sum()
        for row in draws
        if (CITES[row] * answerable[row]).sum()  # no cited passage in the sample: metric is None, skipped
    ]
    assert intervals["citation_precision"] == by_hand(np.array(ratios))


def test_tag_rates_get_intervals_too(intervals):
    # tag t: a0, a1, a2 (hits 1, 1, 0) and u0; every draw with one of a0..a2 has hit@5 in {0, 1/3, ..., 1}
    low, high = intervals["by_tag"]["t"]["hit@5"]
    assert 0 <= low <= 2 / 3 <= high <= 1


def test_every_float_in_the_summary_has_an_interval():
    summary = measure(QUESTIONS, RECORDS)
    rates = set(float_leaves({k: v for k, v in summary.items() if not k.startswith("interval")}))
    assert ("hit@5",) in rates and ("by_tag", "t", "correct_rate") in rates
    for path in rates:
        node = summary["intervals"]
        for key in path:
            node = node[key]
        low, high = node
        assert low <= high


def test_a_seeded_rerun_is_identical_and_the_seed_matters():
    first = bootstrap_intervals(RECORDS, partial(compute_metrics, QUESTIONS), seed=3)
    again = bootstrap_intervals(RECORDS, partial(compute_metrics, QUESTIONS), seed=3)
    other = bootstrap_intervals(RECORDS, partial(compute_metrics, QUESTIONS), seed=4, resamples=50)
    assert first == again
    assert first != other


def test_any_metric_function_gets_intervals():
    """A metric someone adds later: any float its statistic returns gets an interval, nothing else."""
    values = [0.0, 1.0]

    def statistic(sample):
        return {"my_rate": float(np.mean(sample)), "count": len(sample), "label": "x"}

    found = bootstrap_intervals(values, statistic)
    assert set(found) == {"my_rate"}
    assert found["my_rate"] == [0.0, 1.0]  # mean of two draws from {0, 1}: 0 and 1 each have p = 1/4


def test_report_and_summary_carry_the_intervals(tmp_path):
    summary = measure(QUESTIONS, RECORDS)
    write_run(tmp_path, QUESTIONS, RECORDS, summary, "Evaluation")
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved["intervals"]["hit@5"] == summary["intervals"]["hit@5"]
    assert saved["interval_method"]["seed"] == summary["interval_method"]["seed"]
    low, high = summary["intervals"]["hit@5"]
    report = (tmp_path / "report.md").read_text()
    assert "| metric | value | 95% interval |" in report
    assert f"| retrieval hit@5 | 0.750 | {low:.3f}–{high:.3f} |" in report
    assert [json.loads(line)["id"] for line in (tmp_path / "questions.jsonl").read_text().splitlines()] == [
        q.id for q in QUESTIONS
    ]
