"""When does the library not cover a question? A decision fitted at scale, not a cosine floor.

A library of thousands of documents always holds something on the topic, so closeness alone cannot
tell "the study this question is about" from "another study nearby". What does: whether the best
passages carry the question's rare terms (a place, a programme, a condition: words few passages
use), together and in one passage (the study asked about has them all; three nearby studies may
have them only between them), how far the closest document stands out from the next few, how
likely the best sentence answers, and, for a question asking for a count, a date or a name,
whether one is there. A logistic regression over those features, one for open questions
(answering/models/abstain.json) and one for yes/no questions (abstain-yes-no.json), was fitted by
evals/train_answering.py on questions asked with their evidence present and with it left out, plus
off-topic questions; each one's threshold keeps answering the answerable questions of its kind.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

import numpy as np

from assistant.answering.coverage import key_terms, uncovered_terms
from assistant.answering.facts import expected_kind
from assistant.answering.findings import is_open_question
from assistant.answering.models import load_model
from assistant.answering.turn import ScoredSentence
from assistant.types import Passage

# Terms, documents left out -> how rare each term is in the library without them, 0 (in every
# chunk) .. 1 (in none): 1 - log(1+n)/log(1+N).
Rarity = Callable[[Sequence[str], Sequence[str]], dict[str, float]]
PASSAGES_CHECKED = 3  # key terms are looked for in the best few passages, as a reader would
NEXT_DOCUMENTS = 3  # the closest document is compared with this many runners-up

ABSTENTION_FEATURES = (
    "best_relevance",  # cosine of the closest passage and the question
    "lead_over_next",  # how much closer the closest document is than the next few (it stands out)
    "best_sentence",  # the passage-ranking score of the best sentence
    "best_answer",  # the answer model's probability for its best sentence
    "uncovered_share",  # rarity-weighted share of the key terms the best passages lack
    "rarest_uncovered",  # rarity of the rarest key term they lack (0 when none is missing)
    "uncovered",  # how many key terms they lack
    "best_single_uncovered_share",  # the same share for the one best passage that lacks the least
    "fact_missing",  # a count / date / name is asked for and the chosen sentences have none
    "asks_fact",  # the question asks for such a fact
)


def abstention_features(
    question: str,
    passages: list[Passage],
    scored: list[ScoredSentence],
    answering: list[ScoredSentence],
    fact_missing: bool,
    rarity: dict[str, float],
) -> list[float]:
    """The abstention model's inputs; `rarity` weighs each key term (`Library.term_rarity`, 1 when
    unknown)."""
    terms = key_terms(question)
    missing = uncovered_terms(question, passages[:PASSAGES_CHECKED])
    weight = {t: rarity.get(t, 1.0) for t in terms}
    total = sum(weight.values())

    def share(lacked: list[str]) -> float:
        return sum(weight[t] for t in lacked) / total if total else 0.0

    return [
        max((p.relevance or 0.0 for p in passages), default=0.0),
        lead_over_next(passages),
        scored[0][1] if scored else 0.0,
        answering[0][1] if answering else 0.0,
        share(missing),
        max((weight[t] for t in missing), default=0.0),
        math.log1p(len(missing)),
        min((share(uncovered_terms(question, [p])) for p in passages[:PASSAGES_CHECKED]), default=0.0),
        float(fact_missing),
        float(expected_kind(question) is not None),
    ]


def lead_over_next(passages: list[Passage]) -> float:
    """The closest document's cosine minus the mean of the next few documents' (each by its closest
    passage). The study a question is about stands out; when it is missing, several nearby ones tie."""
    closest: dict[str, float] = {}
    for passage in passages:
        closest[passage.source] = max(closest.get(passage.source, -1.0), passage.relevance or 0.0)
    ranked = sorted(closest.values(), reverse=True)
    if not ranked:
        return 0.0
    runners_up = ranked[1 : 1 + NEXT_DOCUMENTS]
    return ranked[0] - (sum(runners_up) / len(runners_up) if runners_up else 0.0)


# A question answered yes or no opens with a verb ("Does X reduce Y?") or asks one in its last
# clause ("X after surgery: is it safe?", "... a depression-specific deficit?", "…吗？").
YES_NO = re.compile(
    r"^\W*(?:is|are|was|were|do|does|did|can|could|should|would|will|has|have|had|may|might|must)\b"
    r"|\?\s*$|[吗嗎][？?]?\s*$",
    re.I,
)


def question_kind(question: str) -> str:
    """ "yes_no" for a question answered yes or no ("Does X reduce Y?"), else "open": one asking how,
    why, what, who..., and a query of keywords ("stable funding backbone organizations")."""
    if is_open_question(question) or not YES_NO.search(question):
        return "open"
    return "yes_no"


# The fitted model deciding each kind of question (answering/models/<name>.json).
ABSTENTION_MODELS = {"open": "abstain", "yes_no": "abstain-yes-no"}


def answerable(features: list[float], kind: str) -> tuple[bool, float]:
    """Does the library cover the question, and the fitted probability that it does. Each kind of
    question has its own model (evals/train_answering.py): a yes/no question asks what one study
    found, and only that study answers it; an open one several documents may answer, and one model
    with one threshold for both let a yes/no question about a missing study be answered from a
    nearby one."""
    model = load_model(ABSTENTION_MODELS[kind])
    probability = float(model.probability(np.array(features))[0])
    return probability >= model.threshold, probability
