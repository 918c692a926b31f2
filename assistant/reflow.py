"""Lines as typeset -> paragraphs as written.

A line break inside a paragraph is a space; a word hyphenated at a line end is rejoined when there
is evidence for the joined word (it occurs unbroken elsewhere in the document, or the embedding
model's vocabulary holds it), and a real compound ("community-based") keeps its hyphen. Paragraph
and heading boundaries stay line breaks, so they still end sentences.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
# A line ending in a word broken by a hyphen ("partner-"), the next starting in lower case.
BROKEN_WORD = re.compile(r"([^\W\d_]+)-$")
BULLET = re.compile(r"^\s*[-*•▪◦‣–]\s+\S")
LIST_ITEM = re.compile(r"^\s*(?:[-*•▪◦‣–]|\[\d{1,3}\]|\(?\d{1,2}[.)]|\(?[a-z][.)]|\([ivx]{1,4}\))\s+\S")
CJK = "\u3000-\u303f\u3400-\u9fff\uac00-\ud7af\uff00-\uffef"
CJK_PUNCT = "\u3000-\u303f\uff00-\uffef"
# Spaces a PDF or a line break puts between Chinese characters, or beside their punctuation.
CJK_GAP = re.compile(
    f"(?<=[{CJK}])\\s+(?=[{CJK},.;:!?()])|(?<=[,;:!?()])\\s+(?=[{CJK}])"
    f"|(?<=[{CJK_PUNCT}])\\s+|\\s+(?=[{CJK_PUNCT}])"
)
TERMINAL = re.compile(r"[.!?:;。！？][\"'”’)\]]*$")
INFLECTIONS = ("s", "es", "ed", "d", "ing", "ly", "er", "ers", "ment", "ments", "ness", "al")
HARD_WRAP_MIN, HARD_WRAP_MAX = 50, 100  # lines cut at a width in this range were wrapped by hand or a tool


@lru_cache(maxsize=2)
def vocabulary(model_path: Path | None = None) -> frozenset[str]:
    """Whole words the embedding model's tokenizer knows (no "##" pieces), lower case."""
    if model_path is None:
        from assistant.settings import Settings

        model_path = Settings().model_path
    vocab = model_path / "vocab.txt"
    if not vocab.is_file():
        return frozenset()
    words = vocab.read_text(encoding="utf-8").split()
    return frozenset(w for w in words if w.isalpha() and len(w) > 1)


class Dehyphenator:
    """Decides, by evidence, whether "partner-" + "ships" is "partnerships" or a real compound."""

    def __init__(self, lines: Iterable[str], vocab: frozenset[str] | None = None) -> None:
        self.known: set[str] = set()
        for line in lines:
            # The broken word at the line's end is no evidence for itself.
            body = BROKEN_WORD.sub("", line.rstrip())
            self.known.update(w.lower() for w in WORD.findall(body))
        self.vocab = vocabulary() if vocab is None else vocab

    def join(self, head: str, tail: str) -> str:
        """head ends with "-" at a line end; tail is the next line's first word."""
        stem = head[:-1]
        joined, compound = (stem + tail).lower(), f"{stem}-{tail}".lower()
        if _inflected_in(joined, self.known):
            return stem + tail
        if _inflected_in(compound, self.known):
            return f"{stem}-{tail}"
        if _inflected_in(joined, self.vocab):
            return stem + tail
        if stem.lower() in self.vocab and tail.lower() in self.vocab:
            return f"{stem}-{tail}"  # two whole words: a compound ("community-based")
        return stem + tail


def _inflected_in(word: str, words: set[str] | frozenset[str]) -> bool:
    """The word, or it without an inflection ("uncovering" -> "uncover"), is among `words`."""
    return word in words or any(
        word.endswith(suffix) and word[: -len(suffix)] in words for suffix in INFLECTIONS
    )


def join_lines(lines: list[str], words: Dehyphenator) -> str:
    """One paragraph's lines as one line: spaces between lines, broken words rejoined."""
    return join_lines_at(lines, words)[0]


def join_lines_at(lines: list[str], words: Dehyphenator) -> tuple[str, list[int]]:
    """join_lines, plus where each line's text starts in the result (a rejoined word counts
    as the earlier line's)."""
    text, starts = "", []
    for line in (" ".join(raw.split()) for raw in lines):
        broken = BROKEN_WORD.search(text)
        first = re.match(r"[^\W\d_]+", line)
        if broken and first and line[0].islower():
            joined = words.join(broken.group(0), first.group(0))
            text = text[: broken.start()] + joined
            starts.append(len(text))
            text += line[first.end() :]
        elif (
            text.endswith(("–", "—", "/")) or not text or not line or CJK_GAP.search(f"{text[-1]} {line[0]}")
        ):
            starts.append(len(text))  # a dash or slash at a line end binds the two words
            text += line
        else:
            starts.append(len(text) + 1)
            text += " " + line
    return text, starts


def reflow_text(text: str, vocab: frozenset[str] | None = None) -> str:
    """A plain text's paragraphs one to a line (a hard-wrapped file's lines joined back up)."""
    lines = text.splitlines()
    widths = sorted(len(line.rstrip()) for line in lines if line.strip())
    if not widths:
        return text
    width = widths[int(0.9 * (len(widths) - 1))]
    wrapped = HARD_WRAP_MIN <= width <= HARD_WRAP_MAX and len(widths) >= 3
    words = Dehyphenator(lines, vocab)
    paragraphs: list[list[str]] = []
    previous = ""
    for line in lines:
        if not line.strip():
            previous = ""
            continue
        if previous and _continues(previous, line, width if wrapped else None):
            paragraphs[-1].append(line)
        else:
            paragraphs.append([line])
        previous = line
    return "\n".join(join_lines(p, words) for p in paragraphs)


def _continues(previous: str, line: str, width: int | None) -> bool:
    """Whether `line` goes on the paragraph that `previous` belongs to."""
    previous, line = previous.rstrip(), line.strip()
    long = width is not None and len(previous) >= 0.75 * width
    if BULLET.match(line) or (LIST_ITEM.match(line) and not long):
        return False  # a numbered item after a line cut at the wrap width is "(1)" mid-sentence
    if BROKEN_WORD.search(previous) and line[:1].islower():
        return True
    if not TERMINAL.search(previous) and line[:1].islower():
        return True
    # In a wrapped text, a line that runs to the wrap width was cut there; a shorter one ends its
    # paragraph (or is a heading).
    return long


def table_rows(cells: list[list[str]]) -> list[str]:
    """A table as text rows a sentence can quote: "column: value; column: value." under the header
    row's names (merged cells repeat in python-docx: each value is kept once per row)."""
    rows = [[" ".join(c.split()) for c in row] for row in cells]
    rows = [row for row in rows if any(row)]
    if len(rows) < 2:
        return [" ".join(dict.fromkeys(c for c in row if c)) for row in rows]
    header = rows[0]
    return [
        "; ".join(
            dict.fromkeys(
                f"{name}: {value}" if name else value
                for name, value in zip(header, row, strict=False)
                if value
            )
        ).rstrip(".")
        + "."
        for row in rows[1:]
    ]
