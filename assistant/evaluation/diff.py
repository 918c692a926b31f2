"""Two runs compared on the questions they share: per-metric deltas with a paired bootstrap test,
and the questions that newly fail or newly pass, with the reason (`assistant eval diff A B`).

Paired: each bootstrap sample draws the same questions for both runs, so the interval of the delta
reflects only how the two runs differ on the same questions, not how hard the questions are. A
delta is significant when its 95% interval excludes 0; `--fail-on-drop METRIC=MARGIN` fails when
the whole interval lies below -MARGIN (the metric fell, with 95% confidence, by more than MARGIN).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.evaluation.intervals import (
    RESAMPLES,
    SEED,
    float_leaves,
    percentile_interval,
    resample_indices,
)
from assistant.evaluation.metrics import Record, scores_cached
from assistant.evaluation.outcomes import miss_reason, outcome, passed
from assistant.evaluation.questions import Question, QuestionFileError, load_questions
from assistant.evaluation.report import fmt, markdown_table
from assistant.evaluation.runner import all_metrics

UNTESTED_PREFIX = "latency"  # wall-clock timings vary between machines and runs; shown, not tested


class RunError(ValueError):
    """A run folder that cannot be read; the message names the file and the reason."""


@dataclass
class Run:
    path: Path
    questions: dict[str, Question]
    records: dict[str, Record]
    summary: dict[str, Any]


def load_run(path: Path, fallback_questions: Path) -> Run:
    """A run folder: results.jsonl, summary.json, and the questions it was scored against
    (questions.jsonl in the folder; older runs: the fallback file)."""
    path = Path(path)
    results = path / "results.jsonl"
    if not results.is_file():
        raise RunError(f"{results}: no such file (is {path} a folder written by `assistant eval`?)")
    records: dict[str, Record] = {}
    for number, line in enumerate(results.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            records[record["id"]] = record
        except (json.JSONDecodeError, TypeError, KeyError) as exc:
            raise RunError(f"{results}:{number}: not a result record ({exc})") from exc
    source = path / "questions.jsonl" if (path / "questions.jsonl").is_file() else Path(fallback_questions)
    try:
        questions = {q.id: q for q in load_questions(source)}
    except QuestionFileError as exc:
        raise RunError(str(exc)) from exc
    unknown = [qid for qid in records if qid not in questions]
    if unknown:
        raise RunError(f"{results}: questions not in {source}: {', '.join(unknown[:5])}")
    summary_path = path / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.is_file() else {}
    return Run(path, questions, records, summary)


def shared_ids(a: Run, b: Run) -> list[str]:
    return [qid for qid in a.records if qid in b.records]


def metric_deltas(a: Run, b: Run, ids: Sequence[str], resamples: int = RESAMPLES, seed: int = SEED) -> dict:
    """metric -> {a, b, delta, interval, p, significant}; B minus A on the shared questions."""

    def metrics(run: Run, sample: Sequence[str]) -> dict[tuple[str, ...], float]:
        summary = all_metrics(list(run.questions.values()), [run.records[i] for i in sample])
        summary.pop("by_tag", None)
        return float_leaves(summary)

    draws: dict[tuple[str, ...], list[float]] = {}
    with scores_cached():
        point_a, point_b = metrics(a, ids), metrics(b, ids)
        for row in resample_indices(len(ids), resamples, seed):
            sample = [ids[i] for i in row]
            sample_a, sample_b = metrics(a, sample), metrics(b, sample)
            for path in sample_a.keys() & sample_b.keys():
                draws.setdefault(path, []).append(sample_b[path] - sample_a[path])
    deltas = {}
    for path in [p for p in point_a if p in point_b]:
        name = ".".join(path)
        delta, values = point_b[path] - point_a[path], np.asarray(draws.get(path, []))
        row: dict[str, Any] = {"a": point_a[path], "b": point_b[path], "delta": round(delta, 4)}
        if not name.startswith(UNTESTED_PREFIX) and len(values):
            interval = percentile_interval(values.tolist())
            row["interval"] = list(interval) if interval else None
            # two-sided bootstrap p: twice the smaller share of deltas on either side of 0
            row["p"] = round(min(1.0, 2 * min(float(np.mean(values <= 0)), float(np.mean(values >= 0)))), 4)
            row["significant"] = bool(interval and (interval[0] > 0 or interval[1] < 0))
        deltas[name] = row
    return deltas


def question_changes(a: Run, b: Run, ids: Sequence[str]) -> dict[str, list[dict[str, str]]]:
    """Questions whose pass/fail flipped, with their outcome in each run and the reason."""
    changes: dict[str, list[dict[str, str]]] = {"newly_failing": [], "newly_passing": []}
    for qid in ids:
        qa, qb, ra, rb = a.questions[qid], b.questions[qid], a.records[qid], b.records[qid]
        before, after = passed(ra, qa), passed(rb, qb)
        if before == after:
            continue
        entry = {"id": qid, "question": rb["question"], "a": outcome(ra, qa), "b": outcome(rb, qb)}
        entry["reason"] = miss_reason(rb, qb) if before else f"was: {miss_reason(ra, qa)}"
        changes["newly_failing" if before else "newly_passing"].append(entry)
    return changes


def diff_runs(a: Run, b: Run, resamples: int = RESAMPLES, seed: int = SEED) -> dict[str, Any]:
    ids = shared_ids(a, b)
    if not ids:
        raise RunError(f"{a.path} and {b.path} share no question ids: nothing to compare")
    return {
        "a": str(a.path),
        "b": str(b.path),
        "shared_questions": len(ids),
        "only_in_a": [q for q in a.records if q not in b.records],
        "only_in_b": [q for q in b.records if q not in a.records],
        "method": {
            "test": "paired percentile bootstrap",
            "resamples": resamples,
            "seed": seed,
            "level": 0.95,
        },
        "metrics": metric_deltas(a, b, ids, resamples, seed),
        **question_changes(a, b, ids),
    }


def parse_drop_rules(values: Sequence[str]) -> dict[str, float]:
    """`METRIC=MARGIN` strings -> {metric: margin}; ValueError names the bad one."""
    rules = {}
    for value in values:
        metric, sep, margin = value.partition("=")
        try:
            rules[metric.strip()] = float(margin) if sep else 0.0
        except ValueError:
            raise ValueError(f"--fail-on-drop {value!r}: expected METRIC=MARGIN, e.g. hit@5=0.02") from None
        if rules[metric.strip()] < 0:
            raise ValueError(f"--fail-on-drop {value!r}: the margin must be 0 or more")
    return rules


def drops(diff: dict[str, Any], rules: dict[str, float]) -> list[str]:
    """One line per rule broken: the metric fell, with 95% confidence, by more than its margin."""
    broken = []
    for metric, margin in rules.items():
        row = diff["metrics"].get(metric)
        if row is None:
            raise ValueError(
                f"--fail-on-drop: unknown metric '{metric}' (known: {', '.join(diff['metrics'])})"
            )
        interval = row.get("interval")
        if interval and interval[1] < -margin:
            broken.append(
                f"{metric} fell by {-row['delta']:.3f} ({fmt(row['a'])} -> {fmt(row['b'])}; "
                f"95% interval of the change {interval[0]:+.3f} to {interval[1]:+.3f}), "
                f"beyond the margin {margin}"
            )
    return broken


def diff_markdown(diff: dict[str, Any]) -> str:
    rows = [
        (
            name,
            row["a"],
            row["b"],
            f"{row['delta']:+.3f}",
            f"{row['interval'][0]:+.3f} to {row['interval'][1]:+.3f}"
            if row.get("interval")
            else "not tested",
            fmt(row.get("p")),
            "**yes**" if row.get("significant") else "no",
        )
        for name, row in diff["metrics"].items()
    ]

    def changes(key: str) -> str:
        found = [(c["id"], c["question"].replace("|", "/"), c["a"], c["b"], c["reason"]) for c in diff[key]]
        return markdown_table(["id", "question", "A", "B", "reason"], found) if found else "None."

    return (
        "\n\n".join(
            [
                "# Evaluation diff",
                f"A: `{diff['a']}`  \nB: `{diff['b']}`",
                f"{diff['shared_questions']} shared questions ({len(diff['only_in_a'])} only in A, "
                f"{len(diff['only_in_b'])} only in B). Change = B − A; 95% interval and p from a paired "
                f"bootstrap ({diff['method']['resamples']} resamples of the shared questions, seed "
                f"{diff['method']['seed']}); significant when the interval excludes 0.",
                markdown_table(["metric", "A", "B", "change", "95% interval", "p", "significant"], rows),
                f"## Newly failing ({len(diff['newly_failing'])})",
                changes("newly_failing"),
                f"## Newly passing ({len(diff['newly_passing'])})",
                changes("newly_passing"),
            ]
        )
        + "\n"
    )


def write_diff(out_dir: Path, diff: dict[str, Any]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "diff.json").write_text(
        json.dumps(diff, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out_dir / "diff.md").write_text(diff_markdown(diff), encoding="utf-8")
