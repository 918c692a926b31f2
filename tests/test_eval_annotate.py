"""Growing the gold set from the command line: `assistant eval annotate` (a passage no gold question
covers yet -> a question on it) and `assistant eval feedback` (a chat rating -> a gold question),
validated against the real store before anything is appended."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from assistant.cli import main
from assistant.evaluation import Question, load_questions
from assistant.evaluation.annotate import library_passages, next_id, open_sentences, sample_passage
from assistant.ingest import ingest
from assistant.settings import PROJECT_ROOT
from assistant.text import split_sentences
from assistant.types import Passage
from assistant.ui.feedback import FeedbackStore, answer_record

GOLD = PROJECT_ROOT / "evals" / "questions.jsonl"


@pytest.fixture
def gold(tmp_path):
    path = tmp_path / "questions.jsonl"
    shutil.copy(GOLD, path)
    return path


def sampled(capsys, store, gold, *extra: str) -> tuple[str, list[str]]:
    """(passage id, its open sentences) as `eval annotate` prints them."""
    assert main(["eval", "annotate", "--data-dir", str(store), "--questions", str(gold), *extra]) == 0
    out = capsys.readouterr().out
    passage_id = re.search(r"^passage (\w+) ", out, re.MULTILINE).group(1)
    return passage_id, re.findall(r"^  - (.+)$", out, re.MULTILINE)


def annotate(store, gold, passage_id: str, question: str, evidence: str, *extra: str) -> int:
    args = ["eval", "annotate", "--data-dir", str(store), "--questions", str(gold), "--passage", passage_id]
    return main(
        [*args, "--question", question, "--evidence", evidence, "--tags", "annotated, factual", *extra]
    )


def test_annotate_shows_an_open_passage_and_adds_a_validated_question(
    corpus_settings, corpus_library, gold, capsys
):
    store = corpus_settings.data_dir
    passage_id, open_now = sampled(capsys, store, gold)
    passage = corpus_library.catalog.passages([passage_id])[passage_id]
    phrases = [e for q in load_questions(gold) for e in q.evidence]
    assert open_now and open_now == open_sentences(passage, phrases)[0]
    assert all(not any(p.casefold() in s.casefold() for p in phrases) for s in open_now)

    before, new_id = gold.read_bytes(), next_id(load_questions(gold))
    assert annotate(store, gold, passage_id, "What does this passage say first?", open_now[0]) == 0
    added = load_questions(gold)[-1]
    assert gold.read_bytes().startswith(before)  # appended, nothing rewritten
    assert (added.id, added.evidence, added.tags) == (new_id, (open_now[0],), ("annotated", "factual"))
    assert f"added {new_id}" in capsys.readouterr().out
    again = sample_passage(library_passages(corpus_library.catalog), load_questions(gold))
    assert again is None or open_now[0] not in (
        again.open_sentences if again.passage.id == passage_id else []
    )


def test_annotate_refuses_bad_questions_and_writes_nothing(corpus_settings, corpus_library, gold, capsys):
    store = corpus_settings.data_dir
    passage_id, open_now = sampled(capsys, store, gold)
    before = gold.read_bytes()
    cases = [
        (("New question one?", open_now[0], "--id", "q001"), "id 'q001' is already in the file"),
        (("New question two?", "words that are nowhere in it"), f"evidence not in passage {passage_id}"),
        (
            (load_questions(gold)[0].question.upper(), open_now[0]),
            "the same question is already there as 'q001'",
        ),
        (("", open_now[0]), "'question' must be a non-empty string"),
    ]
    for args, message in cases:
        assert annotate(store, gold, passage_id, *args) == 2
        assert message in capsys.readouterr().err
    assert annotate(store, gold, "no-such-passage", "New question three?", open_now[0]) == 2
    assert "passage no-such-passage is not in the store" in capsys.readouterr().err
    assert gold.read_bytes() == before


def test_a_malformed_gold_file_is_named_and_left_alone(corpus_settings, corpus_library, tmp_path, capsys):
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "x1", "question": "q?", "answerable": true, "evidence": ["a"]}\n{oops\n')
    before = broken.read_bytes()
    passage_id = next(iter(corpus_library.catalog.chunk_ids()))
    assert annotate(corpus_settings.data_dir, broken, passage_id, "Anything?", "the") == 2
    assert f"{broken}:2: not valid JSON" in capsys.readouterr().err
    assert broken.read_bytes() == before


def test_annotation_works_on_any_library(make_library, tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "pantry.md").write_text(
        "# Pantry network\n\nThe Zephyr pantry network screens families for housing insecurity. "
        "Volunteers refer families to two partner clinics within one week.\n"
    )
    library = make_library()
    ingest(library, [docs], progress=False)
    gold = tmp_path / "new" / "gold.jsonl"  # no file yet: the first question creates it
    store = library.settings.data_dir
    passage_id, open_now = sampled(capsys, store, gold)
    assert "Volunteers refer families to two partner clinics within one week." in open_now
    assert "Pantry network" not in open_now  # a bare heading is no statement to ask about
    question = "How quickly do pantry volunteers refer families to clinics?"
    assert annotate(store, gold, passage_id, question, "within one week") == 0
    assert [(q.id, q.evidence) for q in load_questions(gold)] == [("q001", ("within one week",))]


def test_a_feedback_record_becomes_a_gold_question(corpus_settings, corpus_assistant, gold, tmp_path, capsys):
    feedback = tmp_path / "feedback.jsonl"
    asked = "How did clinics reach residents through relational organizing?"
    answer = corpus_assistant.ask(asked)
    FeedbackStore(feedback).add(answer_record(answer, {"top_k": 6}), rating="down")
    base = ["eval", "feedback", "--file", str(feedback), "--data-dir", str(corpus_settings.data_dir)]
    assert main([*base, "--questions", str(gold)]) == 0
    assert f"  1  down    {asked}" in capsys.readouterr().out
    assert main([*base, "1", "--questions", str(gold)]) == 0
    shown = capsys.readouterr().out
    second = answer.retrieved[1]
    assert f"[2] {second.title}" in shown and f"id={second.id}" in shown

    sentence = split_sentences(second.text)[-1]
    assert (
        main(
            [
                *base,
                "1",
                "--passage",
                "2",
                "--evidence",
                sentence,
                "--tags",
                "feedback",
                "--questions",
                str(gold),
            ]
        )
        == 0
    )
    added = load_questions(gold)[-1]
    assert (added.question, added.answerable, added.evidence) == (asked, True, (sentence,))

    unanswerable = ["--not-in-library", "--question", "Who funds relational organizing in Ohio?"]
    assert main([*base, "1", *unanswerable, "--tags", "unanswerable", "--questions", str(gold)]) == 0
    last = json.loads(gold.read_text().splitlines()[-1])
    assert (last["answerable"], last["evidence"], last["tags"]) == (False, [], ["unanswerable"])
    assert main([*base, "1", "--passage", "9", "--evidence", sentence, "--questions", str(gold)]) == 2
    assert "--passage must be a rank from 1 to" in capsys.readouterr().err


def test_sampling_skips_unquotable_passages_and_prefers_the_least_covered_document():
    def passage(pid: str, source: str, text: str, **metadata) -> Passage:
        return Passage(id=pid, text=text, source=source, title=source, metadata=metadata)

    passages = [
        passage("refs", "a.md", "Smith J. Partnerships. Health Aff. 2020;39:1-9.", quotable=False),
        passage("a1", "a.md", "Clinics and pantries share one referral form for every family."),
        passage("b1", "b.md", "The coalition meets every month to review its shared goals."),
        passage("b2", "b.md", "Each partner names one staff member as the coalition's contact."),
    ]
    covered_b = [Question("g1", "q", True, ("meets every month",))]
    found = sample_passage(passages, covered_b)
    assert found.passage.id == "a1" and found.document_share_covered == 0.0  # b.md is half covered
    assert sample_passage(passages, covered_b, skip=["a1"]).passage.id == "b2"
    assert sample_passage(passages, covered_b, skip=["a1", "b2"]) is None  # refs never offered
