"""Sentence vectors, made once at ingest in the chunk's own pass and stored with their chunk, so a
question embeds only itself.

The answerer scores every sentence of the retrieved passages against the question; embedding those
30-60 sentences at question time was nearly all of an answer's time on a real library. Each
chunk's sentences (the spans the answerer quotes: `text.sentence_spans`) get the mean of their
tokens' embeddings from the forward pass that embeds the chunk: one pass for both, and each
sentence read in its context (title, heading, the sentences around it). They are stored with the
chunk: in the catalog, in the chunk's transaction (read at question time), and on a shared Chroma
server in the chunk's metadata too (so another instance's `assistant sync` gets them without
embedding). benchmarks/README.md compares this with encoding each sentence alone.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.chunking import embedding_text
from assistant.store import Embedder
from assistant.text import sentence_spans
from assistant.types import Passage

# Bump when the way sentence vectors are made changes: the next ingest remakes every chunk's sentence
# vectors (one pass over its text) and keeps its chunk vector.
SENTENCE_METHOD = 2  # 1: each sentence encoded alone; 2: pooled from the chunk's pass
METADATA_KEY = "sentences"  # the chunk's Chroma metadata field holding them (server mode)
METADATA_VERSION_KEY = "sentences_version"


def sentence_version(model_path: Path) -> str:
    """What made a stored sentence vector: a vector of another version is made again."""
    return f"sentences-{SENTENCE_METHOD}/{model_path.name}"


@dataclass(frozen=True)
class ChunkSentences:
    """One chunk's sentence vectors: spans[i] (start, end in the chunk text) has vectors[i]."""

    spans: np.ndarray  # (n, 2) int32
    vectors: np.ndarray  # (n, dim) float16, unit length: half the bytes, cosine error ~1e-4

    def to_bytes(self) -> bytes:
        n, dim = self.vectors.shape if len(self.spans) else (0, 0)
        return (
            struct.pack("<ii", n, dim)
            + self.spans.astype("<i4").tobytes()
            + self.vectors.astype("<f2").tobytes()
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> ChunkSentences:
        n, dim = struct.unpack_from("<ii", data)
        spans = np.frombuffer(data, "<i4", 2 * n, 8).reshape(n, 2)
        vectors = np.frombuffer(data, "<f2", n * dim, 8 + 8 * n).reshape(n, dim)
        return cls(spans, vectors)

    def to_text(self) -> str:
        """For Chroma metadata, which holds strings, not bytes."""
        return base64.b64encode(self.to_bytes()).decode("ascii")

    @classmethod
    def from_text(cls, text: str) -> ChunkSentences:
        return cls.from_bytes(base64.b64decode(text))

    def by_span(self) -> dict[tuple[int, int], np.ndarray]:
        return {(int(a), int(b)): v for (a, b), v in zip(self.spans, self.vectors, strict=True)}


def encode_passages(
    embedder: Embedder, passages: Sequence[Passage]
) -> tuple[np.ndarray, list[ChunkSentences]]:
    """Each passage's vector (of its embedding text) and its sentences' vectors, from one pass."""
    texts = [embedding_text(p.title, p.section, p.text) for p in passages]
    per_passage = [sentence_spans(p.text) for p in passages]
    # The embedding text is the passage's text after a title line: shift the spans to it.
    shifted = [
        [(a + len(text) - len(p.text), b + len(text) - len(p.text)) for _, (a, b) in sentences]
        for text, p, sentences in zip(texts, passages, per_passage, strict=True)
    ]
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths batched together
    sorted_vectors, sorted_pooled = embedder.encode_with_spans(
        [texts[i] for i in order], [shifted[i] for i in order]
    )
    vectors = np.empty_like(sorted_vectors)
    pooled: list[np.ndarray] = [np.empty(0)] * len(texts)
    for rank, i in enumerate(order):
        vectors[i], pooled[i] = sorted_vectors[rank], sorted_pooled[rank]
    _encode_past_the_window(embedder, per_passage, pooled)
    made = [
        ChunkSentences(
            np.array([span for _, span in sentences], dtype=np.int32).reshape(-1, 2), rows.astype(np.float16)
        )
        for sentences, rows in zip(per_passage, pooled, strict=True)
    ]
    return vectors, made


def _encode_past_the_window(
    embedder: Embedder, per_passage: list[list[tuple[str, tuple[int, int]]]], pooled: list[np.ndarray]
) -> None:
    """A sentence the model's 256-token window cut off (a passage over the window: one
    overlong sentence) is encoded alone, in place."""
    lost = [(i, j) for i, rows in enumerate(pooled) for j in np.flatnonzero(~rows.any(axis=1))]
    if not lost:
        return
    alone = embedder.encode([per_passage[i][j][0] for i, j in lost])
    for (i, j), vector in zip(lost, alone, strict=True):
        pooled[i][j] = vector
