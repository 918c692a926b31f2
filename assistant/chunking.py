"""Sections -> passages: whole sentences, packed up to the embedding model's token window.

Own packer rather than LangChain's splitters: those cut on characters or tokens, not on sentence
boundaries, and a citation must quote whole sentences.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path

import pysbd

from assistant.types import LoadedDocument, Passage, Section

MODEL_WINDOW = 256  # all-MiniLM-L6-v2 reads at most 256 word pieces, [CLS] and [SEP] included
PREFIX_TOKENS = 48  # the title / section prefix is cut to this many word pieces
CJK_STOP = re.compile(r"(?<=[。！？])")

TokenCounter = Callable[[str], int]


@lru_cache(maxsize=4)
def token_counter(model_path: Path) -> TokenCounter:
    """Count word pieces with the embedding model's own tokenizer."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_path))
    return lambda text: len(tokenizer.encode(text, add_special_tokens=False))


_segmenter = pysbd.Segmenter(language="en", clean=False)


def split_sentences(text: str) -> list[str]:
    """Sentences of a text, paragraph by paragraph (a line break always ends a sentence)."""
    sentences: list[str] = []
    for paragraph in re.split(r"\n+", text):
        paragraph = " ".join(paragraph.split())
        if not paragraph:
            continue
        for sentence in _segmenter.segment(paragraph):
            sentences.extend(s.strip() for s in CJK_STOP.split(sentence) if s.strip())
    return sentences


def embedding_text(title: str, section: str, text: str) -> str:
    """What the model embeds: the passage with its document title and section for context."""
    prefix = " — ".join(p for p in (title, section) if p)
    return f"{prefix}\n{text}" if prefix else text


def chunk_document(
    document: LoadedDocument, count_tokens: TokenCounter, max_tokens: int = 200
) -> list[Passage]:
    """Pack each section's sentences into passages whose embedding text fits the model window."""
    title = str(document.metadata.get("title", document.source))
    passages: list[Passage] = []
    for section in document.sections:
        prefix_tokens = min(count_tokens(embedding_text(title, section.heading, "")), PREFIX_TOKENS)
        budget = max(32, min(max_tokens, MODEL_WINDOW - 2 - prefix_tokens - 2))
        for text in _pack(split_sentences(section.text), count_tokens, budget):
            passages.append(_passage(document, section, title, text, len(passages)))
    return passages


def _pack(sentences: list[str], count_tokens: TokenCounter, budget: int) -> Iterator[str]:
    current: list[str] = []
    used = 0
    for sentence in sentences:
        for piece in _fit(sentence, count_tokens, budget):
            size = count_tokens(piece) + 1
            if current and used + size > budget:
                yield " ".join(current)
                current, used = [], 0
            current.append(piece)
            used += size
    if current:
        yield " ".join(current)


def _fit(sentence: str, count_tokens: TokenCounter, budget: int) -> Iterator[str]:
    """A sentence longer than the budget is cut between words (rare: tables, run-on text)."""
    if count_tokens(sentence) < budget:
        yield sentence
        return
    piece: list[str] = []
    for word in sentence.split():
        if piece and count_tokens(" ".join([*piece, word])) >= budget:
            yield " ".join(piece)
            piece = []
        if count_tokens(word) >= budget:  # one huge "word" (a URL, base64): hard cut
            word = word[: budget * 2]
        piece.append(word)
    if piece:
        yield " ".join(piece)


def _passage(document: LoadedDocument, section: Section, title: str, text: str, ordinal: int) -> Passage:
    # Ids derive from content: the same file gives the same ids, so a rerun writes nothing new.
    digest = hashlib.sha256(f"{document.content_hash}:{ordinal}:{text}".encode()).hexdigest()[:32]
    return Passage(
        id=digest,
        text=text,
        source=document.source,
        title=title,
        section=section.heading,
        page=section.page,
        metadata={"ordinal": ordinal},
    )
