"""Sentences of a passage with their spans, [n] markers, and the check that a passage supports a sentence."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.catalog import STOPWORDS
from assistant.chunking import split_sentences
from assistant.types import Passage

CITATION_MARK = re.compile(r"\s*\[(\d{1,3})\]")


@dataclass(frozen=True)
class Sentence:
    text: str
    span: tuple[int, int]
    passage: Passage


def passage_sentences(passage: Passage) -> list[Sentence]:
    """The passage's sentences with their character spans in passage.text."""
    sentences, cursor = [], 0
    for sentence in split_sentences(passage.text):
        start = passage.text.find(sentence, cursor)
        if start < 0:
            continue
        sentences.append(Sentence(sentence, (start, start + len(sentence)), passage))
        cursor = start + len(sentence)
    return sentences


def content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", text.lower()) if w not in STOPWORDS and len(w) > 2}


def support(claim: str, passage: Passage) -> tuple[float, Sentence | None]:
    """How much of the claim's content the passage's best sentence window carries (0..1), and that sentence.

    A sentence is supported when most of its content words appear in one sentence of the passage
    or in that sentence with its neighbours; quoting and close paraphrase pass, invented facts
    (numbers, names, claims the passage doesn't make) do not.
    """
    words = content_words(claim)
    sentences = passage_sentences(passage)
    if not words or not sentences:
        return 0.0, None

    def overlap(text: str) -> float:
        return len(words & content_words(text)) / len(words)

    scored = [
        (
            overlap(" ".join(s.text for s in sentences[max(0, i - 1) : i + 2])),
            overlap(sentence.text),
            sentence,
        )
        for i, sentence in enumerate(sentences)
    ]
    best, _, best_sentence = max(scored, key=lambda item: (item[0], item[1]))
    numbers = set(re.findall(r"\d+", claim))
    if numbers - set(re.findall(r"\d+", passage.text)):
        best = min(best, 0.4)  # a number the passage doesn't have is never supported
    return best, best_sentence
