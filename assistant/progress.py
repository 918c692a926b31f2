"""Ingest's progress bar: chunks embedded, the part that takes the time, with an honest ETA.

Parsing runs ahead of embedding (worker processes, batches of 1,024 chunks), so a bar over files
parsed reached half-way in seconds and then sat there for minutes. This bar counts chunks embedded
and stored out of the run's total, which is known only once every file is parsed: until then the
chunks of the files still to parse are estimated from their size at the chunks-per-byte seen so far.
"""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm


class EmbeddingProgress:
    def __init__(self, to_parse: list[Path], *, enabled: bool) -> None:
        self.files = len(to_parse)
        self.bytes_left = sum(_size(path) for path in to_parse)
        self.bytes_parsed = 0
        self.chunks_parsed = 0
        self.chunks_other = 0  # stored chunks whose sentence vectors are to be made
        self.parsed_files = 0
        self.bar = tqdm(desc="Embedding", unit="chunk", total=None, disable=not enabled, smoothing=0.1)

    def __enter__(self) -> EmbeddingProgress:
        return self

    def __exit__(self, *_: object) -> None:
        self.bar.close()

    def parsed(self, path: Path, chunks: int) -> None:
        """A file was parsed into this many chunks (0 for a skipped one)."""
        size = _size(path)
        self.bytes_left -= size
        self.bytes_parsed += size
        self.chunks_parsed += chunks
        self.parsed_files += 1
        self.bar.set_postfix_str(f"{self.parsed_files}/{self.files} files parsed", refresh=False)
        self._retotal()

    def more(self, chunks: int) -> None:
        """Chunks to embed that no file brings (stored chunks whose sentence vectors are made)."""
        self.chunks_other += chunks
        self._retotal()

    def embedded(self, chunks: int) -> None:
        self.bar.update(chunks)

    def _retotal(self) -> None:
        rate = self.chunks_parsed / self.bytes_parsed if self.bytes_parsed else 0.0
        total = self.chunks_parsed + self.chunks_other + round(max(0, self.bytes_left) * rate)
        if total and total != self.bar.total:
            self.bar.total = total
            self.bar.refresh()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
