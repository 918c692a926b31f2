"""The Gradio chat UI: a thin layer over one Assistant (chat, library, settings, feedback).

`assistant serve` starts it. Gradio's own pieces do the work where they fit (Chatbot streaming,
copy and like buttons, Progress, DownloadButton, auth); rendering.py turns answers into inert HTML.
"""

from __future__ import annotations

import ipaddress
import logging
import tempfile
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr  # the package's __init__ (offline environment) has run before this module

from assistant.assistant import Assistant
from assistant.followups import Message
from assistant.library import Library
from assistant.settings import Settings
from assistant.types import Answer, Filters
from assistant.ui import conversations as books
from assistant.ui import rendering
from assistant.ui.conversations import ChatTurn, ServerBooks
from assistant.ui.feedback import FeedbackStore, answer_record
from assistant.ui.glance import example_questions, glance_html
from assistant.ui.uploads import UPLOAD_SUFFIXES, store_upload

log = logging.getLogger(__name__)

STATIC = resources.files("assistant.ui") / "static"  # package data (pyproject.toml), so installs have it


@cache
def asset(name: str) -> str:
    """A file of static/, read once: app.css (the answers' look), app.js (citation links open their
    source, the copy button copies plain text, each new answer shown from its first line),
    copy-conversation.js and show-feedback.js (the comment box comes into view after a rating)."""
    return STATIC.joinpath(name).read_text(encoding="utf-8")


def messages(turns: list[ChatTurn]) -> list[dict[str, str]]:
    """The Chatbot's value, rebuilt from the turns: the questions and the rendered answers."""
    out: list[dict[str, str]] = []
    for i, turn in enumerate(turns, 1):
        out.append({"role": "user", "content": rendering.escape(turn.answer.question)})
        limits = rendering.limits_text(turn.config.get("filters"))
        out.append({"role": "assistant", "content": rendering.answer_html(turn.answer, i, limits)})
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


def copy_text(turns: list[ChatTurn]) -> str:
    return rendering.conversation_text([t.answer for t in turns])


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
        # With sign-in, conversations are kept per user on the server, never in a shared browser.
        auth = self.settings.auth_user and self.settings.auth_password
        self.server_books = ServerBooks(self.settings.data_dir / "conversations") if auth else None
        self.downloads = Path(tempfile.mkdtemp(prefix="assistant-ui-"))

    @property
    def library(self) -> Library:
        """The Assistant's library: the handlers use its operations, never its catalog."""
        return self.bot.library

    @property
    def modes(self) -> list[str]:
        llm = bool(self.settings.llm_base_url or self.settings.llm_gguf)
        return ["extractive", "llm"] if llm else ["extractive"]

    # --- chat ------------------------------------------------------------------------------
    def respond(self, message, turns, mode, top_k, sources, types, years):
        """Stream one answer into the chat; then record the turn, refresh the export and the copy text."""
        question = (message or "").strip()
        if not question:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        shown = [*messages(turns), {"role": "user", "content": rendering.escape(question)}]
        config = {
            "mode": mode,
            "top_k": int(top_k),
            "retrieval_mode": self.settings.retrieval.mode,
            "min_relevance": self.settings.min_relevance,
            "filters": {"sources": sources or [], "types": types or [], "years": years or []},
        }
        placeholder = {"role": "assistant", "content": rendering.streaming_html("…")}
        yield "", [*shown, placeholder], turns, gr.skip(), gr.skip()
        bot = self.bot.with_retrieval(k=int(top_k)) if int(top_k) != self.bot.retrieval.k else self.bot
        partial = ""
        try:
            for piece in bot.stream(
                question, history(turns), filters=filters_from(sources, types, years), mode=mode
            ):
                if isinstance(piece, Answer):
                    turns = [*turns, ChatTurn(piece, config)]
                    yield "", messages(turns), turns, self.export_conversation(turns), copy_text(turns)
                    return
                partial += piece
                shown_answer = {"role": "assistant", "content": rendering.streaming_html(partial)}
                yield "", [*shown, shown_answer], turns, gr.skip(), gr.skip()
        except Exception as exc:  # show the failure in the chat rather than a dead spinner
            log.exception("answering failed")
            failed = rendering.escape(f"Could not answer: {type(exc).__name__}: {exc}")
            yield message, [*shown, {"role": "assistant", "content": failed}], turns, gr.skip(), gr.skip()

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

    # --- conversations (browser storage, or per user on the server with auth) -------------------
    def _user(self, request: gr.Request | None) -> str | None:
        return getattr(request, "username", None) if self.server_books else None

    def _book(self, request: gr.Request | None, browser_book: dict | None) -> dict:
        user = self._user(request)
        return self.server_books.load(user) if user else browser_book or books.empty_book()

    def _keep(self, request: gr.Request | None, book: dict):
        """Store the book where it lives; the browser's copy is the output (skipped with auth)."""
        user = self._user(request)
        if user:
            self.server_books.store(user, book)
            return gr.skip()
        return book

    def _view(self, book: dict, conversation_id: str | None, turns: list[ChatTurn]) -> tuple:
        """chat, turns, current id, list, title box, export file, copy text."""
        found = books.find(book, conversation_id)
        return (
            messages(turns),
            turns,
            conversation_id if found else None,
            gr.Radio(choices=books.choices(book), value=conversation_id if found else None),
            found["title"] if found else "",
            self.export_conversation(turns),
            copy_text(turns),
        )

    def restore(self, browser_book: dict | None, request: gr.Request):
        """On page load: the list, and the latest conversation reopened."""
        book = self._book(request, browser_book)
        latest = books.conversations(book)[0]["id"] if books.conversations(book) else None
        return self._view(book, latest, books.turns_of(book, latest))

    def remember(
        self, turns: list[ChatTurn], current: str | None, browser_book: dict | None, request: gr.Request
    ):
        """After an answer: the conversation saved; returns current id, list, title, stored book."""
        if not turns:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        book, current = books.save(self._book(request, browser_book), current, turns)
        title = books.find(book, current)["title"]
        return current, gr.Radio(choices=books.choices(book), value=current), title, self._keep(request, book)

    def open_conversation(self, chosen: str | None, browser_book: dict | None, request: gr.Request):
        book = self._book(request, browser_book)
        return *self._view(book, chosen, books.turns_of(book, chosen)), None, "", ""

    def rename_conversation(
        self, title: str, current: str | None, browser_book: dict | None, request: gr.Request
    ):
        if not current:
            return gr.skip(), gr.skip(), "Ask a question first: there is no conversation to rename."
        book = books.rename(self._book(request, browser_book), current, title or "")
        return gr.Radio(choices=books.choices(book), value=current), self._keep(request, book), ""

    def forget_conversation(self, current: str | None, browser_book: dict | None, request: gr.Request):
        book = books.delete(self._book(request, browser_book), current)
        status = "Conversation deleted." if current else "Nothing to delete: this conversation was not saved."
        return *self._view(book, None, []), self._keep(request, book), status

    @staticmethod
    def new_conversation():
        """An empty chat: no turns, nothing rated, no export, statuses cleared, nothing chosen."""
        return [], [], None, None, "", None, gr.Radio(value=None), "", "", "", ""

    @staticmethod
    def export_status(turns: list[ChatTurn]) -> str:
        return "" if turns else "Nothing to export yet: ask a question first."

    # --- limits ----------------------------------------------------------------------------
    @staticmethod
    def limits_view(sources, types, years):
        """The active limits, shown above the question box whether or not the filter panel is open."""
        text = rendering.limits_text({"sources": sources, "types": types, "years": years})
        html = f'<p class="pa-limits"><strong>Answers limited to</strong> {rendering.escape(text)}</p>'
        return gr.Row(visible=bool(text)), html if text else ""

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
        """The document table, the delete list, the filter lists (keeping choices still valid), the
        library at a glance and the example questions."""
        records = self.library.documents()
        docs = [(f"{r.title} ({r.key.rsplit('/', 1)[-1]})", r.key) for r in records]
        types = sorted({r.type for r in records if r.type})
        years = sorted({str(r.year) for r in records if r.year}, reverse=True)

        def keep(chosen, valid):
            return [v for v in chosen or [] if v in valid]

        passages = sum(r.chunk_count for r in records)
        examples = [{"text": q} for q in example_questions(self.library)]
        return (
            rendering.documents_html(records),
            gr.Dropdown(choices=docs, value=None),
            gr.Dropdown(choices=docs, value=keep(chosen_docs, {key for _, key in docs})),
            gr.Dropdown(choices=types, value=keep(chosen_types, set(types))),
            gr.Dropdown(choices=years, value=keep(chosen_years, set(years))),
            glance_html(len(records), passages, self.library.last_update()),
            gr.Chatbot(examples=examples or None),
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

    def page_views(self, *chosen):
        """library_views on page load, without the examples: the chat has them from build(), and
        updating the Chatbot as the page opens races with a first question."""
        return self.library_views(*chosen)[:-1]

    def confirm_delete(self, key: str | None):
        """Ask before deleting: what goes (the document, and its uploaded file if it was uploaded)."""
        if not key:
            return gr.Row(visible=False), "", "Choose a document to delete."
        record = self.library.document(key)
        title = record.title if record else key
        upload = self.library.uploaded_file(key)
        what = (
            f"Its uploaded file {upload.name} is deleted too."
            if upload
            else "Its file stays where it is (a corpus/ file returns at the next start)."
        )
        question = f"Delete “{title}” from the library? {what}"
        return gr.Row(visible=True), f'<p class="pa-confirm">{rendering.escape(question)}</p>', ""

    def delete(self, key: str | None, *chosen):
        if not key:
            return "Choose a document to delete.", *self.library_views(*chosen), gr.Row(visible=False)
        record = self.library.document(key)
        removed, file_deleted = self.library.delete(key)
        title = record.title if record else key
        status = f"Deleted: {title}" if removed else f"Not in the library: {key}"
        if file_deleted:
            status += " (uploaded file removed)"
        return rendering.escape(status), *self.library_views(*chosen), gr.Row(visible=False)


def build(bot: Assistant, settings: Settings | None = None) -> gr.Blocks:
    """The page: a tab each for chat, library and settings, then their events, in that order."""
    ui = ChatApp(bot, settings)
    with gr.Blocks(title="Partnership Assistant", analytics_enabled=False) as demo:
        gr.Markdown(
            "## Partnership Assistant\nCited answers from the library on partnerships between health care, "
            "public health and community-based organizations. Click a number like [1] to open its source."
        )
        state = session_state(ui)
        with gr.Tabs() as tabs:
            chat = chat_tab(ui)
            library = library_tab(ui)
            options = settings_tab(ui)
        wire_chat(ui, state, chat, options)
        wire_conversations(demo, ui, state, chat)
        wire_feedback(ui, state, chat)
        wire_library(demo, ui, tabs, chat, library)
        gr.api(ui.ask, api_name="ask")
    return demo


def session_state(ui: ChatApp) -> SimpleNamespace:
    """Per browser session: the turns, the last rated answer, the open conversation and the stored book."""
    if ui.server_books:  # signed in: conversations live on the server, nothing in the browser
        book = gr.State(books.empty_book())
    else:
        book = gr.BrowserState(books.empty_book(), storage_key=books.BROWSER_KEY, secret=books.BROWSER_SECRET)
    return SimpleNamespace(turns=gr.State([]), rated=gr.State(None), current=gr.State(None), book=book)


# --- layout, a tab at a time ---------------------------------------------------------------------
def chat_tab(ui: ChatApp) -> SimpleNamespace:
    with gr.Tab("Chat", id="chat"), gr.Row(elem_id="chat-row"):
        with gr.Column(scale=1, min_width=220, elem_id="conversation-panel"):
            panel = conversation_panel()
        with gr.Column(scale=4, min_width=300):
            chat = chat_column(ui)
            feedback = feedback_panel()
            limits = limits_panel()
    return SimpleNamespace(**vars(panel), **vars(chat), **vars(feedback), **vars(limits))


def conversation_panel() -> SimpleNamespace:
    """The stored conversations: the list, the open one's title, rename and delete."""
    conversation_list = gr.Radio([], label="Conversations", elem_id="conversations", container=True)
    conversation_title = gr.Textbox(label="Title", lines=1, max_lines=1, elem_id="conversation-title")
    with gr.Row():
        rename = gr.Button("Rename", size="sm", elem_id="rename-conversation")
        forget = gr.Button("Delete", size="sm", variant="stop", elem_id="delete-conversation")
    return SimpleNamespace(
        conversation_list=conversation_list, conversation_title=conversation_title, rename=rename,
        forget=forget,
    )  # fmt: skip


def chat_column(ui: ChatApp) -> SimpleNamespace:
    """The library at a glance, the chat, the active limits, the question box and the chat's buttons."""
    with gr.Row(elem_id="library-glance", equal_height=True):
        glance = gr.HTML(elem_id="glance-text")
        to_library = gr.Button("Library tab", size="sm", scale=0, min_width=110)
    chatbot = gr.Chatbot(
        elem_id="chat",
        height="62vh",
        min_height=320,
        buttons=["copy"],
        latex_delimiters=[],
        placeholder="Ask a practice question, or pick an example.",
        examples=[{"text": q} for q in example_questions(ui.library)] or None,
        feedback_options=("Like", "Dislike"),
        show_label=False,
        layout="panel",
        autoscroll=False,  # our script shows each new answer from its first line
    )
    with gr.Row(visible=False, elem_id="active-filters", equal_height=True) as limits_row:
        limits = gr.HTML()
        clear_limits = gr.Button("Clear limits", size="sm", scale=0, min_width=110)
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
        copy_all = gr.Button("Copy conversation", size="sm", elem_id="copy-conversation")
        export = gr.DownloadButton("Export conversation (Markdown)", size="sm", elem_id="export")
    conversation_text = gr.Textbox(elem_id="conversation-text", elem_classes=["pa-hidden"])
    chat_status = gr.Markdown(elem_id="chat-status")
    return SimpleNamespace(
        glance=glance, to_library=to_library, chatbot=chatbot, limits_row=limits_row, limits=limits,
        clear_limits=clear_limits, question=question, send=send, new_chat=new_chat, copy_all=copy_all,
        export=export, conversation_text=conversation_text, chat_status=chat_status,
    )  # fmt: skip


def feedback_panel() -> SimpleNamespace:
    with gr.Accordion("Feedback", open=False, elem_id="feedback") as feedback_box:
        gr.Markdown("Rate an answer with the thumbs under it; comment on the last rated one here.")
        feedback_status = gr.Markdown(elem_id="feedback-status")
        comment = gr.Textbox(label="Comment", lines=2, elem_id="comment")
        with gr.Row():
            send_comment = gr.Button("Save comment", size="sm", elem_id="save-comment")
            feedback_file = gr.DownloadButton(
                "Download all feedback (JSONL)", size="sm", elem_id="feedback-download"
            )
    return SimpleNamespace(
        feedback_box=feedback_box, feedback_status=feedback_status, comment=comment,
        send_comment=send_comment, feedback_file=feedback_file,
    )  # fmt: skip


def limits_panel() -> SimpleNamespace:
    with gr.Accordion("Limit the chat to documents, types or years", open=False):
        only_docs = gr.Dropdown([], multiselect=True, label="Documents", elem_id="only-docs")
        only_types = gr.Dropdown([], multiselect=True, label="Types", elem_id="only-types")
        only_years = gr.Dropdown([], multiselect=True, label="Years", elem_id="only-years")
    return SimpleNamespace(only_docs=only_docs, only_types=only_types, only_years=only_years)


def library_tab(ui: ChatApp) -> SimpleNamespace:
    """The documents, adding files, and deleting one (after a confirmation)."""
    with gr.Tab("Library", id="library"):
        documents = gr.HTML(elem_id="documents")
        limit = f"up to {ui.settings.max_upload_mb:g} MB"
        files = gr.File(
            label=f"Add documents ({', '.join(UPLOAD_SUFFIXES)}; {limit})",
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
            delete = gr.Button("Delete…", variant="stop", scale=1, min_width=80, size="md", elem_id="delete")
        with gr.Row(visible=False, elem_id="delete-confirm") as confirm_row:
            confirm_text = gr.HTML()
            delete_yes = gr.Button("Yes, delete", variant="stop", size="sm", elem_id="delete-yes")
            delete_no = gr.Button("Cancel", size="sm", elem_id="delete-no")
        delete_status = gr.Markdown(elem_id="delete-status")
    return SimpleNamespace(
        documents=documents, files=files, add=add, results=results, doomed=doomed, delete=delete,
        confirm_row=confirm_row, confirm_text=confirm_text, delete_yes=delete_yes, delete_no=delete_no,
        delete_status=delete_status,
    )  # fmt: skip


def settings_tab(ui: ChatApp) -> SimpleNamespace:
    """The answer mode (the LLM only when one is configured) and how many passages are retrieved."""
    with gr.Tab("Settings", id="settings"):
        llm = "llm: written by the configured model." if len(ui.modes) > 1 else "No LLM is configured."
        mode = gr.Radio(
            ui.modes,
            value=ui.settings.answer_mode if ui.settings.answer_mode in ui.modes else "extractive",
            label="Answer mode",
            info="extractive: sentences quoted from the library. " + llm,
        )
        top_k = gr.Slider(
            1, 12, ui.settings.retrieval.k, step=1, label="Passages retrieved per question", elem_id="top-k"
        )
    return SimpleNamespace(mode=mode, top_k=top_k)


# --- events ----------------------------------------------------------------------------------------
PRIVATE = {"api_visibility": "private"}


def wire_chat(ui: ChatApp, state: SimpleNamespace, chat: SimpleNamespace, options: SimpleNamespace) -> None:
    """Asking (Enter, Send, an example), then the conversation saved; new, clear, copy and export."""
    chosen = [chat.only_docs, chat.only_types, chat.only_years]
    chat_inputs = [chat.question, state.turns, options.mode, options.top_k, *chosen]
    chat_outputs = [chat.question, chat.chatbot, state.turns, chat.export, chat.conversation_text]
    saved = [state.current, chat.conversation_list, chat.conversation_title, state.book]
    remember = (ui.remember, [state.turns, state.current, state.book], saved)
    chat.question.submit(ui.respond, chat_inputs, chat_outputs, api_name="chat").then(*remember, **PRIVATE)
    chat.send.click(ui.respond, chat_inputs, chat_outputs, **PRIVATE).then(*remember, **PRIVATE)
    chat.chatbot.example_select(example_text, None, chat.question, **PRIVATE).then(
        ui.respond, chat_inputs, chat_outputs, **PRIVATE
    ).then(*remember, **PRIVATE)
    chat.new_chat.click(
        ui.new_conversation,
        None,
        [
            chat.chatbot, state.turns, state.rated, chat.export, chat.question, state.current,
            chat.conversation_list, chat.conversation_title, chat.conversation_text, chat.feedback_status,
            chat.chat_status,
        ],
        api_name="new_conversation",  # API clients start a new conversation in their session too
    )  # fmt: skip
    chat.chatbot.clear(
        lambda: ([], None, None, None, ""),
        None,
        [state.turns, state.rated, chat.export, state.current, chat.conversation_text],
        **PRIVATE,
    )
    chat.copy_all.click(None, [chat.conversation_text], None, js=asset("copy-conversation.js"), **PRIVATE)
    chat.export.click(ui.export_status, [state.turns], [chat.chat_status], **PRIVATE)


def wire_conversations(demo: gr.Blocks, ui: ChatApp, state: SimpleNamespace, chat: SimpleNamespace) -> None:
    """Open, rename and delete a stored conversation; the latest one reopened on page load."""
    view = [
        chat.chatbot, state.turns, state.current, chat.conversation_list, chat.conversation_title,
        chat.export, chat.conversation_text,
    ]  # fmt: skip
    chat.conversation_list.input(
        ui.open_conversation,
        [chat.conversation_list, state.book],
        [*view, state.rated, chat.feedback_status, chat.chat_status],
        **PRIVATE,
    )
    chat.rename.click(
        ui.rename_conversation,
        [chat.conversation_title, state.current, state.book],
        [chat.conversation_list, state.book, chat.chat_status],
        **PRIVATE,
    )
    chat.forget.click(
        ui.forget_conversation, [state.current, state.book], [*view, state.book, chat.chat_status], **PRIVATE
    )
    demo.load(ui.restore, [state.book], view, **PRIVATE)


def wire_feedback(ui: ChatApp, state: SimpleNamespace, chat: SimpleNamespace) -> None:
    """A thumb on an answer records it (and brings the comment box into view); a comment follows."""
    chat.chatbot.like(
        ui.on_like,
        state.turns,
        [state.rated, chat.feedback_status, chat.feedback_file, chat.feedback_box],
        **PRIVATE,
    ).then(None, js=asset("show-feedback.js"), **PRIVATE)
    chat.send_comment.click(
        ui.on_comment,
        [chat.comment, state.rated, state.turns],
        [chat.comment, chat.feedback_status, chat.feedback_file],
        **PRIVATE,
    )


def wire_library(
    demo: gr.Blocks, ui: ChatApp, tabs: gr.Tabs, chat: SimpleNamespace, library: SimpleNamespace
) -> None:
    """The limits; the library's views on page load and after an upload or a delete."""
    chosen = [chat.only_docs, chat.only_types, chat.only_years]
    for dropdown in chosen:
        dropdown.change(ui.limits_view, chosen, [chat.limits_row, chat.limits], **PRIVATE)
    chat.clear_limits.click(lambda: ([], [], []), None, chosen, **PRIVATE)
    views = [library.documents, library.doomed, *chosen, chat.glance, chat.chatbot]
    demo.load(ui.page_views, chosen, views[:-1], **PRIVATE)
    demo.load(ui.export_feedback, None, chat.feedback_file, **PRIVATE)
    chat.to_library.click(lambda: gr.Tabs(selected="library"), None, tabs, **PRIVATE)
    library.add.click(
        ui.upload, [library.files, *chosen], [library.results, library.files, *views], **PRIVATE
    )
    library.delete.click(
        ui.confirm_delete,
        [library.doomed],
        [library.confirm_row, library.confirm_text, library.delete_status],
        **PRIVATE,
    )
    library.delete_yes.click(
        ui.delete,
        [library.doomed, *chosen],
        [library.delete_status, *views, library.confirm_row],
        **PRIVATE,
    )
    library.delete_no.click(
        lambda: (gr.Row(visible=False), "Nothing deleted."),
        None,
        [library.confirm_row, library.delete_status],
        **PRIVATE,
    )


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
        css=asset("app.css"),
        js=asset("app.js"),
        footer_links=["api"],
        ssr_mode=False,
        pwa=False,
        # Conversation state is kept per browser session; bound it (Gradio keeps 10,000 by default).
        state_session_capacity=1000,
        mcp_server=False,
        **options,
    )
