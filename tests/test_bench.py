"""Smoke of `assistant bench` on tiny sizes: the shape of its output, never its timings."""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import benchmark_script

bench = benchmark_script("bench")  # benchmarks/bench.py, by its path
BenchConfig, SourceChunk, run = bench.BenchConfig, bench.SourceChunk, bench.run
bench_server, scaled_documents, vary_text = bench.bench_server, bench.scaled_documents, bench.vary_text
# Where this machine keeps the benchmarks, as the other tests name it: the settings' default
# (../shared/benchmarks beside the checkout) is missing in a clone made elsewhere.
SCIFACT = Path("/work/shared/benchmarks/scifact")


def test_bench_writes_every_figure_with_goal_ratio_and_plot(tmp_path: Path, embedder, corpus_assistant):
    cfg = BenchConfig(
        tmp_path, sizes=[40, 120], abstracts=8, queries=4, asks=2, cold_runs=0, server=False, memory=False,
        shared_store=None, scifact=SCIFACT,
    )  # fmt: skip
    run(cfg, embedder, corpus_assistant, echo=False)

    saved = json.loads((tmp_path / "bench.json").read_text())
    assert saved["cores"] == os.cpu_count()
    assert "ingest slice" in saved["stores"] and "perturbed vectors" in saved["stores"]
    figures = {f["name"]: f for f in saved["figures"]}
    expected = {"embed_raw", "ingest", "ingest_vs_raw", "reingest_speedup", "ask_p50_ms", "ask_p95_ms"}
    expected |= {f"{mode}_{stat}_ms@{size}" for mode in ("dense", "bm25", "hybrid") for stat in ("p50", "p95")
                 for size in ("40", "120")}  # fmt: skip
    assert expected <= set(figures)
    for name in ("ingest_vs_raw", "reingest_speedup", "hybrid_p95_ms@120", "ask_p95_ms"):
        f = figures[name]
        assert f["goal"] and f["ratio"] == pytest.approx(f["value"] / f["goal"], abs=1e-3)
        assert f["met"] == (f["ratio"] >= 1 if f["direction"] == "min" else f["ratio"] <= 1)
    assert figures["embed_raw"]["goal"] is None and figures["embed_raw"]["value"] > 0
    assert saved["retrieval"]["120"]["chunks"] == 120
    assert set(saved["retrieval"]["40"]) >= {"hybrid", "fts5_bm25", "chroma_query", "embed_query"}
    assert (tmp_path / "latency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # A second run reuses the built stores (their recipe is unchanged) and gives the same sizes.
    marker = tmp_path / "work" / "store-120" / "bench-recipe.json"
    built = marker.stat().st_mtime_ns
    run(cfg, embedder, corpus_assistant, echo=False)
    assert marker.stat().st_mtime_ns == built


def _source(n_docs: int) -> list[list[SourceChunk]]:
    rng = np.random.default_rng(0)
    docs = []
    for d in range(n_docs):
        chunks = []
        for i in range(3):
            v = rng.normal(size=384).astype(np.float32)
            text = f"Sentence one of doc {d} part {i}. Another sentence follows here! A third one?"
            chunks.append(
                SourceChunk(f"doc{d}", f"Title {d}", None, None, {}, "", None, text, v / np.linalg.norm(v))
            )
        docs.append(chunks)
    return docs


def test_scaled_documents_replicate_with_near_vectors_and_varied_text():
    source = _source(4)  # 12 real chunks
    docs = list(scaled_documents(source, 30))
    chunks = [c for doc in docs for c in doc]
    assert len(chunks) == 30
    assert len({c.key for c in chunks}) == len(docs)  # every replica is its own document
    originals = {(c.key, c.text): c.vector for doc in source for c in doc}
    replica = docs[4][0]
    assert replica.key == "doc0#replica-1" and replica.text != source[0][0].text
    assert sorted(replica.text.split()) == sorted(source[0][0].text.split())
    cosine = float(replica.vector @ originals[("doc0", source[0][0].text)])
    assert 0.8 < cosine < 0.999
    assert np.linalg.norm(replica.vector) == pytest.approx(1.0, abs=1e-5)


def test_vary_text_keeps_the_words():
    text = "Alpha beta gamma. Delta epsilon zeta! Eta theta iota?"
    varied = vary_text(text, random.Random(3))
    assert sorted(varied.split()) == sorted(text.split())


@pytest.mark.server
def test_server_retrieval_runs_against_chroma_run(tmp_path: Path, embedder, corpus_library):
    """Retrieval over a real `chroma run` serving a copy of the corpus store's vectors."""
    figures, detail = bench_server(corpus_library.settings.data_dir, ["How do partners share power?"] * 3,
                                   "corpus", embedder)  # fmt: skip
    names = {f.name for f in figures}
    assert "hybrid_p95_ms@corpus server" in names and detail["dense"]["p95_ms"] > 0
    assert not (
        corpus_library.settings.data_dir.parent / f"{corpus_library.settings.data_dir.name}-server-chroma"
    ).exists()


def _catalog(tmp_path: Path, chunks: int):
    from assistant.catalog import Catalog, DocumentRecord
    from assistant.types import Passage

    catalog = Catalog(tmp_path / "catalog.sqlite3")
    for d in range(chunks // 100):
        words = ["rare" if d == 0 and i < 3 else "plain" for i in range(100)]
        passages = [Passage(f"{d}-{i}", f"common words {w}", f"doc{d}", "T", "") for i, w in enumerate(words)]
        catalog.replace_document(DocumentRecord(f"doc{d}", f"h{d}", "T", None, None, {}, 100), passages)
    return catalog


def test_bm25_skips_terms_in_most_chunks_only_in_large_libraries(tmp_path: Path):
    from assistant.catalog import PRUNE_FROM

    large = _catalog(tmp_path / "large", PRUNE_FROM)
    assert {i for i, _ in large.bm25("common rare", 30)} == {"0-0", "0-1", "0-2"}  # "common" dropped
    assert len(large.bm25("common absentword", 30)) == 30  # no other term matches: "common" stays
    small = _catalog(tmp_path / "small", 300)
    assert len(small.bm25("common rare", 30)) == 30  # small library: exact BM25 over every term


def test_bench_on_a_real_library_upgrades_a_copy_and_measures_ask_and_a_fresh_serve(tmp_path: Path, embedder):
    """--library: a copy of a store built before sentence vectors gets them (the original is left as
    it is), then ask latency on it with per-stage timings and the first question of a fresh serve."""
    from assistant.ingest import ingest
    from assistant.library import Library
    from assistant.settings import PROJECT_ROOT, Settings

    original = Library.open(Settings(data_dir=tmp_path / "library"), embedder)
    ingest(original, [PROJECT_ROOT / "corpus"], progress=False)
    with original.catalog.transaction() as db:
        db.execute("DELETE FROM sentence_vectors")
    cfg = BenchConfig(
        tmp_path / "out", sizes=[40], abstracts=4, queries=4, asks=2, cold_runs=0, server=False, memory=False,
        shared_store=None, library=tmp_path / "library", library_asks=6, scifact=SCIFACT,
    )  # fmt: skip
    saved = run(cfg, embedder, echo=False)

    figures = {f["name"]: f for f in saved["figures"]}
    chunks = original.catalog.chunk_count()
    assert str(chunks) in figures["sentence_upgrade"]["note"]
    assert original.catalog.chunks_lacking_sentence_vectors(original.sentence_version)  # original untouched
    assert figures["ask_p95_ms@library"]["goal"] == 100 and figures["ask_p95_ms@library"]["value"] > 0
    assert {"retrieve", "rerank", "answer", "total"} <= set(saved["ask"]["library"])
    assert figures["serve_first_ask_ms"]["value"] > 0 and figures["serve_first_vs_warm_p95"]["goal"] == 2
    assert "library at" in saved["stores"]


def test_assistant_bench_forwards_to_the_script_and_says_where_it_is_missing(tmp_path, monkeypatch, capsys):
    from assistant import cli

    assert cli.main(["bench", "--sizes", "1k"]) == 2  # the script's own check, reached through the command
    assert "--sizes: expected numbers" in capsys.readouterr().err
    monkeypatch.setattr(cli, "BENCHMARKS", tmp_path)  # an install without the checkout's benchmarks/
    monkeypatch.delitem(sys.modules, "benchmarks_bench")
    assert cli.main(["bench", "--quick"]) == 2
    assert "benchmarks/bench.py" in capsys.readouterr().err
