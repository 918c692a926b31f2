"""The default answerer, no LLM: the retrieved sentences that best answer the question, quoted verbatim.

`ExtractiveAnswerer` is the whole of it: it scores the retrieved sentences (the rerank both answer
modes use), decides when the library does not cover a question, chooses (among what quoting.py
allows) and composes the answer, and checks that a count, date or place asked for is quoted."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from assistant.answering.abstention import Rarity, abstention_features, answerable, question_kind
from assistant.answering.citations import Sentence, passage_sentences
from assistant.answering.composing import compose, with_what_it_refers_to
from assistant.answering.coverage import (
    coverage_of,
    key_terms,
    mentions,
    readable_terms,
    term_documents,
    uncovered_terms,
    undefined_term,
    undescribed,
)
from assistant.answering.facts import fact_check, missing_fact, names_something_new, uncounted
from assistant.answering.findings import ANSWER_FEATURES, answer_features, finding_features, is_open_question
from assistant.answering.models import load_model
from assistant.answering.names import (
    acronyms_asked,
    context_of,
    names_none_of,
    unmentioned_names,
    with_acronyms_spelled,
)
from assistant.answering.quoting import (
    choose_sentences,
    on_the_best_documents_topic,
    quotable_candidates,
)
from assistant.answering.study_parts import SentenceCheck, keep_setup_out
from assistant.answering.turn import ScoredSentence, Turn
from assistant.retrieval import SHORT_DOCUMENT_CHUNKS  # an abstract: where position says finding or set-up
from assistant.sentences import ChunkSentences, encode_passages
from assistant.store import Embedder
from assistant.text import content_words, other_language, written_in_cjk
from assistant.types import Answer, Passage

MIN_WORDS = 5  # shorter "sentences" are headings, bylines or fragments
WEB_ADDRESS = re.compile(r"https?://|www\.|\.(?:com|org|gov|edu|net)\b", re.I)
MIN_CJK_CHARACTERS = 10  # the same for Chinese, Japanese or Korean, written without spaces
FACT_SENTENCES = 2  # a count, date or name asked for must be in the answer's first two sentences
ABSTAIN_TEXT = (
    "The library does not cover this question: no passage answers it closely enough. "
    "The nearest passages are listed below in case they help."
)


# The embedding model (all-MiniLM-L6-v2) was trained on English: a question in another language is
# matched to passages by the few words it shares with English, if any.
NOT_ENGLISH_TEXT = (
    "This question does not seem to be in English. The assistant compares questions with passages "
    "in English, so asking it in English may find an answer."
)


StoredSentences = Callable[[list[str]], dict[str, ChunkSentences]]  # chunk ids -> their stored vectors


class SentenceVectors:
    """Unit-length sentence embeddings, one row per sentence asked for, float32.

    Read from the vectors stored with each chunk at ingest (assistant/sentences.py), so answering a
    question embeds only the question. A passage with none stored (a store not yet upgraded by an
    ingest, a passage from elsewhere) or stored when its sentences were split otherwise is run through
    the model here, the same way, and kept in a small LRU cache. A feature function (e.g. a fitted
    finding classifier) takes them from here too.
    """

    def __init__(self, embedder: Embedder, stored: StoredSentences | None = None, size: int = 2000) -> None:
        self.embedder = embedder
        self.stored = stored
        self.cache: OrderedDict[tuple[str, str], dict[tuple[int, int], np.ndarray]] = OrderedDict()
        self.size = size  # passages

    def __call__(self, sentences: list[Sentence]) -> np.ndarray:
        passages = {s.passage.id: s.passage for s in sentences}
        found = self.stored(list(passages)) if self.stored and sentences else {}
        spans = {chunk_id: made.by_span() for chunk_id, made in found.items()}
        stale = {s.passage.id for s in sentences if s.span not in spans.get(s.passage.id, {})}
        spans |= self.encode([p for i, p in passages.items() if i in stale])
        return np.stack([spans[s.passage.id][s.span] for s in sentences]).astype(np.float32)

    def encode(self, passages: list[Passage]) -> dict[str, dict[tuple[int, int], np.ndarray]]:
        keys = {p.id: (p.id, p.text) for p in passages}
        missing = [p for p in passages if keys[p.id] not in self.cache]
        if missing:
            for passage, made in zip(missing, encode_passages(self.embedder, missing)[1], strict=True):
                self.cache[keys[passage.id]] = made.by_span()
        for key in keys.values():
            self.cache.move_to_end(key)
        found = {i: self.cache[key] for i, key in keys.items()}
        while len(self.cache) > self.size:
            self.cache.popitem(last=False)
        return found


CJK = re.compile(r"[\u3000-\u9fff\uac00-\ud7af]")


@dataclass
class Candidates:
    """The answer-sized sentences of the retrieved passages, with what both scores are made of."""

    sentences: list[Sentence]
    ranking: list[float]  # closeness in meaning; shared words and passage rank break near-ties
    features: np.ndarray  # the answer model's inputs, one row per sentence (ANSWER_FEATURES)
    finding: np.ndarray  # the finding model's logit for each sentence (below 0: it reads as set-up)

    def reads_as_setup(self) -> SentenceCheck:
        """Whether the finding model reads a candidate as set-up (aims, methods, background)."""
        setup = {(s.passage.id, s.span) for s, f in zip(self.sentences, self.finding, strict=True) if f < 0}
        return lambda sentence: (sentence.passage.id, sentence.span) in setup


def sentence_candidates(
    question: str,
    query_vector: np.ndarray,
    passages: list[Passage],
    vectors: SentenceVectors,
    prefer: SentenceCheck | None = None,
) -> Candidates:
    quotable = [p for p in passages if p.quotable]  # reference lists etc. are found, never quoted
    sentences = [s for p in quotable for s in passage_sentences(p) if _long_enough(s.text)]
    if not sentences:
        return Candidates([], [], np.zeros((0, len(ANSWER_FEATURES))), np.zeros(0))
    sentence_vectors = vectors(sentences)
    similarity = sentence_vectors @ query_vector
    finding = finding_logits(sentences, sentence_vectors)
    question_words = content_words(question)
    # a sentence using an acronym its document defines ("The CCP works ...") shares the words it
    # stands for with a question that spells them out
    asked = acronyms_asked(question, quotable)
    spelled = [with_acronyms_spelled(s, asked) for s in sentences]
    carries = key_term_share(question, spelled)
    question_script = written_in_cjk(question)
    open_question = is_open_question(question)
    standing = passage_standing(passages)
    ranking, features = [], []
    rows = zip(sentences, spelled, similarity, finding, carries, strict=True)
    for sentence, spelled_text, sim, finding_logit, carried in rows:
        rank, passage_similarity = standing[sentence.passage.id]
        words = content_words(sentence.text)
        overlap = len(question_words & content_words(spelled_text)) / max(1, len(question_words))
        adds = len(words - question_words) / max(1, len(words))  # it says something beyond the question
        has_fact = prefer is not None and prefer(sentence)
        other_script = written_in_cjk(sentence.text) != question_script
        # the language penalty: answer in the question's script (the model ranks across scripts poorly)
        ranking.append(float(sim) + 0.15 * overlap - 0.02 * rank + 0.1 * has_fact - 0.5 * other_script)
        features.append(
            answer_features(
                open_question,
                float(sim),
                overlap,
                adds,
                passage_similarity,
                rank,
                float(finding_logit),
                has_fact,
                other_script,
                carried,
            )
        )
    return Candidates(sentences, ranking, np.array(features), finding)


def finding_logits(sentences: list[Sentence], sentence_vectors: np.ndarray) -> np.ndarray:
    """The finding model's logit for each sentence (above 0: it reads as a finding)."""
    features = finding_features(
        sentence_vectors,
        [s.text for s in sentences],
        [s.passage.section_at(s.span[0]) for s in sentences],
        [position_in_document(s) for s in sentences],
    )
    return load_model("finding").logit(features)


def passage_standing(passages: list[Passage]) -> dict[str, tuple[int, float]]:
    """Each passage's rank among those the search found and its similarity to the question. A chunk
    read along with its document stands in the place of the document's first passage found: it
    takes its rank and similarity (it neither pushes the other documents down nor counts as a
    weaker match)."""
    found = [p for p in passages if not p.read_along]
    standing = {p.id: (rank, p.relevance or 0.0) for rank, p in enumerate(found)}
    first: dict[str, tuple[int, float]] = {}
    for p in found:
        first.setdefault(p.source, standing[p.id])
    return standing | {p.id: first[p.source] for p in passages if p.read_along}


def key_term_share(question: str, texts: list[str]) -> list[float]:
    """For each text, the share of the question's key terms it has, each weighing how few of the
    texts have it: among sentences retrieved for "How do we share power with a new CBO?", "CBO" is
    everywhere (the setting) and "power" in a few (what is asked), so "power" weighs more."""
    terms = key_terms(question)
    if not terms or not texts:
        return [0.0] * len(texts)
    lowered = [t.lower() for t in texts]
    has = np.array([[mentions(term, text) for term in terms] for text in lowered], dtype=float)
    weight = 1.0 - np.log1p(has.sum(axis=0)) / np.log1p(len(texts))
    total = weight.sum()
    return (has @ weight / total).tolist() if total > 0 else [0.0] * len(texts)


def position_in_document(sentence: Sentence) -> float:
    """Where the sentence sits in an abstract-sized document, 0 (start) to 1 (end); 0.5 (no signal)
    in a longer one. An abstract ends with what it found; a report's findings can be anywhere."""
    passage = sentence.passage
    chunks = passage.metadata.get("document_chunks") or 1
    if chunks > SHORT_DOCUMENT_CHUNKS:
        return 0.5
    within = sentence.span[0] / max(1, len(passage.text))
    return min(1.0, (passage.metadata.get("ordinal", 0) + within) / chunks)


def score_sentences(candidates: Candidates) -> tuple[list[ScoredSentence], list[ScoredSentence]]:
    """Best first, twice: by closeness (to order passages: the one whose best sentence is closest
    goes first), and by the answer model's probability that the sentence answers the question
    (to choose what to quote: it tells a finding from a sentence that restates the topic)."""
    if not candidates.sentences:
        return [], []
    answers = load_model("answer").probability(candidates.features).tolist()
    by_score = lambda item: item[1]  # noqa: E731
    return (
        sorted(zip(candidates.sentences, candidates.ranking, strict=True), key=by_score, reverse=True),
        sorted(zip(candidates.sentences, answers, strict=True), key=by_score, reverse=True),
    )


def rerank_passages(passages: list[Passage], scored: list[ScoredSentence]) -> list[Passage]:
    """Passages ordered by their best sentence: the one that answers the question comes first."""
    best: dict[str, float] = {}
    for sentence, score in scored:
        best.setdefault(sentence.passage.id, score)
    return sorted(passages, key=lambda p: best.get(p.id, float("-inf")), reverse=True)


def _long_enough(sentence: str) -> bool:
    """A sentence, not a heading or a fragment: by its words, or by its characters in CJK scripts.
    A web address is no word ("See Video Abstract at http://links.lww.com/…" says nothing)."""
    words = [w for w in sentence.split() if not WEB_ADDRESS.search(w)]
    return len(words) >= MIN_WORDS or len(CJK.findall(sentence)) >= MIN_CJK_CHARACTERS


@dataclass
class ExtractiveAnswerer:
    """Rerank, abstain, or answer with the best sentences of the retrieved passages, each cited."""

    vectors: SentenceVectors
    rarity: Rarity | None = None  # how rare a term is in the library (the abstention's evidence)
    max_sentences: int = 4
    max_words: int = 120
    keep_share: float = 0.5  # a further sentence must be at least this share as likely as the best
    min_relevance: float = 0.25  # below this best-passage similarity nothing is close: always abstain

    def sets_up_only(self, passages: list[Passage]) -> bool:
        """No sentence of the passages reads as a finding (by the finding model): background, aims,
        methods."""
        sentences = [s for p in passages for s in passage_sentences(p) if _long_enough(s.text)]
        if not sentences:
            return True
        return bool((finding_logits(sentences, self.vectors(sentences)) < 0).all())

    def rerank(self, turn: Turn) -> Turn:
        """Score the retrieved sentences, put the passage with the closest one first, choose what to
        quote and weigh whether the library covers the question at all."""
        assert turn.query_vector is not None
        question = turn.standalone
        candidates = sentence_candidates(
            question, turn.query_vector, turn.passages, self.vectors, fact_check(question)
        )
        turn.scored, turn.answering = score_sentences(candidates)
        turn.passages = rerank_passages(turn.passages, turn.scored)
        quotable = quotable_candidates(
            question, turn.answering, turn.passages, turn.question, turn.topic_documents
        )
        terms = key_terms(question)
        # a term only a left-out document has is in no document here, as if that document were missing
        rarity = self.rarity(terms, turn.filters.exclude_documents) if self.rarity and terms else {}
        quotable = on_the_best_documents_topic(question, quotable, turn.passages, rarity)
        quotable = keep_setup_out(question, quotable, turn.passages, candidates.reads_as_setup())
        turn.chosen = choose_sentences(
            quotable,
            max_sentences=self.max_sentences,
            max_words=self.max_words,
            keep_share=self.keep_share,
            adds=names_something_new(question),
        )
        turn.chosen = with_what_it_refers_to(turn.chosen, quotable)
        # The fact asked for must be in the answer's lead, not somewhere in a longer answer.
        lead = [s for s, _ in turn.chosen[:FACT_SENTENCES]]
        turn.fact_gap = missing_fact(question, lead, context_of(s.passage for s in lead)) if lead else None
        turn.abstention = abstention_features(
            question, turn.passages, turn.scored, turn.answering, turn.fact_gap is not None, rarity
        )
        return turn

    def should_abstain(self, turn: Turn) -> str | None:
        """Why the library does not cover the question (the abstention's note), or None."""
        if not turn.chosen:
            return "no sentence in the retrieved passages answers the question"
        # (a question naming its documents, "the JGIM study", is asked of them without the name, and
        # "What is ripple effect mapping?" of the passages using that phrase: either may be far from all)
        closest = max((p.relevance or 0.0 for p in turn.passages), default=0.0)
        asked_of = turn.named_as or term_documents(turn.question, turn.passages)
        if closest < self.min_relevance and not asked_of:
            return f"no passage is closer to the question than {self.min_relevance}"
        if turn.fact_gap:  # a count, date or name asked for, and no chosen sentence has one
            return turn.fact_gap
        # a place, programme or study the question names, that nothing retrieved mentions
        if unknown := unmentioned_names(turn.question, context_of(turn.passages)):
            return f"the passages found do not mention {', '.join(unknown)}"
        # nor is it answered from documents that mention none of its names: "the Reading Hospital
        # program" not from an insurance abstract, because other passages say "hospital" and "reading"
        # (an abstract may leave out one word of its title's names, so a name word or two may be missing)
        quoted = {s.passage.source for s, _ in turn.chosen}
        answering = [p for p in turn.passages if p.source in quoted]  # the quoted documents' passages
        # (a follow-up's standalone form carries its topic's names: "How does it share power? (NC SHIP …)")
        if unknown := names_none_of(turn.standalone, answering):
            return f"the passages that answer it do not mention {', '.join(unknown)}"
        if count := uncounted(turn.question, context_of(answering)):  # "the three approaches"
            return f"the passages that answer it do not mention {count}"
        # "the relational organizing study" is not answered from a study on other things
        if unknown := undescribed(turn.question, answering):
            return f"the passages that answer it are not from a document on {' '.join(unknown)}"
        if term := undefined_term(turn.question, turn.passages):  # "What is collective impact?"
            return f"the passages found do not mention “{term}”"
        # the kind of the user's own words: a follow-up's standalone form ends with its appended topic
        # terms, "… being involved? (frustrations …)", not with the "?" that makes it yes/no
        covered, probability = answerable(turn.abstention, question_kind(turn.question))
        return (
            None if covered else f"the closest passages do not answer it (fitted coverage {probability:.2f})"
        )

    def abstain(self, turn: Turn, note: str | None = None) -> Answer:
        """Not covered: the nearest passages, and the question's key terms none of them mentions."""
        if other_language(turn.question):  # its words are no clue to what the library lacks
            text, uncovered = f"{ABSTAIN_TEXT} {NOT_ENGLISH_TEXT}", []
        else:
            uncovered = readable_terms(turn.standalone, uncovered_terms(turn.standalone, turn.passages))
            text = ABSTAIN_TEXT + (f" No passage found mentions {', '.join(uncovered)}." if uncovered else "")
        return Answer(
            question=turn.question,
            text=text,
            citations=[],
            retrieved=turn.retrieved,
            abstained=True,
            standalone_question=turn.reading,
            mode=turn.mode,
            notes=[note] if note else [],
            coverage="not_covered",
            uncovered=uncovered,
        )

    def answer(self, turn: Turn) -> Answer:
        """The chosen sentences, cited (the caller has asked should_abstain first)."""
        chosen = turn.chosen
        if not chosen:
            return self.abstain(turn, "no sentence in the retrieved passages answers the question")
        text, citations = compose(chosen, turn.passages)
        coverage, uncovered = coverage_of(turn.standalone, [c.passage for c in citations], turn.question)
        return Answer(
            question=turn.question,
            text=text,
            citations=citations,
            retrieved=turn.retrieved,
            abstained=False,
            standalone_question=turn.reading,
            coverage=coverage,
            uncovered=uncovered,
        )
