"""Named configurations run on the same questions: retrieval modes, k, chunk sizes, another model.

Names: `hybrid`, `dense`, `bm25`, each optionally `-kN` (N passages retrieved); `chunks-N` (the
corpus ingested into a temporary store at N tokens per chunk); `model` (a temporary store embedded
with the model given by --model). Retrieval variants share the base assistant's model and store.
"""

from __future__ import annotations

import re
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from assistant.evaluation.questions import Question
from assistant.evaluation.report import write_compare, write_run
from assistant.evaluation.runner import run_eval

if TYPE_CHECKING:
    from assistant.assistant import Assistant

DEFAULT_CONFIGS = ("hybrid", "dense", "bm25", "hybrid-k3", "hybrid-k10", "chunks-120", "chunks-256")
RETRIEVAL = re.compile(r"(hybrid|dense|bm25)(?:-k(\d+))?")
CHUNKS = re.compile(r"chunks-(\d+)")


def parse_names(values: list[str] | None, model_dir: Path | None) -> list[str]:
    """`--compare` alone means every default configuration (plus `model` when --model is given)."""
    names = [n for v in values or [] for n in v.split(",") if n.strip()]
    if not names:
        names = [*DEFAULT_CONFIGS, *(["model"] if model_dir else [])]
    for name in names:
        if not (RETRIEVAL.fullmatch(name) or CHUNKS.fullmatch(name) or name == "model"):
            raise ValueError(
                f"unknown configuration '{name}': use hybrid, dense or bm25 (optionally -kN), "
                "chunks-N, or model"
            )
        if name == "model" and model_dir is None:
            raise ValueError("configuration 'model' needs --model DIR (a local sentence-transformers folder)")
    return list(dict.fromkeys(names))


def build(name: str, base: Assistant, stack: ExitStack, model_dir: Path | None = None) -> Assistant:
    if match := RETRIEVAL.fullmatch(name):
        mode, k = match.groups()
        return base.with_retrieval(mode=mode, **({"k": int(k)} if k else {}))
    if match := CHUNKS.fullmatch(name):
        return fresh_store(base, stack, chunk_tokens=int(match.group(1)))
    if name == "model" and model_dir is not None:
        return fresh_store(base, stack, embedding_model=model_dir)
    raise ValueError(f"unknown configuration '{name}'")


def fresh_store(base: Assistant, stack: ExitStack, **changes: Any) -> Assistant:
    """The corpus ingested into a temporary local store with other settings; same retrieval as base."""
    from assistant.assistant import Assistant
    from assistant.ingest import ingest
    from assistant.library import Library
    from assistant.settings import Settings

    tmp = tempfile.TemporaryDirectory(prefix="assistant-eval-", ignore_cleanup_errors=True)
    data_dir = Path(stack.enter_context(tmp))
    # Local store always: in server mode a temporary collection would land on the shared server.
    changed = {"data_dir": data_dir, "chroma_host": None, **changes}
    settings = Settings(**{**base.settings.model_dump(), **changed})
    embedder = None if "embedding_model" in changes else base.library.embedder
    library = Library.open(settings, embedder)
    report = ingest(library, [settings.corpus_dir], progress=False)
    tqdm.write(f"temporary store ({', '.join(f'{k}={v}' for k, v in changes.items())}): {report.summary()}")
    return Assistant(settings, library).with_retrieval(**base.retrieval.model_dump())


def run_compare(
    base: Assistant,
    questions: list[Question],
    names: list[str],
    out_dir: Path,
    *,
    model_dir: Path | None = None,
    progress: bool = True,
) -> tuple[dict[str, dict[str, Any]], str]:
    """Each configuration's full run in out_dir/<name>/, the comparison in out_dir; (summaries, table)."""
    summaries: dict[str, dict[str, Any]] = {}
    for name in names:
        with ExitStack() as stack:  # a temporary store lives only as long as its run
            assistant = build(name, base, stack, model_dir)
            records, summary = run_eval(assistant, questions, progress=progress, label=name)
        write_run(out_dir / name, questions, records, summary, f"Evaluation: {name}")
        summaries[name] = summary
    return summaries, write_compare(out_dir, summaries)
