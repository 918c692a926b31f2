"""The embedding model and the Chroma collection. Nothing above this file knows the Chroma mode."""

from __future__ import annotations

import errno
import logging
from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.settings import Settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)


class StoreUnavailable(RuntimeError):
    """The Chroma store (usually a server) cannot be reached."""


class StoreFull(StoreUnavailable):
    """No space left on the disk the store writes to."""


def is_disk_full(exc: BaseException) -> bool:
    """SQLite (the catalog, and Chroma underneath) and the OS each word it their own way."""
    text = str(exc).lower()
    return getattr(exc, "errno", None) == errno.ENOSPC or "disk is full" in text or "no space left" in text


class Embedder(Embeddings):
    """all-MiniLM-L6-v2 (or another local sentence-transformers folder), normalized vectors."""

    def __init__(self, model_path: Path, batch_size: int = 32) -> None:
        if not (model_path / "config.json").is_file() and not (model_path / "modules.json").is_file():
            raise FileNotFoundError(f"no sentence-transformers model in {model_path}")
        self.model_path = model_path
        self.batch_size = batch_size

    @cached_property
    def model(self) -> SentenceTransformer:
        """Loaded on first use (4 s): a re-ingest of unchanged files never needs it."""
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(self.model_path), device="cpu")

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def encode(
        self, texts: Sequence[str], *, progress: bool = False, batch_size: int | None = None
    ) -> np.ndarray:
        return self.model.encode(
            list(texts),
            batch_size=batch_size or self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        ).astype(np.float32)

    def encode_with_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each text's vector and, from the same forward pass, one vector per character span of it:
        the mean of the span's token embeddings, unit length (a zero row for a span past the model's
        window). Our own batching loop because `encode` can't return the tokens' character offsets;
        callers sort the texts by length, so a batch has little padding."""
        import torch

        vectors, pooled = [], []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            features = self.model.tokenizer(
                batch,
                padding=True,
                truncation=True,
                max_length=self.model.max_seq_length,
                return_tensors="pt",
                return_offsets_mapping=True,
            )
            offsets = features.pop("offset_mapping").numpy()
            with torch.inference_mode():
                out = self.model.forward(dict(features))
            tokens = out["token_embeddings"].float().numpy()
            vectors.append(out["sentence_embedding"].float().numpy())
            for row, text_spans in enumerate(spans[start : start + self.batch_size]):
                pooled.append(_pool(tokens[row], offsets[row], text_spans))
        dimension = self.dimension
        chunk_vectors = np.vstack(vectors) if vectors else np.zeros((0, dimension))
        return chunk_vectors.astype(np.float32), pooled

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()


def _pool(tokens: np.ndarray, offsets: np.ndarray, spans: Sequence[tuple[int, int]]) -> np.ndarray:
    """Mean of the token embeddings starting inside each span, normalized. Special and padding tokens
    have the empty offset (0, 0) and join no span."""
    starts, real = offsets[:, 0], offsets[:, 1] > offsets[:, 0]
    rows = np.zeros((len(spans), tokens.shape[1]), dtype=np.float32)
    for i, (a, b) in enumerate(spans):
        inside = real & (starts >= a) & (starts < b)
        if inside.any():
            mean = tokens[inside].mean(axis=0)
            rows[i] = mean / max(float(np.linalg.norm(mean)), 1e-12)
    return rows


def chroma_client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        try:
            return chromadb.HttpClient(
                host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
            )
        except Exception as exc:  # connection refused, DNS, version mismatch
            raise StoreUnavailable(
                f"cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port} ({exc})"
            ) from exc
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


class VectorStore:
    """One Chroma collection in cosine space; we always pass our own embeddings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._collection: Any = None

    @property
    def collection(self) -> Any:
        if self._collection is None:
            client = chroma_client(self.settings)
            try:
                # embedding_function=None: Chroma's default function downloads a model; never reach it.
                self._collection = client.get_or_create_collection(
                    self.settings.collection,
                    embedding_function=None,
                    metadata={"hnsw:space": "cosine"},
                )
            except Exception as exc:
                raise StoreUnavailable(f"Chroma store not available ({exc})") from exc
        return self._collection

    def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.collection, method)(**kwargs)
        except StoreUnavailable:
            raise
        except Exception as exc:
            if self.settings.chroma_host and _is_connection_error(exc):
                self._collection = None  # reconnect on the next call
                raise StoreUnavailable(
                    f"the Chroma server at {self.settings.chroma_host}:{self.settings.chroma_port} "
                    f"is not answering ({type(exc).__name__})"
                ) from exc
            raise

    def upsert(
        self, ids: list[str], embeddings: np.ndarray, documents: list[str], metadatas: list[dict]
    ) -> None:
        batch = 2000  # Chroma caps the size of one write
        for start in range(0, len(ids), batch):
            end = start + batch
            self._call(
                "upsert",
                ids=ids[start:end],
                embeddings=embeddings[start:end],
                documents=documents[start:end],
                metadatas=metadatas[start:end],
            )

    def delete(self, ids: list[str]) -> None:
        for start in range(0, len(ids), 2000):
            self._call("delete", ids=ids[start : start + 2000])

    def update_metadata(self, ids: list[str], metadatas: list[dict]) -> None:
        """Add or change these metadata fields of stored chunks (Chroma merges them with the rest)."""
        for start in range(0, len(ids), 2000):
            self._call("update", ids=ids[start : start + 2000], metadatas=metadatas[start : start + 2000])

    def ids_where(self, where: dict) -> set[str]:
        return set(self._call("get", where=where, include=[])["ids"])

    def all_ids(self) -> set[str]:
        return set(self._call("get", include=[])["ids"])

    def metadatas(self, page: int = 5000) -> dict[str, dict]:
        """Every chunk id with its metadata, read a page at a time."""
        return {i: m for i, _, m in self.records(page, documents=False)}

    def records(self, page: int = 5000, documents: bool = True) -> Iterator[tuple[str, str, dict]]:
        """(id, text, metadata) of every stored chunk, a page at a time."""
        include = ["documents", "metadatas"] if documents else ["metadatas"]
        offset = 0
        while True:
            got = self._call("get", include=include, limit=page, offset=offset)
            texts = got["documents"] or [""] * len(got["ids"])
            yield from zip(got["ids"], texts, [m or {} for m in got["metadatas"]], strict=True)
            if len(got["ids"]) < page:
                return
            offset += page

    def count(self) -> int:
        return int(self._call("count"))

    def query(self, embedding: np.ndarray, n: int, where: dict | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the n nearest chunks."""
        if n <= 0:
            return []
        result = self._call(
            "query", query_embeddings=[embedding], n_results=n, where=where or None, include=["distances"]
        )
        return [(i, 1.0 - d) for i, d in zip(result["ids"][0], result["distances"][0], strict=True)]

    def embeddings(self, ids: list[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        result = self._call("get", ids=ids, include=["embeddings"])
        return {
            i: np.asarray(e, dtype=np.float32)
            for i, e in zip(result["ids"], result["embeddings"], strict=True)
        }


def _is_connection_error(exc: Exception) -> bool:
    text = f"{type(exc).__name__} {exc}".lower()
    return any(word in text for word in ("connect", "timeout", "unavailable", "refused", "remote"))
