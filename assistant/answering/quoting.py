"""What an answer may quote, and how much of it: never a heading line, a byline or a question, and set-up
only when asked for.

The answer model scores how likely each retrieved sentence answers; these rules then say which of
them may be quoted at all, from the sentence's place in its document (the heading it sits under,
or a run-in "METHODS ..." label) and from what the question asks (a count, a part of a study, how
the study was done). They filter what is quoted only: passages are still ordered by all sentences.
`choose_sentences` then keeps the best of them and those nearly as likely.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from assistant.answering.asked_kinds import (
    AIM_QUESTION,
    ASKED_KIND_SHARE,
    AUTHORS_QUESTION,
    MEMBERS_QUESTION,
    asked_kind,
    lists_members,
    title_line,
)
from assistant.answering.citations import Sentence
from assistant.answering.coverage import (
    asked_term,
    defines,
    described_documents,
    is_about,
    key_terms,
    meaning_asked,
    passage_uses,
    term_documents,
    terms_missing_from,
    uses_term,
)
from assistant.answering.facts import expected_kind, fact_check, gives_what_is_asked
from assistant.answering.findings import (
    AIM_ASKED,
    asks_how_the_study_was_done,
    is_setup_heading,
)
from assistant.answering.names import by_document, context_of, naming_documents
from assistant.answering.study_parts import SentenceCheck, part_of
from assistant.answering.turn import ScoredSentence, dropping
from assistant.text import CJK_LETTER
from assistant.types import Passage

PASSAGES_READ = 4  # the answer quotes from the best few passages only
WHO_TOOK_PART = (
    r"\b(?:who|(?:what|which) (?:types?|kinds?|sorts?) of)\b[^?]*"
    r"\b(?:participants?|interviewees?|respondents?|interviewed|took part|participat)"
)
# A question that asks for a part of a study, and the headings of that part: "What was the objective
# of ...?" is answered under Objective, when a retrieved passage has one.
ASKED_PARTS = [
    (re.compile(asks, re.I), re.compile(heading, re.I))
    for asks, heading in (
        (AIM_ASKED, r"objective|\baims?\b|purpose"),
        (r"\b(?:design|methods?|methodology)\b", r"design|method|data collection"),
        (r"\blimitations?\b", r"limitation"),
        (r"\brecommend\w*", r"recommendation"),
        # "Who were the interviewees in the JGIM study?", "What types of organizations took part …?":
        # its Participants part
        (WHO_TOOK_PART, r"participants|subjects|sample|respondents"),
    )
]
QUESTIONS_QUESTION = re.compile(r"\b(?:ask\w*|questions?)\b", re.I)  # what to ask, what it asked
# A study saying what it set out to do, in so many words (not "a creative approach to bring goals
# to life is to …", which AIM_SENTENCE also reads as an aim)
STUDY_AIM = re.compile(
    r"\b(?:we|this (?:study|paper|research|review)|the (?:study|authors))\s+"
    r"(?:sought|aimed|set out|intended)\s+to\b"
    r"|^\W*(?:the|our)\s+(?:objective|aim|purpose)s?\s+(?:of (?:this|the|our) \w+\s+)?"
    r"(?:was|were|is|are)\s+to\b",
    re.I,
)
# A sentence that only says what its document tells ("In this blog post, we'll share ...", "This
# study aims to ...", "Our study offers key insights into how ..."): it states no finding, so it is
# quoted only when nothing else may be, or when the question asks about that document by its kind
# ("What goals do the examples in the blog post address?"). Of PubMedQA-dev's labelled sentences it
# matches 35 set-up sentences and 1 finding.
DOCUMENT = (
    r"blog\s+post|post|article|paper|report|brief|review|study|chapter|section|guide|toolkit|"
    r"analysis|work|manuscript|commentary|case\s+report|series"
)
PRESENTS = (
    r"(?:share|describe|present|discuss|explore|examine|outline|review|summari[sz]e|report|look|focus|"
    r"investigate|evaluate|assess|address|consider|detail|aim|seek|attempt)\w*\b"
)
PROMISE = re.compile(
    r"^(?:our|this|these|the)\b[^.]{0,60}?\b(?:offers?|provides?|gives?|sheds?|adds?)\b[^.]{0,30}?"
    r"\b(?:insights?|light|understanding)\s+(?:into|on|of)\s+(?:how|when|why|what|whether|which)\b"
    rf"|^(?:in|with|through)\s+(?:this|the\s+present|the\s+current|our)\s+(?P<kind>{DOCUMENT}),?\s+"
    rf"(?:we|I)(?:\s+will|’ll|'ll)?\s+(?:also\s+)?{PRESENTS}"
    rf"|^(?:this|the\s+present|the\s+current|our)\s+(?P<kind_first>{DOCUMENT})\s+(?:will\s+)?{PRESENTS}",
    re.I,
)
# ... unless it states what was found: "This study suggests that ..."
CLAIM = re.compile(
    r"\b(?:found|finds?|show\w*|demonstrat\w+|suggest\w*|conclud\w+|confirm\w*|reveal\w*|indicat\w+)\s+that\b",
    re.I,
)


def promises_only(text: str, question: str) -> bool:
    """The sentence only says what its document tells, and the question does not ask about that."""
    promise = PROMISE.search(text)
    if not promise or CLAIM.search(text):
        return False
    kind = promise.group("kind") or promise.group("kind_first")
    return not (kind and re.search(rf"\b{re.escape(kind)}\b", question, re.I))


# A journal reference standing as a sentence ("Geriatr Gerontol Int 2016; 16: 1138-1144.", "CA: A
# Cancer Journal for Clinicians 2018;0:1-31."): year; volume: pages say where a text appeared, not
# what it found. Ten of the development library's 53,370 sentences.
JOURNAL_REFERENCE = re.compile(
    r"^\W*(?:(?:[A-Z][\w.&:-]*|of|for|and|the|in)\s+){0,10}(?:19|20)\d\d\s*;\s*\d+\s*(?:\(\d+\))?\s*:"
    r"\s*[A-Za-z]?\d+(?:\s*[-–]\s*[A-Za-z]?\d+)?\W*$"
)


def asked_part(question: str, candidates: Iterable[Sentence]) -> SentenceCheck | None:
    """For a question naming a part of a study (its objective, design, limitations...), the check
    "sits under that part's heading", when some candidate does; else None."""
    candidates = list(candidates)
    for asks, heading in ASKED_PARTS:
        if asked := asks.search(question):
            # the heading with the question's own word ("Study Design" for "design"), else the kin
            # ("Data Collection")
            # (the part's word is the pattern's one group, where it has one: "objective" of "the objective")
            word = re.compile(re.escape(asked.group(asked.re.groups).rstrip("s")), re.I)
            for part in (word, heading):
                if any(part.search(part_of(s)) for s in candidates):
                    return lambda sentence, part=part: bool(part.search(part_of(sentence)))
    return None


def quotable_for(
    question: str, candidates: Iterable[Sentence] = (), own_words: str | None = None
) -> SentenceCheck:
    """Whether the answer may quote a sentence. Never a heading line. A question (a research
    question, a rhetorical one) answers only a question about questions. A sentence under a set-up
    heading (Objective, Design, Measures...) says what a study looked at, not what it found: quoted
    only when it carries the count, date or place asked for; for a question about how the study was
    done that asks for no such fact, at all; for a "what is X?" question, when it uses X (it says
    what X was for). A question naming a part of the study (objective, design...) is answered from
    under that part's heading when one of the `candidates` sits there."""
    own_words = own_words or question  # a follow-up's own words: its appended topic terms ask nothing
    about_the_study = asks_how_the_study_was_done(own_words)
    has_fact = fact_check(question)  # the standalone question: names the topic supplies are no answer
    about_questions = bool(QUESTIONS_QUESTION.search(own_words))
    about_authors = bool(AUTHORS_QUESTION.search(own_words))
    in_part = asked_part(own_words, candidates)
    term = asked_term(own_words)

    def quotable(sentence: Sentence) -> bool:
        passage = sentence.passage
        if sentence.text.strip() in {heading for _, heading in passage.headings}:
            return False
        if title_line(sentence.text) and not about_authors:  # a byline answers "who wrote it?"
            return False
        if JOURNAL_REFERENCE.match(sentence.text):
            return False
        if in_part is not None:
            return in_part(sentence)
        if sentence.text.rstrip().endswith("?") and not about_questions:
            return False
        if not is_setup_heading(part_of(sentence)):
            return True
        if term and uses_term(term, sentence.text):  # "What is ripple effect mapping?": what it was for
            return True
        if has_fact is not None:  # a count, date or place asked for: only a set-up sentence that has one
            return has_fact(sentence)
        return about_the_study

    return quotable


def _reading(best: list[Passage], passages: list[Passage]) -> set[str]:
    """The ids of the first PASSAGES_READ passages found among `best`, with the chunks read along
    with their documents (those do not take a found passage's place)."""
    found = [p for p in best if not p.read_along][:PASSAGES_READ]
    documents = {p.source for p in found}
    return {p.id for p in found} | {p.id for p in passages if p.read_along and p.source in documents}


def quotable_candidates(
    question: str,
    answering: list[ScoredSentence],
    passages: list[Passage],
    own_words: str | None = None,
    topic_documents: tuple[str, ...] = (),
) -> list[ScoredSentence]:
    """The scored sentences an answer may quote, best first: from the best few passages, by the rules
    of `quotable_for` (the sentences of those passages are its `candidates`). A follow-up ("How many
    interviews did it include?") is answered from its topic's document when that was retrieved: "it"
    is that study, not another one with interviews. A question naming a program, place or study
    ("the Reading Hospital program"), describing one ("the relational organizing study"), or asking
    what a term means ("What is ripple effect mapping?") is answered from the documents that mention
    it. Only sentences in the question's script (Chinese or not), when some may be quoted. For a
    question asking a count, a date or a place, only the sentences carrying one, when some do: the
    rest is padding. A question asking for a kind of sentence (the questions a study lists, its aim,
    a list of the kinds asked about) is answered by that kind (`ASKED_KINDS`). A sentence that only
    says what its document tells (`promises_only`), or, unless the question asks who takes part, one
    listing members (`lists_members`), is quoted only when nothing else may be."""
    asked = own_words or question
    term = asked_term(asked)  # "What is X?", "Anything about X?"
    readable = _reading(passages, passages)
    on_topic = [p.id for p in passages if p.source in topic_documents]
    if on_topic:
        readable = set(on_topic)
    else:  # the documents a question names, describes, or asks what their term means
        finders = (naming_documents, described_documents, term_documents)
        if named := next((found for find in finders if (found := find(asked, passages))), set()):
            best = [p for p in passages if p.source in named]
            # the passages using the term asked about, whose sentences are what is quoted of them
            # (not a quoted title: a paper's findings need not repeat it)
            using = [p for p in best if term and passage_uses(term, p)]
            readable = _reading(using or best, passages)
    candidates = [item for item in answering if item[0].passage.id in readable]
    quotable = quotable_for(question, [sentence for sentence, _ in candidates], own_words)
    allowed = [item for item in candidates if quotable(item[0])]
    if term:  # the sentences that say X, if any
        allowed = dropping(allowed, lambda text: not uses_term(term, text))
    allowed = dropping(allowed, lambda text: promises_only(text, question))
    if not (AIM_QUESTION.search(question) or asks_how_the_study_was_done(asked)):
        # "We sought to learn about the motivations …" answers only what a study set out to do
        allowed = dropping(allowed, lambda text: bool(STUDY_AIM.search(text)))
    # a document read in two languages (an abstract and its Chinese translation) answers in the
    # question's own: "How many interviews …?" was answered in Chinese, its number counted there
    asked_in_cjk = bool(CJK_LETTER.search(asked))
    allowed = dropping(allowed, lambda text: bool(CJK_LETTER.search(text)) != asked_in_cjk)
    if not MEMBERS_QUESTION.search(question):
        allowed = dropping(allowed, lists_members)
    if (meaning := meaning_asked(asked)) and (saying := _saying_what_it_is(meaning, allowed)):
        return saying
    if of_the_kind := asked_kind(question, allowed):
        return of_the_kind
    # a follow-up: what its own words ask, when said (a name answers "who funded it?" in other words)
    if own_words and own_words != question and expected_kind(own_words) != "name":
        allowed = dropping(allowed, lambda text: bool(terms_missing_from(own_words, text)))
    has_fact = fact_check(question)
    with_fact = [item for item in allowed if has_fact(item[0])] if has_fact else []
    # "how many people …?": a sentence counting people, when one does, not one with other numbers
    pointed = [item for item in with_fact if gives_what_is_asked(question, item[0].text)]
    return pointed or with_fact or allowed


def _saying_what_it_is(term: str, allowed: list[ScoredSentence]) -> list[ScoredSentence]:
    """For "What is X?": the sentences saying what X is ("X, a practice that …"); else, when not much
    less likely than the best, the ones about X ("X was perceived to …"), not those only using it."""
    if defining := [item for item in allowed if defines(term, item[0].text)]:
        return defining
    about = [item for item in allowed if is_about(term, item[0].text)]
    return about if about and about[0][1] >= ASKED_KIND_SHARE * allowed[0][1] else []


def on_the_best_documents_topic(
    question: str, quotable: list[ScoredSentence], passages: list[Passage], weights: dict[str, float]
) -> list[ScoredSentence]:
    """No padding from other documents: a sentence of another document than the best sentence's is
    quoted only when that document's passages mention every key term of the question the best one's
    do, or mention more of them, each weighed by `weights` (how rare it is in the library). "How do we
    pay for a backbone organization?" is not padded with a kidney-donation abstract on payment, which
    never says "backbone"; a study that says "motivated" where the best one says "services" still is."""
    if not quotable:
        return quotable
    terms, documents = set(key_terms(question)), by_document(passages)
    mentioned = {
        source: terms - set(terms_missing_from(question, context_of(documents.get(source, []))))
        for source in {sentence.passage.source for sentence, _ in quotable}
    }

    def weight(source: str) -> float:
        return sum(weights.get(term, 1.0) for term in mentioned[source])

    best = quotable[0][0].passage.source
    return [
        item
        for item in quotable
        if mentioned[best] <= mentioned[(source := item[0].passage.source)] or weight(source) > weight(best)
    ]


def choose_sentences(
    answering: list[ScoredSentence],
    *,
    max_sentences: int = 4,
    max_words: int = 120,
    keep_share: float = 0.5,
    adds: Callable[[str, list[str]], bool] | None = None,
) -> list[ScoredSentence]:
    """Of the quotable sentences (best first, `quotable_candidates`), the ones to quote: the best,
    then others at least `keep_share` as likely (no padding that adds no point), no near-duplicates,
    and each one `adds` something to those before it, when given (`names_something_new`)."""
    if not answering:
        return []
    best = answering[0][1]
    chosen: list[ScoredSentence] = []
    words = 0
    for sentence, probability in answering:
        if len(chosen) >= max_sentences or probability < keep_share * best:
            break
        length = len(sentence.text.split())
        if chosen and words + length > max_words:
            continue
        if any(_near_duplicate(sentence.text, c.text) for c, _ in chosen):
            continue
        if chosen and adds and not adds(sentence.text, [c.text for c, _ in chosen]):
            continue
        chosen.append((sentence, probability))
        words += length
    return chosen


def _near_duplicate(a: str, b: str) -> bool:
    wa, wb = set(re.findall(r"\w+", a.lower())), set(re.findall(r"\w+", b.lower()))
    return len(wa & wb) / max(1, len(wa | wb)) > 0.7
