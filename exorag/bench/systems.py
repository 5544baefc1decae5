"""The two systems the bench compares, behind one small interface: the pipelines ``EXORAG`` and
``PLAIN`` (the plain LangChain RAG) of ``exorag.pipelines``, each ingested with ``sync_corpus``,
searched with its retriever and answered by ``chain.answer``.

Both retrieve with the query embedding included in the time, and both answer with the extractive
generator. Only exorag can use a Chroma server: the baseline always keeps its embedded store.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Protocol

from langchain_core.embeddings import Embeddings

from exorag.config import Settings
from exorag.models import Answer
from exorag.pipelines import EXORAG, PLAIN, Parts

SYSTEMS = ("exorag", "baseline")


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


class PipelineSystem:
    """A pipeline of ``exorag.pipelines`` (its own collection in the index folder) as a bench system."""

    def __init__(self, name: str, settings: Settings, parts: Parts):
        self.name = name
        self.settings = parts.configure(settings)
        self.parts = parts

    def ingest(self, embeddings: Embeddings) -> int:
        from exorag.pipelines import ingest

        report = ingest(self.settings, self.parts, embeddings)
        if report.failed:
            raise RuntimeError(f"{self.settings.corpus}: {self.name} failed to ingest {report.failed[:3]}")
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

        pipeline = get_pipeline(self.settings, self.parts)
        vector = pipeline.embeddings.embed_query(question)
        return [hit.chunk.text for hit in pipeline.retriever.search(question, k, None, vector)]

    def answer(self, question: str) -> Answer:
        from exorag.chain import answer

        return answer(question, None, self.settings, self.parts)

    def index_folder(self) -> Path:
        return self.settings.index


def open_system(name: str, settings: Settings) -> BenchSystem:
    if name in SYSTEMS:
        return PipelineSystem(name, settings, EXORAG if name == "exorag" else PLAIN)
    raise ValueError(f"unknown system {name!r}; use one of {', '.join(SYSTEMS)}")
