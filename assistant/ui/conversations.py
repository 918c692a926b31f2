"""Conversations that outlive the page: kept in the browser by default, per user on the server with auth.

All of a person's conversations form one "book", plain JSON: {"conversations": [newest first]}. Each
conversation has an id, a title (its first question, until renamed), created / updated times and
its turns; a turn is the full answer (text, citations with their passages, retrieved passages) and
the configuration it was asked with, so a reopened conversation shows its sources, exports and
copies like a fresh one. The book functions are pure; where the book lives is the caller's choice:
Gradio's BrowserState (the browser's localStorage), or `ServerBooks` (one file per signed-in user).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.types import Answer

# localStorage holds about 5 MB per site, and Gradio stores the book encrypted (base64, about 4/3 the
# size): beyond this many characters of JSON the oldest conversations are dropped.
MAX_BOOK_CHARS = 2_500_000
TITLE_CHARS = 80
# Gradio encrypts BrowserState with this secret, but sends the secret to the page: it hides nothing
# from the browser's owner. It only has to stay the same across restarts for the book to be readable.
BROWSER_SECRET = "partnership-assistant-conversations"
BROWSER_KEY = "partnership-assistant-conversations"


@dataclass
class ChatTurn:
    answer: Answer
    config: dict[str, Any] = field(default_factory=dict)


def empty_book() -> dict[str, Any]:
    return {"conversations": []}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def turn_record(turn: ChatTurn) -> dict[str, Any]:
    """A turn as JSON; a cited passage that is also a retrieved one is stored once, by index."""
    answer = turn.answer.to_dict()
    ids = [p["id"] for p in answer["retrieved"]]
    for citation in answer["citations"]:
        for extra in ("title", "source", "location"):  # derived: to_dict adds them for API readers
            citation.pop(extra, None)
        if citation["passage"]["id"] in ids:
            citation["passage"] = ids.index(citation["passage"]["id"])
    return {"answer": answer, "config": turn.config}


def turn_from_record(record: dict[str, Any]) -> ChatTurn:
    answer = dict(record["answer"])
    retrieved = answer.get("retrieved", [])
    answer["citations"] = [
        {**c, "passage": retrieved[c["passage"]] if isinstance(c["passage"], int) else c["passage"]}
        for c in answer.get("citations", [])
    ]
    return ChatTurn(Answer.from_dict(answer), dict(record.get("config") or {}))


def conversations(book: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The book's conversations, newest first; anything unreadable (another app's data) is no book."""
    items = (book or {}).get("conversations") if isinstance(book, dict) else None
    return [c for c in items or [] if isinstance(c, dict) and c.get("id") and c.get("turns")]


def find(book: dict[str, Any] | None, conversation_id: str | None) -> dict[str, Any] | None:
    return next((c for c in conversations(book) if c["id"] == conversation_id), None)


def turns_of(book: dict[str, Any] | None, conversation_id: str | None) -> list[ChatTurn]:
    found = find(book, conversation_id)
    return [turn_from_record(t) for t in found["turns"]] if found else []


def save(
    book: dict[str, Any] | None, conversation_id: str | None, turns: list[ChatTurn]
) -> tuple[dict[str, Any], str | None]:
    """The book with this conversation stored (new ones get an id and a title) and moved to the top."""
    if not turns:
        return {"conversations": conversations(book)}, conversation_id
    old = find(book, conversation_id)
    now = _now()
    conversation = {
        "id": old["id"] if old else uuid.uuid4().hex,
        "title": old["title"] if old else _title(turns[0].answer.question),
        "created": old["created"] if old else now,
        "updated": now,
        "turns": [turn_record(t) for t in turns],
    }
    rest = [c for c in conversations(book) if c["id"] != conversation["id"]]
    return _within_budget({"conversations": [conversation, *rest]}), conversation["id"]


def rename(book: dict[str, Any] | None, conversation_id: str | None, title: str) -> dict[str, Any]:
    title = _title(title)
    items = [
        {**c, "title": title} if c["id"] == conversation_id and title else c for c in conversations(book)
    ]
    return {"conversations": items}


def delete(book: dict[str, Any] | None, conversation_id: str | None) -> dict[str, Any]:
    return {"conversations": [c for c in conversations(book) if c["id"] != conversation_id]}


def choices(book: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(label, id) for a list: the title and when it was last used, newest first."""
    return [(f"{c['title']} · {_when(c['updated'])}", c["id"]) for c in conversations(book)]


def _title(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1].rstrip() + "…"


def _when(stamp: str) -> str:
    try:
        moment = datetime.fromisoformat(stamp).astimezone()
    except ValueError:
        return ""
    return f"{moment:%d %b %H:%M}".lstrip("0")


def _within_budget(book: dict[str, Any]) -> dict[str, Any]:
    """Drop the oldest conversations (never the newest) until the book fits MAX_BOOK_CHARS."""
    items = book["conversations"]
    while len(items) > 1 and len(json.dumps(book, ensure_ascii=False)) > MAX_BOOK_CHARS:
        items = items[:-1]
        book = {"conversations": items}
    return book


class ServerBooks:
    """One book per signed-in user, as a JSON file under the data directory (written atomically)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()

    def path(self, user: str) -> Path:
        # A hash, not the name: a user name never becomes a path (no "../", no odd characters).
        return self.folder / f"{hashlib.sha256(user.encode()).hexdigest()[:32]}.json"

    def load(self, user: str) -> dict[str, Any]:
        try:
            return {"conversations": conversations(json.loads(self.path(user).read_text(encoding="utf-8")))}
        except (OSError, ValueError):
            return empty_book()

    def store(self, user: str, book: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.path(user)
        temporary = target.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        with self._lock:
            temporary.write_text(json.dumps(book, ensure_ascii=False), encoding="utf-8")
            os.replace(temporary, target)
