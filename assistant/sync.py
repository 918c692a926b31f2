"""Scale-out: many app instances share one Chroma server, each with its own SQLite catalog.

The catalog (documents, chunk texts, the FTS5 BM25 index) is per instance, so a document another
instance ingested is in the shared collection but unknown here: dense hits on it would be dropped
and BM25 would never find it. `sync` rebuilds this instance's catalog from the collection, which
carries every chunk's text and enough metadata (title, ordinal, document hash, chunk count) to do so
(`library.sync_fields` writes it).
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from dataclasses import dataclass, field

from assistant.catalog import DocumentRecord, SentenceRow
from assistant.library import Library
from assistant.sentences import METADATA_KEY, METADATA_VERSION_KEY
from assistant.types import Passage


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    waiting: list[str] = field(default_factory=list)  # incomplete or two versions: mid-ingest elsewhere
    legacy: int = 0  # chunks written before sync metadata existed: left as they are
    sentence_vectors: int = 0  # chunks whose sentence vectors came from the server

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
            f"{self.unchanged} unchanged, {len(self.waiting)} mid-ingest elsewhere (left for the next sync), "
            f"{self.legacy} chunks without sync metadata, {self.sentence_vectors} chunks' sentence vectors"
        )


def sync(library: Library) -> SyncReport:
    """Make this instance's catalog match the shared collection, one document at a time."""
    report = SyncReport()
    versions: dict[str, dict[str, list[tuple[str, str, dict]]]] = defaultdict(lambda: defaultdict(list))
    legacy_sources: set[str] = set()
    version = library.sentence_version
    lacking = set(library.catalog.chunks_lacking_sentence_vectors(version))
    # Small pages: a chunk's metadata carries its sentence vectors (~8 KB).
    for chunk_id, text, meta in library.vectors.records(page=500):
        if "content_hash" not in meta:
            report.legacy += 1
            legacy_sources.add(str(meta.get("source")))
            continue
        versions[meta["source"]][meta["content_hash"]].append((chunk_id, text, meta))
    local = {record.key: record for record in library.catalog.documents()}
    for source, by_hash in versions.items():
        complete = {h: c for h, c in by_hash.items() if len(c) == c[0][2]["chunk_count"]}
        mine = local.get(source)
        if mine and mine.content_hash in complete:
            report.unchanged += 1
            # Sentence vectors another instance made for chunks this catalog has without them.
            rows = [r for r in _sentence_rows(complete[mine.content_hash], version) if r[0] in lacking]
            library.catalog.add_sentence_vectors(rows)
            report.sentence_vectors += len(rows)
        elif len(complete) == 1:
            content_hash, chunks = complete.popitem()
            rows = _sentence_rows(chunks, version)
            library.catalog.replace_document(*_document(source, content_hash, chunks), rows)
            report.sentence_vectors += len(rows)
            (report.updated if mine else report.added).append(source)
        else:
            report.waiting.append(source)
    for key in local.keys() - versions.keys() - legacy_sources:
        library.catalog.remove_document(key)
        report.removed.append(key)
    return report


def _document(
    source: str, content_hash: str, chunks: list[tuple[str, str, dict]]
) -> tuple[DocumentRecord, list[Passage]]:
    chunks = sorted(chunks, key=lambda c: c[2]["ordinal"])
    first = chunks[0][2]
    record = DocumentRecord(
        key=source,
        content_hash=content_hash,
        title=first["title"],
        type=first.get("type"),
        year=first.get("year"),
        metadata=json.loads(first.get("document", "{}")),
        chunk_count=len(chunks),
    )
    passages = [
        Passage(
            id=chunk_id,
            text=text,
            source=source,
            title=record.title,
            section=meta.get("section", ""),
            page=meta.get("page"),
            end_page=meta.get("end_page"),
            metadata={"ordinal": meta["ordinal"]}
            if meta.get("quotable", True)
            else {"ordinal": meta["ordinal"], "quotable": False},
            headings=[(int(at), str(heading)) for at, heading in json.loads(meta.get("headings", "[]"))],
        )
        for chunk_id, text, meta in chunks
    ]
    return record, passages


def _sentence_rows(chunks: list[tuple[str, str, dict]], version: str) -> list[SentenceRow]:
    """The chunks' sentence vectors from their metadata, where this version made them (a chunk
    without gets them on this instance's next ingest, or is encoded at question time until then)."""
    return [
        (chunk_id, version, base64.b64decode(meta[METADATA_KEY]))
        for chunk_id, _, meta in chunks
        if meta.get(METADATA_VERSION_KEY) == version and METADATA_KEY in meta
    ]
