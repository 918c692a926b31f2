"""Answer-level metrics: does the answer itself state the finding? Formulas in evals/README.md.

Kept apart from metrics.py (retrieval and passage-level citation metrics): these judge the quoted
sentences and the answer text, and need two extra record fields the runner adds: `quoted` (one
entry per quoted sentence: `n`, `source`, `sentence`, and `role` when known) and, for a question
asked with its evidence documents left out, `left_out`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.evaluation.metrics import Record, holds_evidence, mean, normalize, ratio
from assistant.evaluation.questions import Question

if TYPE_CHECKING:
    from assistant.types import Answer

FINDINGS_TAG = "findings"  # the question's documents label their findings (PubMedQA's sections)
CITATION_MARKS = re.compile(r"\s*(?:\[\d{1,3}\]\s*)+")
MIN_SENTENCE_WORDS = 3  # a shorter piece inside an evidence phrase is a fragment, not evidence


def quoted_sentences(answer: Answer) -> list[Record]:
    """One entry per sentence the answer quotes, in answer order."""
    return [{"n": c.number, "source": c.source, "sentence": c.sentence} for c in answer.citations]


def answer_text(answer: str) -> str:
    """The answer's own words: citation marks removed, so "finding [1] continues" reads as one run."""
    return CITATION_MARKS.sub(" ", answer).strip()


def carries_evidence(record: Record, question: Question) -> bool:
    """The answer text itself (not only a passage it cites) holds an evidence phrase."""
    return not record["abstained"] and holds_evidence(answer_text(record["answer"]), question.evidence)


def sentence_holds_evidence(sentence: str, evidence: Iterable[str]) -> bool:
    """The quoted sentence holds an evidence phrase, or is itself part of one (a long phrase may
    span sentences), counting only sentences of at least MIN_SENTENCE_WORDS words."""
    body = normalize(sentence)
    phrases = [normalize(e) for e in evidence]
    return any(p in body for p in phrases) or (
        len(body.split()) >= MIN_SENTENCE_WORDS and any(body in p for p in phrases)
    )


def is_document(source: str, names: Iterable[str]) -> bool:
    """A source key names one of the documents: by its key, or by its file name without suffix."""
    return any(source == name or Path(source).stem == name for name in names)


def found_finding(record: Record, question: Question) -> bool:
    """The answer quotes a finding sentence (results or conclusion) of one of its documents."""
    return not record["abstained"] and any(
        q.get("role") == "finding" and is_document(q["source"], question.documents)
        for q in record.get("quoted", [])
    )


def document_hit_at(record: Record, question: Question, k: int) -> float:
    return float(any(is_document(p["source"], question.documents) for p in record["retrieved"][:k]))


def answer_metrics(questions: Sequence[Question], records: Sequence[Record]) -> dict[str, Any]:
    """The answer-level metrics of one run (null where a metric has no question to average over)."""
    by_id = {q.id: q for q in questions}
    pairs = [(r, by_id[r["id"]]) for r in records if r["id"] in by_id]
    answerable = [(r, q) for r, q in pairs if q.answerable]
    answered = [(r, q) for r, q in answerable if not r["abstained"]]
    quoted = [(s, q) for r, q in answered for s in r.get("quoted", [])]
    sectioned = [(r, q) for r, q in answerable if FINDINGS_TAG in q.tags]
    sectioned_quotes = [s for r, q in sectioned if not r["abstained"] for s in r.get("quoted", [])]
    with_documents = [(r, q) for r, q in answerable if q.documents]
    return {
        "answer_carries_evidence": mean([float(carries_evidence(r, q)) for r, q in answerable]),
        "sentence_citation_precision": ratio(
            sum(sentence_holds_evidence(s["sentence"], q.evidence) for s, q in quoted), len(quoted)
        ),
        "finding_rate": mean([float(found_finding(r, q)) for r, q in sectioned]),
        "setup_share": ratio(sum(s.get("role") == "setup" for s in sectioned_quotes), len(sectioned_quotes)),
        "document_hit@1": mean([document_hit_at(r, q, 1) for r, q in with_documents]),
        "document_hit@5": mean([document_hit_at(r, q, 5) for r, q in with_documents]),
    }


def leave_out_metrics(records: Sequence[Record]) -> dict[str, Any]:
    """Over questions asked with their evidence documents left out: the share that abstained, and
    how many of those records actually left something out."""
    left_out = [r for r in records if r.get("left_out")]
    return {
        "left_out_questions": len(left_out),
        "leave_out_abstention": mean([float(r["abstained"]) for r in left_out]),
    }
