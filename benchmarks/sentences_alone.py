"""Rewrite a data dir's stored sentence vectors as each sentence encoded alone, for the
like-for-like comparison of pooled and separately encoded sentence vectors (benchmarks/README.md,
"Pooled against encoded alone").

    cp -a DEVLIB DEVLIB-alone && python benchmarks/sentences_alone.py DEVLIB-alone

Run it on a copy: the vectors keep the current version label so the answerer reads them, which
makes the copy a measuring device, not a library to keep (the next ingest would not remake them).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.sentences import ChunkSentences
from assistant.settings import Settings
from assistant.store import Embedder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path, help="a copy of a data dir (its catalog is rewritten)")
    catalog = parser.parse_args().data_dir / "catalog.sqlite3"
    if not catalog.exists():
        parser.error(f"{catalog}: no catalog there")
    db = sqlite3.connect(catalog)
    rows = db.execute(
        "SELECT s.chunk_id, s.data, c.text FROM sentence_vectors s JOIN chunks c ON c.id = s.chunk_id"
    ).fetchall()
    stored = [ChunkSentences.from_bytes(data) for _, data, _ in rows]
    texts = [text[a:b] for (_, _, text), chunk in zip(rows, stored, strict=True) for a, b in chunk.spans]
    print(f"{len(rows)} chunks, {len(texts)} sentences")
    settings = Settings()
    vectors = Embedder(settings.model_path, settings.embedding_batch_size).encode(texts, progress=True)
    updates, start = [], 0
    for (chunk_id, _, _), chunk in zip(rows, stored, strict=True):
        end = start + len(chunk.spans)
        alone = ChunkSentences(np.asarray(chunk.spans, np.int32), vectors[start:end].astype(np.float16))
        updates.append((alone.to_bytes(), chunk_id))
        start = end
    db.executemany("UPDATE sentence_vectors SET data = ? WHERE chunk_id = ?", updates)
    db.commit()
    print(f"rewrote the sentence vectors of {len(updates)} chunks in {catalog}")


if __name__ == "__main__":
    main()
