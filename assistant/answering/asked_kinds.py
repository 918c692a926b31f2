"""The kind of sentence a question asks for, when it asks for one: the questions a study lists, its
aim, a range of kinds, a byline, an example, the members of a partnership, the ways something works.
`asked_kind` returns the sentences of that kind, when some are not much less likely than the best."""

from __future__ import annotations

import re
from collections.abc import Callable

from assistant.answering.facts import named_words
from assistant.answering.turn import ScoredSentence

LINE_END = re.compile(r"[.!?:;)\]”\"。！？]\s*$")  # how a sentence ends; a heading or a byline doesn't
LETTER_WORD = re.compile(r"[^\W\d_][\w’'&+-]*")


def title_line(text: str) -> bool:
    """A title-cased line without a full stop: a heading the layout did not mark, a byline ("Jenn
    Marshall & Kathleen Miller, Contributing Writers"), a table of contents entry. It ranks its
    passage like any sentence but is never quoted."""
    if LINE_END.search(text):
        return False
    words = LETTER_WORD.findall(text)
    return bool(words) and sum(w[0].isupper() for w in words) >= 0.6 * len(words)


AUTHORS_QUESTION = re.compile(r"\bwho (?:wrote|authored|published)\b|\bauthors?\b|\bwritten by\b", re.I)
# A sentence listing who takes part ("CCP includes Reading Hospital, …, the Pennsylvania Office of
# Medical Assistance Programs, and the City of Reading's Department of Health Equity."): it answers
# who is in it, not how or why, so for other questions it is quoted only when nothing else may be.
MEMBER_LIST = re.compile(
    r"\b(?:includes?|included|consists? of|comprises?|brings? together|is made up of)\s+"
    r"(?:[^,;]+,){2,}[^.]*\band\b",
    re.I,
)
NAMED_MEMBER = re.compile(r"\b[A-Z][\w’'-]+(?:\s+(?:of\s+)?[A-Z][\w’'-]+)+")
MEMBERS_QUESTION = re.compile(
    # (not the verb: "when a hospital partners with a CBO" asks nothing of who they are)
    r"\b(?:who|whom|which|partners?(?! with\b)|members?|includ\w*|involved|participat\w*|made up"
    r"|consist\w*)\b",
    re.I,
)


def lists_members(text: str) -> bool:
    listed = MEMBER_LIST.search(text)
    return bool(listed) and len(NAMED_MEMBER.findall(text[listed.start() :])) >= 2


# A question asking for a kind of sentence, and that kind: "What questions was the research trying to
# answer?" is answered by the questions it lists; "What did the study set out to learn?" by the
# sentence stating its aim, in a document with no Objective heading. Preferred when they are not much
# less likely than the best sentence (a fifth of its probability).
AIM_QUESTION = re.compile(
    r"\b(?:set out|sought|seek|aim(?:ed)?|intend(?:ed)?)\s+to\b"
    r"|\b(?:try|tried|trying|want|wanted)\s+to\s+(?:learn|find out|understand|know)\b",
    re.I,
)
AIM_SENTENCE = re.compile(
    r"\b(?:sought|aimed|set out|wanted|intended|seeks?|aims?)\s+to\b"
    r"|\b(?:objective|aim|purpose|goal)s?\s+(?:[\w’'-]+\s+){0,4}(?:was|were|is|are)\s+to\b"
    r"|^\W*to (?:understand|determine|assess|evaluate|examine|describe|explore|identify|learn|investigate)\b",
    re.I,
)
WHICH_QUESTIONS = re.compile(r"\b(?:what|which)\s+(?:\w+\s+)?questions\b", re.I)
# "Which kinds of organizations …?" asks for their range: a sentence listing several ("clinics,
# public health offices, and community groups"), or spanning one ("from multi-state systems to …").
# So does "what type of organizations" (a plural: not "-ss", "-us", "-is"), not "what kind of
# relationship does a hospital need?" (one kind).
NOT_A_NOUN = r"(?!(?:do|does|did|is|are|was|were|has|have|had|can|should|would|will|its|this|us)\b)"
KINDS_QUESTION = re.compile(
    r"\b(?:what|which)\s+(?:(?:kinds|types|sorts)\s+of\b"
    rf"|(?:kind|type|sort)\s+of\s+(?:{NOT_A_NOUN}[\w’'-]+\s+){{0,2}}{NOT_A_NOUN}[\w’'-]*[a-hj-rtv-z]s\b)",
    re.I,
)
ENUMERATION = re.compile(r"(?:[^,;.]+,){2,}[^,;.]*\b(?:and|or)\b|\branged? from\b[^.]+\bto\b", re.I)
EXAMPLE_QUESTION = re.compile(r"\b(?:an?|some|any|other|more)\s+examples?\b|\bexamples? of\b", re.I)
EXAMPLE = re.compile(r"\b(?:for example|for instance|examples?|e\.g\.)", re.I)
# "Who are the partners in CCP?", "Which organizations make up the council?": who takes part
PARTNERS_QUESTION = re.compile(
    r"\bwho (?:are|were|is|was) (?:the |its |their )?(?:partners|members|participants)\b"
    r"|\bwho (?:is|was|are|were) (?:in|part of|involved in|a member of)\b|\bwho (?:makes|made) up\b"
    r"|\b(?:which|what) (?:organi[sz]ations|partners|members|agencies|groups) (?:are|were|make up|belong)\b",
    re.I,
)
# "In what ways did relational organizing help …?", "What are the steps …?": a sentence listing
# several, numbered ("(1) mobilizing …; (2) bringing …") or in a series
WAYS_QUESTION = re.compile(
    r"\b(?:what|which) (?:ways|means|mechanisms|strategies|steps|approaches)\b"
    r"|\bwhat are (?:the |some )?(?:[\w’'-]+ )?(?:ways|means|mechanisms|strategies|steps|approaches)\b",
    re.I,
)
NUMBERED_LIST = re.compile(r"\(\d\)[^()]+\(\d\)|(?:^|[;:]\s*)\d[.)]\s[^;]+;\s*\d[.)]\s")
# ... or counted ("three key approaches; they center …"): not any series ("such as healthy foods; …")
COUNTED_WAYS = re.compile(
    r"\b(?:two|three|four|five|six|seven|[2-9])\s+(?:[\w’'-]+\s+){0,2}"
    r"(?:ways|means|mechanisms|strategies|steps|approaches|recommendations|lessons|principles)\b",
    re.I,
)
ASKED_KINDS: list[tuple[re.Pattern[str], Callable[[str], bool]]] = [
    (WHICH_QUESTIONS, lambda text: text.rstrip().endswith("?")),
    (AIM_QUESTION, lambda text: bool(AIM_SENTENCE.search(text))),
    (KINDS_QUESTION, lambda text: bool(ENUMERATION.search(text))),
    # "Who wrote the blog post …?": its byline ("Jenn Marshall & Kathleen Miller, Contributing Writers")
    (AUTHORS_QUESTION, lambda text: title_line(text)),
    # "Give an example of a partnership that shares power": a sentence giving one ("For example, …")
    # or naming one ("The NC SHIP Community Council shares power by …")
    (EXAMPLE_QUESTION, lambda text: bool(EXAMPLE.search(text) or named_words(text))),
    # ... by the sentence listing them ("CCP includes Reading Hospital, …"), not one using "partners"
    (PARTNERS_QUESTION, lambda text: lists_members(text)),
    (WAYS_QUESTION, lambda text: bool(NUMBERED_LIST.search(text) or COUNTED_WAYS.search(text))),
]
ASKED_KIND_SHARE = 0.2


def asked_kind(question: str, allowed: list[ScoredSentence]) -> list[ScoredSentence]:
    """The sentences of the kind the question asks for, if it asks for one and the likeliest of them
    is at least ASKED_KIND_SHARE as likely as the best sentence; else none."""
    for asks, of_the_kind in ASKED_KINDS:
        if allowed and asks.search(question):
            listed = [item for item in allowed if of_the_kind(item[0].text)]
            if listed and listed[0][1] >= ASKED_KIND_SHARE * allowed[0][1]:
                return listed
    return []
