"""Turn a follow-up ("who are its partners?") into a standalone question, without an LLM.

A question that leans on the conversation (a pronoun, "what about ...", very few content words)
gets the key terms of the current topic appended, so retrieval sees what "it" refers to. The
current topic is the last *answered* turn only: an abstained or off-topic turn ("What is the
capital of Australia?") never becomes the topic, and older turns don't pile up (after three
questions, "Who ran it?" must not carry the words of all three). A follow-up that names its own
topic (a name, an acronym, a quoted phrase, "the relational organizing study") switches topic and
is left as it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypedDict

from assistant.text import (
    BROWSE_QUESTION,
    CJK_LETTER,
    ORDINALS,
    QUESTION_WORDS,
    content_words,
    singular,
    singular_words,
)


class Message(TypedDict, total=False):
    """One turn of the conversation as callers pass it (UI, CLI, API, gold file)."""

    role: str  # "user" or "assistant"
    content: str
    abstained: bool  # assistant turns: the library did not cover the question
    standalone_question: str  # assistant turns: how the question was read (a follow-up's rewrite)


# "the study" leans on the conversation; "the study on/of/by ..." says which study it means.
REFERRING = re.compile(
    r"\b(it|its|it's|they|them|their|theirs|this|that|these|those|he|she|his|her|there|such|"
    r"the (study|program|programme|partnership|project|paper|report|brief|post|article|authors?|"
    r"organi[sz]ations?|coalition|consortium|council|researchers|interviews?)"
    r"(?!\s+(?:on|of|about|by|from|with|that|which|where|in|for)\b))\b",
    re.IGNORECASE,
)
CONTINUATION = re.compile(r"^\s*(and|what about|how about|also|how so|tell me more|more on)\b", re.IGNORECASE)
# A name inside the question (not its first word), an acronym, or a quoted phrase: the follow-up
# says what it is about.
NAME = re.compile(r"(?<=\w[\s,;:(-])(?:[A-Z][a-z]+|[A-Z]{2,}\w*)|\b[A-Z]{2,}\b|[“\"][^”\"]{3,}[”\"]")
NOT_NAMES = frozenset({"I", "It", "Its", "They", "Their", "This", "That", "These", "Those", "He", "She"})
CJK_REFERRING = re.compile(r"它|他们|她们|他|她|这项|这个|这些|那个|那些|该|此|其")
# Text an abstention starts with, for histories that lack the `abstained` flag (older callers).
NOT_COVERED = "The library does not cover"


# "When is it important to ...", "it is hard to ...", "how long does it take to ...": an "it" that
# stands for what follows, not for an earlier topic.
EXPLETIVE_IT = re.compile(
    r"\b(?:is|was|isn't|wasn't)\s+it\s+(?:\w+ly\s+)?\w+\s+(?:to|that|for|when|if)\b"
    r"|\b(?:does|did|will|would|can|could)\s+it\s+(?:take|make sense)\s+(?:\w+\s+)?to\b"
    r"|\bit(?:\s+is|'s|\s+was)\s+(?:\w+ly\s+)?\w+\s+(?:to|that|for|when|if)\b",
    re.IGNORECASE,
)


# "Should partnerships pay community organizations for their time?": a possessive after the question
# has said enough of its own (four content words) belongs to those words, not to an earlier topic;
# "their study", "its findings" still point back at the study talked about
OWN_WORDS_BEFORE_POSSESSIVE = 4
STUDY_PART = re.compile(
    r"\s+(?:study|studies|survey|research|program|programme|project|paper|report|findings|results|"
    r"interviews?|authors?|sample|data|analysis|trial|partners?|partnership)\b",
    re.I,
)


# "that" points back after these ("Why does that matter?", "What about that?"); after a noun it
# starts a clause about the noun ("a partnership that shares power"), which points back at nothing
BEFORE_POINTING_THAT = frozenset(
    "is was are were does did do can could would will should about of in on at for with from to into "
    "why how what when where who and but or after before by like than".split()
)


def needs_context(question: str) -> bool:
    if CJK_LETTER.search(question):  # no spaces to count words by: only a pronoun says it leans on the topic
        return bool(CJK_REFERRING.search(question))
    text = EXPLETIVE_IT.sub(" ", question)
    referring = [
        m for m in REFERRING.finditer(text) if not _own_possessive(m, text) and not _relative_that(m, text)
    ]
    # "How many organizations took part?" names one topic word, and no study: it asks about the last one
    topic_words = content_words(question) - QUESTION_WORDS
    return bool(referring or CONTINUATION.match(question) or len(topic_words) <= 1)


def _relative_that(match: re.Match[str], text: str) -> bool:
    before = re.findall(r"[\w’'-]+", text[: match.start()])
    return (
        match.group(0).lower() == "that" and bool(before) and before[-1].lower() not in BEFORE_POINTING_THAT
    )


def _own_possessive(match: re.Match[str], text: str) -> bool:
    return (
        match.group(0).lower() in {"its", "their"}
        and len(content_words(text[: match.start()])) >= OWN_WORDS_BEFORE_POSSESSIVE
        and not STUDY_PART.match(text, match.end())
    )


# "the health and social sector collaboration study": a study described by its topic is named too
DESCRIBED = re.compile(
    r"\bthe (?:(?!(?:of|the|a|an|this|that|its|their|in|on|at|for|by|with|to|from)\b)[\w’'-]+ ){2,6}"
    r"(?:study|program|programme|partnership|project|paper|report|brief|post|article|survey|trial|review)\b",
    re.IGNORECASE,
)


# "What is a joint mission and why does it matter?": "it" is the term the question defines first
DEFINED_FIRST = re.compile(
    r"^\W*what (?:is|are) (?P<term>[^?,;]{3,60}?) and (?:why|how|what|when|who|where)\b", re.I
)


def names_own_topic(question: str) -> bool:
    named = any(match.group(0) not in NOT_NAMES for match in NAME.finditer(question))
    defined = DEFINED_FIRST.search(question)
    defines = bool(defined and content_words(defined.group("term")))
    # "Is there anything about housing?" asks about housing, whatever was asked before
    browsed = BROWSE_QUESTION.match(question)
    rest = question[browsed.end() :] if browsed else ""
    browses = bool(content_words(rest) - QUESTION_WORDS) and not REFERRING.search(rest)
    return named or defines or browses or bool(DESCRIBED.search(question))


def current_topic(history: Sequence[Message]) -> str | None:
    """How the last answered question was read (its rewrite, if it was a follow-up), or None.

    A user turn with no assistant reply after it counts as answered: the caller didn't say."""
    topic: str | None = None
    asked: str | None = None
    for message in history:
        if message.get("role") == "user" and message.get("content"):
            topic = asked or topic  # an unanswered earlier question still set a topic
            asked = message["content"]
        elif message.get("role") == "assistant" and asked is not None:
            if not _abstained(message):
                topic = message.get("standalone_question") or asked
            asked = None
    return asked or topic


def _abstained(message: Message) -> bool:
    if "abstained" in message:
        return bool(message["abstained"])
    return message.get("content", "").startswith(NOT_COVERED)


def topic_history(history: Sequence[Message]) -> list[Message]:
    """The conversation cut to its current topic: the one question a follow-up may lean on."""
    topic = current_topic(history)
    return [{"role": "user", "content": topic}] if topic else []


def standalone_question(question: str, history: Sequence[Message]) -> str:
    """The question with the current topic's key terms appended when it leans on it, else itself; or
    with the item of an earlier answer's list it points at ("the second one")."""
    if item := referenced_item(question, history):  # its own words, not the list's topic: not the list again
        return f"{question} ({item})"
    topic = current_topic(history)
    if not topic or not needs_context(question) or names_own_topic(question):
        return question
    own = content_words(question)
    context: list[str] = []
    for word in _key_terms(topic):
        if word.lower() not in own and word not in context:
            context.append(word)
    return f"{question} ({' '.join(context[:12])})" if context else question


def _key_terms(text: str) -> list[str]:
    """Content words of a turn in their original spelling, names and acronyms kept; not the words
    pointing at a list's item: "Tell me more about the third one. (foster power sharing)" is about
    power sharing. (Other question words stay: "study" in "How many took part? (… study)" helps.)"""
    words = re.findall(r"[\w’'-]+", text)
    keep = content_words(text) - POINTING_WORDS
    return [w for w in words if w.lower() in keep or (w.isupper() and len(w) > 1)]


# "Tell me more about the second one", "What does the last approach involve?": an item of the latest
# list an answer gave, numbered ("(1) engage early; (2) establish shared purpose …") or a series
# after a colon or semicolon ("three key approaches; they center mutual benefits …, develop a joint
# mission and shared goals, and foster power sharing")
POINTING_WORDS = frozenset({*ORDINALS, "last", "one", "tell"})
ORDINAL_REFERENCE = re.compile(rf"\bthe ({'|'.join(ORDINALS)}|last)\b(?:\s+([\w’'-]+))?", re.I)
NUMBERED_ITEM = re.compile(r"\(\d\)\s*([^;()]+?)\s*(?=;|\(\d\)|\.(?:\s|$)|$)")
SERIES = re.compile(r"[:;]\s*([^.:;]+,[^.:;]+,\s*and\s+[^.:;]+)")


def referenced_item(question: str, history: Sequence[Message]) -> str | None:
    """The item of the latest answered list that "the second one" points at, if one was given."""
    ordinal = ORDINAL_REFERENCE.search(question)
    if not ordinal:
        return None
    answers = [m.get("content", "") for m in history if m.get("role") == "assistant" and not _abstained(m)]
    answer, items = next(
        ((text, found) for text in reversed(answers) if (found := listed_items(text))), ("", [])
    )
    # "the second one", "the last approach" of "three approaches"; not "the first year"
    said = ordinal.group(2)
    if not items or (said and said.lower() != "one" and singular(said) not in singular_words(answer)):
        return None
    index = -1 if ordinal.group(1).lower() == "last" else ORDINALS.index(ordinal.group(1).lower())
    return items[index] if index < len(items) else None


def listed_items(text: str) -> list[str]:
    """The items of the first list in an answer's text, citation marks removed."""
    text = re.sub(r"\s*\[\d+\]", "", text)
    numbered = [re.sub(r"^and\s+", "", item) for item in NUMBERED_ITEM.findall(text)]
    if len(numbered) >= 2:
        return numbered
    series = SERIES.search(text)
    return [item.strip() for item in re.split(r",\s*(?:and\s+)?", series.group(1))] if series else []
