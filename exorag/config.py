"""One settings object for exorag: working defaults, ``EXORAG_*`` variables, then CLI flags.

``Settings`` carries everything; its sections ``literature`` (``exorag refs fetch``) and ``slack``
(the bot's tokens and allow-lists) read their own variables, listed in their classes. Nothing here
reaches the network: a Chroma server, a remote LLM or Slack are used only when their settings are
given.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlparse

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from exorag.refs.settings import LiteratureSettings
from exorag.slack.settings import SlackSettings

# Third-party telemetry is off before any of those libraries is imported.
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")


def usable_cores(cpu_max: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """The cores this process may use: those it may run on, capped by a container's CPU quota
    (cgroup v2 ``cpu.max``), which the core count alone does not show."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        quota, period = cpu_max.read_text(encoding="utf-8").split()
        if quota != "max":
            cores = min(cores, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass  # no cgroup v2 quota here
    return cores


class Settings(BaseSettings):
    """Every setting of exorag; each field can be set as ``EXORAG_<NAME>``."""

    # nan passes no comparison (a threshold of nan turns its check off) and inf overflows counts.
    model_config = SettingsConfigDict(env_prefix="EXORAG_", extra="ignore", allow_inf_nan=False)

    corpus: Path = Path("corpus")
    index: Path = Path("index")
    chroma_url: str | None = Field(default=None, description="a Chroma server, e.g. http://127.0.0.1:8000")
    # Chroma's rule for a collection name: 3-512 letters, digits, ".", "_" or "-", a letter or digit at each end.
    collection: str = Field(default="exorag", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{1,510}[A-Za-z0-9]$")
    embedding_model: str | None = Field(default=None, description="a local sentence-transformers folder")
    embedding_batch_size: int = Field(default=64, ge=1)
    embedder: Literal["torch", "onnx", "onnx-int8"] = Field(
        default="onnx", description="onnx (ONNX Runtime fp32, the default), torch (sentence-transformers fp32) or onnx-int8")
    embedder_cache: Path | None = Field(default=None, description="where ONNX exports are kept; default <index>/embedder")
    embedder_threads: int = Field(default_factory=usable_cores, ge=1,
                                  description="ONNX Runtime intra-op threads; default every core this process may use")

    chunk_words: int = Field(default=120, ge=1)
    chunk_overlap_sentences: int = Field(default=1, ge=0)
    # A paper with its figures is a few MB; a larger file is more often a scan or a data dump, and
    # would hold the ingest lock for a long time.
    max_file_mb: float = Field(default=50.0, gt=0)

    generator: Literal["extractive", "llm"] = "extractive"
    k: int = Field(default=6, ge=1)
    llm_base_url: str | None = None
    llm_model: str = "local"
    llm_api_key: str = "not-needed"
    llm_gguf: Path | None = None
    llm_temperature: float = Field(default=0.0, ge=0.0)
    llm_max_tokens: int = Field(default=400, ge=1)
    llm_timeout: float = Field(default=120.0, gt=0)  # seconds a request to the LLM server may take (one retry)
    llm_threads: int = Field(default_factory=usable_cores, ge=1,
                             description="llama.cpp threads of the in-process GGUF model; default every core this process may use")

    # Answerability (exorag.answerability.focus_relevance): below min_relevance, the retrieved
    # passages do not address the question's focus. Relevance blends the best source's coverage of
    # the question's terms (this weight) with the closest sentence's cosine, over the first
    # relevance_passages passages; a term the source lacks earns credit from a source word whose
    # embedding cosine rises from the floor (none) to full (all). Tuned on the tune half of
    # PubMedQA-dev and exosome_qa (docs in README "When the literature does not answer").
    min_relevance: float = Field(default=0.63, ge=0.0, le=1.0)
    relevance_coverage_weight: float = Field(default=0.6, ge=0.0, le=1.0)
    relevance_passages: int = Field(default=5, ge=1)
    synonym_cosine_floor: float = Field(default=0.3, ge=-1.0, le=1.0)
    synonym_cosine_full: float = Field(default=0.7, ge=-1.0, le=1.0)
    # Below this score of its best sentence, the extractive generator finds no sentence that answers.
    min_sentence_confidence: float = Field(default=0.15, ge=0.0, le=1.0)

    # Which judge verifies answers (exorag.judge): on held-out claim pairs the rule judge is ahead
    # of the learned one (README, "Auditing citations").
    judge: Literal["rules", "offline", "learned", "auto", "llm", "nli"] = "rules"
    nli_model: Path | None = Field(
        default=None, description="the nli judge's model: a folder saved by sentence-transformers' CrossEncoder")

    api_token: str | None = Field(default=None, description="bearer token that `exorag api` requires when set")
    # A server on a loopback address answers only requests addressed to a loopback name, and these
    # (exorag.loopback): a reverse proxy on this machine that passes on its own public name.
    allowed_hosts: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), description="comma-separated host names a loopback server also answers to (EXORAG_ALLOWED_HOSTS)")
    ui_auth: SecretStr | None = Field(default=None, description="user:password that the chat UI asks for when set")
    feedback_db: Path | None = Field(default=None, description="default: <index>/feedback.sqlite3")

    literature: LiteratureSettings = Field(default_factory=LiteratureSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)

    @field_validator("chroma_url")
    @classmethod
    def _an_http_url(cls, value: str | None) -> str | None:
        # "dbhost:9000" parses as scheme "dbhost" with no host, and the client would fall back to 127.0.0.1:8000.
        url = urlparse(value) if value is not None else None
        if url is not None and (url.scheme not in ("http", "https") or not url.hostname):
            raise ValueError(f"{value!r} is not an http(s) URL with a host (e.g. http://dbhost:9000)")
        return value

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip().lower() for part in value.split(",") if part.strip())
        return value

    @property
    def llm_configured(self) -> bool:
        """Whether an LLM generator is set up (EXORAG_LLM_BASE_URL or EXORAG_LLM_GGUF)."""
        return bool(self.llm_base_url or self.llm_gguf)


def get_settings(**overrides: object) -> Settings:
    """Settings from the environment, with non-None ``overrides`` (CLI flags) on top."""
    return Settings(**{key: value for key, value in overrides.items() if value is not None})
