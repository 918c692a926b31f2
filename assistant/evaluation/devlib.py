"""The development library at scale: corpus/ + SciFact's 5,183 abstracts + PubMedQA-dev's 500.

Measuring on the 22-chunk corpus store says little about a real library of thousands of documents.
The benchmark abstracts are written as files under `<data dir>/sources/` (never into the
repository), with a library.yaml beside them, and ingested by `Library.ingest` like a user's files:
same loading, chunking, manifest and progress bar. Each document's metadata says where it came from
(`benchmark`, `benchmark_id`); a PubMedQA abstract also lists its `sections` in order, the
conclusion (PubMedQA's LONG_ANSWER) last as CONCLUSIONS, so metrics can tell findings from set-up.

Sectioned (default): each PubMedQA abstract is Markdown with its labels as headings. Plain
(`--plain`): the same abstract as paragraphs of plain text without headings, as many documents are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from assistant.settings import Settings
from assistant.types import FileResult, IngestReport

if TYPE_CHECKING:
    from assistant.library import Library
    from assistant.store import Embedder

SCIFACT = "scifact/corpus.jsonl"
PUBMEDQA = "pubmedqa-dev/pqal_dev.json"
CONCLUSIONS = "CONCLUSIONS"
# Labels that report what a study found; every other labelled part (BACKGROUND, OBJECTIVE, METHODS,
# DESIGN, SETTING, PATIENTS, ...) sets the study up. UNLABELLED is neither.
FINDING_LABEL = re.compile(r"RESULT|FINDING|CONCLUSION|DISCUSSION|INTERPRETATION")


class BenchmarkMissing(FileNotFoundError):
    """A benchmark file is not where the settings say; the message names it."""


@dataclass(frozen=True)
class AbstractSection:
    label: str  # as PubMedQA gives it (BACKGROUND, METHODS, RESULTS, ...), CONCLUSIONS for LONG_ANSWER
    text: str

    @property
    def role(self) -> str:
        """finding, setup, or unlabelled."""
        if self.label == "UNLABELLED":
            return "unlabelled"
        return "finding" if FINDING_LABEL.search(self.label) else "setup"


@dataclass(frozen=True)
class PubMedAbstract:
    pmid: str
    question: str
    year: str
    sections: tuple[AbstractSection, ...]

    @property
    def file_name(self) -> str:
        return f"pubmedqa-{self.pmid}"


def read_pubmedqa(path: Path) -> list[PubMedAbstract]:
    """PubMedQA's labelled abstracts, each with its conclusion (LONG_ANSWER) as the last section."""
    if not path.is_file():
        raise BenchmarkMissing(f"{path}: no such file (the PubMedQA-dev benchmark)")
    abstracts = []
    for pmid, entry in json.loads(path.read_text(encoding="utf-8")).items():
        sections = [
            AbstractSection(label.upper(), text.strip())
            for label, text in zip(entry["LABELS"], entry["CONTEXTS"], strict=True)
        ]
        sections.append(AbstractSection(CONCLUSIONS, entry["LONG_ANSWER"].strip()))
        abstracts.append(PubMedAbstract(pmid, entry["QUESTION"], str(entry.get("YEAR", "")), tuple(sections)))
    return abstracts


def read_scifact(path: Path) -> Iterator[dict[str, Any]]:
    if not path.is_file():
        raise BenchmarkMissing(f"{path}: no such file (the SciFact corpus)")
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def pubmed_text(abstract: PubMedAbstract, *, plain: bool) -> str:
    if plain:
        return "\n\n".join(s.text for s in abstract.sections) + "\n"
    return "".join(f"## {s.label.capitalize()}\n\n{s.text}\n\n" for s in abstract.sections)


def pubmed_entry(abstract: PubMedAbstract, file: str) -> dict[str, Any]:
    # A neutral title: PubMedQA's question is the article's title turned around, so using it would
    # hand retrieval the answer.
    return {
        "file": file,
        "title": f"PubMed abstract {abstract.pmid}",
        "type": "peer-reviewed abstract",
        "year": abstract.year or None,
        "benchmark": "pubmedqa-dev",
        "benchmark_id": abstract.pmid,
        "sections": [s.label for s in abstract.sections],
    }


def write_sources(benchmarks: Path, sources: Path, *, plain: bool) -> list[Path]:
    """The benchmark abstracts as files (one folder per benchmark, each with its library.yaml)."""
    scifact_dir, pubmed_dir = sources / "scifact", sources / "pubmedqa-dev"
    entries = []
    for row in read_scifact(benchmarks / SCIFACT):
        file = f"scifact-{row['_id']}.txt"
        _write_if_changed(scifact_dir / file, row["text"].strip() + "\n")
        entries.append(
            {
                "file": file,
                "title": row.get("title") or f"SciFact abstract {row['_id']}",
                "type": "peer-reviewed abstract",
                "benchmark": "scifact",
                "benchmark_id": str(row["_id"]),
            }
        )
    _write_manifest(scifact_dir, entries)
    entries = []
    for abstract in read_pubmedqa(benchmarks / PUBMEDQA):
        file = abstract.file_name + (".txt" if plain else ".md")
        _write_if_changed(pubmed_dir / file, pubmed_text(abstract, plain=plain))
        entries.append(pubmed_entry(abstract, file))
    _write_manifest(pubmed_dir, entries)
    return [scifact_dir, pubmed_dir]


def _write_manifest(folder: Path, entries: list[dict[str, Any]]) -> None:
    """library.yaml for the folder's files; any other file in it (the other variant's) goes."""
    kept = {e["file"] for e in entries} | {"library.yaml"}
    for stale in [p for p in folder.iterdir() if p.name not in kept]:
        stale.unlink()
    entries = [{k: v for k, v in e.items() if v is not None} for e in entries]
    text = yaml.safe_dump({"documents": entries}, allow_unicode=True, sort_keys=False, width=1000)
    _write_if_changed(folder / "library.yaml", text)


def _write_if_changed(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def build(
    settings: Settings, *, plain: bool, progress: bool = True, embedder: Embedder | None = None
) -> IngestReport:
    """Write the sources and ingest corpus/ and them into settings.data_dir (incremental: a rerun
    over an unchanged library embeds nothing)."""
    from assistant.ingest import ingest
    from assistant.library import Library

    folders = write_sources(settings.benchmarks_dir, settings.data_dir / "sources", plain=plain)
    library = Library.open(settings, embedder)
    report = ingest(library, [settings.corpus_dir, *folders], progress=progress)
    report.files.extend(remove_other_variant(library, plain=plain))
    return report


def remove_other_variant(library: Library, *, plain: bool) -> list[FileResult]:
    """Drop the other variant's PubMedQA abstracts (.md sectioned, .txt plain), there when the data
    dir began as a copy of a built library: copying the sectioned one re-embeds only the 500 plain
    abstracts. Files with the same content as a copied document (SciFact's; all of them when the
    copy is of the same variant) are stored once under the copied key, so they stay."""
    other = ".md" if plain else ".txt"
    removed = []
    for record in library.catalog.documents():
        if record.metadata.get("benchmark") == "pubmedqa-dev" and Path(record.key).suffix == other:
            library.remove(record.key)
            removed.append(FileResult(record.key, "removed", record.chunk_count, "the other variant"))
    return removed
