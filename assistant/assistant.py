"""The Assistant: one object behind the CLI, the UI and the evaluation, built from settings.

The pipeline is a LangChain runnable chain, rewrite -> retrieve -> answer, so the extractive and
the LLM answerers are interchangeable steps and LangChain callbacks see every stage.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda

from assistant.answering.citations import Sentence
from assistant.answering.coverage import coverage_of, expected_kind, missing_fact, uncovered_terms
from assistant.answering.extractive import (
    ScoredSentence,
    SentenceVectors,
    choose_sentences,
    compose,
    rerank_passages,
    score_sentences,
)
from assistant.followups import Message, current_topic, standalone_question
from assistant.ingest import ingest
from assistant.library import Library
from assistant.retrieval import LibrarySearch
from assistant.settings import Settings
from assistant.types import NO_FILTERS, Answer, Filters, IngestReport, Passage

# Asked before a server reports ready: questions of a few lengths, so the model, Chroma's index, the
# catalog's pages and torch's per-shape set-up are all warm for the first real question.
WARM_UP_QUESTIONS = (
    "partnership",
    "How do community organizations and hospitals share data?",
    "What did the evaluation of the community health worker program find about referrals, funding and"
    " trust between the partners over the first two years?",
)

ABSTAIN_TEXT = (
    "The library does not cover this question: no passage answers it closely enough. "
    "The nearest passages are listed below in case they help."
)


@dataclass
class Turn:
    """What flows through the chain for one question."""

    question: str
    history: Sequence[Message] = ()
    filters: Filters = NO_FILTERS
    mode: str = "extractive"
    standalone: str = ""
    passages: list[Passage] = field(default_factory=list)
    query_vector: np.ndarray | None = None
    scored: list[ScoredSentence] = field(default_factory=list)
    chosen: list[ScoredSentence] = field(default_factory=list)  # what both answerers quote from
    timings: dict[str, float] = field(default_factory=dict)


def _timed(name: str, step: Callable[[Turn], Turn | Answer]) -> Runnable:
    def run(turn: Turn) -> Turn | Answer:
        started = time.perf_counter()
        result = step(turn)
        turn.timings[name] = round((time.perf_counter() - started) * 1000, 1)
        return result

    return RunnableLambda(run, name=name)


class Assistant:
    def __init__(self, settings: Settings | None = None, library: Library | None = None) -> None:
        self.settings = settings or Settings()
        self.library = library or Library.open(self.settings)
        self.search = LibrarySearch(self.library)
        self.sentence_vectors = SentenceVectors(self.library.embedder, self.library.sentence_vectors)
        self.retrieval = self.settings.retrieval
        self._llm = None
        self.prepare_chain, self.chain = self._build_chains()

    def _build_chains(self) -> tuple[Runnable, Runnable]:
        """rewrite -> retrieve -> rerank (the preparation streaming answerers reuse) -> answer."""
        prepare = (
            _timed("rewrite", self._rewrite)
            | _timed("retrieve", self._retrieve)
            | _timed("rerank", self._rerank)
        )
        return prepare, prepare | _timed("answer", self._answer)

    # --- public API ------------------------------------------------------------------------
    def ask(
        self,
        question: str,
        history: Sequence[Message] = (),
        *,
        filters: Filters = NO_FILTERS,
        mode: str | None = None,
        config: RunnableConfig | None = None,
    ) -> Answer:
        question = question.strip()
        if not question:
            raise ValueError("the question is empty")
        started = time.perf_counter()
        turn = Turn(question, tuple(history), filters, mode or self.settings.answer_mode)
        answer: Answer = self.chain.invoke(turn, config=config)
        answer.timings = {**turn.timings, "total": round((time.perf_counter() - started) * 1000, 1)}
        return answer

    def stream(
        self,
        question: str,
        history: Sequence[Message] = (),
        *,
        filters: Filters = NO_FILTERS,
        mode: str | None = None,
    ) -> Iterator[str | Answer]:
        """Text pieces as they are ready, then the final Answer (whose text is authoritative)."""
        mode = mode or self.settings.answer_mode
        if mode == "llm":
            yield from self.llm.stream_answer(self, question, history, filters)
            return
        answer = self.ask(question, history, filters=filters, mode=mode)
        yield from _pieces(answer.text)
        yield answer

    def warm_up(self) -> float:
        """Load the model and warm the store by answering a few questions; returns the seconds taken."""
        started = time.perf_counter()
        for question in WARM_UP_QUESTIONS:
            self.ask(question)
        return time.perf_counter() - started

    def ingest(self, paths: Sequence[Path], *, prune: bool = False, progress: bool = True) -> IngestReport:
        return ingest(self.library, paths, prune=prune, progress=progress)

    def prepare(self, turn: Turn) -> Turn:
        """The chain before the answer step, for answerers that stream."""
        return self.prepare_chain.invoke(turn)

    @property
    def llm(self):  # built on first use: the LLM packages are optional
        if self._llm is None:
            from assistant.answering.llm import LLMAnswerer

            self._llm = LLMAnswerer.from_settings(self.settings)
        return self._llm

    # --- chain steps -----------------------------------------------------------------------
    def _rewrite(self, turn: Turn) -> Turn:
        if turn.mode == "llm" and current_topic(turn.history):
            turn.standalone = self.llm.rewrite(turn.question, turn.history)
        else:
            turn.standalone = standalone_question(turn.question, turn.history)
        return turn

    def _retrieve(self, turn: Turn) -> Turn:
        turn.passages, turn.query_vector = self.search.search(turn.standalone, self.retrieval, turn.filters)
        return turn

    def _rerank(self, turn: Turn) -> Turn:
        """Score every sentence of the retrieved passages; the passage with the best one goes first."""
        assert turn.query_vector is not None
        turn.scored = score_sentences(
            turn.standalone,
            turn.query_vector,
            turn.passages,
            self.sentence_vectors,
            _fact_check(turn.standalone),
        )
        turn.passages = rerank_passages(turn.passages, turn.scored)
        turn.chosen = choose_sentences(
            turn.scored,
            turn.passages,
            max_sentences=self.settings.answer_max_sentences,
            max_words=self.settings.answer_max_words,
        )
        return turn

    def _answer(self, turn: Turn) -> Answer:
        if self.should_abstain(turn.passages):
            return self.abstain(turn)
        if turn.mode == "llm":
            return self.llm.answer(self, turn)
        return self.extractive(turn)

    # --- answer pieces shared by the answerers ----------------------------------------------
    def should_abstain(self, passages: list[Passage]) -> bool:
        best = max((p.relevance or 0.0 for p in passages), default=0.0)
        return best < self.settings.min_relevance

    def abstain(self, turn: Turn, note: str | None = None) -> Answer:
        uncovered = uncovered_terms(turn.standalone, turn.passages)
        text = ABSTAIN_TEXT + (f" No passage found mentions {', '.join(uncovered)}." if uncovered else "")
        return Answer(
            question=turn.question,
            text=text,
            citations=[],
            retrieved=turn.passages,
            abstained=True,
            standalone_question=turn.standalone,
            mode=turn.mode,
            notes=[note] if note else [],
            coverage="not_covered",
            uncovered=uncovered,
        )

    def extractive(self, turn: Turn, mode: str = "extractive", notes: list[str] | None = None) -> Answer:
        chosen = turn.chosen
        if not chosen:
            return self.abstain(turn, "no sentence in the retrieved passages answers the question")
        gap = missing_fact(turn.standalone, [s for s, _ in chosen], _context_of(s.passage for s, _ in chosen))
        if gap:
            return self.abstain(turn, gap)
        text, citations = compose(chosen, turn.passages)
        coverage, uncovered = coverage_of(turn.standalone, [c.passage for c in citations])
        return Answer(
            question=turn.question,
            text=text,
            citations=citations,
            retrieved=turn.passages,
            abstained=False,
            standalone_question=turn.standalone,
            mode=mode,
            notes=notes or [],
            coverage=coverage,
            uncovered=uncovered,
        )

    def with_retrieval(self, **changes: object) -> Assistant:
        """A copy that retrieves differently (for comparisons); shares the model and the store."""
        other = Assistant.__new__(Assistant)
        other.__dict__.update(self.__dict__)
        other.retrieval = self.retrieval.model_copy(update=changes)
        other.prepare_chain, other.chain = other._build_chains()
        return other


def _fact_check(question: str) -> Callable[[Sentence], bool] | None:
    """For a specific-fact question: does a sentence (in its document) carry that fact?"""
    if expected_kind(question) is None:
        return None
    return lambda sentence: missing_fact(question, [sentence], _context_of([sentence.passage])) is None


def _context_of(passages: Iterable[Passage]) -> str:
    """Passage texts plus their documents' bibliographic facts (names a question may use)."""
    parts = []
    for passage in {p.id: p for p in passages}.values():
        facts = [str(v) for k, v in passage.metadata.items() if k not in ("ordinal", "seed", "pipeline")]
        parts += [passage.text, passage.title, *facts]
    return "\n".join(parts)


def _pieces(text: str, words: int = 4) -> Iterator[str]:
    tokens = text.split(" ")
    for start in range(0, len(tokens), words):
        yield " ".join(tokens[start : start + words]) + (" " if start + words < len(tokens) else "")
