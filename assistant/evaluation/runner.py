"""Every question through Assistant.ask(question, history), one JSON-ready record per question."""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from assistant.evaluation.answer_metrics import answer_metrics, quoted_sentences
from assistant.evaluation.intervals import bootstrap_intervals
from assistant.evaluation.intervals import method as interval_method
from assistant.evaluation.metrics import Record, compute_metrics, holds_evidence, normalize, scores_cached
from assistant.evaluation.questions import Question

if TYPE_CHECKING:
    from assistant.assistant import Assistant
    from assistant.types import Answer, Passage


def run_eval(
    assistant: Assistant, questions: Sequence[Question], *, progress: bool = True, label: str = "Evaluating"
) -> tuple[list[Record], dict[str, Any]]:
    """Ask every question (with its history) and measure: (records, summary)."""
    library_texts = [p.text for p in library_passages(assistant)]
    records = []
    for question in tqdm(questions, desc=label, unit="q", disable=not progress):
        started = time.perf_counter()
        answer = assistant.ask(question.question, question.history)
        latency_ms = (time.perf_counter() - started) * 1000
        record = to_record(question, answer, latency_ms)
        record["relevant_in_library"] = sum(holds_evidence(t, question.evidence) for t in library_texts)
        record["quoted"] = quoted_sentences(answer)
        records.append(record)
    summary = measure(questions, records)
    summary["warnings"] = evidence_warnings(questions, library_texts)
    summary["config"] = run_config(assistant, len(library_texts))
    return records, summary


def measure(questions: Sequence[Question], records: Sequence[Record]) -> dict[str, Any]:
    """all_metrics plus a 95% bootstrap interval for each of its rates (`intervals`)."""
    summary = all_metrics(questions, records)
    with scores_cached():
        summary["intervals"] = bootstrap_intervals(records, partial(all_metrics, questions))
    summary["interval_method"] = interval_method()
    return summary


def all_metrics(questions: Sequence[Question], records: Sequence[Record]) -> dict[str, Any]:
    """compute_metrics plus the answer-level metrics (answer_metrics.py)."""
    return {**compute_metrics(questions, records), **answer_metrics(questions, records)}


def run_config(assistant: Assistant, chunks: int) -> dict[str, Any]:
    """What produced these numbers, so a summary can be reproduced."""
    settings = assistant.settings
    return {
        **assistant.retrieval.model_dump(),
        "min_relevance": settings.min_relevance,
        "answer_mode": settings.answer_mode,
        "chunk_tokens": settings.chunk_tokens,
        "embedding_model": str(settings.embedding_model or "bundled all-MiniLM-L6-v2"),
        "chunks_in_store": chunks,
    }


def library_passages(assistant: Assistant) -> list[Passage]:
    catalog = assistant.library.catalog
    return list(catalog.passages(catalog.chunk_ids()).values())


def to_record(question: Question, answer: Answer, latency_ms: float) -> Record:
    cited: dict[int, Record] = {}
    for citation in answer.citations:  # one entry per cited passage, however many sentences cite it
        cited.setdefault(citation.number, {"n": citation.number, **_passage_fields(citation.passage)})
    return {
        "id": question.id,
        "question": question.question,
        "standalone_question": answer.standalone_question,
        "answer": answer.text,
        "abstained": answer.abstained,
        "citations": list(cited.values()),
        "retrieved": [
            {**_passage_fields(p), "score": p.score, "relevance": p.relevance} for p in answer.retrieved
        ],
        "latency_ms": round(latency_ms, 1),
    }


def _passage_fields(passage: Passage) -> Record:
    return {"source": passage.source, "title": passage.title, "page": passage.page, "text": passage.text}


def evidence_warnings(questions: Sequence[Question], library_texts: list[str]) -> list[str]:
    """Evidence phrases no stored passage contains: a typo in the gold file, or a chunk boundary
    cutting the phrase in two; either way no retrieval can ever find it."""
    library = [normalize(t) for t in library_texts]
    return [
        f"{q.id}: evidence not in any passage: “{phrase}”"
        for q in questions
        for phrase in q.evidence
        if not any(normalize(phrase) in text for text in library)
    ]
