"""load -> chunk -> embed -> store, incrementally, with a progress bar and a report.

Own record-keeping rather than LangChain's indexing API: we key on the whole file's hash, so an
unchanged file is not even parsed, a duplicate file under a second name is stored once (the
indexing API hashes content with metadata, the file name included), and a file's chunks change
in one SQLite transaction.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from assistant.catalog import Catalog, DocumentRecord
from assistant.chunking import CHUNKER_VERSION, chunk_document, embedding_text, token_counter
from assistant.loading import SUPPORTED_SUFFIXES, LoadError, content_hash, load_manifest
from assistant.parsing import Parsed, ParseJob, Parser, worker_count
from assistant.settings import PROJECT_ROOT, Settings
from assistant.store import Embedder, StoreFull, VectorStore, is_disk_full
from assistant.sync import sync_fields
from assistant.types import FileResult, IngestReport, LoadedDocument, Passage

log = logging.getLogger(__name__)

# Parsed documents are embedded together once this many chunks wait: one model call and one Chroma
# write per batch instead of per file (tiny per-file batches left the model mostly idle); a large
# batch also lets the model sort more texts by length, so less padding.
WRITE_BATCH_CHUNKS = 1024
Pending = list[tuple[DocumentRecord, list[Passage]]]  # parsed, not yet written
# Room a write must find free: a fixed margin (SQLite journals, Chroma's index files) plus, per chunk,
# its vector, text and index entries in Chroma and the catalog, counted generously.
MIN_FREE_BYTES = 2 * 2**20
BYTES_PER_CHUNK = 16 * 2**10


class WriteQueue:
    """Parsed documents waiting to be embedded and stored together, a batch at a time, in the
    caller's thread (a background embedding thread was slower on 2 cores: benchmarks/README.md)."""

    def __init__(self, write: Callable[[Pending], None]) -> None:
        self.write = write
        self.items: Pending = []

    def __enter__(self) -> WriteQueue:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            self.flush()

    def add(self, record: DocumentRecord, passages: list[Passage]) -> None:
        self.items.append((record, passages))
        if sum(len(p) for _, p in self.items) >= WRITE_BATCH_CHUNKS:
            self.flush()

    def flush(self) -> None:
        if self.items:
            batch, self.items = self.items, []
            self.write(batch)


def document_key(path: Path) -> str:
    """A stable name for a file: relative to the project when inside it, else absolute."""
    path = path.resolve()
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def find_files(paths: Iterable[Path]) -> tuple[list[Path], list[FileResult]]:
    files: list[Path] = []
    skipped: list[FileResult] = []
    for path in paths:
        if path.is_dir():
            for item in sorted(path.rglob("*")):
                if item.is_file() and not item.name.startswith(".") and item.name != "library.yaml":
                    if item.suffix.lower() in SUPPORTED_SUFFIXES:
                        files.append(item)
                    else:
                        skipped.append(
                            FileResult(str(item), "skipped", reason=f"unsupported type '{item.suffix}'")
                        )
        elif path.is_file():
            files.append(path)
        else:
            skipped.append(FileResult(str(path), "skipped", reason="no such file or folder"))
    return _each_once(files), list({result.source: result for result in skipped}.values())


def _each_once(files: list[Path]) -> list[Path]:
    """Files in order, each once: a folder and a file in it, or a symlink, can name a file twice
    (Chroma refuses a write that holds the same chunk id twice)."""
    kept: dict[str, Path] = {}
    for path in files:
        kept.setdefault(document_key(path), path)
    return list(kept.values())


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
    def pipeline(self) -> str:
        """What turned files into stored chunks; when it changes, unchanged files are re-chunked."""
        return f"chunker-{CHUNKER_VERSION}/{self.settings.chunk_tokens}/{self.settings.model_path.name}"

    def _is_current(self, existing: DocumentRecord | None, digest: str) -> bool:
        return bool(
            existing
            and existing.content_hash == digest
            and existing.metadata.get("pipeline") == self.pipeline
        )

    def _count_tokens(self, text: str) -> int:
        # The tokenizer loads on first use: a rerun over unchanged files never needs it.
        return token_counter(self.settings.model_path)(text)

    def remove(self, key: str) -> bool:
        old = self.catalog.remove_document(key)
        self.vectors.delete(sorted(old))
        return bool(old)

    def reconcile(self) -> int:
        """Drop vectors the catalog does not know (left by a run killed between the two writes)."""
        if self.settings.chroma_host:
            # A shared server: only our own vectors are ours to clean (another instance's uncommitted
            # vectors may be mid-ingest): those we wrote, and those of the documents we hold.
            mine, me = {record.key for record in self.catalog.documents()}, self.catalog.instance_id
            stored = self.vectors.metadatas().items()
            orphans = {i for i, m in stored if m.get("writer") == me or m.get("source") in mine}
            orphans -= self.catalog.chunk_ids()
        else:
            orphans = self.vectors.all_ids() - self.catalog.chunk_ids()
        if orphans:
            self._check_space(0)
        self.vectors.delete(sorted(orphans))
        return len(orphans)

    def ingest(self, paths: Iterable[Path], *, prune: bool = False, progress: bool = True) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        files, report.files = find_files(paths)
        bar = tqdm(total=len(files), desc="Ingesting", unit="file", disable=not progress)
        results, jobs = self._plan(files, bar)
        # The parser closes (its workers exit) before the queue writes its last batch.
        workers = worker_count(self.settings.parse_workers)
        with WriteQueue(self._write_many) as pending, Parser(jobs, workers) as parsed:
            self.reconcile()  # while the workers start
            for job, outcome in parsed:
                bar.set_postfix_str(job.path.name[:40])
                results[job.path] = self._queue(job.path, outcome, pending)
                bar.update()
        bar.close()
        for path in files:
            result = results[path]
            report.files.append(result)
            report.chunks_written += result.chunks if result.status in ("added", "updated") else 0
            if result.status == "skipped":
                tqdm.write(f"skipped {path}: {result.reason}")
        if prune:
            report.files.extend(self.prune())
        report.seconds = time.perf_counter() - started
        return report

    def _plan(self, files: list[Path], bar: tqdm) -> tuple[dict[Path, FileResult], list[ParseJob]]:
        """Results for files that need no parsing (unchanged, duplicate, unreadable); jobs for the rest."""
        results: dict[Path, FileResult] = {}
        jobs: list[ParseJob] = []
        planned: dict[str, str] = {}  # content hash -> key of the file to parse for it in this run
        manifests: dict[Path, dict] = {}
        limits = (self.settings.max_file_mb, self.settings.model_path, self.settings.chunk_tokens)
        for path in files:
            decided = self._decide(path, planned)
            if decided:
                results[path] = decided
                bar.update()
                continue
            if path.parent not in manifests:
                manifests[path.parent] = load_manifest(path.parent / "library.yaml")
            entry = manifests[path.parent].get(path.name)
            jobs.append(ParseJob(path, entry, *limits))
        return results, jobs

    def add_documents(self, documents: Iterable[LoadedDocument], *, progress: bool = False) -> IngestReport:
        """Store in-memory documents (key = document.source), e.g. a benchmark corpus; incremental."""
        started = time.perf_counter()
        report = IngestReport()
        self.reconcile()
        count = self._count_tokens
        documents = tqdm(documents, desc="Ingesting", unit="doc", disable=not progress)
        with WriteQueue(self._write_many) as pending:
            for document in documents:
                existing = self.catalog.document(document.source)
                if self._is_current(existing, document.content_hash):
                    report.files.append(FileResult(document.source, "unchanged", existing.chunk_count))
                    continue
                passages = chunk_document(document, count, self.settings.chunk_tokens)
                record = DocumentRecord(
                    key=document.source,
                    content_hash=document.content_hash,
                    title=str(document.metadata.get("title", document.source)),
                    type=document.metadata.get("type"),
                    year=_year(document.metadata.get("year")),
                    metadata={**document.metadata, "pipeline": self.pipeline},
                    chunk_count=len(passages),
                )
                pending.add(record, passages)
                status = "updated" if existing else "added"
                report.files.append(FileResult(document.source, status, len(passages)))
                report.chunks_written += len(passages)
        report.seconds = time.perf_counter() - started
        return report

    def prune(self) -> list[FileResult]:
        """Remove documents whose file is gone."""
        removed = []
        for record in self.catalog.documents():
            path = Path(record.key) if Path(record.key).is_absolute() else PROJECT_ROOT / record.key
            if not path.exists():
                self.remove(record.key)
                removed.append(
                    FileResult(record.key, "removed", record.chunk_count, "file no longer present")
                )
        return removed

    def _decide(self, path: Path, planned: dict[str, str]) -> FileResult | None:
        """The result for a file that needs no parsing (unchanged, a duplicate, unreadable), or None
        when it must be parsed; `planned` collects the contents this run will parse."""
        key = document_key(path)
        try:
            digest = (
                content_hash(path.read_bytes())
                if path.stat().st_size <= self.settings.max_file_mb * 2**20
                else ""
            )
        except OSError as exc:
            return FileResult(key, "skipped", reason=f"cannot read ({exc.strerror or exc})")
        existing = self.catalog.document(key)
        if self._is_current(existing, digest):
            return FileResult(key, "unchanged", existing.chunk_count)
        twin = self.catalog.document_with_hash(digest) if digest else None
        twin_key = twin.key if twin else planned.get(digest)
        if twin_key and twin_key != key:
            if existing:  # this file now holds another's content: its old version must not linger
                self.remove(key)
            return FileResult(key, "duplicate", reason=f"same content as {twin_key}, stored once")
        if digest:
            planned[digest] = key
        return None

    def _queue(self, path: Path, parsed: Future[Parsed], pending: WriteQueue) -> FileResult:
        key = document_key(path)
        try:
            document, passages = parsed.result()
        except LoadError as exc:
            return FileResult(key, "skipped", reason=str(exc))
        except Exception as exc:  # a parser bug on one file must not stop the run
            log.error("failed to read %s", path, exc_info=exc)
            return FileResult(key, "skipped", reason=f"could not be read ({type(exc).__name__}: {exc})")
        existing = self.catalog.document(key)
        record = DocumentRecord(
            key=key,
            content_hash=document.content_hash,
            title=str(document.metadata["title"]),
            type=document.metadata.get("type"),
            year=_year(document.metadata.get("year")),
            metadata={**document.metadata, "pipeline": self.pipeline},
            chunk_count=len(passages),
        )
        pending.add(record, passages)
        return FileResult(key, "updated" if existing else "added", len(passages))

    def _write_many(self, items: Pending) -> None:
        # Order matters for crash safety: vectors first, then the catalog commit, then old vectors
        # out. A kill in between leaves only vectors the catalog doesn't know: reconcile() drops them.
        chunks = [(record, p) for record, passages in items for p in passages]
        if not chunks:
            return
        self._check_space(len(chunks))
        vectors = self.embedder.encode([embedding_text(p.title, p.section, p.text) for _, p in chunks])
        metadatas = [
            {
                k: v
                for k, v in {
                    "source": record.key,
                    "type": record.type,
                    "year": record.year,
                    "section": p.section,
                    "page": p.page,
                    "writer": self.catalog.instance_id,
                    **sync_fields(record, p),  # lets another instance rebuild its catalog (sync.py)
                }.items()
                if v is not None
            }
            for record, p in chunks
        ]
        ids = [p.id for _, p in chunks]
        try:
            self.vectors.upsert(ids, vectors, [p.text for _, p in chunks], metadatas)
            for record, passages in items:
                old = self.catalog.replace_document(record, passages)
                self.vectors.delete(sorted(old - {p.id for p in passages}))
        except Exception as exc:
            if is_disk_full(exc):  # no cleanup: another Chroma write now could hang (see _check_space)
                raise StoreFull(
                    f"no space left on the disk holding {self.settings.data_dir} ({exc}); free some space"
                    " and ingest again: the documents stored before are kept"
                ) from exc
            self._drop_uncommitted(ids)
            raise

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


def _year(value: object) -> int | None:
    try:
        return int(str(value)[:4]) if value else None
    except ValueError:
        return None
