"""The corpus as PDFs: which PDF library reads them best, and the gold set on a PDF-only library.

    .venv/bin/python evals/pdf_library.py [--out evals/pdf-library.md] [--limit N]

1. Typesets corpus/ with the test set-up's engines (tests/typeset.py: LaTeX two-column, LibreOffice,
   reportlab) and reads every PDF with pypdf, pypdfium2 and pdfplumber as plain text (the same
   reflow as a .txt file), and with our layout reader (pdfplumber words -> assistant/pdf.py):
   share of the PDF's sentences equal to the Markdown original's, and seconds per page.
2. Builds two stores, the Markdown corpus and the PDF-only corpus (same library.yaml facts), runs
   the gold questions on both and compares hit@5, citation precision and answer-carries-evidence
   (the eval suite's metrics, assistant/evaluation/).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from typeset import quotable_sentences, sentence_match, typeset_corpus  # noqa: E402

from assistant.loading import load_file  # noqa: E402
from assistant.reflow import reflow_text  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from assistant.text import split_sentences  # noqa: E402

CORPUS = ROOT / "corpus"


def plain_pages(engine: str, path: Path) -> list[str]:
    """Each page's text as the library gives it without layout analysis."""
    if engine == "pypdf":
        from pypdf import PdfReader

        return [page.extract_text() or "" for page in PdfReader(path).pages]
    if engine == "pypdfium2":
        import pypdfium2

        document = pypdfium2.PdfDocument(path)
        return [page.get_textpage().get_text_range() for page in document]
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


def extractor_table(pdfs: dict[str, Path]) -> str:
    from typeset import normalized

    rows = [
        "| document (engine) | pypdf | pypdfium2 | pdfplumber | pdfplumber + our layout |",
        "|---|---|---|---|---|",
    ]
    from typeset import ENGINES

    totals: dict[str, list[float]] = {}
    for name, pdf in pdfs.items():
        markdown = quotable_sentences(load_file(CORPUS / name))
        cells = []
        for engine in ("pypdf", "pypdfium2", "pdfplumber", "layout"):
            started = time.perf_counter()
            if engine == "layout":
                got = quotable_sentences(load_file(pdf))
                pages = len(plain_pages("pypdf", pdf))
            else:
                texts = plain_pages(engine, pdf)
                pages = len(texts)
                got = [normalized(s) for s in split_sentences(reflow_text("\n\n".join(texts)))]
            seconds = (time.perf_counter() - started) / pages
            precision, _ = sentence_match(got, markdown)
            totals.setdefault(engine, []).extend([precision, seconds])
            cells.append(f"{precision:.2f} ({seconds * 1000:.0f} ms/page)")
        rows.append(f"| {name} ({ENGINES[name]}) | " + " | ".join(cells) + " |")
    means = []
    for engine in ("pypdf", "pypdfium2", "pdfplumber", "layout"):
        values = totals[engine]
        means.append(
            f"**{sum(values[0::2]) / len(pdfs):.2f}** ({sum(values[1::2]) / len(pdfs) * 1000:.0f} ms/page)"
        )
    rows.append("| mean | " + " | ".join(means) + " |")
    return "\n".join(rows)


def pdf_manifest(pdfs: dict[str, Path], folder: Path) -> None:
    """The corpus's library.yaml facts, keyed by the PDF file names."""
    manifest = yaml.safe_load((CORPUS / "library.yaml").read_text(encoding="utf-8"))
    for entry in manifest["documents"]:
        entry["file"] = pdfs[entry["file"]].name
    (folder / "library.yaml").write_text(yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8")


def run_gold(corpus_dir: Path, data_dir: Path, limit: int | None) -> dict[str, float]:
    from assistant.evaluation.cli import corpus_assistant
    from assistant.evaluation.questions import load_questions
    from assistant.evaluation.runner import run_eval

    questions = load_questions(ROOT / "evals" / "questions.jsonl")[:limit]
    assistant = corpus_assistant(Settings(data_dir=data_dir, corpus_dir=corpus_dir), progress=False)
    records, summary = run_eval(assistant, questions, progress=False)
    starts = mid_sentence_starts(records)
    return {
        "hit@5": summary["hit@5"],
        "citation_precision": summary["citation_precision"],
        "answer_carries_evidence": summary["answer_carries_evidence"],
        "quoted sentences": starts[1],
        "quoted mid-sentence": starts[0],
    }


def mid_sentence_starts(records: list[dict]) -> tuple[int, int]:
    """(quoted sentences that are not a whole sentence of their passage or start in lower case,
    quoted sentences)."""
    from assistant.evaluation.metrics import claims

    bad = total = 0
    for record in records:
        passages = {c["n"]: c["text"] for c in record["citations"]}
        for claim, numbers in claims(record["answer"]):
            for number in numbers[:1]:
                total += 1
                whole = {" ".join(s.split()) for s in split_sentences(passages.get(number, ""))}
                lower = not re.match(r"[\W\d]*[^\W\d_a-z]", claim)
                bad += " ".join(claim.split()) not in whole or lower
    return bad, total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "evals" / "pdf-library.md")
    parser.add_argument("--limit", type=int)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pdf-library-") as scratch:
        folder = Path(scratch) / "pdf-corpus"
        pdfs = typeset_corpus(CORPUS, folder)
        pdf_manifest(pdfs, folder)
        extractors = extractor_table(pdfs)
        print(extractors)
        results = {
            "Markdown corpus": run_gold(CORPUS, Path(scratch) / "md-store", args.limit),
            "PDF-only corpus": run_gold(folder, Path(scratch) / "pdf-store", args.limit),
        }
    report = render(extractors, results)
    args.out.write_text(report, encoding="utf-8")
    print(report)
    return 0


def render(extractors: str, results: dict[str, dict[str, float]]) -> str:
    keys = [
        "hit@5",
        "citation_precision",
        "answer_carries_evidence",
        "quoted mid-sentence",
        "quoted sentences",
    ]
    lines = ["| library | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
    for name, values in results.items():
        lines.append(f"| {name} | " + " | ".join(_cell(values[k]) for k in keys) + " |")
    md, pdf = results["Markdown corpus"], results["PDF-only corpus"]
    lines.append(
        "| difference (PDF − Markdown) | "
        + " | ".join(f"{pdf[k] - md[k]:+.3f}" if isinstance(md[k], float) else "" for k in keys)
        + " |"
    )
    return (
        "# The corpus as PDFs\n\n"
        "Made by `evals/pdf_library.py` (typesetting by tests/typeset.py: LaTeX two-column with\n"
        "hyphenation, LibreOffice DOCX -> PDF, reportlab; each with a running head and page numbers, the\n"
        "LaTeX ones with an affiliation, a copyright line and a reference list).\n\n"
        "## Which PDF library\n\n"
        "Share of each PDF's extracted sentences that equal a sentence of the Markdown original\n"
        "(whitespace-normalized), and the time per page. Plain text goes through the same reflow as a .txt\n"
        "file; the last column is what `assistant ingest` does.\n\n"
        f"{extractors}\n\n"
        "## Gold questions on a PDF-only library\n\n"
        "Metrics as `assistant eval` computes them (evals/README.md). `quoted mid-sentence` (this script):\n"
        "quoted sentences that are not a whole sentence of their passage or start in lower case.\n\n"
        + "\n".join(lines)
        + "\n"
    )


def _cell(value: float | int | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    raise SystemExit(main())
