"""Dense (Chroma), lexical (BM25 over SQLite FTS5) and their fusion, as a LangChain retriever.

Own fusion rather than LangChain's EnsembleRetriever: that one drops the scores we need for
abstention and cannot cap passages per document (diversification) or take filters per query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from assistant.library import Library
from assistant.settings import RetrievalSettings
from assistant.text import written_in_cjk
from assistant.types import NO_FILTERS, Filters, Passage

COMPLETION_DEPTH = 300  # BM25 hits fetched to score dense-only candidates
SHORT_DOCUMENT_CHUNKS = 3  # up to ~600 tokens: an abstract, read whole when it is the best document
_LEXICAL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="bm25")


def rrf(rankings: list[tuple[list[str], float]], k: int) -> dict[str, float]:
    """Weighted reciprocal rank fusion: sum of weight / (k + rank) over the rankings."""
    fused: dict[str, float] = defaultdict(float)
    for ids, weight in rankings:
        for rank, chunk_id in enumerate(ids, start=1):
            fused[chunk_id] += weight / (k + rank)
    return fused


def convex(scored: list[tuple[dict[str, float], float]]) -> dict[str, float]:
    """Weighted sum of each list's scores divided by its best score (a list lacking an id adds 0).

    Dividing by the best rather than min-max scaling keeps a score independent of how deep the
    candidate lists go, so the same weights hold for 30 candidates and for 300.
    """
    fused: dict[str, float] = defaultdict(float)
    for scores, weight in scored:
        best = max(scores.values(), default=0.0)
        scale = best if best > 0 else 1.0
        for chunk_id, score in scores.items():
            fused[chunk_id] += weight * score / scale
    return fused


def diversify(passages: list[Passage], k: int, max_per_document: int) -> list[Passage]:
    """Best k passages with at most max_per_document from one document (then fill if short)."""
    chosen: list[Passage] = []
    per_document: dict[str, int] = defaultdict(int)
    for passage in passages:
        if per_document[passage.source] < max_per_document:
            chosen.append(passage)
            per_document[passage.source] += 1
        if len(chosen) == k:
            return chosen
    rest = [p for p in passages if p not in chosen]
    return chosen + rest[: k - len(chosen)]


def in_the_questions_script_first(ranked: list[Passage], question: str) -> list[Passage]:
    """Each document's passages in the question's script (Chinese or not) before its others, in the
    places the document's passages hold: a document read in two languages (an abstract and its
    Chinese translation) does not fill its places with the translation of an English question's
    answer, whose numbers and names the answer then could not quote."""
    asked_in_cjk = written_in_cjk(question)
    places: dict[str, list[int]] = defaultdict(list)
    for place, passage in enumerate(ranked):
        places[passage.source].append(place)
    reordered = list(ranked)
    for taken in places.values():
        mine = sorted((ranked[i] for i in taken), key=lambda p: written_in_cjk(p.text) != asked_in_cjk)
        for place, passage in zip(taken, mine, strict=True):
            reordered[place] = passage
    return reordered


class LibrarySearch:
    """Ranks a library's passages for a question; the query vector is computed once per question."""

    def __init__(self, library: Library) -> None:
        self.library = library

    def search(
        self, question: str, config: RetrievalSettings, filters: Filters = NO_FILTERS
    ) -> tuple[list[Passage], np.ndarray]:
        # BM25 runs in SQLite, which releases the GIL: overlapping it with the query embedding and
        # the Chroma query makes hybrid search cost about the slower of the two, not their sum.
        lexical = None if config.mode == "dense" else _LEXICAL.submit(self._bm25, question, config, filters)
        query_vector = self.library.embedder.encode([question])[0]
        dense: dict[str, float] = {}
        if config.mode in ("dense", "hybrid"):
            dense = dict(self.library.vectors.query(query_vector, config.candidates, filters.chroma_where()))
        ranked = lexical.result() if lexical else []
        bm25, deep_bm25 = dict(ranked[: config.candidates]), dict(ranked)
        if config.mode == "dense":
            scores = dense
        elif config.mode == "bm25":
            scores = bm25
        elif config.fusion == "rrf":
            scores = rrf([(list(dense), config.dense_weight), (list(bm25), config.bm25_weight)], config.rrf_k)
        else:
            self._complete(query_vector, dense, bm25, deep_bm25)
            scores = convex([(dense, config.dense_weight), (bm25, config.bm25_weight)])
        ranked_ids = sorted(scores, key=scores.__getitem__, reverse=True)
        found = self.library.catalog.passages(ranked_ids)  # ids the catalog lacks are mid-ingest orphans
        ranked = [replace(found[i], score=scores[i]) for i in ranked_ids if i in found]
        top = diversify(in_the_questions_script_first(ranked, question), config.k, config.max_per_document)
        return self._with_relevance(top, dict(dense), query_vector), query_vector

    def read_whole(
        self,
        passages: list[Passage],
        query_vector: np.ndarray,
        documents: int,
        wanted: Callable[[list[Passage]], bool],
    ) -> list[Passage]:
        """The passages, plus the other chunks of each of the best `documents` documents that is
        short and whose passages found `wanted` accepts, placed after that document's last passage
        found. A question restating an abstract's title and background finds the chunk that has
        them, while the finding that answers it sits in the next chunk."""
        for source in list(dict.fromkeys(p.source for p in passages))[:documents]:
            found = [p for p in passages if p.source == source]
            chunks = found[0].metadata.get("document_chunks") or 0
            # (a document found whole, or a long one, needs neither the finding check nor the catalog)
            if not len(found) < chunks <= SHORT_DOCUMENT_CHUNKS or not wanted(found):
                continue
            rest = self.library.catalog.chunk_ids(source) - {p.id for p in found}
            if not rest:
                continue
            vectors = self.library.vectors.embeddings(list(rest))
            siblings = sorted(
                self.library.catalog.passages(rest).values(), key=lambda p: p.metadata.get("ordinal", 0)
            )
            siblings = [
                replace(
                    p,
                    relevance=float(vectors[p.id] @ query_vector),
                    metadata={**p.metadata, "read_along": True},
                )
                for p in siblings
                if p.id in vectors
            ]
            at = passages.index(found[-1]) + 1
            passages = passages[:at] + siblings + passages[at:]
        return passages

    def _bm25(self, question: str, config: RetrievalSettings, filters: Filters) -> list[tuple[str, float]]:
        """BM25 hits best first; deep enough for the fusion's completion step when it needs one."""
        completing = config.mode == "hybrid" and config.fusion == "convex"
        depth = max(config.candidates, COMPLETION_DEPTH) if completing else config.candidates
        weights = (config.bm25_title_weight, 1.0, 1.0)
        return self.library.catalog.bm25(question, depth, filters, weights)

    def _complete(
        self,
        query_vector: np.ndarray,
        dense: dict[str, float],
        bm25: dict[str, float],
        deep_bm25: dict[str, float],
    ) -> None:
        """Give every candidate both scores: one list's find scored 0 by the other just for ranking
        below its cut would sink (worth 0.018 nDCG@10 on SciFact at 30 candidates). BM25 scores come
        from one deeper BM25 query; a dense hit below its depth counts 0 (SciFact train nDCG@10
        0.7390 vs 0.7387 for exact scores by a second query, which cost ~10 ms at 100k chunks)."""
        for chunk_id, vector in self.library.vectors.embeddings([i for i in bm25 if i not in dense]).items():
            dense[chunk_id] = float(vector @ query_vector)
        for chunk_id in dense:
            bm25.setdefault(chunk_id, deep_bm25.get(chunk_id, 0.0))

    def _with_relevance(
        self, passages: list[Passage], similarities: dict[str, float], query_vector: np.ndarray
    ) -> list[Passage]:
        """Cosine similarity to the question for every passage (BM25-only hits lack it)."""
        missing = [p.id for p in passages if p.id not in similarities]
        for chunk_id, vector in self.library.vectors.embeddings(missing).items():
            similarities[chunk_id] = float(vector @ query_vector)
        return [replace(p, relevance=similarities.get(p.id)) for p in passages]


class LibraryRetriever(BaseRetriever):
    """The LangChain face of LibrarySearch: Documents carrying their Passage in metadata."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    searcher: LibrarySearch
    config: RetrievalSettings = Field(default_factory=RetrievalSettings)
    filters: Filters = NO_FILTERS

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        passages, _ = self.searcher.search(query, self.config, self.filters)
        return [to_document(p) for p in passages]


def to_document(passage: Passage) -> Document:
    return Document(
        page_content=passage.text,
        id=passage.id,
        metadata={
            "source": passage.source,
            "title": passage.title,
            "score": passage.score,
            "passage": passage,
        },
    )
