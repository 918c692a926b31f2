"""The coverage label on each answer is the answerer's own decision, on every gold question."""

from __future__ import annotations

import json

from assistant.settings import PROJECT_ROOT
from assistant.ui import rendering

GOLD = PROJECT_ROOT / "evals" / "questions.jsonl"


def test_coverage_label_agrees_with_the_abstention_decision_on_the_gold_set(corpus_assistant):
    questions = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    kinds = set()
    for question in questions:
        answer = corpus_assistant.ask(question["question"])
        kind, label, tip = rendering.coverage(answer)
        kinds.add(kind)
        assert (kind == "not_covered") == answer.abstained, question["id"]
        assert (label == "Not covered") == answer.abstained and tip
        if not answer.abstained:
            assert kind == getattr(answer, "coverage", "answered"), question["id"]
            assert label.startswith("Answered") or label.startswith("Partly covered")
        data = answer.to_dict()
        assert data["abstained"] == answer.abstained
        if hasattr(answer, "coverage"):  # the same decision in /ask's and `ask --json`'s JSON
            assert data["coverage"] == ("not_covered" if answer.abstained else kind)
    assert {"answered", "not_covered"} <= kinds  # the gold set has both
