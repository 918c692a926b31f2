"""Shared fixtures: the real embedding model, loaded once, and a real Chroma store of the corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

import assistant  # noqa: F401  (offline environment before any model import)
from assistant.assistant import Assistant
from assistant.ingest import Library
from assistant.settings import PROJECT_ROOT, Settings
from assistant.store import Embedder

CORPUS = PROJECT_ROOT / "corpus"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    settings = Settings()
    return Embedder(settings.model_path, settings.embedding_batch_size)


@pytest.fixture
def make_library(tmp_path: Path, embedder: Embedder):
    """A fresh, empty library in its own data directory (real Chroma, real model)."""

    def make(**overrides) -> Library:
        settings = Settings(data_dir=tmp_path / "data", **overrides)
        return Library.open(settings, embedder)

    return make


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("corpus-store"))


@pytest.fixture(scope="session")
def corpus_library(corpus_settings: Settings, embedder: Embedder) -> Library:
    library = Library.open(corpus_settings, embedder)
    report = library.ingest([CORPUS], progress=False)
    assert report.count("added") == 5, report.summary()
    return library


@pytest.fixture(scope="session")
def corpus_assistant(corpus_settings: Settings, corpus_library: Library) -> Assistant:
    return Assistant(corpus_settings, corpus_library)
