"""Parsing files in worker processes: the same passages and errors as in one process, in order, and
a worker killed mid-run loses no file (real processes, real files)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_docx, write_pdf

from assistant.loading import LoadError
from assistant.parsing import PARALLEL_FROM_FILES, ParseJob, Parser
from assistant.settings import PROJECT_ROOT, Settings

SENTENCE = "Partner {n} shared referral data with the clinic every week. The board met in spring."


def make_files(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        body = " ".join(SENTENCE.format(n=f"{i}.{j}") for j in range(5))
        kind = i % 4
        if kind == 0:
            path = folder / f"note-{i}.md"
            path.write_text(f"# Note {i}\n\n{body}\n", encoding="utf-8")
        elif kind == 1:
            path = write_pdf(folder / f"deck-{i}.pdf", [body, f"Second page {i}. {body}"])
        elif kind == 2:
            path = write_docx(folder / f"memo-{i}.docx", [("Heading 1", f"Memo {i}"), ("Normal", body)])
        else:
            path = folder / f"plain-{i}.txt"
            path.write_text(body, encoding="utf-8")
        paths.append(path)
    (folder / "empty.txt").write_bytes(b"")
    return [*paths, folder / "empty.txt"]


def jobs_for(paths: list[Path]) -> list[ParseJob]:
    settings = Settings()
    limits = (settings.max_file_mb, settings.model_path, settings.chunk_tokens)
    return [ParseJob(path, None, *limits) for path in paths]


def parsed(jobs: list[ParseJob], workers: int):
    with Parser(jobs, workers) as parser:
        yield from parser


def outcome(future) -> object:
    """Passage ids, or the error's type and message: what ingest takes from a parse."""
    error = future.exception()
    if error:
        return type(error).__name__, str(error)
    document, passages = future.result()
    return document.metadata["title"], [p.id for p in passages]


def test_workers_give_the_same_passages_and_errors_as_one_process(tmp_path):
    jobs = jobs_for(make_files(tmp_path / "docs", PARALLEL_FROM_FILES + 4))
    here = [(job.path, outcome(f)) for job, f in parsed(jobs, workers=1)]
    side_by_side = [(job.path, outcome(f)) for job, f in parsed(jobs, workers=2)]
    assert side_by_side == here
    assert [path for path, _ in here] == [job.path for job in jobs]  # in the order given
    assert here[-1][1] == ("LoadError", "empty file")
    assert all(isinstance(result[1], list) and result[1] for _, result in here[:-1])


def test_a_worker_killed_mid_run_loses_no_file(tmp_path):
    jobs = jobs_for(make_files(tmp_path / "docs", 40))
    expected = [outcome(f) for _, f in parsed(jobs, workers=1)]
    results = []
    killed = 0
    for _, future in parsed(jobs, workers=2):
        if not results:  # after the first file: kill the workers as the OOM killer would
            for child in multiprocessing.active_children():
                os.kill(child.pid, signal.SIGKILL)
                killed += 1
        results.append(outcome(future))
    assert killed >= 2
    assert results == expected  # the rest were parsed in this process instead


def test_the_error_type_survives_the_trip_from_a_worker(tmp_path):
    jobs = jobs_for(make_files(tmp_path / "docs", PARALLEL_FROM_FILES))
    *_, (last_job, last) = parsed(jobs, workers=2)
    assert last_job.path.name == "empty.txt"
    with pytest.raises(LoadError, match="empty file"):
        last.result()


def test_python_ingest_py_with_parse_workers(tmp_path):
    """The top-level script: its parse workers import it as their main module, which must not
    start a second ingest in each of them."""
    folder = tmp_path / "docs"
    make_files(folder, PARALLEL_FROM_FILES + 1)
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(tmp_path / "data"), "ASSISTANT_PARSE_WORKERS": "2"}
    done = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "ingest.py"), str(folder), "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr and "bootstrapping" not in done.stderr
    assert done.stdout.count(f"{PARALLEL_FROM_FILES + 1} added") == 1, done.stdout
