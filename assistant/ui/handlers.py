"""The chat UI's handlers: what each button, box and page load does, bound to one Assistant.

They call the Assistant (ask, stream, ingest) and its Library's operations (documents, last update,
delete), never the catalog; app.py lays out the page and wires these to its components.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import datetime
from pathlib import Path
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
from assistant.ui.uploads import store_upload

log = logging.getLogger(__name__)


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


def filters_from(
    sources: list[str] | None, types: list[str] | None, years: list[str] | list[int] | None
) -> Filters:
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
        bot = self._retrieving(top_k)
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
        filters = filters_from(sources, types, years)
        return self._retrieving(top_k).ask(question, history or [], filters=filters, mode=mode).to_dict()

    def _retrieving(self, top_k: int) -> Assistant:
        """The Assistant retrieving top_k passages: itself, or a copy sharing its model and store."""
        k = int(top_k)
        return self.bot.with_retrieval(k=k) if k != self.bot.retrieval.k else self.bot

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
