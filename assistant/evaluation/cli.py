"""`assistant eval`: imports stay inside the functions so `assistant --help` does not load models."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.evaluation import workbench_cli
from assistant.settings import PROJECT_ROOT, Settings

if TYPE_CHECKING:
    from assistant.assistant import Assistant

DEFAULT_QUESTIONS = PROJECT_ROOT / "evals" / "questions.jsonl"
THRESHOLDS = PROJECT_ROOT / "evals" / "thresholds.json"
MARGIN = 0.02  # below the measured value: room for float noise across machines, not for regressions


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "eval",
        help="answer the gold questions and measure retrieval, citations and abstention",
        description="Run every question through the assistant over a store built from corpus/ and "
        "write results.jsonl, summary.json and report.md (with plots).",
    )
    add = parser.add_argument
    add(
        "--questions",
        type=Path,
        default=DEFAULT_QUESTIONS,
        metavar="FILE",
        help="gold questions, JSON Lines (default: evals/questions.jsonl)",
    )
    add("--out", type=Path, metavar="DIR", help="default: <data dir>/eval/<timestamp>")
    add(
        "--compare",
        nargs="*",
        metavar="NAMES",
        help="compare configurations (default all: hybrid dense bm25 hybrid-k3 hybrid-k10 chunks-120 "
        "chunks-256; also dense-kN, chunks-N, model)",
    )
    add("--model", type=Path, metavar="DIR", help="another local sentence-transformers folder, as 'model'")
    add("--beir", type=Path, metavar="DIR", help="evaluate retrieval on a BEIR dataset instead")
    add("--limit", type=int, metavar="N", help="only the first N questions")
    add("--data-dir", type=Path, metavar="DIR", help="store to use (default: the data dir)")
    add(
        "--split",
        choices=["tune", "held-out", "all"],
        help="the half of each question set to run, by a hash of the question id (evals/README.md); "
        "default: all, or held-out with --at-scale",
    )
    add(
        "--at-scale",
        action="store_true",
        help="gold + PubMedQA-dev over a development library (--data-dir, built by `assistant devlib`), "
        "also with each question's evidence documents left out; nothing is ingested",
    )
    add("--plain-data-dir", type=Path, metavar="DIR", help="with --at-scale: the --plain development library")
    add(
        "--save-thresholds",
        action="store_true",
        help="record this run's metrics (minus a margin) as the gate in evals/thresholds.json",
    )
    add("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(func=run)
    workbench_cli.register(parser)  # eval diff | view | feedback | annotate
    register_devlib(sub)


def register_devlib(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "devlib",
        help="build the development library at scale: corpus/ + SciFact + PubMedQA-dev abstracts",
        description="Write SciFact's and PubMedQA-dev's abstracts as files under <data dir>/sources/ "
        "(read from the benchmarks folder, never copied into the repository) and ingest them with "
        "corpus/ into the data dir (evals/README.md, 'The development library').",
    )
    add = parser.add_argument
    add("--data-dir", type=Path, metavar="DIR", help="default: <data dir>/devlib (or devlib-plain)")
    add("--plain", action="store_true", help="PubMedQA abstracts as plain paragraphs, without headings")
    add("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run_devlib)


def run_devlib(args: argparse.Namespace) -> int:
    from assistant.evaluation.devlib import BenchmarkMissing, build

    settings = Settings()
    data_dir = args.data_dir or settings.data_dir / ("devlib-plain" if args.plain else "devlib")
    try:
        settings = settings.model_copy(update={"data_dir": data_dir})
        report = build(settings, plain=args.plain, progress=not args.quiet)
    except BenchmarkMissing as exc:
        return fail(str(exc))
    for result in report.skipped:
        print(f"skipped {result.source}: {result.reason}", file=sys.stderr)
    print(f"development library {data_dir}: {report.summary()}")
    return 0


def run(args: argparse.Namespace) -> int:
    settings = Settings(data_dir=args.data_dir) if args.data_dir else Settings()
    out = args.out or settings.data_dir / "eval" / datetime.now().strftime("%Y%m%d-%H%M%S")
    if args.beir:
        return run_beir(args.beir, out, settings)
    if args.at_scale:
        return run_at_scale(settings, out, args)
    from assistant.evaluation.questions import QuestionFileError, load_questions

    if args.limit is not None and args.limit < 1:
        return fail("--limit must be at least 1")
    if args.model is not None and not args.model.is_dir():
        return fail(f"{args.model}: no such folder (--model needs a local sentence-transformers folder)")
    if args.save_thresholds and (args.limit or args.compare is not None or args.model):
        return fail("--save-thresholds records a full default run: drop --limit, --compare and --model")
    from assistant.evaluation.compare import parse_names
    from assistant.evaluation.splits import in_split

    comparing = args.compare is not None or args.model is not None
    try:  # every input checked before the model loads
        questions = in_split(load_questions(args.questions), args.split or "all")[: args.limit]
        names = parse_names(args.compare, args.model) if args.compare is not None else ["model"]
    except (QuestionFileError, ValueError) as exc:
        return fail(str(exc))
    base = corpus_assistant(settings, progress=not args.quiet)
    if comparing:
        return run_compare(base, questions, names, out, args)
    return run_single(base, questions, out, args)


def fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def corpus_assistant(settings: Settings, *, progress: bool) -> Assistant:
    """The assistant over the settings' store, with corpus/ ingested first (incremental)."""
    from assistant.assistant import Assistant
    from assistant.ingest import ingest
    from assistant.library import Library

    library = Library.open(settings)
    report = ingest(library, [settings.corpus_dir], progress=progress)
    print(f"store {settings.data_dir}: {report.summary()}")
    corpus = {f.source for f in report.files}
    extra = [d.key for d in library.catalog.documents() if d.key not in corpus]
    if extra:
        print(f"note: the store also holds {len(extra)} document(s) from outside corpus/, searched too")
    return Assistant(settings, library)


def run_single(base: Assistant, questions: list, out: Path, args: argparse.Namespace) -> int:
    from assistant.evaluation.report import summary_table, write_run
    from assistant.evaluation.runner import run_eval

    records, summary = run_eval(base, questions, progress=not args.quiet)
    write_run(out, questions, records, summary, "Evaluation")
    print(summary_table(summary))
    for warning in summary["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    if args.save_thresholds:
        save_thresholds(summary, base.settings, args.questions)
        print(f"thresholds recorded in {THRESHOLDS}")
    print(f"\nwritten: {out / 'report.md'}")
    return 0


def run_compare(
    base: Assistant, questions: list, names: list[str], out: Path, args: argparse.Namespace
) -> int:
    from assistant.evaluation.compare import run_compare as compare

    _, table = compare(base, questions, names, out, model_dir=args.model, progress=not args.quiet)
    print(table)
    print(f"\nwritten: {out / 'report.md'} (plot: {out / 'compare.png'})")
    return 0


def run_at_scale(settings: Settings, out: Path, args: argparse.Namespace) -> int:
    from assistant.evaluation.devlib import BenchmarkMissing
    from assistant.evaluation.questions import QuestionFileError
    from assistant.evaluation.scale import (
        NotADevelopmentLibrary,
        goals_table,
        run_at_scale,
        scale_table,
        write_scale,
    )

    if args.compare is not None or args.model or args.limit or args.save_thresholds:
        return fail(
            "--at-scale runs the default configuration: drop --compare, --model, --limit, --save-thresholds"
        )
    for folder in (settings.data_dir, args.plain_data_dir):
        if folder is not None and not (folder / "catalog.sqlite3").is_file():
            return fail(f"{folder}: no library here; build it with `assistant devlib --data-dir {folder}`")
    split = args.split or "held-out"
    try:
        parts = run_at_scale(
            settings, args.questions, plain_dir=args.plain_data_dir, split=split, progress=not args.quiet
        )
    except (BenchmarkMissing, NotADevelopmentLibrary, QuestionFileError) as exc:
        return fail(str(exc))
    header = (
        f"Split: {split}. Library: {settings.data_dir}"
        + (f"; plain paragraphs: {args.plain_data_dir}" if args.plain_data_dir else "")
        + f". Code: {code_version()}. Formulas: evals/README.md."
    )
    write_scale(out, parts, header)
    print(header + "\n\n" + scale_table(parts) + "\n\nAgainst issue 14's goals:\n\n" + goals_table(parts))
    print(f"\nwritten: {out / 'report.md'}")
    return 0


def run_beir(dataset_dir: Path, out: Path, settings: Settings) -> int:
    from assistant.evaluation.beir import BeirFormatError, run_beir
    from assistant.evaluation.report import write_beir

    try:
        result = run_beir(dataset_dir, out, settings)
    except BeirFormatError as exc:
        return fail(str(exc))
    write_beir(out, dataset_dir, result)
    print(result["markdown"])
    print(f"\nwritten: {out / 'report.md'}")
    return 0


def save_thresholds(summary: dict[str, Any], settings: Settings, questions: Path) -> None:
    from assistant.evaluation.report import GATED

    measured = {key: round(summary[key], 4) for key in GATED if summary.get(key) is not None}
    source = (
        f"measured by `assistant eval --save-thresholds` on {datetime.now():%Y-%m-%d} at "
        f"{code_version()} over {questions.name} ({summary['questions']} questions), a store built "
        f"from corpus/ with settings: mode {settings.retrieval.mode}, top_k {settings.retrieval.k}, "
        f"chunk_tokens {settings.chunk_tokens}, min_relevance {settings.min_relevance}; "
        f"threshold = measured - {MARGIN}"
    )
    thresholds = {key: round(max(0.0, value - MARGIN), 4) for key, value in measured.items()}
    record = {"source": source, "margin": MARGIN, "measured": measured, "thresholds": thresholds}
    THRESHOLDS.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def code_version() -> str:
    """The commit measured (`-dirty`: with uncommitted changes), so a threshold can be traced."""
    import subprocess

    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=PROJECT_ROOT, capture_output=True, text=True
        )
    except OSError:
        return "an unknown commit"
    return f"commit {done.stdout.strip()}" if done.returncode == 0 else "an unknown commit"
