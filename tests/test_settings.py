"""One source of settings: the retrieval section reads the ASSISTANT_* names it always had, and every
reader (the Assistant, the BEIR runner, the bench) gets an override through it."""

from __future__ import annotations

import pytest

from assistant.assistant import Assistant
from assistant.evaluation.beir import configurations
from assistant.settings import RetrievalSettings, Settings

OVERRIDES = {
    "ASSISTANT_RETRIEVAL_MODE": ("mode", "dense"),
    "ASSISTANT_TOP_K": ("k", 3),
    "ASSISTANT_CANDIDATES": ("candidates", 12),
    "ASSISTANT_FUSION": ("fusion", "rrf"),
    "ASSISTANT_DENSE_WEIGHT": ("dense_weight", 0.5),
    "ASSISTANT_BM25_WEIGHT": ("bm25_weight", 0.25),
    "ASSISTANT_RRF_K": ("rrf_k", 10),
    "ASSISTANT_BM25_TITLE_WEIGHT": ("bm25_title_weight", 2.5),
    "ASSISTANT_MAX_PER_DOCUMENT": ("max_per_document", 1),
}


@pytest.fixture
def overridden(monkeypatch, tmp_path):
    for name, (_, value) in OVERRIDES.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.chdir(tmp_path)  # no .env of the checkout


def test_every_retrieval_variable_reaches_the_retrieval_section(overridden):
    retrieval = Settings().retrieval
    for name, (field, value) in OVERRIDES.items():
        assert getattr(retrieval, field) == value, name


def test_without_variables_the_defaults_hold(monkeypatch, tmp_path):
    for name in OVERRIDES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    retrieval = Settings().retrieval
    assert (retrieval.mode, retrieval.k, retrieval.fusion) == ("hybrid", 6, "convex")
    assert (retrieval.dense_weight, retrieval.bm25_weight) == (0.65, 0.35)


def test_a_dotenv_file_sets_the_section_too(monkeypatch, tmp_path):
    monkeypatch.delenv("ASSISTANT_TOP_K", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("ASSISTANT_TOP_K=9\n")
    assert Settings().retrieval.k == 9


def test_bad_values_are_refused_with_the_field_named(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ASSISTANT_FUSION", "average")
    with pytest.raises(ValueError, match="fusion"):
        Settings()


def test_every_retrieval_field_is_described():
    for name, field in RetrievalSettings.model_fields.items():
        assert field.description, name
    assert Settings.model_fields["retrieval"].description


def test_the_assistant_and_the_beir_runner_read_the_override(overridden, tmp_path, embedder, make_library):
    settings = Settings(data_dir=tmp_path / "data")
    bot = Assistant(settings, make_library())
    assert (bot.retrieval.mode, bot.retrieval.k, bot.retrieval.dense_weight) == ("dense", 3, 0.5)
    rows = configurations(settings)
    assert rows["tuned, 12 candidates as in chat"] == settings.retrieval
    assert rows["tuned (product settings)"].dense_weight == 0.5
    assert rows["dense"].bm25_title_weight == 2.5  # only what a row is about changes
