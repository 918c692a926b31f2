"""Retrieval on real stores: fusion math, diversification, filters, and the BM25 index's upkeep."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from assistant.ingest import ingest
from assistant.library import Library
from assistant.retrieval import LibrarySearch, convex, diversify, in_the_questions_script_first, rrf
from assistant.settings import RetrievalSettings
from assistant.types import Filters, Passage

DOCUMENTS = {
    "orchards.md": ("report", 2019, "Apple orchards in the valley rely on migrant pickers each autumn."),
    "clinics.md": (
        "peer-reviewed article",
        2021,
        "Community clinics refer patients to food banks for apples.",
    ),
    "housing.md": ("report", 2021, "Housing navigators help families find stable homes near clinics."),
}


def write_library_files(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for name, (kind, year, text) in DOCUMENTS.items():
        (folder / name).write_text(f"# {name[:-3].title()}\n\n{text}\n", encoding="utf-8")
        entries.append(
            f"  - file: {name}\n    title: {name[:-3].title()}\n    type: {kind}\n    year: {year}\n"
        )
    (folder / "library.yaml").write_text("documents:\n" + "".join(entries), encoding="utf-8")


@pytest.fixture
def small_library(tmp_path: Path, make_library) -> tuple[Library, Path]:
    folder = tmp_path / "docs"
    write_library_files(folder)
    library = make_library()
    ingest(library, [folder], progress=False)
    return library, folder


def passage(source: str, number: int) -> Passage:
    return Passage(id=f"{source}-{number}", text="", source=source, title=source)


def test_rrf_sums_weighted_reciprocal_ranks():
    fused = rrf([(["a", "b"], 1.0), (["b", "c"], 2.0)], k=10)
    assert fused["a"] == pytest.approx(1 / 11)
    assert fused["b"] == pytest.approx(1 / 12 + 2 / 11)
    assert fused["c"] == pytest.approx(2 / 12)
    assert max(fused, key=fused.__getitem__) == "b"


def test_convex_weights_scores_divided_by_each_lists_best():
    fused = convex([({"a": 0.8, "b": 0.4}, 0.6), ({"b": 10.0, "c": 5.0}, 0.4)])
    assert fused == pytest.approx({"a": 0.6, "b": 0.6 * 0.5 + 0.4, "c": 0.4 * 0.5})
    deeper = convex([({"a": 0.8, "b": 0.4, "z": 0.1}, 0.6), ({"b": 10.0, "c": 5.0, "y": 0.5}, 0.4)])
    assert {i: deeper[i] for i in fused} == pytest.approx(fused)  # a deeper tail changes no score


def test_convex_keeps_non_positive_lists_in_order():
    fused = convex([({"a": -0.1, "b": -0.3}, 1.0), ({}, 1.0)])
    assert fused["a"] > fused["b"]


def test_diversify_caps_passages_per_document_then_fills():
    ranked = [passage("x", 1), passage("x", 2), passage("x", 3), passage("y", 1)]
    assert [p.id for p in diversify(ranked, 3, 1)] == ["x-1", "y-1", "x-2"]
    assert [p.id for p in diversify(ranked, 2, 2)] == ["x-1", "x-2"]
    assert [p.id for p in diversify(ranked, 4, 1)] == ["x-1", "y-1", "x-2", "x-3"]


def test_a_documents_passages_in_the_questions_script_take_its_places_first():
    english = Passage("a-en", "We interviewed 34 leaders from 25 organizations.", "a", "A")
    chinese = Passage("a-zh", "我们对来自 25 个组织的 34 名领导人进行了访谈。", "a", "A")
    other = Passage("b-en", "Clinics refer patients to food banks.", "b", "B")
    ranked = [chinese, other, english]
    # the translation held the document's best place; the English passage takes it, the other
    # document keeps its own place
    asked = in_the_questions_script_first(ranked, "How many organizations took part?")
    assert [p.id for p in asked] == ["a-en", "b-en", "a-zh"]
    in_chinese = in_the_questions_script_first(ranked, "有多少个组织参与?")
    assert [p.id for p in in_chinese] == ["a-zh", "b-en", "a-en"]
    # with the rest ranked as before, a cap of one passage per document keeps the question's language
    assert [p.id for p in diversify(asked, 2, 1)] == ["a-en", "b-en"]


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(types=("report",)), {"orchards.md", "housing.md"}),
        (Filters(years=(2021,)), {"clinics.md", "housing.md"}),
        (Filters(sources=("clinics.md",)), {"clinics.md"}),
        (Filters(types=("report",), years=(2021,)), {"housing.md"}),
        (Filters(exclude_documents=("clinics.md",)), {"orchards.md", "housing.md"}),
        (Filters(types=("report",), exclude_documents=("orchards.md",)), {"housing.md"}),
    ],
)
def test_filters_limit_every_retrieval_path(small_library, mode, filters, expected):
    library, _ = small_library
    sources = {r.key: r.name for r in library.catalog.documents()}
    keyed = Filters(
        sources=tuple(k for k, name in sources.items() if name in filters.sources),
        types=filters.types,
        years=filters.years,
        exclude_documents=tuple(k for k, name in sources.items() if name in filters.exclude_documents),
    )
    passages, _ = LibrarySearch(library).search(
        "apples clinics homes", RetrievalSettings(mode=mode, k=5), keyed
    )
    assert passages
    assert {sources[p.source] for p in passages} <= expected


def fts_rows(library: Library) -> int:
    return int(library.catalog.db.execute("SELECT count(*) FROM chunks_fts").fetchone()[0])


def test_bm25_index_follows_ingest_update_and_remove(small_library):
    library, folder = small_library
    catalog = library.catalog
    assert fts_rows(library) == catalog.chunk_count()
    assert [s for s, _ in catalog.bm25("orchards pickers", 5)]

    (folder / "orchards.md").write_text(
        "# Orchards\n\nQuince growers hire seasonal crews.\n", encoding="utf-8"
    )
    ingest(library, [folder], progress=False)
    assert catalog.bm25("pickers", 5) == []
    (hit,) = catalog.passages([i for i, _ in catalog.bm25("quince", 5)]).values()
    assert hit.source.endswith("orchards.md")
    assert fts_rows(library) == catalog.chunk_count()

    assert library.remove(hit.source)
    assert catalog.bm25("quince", 5) == []
    assert fts_rows(library) == catalog.chunk_count()


def test_search_reads_the_index_without_rebuilding_it(small_library):
    library, _ = small_library
    search = LibrarySearch(library)
    db = library.catalog.db
    before = db.total_changes
    for mode in ("bm25", "hybrid"):
        search.search("migrant pickers", RetrievalSettings(mode=mode))
    assert db.total_changes == before  # no write: the FTS5 index is kept in step by ingest alone


def test_hybrid_scores_every_candidate_on_both_lists(small_library):
    library, _ = small_library
    question = "seasonal farm labour near clinics"
    search = LibrarySearch(library)
    config = RetrievalSettings(candidates=1, k=3)
    (dense_top, cosine), *_ = library.vectors.query(library.embedder.encode([question])[0], 1)
    (bm25_top, best_bm25), *_ = library.catalog.bm25(question, 1)
    assert dense_top != bm25_top  # so each passage lacks one list's score until it is completed
    passages, query_vector = search.search(question, config)
    assert {p.id for p in passages} == {dense_top, bm25_top}
    for p in passages:
        bm25 = dict(library.catalog.bm25(question, 10_000)).get(p.id, 0.0)
        expected = config.dense_weight * p.relevance / cosine + config.bm25_weight * bm25 / best_bm25
        assert p.score == pytest.approx(expected, rel=1e-4)
        assert p.relevance == pytest.approx(float(library.vectors.embeddings([p.id])[p.id] @ query_vector))


def test_concurrent_searches_get_the_same_results_as_one_at_a_time(small_library):
    library, _ = small_library
    search = LibrarySearch(library)
    questions = ["migrant pickers", "seasonal farm labour near clinics", "apples", "food bank referrals"] * 4
    config = RetrievalSettings()

    def ranked(question: str) -> list[tuple[str, float]]:
        return [(p.id, round(p.score, 6)) for p in search.search(question, config)[0]]

    alone = [ranked(q) for q in questions]
    with ThreadPoolExecutor(max_workers=8) as pool:  # as Gradio's worker threads would call it
        together = list(pool.map(ranked, questions))
    assert together == alone
