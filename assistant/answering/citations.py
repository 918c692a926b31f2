"""Sentences of a passage with their spans, [n] markers, and the checks on an answer's citations.

`support()` says how much of a claim a passage carries; `AnswerChecker` applies it to a generated
answer sentence by sentence: citations to passages that were not given are dropped, a sentence
without a valid citation is dropped, a sentence its passage does not support is marked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from assistant.text import content_words, sentence_spans, split_sentences
from assistant.types import Citation, Passage

CITATION_MARK = re.compile(r"\s*\[(\d{1,3})\]")
# Citation marks as models write them: [2], [1, 3], [1][2], [Passage 2].
NUMBER = r"(?:passages?\s*)?\d{1,3}"
CITATION_GROUP = re.compile(rf"(?:\s*\[{NUMBER}(?:\s*[,;]\s*{NUMBER})*\])+", re.I)
# A citation group after the sentence's full stop belongs to that sentence: "Text. [1]" -> "Text [1]."
TRAILING_GROUP = re.compile(r"([.!?])(" + CITATION_GROUP.pattern + r")", re.I)
LIST_MARKER = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")
NEGATION = re.compile(r"\b(?:no|not|never|none|nor|neither|without|cannot)\b|n't\b", re.I)
# Text addressed to an AI inside a document: it is never evidence for a claim.
INSTRUCTION_LIKE = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b.{0,40}\b(?:instructions?|prompts?|rules)\b"
    r"|\bsystem prompt\b|\b(?:reply|respond|answer) (?:only )?with\b"
    r"|\byou are (?:now )?an? (?:ai|assistant)\b",
    re.I | re.S,
)
SUPPORTED = 0.6  # share of a claim's content words its cited passage must carry
UNSUPPORTED_MARK = "[unsupported]"


@dataclass(frozen=True)
class Sentence:
    text: str
    span: tuple[int, int]
    passage: Passage


def passage_sentences(passage: Passage) -> list[Sentence]:
    """The passage's sentences with their character spans in passage.text."""
    return [Sentence(text, span, passage) for text, span in sentence_spans(passage.text)]


@lru_cache(maxsize=16384)
def stems(text: str) -> frozenset[str]:
    """Content words cut to a crude stem, so "partnerships" matches "partnership" and "funded" "funding".

    Our own because no stemmer is among the dependencies; suffix stripping plus a 6-letter prefix is
    what this overlap check needs.
    """
    out = set()
    for word in content_words(text):
        if not word.isalpha():
            continue  # numbers are checked on their own
        for suffix in ("ing", "ed", "es", "s", "e"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                break
        if word.endswith("i") and len(word) >= 4:
            word = word[:-1] + "y"  # "studied", "policies" are "study", "policy"
        out.add(word[:6])
    return frozenset(out)


def support(claim: str, passage: Passage) -> tuple[float, Sentence | None]:
    """How much of the claim's content the passage's best sentence window carries (0..1), and that sentence.

    A claim is supported when most of its content words appear in one sentence of the passage or in
    that sentence with its neighbours; quoting and close paraphrase pass, invented facts (numbers,
    names the passage doesn't have, claims it doesn't make) and flipped negations do not.
    Instruction-like text in a passage is not evidence, and a claim of fewer than two content words
    says too little to check.
    """
    words = stems(claim)
    sentences = passage_sentences(passage)
    if not sentences:
        return 0.0, None
    evidence = [None if INSTRUCTION_LIKE.search(s.text) else stems(s.text) for s in sentences]

    def overlap(window: list[frozenset[str] | None]) -> float:
        carried = set().union(*(w for w in window if w is not None))
        return len(words & carried) / max(1, len(words))

    scored = [
        (overlap(evidence[max(0, i - 1) : i + 2]), overlap([evidence[i]]), i) for i in range(len(sentences))
    ]
    best, _, index = max(scored, key=lambda item: (item[0], item[1], -item[2]))
    best_sentence = sentences[index]
    if len(words) < 2 or evidence[index] is None:
        return 0.0, best_sentence
    if set(re.findall(r"\d+", claim)) - set(re.findall(r"\d+", passage.text)):
        best = min(best, 0.4)  # a number the passage doesn't have is never supported
    if _names(claim) - stems(f"{passage.title} {passage.text}"):
        best = min(best, 0.4)  # nor a name it doesn't have ("the Pennsylvania Department of ...")
    if bool(NEGATION.search(claim)) != bool(NEGATION.search(best_sentence.text)):
        best = min(best, 0.4)  # "X does not Y" is not supported by "X does Y", nor the reverse
    return best, best_sentence


def _names(claim: str) -> frozenset[str]:
    """Stems of the claim's capitalized words after its first: names of people, places, organizations."""
    return stems(" ".join(re.findall(r"(?<=\s)[A-Z][\w-]*", claim)))


def answer_sentences(text: str) -> list[str]:
    """A generated answer's sentences, each with the citation marks that follow it."""
    return split_sentences(TRAILING_GROUP.sub(r"\2\1", text))


def cited_numbers(sentence: str) -> list[int]:
    groups = "".join(m.group(0) for m in CITATION_GROUP.finditer(sentence))
    return [int(n) for n in re.findall(r"\d+", groups)]


@dataclass
class AnswerChecker:
    """Checks a generated answer sentence by sentence; [n] in the answer means passages[n - 1].

    Shown citations are renumbered 1, 2, ... in order of first use, as the extractive answers are.
    """

    passages: list[Passage]
    max_words: int = 120
    instructions: str = ""  # the prompt's own text: a sentence repeating it is dropped, not shown
    shown: list[str] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: {"supported": 0, "marked": 0, "dropped": 0})
    numbers: dict[str, int] = field(default_factory=dict)  # passage id -> number shown
    words: int = 0  # words shown so far, marks not counted
    full: bool = False  # a sentence went past max_words: the answer is complete

    @property
    def text(self) -> str:
        return " ".join(self.shown)

    @property
    def supported(self) -> bool:
        return any(c.supported for c in self.citations)

    def summary(self) -> str:
        c = self.counts
        return (
            f"citation check: {sum(c.values())} sentences, {c['supported']} supported, "
            f"{c['marked']} marked unsupported, {c['dropped']} dropped"
        )

    def add(self, sentence: str) -> str | None:
        """Check one generated sentence; return it as it should be shown, or None if it is dropped."""
        claim = _claim(sentence)
        if not re.search(r"\w", claim):
            return None  # a stray mark or bullet, not a sentence
        numbers = list(dict.fromkeys(cited_numbers(sentence)))
        valid = [n for n in numbers if 1 <= n <= len(self.passages)]
        for n in numbers:
            if n not in valid:
                self.notes.append(f"dropped citation [{n}]: only {len(self.passages)} passages were given")
        if not valid:
            return self._drop(f"dropped a sentence without a valid citation: “{_short(claim)}”")
        words = len(claim.split())
        if self.shown and self.words + words > self.max_words:
            self.full = True
            return self._drop(f"dropped a sentence past the {self.max_words}-word limit: “{_short(claim)}”")
        checked = [(self.passages[n - 1], *support(claim, self.passages[n - 1])) for n in valid]
        backed = [item for item in checked if item[1] >= SUPPORTED]
        if not backed and self.instructions and _repeats(claim, self.instructions):
            return self._drop(f"dropped a sentence that repeats the instructions: “{_short(claim)}”")
        kept = backed or checked  # only the passages that back it, when any does
        marks = ""
        for passage, _, best in kept:
            number = self.numbers.setdefault(passage.id, len(self.numbers) + 1)
            marks += f"[{number}]"
            quote, span = (best.text, best.span) if best else (passage.text, (0, len(passage.text)))
            self.citations.append(Citation(number, passage, quote, span, supported=bool(backed)))
        shown = f"{claim} {marks}"
        if backed:
            self.counts["supported"] += 1
        else:
            self.counts["marked"] += 1
            shown += f" {UNSUPPORTED_MARK}"
            self.notes.append(f"not supported by its cited passage: “{_short(claim)}”")
        self.shown.append(shown)
        self.words += words
        return shown

    def _drop(self, note: str) -> None:
        self.counts["dropped"] += 1
        self.notes.append(note)
        return None


def check_answer(
    text: str, passages: list[Passage], max_words: int = 120, instructions: str = ""
) -> AnswerChecker:
    """Check a whole generated answer against the passages it was given."""
    checker = AnswerChecker(passages, max_words, instructions)
    for sentence in answer_sentences(text):
        checker.add(sentence)
    return checker


def _claim(sentence: str) -> str:
    """The sentence without its citation marks or list bullet."""
    claim = LIST_MARKER.sub("", CITATION_GROUP.sub("", sentence))
    return re.sub(r"\s+([.,;:!?])", r"\1", " ".join(claim.split())).strip()


def _repeats(claim: str, instructions: str) -> bool:
    words = stems(claim)
    return len(words) >= 3 and len(words & stems(instructions)) >= 0.6 * len(words)


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
