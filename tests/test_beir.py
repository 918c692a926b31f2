"""run_beir on a slice of SciFact written in BEIR format: sane metrics, and a rerun embeds nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.evaluation.beir import BeirFormatError, load_beir, run_beir
from assistant.settings import Settings
from assistant.store import Embedder

SCIFACT = Path("/work/shared/benchmarks/scifact")
CLAIMS = 25
ABSTRACTS = 80

pytestmark = pytest.mark.skipif(not SCIFACT.is_dir(), reason="SciFact is not on this machine")


def write_slice(folder: Path) -> None:
    """The first CLAIMS test claims, their abstracts, and other abstracts up to ABSTRACTS."""
    full = load_beir(SCIFACT, "test")
    claims = list(full.queries)[:CLAIMS]
    wanted = [d for q in claims for d in full.qrels[q]]
    wanted += [d for d in full.corpus if d not in wanted][: ABSTRACTS - len(set(wanted))]
    (folder / "qrels").mkdir(parents=True)
    with (folder / "corpus.jsonl").open("w", encoding="utf-8") as out:
        for doc_id in dict.fromkeys(wanted):
            title, text = full.corpus[doc_id]
            out.write(json.dumps({"_id": doc_id, "title": title, "text": text}) + "\n")
    with (folder / "queries.jsonl").open("w", encoding="utf-8") as out:
        for q in claims:
            out.write(json.dumps({"_id": q, "text": full.queries[q]}) + "\n")
    rows = [f"{q}\t{d}\t{score}" for q in claims for d, score in full.qrels[q].items()]
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "\n".join(rows) + "\n")


def test_run_beir_scores_a_slice_and_reuses_its_store(tmp_path, embedder: Embedder, monkeypatch):
    dataset = tmp_path / "scifact-slice"
    write_slice(dataset)
    settings = Settings(data_dir=tmp_path / "data")

    first = run_beir(dataset, tmp_path / "out", settings, embedder=embedder)

    assert first["queries"] == CLAIMS and first["documents"] == ABSTRACTS
    assert (settings.data_dir / "beir" / "scifact-slice" / ".complete").is_file()
    assert json.loads((tmp_path / "out" / "beir.json").read_text()) == first
    for name, result in first["results"].items():
        assert 0.5 < result["nDCG@10"] <= 1.0, name  # 80 abstracts: the claims' own should rank high
        assert result["MRR"] >= result["nDCG@10"] - 0.2, name
        assert 0.9 <= result["recall@100"] <= 1.0, name  # fewer documents than the cut-off
        assert f"| {name} | {result['nDCG@10']:.3f} |" in first["markdown"]

    batches: list[int] = []
    encode = embedder.encode
    monkeypatch.setattr(
        embedder, "encode", lambda texts, **kw: batches.append(len(texts)) or encode(texts, **kw)
    )
    monkeypatch.setattr(embedder, "encode_with_spans", lambda *a: pytest.fail("a passage was embedded again"))
    second = run_beir(dataset, tmp_path / "out", settings, embedder=embedder)

    assert set(batches) == {1}, "the rerun embedded passages instead of only the queries"
    assert len(batches) == CLAIMS * len(first["results"])
    assert second["chunks"] == first["chunks"]
    assert {n: r["nDCG@10"] for n, r in second["results"].items()} == pytest.approx(
        {n: r["nDCG@10"] for n, r in first["results"].items()}
    )


def test_load_beir_names_the_file_and_line_of_bad_input(tmp_path):
    write_slice(tmp_path / "bad")
    with (tmp_path / "bad" / "corpus.jsonl").open("a", encoding="utf-8") as out:
        out.write('{"_id": "x", "title": "no text"}\n')
    with pytest.raises(BeirFormatError, match=r"corpus\.jsonl:81: expected an object with '_id' and 'text'"):
        load_beir(tmp_path / "bad")
    with pytest.raises(BeirFormatError, match=r"qrels/train\.tsv: no such file"):
        load_beir(tmp_path / "bad", "train")


def test_load_beir_reads_a_split_s_own_queries_file():
    train = load_beir(SCIFACT, "train")
    assert len(train.queries) == len(train.qrels) == 809
