"""The development library command on a small benchmark folder made here (real ingest, real model)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.evaluation.devlib import AbstractSection, BenchmarkMissing, build, read_pubmedqa
from assistant.evaluation.scale import Part, goals_table
from assistant.library import Library
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
    assert "\nResults\n" not in text
    assert record.metadata["sections"] == ["OBJECTIVE", "MAIN RESULTS", "CONCLUSIONS"]


def test_plain_variant_from_a_copy_of_the_sectioned_library_embeds_only_the_abstracts(
    tmp_path, benchmarks, embedder
):
    sectioned = settings_for(tmp_path, benchmarks, "devlib")
    build(sectioned, plain=False, progress=False, embedder=embedder)
    shutil.copytree(sectioned.data_dir, tmp_path / "plain")
    plain = settings_for(tmp_path, benchmarks, "plain")
    report = build(plain, plain=True, progress=False, embedder=embedder)
    assert report.count("added") == 2 and report.count("removed") == 2  # the two abstracts, swapped
    assert report.count("duplicate") == 2  # SciFact's files: same content as the copied documents
    assert not list((plain.data_dir / "sources").rglob("*.md"))
    library = Library.open(plain, embedder)
    pubmed = [r.key for r in library.catalog.documents() if r.metadata.get("benchmark") == "pubmedqa-dev"]
    assert sorted(Path(k).name for k in pubmed) == ["pubmedqa-1001.txt", "pubmedqa-1002.txt"]
    assert library.catalog.chunk_count() == len(library.vectors.all_ids())


def test_a_copy_of_the_same_variant_keeps_every_abstract(tmp_path, benchmarks, embedder):
    """Rebuilding on a copy of the same variant stores each file once under the copied key and
    removes nothing (it once removed every PubMedQA abstract as "the other variant")."""
    sectioned = settings_for(tmp_path, benchmarks, "devlib")
    build(sectioned, plain=False, progress=False, embedder=embedder)
    shutil.copytree(sectioned.data_dir, tmp_path / "copy")
    report = build(settings_for(tmp_path, benchmarks, "copy"), plain=False, progress=False, embedder=embedder)
    assert report.count("removed") == 0 and report.count("added") == 0
    library = Library.open(settings_for(tmp_path, benchmarks, "copy"), embedder)
    pubmed = [r for r in library.catalog.documents() if r.metadata.get("benchmark") == "pubmedqa-dev"]
    assert len(pubmed) == 2


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


def test_eval_at_scale_runs_every_part_and_never_retrieves_what_it_left_out(
    tmp_path, benchmarks, embedder, monkeypatch
):
    for name, plain in (("devlib", False), ("plain", True)):
        build(settings_for(tmp_path, benchmarks, name), plain=plain, progress=False, embedder=embedder)
    gold = tmp_path / "gold.jsonl"
    rows = [
        {
            "id": "g1",
            "question": "How often did the partners meet?",
            "answerable": True,
            "evidence": ["Partners met every week"],
        },
        {"id": "g2", "question": "What is the capital of Australia?", "answerable": False},
    ]
    gold.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    monkeypatch.setenv("ASSISTANT_BENCHMARKS_DIR", str(benchmarks))
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(tmp_path / "corpus"))
    out = tmp_path / "out"
    args = [
        "eval",
        "--at-scale",
        "--data-dir",
        str(tmp_path / "devlib"),
        "--plain-data-dir",
        str(tmp_path / "plain"),
        "--split",
        "all",
        "--questions",
        str(gold),
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary) == [
        "gold",
        "gold, evidence left out",
        "pubmedqa-dev",
        "pubmedqa-dev, evidence left out",
        "pubmedqa-dev, plain paragraphs",
    ]
    assert summary["pubmedqa-dev"]["document_hit@5"] == 1.0  # two abstracts: each is found
    assert summary["gold, evidence left out"]["left_out_questions"] == 1
    for part in ("gold-evidence-left-out", "pubmedqa-dev-evidence-left-out"):
        for line in (out / part / "results.jsonl").read_text().splitlines():
            record = json.loads(line)
            assert record["left_out"]
            assert not {p["source"] for p in record["retrieved"]} & set(record["left_out"])
    report = (out / "report.md").read_text()
    assert "| pubmedqa-dev, plain paragraphs |" in report
    # the goals section reads each goal's value and interval from the same summary
    left_out = summary["gold, evidence left out"]
    low, high = left_out["intervals"]["leave_out_abstention"]
    assert low <= left_out["leave_out_abstention"] <= high
    assert "## Against issue 14's goals" in report
    assert "| gold, evidence left out | abstains, evidence left out |" in report


def test_goals_table_says_which_goal_is_met_with_its_interval():
    summaries = {
        "gold": {
            "answer_carries_evidence": 0.84,
            "hit@5": 0.97,
            "intervals": {"answer_carries_evidence": [0.75, 0.92]},
        },
        "pubmedqa-dev": {"setup_share": 0.10, "finding_rate": None},
    }
    table = goals_table([Part(name, [], [], summary) for name, summary in summaries.items()])
    rows = {tuple(cell.strip() for cell in line.split("|")[1:3]): line for line in table.splitlines()[2:]}
    assert rows[("gold", "answer carries evidence")].endswith("| 0.840 | 0.750–0.920 | ≥ 0.850 | not met |")
    assert rows[("gold", "hit@5")].endswith("| 0.970 | – | ≥ 0.950 | met |")
    assert rows[("pubmedqa-dev", "set-up share of quoted sentences")].endswith("| ≤ 0.100 | met |")
    assert rows[("pubmedqa-dev", "quotes a finding of its own abstract")].endswith("| – | ≥ 0.900 | – |")
    assert not any(part.startswith("pubmedqa-dev, plain") for part, _ in rows)  # a part not run: no row


def test_eval_at_scale_refuses_a_folder_without_a_library(tmp_path, capsys):
    assert main(["eval", "--at-scale", "--data-dir", str(tmp_path / "empty"), "--quiet"]) == 2
    assert "no library here; build it with `assistant devlib" in capsys.readouterr().err
