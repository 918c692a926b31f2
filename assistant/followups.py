"""Turn a follow-up ("who are its partners?") into a standalone question, without an LLM.

A question that leans on the conversation (a pronoun, "what about ...", very few content words)
gets the previous user turn's key terms appended, so retrieval sees what "it" refers to.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.text import content_words

Message = dict[str, str]

REFERRING = re.compile(
    r"\b(it|its|it's|they|them|their|theirs|this|that|these|those|he|she|his|her|there|such|"
    r"the (study|program|programme|partnership|project|paper|report|brief|post|article|authors?|"
    r"organi[sz]ations?|coalition|consortium|council|researchers|interviews?))\b",
    re.IGNORECASE,
)
CONTINUATION = re.compile(
    r"^\s*(and|what about|how about|also|how so|tell me more|more on)\b", re.IGNORECASE
)


def needs_context(question: str) -> bool:
    return bool(
        REFERRING.search(question) or CONTINUATION.match(question) or len(content_words(question)) <= 1
    )


def standalone_question(question: str, history: Sequence[Message]) -> str:
    """The question with the key terms of the earlier user turns it refers to, or itself unchanged."""
    previous = [m["content"] for m in history if m.get("role") == "user" and m.get("content")]
    if not previous or not needs_context(question):
        return question
    own = content_words(question)
    context: list[str] = []
    for turn in reversed(previous[-2:]):  # the latest turn first: it is what "it" most likely means
        context.extend(w for w in _key_terms(turn) if w.lower() not in own and w not in context)
    return f"{question} ({' '.join(context[:12])})" if context else question


def _key_terms(text: str) -> list[str]:
    """Content words of a turn in their original spelling, names and acronyms kept."""
    words = re.findall(r"[\w’'-]+", text)
    keep = content_words(text)
    return [w for w in words if w.lower() in keep or (w.isupper() and len(w) > 1)]
