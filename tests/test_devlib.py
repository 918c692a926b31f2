"""The development library command on a small benchmark folder made here (real ingest, real model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.evaluation.devlib import AbstractSection, BenchmarkMissing, build, read_pubmedqa
from assistant.ingest import Library
from assistant.settings import PROJECT_ROOT, Settings

PUBMEDQA = {
    "1001": {
        "QUESTION": "Does walking reduce knee pain?",
        "CONTEXTS": [
            "Knee pain is common in older adults.",
            "We randomized 120 adults to a walking programme. Pain was scored at 12 weeks.",
            "Pain fell by 30% in the walking group.",
        ],
        "LABELS": ["BACKGROUND", "MATERIALS AND METHODS", "RESULTS"],
        "YEAR": "2012",
        "LONG_ANSWER": "Walking reduces knee pain in older adults.",
    },
    "1002": {
        "QUESTION": "Is tea protective?",
        "CONTEXTS": ["We asked whether tea protects the liver.", "Tea drinkers had fewer liver lesions."],
        "LABELS": ["OBJECTIVE", "MAIN RESULTS"],
        "YEAR": "2009",
        "LONG_ANSWER": "Tea may protect the liver.",
    },
}
SCIFACT = [
    {"_id": "7", "title": "Vitamin D and bone", "text": "Vitamin D supplements raised bone density."},
    {"_id": "9", "title": "", "text": "Statins lowered cholesterol in a cohort of 400 adults."},
]


@pytest.fixture
def benchmarks(tmp_path: Path) -> Path:
    root = tmp_path / "benchmarks"
    (root / "pubmedqa-dev").mkdir(parents=True)
    (root / "scifact").mkdir()
    (root / "pubmedqa-dev" / "pqal_dev.json").write_text(json.dumps(PUBMEDQA), encoding="utf-8")
    rows = "\n".join(json.dumps(row) for row in SCIFACT)
    (root / "scifact" / "corpus.jsonl").write_text(rows + "\n", encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "note.md").write_text("# A note\n\nPartners met every week.\n", encoding="utf-8")
    return root


def settings_for(tmp_path: Path, benchmarks: Path, name: str) -> Settings:
    return Settings(data_dir=tmp_path / name, benchmarks_dir=benchmarks, corpus_dir=tmp_path / "corpus")


def test_sections_become_headings_and_metadata_names_each_source(tmp_path, benchmarks, embedder):
    settings = settings_for(tmp_path, benchmarks, "devlib")
    report = build(settings, plain=False, progress=False, embedder=embedder)
    assert report.count("added") == 5 and not report.skipped, report.summary()
    library = Library.open(settings, embedder)
    by_id = {r.metadata.get("benchmark_id"): r for r in library.catalog.documents()}
    record = by_id["1001"]
    assert record.metadata["benchmark"] == "pubmedqa-dev" and record.year == 2012
    assert record.metadata["sections"] == ["BACKGROUND", "MATERIALS AND METHODS", "RESULTS", "CONCLUSIONS"]
    assert record.title == "PubMed abstract 1001"  # never the question: that would hand retrieval the answer
    passages = library.catalog.passages(library.catalog.chunk_ids(record.key)).values()
    lines = [line for p in passages for line in p.text.splitlines()]
    # Headings travel inside the chunk text, each on its own line before the text under it.
    results, conclusions = lines.index("Results"), lines.index("Conclusions")
    assert lines[results + 1] == "Pain fell by 30% in the walking group."
    assert lines[conclusions + 1] == "Walking reduces knee pain in older adults."
    assert by_id["7"].metadata["benchmark"] == "scifact" and by_id["7"].title == "Vitamin D and bone"
    assert by_id["9"].title == "SciFact abstract 9"  # an empty title gets a neutral one
    # The generated files live in the data dir, never in the repository.
    key = Path(record.key)
    assert key.is_relative_to(settings.data_dir) and not key.is_relative_to(PROJECT_ROOT)
    again = build(settings, plain=False, progress=False, embedder=embedder)
    assert again.count("unchanged") == 5 and again.chunks_written == 0


def test_plain_variant_has_no_headings(tmp_path, benchmarks, embedder):
    settings = settings_for(tmp_path, benchmarks, "plain")
    build(settings, plain=True, progress=False, embedder=embedder)
    library = Library.open(settings, embedder)
    record = next(r for r in library.catalog.documents() if r.metadata.get("benchmark_id") == "1002")
    passages = list(library.catalog.passages(library.catalog.chunk_ids(record.key)).values())
    assert {p.section for p in passages} == {""}
    text = " ".join(p.text for p in passages)
    assert "Tea drinkers had fewer liver lesions." in text and "Tea may protect the liver." in text
    assert record.metadata["sections"] == ["OBJECTIVE", "MAIN RESULTS", "CONCLUSIONS"]


def test_section_roles():
    labels = ["RESULTS", "MAIN RESULTS", "CONCLUSIONS", "BACKGROUND", "METHODS", "OBJECTIVE", "UNLABELLED"]
    roles = [AbstractSection(label, "x").role for label in labels]
    assert roles == ["finding"] * 3 + ["setup"] * 3 + ["unlabelled"]


def test_missing_benchmark_is_named(tmp_path, capsys, monkeypatch):
    with pytest.raises(BenchmarkMissing, match=r"pqal_dev\.json: no such file"):
        read_pubmedqa(tmp_path / "pqal_dev.json")
    monkeypatch.setenv("ASSISTANT_BENCHMARKS_DIR", str(tmp_path / "nowhere"))
    assert main(["devlib", "--data-dir", str(tmp_path / "d"), "--quiet"]) == 2
    assert "nowhere/scifact/corpus.jsonl: no such file" in capsys.readouterr().err
