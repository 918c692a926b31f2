"""What a run leaves behind: results.jsonl, summary.json, report.md with PNG plots; compare tables."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt

from assistant.evaluation.intervals import interval_at
from assistant.evaluation.metrics import Record, relevance
from assistant.evaluation.outcomes import miss_reason, passed
from assistant.evaluation.questions import Question, question_json

# (summary key, label) in the order people read them.
METRICS = [
    ("hit@1", "retrieval hit@1"),
    ("hit@3", "retrieval hit@3"),
    ("hit@5", "retrieval hit@5"),
    ("evidence_recall@5", "evidence recall@5"),
    ("mrr", "MRR"),
    ("ndcg@10", "nDCG@10"),
    ("citation_precision", "citation precision"),
    ("sentence_citation_precision", "sentence-level citation precision"),
    ("answer_carries_evidence", "answer carries evidence (phrase in the answer text)"),
    ("finding_rate", "finding rate (quotes a finding of its own document)"),
    ("setup_share", "set-up share of quoted sentences"),
    ("supported_answer_rate", "supported-answer rate"),
    ("answer_support", "answer support (claims near-verbatim in cited passage)"),
    ("abstention_precision", "abstention precision"),
    ("abstention_recall", "abstention recall"),
    ("answered_when_answerable", "answered when answerable"),
    ("multi_source_coverage", "multi-source coverage"),
    ("followup_success", "follow-up success (hit@5)"),
    ("correct_rate", "correct (supported answer, or abstained when unanswerable)"),
    ("latency_p50_ms", "latency p50 (ms)"),
    ("latency_p95_ms", "latency p95 (ms)"),
]
# The regression gate's metrics: higher is better (not latency), and measured on the corpus store's
# gold run (finding rate and set-up share need sectioned documents: the development library).
AT_SCALE_ONLY = ("finding_rate", "setup_share")
GATED = [key for key, _ in METRICS if not key.startswith("latency") and key not in AT_SCALE_ONLY]
COMPARE_COLUMNS = [
    ("hit@1", "hit@1"),
    ("hit@5", "hit@5"),
    ("evidence_recall@5", "recall@5"),
    ("mrr", "MRR"),
    ("ndcg@10", "nDCG@10"),
    ("citation_precision", "cite prec."),
    ("supported_answer_rate", "supported"),
    ("abstention_precision", "abst. P"),
    ("abstention_recall", "abst. R"),
    ("answered_when_answerable", "answered"),
    ("multi_source_coverage", "multi-src"),
    ("latency_p50_ms", "p50 ms"),
]
COMPARE_PLOTTED = ["hit@5", "mrr", "ndcg@10", "supported_answer_rate", "abstention_recall"]
TAG_COLUMNS = [
    ("hit@5", "hit@5"),
    ("mrr", "MRR"),
    ("supported_answer_rate", "supported"),
    ("abstention_recall", "abstention recall"),
    ("correct_rate", "correct"),
]


def fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):  # rates to 3 places, milliseconds to 1
        return f"{value:.3f}" if abs(value) <= 1 else f"{value:.1f}"
    return str(value)


def fmt_interval(interval: tuple[float, float] | None) -> str:
    return "–" if interval is None else f"{fmt(interval[0])}–{fmt(interval[1])}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def summary_table(summary: dict[str, Any]) -> str:
    """Each metric with its 95% bootstrap interval (questions resampled; `intervals` in summary.json)."""
    intervals = summary.get("intervals", {})
    rows = [(label, summary.get(key), fmt_interval(interval_at(intervals, key))) for key, label in METRICS]
    return markdown_table(["metric", "value", "95% interval"], rows)


def tag_table(summary: dict[str, Any]) -> str:
    intervals = summary.get("intervals", {}).get("by_tag", {})

    def cell(tag: str, key: str) -> str:
        value = summary["by_tag"][tag].get(key)
        interval = interval_at(intervals, tag, key)
        return fmt(value) if value is None or interval is None else f"{fmt(value)} ({fmt_interval(interval)})"

    rows = [
        (tag, row["n"], *(cell(tag, key) for key, _ in TAG_COLUMNS)) for tag, row in summary["by_tag"].items()
    ]
    return markdown_table(["tag", "n", *(label for _, label in TAG_COLUMNS)], rows)


def compare_table(summaries: dict[str, dict[str, Any]]) -> str:
    rows = [(name, *(s.get(key) for key, _ in COMPARE_COLUMNS)) for name, s in summaries.items()]
    return markdown_table(["configuration", *(label for _, label in COMPARE_COLUMNS)], rows)


# --- files ---------------------------------------------------------------------------------
def write_run(
    out_dir: Path,
    questions: Sequence[Question],
    records: Sequence[Record],
    summary: dict[str, Any],
    title: str,
) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "results.jsonl").open("w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    with (out_dir / "questions.jsonl").open(
        "w", encoding="utf-8"
    ) as f:  # what the records were scored against
        for question in questions:
            f.write(json.dumps(question_json(question), ensure_ascii=False) + "\n")
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    plot_tags(summary, out_dir / "tags.png")
    plot_ranks(questions, records, out_dir / "ranks.png")
    plot_latency(records, out_dir / "latency.png")
    (out_dir / "report.md").write_text(run_report(questions, records, summary, title), encoding="utf-8")


def run_report(
    questions: Sequence[Question], records: Sequence[Record], summary: dict[str, Any], title: str
) -> str:
    parts = [
        f"# {title}",
        f"{summary['questions']} questions ({summary['answerable']} answerable, "
        f"{summary['unanswerable']} unanswerable). Formulas: `evals/README.md`.",
        "Configuration: " + ", ".join(f"{k} {v}" for k, v in summary.get("config", {}).items()),
        summary_table(summary),
        "## By tag",
        tag_table(summary),
        "![per tag](tags.png)",
        "## Where the first relevant passage ranks (answerable questions)",
        "![ranks](ranks.png)",
        "## Latency",
        "![latency](latency.png)",
        "## Misses",
        misses(questions, records),
    ]
    if summary.get("warnings"):
        parts += ["## Warnings", "\n".join(f"- {w}" for w in summary["warnings"])]
    return "\n\n".join(parts) + "\n"


def misses(questions: Sequence[Question], records: Sequence[Record]) -> str:
    """Questions answered wrongly: no cited evidence when answerable, an answer when unanswerable."""
    by_id = {q.id: q for q in questions}
    rows = [
        (record["id"], record["question"].replace("|", "/"), miss_reason(record, by_id[record["id"]]))
        for record in records
        if not passed(record, by_id[record["id"]])
    ]
    return markdown_table(["id", "question", "what went wrong"], rows) if rows else "None."


def write_compare(out_dir: Path, summaries: dict[str, dict[str, Any]]) -> str:
    """compare.json, compare.png and report.md for several configurations; returns the table."""
    out_dir.mkdir(parents=True, exist_ok=True)
    table = compare_table(summaries)
    (out_dir / "compare.json").write_text(json.dumps(summaries, indent=2, ensure_ascii=False) + "\n")
    plot_compare(summaries, out_dir / "compare.png")
    links = "\n".join(f"- [{name}]({name}/report.md)" for name in summaries)
    (out_dir / "report.md").write_text(
        f"# Configurations compared\n\nSame questions, one row per configuration. Formulas: "
        f"`evals/README.md`.\n\n{table}\n\n![compare](compare.png)\n\n## Per-configuration reports\n\n"
        f"{links}\n",
        encoding="utf-8",
    )
    return table


def write_beir(out_dir: Path, dataset_dir: Path, result: dict[str, Any]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    report = f"# BEIR: {dataset_dir.name}\n\n{result['markdown']}\n"
    (out_dir / "report.md").write_text(report, encoding="utf-8")


# --- plots ---------------------------------------------------------------------------------
def plot_tags(summary: dict[str, Any], path: Path) -> None:
    tags = list(summary["by_tag"])
    values = [summary["by_tag"][t]["correct_rate"] or 0.0 for t in tags]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(tags) + 1.2))
    ax.barh([f"{t} ({summary['by_tag'][t]['n']})" for t in tags], values, color="#4a7ab5")
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("correct rate (supported answer, or abstained when unanswerable)")
    _save(fig, path)


def plot_ranks(questions: Sequence[Question], records: Sequence[Record], path: Path) -> None:
    by_id = {q.id: q for q in questions}
    ranks = []
    for record in records:
        question = by_id[record["id"]]
        if question.answerable:
            rels = relevance(record, question)
            ranks.append(str(rels.index(1) + 1) if 1 in rels else "none")
    labels = [*sorted({r for r in ranks if r != "none"}, key=int), "none"]
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.bar(labels, [ranks.count(label) for label in labels], color="#4a7ab5")
    ax.set_xlabel("rank of the first passage holding evidence")
    ax.set_ylabel("questions")
    _save(fig, path)


def plot_latency(records: Sequence[Record], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist([r["latency_ms"] for r in records], bins=30, color="#4a7ab5")
    ax.set_xlabel("latency per question (ms)")
    ax.set_ylabel("questions")
    _save(fig, path)


def plot_compare(summaries: dict[str, dict[str, Any]], path: Path) -> None:
    names = list(summaries)
    width = 0.8 / len(COMPARE_PLOTTED)
    fig, ax = plt.subplots(figsize=(max(7, 1.2 * len(names)), 3.8))
    for i, key in enumerate(COMPARE_PLOTTED):
        positions = [n + (i - (len(COMPARE_PLOTTED) - 1) / 2) * width for n in range(len(names))]
        ax.bar(positions, [summaries[name].get(key) or 0.0 for name in names], width, label=key)
    ax.set_xticks(range(len(names)), names)
    ax.set_ylim(0, 1)
    ax.legend(fontsize="small", ncol=len(COMPARE_PLOTTED), loc="lower center", bbox_to_anchor=(0.5, 1.0))
    _save(fig, path)


def _save(fig: plt.Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
