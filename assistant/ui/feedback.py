"""Feedback on answers, kept locally as JSON lines (one record per rating or comment) for evaluators."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.types import Answer

_LOCK = threading.Lock()  # Gradio handlers run in a thread pool; keep each line whole


def answer_record(answer: Answer, config: dict[str, Any]) -> dict[str, Any]:
    """What an evaluator needs to judge an answer later: question, text, citations, configuration."""
    return {
        "question": answer.question,
        "standalone_question": answer.standalone_question,
        "answer": answer.text,
        "abstained": answer.abstained,
        "mode": answer.mode,
        "citations": [
            {
                "number": c.number,
                "title": c.title,
                "source": c.source,
                "location": c.location,
                "sentence": c.sentence,
                "passage_id": c.passage.id,
                "supported": c.supported,
            }
            for c in answer.citations
        ],
        "retrieved": [p.id for p in answer.retrieved],
        "config": config,
    }


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    def add(self, record: dict[str, Any], *, rating: str | None = None, comment: str = "") -> dict[str, Any]:
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "rating": rating,
            "comment": comment.strip(),
            **record,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(entry, ensure_ascii=False, default=str)
        with _LOCK, self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
        return entry

    def records(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]
