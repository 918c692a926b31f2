"""The evaluator's workbench in the browser (`assistant eval view RUN [RUN_B]`), apart from the chat.

Results: a run's summary with intervals, its questions filterable by tag, outcome and text, and one
question opened (answer, citations, retrieved passages with the evidence highlighted, the miss
reason), two runs side by side. Gold from feedback and Annotate: write gold questions from a chat
rating or from a passage no gold question covers yet (annotate.py validates and appends).
Only the store's catalog is read: no model, no Chroma.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.catalog import Catalog
from assistant.evaluation import annotate as gold
from assistant.evaluation import viewer_html as html
from assistant.evaluation.diff import Run, load_run
from assistant.settings import Settings
from assistant.text import split_sentences
from assistant.types import Passage
from assistant.ui.rendering import escape

SELECTION_JS = "() => window.getSelection().toString().trim()"  # the text the evaluator selected
# A click on a row of the question table puts its id in a hidden box; the box opens the question.
ROW_CLICK_JS = """
() => {
  document.addEventListener('click', (event) => {
    const row = event.target.closest && event.target.closest('#wb-questions tbody tr[data-id]');
    const box = document.querySelector('#wb-clicked textarea, #wb-clicked input');
    if (!row || !box) return;
    box.value = row.getAttribute('data-id');
    box.dispatchEvent(new Event('input', {bubbles: true}));
  });
}
"""


class Workbench:
    """Handlers bound to the runs shown, the store and the gold question file."""

    def __init__(self, runs: Sequence[Run], settings: Settings, questions_path: Path) -> None:
        self.runs = list(runs)
        self.settings = settings
        self.questions_path = Path(questions_path)
        self.catalog = Catalog(settings.catalog_path) if settings.catalog_path.is_file() else None

    # --- results -------------------------------------------------------------------------------
    def filter(self, tag: str, wanted: str, search: str):
        if not self.runs:
            return "", gr.Dropdown(choices=[], value=None)
        ids = html.filtered_ids(self.runs, tag, wanted, search or "")
        first = self.runs[0]
        choices = [(f"{qid} — {first.questions[qid].question}", qid) for qid in ids]
        return html.table_html(self.runs, ids), gr.Dropdown(choices=choices, value=None)

    def open_question(self, qid: str | None) -> list[str]:
        shown = [html.detail_html(run, qid) if qid else "" for run in self.runs]
        return shown + [""] * (2 - len(shown))

    # --- gold from feedback --------------------------------------------------------------------
    def feedback_choices(self):
        records = gold.feedback_records(self.settings.feedback_path)
        choices = [
            (f"{n}. [{r.get('rating') or 'comment'}] {r['question']}", n)
            for n, r in enumerate(records, start=1)
        ]
        return gr.Dropdown(choices=choices, value=None)

    def open_feedback(self, number: int | None):
        """The record's answer and retrieved passages; the form prefilled with its question."""
        if not number or self.catalog is None:
            return "", gr.Radio(choices=[], value=None), gr.Dropdown(choices=[], value=None), ""
        record = gold.feedback_records(self.settings.feedback_path)[int(number) - 1]
        passages = gold.feedback_passages(record, self.catalog)
        shown = "".join(self._passage_block(p, f"[{rank}]") for rank, p in enumerate(passages, start=1))
        body = (
            f"<p><strong>{escape(record['question'])}</strong> "
            f'<span class="wb-meta">({escape(str(record.get("rating") or "comment"))})</span></p>'
            f"<p>{escape(record.get('answer', ''))}</p>"
            + (shown or "<p>None of its passages is stored now.</p>")
        )
        ranks = [(f"[{rank}] {p.title}", p.id) for rank, p in enumerate(passages, start=1)]
        return (
            body,
            gr.Radio(choices=ranks, value=None),
            gr.Dropdown(choices=[], value=None),
            record["question"],
        )

    def sentences(self, passage_id: str | None):
        passage = self._passage(passage_id)
        choices = split_sentences(passage.text) if passage else []
        return gr.Dropdown(choices=choices, value=None)

    def add_from_feedback(self, passage_id, sentence, phrase, text, tags, not_in_library) -> str:
        if not_in_library:
            return self._add(text, [], tags, None, answerable=False)
        if not passage_id:
            return "Choose the passage that holds the evidence, or tick “not in the library”."
        return self._add(text, [phrase or sentence or ""], tags, passage_id)

    # --- annotate ------------------------------------------------------------------------------
    def sample(self, skip: list[str]):
        """Another passage no gold question covers; returns (html, passage id, skip list, sentences)."""
        if self.catalog is None:
            return (
                f"<p>No library at {escape(str(self.settings.catalog_path))}.</p>",
                None,
                skip,
                gr.Dropdown(),
            )
        existing = gold.existing_questions(self.questions_path)
        found = gold.sample_passage(gold.library_passages(self.catalog), existing, seed=len(skip), skip=skip)
        if found is None:
            return "<p>Gold evidence touches every sentence of the library.</p>", None, skip, gr.Dropdown()
        passage = found.passage
        note = (
            f"{found.document_share_covered:.0%} of this document's sentences covered by gold evidence; "
            f"{found.open_passages_in_document} of its passages have open sentences (listed first below)"
        )
        body = self._passage_block(passage, "") + f'<p class="wb-meta">{escape(note)}</p>'
        rest = [s for s in split_sentences(passage.text) if s not in found.open_sentences]
        choices = [*found.open_sentences, *rest]
        return body, passage.id, [*skip, passage.id], gr.Dropdown(choices=choices, value=None)

    def add_annotation(self, passage_id, sentence, phrase, text, tags) -> str:
        if not passage_id:
            return "Show a passage first."
        return self._add(text, [phrase or sentence or ""], tags, passage_id)

    # --- shared --------------------------------------------------------------------------------
    def _passage(self, passage_id: str | None) -> Passage | None:
        if not passage_id or self.catalog is None:
            return None
        return self.catalog.passages([passage_id]).get(passage_id)

    @staticmethod
    def _passage_block(passage: Passage, label: str) -> str:
        where = f" ({passage.location})" if passage.location else ""
        return (
            f'<div class="wb-passage wb-annotate" data-id="{escape(passage.id)}"><div class="wb-meta">'
            f"{escape(label)} {escape(passage.title)}{escape(where)}</div>"
            f'<div class="wb-text">{escape(passage.text)}</div></div>'
        )

    def _add(self, text: str, evidence: list[str], tags: str, passage_id: str | None, answerable=True) -> str:
        if self.catalog is None:
            return "No library to validate against."
        try:
            existing = gold.existing_questions(self.questions_path)
            question = gold.make_question(
                text or "", evidence, (tags or "").split(","), answerable=answerable, existing=existing
            )
            gold.add_question(self.questions_path, question, self.catalog, passage_id=passage_id)
        except (gold.GoldError, ValueError) as exc:
            return f"Not added: {escape(str(exc))}"
        return (
            f"Added {escape(question.id)} to {escape(str(self.questions_path))}: {escape(question.question)}"
        )


def build_workbench(run_dirs: Sequence[Path], settings: Settings, questions_path: Path) -> gr.Blocks:
    runs = [load_run(path, questions_path) for path in run_dirs]
    bench = Workbench(runs, settings, questions_path)
    with gr.Blocks(title="Evaluation workbench", analytics_enabled=False) as demo:
        gr.Markdown("## Evaluation workbench\n" + " vs ".join(escape(str(p)) for p in run_dirs))
        with gr.Tab("Results"):
            _results_tab(bench, demo)
        with gr.Tab("Gold from feedback"):
            _feedback_tab(bench, demo)
        with gr.Tab("Annotate"):
            _annotate_tab(bench)
    return demo


def _results_tab(bench: Workbench, demo: gr.Blocks) -> None:
    gr.HTML(html.summary_html(bench.runs) if bench.runs else "", elem_id="wb-summary-box")
    with gr.Row():
        tag = gr.Dropdown([html.ALL, *html.tags(bench.runs)], value=html.ALL, label="Tag", elem_id="wb-tag")
        wanted = gr.Dropdown(html.OUTCOME_CHOICES, value=html.ALL, label="Outcome", elem_id="wb-outcome")
        search = gr.Textbox(label="Search", placeholder="id, question or answer text", elem_id="wb-search")
    table = gr.HTML(elem_id="wb-table")
    pick = gr.Dropdown([], label="Open a question (or click its row)", elem_id="wb-open")
    clicked = gr.Textbox(elem_id="wb-clicked", show_label=False, container=False)
    with gr.Row():
        detail_a = gr.HTML(elem_id="wb-detail-a")
        detail_b = gr.HTML(elem_id="wb-detail-b", visible=len(bench.runs) > 1)
    filters = [tag, wanted, search]
    for box in (tag, wanted):
        box.change(bench.filter, filters, [table, pick], api_visibility="private")
    search.submit(bench.filter, filters, [table, pick], api_visibility="private")
    pick.change(bench.open_question, pick, [detail_a, detail_b], api_visibility="private")
    clicked.change(lambda qid: gr.Dropdown(value=qid or None), clicked, pick, api_visibility="private")
    demo.load(bench.filter, filters, [table, pick], api_visibility="private")


def _gold_form(prefix: str) -> tuple[Any, ...]:
    sentence = gr.Dropdown([], label="Evidence sentence", elem_id=f"{prefix}-sentence")
    with gr.Row():
        phrase = gr.Textbox(label="…or a shorter verbatim phrase", scale=6, elem_id=f"{prefix}-phrase")
        use = gr.Button("Use selected text", size="sm", scale=1, elem_id=f"{prefix}-use-selection")
    use.click(None, None, phrase, js=SELECTION_JS)
    text = gr.Textbox(label="Question", elem_id=f"{prefix}-question")
    tags = gr.Textbox(label="Tags (comma-separated)", placeholder="factual, doc:…", elem_id=f"{prefix}-tags")
    return sentence, phrase, text, tags


def _feedback_tab(bench: Workbench, demo: gr.Blocks) -> None:
    gr.Markdown("Turn a chat rating into a gold question: mark the evidence in a retrieved passage.")
    with gr.Row(equal_height=True):
        record = gr.Dropdown([], label="Feedback record", scale=6, elem_id="fb-record")
        reload = gr.Button("Reload feedback", size="sm", scale=1, elem_id="fb-reload")
    shown = gr.HTML(elem_id="fb-shown")
    passage = gr.Radio([], label="Passage holding the evidence", elem_id="fb-passage")
    sentence, phrase, text, tags = _gold_form("fb")
    missing = gr.Checkbox(label="Not in the library (add as unanswerable)", elem_id="fb-missing")
    add = gr.Button("Add to gold questions", variant="primary", elem_id="fb-add")
    status = gr.Markdown(elem_id="fb-status")
    demo.load(bench.feedback_choices, None, record, api_visibility="private")
    reload.click(bench.feedback_choices, None, record, api_visibility="private")
    record.change(bench.open_feedback, record, [shown, passage, sentence, text], api_visibility="private")
    passage.change(bench.sentences, passage, sentence, api_visibility="private")
    add.click(
        bench.add_from_feedback,
        [passage, sentence, phrase, text, tags, missing],
        status,
        api_visibility="private",
    )


def _annotate_tab(bench: Workbench) -> None:
    gr.Markdown("Write a question this passage answers, then mark its evidence.")
    skip = gr.State([])
    passage_id = gr.State(None)
    shown = gr.HTML(elem_id="an-passage")
    another = gr.Button("Show a passage no gold question covers", elem_id="an-next")
    sentence, phrase, text, tags = _gold_form("an")
    add = gr.Button("Add to gold questions", variant="primary", elem_id="an-add")
    status = gr.Markdown(elem_id="an-status")
    another.click(bench.sample, skip, [shown, passage_id, skip, sentence], api_visibility="private")
    add.click(
        bench.add_annotation, [passage_id, sentence, phrase, text, tags], status, api_visibility="private"
    )


def launch_workbench(demo: gr.Blocks, settings: Settings, host: str, port: int | None, **options: Any):
    """Loopback only unless ASSISTANT_AUTH_USER/PASSWORD are set (the chat's rule and auth)."""
    from assistant.ui.app import auth_for

    auth = auth_for(host, settings)
    return demo.queue(default_concurrency_limit=1).launch(
        server_name=host,
        server_port=port,
        auth=auth,
        css=html.CSS,
        js=ROW_CLICK_JS,
        theme=gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]),
        footer_links=[],
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
        **options,
    )
