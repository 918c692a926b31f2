"""Command line: thin over Assistant and Library. `assistant --help` lists the commands."""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import assistant  # noqa: F401  (sets the offline environment first)
from assistant.settings import PROJECT_ROOT, Settings
from assistant.store import StoreUnavailable

if TYPE_CHECKING:
    from assistant.types import Answer, Passage

BENCHMARKS = PROJECT_ROOT / "benchmarks"  # the checkout's benchmark scripts, beside the package


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="Partnership Assistant: cited answers from the partnership literature library.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = sub.add_parser("ingest", help="add files or folders to the library (default: corpus/)")
    ingest.add_argument("paths", nargs="*", type=Path, help="files or folders (.txt .md .pdf .docx .html)")
    ingest.add_argument("--prune", action="store_true", help="drop documents whose file is gone")
    ingest.add_argument("--strict", action="store_true", help="exit non-zero if any file is skipped")
    ingest.add_argument("--quiet", action="store_true", help="no progress bar")
    ingest.set_defaults(func=run_ingest)

    ask = sub.add_parser("ask", help="answer one question with numbered sources")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the whole Answer as JSON")
    ask.add_argument("--mode", choices=["extractive", "llm"], help="answer mode (default from settings)")
    ask.set_defaults(func=run_ask)

    chat = sub.add_parser("chat", help="a conversation in the terminal (follow-ups keep context)")
    chat.add_argument("--mode", choices=["extractive", "llm"])
    chat.set_defaults(func=run_chat)

    documents = sub.add_parser("documents", help="list the documents in the library")
    documents.set_defaults(func=run_documents)

    sync = sub.add_parser(
        "sync", help="rebuild this instance's catalog from the shared Chroma server (scale-out)"
    )
    sync.set_defaults(func=run_sync)

    for module in ("assistant.evaluation.cli", "assistant.ui.command"):
        try:
            __import__(module, fromlist=["register"]).register(sub)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    register_bench(sub)

    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except StoreUnavailable as exc:  # server down, disk full: one clear line, not a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2


def run_ingest(args: argparse.Namespace) -> int:
    from assistant.ingest import ingest
    from assistant.library import Library

    settings = Settings()
    paths = args.paths or [settings.corpus_dir]
    report = ingest(Library.open(settings), paths, prune=args.prune, progress=not args.quiet)
    for result in report.skipped:
        print(f"skipped {result.source}: {result.reason}", file=sys.stderr)
    print(report.summary())
    return 1 if args.strict and report.skipped else 0


def run_ask(args: argparse.Namespace) -> int:
    from assistant.assistant import Assistant

    answer = Assistant().ask(args.question, mode=args.mode)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        print(render_answer(answer))
    return 0


def run_chat(args: argparse.Namespace) -> int:
    from assistant.assistant import Assistant
    from assistant.followups import Message

    bot = Assistant()
    history: list[Message] = []
    print("Ask about partnerships between health care, public health and community organizations.")
    print("Empty line or Ctrl-D to quit.\n")
    while True:
        try:
            question = input("you> ").strip()
        except EOFError:
            return 0
        if not question:
            return 0
        answer = bot.ask(question, history, mode=args.mode)
        print(render_answer(answer) + "\n")
        history += [
            {"role": "user", "content": question},
            {
                "role": "assistant",
                "content": answer.text,
                "abstained": answer.abstained,
                "standalone_question": answer.standalone_question,
            },
        ]


def run_documents(args: argparse.Namespace) -> int:
    from assistant.catalog import Catalog

    for record in Catalog(Settings().catalog_path).documents():
        year = record.year or "n.d."
        kind = record.type or "document"
        ocr = "; OCR" if record.metadata.get("ocr_pages") else ""  # text read from scanned pages
        print(f"{record.title} ({year}; {kind}; {record.chunk_count} chunks{ocr}) — {record.key}")
    return 0


def run_sync(args: argparse.Namespace) -> int:
    from assistant.library import Library
    from assistant.sync import sync

    print(sync(Library.open(Settings())).summary())
    return 0


def benchmark_script(name: str) -> ModuleType | None:
    """benchmarks/NAME.py of the checkout as module benchmarks_NAME, or None when it is not there
    (an install without the checkout). Loaded by its path: pysbd installs a top-level package named
    `benchmarks`, so `import benchmarks.NAME` would look in that one."""
    path = BENCHMARKS / f"{name}.py"
    module_name = f"benchmarks_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec and spec.loader
    module = sys.modules[module_name] = importlib.util.module_from_spec(spec)  # dataclasses look it up
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def register_bench(sub: argparse._SubParsersAction) -> None:
    """`assistant bench` forwards to benchmarks/bench.py (the speed benchmark is not part of the
    product package); without it, the command says where it is to be found."""
    script = benchmark_script("bench")
    if script is not None:
        script.add_arguments(sub.add_parser("bench", help=script.HELP))
        return
    # Options are taken as plain words ("+" prefixes none of them), so any of them reach the message.
    bench = sub.add_parser("bench", help="speed benchmark (benchmarks/bench.py)", prefix_chars="+")
    bench.add_argument("options", nargs="*")
    bench.set_defaults(func=no_bench)


def no_bench(args: argparse.Namespace) -> int:
    print(
        f"error: the speed benchmark is not here ({BENCHMARKS / 'bench.py'}): it lives in a checkout of the"
        " repository, beside the package (benchmarks/bench.py); run `assistant bench` from there",
        file=sys.stderr,
    )
    return 2


def render_answer(answer: Answer) -> str:
    """An answer for the terminal: its text, coverage and notes, then its sources (or, when it
    abstains, the nearest passages), each with the same reference line as the chat UI."""
    from assistant.ui.rendering import cited_sources, coverage, reference  # no gradio: plain formatting

    lines = [answer.text, ""]
    _, label, _ = coverage(answer)
    if answer.coverage == "partial" and not answer.abstained:
        lines.append(f"coverage: {label}")
    lines += [f"note: {note}" for note in answer.notes]
    if answer.abstained:
        lines.append("Nearest passages:")
        for passage in answer.retrieved[:3]:
            lines += [f"  - {reference(passage)}", f"      {snippet(passage)}"]
        return "\n".join(lines)
    lines.append("Sources:")
    for source in cited_sources(answer.citations):
        flag = "" if source.supported else " (not supported by this passage)"
        lines.append(f"  [{source.number}] {reference(source.passage, source.location)}{flag}")
        lines += [f"      “{sentence}”" for sentence in source.sentences]
    return "\n".join(lines)


def snippet(passage: Passage, length: int = 200) -> str:
    """The passage's opening text on one line, without the heading it starts with, cut at a word."""
    text = " ".join(passage.text.split())
    heading = " ".join(passage.section.split())
    if heading and text.startswith(heading + " "):
        text = text[len(heading) + 1 :]
    return text if len(text) <= length else text[:length].rsplit(" ", 1)[0] + " …"


if __name__ == "__main__":
    sys.exit(main())
