"""Files -> chunked documents, in worker processes when there are enough files to pay for them.

Loading (pypdf, python-docx) and sentence splitting (pysbd) are pure-Python CPU work that one core
would do while the other idled; a process per core parses files side by side. Workers only read
files and return passages: every write stays in the ingesting process, in its crash-safe order.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.chunking import chunk_document, token_counter
from assistant.loading import load_file
from assistant.types import LoadedDocument, Passage

PARALLEL_FROM_FILES = 8  # below this, starting the workers (~0.5 s) costs more than it saves
LOOKAHEAD_PER_WORKER = 4  # files parsed ahead of the writer: bounds the parsed text held in memory


@dataclass(frozen=True)
class ParseJob:
    path: Path
    manifest_entry: dict[str, Any] | None
    max_mb: float
    model_path: Path
    chunk_tokens: int


Parsed = tuple[LoadedDocument, list[Passage]]


def parse(job: ParseJob) -> Parsed:
    """Load and chunk one file; raises LoadError (or a parser's own error) for an unusable file."""
    document = load_file(job.path, job.manifest_entry, max_mb=job.max_mb)
    return document, chunk_document(document, token_counter(job.model_path), job.chunk_tokens)


def worker_count(requested: int) -> int:
    return requested if requested > 0 else len(os.sched_getaffinity(0))


class Parser:
    """Parses jobs, each result a finished future (value or exception), in the order given.

    Workers start, and take their first files, as soon as it is made: the caller's other work
    (opening the store, its clean-up) overlaps their start-up. Use as a context manager.
    """

    def __init__(self, jobs: Sequence[ParseJob], workers: int) -> None:
        self.upcoming = iter(jobs)
        self.queued: deque[tuple[ParseJob, Future[Parsed]]] = deque()
        self.pool: ProcessPoolExecutor | None = None
        if workers >= 2 and len(jobs) >= PARALLEL_FROM_FILES:
            # spawn, not fork: the parent may hold torch's and the tokenizer's threads, which fork breaks.
            context = multiprocessing.get_context("spawn")
            self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
            for _ in range(workers * LOOKAHEAD_PER_WORKER):
                self._submit_next()

    def __enter__(self) -> Parser:
        return self

    def __exit__(self, *_: object) -> None:
        if self.pool:
            self.pool.shutdown(cancel_futures=True)

    def __iter__(self) -> Iterator[tuple[ParseJob, Future[Parsed]]]:
        while self.queued:
            job, future = self.queued.popleft()
            if isinstance(future.exception(), BrokenProcessPool):
                # A worker died (killed, out of memory): parse what is left here, as without workers.
                self.pool.shutdown(cancel_futures=True)
                self.pool = None
                for rest, _ in [(job, future), *self.queued]:
                    yield rest, _run_here(rest)
                break
            self._submit_next()
            yield job, future
        yield from ((job, _run_here(job)) for job in self.upcoming)

    def _submit_next(self) -> None:
        job = next(self.upcoming, None) if self.pool else None
        if job is not None:
            self.queued.append((job, self.pool.submit(parse, job)))


def _run_here(job: ParseJob) -> Future[Parsed]:
    future: Future[Parsed] = Future()
    try:
        future.set_result(parse(job))
    except Exception as exc:
        future.set_exception(exc)
    return future
