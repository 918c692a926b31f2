"""Retrieval quality on a BEIR dataset (e.g. SciFact), through the product's own ingest and search.

The corpus is ingested once into a store of its own (`data_dir/beir/<name>`, finished when the
`.complete` marker exists), then every query goes through `LibrarySearch.search`; documents are
ranked by their best passage and scored with pytrec_eval.
"""

from __future__ import annotations

import csv
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytrec_eval

from assistant.ingest import add_documents
from assistant.library import Library
from assistant.retrieval import LibrarySearch
from assistant.settings import RetrievalSettings, Settings
from assistant.store import Embedder
from assistant.types import LoadedDocument, Section

MEASURES = {"ndcg_cut_10": "nDCG@10", "recall_100": "recall@100", "recip_rank": "MRR"}
DEPTH = 100  # documents ranked per query (recall@100)
# Published nDCG@10 (BEIR paper, Elasticsearch BM25; sentence-transformers / BAAI model cards).
PUBLISHED = {
    "scifact": {
        "BM25 (Elasticsearch)": 0.665,
        "all-MiniLM-L6-v2": 0.645,
        "bge-small-en-v1.5": 0.713,
    }
}


class BeirFormatError(ValueError):
    """A BEIR file that is missing or malformed; the message names the file and the reason."""


@dataclass
class BeirDataset:
    name: str
    corpus: dict[str, tuple[str, str]]  # id -> (title, text)
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def read_jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        raise BeirFormatError(f"{path}: no such file")
    rows = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BeirFormatError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
            if not isinstance(row, dict) or "_id" not in row or not isinstance(row.get("text"), str):
                raise BeirFormatError(f"{path}:{number}: expected an object with '_id' and 'text'")
            rows.append(row)
    return rows


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    if not path.is_file():
        raise BeirFormatError(f"{path}: no such file")
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as rows:
        for number, row in enumerate(csv.reader(rows, delimiter="\t"), start=1):
            if number == 1 and row[:1] == ["query-id"]:
                continue
            try:
                query_id, doc_id, score = row
                qrels.setdefault(query_id, {})[doc_id] = int(score)
            except ValueError as exc:
                raise BeirFormatError(
                    f"{path}:{number}: expected 'query-id<TAB>corpus-id<TAB>score'"
                ) from exc
    return qrels


def load_beir(dataset_dir: Path, split: str = "test") -> BeirDataset:
    """corpus.jsonl, qrels/<split>.tsv and queries-<split>.jsonl (else queries.jsonl) of a dataset;
    a missing file shows before anything is read, and the small files are read before the corpus."""
    for required in (dataset_dir / "corpus.jsonl", dataset_dir / "qrels" / f"{split}.tsv"):
        if not required.is_file():
            raise BeirFormatError(f"{required}: no such file")
    qrels = read_qrels(dataset_dir / "qrels" / f"{split}.tsv")
    query_file = dataset_dir / f"queries-{split}.jsonl"
    if not query_file.is_file():
        query_file = dataset_dir / "queries.jsonl"
    queries = {str(r["_id"]): r["text"] for r in read_jsonl(query_file) if str(r["_id"]) in qrels}
    missing = qrels.keys() - queries.keys()
    if missing:
        raise BeirFormatError(f"{query_file}: {len(missing)} queries of qrels/{split}.tsv are missing")
    corpus = {
        str(r["_id"]): (str(r.get("title") or ""), r["text"])
        for r in read_jsonl(dataset_dir / "corpus.jsonl")
    }
    return BeirDataset(dataset_dir.name, corpus, queries, qrels)


def as_document(doc_id: str, title: str, text: str) -> LoadedDocument:
    digest = hashlib.sha256(json.dumps([title, text]).encode()).hexdigest()
    return LoadedDocument(
        source=doc_id, sections=[Section(text)], metadata={"title": title}, content_hash=digest
    )


def beir_library(dataset: BeirDataset, settings: Settings, embedder: Embedder | None = None) -> Library:
    """The dataset's own store, ingested once: a rerun with the marker present embeds nothing."""
    store = settings.data_dir / "beir" / dataset.name
    library = Library.open(settings.model_copy(update={"data_dir": store}), embedder)
    marker = store / ".complete"
    if not marker.exists():
        add_documents(library, (as_document(i, *fields) for i, fields in dataset.corpus.items()))
        marker.write_text(
            json.dumps({"documents": len(dataset.corpus), "chunks": library.catalog.chunk_count()})
        )
    return library


def document_run(
    search: LibrarySearch, queries: dict[str, str], config: RetrievalSettings
) -> tuple[dict, float]:
    """query id -> {doc id: best passage's score}, top DEPTH documents; and mean seconds per query."""
    as_documents = config.model_copy(update={"k": DEPTH, "max_per_document": 1})
    run: dict[str, dict[str, float]] = {}
    started = time.perf_counter()
    for query_id, text in queries.items():
        passages, _ = search.search(text, as_documents)
        ranking: dict[str, float] = {}
        for passage in passages:  # best first, so a document's first passage is its best
            ranking.setdefault(passage.source, passage.score)
        run[query_id] = ranking
    return run, (time.perf_counter() - started) / max(len(queries), 1)


def evaluate(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]]) -> dict[str, float]:
    """Mean of each measure over all judged queries (a query with no results counts as 0)."""
    per_query = pytrec_eval.RelevanceEvaluator(qrels, set(MEASURES)).evaluate(run)
    return {
        name: sum(per_query.get(q, {}).get(measure, 0.0) for q in qrels) / len(qrels)
        for measure, name in MEASURES.items()
    }


def configurations(settings: Settings) -> dict[str, RetrievalSettings]:
    """Baselines and the product's configuration, with candidate lists deep enough for recall@100;
    the last row is the product exactly as the chat runs it (its own candidate depth). Each is the
    settings' retrieval section with the row's changes."""
    product = settings.retrieval
    deep = 3 * DEPTH
    plain_rrf = {
        "fusion": "rrf",
        "dense_weight": 1.0,
        "bm25_weight": 1.0,
        "rrf_k": 60,
        "bm25_title_weight": 2.0,
    }
    rows = {
        "dense": {"mode": "dense", "candidates": deep},
        "bm25": {"mode": "bm25", "candidates": deep},
        "hybrid, plain RRF (k=60)": {"mode": "hybrid", **plain_rrf, "candidates": deep},
        "tuned (product settings)": {"candidates": max(product.candidates, deep)},
        f"tuned, {product.candidates} candidates as in chat": {},
    }
    return {name: product.model_copy(update=changes) for name, changes in rows.items()}


def run_beir(
    dataset_dir: Path,
    out_dir: Path,
    settings: Settings,
    split: str = "test",
    *,
    embedder: Embedder | None = None,
    configs: dict[str, RetrievalSettings] | None = None,
) -> dict:
    """Ingest (once) and evaluate every configuration; writes out_dir/beir.json and returns it."""
    dataset = load_beir(dataset_dir, split)
    library = beir_library(dataset, settings, embedder)
    search = LibrarySearch(library)
    results = {}
    for name, config in (configs or configurations(settings)).items():
        run, seconds = document_run(search, dataset.queries, config)
        results[name] = {
            **evaluate(dataset.qrels, run),
            "ms_per_query": round(1000 * seconds, 1),
            "config": config.model_dump(),
        }
    report = {
        "dataset": dataset.name,
        "split": split,
        "queries": len(dataset.queries),
        "documents": len(dataset.corpus),
        "chunks": library.catalog.chunk_count(),
        "store": str(library.settings.data_dir),
        "results": results,
        "published_ndcg_at_10": PUBLISHED.get(dataset.name, {}),
    }
    report["markdown"] = markdown(report)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "beir.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    return report


def markdown(report: dict) -> str:
    lines = [
        f"{report['dataset']} ({report['split']}: {report['queries']} queries,"
        f" {report['documents']} documents, {report['chunks']} chunks)",
        "",
        "| retrieval | nDCG@10 | recall@100 | MRR | ms/query |",
        "|---|---|---|---|---|",
    ]
    for name, r in report["results"].items():
        scores = " | ".join(f"{r[m]:.3f}" for m in MEASURES.values())
        lines.append(f"| {name} | {scores} | {r['ms_per_query']:.0f} |")
    for name, ndcg in report["published_ndcg_at_10"].items():
        lines.append(f"| published: {name} | {ndcg:.3f} | | | |")
    return "\n".join(lines) + "\n"
