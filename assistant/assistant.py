"""The Assistant: one object behind the CLI, the UI and the evaluation, built from settings.

The pipeline is a LangChain runnable chain, rewrite -> retrieve -> rerank -> answer, so LangChain
callbacks see every stage. A question is prepared (the first three steps) and timed here, once,
for both answer modes; the answer step asks the extractive answerer or the LLM answerer
(answering/), which read the prepared Turn and never call back into the Assistant.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda

from assistant.answering.abstention import lead_over_next
from assistant.answering.coverage import described_documents, key_terms, phrase_asked, term_documents
from assistant.answering.extractive import ExtractiveAnswerer, SentenceVectors
from assistant.answering.names import naming_documents, unmentioned_names
from assistant.answering.turn import Turn
from assistant.followups import Message, current_topic, standalone_question
from assistant.ingest import ingest
from assistant.library import Library
from assistant.retrieval import LibrarySearch
from assistant.settings import Settings
from assistant.types import NO_FILTERS, Answer, Filters, IngestReport

TERM_DOCUMENTS = 20  # "What is X?" is asked of the documents using X when no more do than this
FOLLOW_UP_TERMS = 3  # a follow-up with at most this many topic words of its own leans on the topic
# Asked before a server reports ready: questions of a few lengths, so the model, Chroma's index, the
# catalog's pages and torch's per-shape set-up are all warm for the first real question.
WARM_UP_QUESTIONS = (
    "partnership",
    "How do community organizations and hospitals share data?",
    "What did the evaluation of the community health worker program find about referrals, funding and"
    " trust between the partners over the first two years?",
)


def _timed(name: str, step: Callable[[Turn], Turn | Answer]) -> Runnable:
    def run(turn: Turn) -> Turn | Answer:
        started = time.perf_counter()
        result = step(turn)
        turn.timings[name] = _ms(started)
        return result

    return RunnableLambda(run, name=name)


class Assistant:
    def __init__(self, settings: Settings | None = None, library: Library | None = None) -> None:
        self.settings = settings or Settings()
        self.library = library or Library.open(self.settings)
        self.search = LibrarySearch(self.library)
        self.extractive = ExtractiveAnswerer(
            SentenceVectors(self.library.embedder, self.library.sentence_vectors),
            rarity=self.library.term_rarity,
            max_sentences=self.settings.answer_max_sentences,
            max_words=self.settings.answer_max_words,
            keep_share=self.settings.answer_keep_share,
            min_relevance=self.settings.min_relevance,
        )
        self.retrieval = self.settings.retrieval
        self._llm = None
        self.prepare_chain, self.chain = self._build_chains()

    def _build_chains(self) -> tuple[Runnable, Runnable]:
        """rewrite -> retrieve -> rerank (the preparation streaming reuses) -> answer."""
        prepare = (
            _timed("rewrite", self._rewrite)
            | _timed("retrieve", self._retrieve)
            | _timed("rerank", self.extractive.rerank)
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
        started = time.perf_counter()
        turn = self._turn(question, history, filters, mode)
        answer: Answer = self.chain.invoke(turn, config=config)
        answer.timings = {**turn.timings, "total": _ms(started)}
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
        started = time.perf_counter()
        turn = self.prepare(self._turn(question, history, filters, mode))
        answer_started = time.perf_counter()
        for piece in self._answer_pieces(turn):
            if isinstance(piece, Answer):
                turn.timings["answer"] = _ms(answer_started)
                piece.timings = {**turn.timings, "total": _ms(started)}
            yield piece

    def warm_up(self) -> float:
        """Load the model and warm the store by answering a few questions; returns the seconds taken."""
        started = time.perf_counter()
        for question in WARM_UP_QUESTIONS:
            self.ask(question)
        return time.perf_counter() - started

    def ingest(self, paths: Sequence[Path], *, prune: bool = False, progress: bool = True) -> IngestReport:
        return ingest(self.library, paths, prune=prune, progress=progress)

    def prepare(self, turn: Turn) -> Turn:
        """The chain before the answer step: rewritten, retrieved, reranked."""
        return self.prepare_chain.invoke(turn)

    @property
    def llm(self):  # built on first use: the LLM packages are optional
        if self._llm is None:
            from assistant.answering.llm import LLMAnswerer

            self._llm = LLMAnswerer.from_settings(self.settings)
        return self._llm

    def with_retrieval(self, **changes: object) -> Assistant:
        """A copy that retrieves differently (for comparisons); shares the model and the store."""
        other = Assistant.__new__(Assistant)
        other.__dict__.update(self.__dict__)
        other.retrieval = self.retrieval.model_copy(update=changes)
        other.prepare_chain, other.chain = other._build_chains()
        return other

    # --- chain steps -----------------------------------------------------------------------
    def _turn(self, question: str, history: Sequence[Message], filters: Filters, mode: str | None) -> Turn:
        question = question.strip()
        if not question:
            raise ValueError("the question is empty")
        return Turn(question, tuple(history), filters, mode or self.settings.answer_mode)

    def _rewrite(self, turn: Turn) -> Turn:
        if turn.mode == "llm" and current_topic(turn.history):
            turn.standalone = self.llm.rewrite(turn.question, turn.history)
        else:
            turn.standalone = standalone_question(turn.question, turn.history)
        return turn

    def _retrieve(self, turn: Turn) -> Turn:
        turn.passages, turn.query_vector = self.search.search(turn.standalone, self.retrieval, turn.filters)
        self._search_named_documents(turn)
        self._search_term_documents(turn)
        topic = current_topic(turn.history)
        # A follow-up that says little of its own topic ("How many interviews did it include?"):
        # "it" is what the topic question found.
        leans = len(key_terms(turn.question)) <= FOLLOW_UP_TERMS
        if topic and turn.standalone != turn.question and leans:
            found, _ = self.search.search(topic, self.retrieval, turn.filters)
            asked = Turn(topic, filters=turn.filters, standalone=topic, passages=found)
            self._search_named_documents(asked)  # "the JGIM study": the study the topic named
            # the one its answer quoted from: the closest of those it names or describes, if any
            # ("the California Policy Lab study": its organization), else the closest
            named = naming_documents(topic, asked.passages) or described_documents(topic, asked.passages)
            quoted = [p.source for p in asked.passages if not named or p.source in named]
            turn.topic_documents = tuple(quoted[:1])
        # the best document, when it stands out (the study asked about), is short and what was found
        # of it only sets it up, is read whole: its finding is in a chunk the question did not reach
        if lead_over_next(turn.passages) >= self.retrieval.whole_document_lead:
            turn.passages = self.search.read_whole(
                turn.passages, turn.query_vector, self.retrieval.whole_documents, self.extractive.sets_up_only
            )
        return turn

    def _search_term_documents(self, turn: Turn) -> None:
        """A "what is X?" question (or one quoting a phrase, a title) with no passage found using X
        as one phrase is asked of the few documents that do: in a library of thousands, "What are
        social determinants of health?" finds abstracts on social and health matters, not the brief
        that uses the phrase."""
        term = phrase_asked(turn.question)
        if not term or term_documents(turn.question, turn.passages):
            return
        using = turn.filters.admit(self.library.catalog.documents_with_phrase(term, TERM_DOCUMENTS + 1))
        if not using or len(using) > TERM_DOCUMENTS:
            return
        found, vector = self.search.search(
            turn.standalone, self.retrieval, replace(turn.filters, sources=tuple(using))
        )
        if term_documents(turn.question, found):
            turn.passages, turn.query_vector = found, vector

    def _search_named_documents(self, turn: Turn) -> None:
        """A question may name a paper by what only its bibliographic facts say ("the JGIM study":
        the journal's acronym is in its venue, not its text). When no retrieved passage's text or
        title mentions a name the question uses and a few documents' facts do, the question is
        asked of those, even when one of them was retrieved: on a small library every document is,
        however far from the question ("Who were the interviewees in the JGIM study?")."""
        unknown = unmentioned_names(turn.question, " ".join(f"{p.title} {p.text}" for p in turn.passages))
        named = turn.filters.admit(self.library.documents_naming(unknown))
        if not named:
            return
        # The name has done its work (it chose the documents); the rest of the question is what the
        # passages are compared with: "How many organizations were interviewed in the study?"
        standalone = " ".join(
            re.sub(rf"\b(?:{'|'.join(map(re.escape, unknown))})\b", " ", turn.standalone).split()
        )
        found, vector = self.search.search(
            standalone, self.retrieval, replace(turn.filters, sources=tuple(named))
        )
        if found:
            turn.named_as = turn.standalone
            turn.standalone, turn.passages, turn.query_vector = standalone, found, vector

    def _answer(self, turn: Turn) -> Answer:
        *_, answer = self._answer_pieces(turn)
        return answer

    def _answer_pieces(self, turn: Turn) -> Iterator[str | Answer]:
        """The answer to a prepared turn as text pieces, then the Answer: the one place that picks
        between abstaining, the LLM and the extractive answerer."""
        note = self.extractive.should_abstain(turn)
        if note:
            answer = self.extractive.abstain(turn, note)
        elif turn.mode == "llm":
            yield from self.llm.answer_pieces(turn, self.extractive.answer)
            return
        else:
            answer = self.extractive.answer(turn)
        yield from _pieces(answer.text)
        yield answer


def _pieces(text: str, words: int = 4) -> Iterator[str]:
    tokens = text.split(" ")
    for start in range(0, len(tokens), words):
        yield " ".join(tokens[start : start + words]) + (" " if start + words < len(tokens) else "")


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
