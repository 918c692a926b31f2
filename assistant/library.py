"""The stored library: the catalog (documents, chunks, BM25) and the vectors in Chroma, kept in step.

The read side (retrieval, the Assistant, evaluation) opens a Library; the write side (ingest, sync)
writes through it. Every write goes vectors first, then the catalog commit, then old vectors out,
so a run killed in between leaves only vectors the catalog doesn't know, which `reconcile` drops.
"""

from __future__ import annotations

import json
import logging
import math
import re
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from assistant.catalog import Catalog, DocumentRecord, SentenceRow
from assistant.chunking import CHUNKER_VERSION, chunk_title, embedding_text, token_counter
from assistant.sentences import (
    METADATA_KEY,
    METADATA_VERSION_KEY,
    ChunkSentences,
    encode_passages,
    sentence_version,
)
from assistant.settings import PROJECT_ROOT, Settings
from assistant.store import Embedder, StoreFull, VectorStore, is_disk_full
from assistant.text import sentence_spans
from assistant.types import Passage

log = logging.getLogger(__name__)

Documents = list[tuple[DocumentRecord, list[Passage]]]  # documents with their chunks, to write together
# Room a write must find free: a fixed margin (SQLite journals, Chroma's index files) plus, per chunk,
# its vector, text and index entries in Chroma and the catalog, counted generously.
MIN_FREE_BYTES = 2 * 2**20
BYTES_PER_CHUNK = 24 * 2**10  # with its sentence vectors (~6 KB in the catalog, ~8 KB on a server)
# Chunks embedded together (a write's chunks sorted by length: little padding) between progress reports.
EMBED_SLICE = 128
BIBLIOGRAPHIC_FIELDS = ("venue", "authors", "organization")  # what a question may call a paper by
Embedded = Callable[[int], None]  # told how many more chunks (with their sentences) were embedded


def sync_fields(record: DocumentRecord, passage: Passage) -> dict[str, object]:
    """What a chunk's vector metadata needs, beyond the filter fields, for another instance to rebuild
    its catalog from the shared collection (sync.py)."""
    fields: dict[str, object] = {
        "title": record.title,
        "ordinal": passage.metadata.get("ordinal", 0),
        "content_hash": record.content_hash,
        "chunk_count": record.chunk_count,
        "end_page": passage.end_page,
        "quotable": passage.quotable,
    }
    if passage.headings:
        fields["headings"] = json.dumps(passage.headings, ensure_ascii=False)
    if fields["ordinal"] == 0:  # the document's bibliographic metadata, once per document
        fields["document"] = json.dumps(record.metadata, ensure_ascii=False, default=str)
    return fields


@dataclass
class Library:
    """The stored library: catalog (documents, chunks, BM25) plus vectors in Chroma."""

    settings: Settings
    catalog: Catalog
    vectors: VectorStore
    embedder: Embedder

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None) -> Library:
        return cls(
            settings=settings,
            catalog=Catalog(settings.catalog_path),
            vectors=VectorStore(settings),
            embedder=embedder or Embedder(settings.model_path, settings.embedding_batch_size),
        )

    @property
    def sentence_version(self) -> str:
        return sentence_version(self.settings.model_path)

    def sentence_vectors(self, ids: Iterable[str]) -> dict[str, ChunkSentences]:
        """The stored sentence vectors of these chunks (a chunk lacking them is left out)."""
        found = self.catalog.sentence_vectors(ids, self.sentence_version)
        return {chunk_id: ChunkSentences.from_bytes(data) for chunk_id, data in found.items()}

    def term_rarity(self, terms: Sequence[str], leaving_out: Sequence[str] = ()) -> dict[str, float]:
        """How rare each term is here: 1 - log(1 + chunks holding it) / log(1 + all chunks), so 1
        for a term no chunk holds and near 0 for one nearly every chunk holds, at any library size.
        Documents left out (a question asked as if they were missing) count as not in the library."""
        counts, chunks = self.catalog.term_counts(terms), self.catalog.chunk_count()
        if leaving_out:  # as if those documents were missing
            missing = self.catalog.term_counts(terms, within=leaving_out)
            counts = {t: n - missing[t] for t, n in counts.items()}
            chunks -= sum(d.chunk_count for key in leaving_out if (d := self.catalog.document(key)))
        total = math.log1p(chunks)
        return {t: 1.0 - math.log1p(n) / total if total else 1.0 for t, n in counts.items()}

    @property
    def pipeline(self) -> str:
        """What turned files into stored chunks; when it changes, unchanged files are re-chunked."""
        return f"chunker-{CHUNKER_VERSION}/{self.settings.chunk_tokens}/{self.settings.model_path.name}"

    def is_current(self, existing: DocumentRecord | None, digest: str) -> bool:
        """Is this stored record the given content, chunked by today's pipeline?"""
        return bool(
            existing
            and existing.content_hash == digest
            and existing.metadata.get("pipeline") == self.pipeline
        )

    # --- what the library holds (the UI and the CLI read these, never the catalog itself) ------
    def documents(self) -> list[DocumentRecord]:
        """Every document, by title."""
        return self.catalog.documents()

    def document(self, key: str) -> DocumentRecord | None:
        return self.catalog.document(key)

    def documents_naming(self, words: list[str], limit: int = 3) -> list[str]:
        """Keys of the documents whose venue, authors or organization hold every one of these words,
        when at most `limit` do ("JGIM": the paper in that journal). Titles are left out: BM25
        already searches them."""
        if not words:
            return []
        patterns = [re.compile(rf"(?<!\w){re.escape(w)}(?!\w)", re.I) for w in words]
        keys = []
        for record in self.catalog.documents_with_all(words):
            facts = " ".join(str(record.metadata.get(field, "")) for field in BIBLIOGRAPHIC_FIELDS)
            if all(p.search(facts) for p in patterns):
                keys.append(record.key)
        return keys if len(keys) <= limit else []

    def last_update(self) -> str | None:
        """When a document was last added or replaced (UTC, "YYYY-MM-DD HH:MM:SS"), None when empty."""
        return self.catalog.last_update()

    def contains_text(self, snippet: str) -> bool:
        """Whether some chunk holds this exact text (a scan: for a handful of checks, not per query)."""
        return self.catalog.contains_text(snippet)

    def sections(self, key: str, limit: int = 20) -> list[str]:
        """A document's section headings, in reading order."""
        return self.catalog.sections(key, limit)

    def uploaded_file(self, key: str) -> Path | None:
        """The stored upload a document key names, or None (a corpus file, or a file elsewhere).

        Keys are relative to the project when the file is inside it (the default ./data is), else
        absolute; either way the file must sit directly in uploads_dir and not be a link.
        """
        path = Path(key) if Path(key).is_absolute() else PROJECT_ROOT / key
        if path.is_symlink() or not path.is_file():
            return None
        return path if path.parent.resolve() == self.settings.uploads_dir.resolve() else None

    # --- removing ----------------------------------------------------------------------------
    def remove(self, key: str) -> bool:
        old = self.catalog.remove_document(key)
        self.vectors.delete(sorted(old))
        return bool(old)

    def delete(self, key: str) -> tuple[bool, bool]:
        """Remove a document and, when it was uploaded, its stored file (corpus files stay):
        (removed from the library, upload file deleted). The file goes only after the library no
        longer holds the document (a failed removal raises first), so no document loses its file."""
        upload = self.uploaded_file(key)
        removed = self.remove(key)
        if upload is None:
            return removed, False
        upload.unlink(missing_ok=True)
        return removed, True

    def reconcile(self) -> int:
        """Drop vectors the catalog does not know (left by a run killed between the two writes)."""
        if self.settings.chroma_host:
            # A shared server: only our own vectors are ours to clean (another instance's uncommitted
            # vectors may be mid-ingest): those we wrote, and those of the documents we hold.
            # Asked by id: reading every chunk's metadata would bring every sentence vector along.
            mine = sorted(record.key for record in self.catalog.documents())
            orphans = self.vectors.ids_where({"writer": self.catalog.instance_id})
            for start in range(0, len(mine), 200):
                orphans |= self.vectors.ids_where({"source": {"$in": mine[start : start + 200]}})
            orphans -= self.catalog.chunk_ids()
        else:
            orphans = self.vectors.all_ids() - self.catalog.chunk_ids()
        if orphans:
            self._check_space(0)
        self.vectors.delete(sorted(orphans))
        return len(orphans)

    def write(self, documents: Documents, embedded: Embedded | None = None) -> int:
        """Embed and store documents in place of their old versions, crash-safe (see the module doc).
        Each chunk's sentence vectors are made in the same pass and travel with it; a chunk that
        reads as one of its document's stored chunks keeps that one's vectors. Returns how many
        chunks kept their vectors (were not embedded)."""
        chunks = [(record, p) for record, passages in documents for p in passages]
        if not chunks:
            return 0
        self._check_space(len(chunks))
        keys = [_key(p) for _, p in chunks]
        by_text = self._unchanged_chunks([record.key for record, _ in documents])
        new = [(key, p) for key, (_, p) in zip(keys, chunks, strict=True) if key not in by_text]
        if embedded and len(new) < len(keys):
            embedded(len(keys) - len(new))  # unchanged chunks count as done on the progress bar
        if new:
            new_vectors, new_sentences = self._embed([p for _, p in new], embedded)
            made = zip(new_vectors, new_sentences, strict=True)
            by_text |= {key: pair for (key, _), pair in zip(new, made, strict=True)}
        vectors = np.stack([by_text[key][0] for key in keys])
        self._store(documents, chunks, vectors, [by_text[key][1] for key in keys])
        return len(keys) - len(new)

    def _unchanged_chunks(self, keys: list[str]) -> dict[str, tuple[np.ndarray, ChunkSentences]]:
        """The stored vectors of these documents' chunks, by embedding text: a chunk that reads the
        same after a re-chunk (a new chunker) or an edit elsewhere in its file is not embedded again.
        Only chunks whose sentence vectors are of today's version (so of today's model) and whose
        sentences are split as today count."""
        old_ids = sorted(set().union(*(self.catalog.chunk_ids(key) for key in keys)))
        if not old_ids:
            return {}
        stored = self.sentence_vectors(old_ids)
        vectors = self.vectors.embeddings([i for i in old_ids if i in stored])
        kept = {}
        count = token_counter(self.settings.model_path)
        for chunk_id, passage in self.catalog.passages(vectors).items():
            made = stored[chunk_id]
            if [tuple(span) for span in made.spans.tolist()] == [s for _, s in sentence_spans(passage.text)]:
                # a stored passage carries its document's own title; the model read the chunk's
                embedded_as = replace(passage, title=chunk_title(passage.title, count))
                kept[_key(embedded_as)] = (vectors[chunk_id], made)
        return kept

    def write_embedded(
        self, documents: Documents, vectors: np.ndarray, sentences: Sequence[ChunkSentences | None]
    ) -> None:
        """Store documents whose chunks come with their vectors, in chunk order (and sentence
        vectors, None for a chunk without), in place of their old versions: the same crash-safe
        write without the model (copies of stored chunks, e.g. the speed benchmark's libraries)."""
        chunks = [(record, p) for record, passages in documents for p in passages]
        if not chunks:
            return
        if len(vectors) != len(chunks) or len(sentences) != len(chunks):
            raise ValueError(f"{len(chunks)} chunks, {len(vectors)} vectors, {len(sentences)} sentence sets")
        self._check_space(len(chunks))
        self._store(documents, chunks, vectors, sentences)

    def _store(
        self,
        documents: Documents,
        chunks: list[tuple[DocumentRecord, Passage]],
        vectors: np.ndarray,
        sentences: Sequence[ChunkSentences | None],
    ) -> None:
        """Vectors first, then each document's catalog commit, then its old vectors out."""
        ids = [p.id for _, p in chunks]
        version = self.sentence_version
        made_for = dict(zip(ids, sentences, strict=True))
        rows = {i: (i, version, made.to_bytes()) for i, made in made_for.items() if made is not None}
        try:
            self.vectors.upsert(ids, vectors, [p.text for _, p in chunks], self._metadatas(chunks, sentences))
            for record, passages in documents:
                made = [rows[p.id] for p in passages if p.id in rows]
                old = self.catalog.replace_document(record, passages, made)
                self.vectors.delete(sorted(old - {p.id for p in passages}))
        except Exception as exc:
            if is_disk_full(exc):  # no cleanup: another Chroma write now could hang (see _check_space)
                raise StoreFull(
                    f"no space left on the disk holding {self.settings.data_dir} ({exc}); free some space"
                    " and ingest again: the documents stored before are kept"
                ) from exc
            self._drop_uncommitted(ids)
            raise

    def _embed(
        self, passages: list[Passage], embedded: Embedded | None
    ) -> tuple[np.ndarray, list[ChunkSentences]]:
        """Chunk vectors and sentence vectors, a slice of similar lengths at a time."""
        lengths = [len(embedding_text(p.title, p.section, p.text)) for p in passages]
        order = sorted(range(len(passages)), key=lengths.__getitem__)
        vectors: list[np.ndarray] = [np.empty(0)] * len(passages)
        sentences: list[ChunkSentences] = [ChunkSentences(np.empty(0), np.empty(0))] * len(passages)
        for start in range(0, len(order), EMBED_SLICE):
            part = order[start : start + EMBED_SLICE]
            encoded, made = encode_passages(self.embedder, [passages[i] for i in part])
            for i, vector, chunk_sentences in zip(part, encoded, made, strict=True):
                vectors[i], sentences[i] = vector, chunk_sentences
            if embedded:
                embedded(len(part))
        return np.stack(vectors), sentences

    def complete_sentence_vectors(
        self, embedded: Embedded | None = None, missing: list[str] | None = None
    ) -> int:
        """Make the sentence vectors of stored chunks that lack them (a store built before they
        existed, or by another version): each chunk's text goes through the model once for its
        sentences' pooled vectors, and its stored chunk vector is kept as it is. Same order as a
        write: the server's metadata first, then the catalog."""
        if missing is None:
            missing = self.catalog.chunks_lacking_sentence_vectors(self.sentence_version)
        for start in range(0, len(missing), EMBED_SLICE):
            passages = list(self.catalog.passages(missing[start : start + EMBED_SLICE]).values())
            self._check_space(len(passages))
            _, made = encode_passages(self.embedder, passages)
            if self.settings.chroma_host:
                metadatas = [self._sentence_metadata(m) for m in made]
                self.vectors.update_metadata([p.id for p in passages], metadatas)
            rows: list[SentenceRow] = [
                (p.id, self.sentence_version, m.to_bytes()) for p, m in zip(passages, made, strict=True)
            ]
            self.catalog.add_sentence_vectors(rows)
            if embedded:
                embedded(len(missing[start : start + EMBED_SLICE]))
        return len(missing)

    def _sentence_metadata(self, made: ChunkSentences | None) -> dict[str, str]:
        """On a shared server the sentence vectors ride in the chunk's metadata, for other instances'
        sync; a local store keeps them in the catalog only."""
        if not self.settings.chroma_host or made is None:
            return {}
        return {METADATA_KEY: made.to_text(), METADATA_VERSION_KEY: self.sentence_version}

    def _metadatas(
        self,
        chunks: list[tuple[DocumentRecord, Passage]],
        sentences: Sequence[ChunkSentences | None],
    ) -> list[dict]:
        """Each chunk's vector metadata: the filter fields, its writer, and what sync needs."""
        return [
            {
                k: v
                for k, v in {
                    "source": record.key,
                    "type": record.type,
                    "year": record.year,
                    "section": p.section,
                    "page": p.page,
                    "writer": self.catalog.instance_id,
                    **sync_fields(record, p),
                    **self._sentence_metadata(made),
                }.items()
                if v is not None
            }
            for (record, p), made in zip(chunks, sentences, strict=True)
        ]

    def _check_space(self, chunks: int) -> None:
        """Refuse a write the disk cannot hold. On a full disk SQLite and Chroma fail part-way, and
        Chroma's local client was seen to hang on its next write in the same process (1.5.9)."""
        need = MIN_FREE_BYTES + chunks * BYTES_PER_CHUNK
        free = shutil.disk_usage(self.settings.data_dir).free
        if free < need:
            raise StoreFull(
                f"no space left on the disk holding {self.settings.data_dir} ({free / 2**20:.1f} MB free,"
                f" about {need / 2**20:.0f} MB needed); free some space and ingest again: the documents"
                " stored before are kept"
            )

    def _drop_uncommitted(self, ids: list[str]) -> None:
        """After a failed write, remove the new vectors the catalog did not take (best effort: the
        next run's reconcile() removes whatever this cannot)."""
        try:
            self.vectors.delete(sorted(set(ids) - self.catalog.chunk_ids()))
        except Exception:
            log.warning("could not remove the vectors of a failed write; the next ingest will", exc_info=True)


def _key(passage: Passage) -> str:
    return embedding_text(passage.title, passage.section, passage.text)
