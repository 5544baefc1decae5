"""The two systems the bench compares, behind one small interface: exorag (``sync_corpus``,
``Retriever.search``, ``chain.answer``) and the plain LangChain RAG of ``evals.baseline``.

Both retrieve with the query embedding included in the time, and both answer with the extractive
generator. Only exorag can use a Chroma server: the baseline always keeps its embedded store.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import numpy as np
from langchain_core.embeddings import Embeddings

from exorag.config import Settings
from exorag.models import Answer

SYSTEMS = ("exorag", "baseline")
# Below Chroma's maximum batch size (5,461 with its SQLite store).
CHROMA_BATCH = 4096


class BenchSystem(Protocol):
    name: str

    def ingest(self, embeddings: Embeddings) -> int:
        """Index the corpus, embedding with ``embeddings``; return the number of chunks indexed."""

    def sample_texts(self, count: int, seed: int) -> list[str]:
        """About ``count`` of the texts this system embedded, in windows spread over the index."""

    def retrieve(self, question: str, k: int) -> list[str]:
        """Texts of the ``k`` passages retrieved for ``question`` (query embedding included)."""

    def answer(self, question: str) -> Answer: ...

    def index_folder(self) -> Path: ...


def _windows(total: int, count: int, seed: int, width: int = 64) -> list[tuple[int, int]]:
    """``(offset, limit)`` of random windows of ``width`` rows adding up to about ``count`` of
    ``total``, and to no more than a quarter of a small index (at least one window)."""
    count = min(count, max(width, total // 4))
    if total <= count:
        return [(0, total)]
    rng = random.Random(seed)
    return sorted((rng.randrange(0, total - width + 1), width) for _ in range(max(1, count // width)))


class ExoragSystem:
    name = "exorag"

    def __init__(self, settings: Settings):
        self.settings = settings

    def ingest(self, embeddings: Embeddings) -> int:
        from exorag.ingest.sync import sync_corpus

        report = sync_corpus(self.settings, embeddings=embeddings)
        if report.failed:
            raise RuntimeError(f"{self.settings.corpus}: exorag failed to ingest {report.failed[:3]}")
        return report.chunks

    def sample_texts(self, count: int, seed: int) -> list[str]:
        from exorag.ingest.sync import embedding_text
        from exorag.store.chroma import VectorStore, chunk_from_row

        collection = VectorStore(self.settings).collection
        texts: list[str] = []
        for offset, limit in _windows(collection.count(), count, seed):
            rows = collection.get(include=["documents", "metadatas"], limit=limit, offset=offset)
            texts += [embedding_text(chunk_from_row(i, d, m)) for i, d, m in zip(rows["ids"], rows["documents"], rows["metadatas"])]
        return texts

    def retrieve(self, question: str, k: int) -> list[str]:
        from exorag.chain import get_pipeline

        pipeline = get_pipeline(self.settings)
        vector = pipeline.embeddings.embed_query(question)
        return [hit.chunk.text for hit in pipeline.retriever.search(question, k, None, vector)]

    def answer(self, question: str) -> Answer:
        from exorag.chain import answer

        return answer(question, None, self.settings)

    def index_folder(self) -> Path:
        return self.settings.index


@contextmanager
def chroma_adds_in_batches(batch: int = CHROMA_BATCH) -> Iterator[None]:
    """Make LangChain's ``Chroma.add_documents`` add in batches while the block runs.

    ``Chroma.from_documents`` batches, but ``add_documents`` hands Chroma every document in one
    upsert, which Chroma refuses above its maximum batch size (5,461 here); ``evals.baseline``
    builds its store with ``add_documents``, so beyond about 5,000 chunks it needs this.
    """
    from langchain_chroma import Chroma

    add_all = Chroma.add_documents

    def add_documents(store: Chroma, documents: list, ids: list[str] | None = None, **kwargs: object) -> list[str]:
        added: list[str] = []
        for start in range(0, len(documents), batch):
            part = ids[start : start + batch] if ids else None
            added += add_all(store, documents[start : start + batch], ids=part, **kwargs)
        return added

    Chroma.add_documents = add_documents
    try:
        yield
    finally:
        Chroma.add_documents = add_all


class BaselineSystem:
    """``evals.baseline.BaselineRAG``, given the bench's (cached) embeddings for ingest."""

    name = "baseline"

    def __init__(self, settings: Settings):
        from evals.baseline import BaselineRAG

        self.settings = settings.model_copy(update={"chroma_url": None})
        self.rag = BaselineRAG(self.settings)

    def ingest(self, embeddings: Embeddings) -> int:
        from evals.baseline import MANIFEST, BaselineRAG

        self.rag = BaselineRAG(self.settings, embeddings)
        with chroma_adds_in_batches():
            _ = self.rag.store  # builds the collection on first use
        return int(json.loads((self.rag.folder / MANIFEST).read_text())["chunks"])

    def sample_texts(self, count: int, seed: int) -> list[str]:
        store = self.rag.store
        texts: list[str] = []
        total = len(store.get(include=[])["ids"])
        for offset, limit in _windows(total, count, seed):
            texts += store.get(include=["documents"], limit=limit, offset=offset)["documents"]
        return texts

    def retrieve(self, question: str, k: int) -> list[str]:
        from exorag.embeddings import get_embeddings

        vector = np.asarray(get_embeddings(self.settings).embed_query(question), dtype=np.float32)
        return [evidence.text for evidence in self.rag.retrieve(vector, k)]

    def answer(self, question: str) -> Answer:
        return self.rag.answer(question)

    def index_folder(self) -> Path:
        return self.rag.folder


def open_system(name: str, settings: Settings) -> BenchSystem:
    if name == "exorag":
        return ExoragSystem(settings)
    if name == "baseline":
        return BaselineSystem(settings)
    raise ValueError(f"unknown system {name!r}; use one of {', '.join(SYSTEMS)}")
