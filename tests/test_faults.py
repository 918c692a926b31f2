"""Faults during ingest: kill -9 at random points, then a rerun must give exactly a clean build;
a full disk must give a clear error and lose nothing already stored."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from itertools import islice
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.ingest import ingest
from assistant.library import Library
from assistant.settings import PROJECT_ROOT, Settings

SCIFACT = "/work/shared/benchmarks/scifact/corpus.jsonl"
FILES = 30
KILLS = int(os.environ.get("FAULT_KILLS", "5"))  # CI runs 5; FAULT_KILLS=10 for the full check


def abstracts(n: int) -> list[str]:
    with open(SCIFACT, encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line in islice(handle, n)]


def write_version(folder: Path, version: int, texts: list[str]) -> None:
    """All files rewritten with new content, every sentence changed (a chunk that reads as before
    keeps its vectors, and the kills must land while chunks are embedded); two files left out (so
    --prune has work)."""
    for old in folder.glob("*.txt"):
        old.unlink()
    left_out = set(random.Random(version).sample(range(FILES), 2))
    for i in range(FILES):
        if i not in left_out:
            body = "\n\n".join(text.replace(". ", f". (v{version}) ") for text in texts[3 * i : 3 * i + 3])
            text = f"Version {version} of file {i}.\n\n{body}"
            (folder / f"doc{i:02d}.txt").write_text(text, encoding="utf-8")


def ingest_process(folder: Path, data_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data_dir)}
    return subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "ingest", str(folder), "--prune", "--quiet"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def snapshot(library: Library) -> dict:
    """Everything that must match a clean build: each document's chunk ids, and Chroma's ids with
    the document each says it belongs to."""
    catalog = library.catalog
    documents = {r.key: (r.content_hash, frozenset(catalog.chunk_ids(r.key))) for r in catalog.documents()}
    vectors = {i: m.get("source") for i, m in library.vectors.metadatas().items()}
    return {"documents": documents, "vectors": vectors}


def assert_whole(library: Library) -> None:
    snap = snapshot(library)
    ids = [i for _, chunk_ids in snap["documents"].values() for i in chunk_ids]
    assert len(ids) == len(set(ids)) == library.catalog.chunk_count()  # no duplicates
    assert set(ids) == set(snap["vectors"])  # no orphan vectors, no chunk without its vector
    for key, (_, chunk_ids) in snap["documents"].items():
        assert all(snap["vectors"][i] == key for i in chunk_ids)
    # Every chunk has its sentence vectors (written in its transaction), and nothing else has any.
    with_sentences = {r[0] for r in library.catalog.db.execute("SELECT chunk_id FROM sentence_vectors")}
    assert with_sentences == set(ids)


def test_kill_9_at_random_points_then_rerun_equals_a_clean_build(tmp_path, embedder):
    rng = random.Random(int(os.environ.get("FAULT_SEED", "20261123")))
    texts = abstracts(3 * FILES)
    folder, data = tmp_path / "docs", tmp_path / "data"
    folder.mkdir()
    write_version(folder, 0, texts)
    started = time.monotonic()
    first = ingest_process(folder, data)
    assert first.wait(timeout=600) == 0, first.stderr.read()
    full = time.monotonic() - started  # how long a whole run takes: kills land inside it

    kills = []
    for version in range(1, KILLS + 1):
        write_version(folder, version, texts)
        process = ingest_process(folder, data)
        delay = rng.uniform(0.5, 0.95 * full)
        time.sleep(delay)
        alive = process.poll() is None
        process.kill()
        process.wait()
        kills.append((round(delay, 1), alive))
    print(f"full run {full:.1f} s; kills at (s, was running): {kills}")
    assert sum(alive for _, alive in kills) >= KILLS - 1, f"most runs ended before their kill: {kills}"

    rerun = ingest_process(folder, data)
    assert rerun.wait(timeout=600) == 0, rerun.stderr.read()
    library = Library.open(Settings(data_dir=data), embedder)
    clean = Library.open(Settings(data_dir=tmp_path / "clean"), embedder)
    ingest(clean, [folder], progress=False)
    assert_whole(library)
    assert snapshot(library) == snapshot(clean), f"kills at (s, was running): {kills}"
    assert len(snapshot(clean)["documents"]) == FILES - 2


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """A 16 MB tmpfs: the data directory on it fills up for real."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(mount: Path, leave: int) -> None:
    stats = os.statvfs(mount)
    (mount / "filler").write_bytes(b"\0" * max(0, stats.f_bavail * stats.f_frsize - leave))


def test_full_disk_is_a_clear_error_and_loses_nothing(tiny_disk, tmp_path, embedder, monkeypatch, capsys):
    data = tiny_disk / "data"
    library = Library.open(Settings(data_dir=data), embedder)
    assert ingest(library, [PROJECT_ROOT / "corpus"], progress=False).count("added") == 5
    before = snapshot(library)
    more = tmp_path / "more"
    more.mkdir()
    texts = abstracts(60)
    for i in range(3):
        (more / f"extra{i}.txt").write_text("\n\n".join(texts[20 * i : 20 * i + 20]), encoding="utf-8")
    fill(tiny_disk, leave=48 * 1024)

    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(data))
    assert main(["ingest", str(more), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("error: no space left on the disk holding")
    assert "Traceback" not in err

    after = Library.open(Settings(data_dir=data), embedder)
    assert snapshot(after) == before  # nothing stored was lost, nothing half-written is left
    assert_whole(after)
    (tiny_disk / "filler").unlink()  # space again: the same command now works
    assert main(["ingest", str(more), "--quiet"]) == 0
    assert len(Library.open(Settings(data_dir=data), embedder).catalog.documents()) == 8
