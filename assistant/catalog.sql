-- The catalog's tables (assistant/catalog.py): documents, their chunks, sentence vectors, BM25.
CREATE TABLE IF NOT EXISTS documents (
    key TEXT PRIMARY KEY,            -- the file's path (relative to the project when inside it)
    content_hash TEXT NOT NULL,
    title TEXT NOT NULL,
    type TEXT,
    year INTEGER,
    metadata TEXT NOT NULL,          -- JSON: authors, venue, doi, ...
    chunk_count INTEGER NOT NULL,
    ingested_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE INDEX IF NOT EXISTS documents_hash ON documents(content_hash);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY,
    id TEXT UNIQUE NOT NULL,
    source TEXT NOT NULL REFERENCES documents(key) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    text TEXT NOT NULL,
    section TEXT NOT NULL,
    page INTEGER,
    end_page INTEGER,                -- the page its last sentence ends on, when later than page
    quotable INTEGER NOT NULL DEFAULT 1,  -- 0: reference list, affiliations, copyright: never quoted
    headings TEXT NOT NULL DEFAULT '[]'  -- JSON [[offset, heading], ...]: the headings inside the chunk
);
CREATE INDEX IF NOT EXISTS chunks_source ON chunks(source);
-- Each chunk's sentence vectors (assistant/sentences.py), written in the chunk's transaction.
CREATE TABLE IF NOT EXISTS sentence_vectors (
    chunk_id TEXT PRIMARY KEY,
    version TEXT NOT NULL,           -- what made them: another version is made again on ingest
    data BLOB NOT NULL               -- ChunkSentences.to_bytes(): spans and float16 vectors
);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(title, section, text, tokenize = 'porter unicode61');
-- One random id per catalog: its vectors on a shared Chroma server carry it (see Library.reconcile).
CREATE TABLE IF NOT EXISTS instance (id TEXT NOT NULL);
INSERT INTO instance (id) SELECT lower(hex(randomblob(16))) WHERE NOT EXISTS (SELECT 1 FROM instance);
