"""The catalog: which documents are stored, their chunks, and the BM25 index (SQLite FTS5).

It is the record manager of ingest (file hash -> chunk ids) and the lexical index in one SQLite
file, so a document's chunks and its BM25 entries change in one transaction and never drift apart.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from assistant.text import STOPWORDS
from assistant.types import NO_FILTERS, Filters, Passage

SentenceRow = tuple[str, str, bytes]  # chunk id, version, ChunkSentences bytes

SCHEMA = (Path(__file__).parent / "catalog.sql").read_text(encoding="utf-8")


@dataclass
class DocumentRecord:
    key: str
    content_hash: str
    title: str
    type: str | None
    year: int | None
    metadata: dict[str, Any]
    chunk_count: int

    @property
    def name(self) -> str:
        return Path(self.key).name


# BM25's time is spent scoring every posting of the query's terms. In a library of PRUNE_FROM chunks or
# more, a term found in over COMMON_TERM_SHARE of the chunks is dropped (its weight is near zero), then
# the commonest remaining terms until at most POSTINGS_BUDGET postings are left; the rarest matching
# term always stays, and with no matching term left the query is unchanged. SciFact test (11.5k
# chunks) BM25 nDCG@10 0.6824 -> 0.6832, recall@100 0.914 -> 0.916; p95 at 100k chunks 50 -> 17 ms
# (benchmarks/README.md).
COMMON_TERM_SHARE = 0.2
POSTINGS_BUDGET = 20_000
PRUNE_FROM = 10_000


def fts_query(text: str) -> str:
    """A question as an FTS5 OR-query of its content words (quoted: no FTS syntax gets through)."""
    words = [w for w in re.findall(r"\w+", text.lower()) if w not in STOPWORDS and len(w) > 1]
    return " OR ".join(f'"{w}"' for w in dict.fromkeys(words))


def fts_phrase(text: str) -> str:
    """The text's words as one FTS5 phrase (quoted: no query syntax gets through), "" when it has none."""
    words = re.findall(r"\w+", text.lower())
    return '"' + " ".join(words) + '"' if words else ""


class Catalog:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        # term -> chunks holding it. Counting a common term scans its postings (tens of ms at 100k
        # chunks) and questions share terms; cleared by every write through this catalog (another
        # process's ingest leaves it slightly stale, which only nudges a rarity).
        self._term_counts: dict[str, int] = {}
        with self.transaction() as db:
            db.executescript(SCHEMA)
            _add_missing_columns(db)

    @property
    def db(self) -> sqlite3.Connection:
        # One connection per thread: Gradio serves requests from a thread pool.
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        db = self.db
        with db:  # commits, or rolls back on any exception
            yield db
        self._term_counts.clear()

    # --- documents -------------------------------------------------------------------------
    def document(self, key: str) -> DocumentRecord | None:
        row = self.db.execute("SELECT * FROM documents WHERE key = ?", (key,)).fetchone()
        return _record(row) if row else None

    def document_with_hash(self, content_hash: str) -> DocumentRecord | None:
        row = self.db.execute("SELECT * FROM documents WHERE content_hash = ?", (content_hash,)).fetchone()
        return _record(row) if row else None

    def documents(self) -> list[DocumentRecord]:
        return [_record(r) for r in self.db.execute("SELECT * FROM documents ORDER BY title")]

    def documents_with_all(self, words: list[str]) -> list[DocumentRecord]:
        """The documents whose metadata holds every one of these words somewhere (a coarse filter)."""
        like = " AND ".join("metadata LIKE ?" for _ in words)
        return [
            _record(r)
            for r in self.db.execute(f"SELECT * FROM documents WHERE {like}", [f"%{w}%" for w in words])
        ]

    def last_update(self) -> str | None:
        """When a document was last added or replaced (UTC, "YYYY-MM-DD HH:MM:SS"), None when empty."""
        return self.db.execute("SELECT max(ingested_at) FROM documents").fetchone()[0]

    def documents_with_phrase(self, phrase: str, limit: int) -> list[str]:
        """Up to `limit` keys of the documents with a chunk holding the phrase (stemmed as indexed)."""
        if not (quoted := fts_phrase(phrase)):
            return []
        sql = "SELECT DISTINCT c.source FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid"
        return [r[0] for r in self.db.execute(f"{sql} WHERE chunks_fts MATCH ? LIMIT ?", (quoted, limit))]

    def contains_text(self, snippet: str) -> bool:
        """Whether some chunk holds this exact text (a scan: for a handful of checks, not per query)."""
        return (
            self.db.execute("SELECT 1 FROM chunks WHERE instr(text, ?) > 0 LIMIT 1", (snippet,)).fetchone()
            is not None
        )

    def sections(self, key: str, limit: int = 20) -> list[str]:
        """A document's section headings, in reading order."""
        rows = self.db.execute(
            "SELECT section FROM chunks WHERE source = ? AND section != ''"
            " GROUP BY section ORDER BY min(ordinal) LIMIT ?",
            (key, limit),
        )
        return [r[0] for r in rows]

    def chunk_ids(self, key: str | None = None) -> set[str]:
        if key is None:
            return {r[0] for r in self.db.execute("SELECT id FROM chunks")}
        return {r[0] for r in self.db.execute("SELECT id FROM chunks WHERE source = ?", (key,))}

    def replace_document(
        self, record: DocumentRecord, passages: list[Passage], sentences: Iterable[SentenceRow] = ()
    ) -> set[str]:
        """Store a document's chunks (and their sentence vectors) in place of its old ones; returns
        the old chunk ids."""
        with self.transaction() as db:
            old = self._delete(db, record.key)
            db.execute(
                "INSERT INTO documents (key, content_hash, title, type, year, metadata, chunk_count)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record.key,
                    record.content_hash,
                    record.title,
                    record.type,
                    record.year,
                    json.dumps(record.metadata, ensure_ascii=False, default=str),
                    len(passages),
                ),
            )
            for p in passages:
                cursor = db.execute(
                    "INSERT INTO chunks"
                    " (id, source, ordinal, text, section, page, end_page, quotable, headings)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        p.id,
                        record.key,
                        p.metadata.get("ordinal", 0),
                        p.text,
                        p.section,
                        p.page,
                        p.end_page,
                        int(p.quotable),
                        json.dumps(p.headings, ensure_ascii=False),
                    ),
                )
                db.execute(
                    "INSERT INTO chunks_fts (rowid, title, section, text) VALUES (?, ?, ?, ?)",
                    (cursor.lastrowid, record.title, p.section, p.text),
                )
            db.executemany("INSERT OR REPLACE INTO sentence_vectors VALUES (?, ?, ?)", sentences)
        return old

    def remove_document(self, key: str) -> set[str]:
        with self.transaction() as db:
            return self._delete(db, key)

    @staticmethod
    def _delete(db: sqlite3.Connection, key: str) -> set[str]:
        rows = db.execute("SELECT rowid, id FROM chunks WHERE source = ?", (key,)).fetchall()
        db.executemany("DELETE FROM chunks_fts WHERE rowid = ?", [(r[0],) for r in rows])
        db.executemany("DELETE FROM sentence_vectors WHERE chunk_id = ?", [(r[1],) for r in rows])
        db.execute("DELETE FROM chunks WHERE source = ?", (key,))
        db.execute("DELETE FROM documents WHERE key = ?", (key,))
        return {r[1] for r in rows}

    # --- sentence vectors ------------------------------------------------------------------
    def add_sentence_vectors(self, rows: Iterable[SentenceRow]) -> None:
        """Store sentence vectors of chunks already stored (a chunk gone meanwhile gets none)."""
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO sentence_vectors SELECT ?1, ?2, ?3"
                " WHERE EXISTS (SELECT 1 FROM chunks WHERE id = ?1)",
                rows,
            )

    def sentence_vectors(self, ids: Iterable[str], version: str) -> dict[str, bytes]:
        """The stored sentence vectors of these chunks, when made by `version`."""
        ids = list(ids)
        found: dict[str, bytes] = {}
        for start in range(0, len(ids), 500):
            batch = ids[start : start + 500]
            rows = self.db.execute(
                f"SELECT chunk_id, data FROM sentence_vectors WHERE version = ? AND chunk_id IN"
                f" ({','.join('?' * len(batch))})",
                [version, *batch],
            )
            found.update((r[0], r[1]) for r in rows)
        return found

    def chunks_lacking_sentence_vectors(self, version: str) -> list[str]:
        """Chunks stored before sentence vectors existed, or whose vectors another version made."""
        rows = self.db.execute(
            "SELECT c.id FROM chunks c LEFT JOIN sentence_vectors s ON s.chunk_id = c.id AND s.version = ?"
            " WHERE s.chunk_id IS NULL ORDER BY c.rowid",
            (version,),
        )
        return [r[0] for r in rows]

    # --- passages --------------------------------------------------------------------------
    def passages(self, ids: Iterable[str]) -> dict[str, Passage]:
        ids = list(ids)
        found: dict[str, Passage] = {}
        for start in range(0, len(ids), 500):
            batch = ids[start : start + 500]
            marks = ",".join("?" * len(batch))
            rows = self.db.execute(
                "SELECT c.id, c.text, c.section, c.page, c.end_page, c.quotable, c.headings, c.ordinal,"
                " c.source, d.title, d.type, d.year, d.metadata, d.chunk_count FROM chunks c"
                f" JOIN documents d ON d.key = c.source WHERE c.id IN ({marks})",
                batch,
            )
            for row in rows:
                found[row["id"]] = _passage(row)
        return found

    def bm25(
        self,
        question: str,
        n: int,
        filters: Filters = NO_FILTERS,
        weights: tuple[float, float, float] = (1.0, 1.0, 1.0),
    ) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) best first; column weights are (title, section, text). FTS5's
        bm25() is negative, so we flip its sign."""
        query = self._without_common_terms(fts_query(question))
        if not query or n <= 0:
            return []
        if not filters:  # rank inside FTS5, then join only the n best: 2x faster
            rows = self.db.execute(
                "SELECT c.id, f.score FROM (SELECT rowid, -bm25(chunks_fts, ?, ?, ?) AS score FROM chunks_fts"
                " WHERE chunks_fts MATCH ? ORDER BY score DESC LIMIT ?) f JOIN chunks c ON c.rowid = f.rowid"
                " ORDER BY f.score DESC",
                (*weights, query, n),
            )
            return [(r[0], float(r[1])) for r in rows]
        sql = (
            "SELECT c.id, -bm25(chunks_fts, ?, ?, ?) AS score FROM chunks_fts"
            " JOIN chunks c ON c.rowid = chunks_fts.rowid JOIN documents d ON d.key = c.source"
        )
        args: list[Any] = [*weights, query]
        where = ["chunks_fts MATCH ?"]
        chosen = {"d.key": filters.sources, "d.type": filters.types, "d.year": filters.years}
        for column, values in chosen.items():
            if values:
                where.append(f"{column} IN ({','.join('?' * len(values))})")
                args.extend(values)
        if filters.exclude_documents:
            where.append(f"d.key NOT IN ({','.join('?' * len(filters.exclude_documents))})")
            args.extend(filters.exclude_documents)
        sql += " WHERE " + " AND ".join(where) + " ORDER BY score DESC LIMIT ?"
        args.append(n)
        return [(r[0], float(r[1])) for r in self.db.execute(sql, args)]

    def _without_common_terms(self, query: str) -> str:
        terms = query.split(" OR ") if query else []
        total = self.chunk_count() if len(terms) > 1 else 0
        if total < PRUNE_FROM:
            return query
        count = "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?"  # no scoring: fast
        kept, postings = [], 0
        for n, term in sorted((self.db.execute(count, (t,)).fetchone()[0], t) for t in terms):
            if 0 < n <= COMMON_TERM_SHARE * total and (not kept or postings + n <= POSTINGS_BUDGET):
                kept.append(term)
                postings += n
        return " OR ".join(kept) if kept else query

    def term_counts(self, terms: Iterable[str], within: Sequence[str] = ()) -> dict[str, int]:
        """How many chunks hold each term (FTS5's stemming: "partnerships" counts "partnership"): in
        the whole catalog, or in the documents given (a few chunks: counted afresh, not cached)."""
        count = "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?"
        if within:
            count = (
                "SELECT count(*) FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid"
                f" WHERE chunks_fts MATCH ? AND c.source IN ({','.join('?' * len(within))})"
            )
        if len(self._term_counts) > 50_000:
            self._term_counts.clear()
        counted = {} if within else self._term_counts
        found = {}
        for term in terms:
            query = fts_phrase(term)
            if query not in counted:
                counted[query] = int(self.db.execute(count, (query, *within)).fetchone()[0]) if query else 0
            found[term] = counted[query]
        return found

    @cached_property
    def instance_id(self) -> str:
        return str(self.db.execute("SELECT id FROM instance").fetchone()[0])

    def chunk_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM chunks").fetchone()[0])


def _record(row: sqlite3.Row) -> DocumentRecord:
    return DocumentRecord(
        key=row["key"],
        content_hash=row["content_hash"],
        title=row["title"],
        type=row["type"],
        year=row["year"],
        metadata=json.loads(row["metadata"]),
        chunk_count=row["chunk_count"],
    )


def _passage(row: sqlite3.Row) -> Passage:
    metadata = json.loads(row["metadata"])
    metadata.update(type=row["type"], year=row["year"], ordinal=row["ordinal"])
    metadata["document_chunks"] = row["chunk_count"]  # where a sentence sits (answering/extractive.py)
    if not row["quotable"]:
        metadata["quotable"] = False
    return Passage(
        id=row["id"],
        text=row["text"],
        source=row["source"],
        title=row["title"],
        section=row["section"],
        page=row["page"],
        end_page=row["end_page"],
        metadata=metadata,
        headings=[(int(start), str(heading)) for start, heading in json.loads(row["headings"])],
    )


def _add_missing_columns(db: sqlite3.Connection) -> None:
    """A catalog made before end_page / quotable / headings existed gets them (its chunks are re-chunked on
    the next ingest, since the chunker version changed)."""
    have = {row[1] for row in db.execute("PRAGMA table_info(chunks)")}
    if "end_page" not in have:
        db.execute("ALTER TABLE chunks ADD COLUMN end_page INTEGER")
    if "quotable" not in have:
        db.execute("ALTER TABLE chunks ADD COLUMN quotable INTEGER NOT NULL DEFAULT 1")
    if "headings" not in have:
        db.execute("ALTER TABLE chunks ADD COLUMN headings TEXT NOT NULL DEFAULT '[]'")
