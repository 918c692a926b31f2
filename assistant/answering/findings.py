"""Which sentences state a finding, and which of them answer the question: two fitted models.

A retrieved passage mixes sentences that restate the question's topic (an objective, a method, the
background) with the ones that answer it (a result, a conclusion, a recommendation). Similarity to
the question favours the former. Two logistic regressions, fitted by evals/train_answering.py and
shipped in answering/models/, tell them apart:

- `finding`: is a sentence a finding, from the sentence itself (its MiniLM vector, cue words, its
  length) and from the heading it sits under when the document has one (Results, Methods, ...).
  Fitted on PubMedQA-dev's labelled sentences, each seen once with and once without its heading.
- `answer`: does a retrieved sentence answer this question, from its similarity to the question,
  the words it shares with it and adds to it, its passage's rank and similarity, the finding
  model's logit, and whether it carries the kind of fact asked for. Fitted on the sentences
  retrieved for the tune halves of PubMedQA-dev and the gold set.
"""

from __future__ import annotations

import re

import numpy as np

# Headings of the parts that report what was found or what to do; other headings set things up.
FINDING_HEADING = re.compile(
    r"result|finding|conclusion|discussion|interpretation|recommendation|implication|lessons?|"
    r"takeaway|what we learned|what works",
    re.I,
)
SETUP_HEADING = re.compile(
    r"background|introduction|rationale|objective|aims?\b|purpose|method|design|setting|participant|patient|"
    r"subject|measure|intervention|data (?:source|collection|extraction)|context|approach|sample",
    re.I,
)
# A study's aim asked for: "the objective", "its aims", "purpose of …", not "a shared purpose" (the
# aim word is the one group)
AIM_ASKED = r"(?:\b(?:the|its|their|main|primary)\s+|(?=\w+\s+of\b))\b(objectives?|aims?|purpose)\b"
# A question about how a study was done (its aim, design, data, people): set-up sentences answer it.
STUDY_QUESTION = re.compile(
    # "data" only as the study's own ("the data were collected"): "share data" is a topic
    r"\b(?:stud(?:y|ies|ied)|research\w*|interview\w*|survey\w*|participa\w+|respondents?|"
    r"(?:gather|collect|contribut|analy[sz])\w*\s+(?:\w+\s+)?data|data\s+(?:collect|source|analy)\w*|"
    # "measured", "the measures": the study's; "how should a partnership measure its impact" is not
    rf"sampl\w+|design\w*|methods?|methodology|measur(?:ed|es|ements?)|{AIM_ASKED}|recruit\w*|"
    r"conduct\w*|trial|setting)\b",
    re.I,
)
# "What did the relational organizing study find?" names the study but asks for what it found.
FINDINGS_ASKED = re.compile(
    r"\bwhat (?:did|does|do|have|has) (?:[\w’'-]+\s+){0,6}?(?:find|found|show|shown|conclude)\b"
    r"|\b(?:findings?|results?|conclusions?|lessons learned)\b",
    re.I,
)


def asks_how_the_study_was_done(question: str) -> bool:
    """The question asks about a study's aim, design, data or people, not about what it found."""
    return bool(STUDY_QUESTION.search(question)) and not FINDINGS_ASKED.search(question)


# Cue phrases, each one feature: what results, conclusions and advice say, and what set-up says.
CUES = {
    "number": r"\d",
    "statistic": r"\bp\s*[<=>≤]|\bci\b|odds ratio|hazard ratio|%|percent|significant",
    "result_verb": r"\b(?:found|showed|shown|revealed|demonstrated|indicated?|associated|increased|"
    r"decreased|reduced|improved|higher|lower|greater|fewer|more likely|less likely|did not|was not)\b",
    "conclusion": r"\b(?:conclu\w+|in summary|overall|these (?:results|findings|data)|our (?:results|"
    r"findings|data|study)|suggests?|may be|appears? to)\b",
    "aim": r"\b(?:aims?|aimed|objectives?|purpose|goal|hypothes\w+|to (?:determine|assess|evaluate|"
    r"examine|investigate|explore|describe|compare|identify|test|understand|characteri[sz]e))\b",
    "method": r"\b(?:we (?:conducted|performed|used|recruited|enrolled|analy[sz]ed|interviewed|reviewed|"
    r"collected|searched)|were (?:recruited|enrolled|randomi[sz]ed|included|collected|analy[sz]ed|"
    r"interviewed|measured|assessed)|retrospective|prospective|cross-sectional|questionnaire|"
    r"semi-structured|data were|was conducted)\b",
    "advice": r"\b(?:should|must|need to|recommend\w*|consider|ensure|establish|invest|prioriti[sz]e|"
    r"important to|key to|helps?)\b",
    "question_mark": r"\?\s*$",
}
CUE_PATTERNS = [re.compile(p, re.I) for p in CUES.values()]
TRAITS = ("finding_heading", "setup_heading", *CUES, "log_words", "position")


def is_setup_heading(heading: str) -> bool:
    """The heading of a part that sets a study up (Objective, Methods, Measures...), not one that reports."""
    return bool(heading and not FINDING_HEADING.search(heading) and SETUP_HEADING.search(heading))


def sentence_traits(text: str, heading: str = "", position: float = 0.5) -> np.ndarray:
    """The finding model's features besides the vector: heading kind, cue phrases, length, and the
    sentence's position in its document (0 start, 1 end: abstracts end with what they found)."""
    finding_heading = bool(heading and FINDING_HEADING.search(heading))
    setup_heading = is_setup_heading(heading)
    cues = [bool(p.search(text)) for p in CUE_PATTERNS]
    length = np.log1p(len(text.split()))
    return np.array([finding_heading, setup_heading, *cues, length, position], dtype=np.float64)


def finding_features(
    vectors: np.ndarray, texts: list[str], headings: list[str], positions: list[float]
) -> np.ndarray:
    """Rows of [sentence vector, traits] for the finding model."""
    rows = zip(texts, headings, positions, strict=True)
    traits = np.stack([sentence_traits(t, h, p) for t, h, p in rows])
    return np.hstack([np.asarray(vectors, dtype=np.float64), traits])


SIGNALS = (
    "similarity",  # cosine of the sentence and the question
    "shared",  # share of the question's content words the sentence has
    "adds",  # share of the sentence's content words the question lacks: it says something more
    "passage_similarity",  # cosine of its passage and the question
    "passage_rank",  # 0 for the best retrieved passage
    "finding_logit",  # the finding model's logit
    "has_fact",  # it carries the kind of fact a specific-fact question asks for
    "other_script",  # written in another script than the question (e.g. Chinese vs English)
    "rare_shared",  # share of the question's key terms it has, each weighing how few retrieved sentences do
)
# A yes/no question about a study ("Does X reduce Y?") is answered by its result; an open question
# (how, why, what, who) by the sentence that says how, why or what, which is often not a result
# (fitted on the gold set, the finding logit's weight is negative there). So every signal has one
# weight for each kind of question: in effect two models, chosen by the question.
ANSWER_FEATURES = (
    "open_question",
    *(f"{signal}_yes_no" for signal in SIGNALS),
    *(f"{signal}_open" for signal in SIGNALS),
)
# An open question has a clause that starts with a question word (after a preposition: "In what
# ways ...", after a lead-in: "Apart from interviews, what ...") or asks for something ("Describe
# ..."); anything else ("Does X ...?", "X after surgery: is it safe?") is answered yes or no.
OPEN_QUESTION = re.compile(
    r"(?:^|[.?!,;:]\s+|\band\s+)(?:(?:in|to|for|from|by|with|at|on|of|under)\s+)?"
    r"(?:what|how|why|who|whom|whose|which|when|where)\b"
    r"|^\W*(?:describe|explain|list|name|give|tell|summari[sz]e|compare|outline)\b"
    r"|什么|多少|如何|怎么|为什么|哪|谁",
    re.I,
)


def is_open_question(question: str) -> bool:
    """One that asks how, why, what, who, which, when or where, not one answered yes or no."""
    return bool(OPEN_QUESTION.search(question.strip()))


def answer_features(
    open_question: bool,
    similarity: float,
    shared: float,
    adds: float,
    passage_similarity: float,
    passage_rank: int,
    finding_logit: float,
    has_fact: bool,
    other_script: bool,
    rare_shared: float,
) -> list[float]:
    """One row of the answer model: the SIGNALS in the column of the question's kind, 0 in the other."""
    signals = [
        similarity,
        shared,
        adds,
        passage_similarity,
        float(passage_rank),
        finding_logit,
        float(has_fact),
        float(other_script),
        rare_shared,
    ]
    open_ = float(open_question)
    return [open_, *(v * (1 - open_) for v in signals), *(v * open_ for v in signals)]
