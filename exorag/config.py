"""One settings object for exorag: working defaults, ``EXORAG_*`` variables, then CLI flags.

Nothing here reaches the network: a Chroma server, a remote LLM or Slack are used only when their
settings are given.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# Third-party telemetry is off before any of those libraries is imported.
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")


class Settings(BaseSettings):
    """Every setting of exorag; each field can be set as ``EXORAG_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="EXORAG_", extra="ignore")

    corpus: Path = Path("corpus")
    index: Path = Path("index")
    chroma_url: str | None = Field(default=None, description="a Chroma server, e.g. http://127.0.0.1:8000")
    collection: str = "exorag"
    embedding_model: str | None = Field(default=None, description="a local sentence-transformers folder")
    embedding_batch_size: int = 64

    chunk_words: int = 120
    chunk_overlap_sentences: int = 1
    max_file_mb: float = 200.0

    generator: Literal["extractive", "llm"] = "extractive"
    k: int = 6
    llm_base_url: str | None = None
    llm_model: str = "local"
    llm_api_key: str = "not-needed"
    llm_gguf: Path | None = None
    llm_temperature: float = 0.0
    llm_max_tokens: int = 400

    # Answerability (exorag.answerability.focus_relevance): below min_relevance, the retrieved
    # passages do not address the question's focus. Relevance blends the best source's coverage of
    # the question's terms (this weight) with the closest sentence's cosine, over the first
    # relevance_passages passages; a term the source lacks earns credit from a source word whose
    # embedding cosine rises from the floor (none) to full (all). Tuned on the tune half of
    # PubMedQA-dev and exosome_qa (docs in README "When the literature does not answer").
    min_relevance: float = 0.63
    relevance_coverage_weight: float = 0.6
    relevance_passages: int = 5
    synonym_cosine_floor: float = 0.3
    synonym_cosine_full: float = 0.7
    # Below this score of its best sentence, the extractive generator finds no sentence that answers.
    min_sentence_confidence: float = 0.15

    feedback_db: Path | None = Field(default=None, description="default: <index>/feedback.sqlite3")


def get_settings(**overrides: object) -> Settings:
    """Settings from the environment, with non-None ``overrides`` (CLI flags) on top."""
    return Settings(**{key: value for key, value in overrides.items() if value is not None})
