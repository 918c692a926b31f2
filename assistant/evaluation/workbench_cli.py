"""`assistant eval diff | view | feedback | annotate`: the evaluator's workbench on the command line.

Imports stay inside the functions so `assistant --help` loads neither models nor gradio.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.settings import PROJECT_ROOT, Settings

if TYPE_CHECKING:
    from assistant.catalog import Catalog
    from assistant.types import Passage

DEFAULT_QUESTIONS = PROJECT_ROOT / "evals" / "questions.jsonl"


def register(eval_parser: argparse.ArgumentParser) -> None:
    sub = eval_parser.add_subparsers(dest="eval_command", metavar="SUBCOMMAND", title="evaluator's workbench")
    diff = sub.add_parser(
        "diff", help="compare two runs: metric changes with a paired test, flipped questions"
    )
    diff.add_argument("run_a", type=Path, metavar="RUN_A", help="the earlier run's folder")
    diff.add_argument("run_b", type=Path, metavar="RUN_B", help="the later run's folder")
    diff.add_argument("--out", type=Path, metavar="DIR", help="default: RUN_B/diff-vs-<RUN_A name>")
    diff.add_argument(
        "--fail-on-drop",
        action="append",
        default=[],
        metavar="METRIC=MARGIN",
        help="exit 1 when METRIC fell, with 95%% confidence, by more than MARGIN (repeatable)",
    )
    diff.add_argument("--resamples", type=int, default=1000, metavar="N", help="bootstrap resamples (1000)")
    _questions_option(diff, "questions for runs without their own questions.jsonl")
    diff.set_defaults(func=run_diff)

    view = sub.add_parser(
        "view", help="browse a run (or two side by side) and grow the gold set, in the browser"
    )
    view.add_argument("runs", type=Path, nargs="+", metavar="RUN", help="one or two run folders")
    view.add_argument(
        "--host", default=None, help="default 127.0.0.1; beyond loopback needs ASSISTANT_AUTH_*"
    )
    view.add_argument("--port", type=int, default=None, help="default: the first free port from 7860")
    _questions_option(view, "where new gold questions are appended")
    _store_option(view)
    view.set_defaults(func=run_view)

    feedback = sub.add_parser("feedback", help="list feedback records, or turn one into a gold question")
    feedback.add_argument("number", type=int, nargs="?", metavar="N", help="the record to use (see the list)")
    feedback.add_argument(
        "--passage", type=int, metavar="RANK", help="the retrieved passage holding the evidence"
    )
    feedback.add_argument(
        "--evidence", action="append", default=[], metavar="PHRASE", help="verbatim (repeatable)"
    )
    feedback.add_argument("--not-in-library", action="store_true", help="add it as an unanswerable question")
    feedback.add_argument("--question", metavar="TEXT", help="reworded question (default: the one asked)")
    _gold_options(feedback)
    feedback.add_argument(
        "--file", type=Path, metavar="FILE", help="feedback file (default: data/feedback.jsonl)"
    )
    feedback.set_defaults(func=run_feedback)

    annotate = sub.add_parser(
        "annotate", help="show a passage no gold question covers, or add a question on it"
    )
    annotate.add_argument("--passage", metavar="ID", help="the passage the question is about (its id)")
    annotate.add_argument("--question", metavar="TEXT", help="a question the passage answers")
    annotate.add_argument(
        "--evidence", action="append", default=[], metavar="PHRASE", help="verbatim (repeatable)"
    )
    annotate.add_argument("--skip", action="append", default=[], metavar="ID", help="passages to pass over")
    annotate.add_argument("--seed", type=int, default=0, help="which uncovered passage to sample")
    _gold_options(annotate)
    annotate.set_defaults(func=run_annotate)


def _questions_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--questions",
        type=Path,
        default=DEFAULT_QUESTIONS,
        metavar="FILE",
        help=f"{what} (evals/questions.jsonl)",
    )


def _store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, metavar="DIR", help="the store whose passages are used")


def _gold_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tags", default="", metavar="T,T", help="comma-separated tags")
    parser.add_argument("--id", metavar="ID", help="default: the next qNNN in the file")
    _questions_option(parser, "the file to append to")
    _store_option(parser)


def fail(message: str, code: int = 2) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def settings_for(args: argparse.Namespace) -> Settings:
    return Settings(data_dir=args.data_dir) if getattr(args, "data_dir", None) else Settings()


def open_catalog(settings: Settings) -> Catalog:
    """The store's catalog, read for passages only (no model, no Chroma)."""
    from assistant.catalog import Catalog

    if not settings.catalog_path.is_file():
        raise FileNotFoundError(f"{settings.catalog_path}: no library here (run `assistant ingest` first)")
    return Catalog(settings.catalog_path)


# --- diff --------------------------------------------------------------------------------------
def run_diff(args: argparse.Namespace) -> int:
    from assistant.evaluation.diff import RunError, diff_runs, drops, load_run, parse_drop_rules, write_diff

    if args.resamples < 100:
        return fail("--resamples must be at least 100")
    try:
        rules = parse_drop_rules(args.fail_on_drop)
        a, b = load_run(args.run_a, args.questions), load_run(args.run_b, args.questions)
        result = diff_runs(a, b, resamples=args.resamples)
        broken = drops(result, rules)
    except (RunError, ValueError) as exc:
        return fail(str(exc))
    out = args.out or args.run_b / f"diff-vs-{args.run_a.resolve().name}"
    write_diff(out, result)
    significant = [name for name, row in result["metrics"].items() if row.get("significant")]
    print(
        f"{result['shared_questions']} shared questions; "
        f"significant changes: {', '.join(significant) or 'none'}"
    )
    print(f"newly failing {len(result['newly_failing'])}, newly passing {len(result['newly_passing'])}")
    print(f"written: {out / 'diff.md'}")
    for line in broken:
        print(f"drop: {line}", file=sys.stderr)
    return 1 if broken else 0


# --- view --------------------------------------------------------------------------------------
def run_view(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    host = args.host or settings.host
    if len(args.runs) > 2:
        return fail("view takes one run, or two to show side by side")
    from assistant.evaluation.diff import RunError
    from assistant.ui.app import auth_for

    try:
        auth_for(host, settings)  # refused before anything loads: loopback only unless auth is set
        from assistant.evaluation.viewer import build_workbench, launch_workbench

        launch_workbench(build_workbench(args.runs, settings, args.questions), settings, host, args.port)
    except (RunError, ValueError) as exc:
        return fail(str(exc))
    return 0


# --- gold questions ----------------------------------------------------------------------------
def run_feedback(args: argparse.Namespace) -> int:
    from assistant.evaluation import annotate as gold

    settings = settings_for(args)
    path = args.file or settings.feedback_path
    try:
        records = gold.feedback_records(path)
        if args.number is None:
            return list_feedback(records, path)
        if not 1 <= args.number <= len(records):
            return fail(f"{path}: no record {args.number} (there are {len(records)})")
        record, catalog = records[args.number - 1], open_catalog(settings)
        passages = gold.feedback_passages(record, catalog)
        if not (args.not_in_library or args.evidence):
            return show_passages(record, passages)
        return add_from_feedback(args, record, passages, catalog)
    except (gold.GoldError, FileNotFoundError) as exc:
        return fail(str(exc))


def list_feedback(records: list[dict], path: Path) -> int:
    if not records:
        print(f"{path}: no feedback yet (rate answers in the chat UI)")
    for number, record in enumerate(records, start=1):
        what = record.get("rating") or ("comment" if record.get("comment") else "-")
        print(f"{number:>3}  {what:<7} {record['question']}")
    return 0


def show_passages(record: dict, passages: list[Passage]) -> int:
    print(f"question: {record['question']}\nanswer: {record.get('answer', '')}\n")
    if not passages:
        print("none of its retrieved passages is in the store now")
    for rank, passage in enumerate(passages, start=1):
        print(
            f"[{rank}] {passage.title} ({passage.location or passage.source}) id={passage.id}\n"
            f"{passage.text}\n"
        )
    print("Add it with --passage RANK --evidence 'verbatim phrase' --tags ..., or --not-in-library.")
    return 0


def add_from_feedback(
    args: argparse.Namespace, record: dict, passages: list[Passage], catalog: Catalog
) -> int:

    passage_id = None
    if not args.not_in_library:
        if args.passage is None or not 1 <= args.passage <= len(passages):
            return fail(
                f"--passage must be a rank from 1 to {len(passages)} (run without --evidence to see them)"
            )
        passage_id = passages[args.passage - 1].id
    return add(args, args.question or record["question"], not args.not_in_library, passage_id, catalog)


def add(
    args: argparse.Namespace, text: str, answerable: bool, passage_id: str | None, catalog: Catalog
) -> int:
    from assistant.evaluation import annotate as gold

    try:
        existing = gold.existing_questions(args.questions)
        question = gold.make_question(
            text, args.evidence, args.tags.split(","), answerable=answerable, qid=args.id, existing=existing
        )
        gold.add_question(args.questions, question, catalog, passage_id=passage_id)
    except (gold.GoldError, ValueError) as exc:
        return fail(f"{args.questions}: nothing added: {exc}")
    print(f"added {question.id} to {args.questions}: {question.question}")
    return 0


def run_annotate(args: argparse.Namespace) -> int:
    from assistant.evaluation import annotate as gold

    try:
        catalog = open_catalog(settings_for(args))
        if args.question is not None:
            if not (args.passage and args.evidence):
                return fail("a question needs --passage ID and at least one --evidence phrase")
            return add(args, args.question, True, args.passage, catalog)
        existing = gold.existing_questions(args.questions)
        found = gold.sample_passage(gold.library_passages(catalog), existing, seed=args.seed, skip=args.skip)
    except (gold.GoldError, FileNotFoundError) as exc:
        return fail(str(exc))
    if found is None:
        print("every sentence of the library is touched by some gold evidence phrase")
        return 0
    passage = found.passage
    print(
        f"passage {passage.id} — {passage.title} ({passage.location or passage.source}); "
        f"{found.document_share_covered:.0%} of this document's sentences covered, "
        f"{found.open_passages_in_document} of its passages with open sentences\n"
    )
    print(passage.text)
    print("\nSentences no gold question covers yet:")
    for sentence in found.open_sentences:
        print(f"  - {sentence}")
    print(
        f"\nAdd: assistant eval annotate --passage {passage.id} --question '...' --evidence '...' --tags ..."
    )
    return 0
