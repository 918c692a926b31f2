"""load -> chunk -> embed -> store, incrementally, with a progress bar and a report.

Own record-keeping rather than LangChain's indexing API: we key on the whole file's hash, so an
unchanged file is not even parsed, a duplicate file under a second name is stored once (the
indexing API hashes content with metadata, the file name included), and a file's chunks change
in one SQLite transaction. Ingest writes through the Library (library.py), in its crash-safe order.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from pathlib import Path

from tqdm import tqdm

from assistant.catalog import DocumentRecord
from assistant.chunking import chunk_document, token_counter
from assistant.library import Documents, Library
from assistant.loading import SUPPORTED_SUFFIXES, LoadError, content_hash, load_manifest
from assistant.parsing import Parsed, ParseJob, Parser, worker_count
from assistant.progress import EmbeddingProgress
from assistant.settings import PROJECT_ROOT
from assistant.types import FileResult, IngestReport, LoadedDocument, Passage

log = logging.getLogger(__name__)

# Parsed documents are embedded together once this many chunks wait: one model call and one Chroma
# write per batch instead of per file (tiny per-file batches left the model mostly idle); a large
# batch also lets the model sort more texts by length, so less padding.
WRITE_BATCH_CHUNKS = 1024


class WriteQueue:
    """Parsed documents waiting to be embedded and stored together, a batch at a time, in the
    caller's thread (a background embedding thread was slower on 2 cores: benchmarks/README.md).
    `write` returns how many chunks kept their stored vectors; `kept` sums them."""

    def __init__(self, write: Callable[[Documents], int]) -> None:
        self.write = write
        self.items: Documents = []
        self.kept = 0

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
            self.kept += self.write(batch)


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


def ingest(
    library: Library, paths: Iterable[Path], *, prune: bool = False, progress: bool = True
) -> IngestReport:
    """Files and folders into the library: new and changed files parsed, chunked and stored;
    unchanged ones skipped unread; `prune` also drops documents whose file is gone."""
    started = time.perf_counter()
    report = IngestReport()
    files, report.files = find_files(paths)
    results, jobs = _plan(library, files)
    workers = worker_count(library.settings.parse_workers)
    with EmbeddingProgress([job.path for job in jobs], enabled=progress) as bar:
        # The parser closes (its workers exit) before the queue writes its last batch.
        with (
            WriteQueue(lambda documents: library.write(documents, bar.embedded)) as pending,
            Parser(jobs, workers) as parsed,
        ):
            library.reconcile()  # while the workers start
            for job, outcome in parsed:
                results[job.path] = _queue(library, job.path, outcome, pending, bar)
        _complete_sentence_vectors(library, bar)
    report.chunks_kept = pending.kept
    for path in files:
        result = results[path]
        report.files.append(result)
        report.chunks_written += result.chunks if result.status in ("added", "updated") else 0
        if result.status == "skipped":
            tqdm.write(f"skipped {path}: {result.reason}")
    if prune:
        report.files.extend(remove_missing(library))
    report.seconds = time.perf_counter() - started
    return report


def _plan(library: Library, files: list[Path]) -> tuple[dict[Path, FileResult], list[ParseJob]]:
    """Results for files that need no parsing (unchanged, duplicate, unreadable); jobs for the rest."""
    results: dict[Path, FileResult] = {}
    jobs: list[ParseJob] = []
    planned: dict[str, str] = {}  # content hash -> key of the file to parse for it in this run
    manifests: dict[Path, dict] = {}
    settings = library.settings
    limits = (settings.max_file_mb, settings.model_path, settings.chunk_tokens)
    for path in files:
        decided = _decide(library, path, planned)
        if decided:
            results[path] = decided
            continue
        if path.parent not in manifests:
            manifests[path.parent] = load_manifest(path.parent / "library.yaml")
        entry = manifests[path.parent].get(path.name)
        jobs.append(ParseJob(path, entry, *limits))
    return results, jobs


def add_documents(
    library: Library, documents: Iterable[LoadedDocument], *, progress: bool = False
) -> IngestReport:
    """Store in-memory documents (key = document.source), e.g. a benchmark corpus; incremental."""
    started = time.perf_counter()
    report = IngestReport()
    library.reconcile()
    # The tokenizer loads on first use: a rerun over unchanged documents never needs it.
    count = token_counter(library.settings.model_path)
    bar = EmbeddingProgress([], enabled=progress)
    with bar, WriteQueue(lambda chunked: library.write(chunked, bar.embedded)) as pending:
        for document in documents:
            existing = library.catalog.document(document.source)
            if library.is_current(existing, document.content_hash):
                report.files.append(FileResult(document.source, "unchanged", existing.chunk_count))
                continue
            passages = chunk_document(document, count, library.settings.chunk_tokens)
            bar.more(len(passages))
            pending.add(document_record(library, document.source, document, passages), passages)
            status = "updated" if existing else "added"
            report.files.append(FileResult(document.source, status, len(passages)))
            report.chunks_written += len(passages)
        _complete_sentence_vectors(library, bar)
    report.chunks_kept = pending.kept
    report.seconds = time.perf_counter() - started
    return report


def _complete_sentence_vectors(library: Library, bar: EmbeddingProgress) -> None:
    """A store built before sentence vectors (or by another version of them) gets them now."""
    missing = library.catalog.chunks_lacking_sentence_vectors(library.sentence_version)
    bar.more(len(missing))
    library.complete_sentence_vectors(bar.embedded, missing)


def document_record(
    library: Library, key: str, document: LoadedDocument, passages: list[Passage]
) -> DocumentRecord:
    """The catalog's record of a loaded document stored under `key` with these chunks."""
    return DocumentRecord(
        key=key,
        content_hash=document.content_hash,
        title=str(document.metadata.get("title", document.source)),
        type=document.metadata.get("type"),
        year=_year(document.metadata.get("year")),
        metadata={**document.metadata, "pipeline": library.pipeline},
        chunk_count=len(passages),
    )


def remove_missing(library: Library) -> list[FileResult]:
    """Remove documents whose file is gone."""
    removed = []
    for record in library.catalog.documents():
        path = Path(record.key) if Path(record.key).is_absolute() else PROJECT_ROOT / record.key
        if not path.exists():
            library.remove(record.key)
            removed.append(FileResult(record.key, "removed", record.chunk_count, "file no longer present"))
    return removed


def _decide(library: Library, path: Path, planned: dict[str, str]) -> FileResult | None:
    """The result for a file that needs no parsing (unchanged, a duplicate, unreadable), or None
    when it must be parsed; `planned` collects the contents this run will parse."""
    key = document_key(path)
    try:
        digest = (
            content_hash(path.read_bytes())
            if path.stat().st_size <= library.settings.max_file_mb * 2**20
            else ""
        )
    except OSError as exc:
        return FileResult(key, "skipped", reason=f"cannot read ({exc.strerror or exc})")
    existing = library.catalog.document(key)
    if library.is_current(existing, digest):
        return FileResult(key, "unchanged", existing.chunk_count)
    twin = library.catalog.document_with_hash(digest) if digest else None
    twin_key = twin.key if twin else planned.get(digest)
    if twin_key and twin_key != key:
        if existing:  # this file now holds another's content: its old version must not linger
            library.remove(key)
        return FileResult(key, "duplicate", reason=f"same content as {twin_key}, stored once")
    if digest:
        planned[digest] = key
    return None


def _queue(
    library: Library, path: Path, parsed: Future[Parsed], pending: WriteQueue, bar: EmbeddingProgress
) -> FileResult:
    key = document_key(path)
    try:
        document, passages = parsed.result()
    except LoadError as exc:
        bar.parsed(path, 0)
        return FileResult(key, "skipped", reason=str(exc))
    except Exception as exc:  # a parser bug on one file must not stop the run
        log.error("failed to read %s", path, exc_info=exc)
        bar.parsed(path, 0)
        return FileResult(key, "skipped", reason=f"could not be read ({type(exc).__name__}: {exc})")
    bar.parsed(path, len(passages))
    existing = library.catalog.document(key)
    pending.add(document_record(library, key, document, passages), passages)
    return FileResult(key, "updated" if existing else "added", len(passages))


def _year(value: object) -> int | None:
    try:
        return int(str(value)[:4]) if value else None
    except ValueError:
        return None
