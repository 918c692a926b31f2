"""Sentence vectors, made once at ingest and stored with their chunk, so a question embeds only itself.

The answerer scores every sentence of the retrieved passages against the question; embedding those
30-60 sentences at question time was nearly all of an answer's time on a real library. Each
chunk's sentences (the spans the answerer quotes: `text.sentence_spans`) are encoded on their own at
ingest, in the same pass as the chunk, and stored with it: in the catalog, in the chunk's
transaction (read at question time), and on a shared Chroma server in the chunk's metadata too (so
another instance's `assistant sync` gets them without embedding). Encoded on their own rather than
pooled from the chunk's token embeddings: see benchmarks/README.md for the comparison.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.store import Embedder
from assistant.text import sentence_spans
from assistant.types import Passage

# Bump when the way sentence vectors are made changes: the next ingest re-encodes the sentences of
# every chunk (never the chunks themselves).
SENTENCE_METHOD = 1
# Sentences are short: a batch of 128 costs 1.2x the chunks' CPU time where the default 32 cost 1.9x
# (the model's per-batch overhead dominates short texts).
SENTENCE_BATCH = 128
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


def encode_sentences(embedder: Embedder, passages: Sequence[Passage]) -> list[ChunkSentences]:
    """Every sentence of every passage, encoded in one model call; one ChunkSentences per passage."""
    per_passage = [sentence_spans(p.text) for p in passages]
    texts = [text for sentences in per_passage for text, _ in sentences]
    vectors = embedder.encode(texts, batch_size=SENTENCE_BATCH) if texts else np.zeros((0, 0))
    found, start = [], 0
    for sentences in per_passage:
        spans = np.array([span for _, span in sentences], dtype=np.int32).reshape(-1, 2)
        found.append(ChunkSentences(spans, vectors[start : start + len(sentences)].astype(np.float16)))
        start += len(sentences)
    return found
