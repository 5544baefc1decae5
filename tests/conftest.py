"""Shared fixtures: one real index of the bundled corpus per test session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from exorag.config import Settings, get_settings

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session", autouse=True)
def shared_embedder_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ONNX export for the session (and its child processes), not one per test index."""
    folder = tmp_path_factory.mktemp("embedder-cache")
    os.environ.setdefault("EXORAG_EMBEDDER_CACHE", str(folder))
    return Path(os.environ["EXORAG_EMBEDDER_CACHE"])


@pytest.fixture(scope="session")
def indexed_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose index holds the bundled corpus, built once per session in a temp folder."""
    from exorag.ingest.sync import sync_corpus

    base = tmp_path_factory.mktemp("bundled")
    corpus = base / "corpus"
    shutil.copytree(BUNDLED_CORPUS, corpus)
    settings = get_settings(corpus=corpus, index=base / "index")
    report = sync_corpus(settings)
    assert not report.failed and report.added > 0
    return settings
