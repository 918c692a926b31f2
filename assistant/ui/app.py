"""The Gradio chat UI: a thin layer over one Assistant (chat, library, settings, feedback).

`assistant serve` starts it. Gradio's own pieces do the work where they fit (Chatbot streaming,
copy and like buttons, Progress, DownloadButton, auth); rendering.py turns answers into inert HTML.
This module lays the page out a tab at a time and wires it to the handlers (handlers.py); the
stylesheet and scripts are files of static/.
"""

from __future__ import annotations

import ipaddress
from functools import cache
from importlib import resources
from types import SimpleNamespace
from typing import Any

import gradio as gr  # the package's __init__ (offline environment) has run before this module

from assistant.assistant import Assistant
from assistant.settings import Settings
from assistant.ui import conversations as books
from assistant.ui.glance import example_questions
from assistant.ui.handlers import ChatApp, example_text
from assistant.ui.uploads import UPLOAD_SUFFIXES

STATIC = resources.files("assistant.ui") / "static"  # package data (pyproject.toml), so installs have it


@cache
def asset(name: str) -> str:
    """A file of static/, read once: app.css (the answers' look), app.js (citation links open their
    source, the copy button copies plain text, each new answer shown from its first line),
    copy-conversation.js and show-feedback.js (the comment box comes into view after a rating)."""
    return STATIC.joinpath(name).read_text(encoding="utf-8")


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
