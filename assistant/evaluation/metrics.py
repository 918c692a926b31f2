"""Metrics over per-question records; every formula is written out in evals/README.md.

Own code rather than pytrec_eval: relevance here is "the passage contains an evidence phrase",
judged on passage text, and most metrics (citations, abstention, answer support) are not
ranking measures at all; the few ranking ones are a line each.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from difflib import SequenceMatcher
from functools import lru_cache
from statistics import fmean
from typing import Any

import numpy as np

from assistant.evaluation.questions import Question

Record = dict[str, Any]

NEAR_VERBATIM = 0.9  # share of a claim's words that must match its cited passage
MIN_RUN = 3  # words: shorter matching runs are coincidence ("of the"), not quotation
CLAIM = re.compile(r"(.*?)((?:\s*\[\d{1,3}\])+)", re.DOTALL)
MARK = re.compile(r"\[(\d{1,3})\]")


@lru_cache(maxsize=65536)  # the bootstrap compares the same passages a thousand times
def normalize(text: str) -> str:
    """Case- and whitespace-insensitive form used for every evidence comparison."""
    return " ".join(text.casefold().split())


def holds_evidence(text: str, evidence: Iterable[str]) -> bool:
    body = normalize(text)
    return any(normalize(e) in body for e in evidence)


def mean(values: Sequence[float]) -> float | None:
    """Mean, or None when the metric has no questions to average over (shown as '–')."""
    return fmean(values) if values else None


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# --- retrieval -----------------------------------------------------------------------------
def relevance(record: Record, question: Question) -> list[int]:
    """Binary relevance of the retrieved passages, in rank order."""
    return [int(holds_evidence(p["text"], question.evidence)) for p in record["retrieved"]]


def hit_at(rels: Sequence[int], k: int) -> float:
    return float(any(rels[:k]))


def evidence_recall_at(record: Record, question: Question, k: int) -> float:
    # Phrases are matched per passage, never across the join between two passages.
    passages = [normalize(p["text"]) for p in record["retrieved"][:k]]
    found = [e for e in question.evidence if any(normalize(e) in p for p in passages)]
    return len(found) / len(question.evidence)


def reciprocal_rank(rels: Sequence[int]) -> float:
    return next((1 / rank for rank, rel in enumerate(rels, start=1) if rel), 0.0)


def ndcg_at(rels: Sequence[int], relevant_in_library: int, k: int) -> float:
    """Binary nDCG@k; the ideal ranking puts all the library's relevant passages (up to k) first."""
    dcg = sum(rel / math.log2(rank + 1) for rank, rel in enumerate(rels[:k], start=1))
    ideal_count = min(k, max(relevant_in_library, sum(rels)))
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, ideal_count + 1))
    return dcg / ideal if ideal else 0.0


# --- answers -------------------------------------------------------------------------------
def cited_passages(record: Record) -> dict[int, Record]:
    """Citations by number: one entry per cited passage."""
    return {c["n"]: c for c in record["citations"]}


def claims(answer: str) -> list[tuple[str, list[int]]]:
    """The answer split at its citation marks: (claim text, the passage numbers it cites).

    "A. [1] B [2]." and "A [1]. B [2]." both give [("A.", [1]), ("B", [2])]; text after the
    last mark is a claim with no citation.
    """
    found: list[tuple[str, list[int]]] = []
    end = 0
    for match in CLAIM.finditer(answer):
        found.append((match.group(1), [int(n) for n in MARK.findall(match.group(2))]))
        end = match.end()
    found.append((answer[end:], []))
    cleaned = [(text.strip().lstrip(".,;:!? ").strip(), numbers) for text, numbers in found]
    return [(text, numbers) for text, numbers in cleaned if re.search(r"\w", text)]


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def near_verbatim(claim: str, passage: str) -> bool:
    """At least 90% of the claim's words lie in runs of >= 3 words found in order in the passage."""
    claim_words, passage_words = words(claim), words(passage)
    if not claim_words:
        return False
    blocks = SequenceMatcher(None, claim_words, passage_words, autojunk=False).get_matching_blocks()
    run = min(MIN_RUN, len(claim_words))
    covered = sum(block.size for block in blocks if block.size >= run)
    return covered / len(claim_words) >= NEAR_VERBATIM


def supported_claims(record: Record) -> tuple[int, int]:
    """(claims found near-verbatim in one of the passages they cite, all claims) for one answer."""
    cited = cited_passages(record)
    parts = claims(record["answer"])
    supported = sum(
        any(n in cited and near_verbatim(text, cited[n]["text"]) for n in numbers) for text, numbers in parts
    )
    return supported, len(parts)


# --- the whole run -------------------------------------------------------------------------
_SCORES: ContextVar[dict[tuple[int, str], dict[str, Any]] | None] = ContextVar("scores", default=None)


@contextmanager
def scores_cached() -> Iterator[None]:
    """Inside the block each (record, question) is scored once, however often it is averaged: the
    bootstrap (intervals.py) averages the same records a thousand times. Records must stay alive and
    unchanged inside the block (the key is the record's identity)."""
    token = _SCORES.set({})
    try:
        yield
    finally:
        _SCORES.reset(token)


def question_scores(record: Record, question: Question) -> dict[str, Any]:
    cache = _SCORES.get()
    if cache is None:
        return score_question(record, question)
    key = (id(record), question.id)
    if key not in cache:
        cache[key] = score_question(record, question)
    return cache[key]


def score_question(record: Record, question: Question) -> dict[str, Any]:
    """Everything measured on one question; compute_metrics averages these."""
    rels = relevance(record, question) if question.answerable else []
    cited = list(cited_passages(record).values())
    good = [c for c in cited if holds_evidence(c["text"], question.evidence)]
    return {
        "rels": rels,
        "cited": len(cited),
        "cited_with_evidence": len(good),
        "sources_with_evidence": len({c["source"] for c in good}),
        "supported_answer": bool(good),
        "claims": supported_claims(record) if not record["abstained"] else (0, 0),
    }


def compute_metrics(questions: Sequence[Question], records: Sequence[Record]) -> dict[str, Any]:
    by_id = {q.id: q for q in questions}
    missing = [r["id"] for r in records if r["id"] not in by_id]
    if missing:
        raise ValueError(f"records for questions not in the question set: {', '.join(missing[:5])}")
    pairs = [(r, by_id[r["id"]]) for r in records]
    summary = {
        "questions": len(pairs),
        "answerable": sum(q.answerable for _, q in pairs),
        "unanswerable": sum(not q.answerable for _, q in pairs),
        **group_metrics(pairs),
        **latency(records),
    }
    summary["by_tag"] = {
        tag: {"n": len(group), **group_metrics(group, brief=True)}
        for tag, group in sorted(tag_groups(pairs).items())
    }
    return summary


def tag_groups(pairs: list[tuple[Record, Question]]) -> dict[str, list[tuple[Record, Question]]]:
    groups: dict[str, list[tuple[Record, Question]]] = {}
    for record, question in pairs:
        for tag in question.tags:
            groups.setdefault(tag, []).append((record, question))
    return groups


def group_metrics(pairs: list[tuple[Record, Question]], *, brief: bool = False) -> dict[str, float | None]:
    scored = [(r, q, question_scores(r, q)) for r, q in pairs]
    answerable = [(r, q, s) for r, q, s in scored if q.answerable]
    unanswerable = [r for r, q, _ in scored if not q.answerable]
    abstained = [q for r, q, _ in scored if r["abstained"]]
    correct = [
        (s["supported_answer"] and not r["abstained"]) if q.answerable else r["abstained"]
        for r, q, s in scored
    ]
    core = {
        "hit@5": mean([hit_at(s["rels"], 5) for _, _, s in answerable]),
        "mrr": mean([reciprocal_rank(s["rels"]) for _, _, s in answerable]),
        "supported_answer_rate": mean([float(s["supported_answer"]) for _, _, s in answerable]),
        "abstention_recall": mean([float(r["abstained"]) for r in unanswerable]),
        "correct_rate": mean([float(c) for c in correct]),
    }
    if brief:
        return core
    followups = [s for _, q, s in answerable if "followup" in q.tags]
    multi = [(q, s) for _, q, s in answerable if q.min_sources]
    claim_counts = [s["claims"] for _, _, s in scored]
    return {
        "hit@1": mean([hit_at(s["rels"], 1) for _, _, s in answerable]),
        "hit@3": mean([hit_at(s["rels"], 3) for _, _, s in answerable]),
        "hit@5": core["hit@5"],
        "evidence_recall@5": mean([evidence_recall_at(r, q, 5) for r, q, _ in answerable]),
        "mrr": core["mrr"],
        "ndcg@10": mean([ndcg_at(s["rels"], r.get("relevant_in_library", 0), 10) for r, _, s in answerable]),
        "citation_precision": ratio(
            sum(s["cited_with_evidence"] for _, _, s in answerable), sum(s["cited"] for _, _, s in answerable)
        ),
        "supported_answer_rate": core["supported_answer_rate"],
        "answer_support": ratio(sum(c[0] for c in claim_counts), sum(c[1] for c in claim_counts)),
        "abstention_precision": ratio(sum(not q.answerable for q in abstained), len(abstained)),
        "abstention_recall": core["abstention_recall"],
        "answered_when_answerable": mean([float(not r["abstained"]) for r, _, _ in answerable]),
        "multi_source_coverage": mean(
            [min(1.0, s["sources_with_evidence"] / q.min_sources) for q, s in multi]
        ),
        "followup_success": mean([hit_at(s["rels"], 5) for s in followups]),
        "correct_rate": core["correct_rate"],
    }


def latency(records: Sequence[Record]) -> dict[str, float | None]:
    values = [r["latency_ms"] for r in records]
    if not values:
        return {"latency_p50_ms": None, "latency_p95_ms": None}
    p50, p95 = np.percentile(values, [50, 95])
    return {"latency_p50_ms": round(float(p50), 1), "latency_p95_ms": round(float(p95), 1)}
