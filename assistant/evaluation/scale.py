"""`assistant eval --at-scale`: the gold set and PubMedQA-dev over the development library, each
also asked with its evidence documents left out, in one run (evals/README.md, "Measuring at scale").

The library is only read: nothing is ingested, so a shared development library stays as built.
Leaving evidence out is a retrieval filter (`Filters.exclude_documents`), not a deletion; the
abstention's term rarity reads the library without those documents too, as if they were missing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from assistant.assistant import Assistant
from assistant.evaluation.answer_metrics import leave_out_metrics, quoted_sentences
from assistant.evaluation.devlib import PUBMEDQA, PubMedAbstract, read_pubmedqa
from assistant.evaluation.intervals import bootstrap_intervals, interval_at
from assistant.evaluation.metrics import Record, normalize
from assistant.evaluation.pubmedqa import annotate_roles, pubmedqa_questions
from assistant.evaluation.questions import Question, load_questions
from assistant.evaluation.report import fmt, fmt_interval, markdown_table, write_run
from assistant.evaluation.runner import measure, to_record
from assistant.evaluation.splits import Split, in_split
from assistant.library import Library
from assistant.settings import Settings
from assistant.types import Filters

Exclude = Callable[[Question], Sequence[str]]
# (summary key, column) of the at-scale table, in the order of the "done when" list.
COLUMNS = [
    ("questions", "n"),
    ("document_hit@5", "own doc in top 5"),
    ("hit@5", "hit@5"),
    ("answer_carries_evidence", "answer carries evidence"),
    ("sentence_citation_precision", "sentence citation precision"),
    ("finding_rate", "finding rate"),
    ("setup_share", "set-up share"),
    ("answered_when_answerable", "answered when answerable"),
    ("abstention_recall", "off-topic abstained"),
    ("leave_out_abstention", "abstained, evidence left out"),
    ("followup_success", "follow-ups hit@5"),
]


@dataclass(frozen=True)
class Goal:
    """One "done when" line of issue 14: a part's metric at least (or at most) a target."""

    part: str
    key: str
    what: str
    target: float
    at_most: bool = False  # a share that must stay low (set-up sentences)

    def met(self, value: float | None) -> bool | None:
        if value is None:
            return None
        return value <= self.target if self.at_most else value >= self.target


# Issue 14's goals for the held-out halves. SciFact nDCG@10 and the 22-chunk gate are other commands
# (`assistant eval --beir …`, `assistant eval`).
GOALS = (
    Goal("pubmedqa-dev", "finding_rate", "quotes a finding of its own abstract", 0.90),
    Goal("pubmedqa-dev, plain paragraphs", "finding_rate", "quotes a finding of its own abstract", 0.85),
    Goal("pubmedqa-dev", "setup_share", "set-up share of quoted sentences", 0.10, at_most=True),
    Goal("pubmedqa-dev", "document_hit@5", "own abstract in the top 5", 0.98),
    Goal("gold", "answer_carries_evidence", "answer carries evidence", 0.85),
    Goal("gold", "hit@5", "hit@5", 0.95),
    Goal("gold", "sentence_citation_precision", "sentence-level citation precision", 0.80),
    Goal("gold, evidence left out", "leave_out_abstention", "abstains, evidence left out", 0.85),
    Goal("pubmedqa-dev, evidence left out", "leave_out_abstention", "abstains, evidence left out", 0.85),
    Goal("gold", "answered_when_answerable", "answers the answerable", 0.95),
    Goal("pubmedqa-dev", "answered_when_answerable", "answers the answerable", 0.95),
    Goal("gold", "abstention_recall", "off-topic questions abstained", 1.0),
    Goal("gold", "followup_success", "follow-ups retrieve the right passage", 0.90),
)


class NotADevelopmentLibrary(ValueError):
    """The data dir lacks the PubMedQA abstracts; the message says how to build it."""


@dataclass
class Part:
    name: str
    questions: list[Question]
    records: list[Record]
    summary: dict[str, Any]


def ask_all(
    assistant: Assistant,
    questions: Sequence[Question],
    *,
    exclude: Exclude | None = None,
    label: str,
    progress: bool,
) -> list[Record]:
    """Every question through Assistant.ask, with its evidence documents left out when `exclude`."""
    records = []
    for question in tqdm(questions, desc=label, unit="q", disable=not progress):
        left_out = tuple(exclude(question)) if exclude else ()
        started = time.perf_counter()
        answer = assistant.ask(
            question.question, question.history, filters=Filters(exclude_documents=left_out)
        )
        record = to_record(question, answer, (time.perf_counter() - started) * 1000)
        record["quoted"] = quoted_sentences(answer)
        if exclude:
            record["left_out"] = list(left_out)
        records.append(record)
    return records


def summarize(questions: Sequence[Question], records: Sequence[Record]) -> dict[str, Any]:
    """The run's metrics with their intervals, leave-out abstention's included (same resamples)."""
    summary = {**measure(questions, records), **leave_out_metrics(records)}
    summary["intervals"] |= bootstrap_intervals(records, leave_out_metrics)
    return summary


def evidence_documents(library: Library, questions: Sequence[Question]) -> dict[str, tuple[str, ...]]:
    """For each question, the documents one of whose passages holds one of its evidence phrases."""
    catalog = library.catalog
    texts = [(p.source, normalize(p.text)) for p in catalog.passages(catalog.chunk_ids()).values()]
    found = {}
    for question in questions:
        phrases = [normalize(e) for e in question.evidence]
        found[question.id] = tuple(sorted({s for s, text in texts if any(p in text for p in phrases)}))
    return found


def pubmed_keys(library: Library, abstracts: Sequence[PubMedAbstract]) -> dict[str, str]:
    """File name without suffix -> document key, for every PubMedQA abstract (all must be stored)."""
    keys = {Path(d.key).stem: d.key for d in library.catalog.documents()}
    missing = [a.file_name for a in abstracts if a.file_name not in keys]
    if missing:
        raise NotADevelopmentLibrary(
            f"{library.settings.data_dir}: {len(missing)} PubMedQA abstracts are not in this library "
            f"(e.g. {missing[0]}); build it with `assistant devlib --data-dir DIR`"
        )
    return keys


def run_at_scale(
    settings: Settings, questions: Path, *, plain_dir: Path | None, split: Split, progress: bool
) -> list[Part]:
    """Gold and PubMedQA-dev (one split of each), as they are and with their evidence left out;
    PubMedQA-dev once more over the plain-paragraph library when `plain_dir` is given."""
    library = Library.open(settings)
    assistant = Assistant(settings, library)
    abstracts = read_pubmedqa(settings.benchmarks_dir / PUBMEDQA)
    keys = pubmed_keys(library, abstracts)
    gold = in_split(load_questions(questions), split)
    answerable = [q for q in gold if q.answerable]
    gold_documents = evidence_documents(library, answerable)
    pubmed = in_split(pubmedqa_questions(abstracts), split)

    def part(
        name: str, questions: list[Question], exclude: Exclude | None = None, bot: Assistant = assistant
    ):
        records = ask_all(bot, questions, exclude=exclude, label=name, progress=progress)
        annotate_roles(records, abstracts)
        return Part(name, questions, records, summarize(questions, records))

    parts = [
        part("gold", gold),
        part("gold, evidence left out", answerable, lambda q: gold_documents[q.id]),
        part("pubmedqa-dev", pubmed),
        part("pubmedqa-dev, evidence left out", pubmed, lambda q: [keys[d] for d in q.documents]),
    ]
    if plain_dir is not None:
        plain_settings = settings.model_copy(update={"data_dir": plain_dir})
        plain = Assistant(plain_settings, Library.open(plain_settings, library.embedder))
        pubmed_keys(plain.library, abstracts)
        parts.append(part("pubmedqa-dev, plain paragraphs", pubmed, bot=plain))
    return parts


def scale_table(parts: Sequence[Part]) -> str:
    rows = [(p.name, *(p.summary.get(key) for key, _ in COLUMNS)) for p in parts]
    return markdown_table(["part", *(label for _, label in COLUMNS)], rows)


def goals_table(parts: Sequence[Part]) -> str:
    """Each of GOALS with the run's value, its 95% bootstrap interval and whether it is met: one
    question more or less moves a held-out gold rate by about 0.016, so the interval says how far a
    miss (or a pass) may be chance."""
    by_name = {p.name: p.summary for p in parts}
    rows = []
    for goal in GOALS:
        if goal.part not in by_name:
            continue
        summary = by_name[goal.part]
        value = summary.get(goal.key)
        met = goal.met(value)
        rows.append(
            (
                goal.part,
                goal.what,
                value,
                fmt_interval(interval_at(summary.get("intervals", {}), goal.key)),
                f"{'≤' if goal.at_most else '≥'} {fmt(goal.target)}",
                "–" if met is None else ("met" if met else "not met"),
            )
        )
    return markdown_table(["part", "goal", "value", "95% interval", "target", "met"], rows)


def write_scale(out: Path, parts: Sequence[Part], header: str) -> None:
    for p in parts:
        write_run(out / slug(p.name), p.questions, p.records, p.summary, p.name)
    (out / "summary.json").write_text(
        json.dumps({p.name: p.summary for p in parts}, indent=2, ensure_ascii=False) + "\n"
    )
    (out / "report.md").write_text(
        f"# Evaluation at scale\n\n{header}\n\n{scale_table(parts)}\n\n"
        f"## Against issue 14's goals\n\n{goals_table(parts)}\n",
        encoding="utf-8",
    )


def slug(name: str) -> str:
    return "-".join(w for w in "".join(c if c.isalnum() else " " for c in name.lower()).split())
