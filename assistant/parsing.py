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


def parse_all(jobs: Sequence[ParseJob], workers: int) -> Iterator[tuple[ParseJob, Future[Parsed]]]:
    """Each job with its finished future (result or exception), in the order given."""
    if workers < 2 or len(jobs) < PARALLEL_FROM_FILES:
        yield from ((job, _run_here(job)) for job in jobs)
        return
    # spawn, not fork: the parent may hold torch's and the tokenizer's threads, which fork breaks.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        queued: deque[tuple[ParseJob, Future[Parsed]]] = deque()
        upcoming = iter(jobs)
        for job in upcoming:
            queued.append((job, pool.submit(parse, job)))
            if len(queued) >= workers * LOOKAHEAD_PER_WORKER:
                break
        while queued:
            job, future = queued.popleft()
            if isinstance(future.exception(), BrokenProcessPool):
                # A worker died (killed, out of memory): parse what is left here, as without workers.
                for rest, _ in [(job, future), *queued]:
                    yield rest, _run_here(rest)
                yield from ((rest, _run_here(rest)) for rest in upcoming)
                return
            next_job = next(upcoming, None)
            if next_job is not None:
                queued.append((next_job, pool.submit(parse, next_job)))
            yield job, future


def _run_here(job: ParseJob) -> Future[Parsed]:
    future: Future[Parsed] = Future()
    try:
        future.set_result(parse(job))
    except Exception as exc:
        future.set_exception(exc)
    return future
