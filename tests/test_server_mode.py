"""Server mode against a real `chroma run`: ingest, a cited answer, a clear error while the server is
down, and recovery when it is back on the same port and path."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.assistant import Assistant
from assistant.cli import main
from assistant.ingest import ingest
from assistant.library import Library
from assistant.settings import PROJECT_ROOT, Settings
from assistant.store import StoreUnavailable

pytestmark = pytest.mark.server

CHROMA = Path(sys.executable).parent / "chroma"
QUESTION = "How can a partnership share power among its members?"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ChromaServer:
    def __init__(self, path: Path, port: int) -> None:
        self.path, self.port = path, port
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", timeout=2):
                    return
            except OSError:
                assert self.process.poll() is None, "chroma run exited"
                time.sleep(0.2)
        raise TimeoutError(f"chroma run did not answer on port {self.port} within 60 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ChromaServer]:
    chroma = ChromaServer(tmp_path / "chroma-server", free_port())
    chroma.start()
    yield chroma
    chroma.stop()


def assert_cited(answer) -> None:
    assert not answer.abstained, answer.text
    assert answer.citations
    corpus = {p.name for p in (PROJECT_ROOT / "corpus").glob("*.md")}
    assert all(Path(c.source).name in corpus for c in answer.citations)


def test_ingest_ask_outage_and_recovery(server, tmp_path, monkeypatch, embedder, capsys):
    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", str(server.port))
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    settings = Settings()
    assert (settings.chroma_host, settings.chroma_port) == ("127.0.0.1", server.port)
    library = Library.open(settings, embedder)
    report = ingest(library, [PROJECT_ROOT / "corpus"], progress=False)
    assert report.count("added") == 5, report.summary()
    assert library.vectors.count() == library.catalog.chunk_count() > 0
    assert not (tmp_path / "data" / "chroma").exists()  # the vectors live on the server
    bot = Assistant(settings, library)
    assert_cited(bot.ask(QUESTION))

    server.stop()
    with pytest.raises(StoreUnavailable, match=f"Chroma server at 127.0.0.1:{server.port}"):
        bot.ask(QUESTION)
    with pytest.raises(StoreUnavailable):  # and again: no half-open state after the first failure
        ingest(library, [PROJECT_ROOT / "corpus"], progress=False)
    assert main(["documents"]) == 0  # the catalog alone still answers
    capsys.readouterr()
    assert main(["ingest", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err and str(server.port) in err

    server.start()  # same port, same path
    assert_cited(bot.ask(QUESTION))
    again = ingest(library, [PROJECT_ROOT / "corpus"], progress=False)
    assert again.count("unchanged") == 5 and library.vectors.count() == library.catalog.chunk_count()
