"""A run's results as inert HTML for the workbench (pure functions, testable without a browser).

Everything from a document, a question or an answer goes through `rendering.escape`/`highlighted`
(the chat's helpers), so markup in them shows as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assistant.evaluation.annotate import evidence_spans
from assistant.evaluation.diff import Run
from assistant.evaluation.intervals import float_leaves, interval_at
from assistant.evaluation.outcomes import OUTCOMES, PASSES, miss_reason, outcome
from assistant.evaluation.report import METRICS, fmt
from assistant.ui.rendering import escape, highlighted

ALL = "all"
FAILURES = "failures (unsupported or abstained wrong)"
OUTCOME_CHOICES = [ALL, FAILURES, *OUTCOMES]

CSS = """
.wb-table { width: 100%; border-collapse: collapse; font-size: .92em; }
.wb-table td, .wb-table th { padding: 4px 6px; text-align: left; vertical-align: top;
  border-bottom: 1px solid var(--border-color-primary); overflow-wrap: anywhere; }
#wb-questions td:first-child { white-space: nowrap; }
#wb-questions tbody tr { cursor: pointer; }
#wb-questions tbody tr:hover { background: var(--background-fill-secondary); }
#wb-clicked { display: none !important; }
.wb-fail { color: #b91c1c; font-weight: 600; }
.wb-pass { color: #15803d; font-weight: 600; }
.wb-passage { border: 1px solid var(--border-color-primary); border-radius: 6px; margin: .4em 0;
  padding: .3em .6em; font-size: .92em; line-height: 1.45; }
.wb-passage mark, .wb-annotate mark { background: #ffe58a; color: #111; padding: 0 2px; border-radius: 2px; }
.wb-rel { border-left: 4px solid #15803d; }
.wb-meta { font-size: .85em; color: #4b5563; }
.dark .wb-meta { color: #cbd5e1; }
"""


def label_of(key: str) -> str:
    return dict(METRICS).get(key, key)


def metric_keys(runs: Sequence[Run]) -> list[str]:
    """The report's metrics first, then any other top-level float (metrics added later show too)."""
    known = [key for key, _ in METRICS]
    extra = {path[0] for run in runs for path in float_leaves(run.summary) if len(path) == 1}
    return [*(k for k in known if any(k in r.summary for r in runs)), *sorted(extra - set(known))]


def value_cell(run: Run, key: str) -> str:
    value = run.summary.get(key)
    interval = interval_at(run.summary.get("intervals", {}), key)
    shown = escape(fmt(value))
    if interval is not None:
        shown += f' <span class="wb-meta">[{fmt(interval[0])}–{fmt(interval[1])}]</span>'
    return shown


def summary_html(runs: Sequence[Run]) -> str:
    """Each metric with its 95% interval, one column per run."""
    head = "".join(f"<th>{escape(run.path.name)}</th>" for run in runs)
    rows = "".join(
        f"<tr><td>{escape(label_of(key))}</td>"
        + "".join(f"<td>{value_cell(run, key)}</td>" for run in runs)
        + "</tr>"
        for key in metric_keys(runs)
    )
    counts = " · ".join(f"{escape(run.path.name)}: {len(run.records)} questions" for run in runs)
    return (
        f'<p class="wb-meta">{counts}. Values with their 95% bootstrap interval (questions resampled).</p>'
        f'<table class="wb-table" id="wb-summary"><thead><tr><th>metric</th>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def tags(runs: Sequence[Run]) -> list[str]:
    return sorted({t for run in runs for q in run.questions.values() if q.id in run.records for t in q.tags})


def matches(run: Run, qid: str, tag: str, wanted: str, search: str) -> bool:
    question, record = run.questions[qid], run.records[qid]
    if tag not in (ALL, "") and tag not in question.tags:
        return False
    result = outcome(record, question)
    if wanted == FAILURES and result in PASSES:
        return False
    if wanted not in (ALL, FAILURES, "") and result != wanted:
        return False
    needle = search.casefold().strip()
    return not needle or needle in f"{qid} {question.question} {record['answer']}".casefold()


def filtered_ids(runs: Sequence[Run], tag: str, wanted: str, search: str) -> list[str]:
    """Ids of the first run's questions that pass the filters in any run shown."""
    first = runs[0]
    return [
        qid
        for qid in first.records
        if any(qid in run.records and matches(run, qid, tag, wanted, search) for run in runs)
    ]


def outcome_cell(run: Run, qid: str) -> str:
    if qid not in run.records:
        return "<td>–</td>"
    result = outcome(run.records[qid], run.questions[qid])
    kind = "wb-pass" if result in PASSES else "wb-fail"
    return f'<td class="{kind}">{escape(result)}</td>'


def table_html(runs: Sequence[Run], ids: Sequence[str]) -> str:
    if not ids:
        return '<p class="wb-meta">No question matches these filters.</p>'
    head = "".join(f"<th>{escape(run.path.name)}</th>" for run in runs)
    first = runs[0]
    rows = []
    for qid in ids:
        question = first.questions[qid]
        reason = next((miss_reason(r.records[qid], r.questions[qid]) for r in runs if qid in r.records), "")
        rows.append(
            f'<tr data-id="{escape(qid)}"><td>{escape(qid)}</td><td>{escape(question.question)}</td>'
            f'<td class="wb-meta">{escape(", ".join(question.tags))}</td>'
            f"{''.join(outcome_cell(run, qid) for run in runs)}<td>{escape(reason)}</td></tr>"
        )
    return (
        f'<p class="wb-meta">{len(ids)} questions</p><table class="wb-table" id="wb-questions"><thead><tr>'
        f"<th>id</th><th>question</th><th>tags</th>{head}<th>miss reason</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def passage_html(passage: dict[str, Any], label: str, phrases: Sequence[str]) -> str:
    spans = evidence_spans(passage["text"], phrases)
    where = f", p. {passage['page']}" if passage.get("page") is not None else ""
    kind = " wb-rel" if spans else ""
    return (
        f'<div class="wb-passage{kind}"><div class="wb-meta">{escape(label)} {escape(passage["title"])}'
        f"{escape(where)} · {escape(passage['source'].rsplit('/', 1)[-1])}"
        f"{' · holds evidence' if spans else ''}</div>{highlighted(passage['text'], spans)}</div>"
    )


def detail_html(run: Run, qid: str) -> str:
    """One question in one run: outcome and reason, answer, citations, retrieved passages by rank."""
    if qid not in run.records:
        return f"<p>{escape(qid)} is not in {escape(run.path.name)}.</p>"
    question, record = run.questions[qid], run.records[qid]
    result = outcome(record, question)
    kind = "wb-pass" if result in PASSES else "wb-fail"
    reason = miss_reason(record, question)
    evidence = "".join(f"<li>{escape(e)}</li>" for e in question.evidence) or "<li>none (unanswerable)</li>"
    cited = "".join(passage_html(c, f"[{c['n']}]", question.evidence) for c in record["citations"]) or (
        '<p class="wb-meta">No citations.</p>'
    )
    retrieved = "".join(
        passage_html(p, f"rank {rank}:", question.evidence) for rank, p in enumerate(record["retrieved"], 1)
    )
    standalone = record.get("standalone_question") or ""
    read_as = (
        f'<p class="wb-meta">Read as: {escape(standalone)}</p>' if standalone != record["question"] else ""
    )
    return (
        f'<div class="wb-detail"><h4>{escape(run.path.name)} · {escape(qid)}</h4>'
        f"<p><strong>{escape(record['question'])}</strong></p>{read_as}"
        f'<p class="{kind}">{escape(result)}{escape(": " + reason if reason else "")}</p>'
        f'<p class="wb-meta">Evidence phrases:</p><ul>{evidence}</ul>'
        f"<p><strong>Answer</strong></p><p>{escape(record['answer'])}</p>"
        f"<p><strong>Citations</strong></p>{cited}"
        f"<p><strong>Retrieved passages (rank order)</strong></p>{retrieved}</div>"
    )
