"""An embedding cache for benchmark runs: vectors keyed by the sha256 of the text that was embedded.

Embedding is what bounds ingest (about 30 passages a second on 2 cores), so a 100,000-chunk bench
would spend an hour re-embedding the same generated text on every run. The cache lives outside
any index folder (``~/.cache/exorag-bench`` by default), one folder per embedding model, as shards
of ``.npy`` vectors with a ``.keys`` file of 32-byte digests beside each. Writers only ever add new
shards under fresh names, so concurrent bench runs never corrupt it.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from exorag.embeddings import model_fingerprint

DEFAULT_FOLDER = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "exorag-bench"
_DIGEST = 32
# Misses are embedded and saved this many at a time, so an interrupted fill keeps what it did.
SAVE_EVERY = 1024


def corpus_folder(root: Path, seed: int, chunks: int) -> Path:
    """Where the generated corpus of ``chunks`` chunks is kept between runs."""
    return root / "corpora" / f"seed{seed}-{chunks}"


def embeddings_folder(root: Path, model_folder: str, embedder: str) -> Path:
    """Where the vectors of one embedding model, run by one embedder, are kept."""
    suffix = "" if embedder == "torch" else f"-{embedder}"  # torch's folder predates the embedder choice
    return root / "embeddings" / f"{Path(model_folder).name}-{model_fingerprint(model_folder)}{suffix}"


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class EmbeddingCache:
    """Vectors of texts embedded before, for one model, in ``folder``."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._rows: dict[bytes, tuple[int, int]] = {}
        self._shards: list[np.ndarray] = []
        for keys_path in sorted(self.folder.glob("*.keys")):
            keys = keys_path.read_bytes()
            vectors = np.load(keys_path.with_suffix(".npy"), mmap_mode="r")
            if len(keys) != _DIGEST * len(vectors):
                continue  # a shard whose writer died between its two files
            shard = len(self._shards)
            self._shards.append(vectors)
            for row in range(len(vectors)):
                self._rows[keys[row * _DIGEST : (row + 1) * _DIGEST]] = (shard, row)

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, key: bytes) -> np.ndarray | None:
        where = self._rows.get(key)
        if where is None:
            return None
        shard, row = where
        return np.asarray(self._shards[shard][row], dtype=np.float32)

    def put(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Save a new shard; the ``.keys`` file is written last, so a half-written shard is ignored."""
        if not len(keys):
            return
        name = self.folder / f"{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        with open(f"{name}.npy.tmp", "wb") as stream:
            np.save(stream, vectors, allow_pickle=False)
        os.replace(f"{name}.npy.tmp", f"{name}.npy")
        Path(f"{name}.keys.tmp").write_bytes(b"".join(keys))
        os.replace(f"{name}.keys.tmp", f"{name}.keys")
        shard = len(self._shards)
        self._shards.append(vectors)
        for row, key in enumerate(keys):
            self._rows[key] = (shard, row)


class CachedEmbeddings(Embeddings):
    """LangChain embeddings that look documents up in an ``EmbeddingCache`` and embed only the misses.

    Queries are always embedded (their cost is part of retrieval latency). Counters say how many
    documents came from the cache, how many were embedded, and the seconds spent in each. Without
    a cache, every call goes to the model as it is, and the counters time the model alone.
    """

    def __init__(self, model: Embeddings, cache: EmbeddingCache | None):
        self.model = model
        self.cache = cache
        self.cached = 0
        self.embedded = 0
        self.model_seconds = 0.0
        self.cache_seconds = 0.0

    @property
    def model_name(self) -> str:
        """The wrapped model's name: cached vectors are that model's, so indexes built with either match."""
        return str(getattr(self.model, "model_name", type(self.model).__name__))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        started = time.perf_counter()
        if self.cache is None:
            vectors = self.model.embed_documents(texts)
            self.model_seconds += time.perf_counter() - started
            self.embedded += len(texts)
            return vectors
        keys = [text_key(text) for text in texts]
        vectors: dict[bytes, np.ndarray] = {}
        missing: dict[bytes, str] = {}
        for key, text in zip(keys, texts):
            found = self.cache.get(key)
            if found is None:
                missing[key] = text
            else:
                vectors[key] = found
        self.cache_seconds += time.perf_counter() - started
        missing_keys = list(missing)
        for start in range(0, len(missing_keys), SAVE_EVERY):
            block = missing_keys[start : start + SAVE_EVERY]
            embed_started = time.perf_counter()
            embedded = np.asarray(self.model.embed_documents([missing[key] for key in block]), dtype=np.float32)
            self.model_seconds += time.perf_counter() - embed_started
            save_started = time.perf_counter()
            self.cache.put(block, embedded)
            vectors.update(zip(block, embedded))
            self.cache_seconds += time.perf_counter() - save_started
        self.embedded += len(missing_keys)
        self.cached += len(texts) - len(missing_keys)
        return [vectors[key].tolist() for key in keys]

    def embed_query(self, text: str) -> list[float]:
        return self.model.embed_query(text)
