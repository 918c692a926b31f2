"""The Gradio chat UI: a thin layer over one Assistant (chat, library, settings, feedback).

`assistant serve` starts it. Gradio's own pieces do the work where they fit (Chatbot streaming,
copy and like buttons, Progress, DownloadButton, auth); rendering.py turns answers into inert HTML.
"""

from __future__ import annotations

import ipaddress
import logging
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import gradio as gr  # the package's __init__ (offline environment) has run before this module

from assistant.assistant import Assistant
from assistant.followups import Message
from assistant.settings import Settings
from assistant.types import Answer, Filters
from assistant.ui import rendering
from assistant.ui.feedback import FeedbackStore, answer_record
from assistant.ui.uploads import UPLOAD_SUFFIXES, store_upload

log = logging.getLogger(__name__)

EXAMPLES = [
    "Why does a backbone organization need stable funding?",
    "What do health care organizations learn when they partner with community organizations?",
    "What motivates health and social sector organizations to collaborate?",
    "How did relational organizing help COVID-19 collaborations?",
]

# Citation links open their source; the copy button copies the answer as plain text, not our HTML.
JS = """
() => {
  const plain = (raw) => {
    if (typeof raw !== 'string' || !raw.includes('pa-turn')) return raw;
    const doc = new DOMParser().parseFromString(raw, 'text/html');  // an inert document: nothing runs
    const text = doc.querySelector('.pa-text, .pa-notice');
    const refs = [...doc.querySelectorAll('.pa-source summary')].map((s) => s.textContent.trim());
    const head = text ? text.textContent.trim() : '';
    return [head, ...(refs.length ? ['', 'Sources:', ...refs] : [])].join('\\n');
  };
  if (navigator.clipboard) {
    const write = navigator.clipboard.writeText.bind(navigator.clipboard);
    navigator.clipboard.writeText = (text) => write(plain(text));
  }
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a.pa-cite');
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const source = document.getElementById((link.getAttribute('href') || '').slice(1));
    if (!source || source.tagName !== 'DETAILS') return;
    source.open = true;
    source.scrollIntoView({block: 'nearest', behavior: 'smooth'});
    source.classList.add('pa-flash');
    setTimeout(() => source.classList.remove('pa-flash'), 1600);
  }, true);
}
"""

CSS = """
.pa-turn p { margin: 0 0 .5em; }
.pa-head { font-weight: 600; margin-top: .6em !important; }
.pa-cite { font-weight: 600; text-decoration: none; padding: 0 1px; }
.pa-source { border: 1px solid var(--border-color-primary); border-radius: 6px; margin: .3em 0;
  padding: .25em .6em; }
.pa-source summary { cursor: pointer; }
.pa-source[open] summary { margin-bottom: .3em; }
.pa-passage { font-size: .92em; line-height: 1.45; overflow-wrap: anywhere; }
.pa-passage mark { background: #ffe58a; color: #111; padding: 0 2px; border-radius: 2px; }
.pa-file, .pa-note { font-size: .82em; color: #4b5563; margin-top: .3em; }
.dark .pa-file, .dark .pa-note { color: #cbd5e1; }
.pa-notice strong { color: var(--body-text-color); }
.pa-abstained .pa-notice { border-left: 4px solid #b45309; padding-left: .6em; }
.pa-flash { outline: 3px solid #2563eb; }
.pa-results, .pa-docs { width: 100%; border-collapse: collapse; }
.pa-docs td:nth-child(n+3), .pa-docs th:nth-child(n+3) { text-align: right; white-space: nowrap; }
.pa-narrow { display: none; }
@media (max-width: 600px) { .pa-docs .pa-wide { display: none; } .pa-narrow { display: inline; } }
.pa-results td, .pa-results th, .pa-docs td, .pa-docs th { padding: 4px 6px; text-align: left;
  border-bottom: 1px solid var(--border-color-primary); overflow-wrap: break-word; }
.pa-skipped td:nth-child(2), .pa-duplicate td:nth-child(2) { color: #b91c1c; font-weight: 600; }
.pa-added td:nth-child(2) { color: #15803d; font-weight: 600; }
"""


@dataclass
class ChatTurn:
    answer: Answer
    config: dict[str, Any] = field(default_factory=dict)


def messages(turns: list[ChatTurn]) -> list[dict[str, str]]:
    """The Chatbot's value, rebuilt from the turns: the questions and the rendered answers."""
    out: list[dict[str, str]] = []
    for i, turn in enumerate(turns, 1):
        out.append({"role": "user", "content": rendering.escape(turn.answer.question)})
        out.append({"role": "assistant", "content": rendering.answer_html(turn.answer, i)})
    return out


def history(turns: list[ChatTurn]) -> list[Message]:
    """What the Assistant reads for follow-ups: questions, answer texts, and which were answered."""
    out: list[Message] = []
    for turn in turns:
        answer = turn.answer
        out += [
            {"role": "user", "content": answer.question},
            {
                "role": "assistant",
                "content": answer.text,
                "abstained": answer.abstained,
                "standalone_question": answer.standalone_question,
            },
        ]
    return out


def example_text(data: gr.SelectData) -> str:
    return data.value["text"]


def filters_from(sources: list[str] | None, types: list[str] | None, years: list[str] | None) -> Filters:
    return Filters(tuple(sources or ()), tuple(types or ()), tuple(int(y) for y in years or ()))


class ChatApp:
    """The handlers, bound to one Assistant and its settings."""

    def __init__(self, bot: Assistant, settings: Settings | None = None) -> None:
        self.bot = bot
        self.settings = settings or bot.settings
        self.feedback = FeedbackStore(self.settings.feedback_path)
        self.downloads = Path(tempfile.mkdtemp(prefix="assistant-ui-"))

    @property
    def library(self):
        return self.bot.library

    @property
    def modes(self) -> list[str]:
        llm = bool(self.settings.llm_base_url or self.settings.llm_gguf)
        return ["extractive", "llm"] if llm else ["extractive"]

    # --- chat ------------------------------------------------------------------------------
    def respond(self, message, turns, mode, top_k, sources, types, years):
        """Stream one answer into the chat; then record the turn and refresh the export."""
        question = (message or "").strip()
        if not question:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        shown = [*messages(turns), {"role": "user", "content": rendering.escape(question)}]
        config = {
            "mode": mode,
            "top_k": int(top_k),
            "retrieval_mode": self.settings.retrieval.mode,
            "min_relevance": self.settings.min_relevance,
            "filters": {"sources": sources or [], "types": types or [], "years": years or []},
        }
        yield "", [*shown, {"role": "assistant", "content": rendering.streaming_html("…")}], turns, gr.skip()
        bot = self.bot.with_retrieval(k=int(top_k)) if int(top_k) != self.bot.retrieval.k else self.bot
        partial = ""
        try:
            for piece in bot.stream(
                question, history(turns), filters=filters_from(sources, types, years), mode=mode
            ):
                if isinstance(piece, Answer):
                    turns = [*turns, ChatTurn(piece, config)]
                    yield "", messages(turns), turns, self.export_conversation(turns)
                    return
                partial += piece
                shown_answer = {"role": "assistant", "content": rendering.streaming_html(partial)}
                yield "", [*shown, shown_answer], turns, gr.skip()
        except Exception as exc:  # show the failure in the chat rather than a dead spinner
            log.exception("answering failed")
            failed = rendering.escape(f"Could not answer: {type(exc).__name__}: {exc}")
            yield message, [*shown, {"role": "assistant", "content": failed}], turns, gr.skip()

    def ask(
        self,
        question: str,
        history: list[dict[str, str]] | None = None,
        mode: str = "extractive",
        top_k: int = 6,
        sources: list[str] | None = None,
        types: list[str] | None = None,
        years: list[int] | None = None,
    ) -> dict[str, Any]:
        """API: one answer as JSON (text with [n], citations, retrieved passages, abstained)."""
        bot = self.bot.with_retrieval(k=int(top_k)) if int(top_k) != self.bot.retrieval.k else self.bot
        filters = Filters(tuple(sources or ()), tuple(types or ()), tuple(int(y) for y in years or ()))
        return bot.ask(question, history or [], filters=filters, mode=mode).to_dict()

    def export_conversation(self, turns: list[ChatTurn]) -> str | None:
        if not turns:
            return None
        path = self.downloads / f"conversation-{datetime.now():%Y%m%d-%H%M%S-%f}.md"
        path.write_text(rendering.conversation_markdown([t.answer for t in turns]), encoding="utf-8")
        self._prune_downloads()
        return str(path)

    def _prune_downloads(self, keep: int = 200) -> None:
        """Export files are written per turn (a download button needs a file): keep only the newest."""
        files = sorted(self.downloads.iterdir(), key=lambda f: f.stat().st_mtime, reverse=True)
        for old in files[keep:]:
            old.unlink(missing_ok=True)

    # --- feedback --------------------------------------------------------------------------
    def on_like(self, turns: list[ChatTurn], data: gr.LikeData):
        index = data.index if isinstance(data.index, int) else data.index[0]
        number = index // 2  # messages alternate question, answer
        if number >= len(turns):
            return gr.skip(), "That answer is no longer in this conversation.", gr.skip(), gr.skip()
        rating = {True: "up", False: "down"}.get(data.liked, str(data.liked or "cleared"))
        turn = turns[number]
        self.feedback.add(answer_record(turn.answer, turn.config), rating=rating)
        saved = f"Feedback saved ({rating}) for answer {number + 1}. Add a comment below if you like."
        return number, saved, self.export_feedback(), gr.Accordion(open=True)

    def on_comment(self, comment: str, rated: int | None, turns: list[ChatTurn]):
        if not (comment or "").strip():
            return gr.skip(), "Write a comment first.", gr.skip()
        if not turns:
            return gr.skip(), "Ask a question first: comments are about an answer.", gr.skip()
        number = rated if rated is not None and rated < len(turns) else len(turns) - 1
        turn = turns[number]
        self.feedback.add(answer_record(turn.answer, turn.config), comment=comment)
        return "", f"Comment saved for answer {number + 1}.", self.export_feedback()

    def export_feedback(self) -> str | None:
        if not self.feedback.path.is_file():
            return None
        path = self.downloads / f"feedback-{datetime.now():%Y%m%d-%H%M%S-%f}.jsonl"
        path.write_bytes(self.feedback.path.read_bytes())
        return str(path)

    # --- library ---------------------------------------------------------------------------
    def library_views(self, chosen_docs=None, chosen_types=None, chosen_years=None):
        """The document table, the delete list and the filter lists (keeping choices still valid)."""
        records = self.library.catalog.documents()
        docs = [(f"{r.title} ({r.key.rsplit('/', 1)[-1]})", r.key) for r in records]
        types = sorted({r.type for r in records if r.type})
        years = sorted({str(r.year) for r in records if r.year}, reverse=True)

        def keep(chosen, valid):
            return [v for v in chosen or [] if v in valid]

        return (
            rendering.documents_html(records),
            gr.Dropdown(choices=docs, value=None),
            gr.Dropdown(choices=docs, value=keep(chosen_docs, {key for _, key in docs})),
            gr.Dropdown(choices=types, value=keep(chosen_types, set(types))),
            gr.Dropdown(choices=years, value=keep(chosen_years, set(years))),
        )

    def upload(self, files: list[str] | None, *chosen, progress=gr.Progress()):  # noqa: B008  (Gradio's idiom)
        rows: list[tuple[str, str, str]] = []
        for path in progress.tqdm(files or [], desc="Adding to the library", unit="file"):
            rows.append(self._add_file(Path(path)))
        return rendering.ingest_results_html(rows), None, *self.library_views(*chosen)

    def _add_file(self, upload: Path) -> tuple[str, str, str]:
        """(name, status, detail) for one uploaded file: checked, stored, ingested."""
        name = upload.name
        stored = store_upload(upload, name, self.settings.uploads_dir, self.settings.max_upload_mb)
        if stored.path is None:
            return name, "skipped", stored.reason
        result = self.bot.ingest([stored.path], progress=False).files[-1]
        if result.status in ("skipped", "duplicate"):
            stored.path.unlink(missing_ok=True)  # keep uploads_dir to what the library holds
        plural = "" if result.chunks == 1 else "s"
        detail = result.reason or (f"{result.chunks} passage{plural}" if result.chunks else "")
        if result.status == "unchanged":
            detail = "already in the library"
        return name, result.status, detail

    def delete(self, key: str | None, *chosen):
        if not key:
            return "Choose a document to delete.", *self.library_views(*chosen)
        record = self.library.catalog.document(key)
        removed = self.library.remove(key)
        path = Path(key)
        if path.is_absolute() and path.parent == self.settings.uploads_dir.resolve():
            path.unlink(missing_ok=True)  # an upload goes with its document; corpus files stay
        title = record.title if record else key
        status = f"Deleted: {title}" if removed else f"Not in the library: {key}"
        return rendering.escape(status), *self.library_views(*chosen)


def build(bot: Assistant, settings: Settings | None = None) -> gr.Blocks:
    ui = ChatApp(bot, settings)
    with gr.Blocks(title="Partnership Assistant", analytics_enabled=False) as demo:
        gr.Markdown(
            "## Partnership Assistant\nCited answers from the library on partnerships between health care, "
            "public health and community-based organizations. Click a number like [1] to open its source."
        )
        turns = gr.State([])
        rated = gr.State(None)
        with gr.Tab("Chat"):
            chatbot = gr.Chatbot(
                elem_id="chat",
                height="62vh",
                min_height=320,
                buttons=["copy", "copy_all"],
                latex_delimiters=[],
                examples=[{"text": q} for q in EXAMPLES],
                placeholder="Ask a practice question, or pick an example.",
                feedback_options=("Like", "Dislike"),
                show_label=False,
                layout="panel",
            )
            with gr.Row(equal_height=True):
                question = gr.Textbox(
                    elem_id="question",
                    placeholder="Ask about partnerships… (Enter to send)",
                    show_label=False,
                    lines=1,
                    max_lines=6,
                    scale=8,
                    min_width=200,
                    autofocus=True,
                )
                send = gr.Button("Send", variant="primary", scale=1, min_width=80)
            with gr.Row():
                new_chat = gr.Button("New conversation", size="sm", elem_id="new-chat")
                export = gr.DownloadButton("Export conversation (Markdown)", size="sm", elem_id="export")
            with gr.Accordion("Limit the chat to documents, types or years", open=False):
                only_docs = gr.Dropdown([], multiselect=True, label="Documents", elem_id="only-docs")
                only_types = gr.Dropdown([], multiselect=True, label="Types", elem_id="only-types")
                only_years = gr.Dropdown([], multiselect=True, label="Years", elem_id="only-years")
            with gr.Accordion("Feedback", open=False, elem_id="feedback") as feedback_box:
                gr.Markdown("Rate an answer with the thumbs under it; comment on the last rated answer here.")
                comment = gr.Textbox(label="Comment", lines=2, elem_id="comment")
                with gr.Row():
                    send_comment = gr.Button("Save comment", size="sm", elem_id="save-comment")
                    feedback_file = gr.DownloadButton(
                        "Download all feedback (JSONL)", size="sm", elem_id="feedback-download"
                    )
                feedback_status = gr.Markdown(elem_id="feedback-status")
        with gr.Tab("Library"):
            documents = gr.HTML(elem_id="documents")
            files = gr.File(
                label=f"Add documents ({', '.join(UPLOAD_SUFFIXES)}; up to {ui.settings.max_upload_mb:g} MB)",
                file_count="multiple",
                file_types=list(UPLOAD_SUFFIXES),
                type="filepath",
                elem_id="upload",
            )
            add = gr.Button("Add to library", variant="primary", elem_id="add")
            results = gr.HTML(elem_id="upload-results")
            with gr.Row():
                doomed = gr.Dropdown(
                    [],
                    label="Delete a document",
                    info="An uploaded file is deleted with it; corpus/ files return at the next start.",
                    scale=4,
                    elem_id="delete-choice",
                )
                delete = gr.Button(
                    "Delete", variant="stop", scale=1, min_width=80, size="md", elem_id="delete"
                )
            delete_status = gr.Markdown(elem_id="delete-status")
        with gr.Tab("Settings"):
            mode = gr.Radio(
                ui.modes,
                value=ui.settings.answer_mode if ui.settings.answer_mode in ui.modes else "extractive",
                label="Answer mode",
                info="extractive: sentences quoted from the library. "
                + ("llm: written by the configured model." if len(ui.modes) > 1 else "No LLM is configured."),
            )
            top_k = gr.Slider(
                1,
                12,
                ui.settings.retrieval.k,
                step=1,
                label="Passages retrieved per question",
                elem_id="top-k",
            )

        chat_inputs = [question, turns, mode, top_k, only_docs, only_types, only_years]
        chat_outputs = [question, chatbot, turns, export]
        question.submit(ui.respond, chat_inputs, chat_outputs, api_name="chat")
        send.click(ui.respond, chat_inputs, chat_outputs, api_visibility="private")
        chatbot.example_select(example_text, None, question, api_visibility="private").then(
            ui.respond, chat_inputs, chat_outputs, api_visibility="private"
        )
        new_chat.click(
            lambda: ([], [], None, None, ""),
            None,
            [chatbot, turns, rated, export, question],
            api_name="new_conversation",  # API clients start a new conversation in their session too
        )
        chatbot.clear(lambda: ([], None, None), None, [turns, rated, export], api_visibility="private")
        chatbot.like(
            ui.on_like, turns, [rated, feedback_status, feedback_file, feedback_box], api_visibility="private"
        )
        send_comment.click(
            ui.on_comment,
            [comment, rated, turns],
            [comment, feedback_status, feedback_file],
            api_visibility="private",
        )

        chosen = [only_docs, only_types, only_years]
        views = [documents, doomed, *chosen]
        demo.load(ui.library_views, chosen, views, api_visibility="private")
        demo.load(ui.export_feedback, None, feedback_file, api_visibility="private")
        add.click(ui.upload, [files, *chosen], [results, files, *views], api_visibility="private")
        delete.click(ui.delete, [doomed, *chosen], [delete_status, *views], api_visibility="private")
        gr.api(ui.ask, api_name="ask")
    return demo


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def auth_for(host: str, settings: Settings) -> tuple[str, str] | None:
    """Gradio's auth pair; listening beyond loopback without one is refused, with the reason."""
    user, password = settings.auth_user, settings.auth_password
    auth = (user, password) if user and password else None
    if auth is None and not is_loopback(host):
        raise ValueError(
            f"refusing to listen on {host}: the library would be open to the network without a password. "
            "Set ASSISTANT_AUTH_USER and ASSISTANT_AUTH_PASSWORD, or use --host 127.0.0.1."
        )
    return auth


def launch(demo: gr.Blocks, settings: Settings, host: str, port: int | None, **options: Any):
    """Start the server (offline theme and assets, upload size limit, auth when configured).

    port None: the first free one from 7860 (Gradio's own search); returns (app, local url, share url).
    """
    auth = auth_for(host, settings)
    theme = gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])
    return demo.queue(default_concurrency_limit=1).launch(
        server_name=host,
        server_port=port,
        auth=auth,
        max_file_size=f"{settings.max_upload_mb:g}mb",
        theme=theme,
        css=CSS,
        js=JS,
        footer_links=["api"],
        ssr_mode=False,
        pwa=False,
        # Conversation state is kept per browser session; bound it (Gradio keeps 10,000 by default).
        state_session_capacity=1000,
        mcp_server=False,
        **options,
    )
