"""The speed benchmark: how the assistant performs at library scale, against its goals.

    assistant bench [--quick] [--out DIR] ...       # from a checkout (forwards to this file)
    .venv/bin/python benchmarks/bench.py [--quick] [--out DIR] ...

Not part of the product package: `assistant bench` loads this file from the checkout's benchmarks/
folder by its path (pysbd installs a top-level package named `benchmarks`, so `import benchmarks`
would find that one). It writes every store through the Library, as ingest does.

Measures, on real text (SciFact abstracts, read in place from Settings.benchmarks_dir/scifact):
raw embedding vs whole-pipeline ingest throughput, re-ingest of an unchanged library, retrieval
latency (dense, BM25, hybrid) at growing library sizes locally and against a `chroma run` server,
`ask` latency warm, cold start of `assistant ask`, and peak memory at the largest size.
Writes DIR/bench.json (every figure with its goal and ratio) and DIR/latency.png.

Libraries larger than the real embedded SciFact store are that store's chunks replicated with
perturbed vectors (Gaussian noise, renormalized) and varied text (shuffled sentences, swapped
words), so latency is measured on realistic vectors and vocabulary without embedding 100k chunks.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.settings import PROJECT_ROOT, Settings

if TYPE_CHECKING:  # heavy imports stay out of `assistant --help` and cold start
    import numpy as np

    from assistant.assistant import Assistant
    from assistant.catalog import DocumentRecord
    from assistant.library import Library
    from assistant.sentences import ChunkSentences
    from assistant.store import Embedder
    from assistant.types import Passage

SCIFACT = "scifact"  # under Settings.benchmarks_dir (ASSISTANT_BENCHMARKS_DIR)
SHARED_STORE = Path("beir") / "scifact"  # under the data dir, built through the real pipeline (eval --beir)
MODES = ("dense", "bm25", "hybrid")
NOISE = 0.02  # per-dimension sigma: a replica's vector keeps cosine ~0.93 to its original
WRITE_BATCH = 2000  # chunks per write when a scaled store is built
GOALS = {  # figure -> (goal, "min" | "max"): ingest keeps up with the model, retrieval stays interactive
    "reingest_speedup": (50.0, "min"),
    "hybrid_p95_ms": (50.0, "max"),
    "ask_p95_ms": (300.0, "max"),  # the 22-chunk corpus store
    "ask_p95_ms@library": (100.0, "max"),  # a real library of 10k+ chunks (--library)
    "ask_p95_ms@100k": (150.0, "max"),
    "serve_first_vs_warm_p95": (2.0, "max"),
    "cold_start_s": (10.0, "max"),
    # Sentence vectors are made in the chunk's pass (ingest encodes each chunk and each of its
    # sentences): about twice the model work of the chunks alone.
    "ingest_vs_raw": (0.45, "min"),
}


@dataclass
class BenchConfig:
    out: Path
    sizes: list[int] = field(default_factory=lambda: [1000, 10000, 100000])
    abstracts: int = 300  # embedded by the ingest measurement (and the fallback source store)
    queries: int = 200  # per retrieval mode and library size
    asks: int = 104  # eval questions, after warm-up
    cold_runs: int = 3
    server: bool = True
    memory: bool = True
    scifact: Path = field(default_factory=lambda: Settings().benchmarks_dir / SCIFACT)
    shared_store: Path | None = field(default_factory=lambda: Settings().data_dir / SHARED_STORE)
    # A real library's data dir (e.g. the development library): ask latency is measured on a copy of
    # it (sentence vectors are added to a store built before them), and its chunks seed the scaled stores.
    library: Path | None = None
    library_asks: int = 200
    # "all": the copy gets every chunk's sentence vectors, as its next ingest would; "asked": only the
    # chunks the measured questions retrieve get them (the same reads for ask; for a busy machine).
    sentence_vectors: str = "all"

    @classmethod
    def quick(cls, out: Path, sizes: list[int] | None = None) -> BenchConfig:
        return cls(out, sizes or [1000, 10000], abstracts=60, queries=40, asks=20, cold_runs=1)


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    goal: float | None = None
    direction: str = ""  # "min": value must reach the goal; "max": value must stay under it
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """value / goal: met when >= 1 for a "min" goal, <= 1 for a "max" goal."""
        return round(self.value / self.goal, 3) if self.goal else None

    @property
    def met(self) -> bool | None:
        if self.ratio is None:
            return None
        return self.ratio >= 1 if self.direction == "min" else self.ratio <= 1

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio, "met": self.met}


def figure(name: str, value: float, unit: str, kind: str | None = None, note: str = "") -> Figure:
    goal, direction = GOALS.get(kind or name, (None, ""))
    return Figure(name, round(value, 3), unit, goal, direction, note)


# --- timing helpers ------------------------------------------------------------------------------
def percentiles(samples_ms: list[float]) -> tuple[float, float]:
    import numpy as np

    return float(np.percentile(samples_ms, 50)), float(np.percentile(samples_ms, 95))


def time_calls(call: Callable[[str], object], inputs: list[str], warmup: int = 5) -> list[float]:
    """Milliseconds per call, after a few untimed warm-up calls."""
    for text in inputs[:warmup]:
        call(text)
    samples = []
    for text in inputs:
        started = time.perf_counter()
        call(text)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def load() -> float:
    return round(os.getloadavg()[0], 2)


# --- SciFact text ----------------------------------------------------------------------------------
def abstracts(scifact: Path, n: int | None = None) -> Iterator[dict[str, str]]:
    with (scifact / "corpus.jsonl").open(encoding="utf-8") as lines:
        for i, line in enumerate(lines):
            if n is not None and i >= n:
                return
            yield json.loads(line)


def queries(scifact: Path, n: int) -> list[str]:
    with (scifact / "queries.jsonl").open(encoding="utf-8") as lines:
        texts = [json.loads(line)["text"] for line in lines]
    return [texts[i % len(texts)] for i in range(n)]


def write_abstract_files(scifact: Path, n: int, folder: Path) -> int:
    """Each abstract as a Markdown file (title as the H1), as a user would add them."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    count = 0
    for doc in abstracts(scifact, n):
        (folder / f"scifact-{doc['_id']}.md").write_text(f"# {doc['title']}\n\n{doc['text']}\n", "utf-8")
        count += 1
    return count


# --- ingest ------------------------------------------------------------------------------------------
def bench_ingest(cfg: BenchConfig, embedder: Embedder) -> tuple[list[Figure], Library]:
    """Model alone vs the whole pipeline on the same text, then re-ingest of the unchanged files.

    Both timed runs come after one untimed encode of the same chunk texts: torch sets up its kernels
    per input shape on first sight (seconds), a cost of the model that neither run should carry.
    """
    from assistant.chunking import embedding_text
    from assistant.ingest import ingest
    from assistant.library import Library
    from assistant.parsing import ParseJob, parse

    files = cfg.out / "work" / "scifact-files"
    n_files = write_abstract_files(cfg.scifact, cfg.abstracts, files)
    # A new folder each run: Chroma caches its client per path, so a deleted and recreated folder
    # in the same process would be written through a stale handle.
    for old in (cfg.out / "work").glob("ingest-store-*"):
        shutil.rmtree(old, ignore_errors=True)
    store = cfg.out / "work" / f"ingest-store-{os.getpid()}-{time.time_ns()}"
    library = Library.open(Settings(data_dir=store), embedder)

    limits = (library.settings.max_file_mb, library.settings.model_path, library.settings.chunk_tokens)
    passages = [p for f in sorted(files.iterdir()) for p in parse(ParseJob(f, None, *limits))[1]]
    texts = [embedding_text(p.title, p.section, p.text) for p in passages]
    started = time.perf_counter()
    embedder.encode(texts)  # the untimed warm-up, reported as the cold figure
    cold_seconds = time.perf_counter() - started
    started = time.perf_counter()
    embedder.encode(texts)
    raw_seconds = time.perf_counter() - started

    first = ingest(library, [files], progress=False)
    assert first.chunks_written == len(texts), (first.chunks_written, len(texts))
    again = ingest(library, [files], progress=False)
    assert again.count("unchanged") == n_files, again.summary()

    raw_rate, ingest_rate = len(texts) / raw_seconds, len(texts) / first.seconds
    note = f"{n_files} SciFact abstracts as .md files, {len(texts)} chunks"
    return [
        figure("embed_raw_cold", len(texts) / cold_seconds, "chunks/s", note="first encode of these texts"),
        figure("embed_raw", raw_rate, "chunks/s", note=f"Embedder.encode on the chunk texts; {note}"),
        figure("ingest", ingest_rate, "chunks/s", note=f"Library.ingest, first run; {note}"),
        figure("ingest_vs_raw", ingest_rate / raw_rate, "x"),
        figure("reingest_s", again.seconds, "s", note=f"first ingest {first.seconds:.1f} s"),
        figure("reingest_speedup", first.seconds / again.seconds, "x"),
    ], library


# --- scaled stores -----------------------------------------------------------------------------------
@dataclass
class SourceChunk:
    key: str
    title: str
    type: str | None
    year: int | None
    metadata: dict
    section: str
    page: int | None
    text: str
    vector: np.ndarray
    sentences: ChunkSentences | None = None  # stored with the chunk (assistant/sentences.py)


def read_source(library: Library) -> list[list[SourceChunk]]:
    """Every document's chunks (in order) with their stored vectors."""
    rows = library.catalog.db.execute(
        "SELECT c.id, c.source, c.text, c.section, c.page, d.title, d.type, d.year, d.metadata"
        " FROM chunks c JOIN documents d ON d.key = c.source ORDER BY d.rowid, c.ordinal"
    ).fetchall()
    vectors: dict[str, np.ndarray] = {}
    sentences: dict[str, ChunkSentences] = {}
    for start in range(0, len(rows), 1000):
        vectors.update(library.vectors.embeddings([r["id"] for r in rows[start : start + 1000]]))
        sentences.update(library.sentence_vectors([r["id"] for r in rows[start : start + 1000]]))
    documents: dict[str, list[SourceChunk]] = {}
    for r in rows:
        documents.setdefault(r["source"], []).append(
            SourceChunk(
                r["source"], r["title"], r["type"], r["year"], json.loads(r["metadata"]),
                r["section"], r["page"], r["text"], vectors[r["id"]], sentences.get(r["id"]),
            )
        )  # fmt: skip
    return list(documents.values())


def vary_text(text: str, rng: random.Random) -> str:
    """Same words, new order: sentences shuffled, then about one word in ten swapped with its neighbour."""
    sentences = re.split(r"(?<=[.!?])\s+", text)
    rng.shuffle(sentences)
    words = " ".join(sentences).split()
    for i in range(0, len(words) - 1):
        if rng.random() < 0.1:
            words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def perturb(vector: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    import numpy as np

    noisy = vector + rng.normal(0.0, NOISE, vector.shape).astype(np.float32)
    return noisy / np.linalg.norm(noisy)


def scaled_documents(source: list[list[SourceChunk]], size: int) -> Iterator[list[SourceChunk]]:
    """The source documents, then perturbed replicas of them, until `size` chunks in all."""
    import numpy as np

    total, round_ = 0, 0
    while True:
        rng, vrng = random.Random(round_), np.random.default_rng(round_)
        for chunks in source:
            if round_:
                chunks = [
                    replace(
                        c,
                        key=f"{c.key}#replica-{round_}",
                        title=vary_text(c.title, rng),
                        text=vary_text(c.text, rng),
                        vector=perturb(c.vector, vrng),
                    )
                    for c in chunks
                ]
            chunks = chunks[: size - total]
            total += len(chunks)
            yield chunks
            if total >= size:
                return
        round_ += 1


def build_store(
    source: list[list[SourceChunk]], size: int, folder: Path, embedder: Embedder, origin: str
) -> Library:
    """A library of exactly `size` chunks, written through Library.write_embedded (the chunks come
    with their vectors: no model); kept between runs while its recipe (source, size, noise) holds."""
    from assistant.library import Library

    recipe = json.dumps(
        {
            "origin": origin,
            "source_chunks": sum(map(len, source)),
            "size": size,
            "noise": NOISE,
            "sentences": 1,
            "written": "Library.write_embedded",
        }
    )
    marker = folder / "bench-recipe.json"
    if marker.is_file() and marker.read_text("utf-8") == recipe:
        return Library.open(Settings(data_dir=folder), embedder)
    import numpy as np

    shutil.rmtree(folder, ignore_errors=True)
    library = Library.open(Settings(data_dir=folder), embedder)
    rng = np.random.default_rng(size)
    batch: list[tuple[DocumentRecord, list[Passage], list[SourceChunk]]] = []
    for chunks in scaled_documents(source, size):
        record, passages = stored_document(chunks)
        batch.append((record, passages, chunks))
        if sum(len(c) for _, _, c in batch) >= WRITE_BATCH:
            write_batch(library, batch, rng)
            batch = []
    write_batch(library, batch, rng)
    marker.write_text(recipe, "utf-8")
    return library


def stored_document(chunks: list[SourceChunk]) -> tuple[DocumentRecord, list[Passage]]:
    """One scaled document as the library stores it: its record and its passages (ids from their text)."""
    import hashlib

    from assistant.catalog import DocumentRecord
    from assistant.types import Passage

    first = chunks[0]
    passages = [
        Passage(
            id=hashlib.sha256(f"{c.key}:{i}:{c.text}".encode()).hexdigest()[:32],
            text=c.text, source=c.key, title=c.title, section=c.section, page=c.page,
            metadata={"ordinal": i},
        )
        for i, c in enumerate(chunks)
    ]  # fmt: skip
    record = DocumentRecord(
        first.key, hashlib.sha256(first.key.encode()).hexdigest(), first.title, first.type,
        first.year, first.metadata, len(passages),
    )  # fmt: skip
    return record, passages


def write_batch(
    library: Library, batch: list[tuple[DocumentRecord, list[Passage], list[SourceChunk]]], rng
) -> None:
    """Scaled documents through the library's write path, with their (perturbed) vectors."""
    import numpy as np

    if not batch:
        return
    pairs = [(p, c) for _, passages, chunks in batch for p, c in zip(passages, chunks, strict=True)]
    library.write_embedded(
        [(record, passages) for record, passages, _ in batch],
        np.stack([c.vector for _, c in pairs]),
        [replica_sentences(p, c.sentences, rng) for p, c in pairs],
    )


def replica_sentences(
    passage: Passage, source: ChunkSentences | None, rng: np.random.Generator
) -> ChunkSentences | None:
    """The source chunk's sentence vectors for its own text; for a replica (shuffled sentences,
    swapped words), its own sentences with the source's vectors in turn, perturbed like the chunk's."""
    import numpy as np

    from assistant.answering.citations import passage_sentences
    from assistant.sentences import ChunkSentences

    if source is None or not len(source.spans):
        return source
    spans = [s.span for s in passage_sentences(passage)]
    if spans == [tuple(span) for span in source.spans.tolist()]:
        return source
    n = len(source.vectors)
    vectors = [perturb(source.vectors[i % n].astype(np.float32), rng) for i in range(len(spans))]
    return ChunkSentences(
        np.array(spans, dtype=np.int32).reshape(-1, 2),
        np.stack(vectors).astype(np.float16) if vectors else source.vectors[:0],
    )


def source_store(cfg: BenchConfig, fallback: Library, embedder: Embedder) -> tuple[Library, str]:
    """The real embedded SciFact store when its builder has finished, else the ingest slice."""
    from assistant.library import Library

    shared = cfg.shared_store
    if shared and (shared / ".complete").exists():
        return Library.open(Settings(data_dir=shared), embedder), f"the SciFact store at {shared}"
    return fallback, f"the {cfg.abstracts}-abstract ingest slice (the SciFact store was not ready)"


# --- retrieval ---------------------------------------------------------------------------------------
def bench_retrieval(library: Library, texts: list[str], label: str) -> tuple[list[Figure], dict]:
    """p50/p95 of LibrarySearch.search per mode, plus the parts (query embedding, Chroma, FTS5)."""
    from assistant.retrieval import LibrarySearch

    search = LibrarySearch(library)
    figures, detail = [], {}
    for mode in MODES:
        config = library.settings.retrieval.model_copy(update={"mode": mode})
        p50, p95 = percentiles(time_calls(lambda q, c=config: search.search(q, c), texts))
        detail[mode] = {"p50_ms": round(p50, 2), "p95_ms": round(p95, 2)}
        figures.append(figure(f"{mode}_p50_ms@{label}", p50, "ms"))
        figures.append(figure(f"{mode}_p95_ms@{label}", p95, "ms", kind=f"{mode}_p95_ms"))
    vectors = {q: library.embedder.encode([q])[0] for q in texts}
    parts = {
        "embed_query": lambda q: library.embedder.encode([q]),
        "chroma_query": lambda q: library.vectors.query(vectors[q], 30),
        "fts5_bm25": lambda q: library.catalog.bm25(q, 30),
    }
    for part, call in parts.items():
        p50, p95 = percentiles(time_calls(call, texts))
        detail[part] = {"p50_ms": round(p50, 2), "p95_ms": round(p95, 2)}
    return figures, detail


# --- ask, cold start, memory -------------------------------------------------------------------------
def eval_questions(n: int) -> list[str]:
    with (PROJECT_ROOT / "evals" / "questions.jsonl").open(encoding="utf-8") as lines:
        texts = [json.loads(line)["question"] for line in lines]
    return texts[:n]


def bench_ask(bot: Assistant, n: int) -> list[Figure]:
    samples = time_calls(bot.ask, eval_questions(n), warmup=3)
    p50, p95 = percentiles(samples)
    note = f"{len(samples)} eval questions, {bot.settings.answer_mode} mode, warm"
    return [figure("ask_p50_ms", p50, "ms", note=note), figure("ask_p95_ms", p95, "ms", note=note)]


def library_questions(cfg: BenchConfig, n: int) -> list[str]:
    """Gold questions, PubMedQA-dev questions and SciFact claims in turn: what a library of the
    corpus, SciFact and PubMedQA-dev is asked."""
    pubmedqa = cfg.scifact.parent / "pubmedqa-dev" / "pqal_dev.json"
    sets = [eval_questions(10**6), queries(cfg.scifact, n)]
    if pubmedqa.is_file():
        sets.insert(1, [e["QUESTION"] for e in json.loads(pubmedqa.read_text("utf-8")).values()])
    mixed = [q for group in zip(*sets, strict=False) for q in group]
    return mixed[:n]


def bench_ask_at(bot: Assistant, questions: list[str], label: str, where: str) -> tuple[list[Figure], dict]:
    """Warm ask latency on a library (after Assistant.warm_up, as `assistant serve` does), and per stage."""
    bot.warm_up()
    samples, stages = [], {}
    for question in questions:
        started = time.perf_counter()
        answer = bot.ask(question)
        samples.append((time.perf_counter() - started) * 1000)
        for stage, ms in answer.timings.items():
            stages.setdefault(stage, []).append(ms)
    p50, p95 = percentiles(samples)
    mode = bot.settings.answer_mode
    note = f"{len(samples)} questions (gold, PubMedQA-dev, SciFact in turn), {mode} mode, warm; {where}"
    detail = {
        stage: {"p50_ms": round(percentiles(ms)[0], 2), "p95_ms": round(percentiles(ms)[1], 2)}
        for stage, ms in stages.items()
    }
    kind = "ask_p95_ms@100k" if label == "100k" else "ask_p95_ms@library"
    return [
        figure(f"ask_p50_ms@{label}", p50, "ms", note=note),
        figure(f"ask_p95_ms@{label}", p95, "ms", kind=kind, note=note),
    ], detail


def prepare_library(cfg: BenchConfig, embedder: Embedder) -> tuple[Library, list[Figure]]:
    """A copy of the real library, kept between runs (the bench writes to it): a store built before
    sentence vectors existed gets them here, as its next ingest would, and that is timed."""
    from assistant.library import Library

    assert cfg.library is not None
    copy = cfg.out / "work" / "library"
    source = cfg.library / "catalog.sqlite3"
    recipe = json.dumps({"library": str(cfg.library), "catalog": source.stat().st_mtime_ns})
    marker = copy / "bench-source.json"
    if not (marker.is_file() and marker.read_text("utf-8") == recipe):
        shutil.rmtree(copy, ignore_errors=True)
        copy.mkdir(parents=True)
        with sqlite3.connect(source) as db, sqlite3.connect(copy / source.name) as target:
            db.backup(target)  # with what its write-ahead log holds
        shutil.copytree(cfg.library / "chroma", copy / "chroma")
        marker.write_text(recipe, "utf-8")
    library = Library.open(Settings(data_dir=copy), embedder)
    if cfg.sentence_vectors != "all":
        return library, []
    started, at_load = time.perf_counter(), load()
    made = library.complete_sentence_vectors()
    if made:  # kept with the copy: a later run finds it upgraded and reports this measurement
        seconds = time.perf_counter() - started
        upgrade = {
            "chunks": made,
            "seconds": round(seconds, 1),
            "load": at_load,
            "at": time.strftime("%H:%M"),
        }
        (copy / "bench-upgrade.json").write_text(json.dumps(upgrade), "utf-8")
    if not (copy / "bench-upgrade.json").is_file():
        return library, []
    upgrade = json.loads((copy / "bench-upgrade.json").read_text("utf-8"))
    note = (
        f"{upgrade['chunks']} stored chunks of {cfg.library} given sentence vectors in {upgrade['seconds']} s"
        f" (a store built before them; no chunk embedded; at {upgrade['at']}, load {upgrade['load']})"
    )
    return library, [
        figure("sentence_upgrade", upgrade["chunks"] / upgrade["seconds"], "chunks/s", note=note)
    ]


def complete_for(library: Library, questions: list[str]) -> dict[str, int]:
    """Sentence vectors for every passage these questions retrieve that lacks them (a store whose
    upgrade is left unfinished): what `ask` reads is then exactly what a finished upgrade gives it."""
    from assistant.assistant import WARM_UP_QUESTIONS
    from assistant.retrieval import LibrarySearch

    search = LibrarySearch(library)
    retrieved = set()
    for question in [*questions, *WARM_UP_QUESTIONS]:
        retrieved |= {p.id for p in search.search(question, library.settings.retrieval)[0]}
    lacking = set(library.catalog.chunks_lacking_sentence_vectors(library.sentence_version))
    library.complete_sentence_vectors(missing=sorted(retrieved & lacking))
    return {
        "chunks": library.catalog.chunk_count(),
        "with sentence vectors": library.catalog.chunk_count() - len(lacking - retrieved),
        "made now for the measured questions": len(retrieved & lacking),
    }


def bench_serve_first(data_dir: Path, question: str, warm_p95: float) -> list[Figure]:
    """A fresh `assistant serve`: seconds until it answers HTTP, then its first question (the time
    the server spent on it, from the answer's timings, and the client's wall time through Gradio)."""
    from gradio_client import Client

    port = free_port()
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data_dir)}
    log_path = data_dir.parent / f"serve-{port}.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            started = time.perf_counter()
            url = f"http://127.0.0.1:{port}/"
            while True:
                if server.poll() is not None or time.perf_counter() - started > 600:
                    raise RuntimeError(f"assistant serve did not come up; see {log_path}")
                try:
                    urllib.request.urlopen(f"{url}config", timeout=2)
                    break
                except OSError:
                    time.sleep(0.5)
            ready = time.perf_counter() - started
            client = Client(url, verbose=False)
            started = time.perf_counter()
            answer = client.predict(question=question, api_name="/ask")
            wall = (time.perf_counter() - started) * 1000
        finally:
            server.terminate()
            server.wait(timeout=60)
    first = float(answer["timings"]["total"])
    note = f"first question after start-up ({question!r}); the server's own time, warm p95 {warm_p95:.1f} ms"
    return [
        figure(
            "serve_ready_s",
            ready,
            "s",
            note="`assistant serve` start to its first HTTP answer (warm-up included)",
        ),
        figure("serve_first_ask_ms", first, "ms", note=note),
        figure(
            "serve_first_ask_wall_ms",
            wall,
            "ms",
            note="the same question's wall time at the client (Gradio API)",
        ),
        figure("serve_first_vs_warm_p95", first / warm_p95, "x", note=note),
    ]


def bench_cold_start(data_dir: Path, runs: int) -> list[Figure]:
    """Wall time of a fresh `assistant ask` process, start to printed answer."""
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data_dir)}
    question = eval_questions(1)[0]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "assistant.cli", "ask", question], env=env, capture_output=True, text=True
        )
        times.append(time.perf_counter() - started)
        if done.returncode != 0 or not done.stdout.strip():
            raise RuntimeError(f"`assistant ask` failed in the cold-start run: {done.stderr[-2000:]}")
    times.sort()
    note = f"median of {runs}: " + ", ".join(f"{t:.1f}" for t in times) + " s"
    return [figure("cold_start_s", times[len(times) // 2], "s", note=note)]


def _probe_memory(data_dir: str, texts: list[str]) -> float:
    """In a fresh process: open the library, answer the questions, report peak RSS in MB."""
    import assistant  # noqa: F401  (offline environment)
    from assistant.assistant import Assistant

    bot = Assistant(Settings(data_dir=Path(data_dir)))
    for text in texts:
        bot.ask(text)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def bench_memory(data_dir: Path, texts: list[str], label: str) -> list[Figure]:
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        peak = pool.apply(_probe_memory, (str(data_dir), texts))
    return [figure(f"peak_rss_mb@{label}", peak, "MB", note=f"one process: model + store, {len(texts)} asks")]


# --- Chroma server -----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chroma_server(path: Path, port: int) -> subprocess.Popen:
    """`chroma run` on a folder, returned once its heartbeat answers."""
    exe = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    log = (path.parent / f"chroma-{port}.log").open("w")
    server = subprocess.Popen(
        [exe, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"chroma run exited with {server.returncode}; see {log.name}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2)
            return server
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise RuntimeError(f"chroma run did not answer on port {port} within 120 s; see {log.name}")


def bench_server(store: Path, texts: list[str], label: str, embedder: Embedder) -> tuple[list[Figure], dict]:
    """The same retrieval with vectors served by `chroma run` (a copy of the store's Chroma folder)."""
    from assistant.library import Library

    copy = store.parent / f"{store.name}-server-chroma"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(store / "chroma", copy)
    port = free_port()
    server = chroma_server(copy, port)
    try:
        settings = Settings(data_dir=store, chroma_host="127.0.0.1", chroma_port=port)
        figures, detail = bench_retrieval(Library.open(settings, embedder), texts, f"{label} server")
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(copy, ignore_errors=True)
    return figures, detail


# --- the run -----------------------------------------------------------------------------------------
def size_label(size: int) -> str:
    return f"{size // 1000}k" if size >= 1000 and size % 1000 == 0 else str(size)


def run(
    cfg: BenchConfig, embedder: Embedder | None = None, corpus: Assistant | None = None, echo: bool = True
) -> dict[str, Any]:
    import assistant  # noqa: F401  (offline environment)
    from assistant.assistant import Assistant
    from assistant.library import Library
    from assistant.store import Embedder

    say = print if echo else (lambda *_: None)
    cfg.out.mkdir(parents=True, exist_ok=True)
    settings = Settings()
    embedder = embedder or Embedder(settings.model_path, settings.embedding_batch_size)
    result: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "cores": os.cpu_count(),
        "load": {"start": load()},
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(cfg).items()},
        "retrieval": {},
        "ask": {},
    }
    figures: list[Figure] = []

    say(f"ingest: {cfg.abstracts} abstracts (load {load()})")
    found, ingest_library = bench_ingest(cfg, embedder)
    figures += found
    result["load"]["after ingest"] = load()

    real_library = None
    if cfg.library:
        say(f"the library at {cfg.library}: a copy, with sentence vectors (load {load()})")
        real_library, found = prepare_library(cfg, embedder)
        figures += found
        source = real_library
        origin = f"the library at {cfg.library} ({real_library.catalog.chunk_count()} real chunks)"
        result["load"]["after library"] = load()
    else:
        source, origin = source_store(cfg, ingest_library, embedder)
    chunks = read_source(source)
    real = sum(len(c) for c in chunks)
    result["stores"] = (
        f"{origin}: {len(chunks)} documents, {real} real chunks; larger sizes add replicas of those chunks"
        f" with perturbed vectors (Gaussian noise sigma {NOISE}/dimension, renormalized) and varied text"
        " (shuffled sentences, ~10% adjacent words swapped)"
    )
    say(result["stores"])
    texts = queries(cfg.scifact, cfg.queries)
    stores: dict[int, Path] = {}
    for size in cfg.sizes:
        folder = cfg.out / "work" / f"store-{size}"
        say(f"retrieval at {size} chunks: building the store (load {load()})")
        library = build_store(chunks, size, folder, embedder, origin)
        stores[size] = folder
        found, detail = bench_retrieval(library, texts, size_label(size))
        figures += found
        result["retrieval"][size_label(size)] = {"chunks": library.catalog.chunk_count(), **detail}
    result["load"]["after retrieval"] = load()

    if corpus is None:
        corpus_settings = Settings(data_dir=cfg.out / "work" / "corpus-store")
        corpus = Assistant(corpus_settings, Library.open(corpus_settings, embedder))
        corpus.ingest([settings.corpus_dir], progress=False)  # incremental: a no-op once stored
    bot = corpus
    say(f"ask: {cfg.asks} questions (load {load()})")
    figures += bench_ask(bot, cfg.asks)
    asked = library_questions(cfg, cfg.library_asks)
    measured = [*asked, *eval_questions(1)]
    result["sentence_vectors"] = {"mode": cfg.sentence_vectors}
    if real_library is not None and cfg.sentence_vectors != "all":
        result["sentence_vectors"]["library"] = complete_for(real_library, measured)
    if real_library is not None:
        say(f"ask on the library: {len(asked)} questions (load {load()})")
        where = f"{origin}; load {load()}"
        found, result["ask"]["library"] = bench_ask_at(
            Assistant(real_library.settings, real_library), asked, "library", where
        )
        figures += found
        warm_p95 = found[1].value
        say(f"first question in a fresh `assistant serve` on the library (load {load()})")
        figures += bench_serve_first(real_library.settings.data_dir, asked[-1], warm_p95)
    if cfg.cold_runs:
        cold_dir = real_library.settings.data_dir if real_library else bot.settings.data_dir
        say(f"cold start: {cfg.cold_runs} runs of `assistant ask` on {cold_dir} (load {load()})")
        figures += bench_cold_start(cold_dir, cfg.cold_runs)

    largest = max(cfg.sizes)
    if largest >= 100_000:
        say(f"ask at {largest} chunks (load {load()})")
        library = Library.open(Settings(data_dir=stores[largest]), embedder)
        if cfg.sentence_vectors != "all":
            result["sentence_vectors"][size_label(largest)] = complete_for(library, measured)
        where = f"{size_label(largest)} store built from {origin}; load {load()}"
        found, result["ask"][size_label(largest)] = bench_ask_at(
            Assistant(library.settings, library), asked, size_label(largest), where
        )
        figures += found
    if cfg.memory:
        say(f"peak memory at {largest} chunks (load {load()})")
        figures += bench_memory(stores[largest], asked[:50], size_label(largest))
    if cfg.server:
        for size, folder in stores.items():
            say(f"retrieval at {size} chunks against `chroma run` (load {load()})")
            found, detail = bench_server(folder, texts, size_label(size), embedder)
            figures += found
            result["retrieval"][f"{size_label(size)} server"] = detail

    result["load"]["end"] = load()
    result["figures"] = [f.to_dict() for f in figures]
    (cfg.out / "bench.json").write_text(json.dumps(result, indent=2, default=str), "utf-8")
    plot(result, cfg.sizes, cfg.out / "latency.png")
    say(table(figures))
    say(f"\nwrote {cfg.out / 'bench.json'} and {cfg.out / 'latency.png'}")
    say(f"cores {result['cores']}, load average {result['load']}")
    return result


def table(figures: list[Figure]) -> str:
    lines = [f"{'figure':34} {'value':>10} {'unit':9} {'goal':>10} {'ratio':>7}  met"]
    for f in figures:
        goal = f"{'≥' if f.direction == 'min' else '≤'}{f.goal:g}" if f.goal else ""
        ratio = f"{f.ratio:.2f}" if f.ratio is not None else ""
        met = {True: "yes", False: "NO", None: ""}[f.met]
        lines.append(f"{f.name:34} {f.value:>10.2f} {f.unit:9} {goal:>10} {ratio:>7}  {met}")
    return "\n".join(lines)


def plot(result: dict[str, Any], sizes: list[int], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, stat in zip(axes, ("p50_ms", "p95_ms"), strict=True):
        for where, style in (("", "-"), (" server", "--")):
            for mode in MODES:
                points = [
                    (s, result["retrieval"][size_label(s) + where][mode][stat])
                    for s in sizes
                    if size_label(s) + where in result["retrieval"]
                ]
                if points:
                    xs, ys = zip(*points, strict=True)
                    ax.plot(xs, ys, style, marker="o", label=f"{mode}{where or ' local'}")
        ax.axhline(GOALS["hybrid_p95_ms"][0], color="grey", linewidth=0.8, linestyle=":")
        ax.set_xscale("log")
        ax.set_xlabel("library size (chunks)")
        ax.set_title(f"retrieval latency {stat[:3]}")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("ms per question")
    axes[1].legend(fontsize=8)
    fig.suptitle(f"LibrarySearch.search on {result['cores']} cores (dotted: 50 ms goal)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --- command line ------------------------------------------------------------------------------------
HELP = "measure ingest, retrieval, ask and cold start against the goals"


def add_arguments(bench: argparse.ArgumentParser) -> None:
    """The options, for `assistant bench` (which forwards here) and for this file run directly."""
    bench.add_argument("--out", type=Path, help="results folder (default: DATA_DIR/bench)")
    bench.add_argument("--sizes", help="library sizes in chunks, comma-separated (default 1000,10000,100000)")
    bench.add_argument("--quick", action="store_true", help="fewer abstracts and queries; sizes 1000,10000")
    bench.add_argument(
        "--library",
        type=Path,
        help="a real library's data dir (e.g. the development library): ask latency on it",
    )
    bench.add_argument(
        "--sentence-vectors", choices=["all", "asked"], default="all",
        help="with --library: give every chunk of the copy its sentence vectors (default), or only those the"
        " measured questions retrieve (what ask reads is the same; for a busy machine)",
    )  # fmt: skip
    bench.add_argument("--abstracts", type=int, help="abstracts ingested for the ingest figures (300)")
    bench.add_argument("--library-asks", type=int, help="questions asked on the library and at 100k (200)")
    bench.add_argument("--cold-runs", type=int, help="runs of the cold-start measurement (3)")
    bench.add_argument("--no-server", action="store_true", help="skip the `chroma run` measurements")
    bench.add_argument(
        "--scifact", type=Path, help="the SciFact folder (default: BENCHMARKS_DIR/scifact, from the settings)"
    )
    bench.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    out = args.out or Settings().data_dir / "bench"
    try:
        sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else None
    except ValueError:
        print(f"--sizes: expected numbers separated by commas, got {args.sizes!r}", file=sys.stderr)
        return 2
    cfg = BenchConfig.quick(out, sizes) if args.quick else BenchConfig(out)
    if sizes and not args.quick:
        cfg.sizes = sizes
    cfg.server = not args.no_server
    cfg.library = args.library
    cfg.sentence_vectors = args.sentence_vectors
    for name in ("abstracts", "library_asks", "cold_runs", "scifact"):
        if getattr(args, name) is not None:
            setattr(cfg, name, getattr(args, name))
    if not (cfg.scifact / "corpus.jsonl").is_file():
        print(f"no SciFact corpus at {cfg.scifact}: pass --scifact DIR or set ASSISTANT_BENCHMARKS_DIR",
              file=sys.stderr)  # fmt: skip
        return 2
    run(cfg)
    return 0


def main(argv: list[str] | None = None) -> int:
    import assistant  # noqa: F401  (offline environment)

    parser = argparse.ArgumentParser(prog="benchmarks/bench.py", description=HELP)
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())
