"""The default answerer, no LLM: the retrieved sentences that best answer the question, quoted verbatim.

`ExtractiveAnswerer` is the whole of it: it scores the retrieved sentences (the rerank both answer
modes use), decides when the library does not cover a question, chooses and composes the answer,
and checks that a specific-fact question (a count, a date, a place) gets a sentence with that fact.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from assistant.answering.citations import Sentence, passage_sentences
from assistant.answering.coverage import coverage_of, expected_kind, missing_fact, uncovered_terms
from assistant.answering.turn import ScoredSentence, Turn
from assistant.sentences import ChunkSentences
from assistant.store import Embedder
from assistant.text import content_words
from assistant.types import Answer, Citation, Passage

MIN_WORDS = 5  # shorter "sentences" are headings, bylines or fragments
ABSTAIN_TEXT = (
    "The library does not cover this question: no passage answers it closely enough. "
    "The nearest passages are listed below in case they help."
)


StoredSentences = Callable[[list[str]], dict[str, ChunkSentences]]  # chunk ids -> their stored vectors


class SentenceVectors:
    """Unit-length sentence embeddings, one row per sentence asked for, float32.

    Read from the vectors stored with each chunk at ingest (assistant/sentences.py), so answering a
    question embeds only the question. A sentence with none stored (a store not yet upgraded by an
    ingest, a passage from elsewhere) is encoded here and kept in a small LRU cache. A feature
    function (e.g. a fitted finding classifier) takes them from here too.
    """

    def __init__(self, embedder: Embedder, stored: StoredSentences | None = None, size: int = 20000) -> None:
        self.embedder = embedder
        self.stored = stored
        self.cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self.size = size

    def __call__(self, sentences: list[Sentence]) -> np.ndarray:
        found = self.stored(list({s.passage.id for s in sentences})) if self.stored and sentences else {}
        spans = {chunk_id: made.by_span() for chunk_id, made in found.items()}
        rows = [spans.get(s.passage.id, {}).get(s.span) for s in sentences]
        missing = [s.text for s, row in zip(sentences, rows, strict=True) if row is None]
        encoded = self.encode(missing) if missing else {}
        return np.stack(
            [encoded[s.text] if row is None else row for s, row in zip(sentences, rows, strict=True)]
        ).astype(np.float32)

    def encode(self, texts: list[str]) -> dict[str, np.ndarray]:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            for text, vector in zip(missing, self.embedder.encode(missing), strict=True):
                self.cache[text] = vector
        for text in texts:
            self.cache.move_to_end(text)
        found = {t: self.cache[t] for t in texts}
        while len(self.cache) > self.size:
            self.cache.popitem(last=False)
        return found


CJK = re.compile(r"[\u3000-\u9fff\uac00-\ud7af]")


def score_sentences(
    question: str,
    query_vector: np.ndarray,
    passages: list[Passage],
    vectors: SentenceVectors,
    prefer: Callable[[Sentence], bool] | None = None,
) -> list[ScoredSentence]:
    """Every answer-sized sentence of the passages, scored by how well it answers; best first."""
    quotable = [p for p in passages if p.quotable]  # reference lists etc. are found, never quoted
    candidates = [s for p in quotable for s in passage_sentences(p) if len(s.text.split()) >= MIN_WORDS]
    if not candidates:
        return []
    similarity = vectors(candidates) @ query_vector
    question_words = content_words(question)
    question_script = _is_cjk(question)
    rank_of = {p.id: rank for rank, p in enumerate(passages)}
    scored = []
    for sentence, sim in zip(candidates, similarity, strict=True):
        overlap = len(question_words & content_words(sentence.text)) / max(1, len(question_words))
        # Closeness in meaning first; shared words and the passage's rank break near-ties.
        score = float(sim) + 0.15 * overlap - 0.02 * rank_of[sentence.passage.id]
        if prefer is not None and prefer(sentence):
            score += 0.1  # it carries the kind of fact the question asks for
        if _is_cjk(sentence.text) != question_script:
            score -= 0.5  # answer in the question's language (the model ranks across scripts poorly)
        scored.append((sentence, score))
    return sorted(scored, key=lambda item: item[1], reverse=True)


def rerank_passages(passages: list[Passage], scored: list[ScoredSentence]) -> list[Passage]:
    """Passages ordered by their best sentence: the one that answers the question comes first."""
    best: dict[str, float] = {}
    for sentence, score in scored:
        best.setdefault(sentence.passage.id, score)
    return sorted(passages, key=lambda p: best.get(p.id, float("-inf")), reverse=True)


def choose_sentences(
    scored: list[ScoredSentence],
    passages: list[Passage],
    *,
    max_sentences: int = 4,
    max_words: int = 120,
    passages_read: int = 4,
) -> list[ScoredSentence]:
    """The best few sentences of the top passages: near the best score, no near-duplicates."""
    readable = {p.id for p in passages[:passages_read]}
    scored = [item for item in scored if item[0].passage.id in readable]
    if not scored:
        return []
    best = scored[0][1]
    chosen: list[ScoredSentence] = []
    words = 0
    for sentence, score in scored:
        if len(chosen) >= max_sentences or score < best - 0.12:
            break
        length = len(sentence.text.split())
        if chosen and words + length > max_words:
            continue
        if any(_near_duplicate(sentence.text, c.text) for c, _ in chosen):
            continue
        chosen.append((sentence, score))
        words += length
    return chosen


def _is_cjk(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(1 for c in letters if CJK.match(c)) > 0.3 * len(letters)


def compose(chosen: list[ScoredSentence], passages: list[Passage]) -> tuple[str, list[Citation]]:
    """Order the sentences to read well (by passage rank, then position) and number the citations."""
    order = {p.id: rank for rank, p in enumerate(passages)}
    ordered = sorted(chosen, key=lambda item: (order[item[0].passage.id], item[0].span[0]))
    numbers: dict[str, int] = {}
    parts, citations = [], []
    for sentence, _ in ordered:
        number = numbers.setdefault(sentence.passage.id, len(numbers) + 1)
        parts.append(f"{sentence.text} [{number}]")
        citations.append(Citation(number, sentence.passage, sentence.text, sentence.span))
    return " ".join(parts), citations


def _near_duplicate(a: str, b: str) -> bool:
    wa, wb = set(re.findall(r"\w+", a.lower())), set(re.findall(r"\w+", b.lower()))
    return len(wa & wb) / max(1, len(wa | wb)) > 0.7


@dataclass
class ExtractiveAnswerer:
    """Rerank, abstain, or answer with the best sentences of the retrieved passages, each cited."""

    vectors: SentenceVectors
    max_sentences: int = 4
    max_words: int = 120
    min_relevance: float = 0.25  # below this best-passage similarity to the question: abstain

    def rerank(self, turn: Turn) -> Turn:
        """Score every sentence of the retrieved passages; the passage with the best one goes first."""
        assert turn.query_vector is not None
        turn.scored = score_sentences(
            turn.standalone, turn.query_vector, turn.passages, self.vectors, _fact_check(turn.standalone)
        )
        turn.passages = rerank_passages(turn.passages, turn.scored)
        turn.chosen = choose_sentences(
            turn.scored, turn.passages, max_sentences=self.max_sentences, max_words=self.max_words
        )
        return turn

    def should_abstain(self, passages: list[Passage]) -> bool:
        best = max((p.relevance or 0.0 for p in passages), default=0.0)
        return best < self.min_relevance

    def abstain(self, turn: Turn, note: str | None = None) -> Answer:
        """Not covered: the nearest passages, and the question's key terms none of them mentions."""
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

    def answer(self, turn: Turn) -> Answer:
        """The chosen sentences, cited; an abstention when none answers or a wanted fact is missing."""
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
            coverage=coverage,
            uncovered=uncovered,
        )


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
