"""What happened to one question, in the words an evaluator filters by, and why it missed.

Four outcomes cover every question: `supported` (answered, and a cited passage holds the evidence),
`unsupported` (answered without cited evidence, or answered a question the library does not
cover), `abstained right` (an unanswerable question declined) and `abstained wrong` (an answerable
question declined). The first and third are passes, the others failures.
"""

from __future__ import annotations

from assistant.evaluation.metrics import Record, holds_evidence, relevance
from assistant.evaluation.questions import Question

OUTCOMES = ("supported", "unsupported", "abstained right", "abstained wrong")
PASSES = frozenset({"supported", "abstained right"})


def outcome(record: Record, question: Question) -> str:
    if record["abstained"]:
        return "abstained wrong" if question.answerable else "abstained right"
    if question.answerable and any(holds_evidence(c["text"], question.evidence) for c in record["citations"]):
        return "supported"
    return "unsupported"


def passed(record: Record, question: Question) -> bool:
    return outcome(record, question) in PASSES


def evidence_rank(record: Record, question: Question) -> int | None:
    """Rank (1-based) of the first retrieved passage holding evidence, None if none does."""
    rels = relevance(record, question) if question.answerable else []
    return rels.index(1) + 1 if 1 in rels else None


def miss_reason(record: Record, question: Question) -> str:
    """Why a question failed (empty when it passed)."""
    if passed(record, question):
        return ""
    if not question.answerable:
        return "answered an unanswerable question"
    why = "abstained" if record["abstained"] else "no cited passage holds the evidence"
    rank = evidence_rank(record, question)
    return why + (f"; evidence retrieved at rank {rank}" if rank else "; evidence not retrieved")
