"""Sections -> passages: whole sentences, packed up to the embedding model's token window.

Own packer rather than LangChain's splitters: those cut on characters or tokens, not on sentence
boundaries, and a citation must quote whole sentences.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from assistant.text import split_sentences
from assistant.types import LoadedDocument, Passage, Section

CHUNKER_VERSION = 5  # bump when chunk boundaries or texts change: stores re-chunk on next ingest
MODEL_WINDOW = 256  # all-MiniLM-L6-v2 reads at most 256 word pieces, [CLS] and [SEP] included
TITLE_TOKENS = 48  # a longer title is cut for embedding (1 in 200 SciFact titles is longer)
HEADING_TOKENS = 24  # a longer "heading" is cut (often a whole paragraph styled as a heading)
MAX_CHARS_PER_TOKEN = 10  # English runs about 4.5; a piece of text longer than this is cut

TokenCounter = Callable[[str], int]


@lru_cache(maxsize=4)
def token_counter(model_path: Path) -> TokenCounter:
    """Count word pieces with the embedding model's own tokenizer, through its Rust core (the Python
    wrapper costs ten times the counting of a short text). Read from tokenizer.json when the model
    has one: the same counts (checked on 20k SciFact texts) without importing transformers (2 s)."""
    from tokenizers import Tokenizer

    if (model_path / "tokenizer.json").is_file():
        core = Tokenizer.from_file(str(model_path / "tokenizer.json"))
    else:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(model_path))
        if getattr(tokenizer, "backend_tokenizer", None) is None:
            return lambda text: len(tokenizer.encode(text, add_special_tokens=False))
        core = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
    core.no_truncation()
    core.no_padding()
    return lambda text: len(core.encode(text, add_special_tokens=False))


def embedding_text(title: str, section: str, text: str) -> str:
    """What the model embeds: the passage with its document title and section for context."""
    prefix = " — ".join(p for p in (title, section) if p)
    return f"{prefix}\n{text}" if prefix else text


def chunk_document(
    document: LoadedDocument, count_tokens: TokenCounter, max_tokens: int = 200
) -> list[Passage]:
    """Pack sentences into passages whose embedding text fits the model window.

    Short sections are packed together (a lone "Design: 33 interviews." section retrieves
    poorly); a heading always travels with the text under it and is never left at a chunk's end;
    a chunk never spans two PDF pages (but records the page its last sentence ends on when that runs
    over), nor mixes quotable text with a reference list. `section` is the heading the chunk starts under;
    `headings` are the heading lines inside it, with their offsets, so a citation can name its own section.
    """
    title = chunk_title(str(document.metadata.get("title", document.source)), count_tokens)
    sections = [replace(s, heading=_clip(s.heading, count_tokens, HEADING_TOKENS)) for s in document.sections]
    units = [
        (piece, kind, section)
        for section in sections
        for piece, kind in _units(
            section, count_tokens, _fit_budget(title, section, count_tokens, max_tokens)
        )
    ]
    passages: list[Passage] = []
    chunk: list[tuple[str, str, Section]] = []
    used = budget = 0
    for index, (text, kind, section) in enumerate(units):
        is_heading = kind == "heading"
        size = count_tokens(text)
        # A heading must fit together with the first sentence under it.
        needed = size + (count_tokens(units[index + 1][0]) if is_heading and index + 1 < len(units) else 0)
        if chunk and (
            used + needed > budget
            or (is_heading and used > 0.6 * budget)
            or section.page != chunk[-1][2].page
            or section.quotable != chunk[-1][2].quotable
        ):
            passages.append(_passage(document, chunk, title, len(passages)))
            chunk, used = [], 0
        if not chunk:
            heading = section.heading if not is_heading else text
            prefix = count_tokens(embedding_text(title, heading, ""))
            budget = max(32, min(max_tokens, MODEL_WINDOW - 4 - prefix))
        chunk.append((text, kind, section))
        used += size
    if chunk:
        passages.append(_passage(document, chunk, title, len(passages)))
    return passages


def chunk_title(document_title: str, count_tokens: TokenCounter) -> str:
    """The document title as its chunks carry it and the model reads it: spaces normalized, a long
    one cut. The catalog keeps the document's own title, for display."""
    return _clip(document_title, count_tokens, TITLE_TOKENS)


def _clip(text: str, count_tokens: TokenCounter, limit: int) -> str:
    """Text cut to at most `limit` word pieces, an ellipsis marking the cut."""
    text = " ".join(text.split())
    first = next(_fit(text, count_tokens, limit), "")
    return first if first == text else f"{first} …"


def _fit_budget(title: str, section: Section, count_tokens: TokenCounter, max_tokens: int) -> int:
    """The most word pieces one sentence piece may hold: it may open a chunk right after its heading,
    under the title and heading prefix, and all of that must fit the model window."""
    prefix = count_tokens(embedding_text(title, section.heading, ""))
    return max(16, min(max_tokens, MODEL_WINDOW - 2 - prefix - count_tokens(section.heading)))


def _units(section: Section, count_tokens: TokenCounter, budget: int) -> Iterator[tuple[str, str]]:
    """The section's heading (if it has text under it), then its sentences cut to fit, each tagged
    "heading", "paragraph" (first sentence of a paragraph) or "sentence"."""
    paragraphs = [split_sentences(p) for p in re.split(r"\n+", section.text)]
    paragraphs = [p for p in paragraphs if p]
    if not paragraphs:
        return
    if section.heading:
        yield " ".join(section.heading.split()), "heading"
    for sentences in paragraphs:
        for index, sentence in enumerate(sentences):
            for part, piece in enumerate(_fit(sentence, count_tokens, budget)):
                yield piece, "paragraph" if index == part == 0 else "sentence"


def _fit(sentence: str, count_tokens: TokenCounter, budget: int) -> Iterator[str]:
    """A sentence over the budget is cut between words (rare: tables, run-on text), a word over it
    (a URL, base64) between characters; nothing is dropped."""
    if _fits(sentence, count_tokens, budget):
        yield sentence
        return
    words = [
        piece
        for word in sentence.split()
        for piece in (_cut(word, "", count_tokens, budget) if len(word) > budget // 4 else [word])
    ]
    yield from _cut(words, " ", count_tokens, budget)


def _fits(text: str, count_tokens: TokenCounter, budget: int) -> bool:
    # The length test first: it is free, and it bounds runs the tokenizer reads as one [UNK].
    return len(text) <= budget * MAX_CHARS_PER_TOKEN and count_tokens(text) < budget


def _cut(units: Sequence[str], joiner: str, count_tokens: TokenCounter, budget: int) -> Iterator[str]:
    """Greedy longest runs of units that fit, each found by galloping then bisecting, so a huge run-on
    text costs O(n log budget) token counts rather than one count per word."""
    start = 0
    while start < len(units):

        def fits(end: int, start: int = start) -> bool:
            return _fits(joiner.join(units[start:end]), count_tokens, budget)

        good, step = start + 1, 1  # a single unit always goes, even if it alone is over
        while good + step <= len(units) and fits(good + step):
            good, step = good + step, step * 2
        bad = min(good + step, len(units) + 1)
        while bad - good > 1:
            middle = (good + bad) // 2
            good, bad = (middle, bad) if fits(middle) else (good, middle)
        yield joiner.join(units[start:good])
        start = good


def _passage(
    document: LoadedDocument, chunk: list[tuple[str, str, Section]], title: str, ordinal: int
) -> Passage:
    text = ""
    for piece, kind, _ in chunk:  # headings and paragraphs start a line; sentences run on
        text += f"\n{piece}\n" if kind == "heading" else f"\n{piece}" if kind == "paragraph" else f" {piece}"
    text = re.sub(r"(?<=[。！？]) (?=\S)", "", re.sub(r" *\n+ *", "\n", text)).strip()
    first = chunk[0]
    end_page = max((s.end_page for _, _, s in chunk if s.end_page), default=None)
    metadata = {"ordinal": ordinal} if first[2].quotable else {"ordinal": ordinal, "quotable": False}
    headings, cursor = [], 0
    for piece, kind, _ in chunk:  # every piece is in the text, in order (only spacing was changed)
        start = text.find(piece, cursor)
        if start < 0:
            continue
        cursor = start + len(piece)
        if kind == "heading":
            headings.append((start, piece))
    # Ids derive from content: the same file gives the same ids, so a rerun writes nothing new.
    digest = hashlib.sha256(f"{document.content_hash}:{ordinal}:{text}".encode()).hexdigest()[:32]
    return Passage(
        id=digest,
        text=text,
        source=document.source,
        title=title,
        section=first[0] if first[1] == "heading" else first[2].heading,
        page=first[2].page,
        end_page=end_page,
        metadata=metadata,
        headings=headings,
    )
