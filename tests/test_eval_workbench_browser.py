"""The evaluator's workbench in a real browser (Playwright + Debian's chromium) over real runs:
open a run, filter to failures, open one and see its evidence highlighted; turn a chat rating into a
gold question; write a question in annotation mode. New questions go to a copy of the gold file."""

from __future__ import annotations

import json
import shutil
from types import SimpleNamespace

import pytest
from playwright.sync_api import Page, expect

from assistant.assistant import Assistant
from assistant.chunking import split_sentences
from assistant.evaluation import load_questions, run_eval
from assistant.evaluation.annotate import next_id
from assistant.evaluation.outcomes import miss_reason, passed
from assistant.evaluation.report import write_run
from assistant.evaluation.viewer import build_workbench, launch_workbench
from assistant.ingest import ingest
from assistant.library import Library
from assistant.settings import PROJECT_ROOT, Settings
from assistant.ui.feedback import FeedbackStore, answer_record

pytestmark = pytest.mark.browser

GOLD = PROJECT_ROOT / "evals" / "questions.jsonl"
SHOTS = PROJECT_ROOT / "artifacts" / "screenshots"
FEEDBACK_QUESTION = "Which partners did the clinics in the relational organizing study work with?"


@pytest.fixture(scope="module")
def bench(tmp_path_factory, embedder):
    """Its own library of the corpus; a weakened run and a default run of the gold questions; one
    thumbs-down from the chat pipeline; the workbench on a free loopback port."""
    root = tmp_path_factory.mktemp("workbench")
    settings = Settings(data_dir=root / "data")
    library = Library.open(settings, embedder)
    ingest(library, [settings.corpus_dir], progress=False)
    bot = Assistant(settings, library)
    questions = load_questions(GOLD)  # all: the test needs a failure whose evidence was retrieved
    runs = {"weak": bot.with_retrieval(mode="dense", k=2), "default": bot}
    for name, assistant in runs.items():
        records, summary = run_eval(assistant, questions, progress=False)
        write_run(root / name, questions, records, summary, name)
    answer = bot.ask(FEEDBACK_QUESTION)
    FeedbackStore(settings.feedback_path).add(answer_record(answer, {"top_k": 6}), rating="down")
    gold = root / "questions.jsonl"
    shutil.copy(GOLD, gold)
    demo = build_workbench([root / "weak", root / "default"], settings, gold)
    _, url, _ = launch_workbench(demo, settings, "127.0.0.1", None, prevent_thread_lock=True, quiet=True)
    yield SimpleNamespace(url=url, root=root, gold=gold, answer=answer, library=library)
    demo.close()


@pytest.fixture
def page(browser, bench):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(bench.url)
    expect(page.locator("#wb-summary")).to_be_visible(timeout=60_000)
    yield page
    context.close()


def choose(page: Page, dropdown: str, option_text: str) -> None:
    page.click(f"{dropdown} input")
    page.locator("ul[role=listbox] li", has_text=option_text).first.click()


def load_records(run) -> dict[str, dict]:
    lines = (run / "results.jsonl").read_text(encoding="utf-8").splitlines()
    return {r["id"]: r for r in map(json.loads, lines)}


def last_gold(bench) -> dict:
    return json.loads(bench.gold.read_text(encoding="utf-8").splitlines()[-1])


def test_open_a_run_filter_to_failures_and_see_the_evidence_highlighted(page, bench):
    summary = page.locator("#wb-summary")
    expect(summary).to_contain_text("retrieval hit@5")
    expect(summary).to_contain_text("weak")
    weak = json.loads((bench.root / "weak" / "summary.json").read_text())
    low, high = weak["intervals"]["hit@5"]
    expect(summary).to_contain_text(f"[{low:.3f}–{high:.3f}]")

    rows = page.locator("#wb-questions tbody tr")
    expect(rows).to_have_count(len(load_records(bench.root / "weak")))
    choose(page, "#wb-outcome", "failures")
    questions = {q.id: q for q in load_questions(bench.gold)}
    runs = {name: load_records(bench.root / name) for name in ("weak", "default")}
    records = runs["weak"]
    failing = {qid for run in runs.values() for qid, r in run.items() if not passed(r, questions[qid])}
    expect(rows).to_have_count(len(failing))  # the filtered table has replaced the full one
    shown = rows.locator("td:first-child").all_inner_texts()
    assert shown and set(shown) == failing  # failing in at least one of the runs shown

    # one whose evidence was retrieved but not cited: its passage shows the phrase highlighted
    qid = next(
        q
        for q in sorted(failing)
        if not passed(records[q], questions[q])
        and "retrieved at rank" in miss_reason(records[q], questions[q])
    )
    page.fill("#wb-search textarea, #wb-search input", qid)
    page.press("#wb-search textarea, #wb-search input", "Enter")
    expect(rows).to_have_count(1)
    rows.first.click()  # opens it, as choosing it under "Open a question" does
    expect(page.locator("#wb-open input")).to_have_value(f"{qid} — {questions[qid].question}")
    detail = page.locator("#wb-detail-a")
    expect(detail).to_contain_text(miss_reason(records[qid], questions[qid]))
    mark = detail.locator(".wb-passage mark").first
    expect(mark).to_be_visible()
    marked = " ".join(mark.inner_text().split()).casefold()
    assert any(" ".join(e.split()).casefold() == marked for e in questions[qid].evidence)
    expect(page.locator("#wb-detail-b")).to_contain_text(f"default · {qid}")  # side by side
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "workbench-results-1280.png", full_page=True)


def test_turn_a_feedback_record_into_a_gold_question(page, bench):
    page.get_by_role("tab", name="Gold from feedback").click()
    choose(page, "#fb-record", FEEDBACK_QUESTION)
    expect(page.locator("#fb-question textarea")).to_have_value(FEEDBACK_QUESTION)
    first = bench.answer.retrieved[0]
    page.locator("#fb-passage label").first.click()
    sentence = next(s for s in split_sentences(first.text) if len(s.split()) > 5)
    choose(page, "#fb-sentence", sentence[:40])
    new_id = next_id(load_questions(bench.gold))
    page.fill("#fb-tags textarea, #fb-tags input", "from-feedback, factual")
    page.click("#fb-add")
    expect(page.locator("#fb-status")).to_contain_text(f"Added {new_id}", timeout=30_000)
    added = last_gold(bench)
    assert added["id"] == new_id and added["question"] == FEEDBACK_QUESTION and added["answerable"]
    assert added["tags"] == ["from-feedback", "factual"] and added["evidence"] == [sentence]

    page.click("#fb-add")  # the same question again is refused, and nothing is written
    expect(page.locator("#fb-status")).to_contain_text(f"already there as '{new_id}'")
    assert last_gold(bench)["id"] == new_id


def test_write_a_question_in_annotation_mode(page, bench):
    page.get_by_role("tab", name="Annotate").click()
    page.click("#an-next")
    text = page.locator("#an-passage .wb-text")
    expect(text).to_be_visible()
    # select the passage's first 24 characters, as a mouse drag would, then take the selection
    selected = page.evaluate(
        """() => {
          const node = document.querySelector('#an-passage .wb-text').firstChild;
          const start = node.textContent.search(/\\S/);
          const range = document.createRange();
          range.setStart(node, start); range.setEnd(node, start + 24);
          const selection = window.getSelection(); selection.removeAllRanges(); selection.addRange(range);
          return selection.toString().trim();
        }"""
    )
    page.click("#an-use-selection")
    expect(page.locator("#an-phrase textarea, #an-phrase input")).to_have_value(selected)
    page.fill("#an-question textarea", "What does this annotation test passage begin by saying?")
    page.fill("#an-tags textarea, #an-tags input", "annotated")
    page.click("#an-add")
    expect(page.locator("#an-status")).to_contain_text("Added", timeout=30_000)
    added = last_gold(bench)
    assert added["question"] == "What does this annotation test passage begin by saying?"
    assert added["evidence"] == [" ".join(selected.split())] and added["tags"] == ["annotated"]
    load_questions(bench.gold)  # the file still parses as a whole
