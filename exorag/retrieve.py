"""Hybrid retrieval: dense (Chroma) and lexical (BM25) scores fused by a convex combination,
near-duplicates dropped, and the final set diversified by maximal marginal relevance.

Any ``PassageRetriever`` can stand in for it in the answer path: ``SimilarityRetriever`` is plain
Chroma top-k similarity (the plain pipeline of ``exorag.pipelines``). ``HybridRetriever`` wraps
the hybrid search as a LangChain ``BaseRetriever`` for use in chains of one's own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from exorag.models import Chunk, HeldBack, SourceKind
from exorag.store.index import Index
from exorag.text import exact_identifiers

# Share of the dense score in the fused score (the rest is BM25's).
DENSE_WEIGHT = 0.6
# Added to the fused score (0..1) of a passage holding every exact identifier of the question:
# an exact id is the most precise thing a question can say, so such passages rank first.
IDENTIFIER_BOOST = 1.0
CANDIDATES = 30
MMR_LAMBDA = 0.75
DUPLICATE_COSINE = 0.97


@dataclass
class Filters:
    source_kind: SourceKind | None = None
    sections: list[str] | None = None
    refs: list[int] | None = None

    def chroma_where(self) -> dict | None:
        clauses: list[dict] = []
        if self.source_kind:
            clauses.append({"source_kind": self.source_kind})
        if self.sections:
            clauses.append({"section": {"$in": list(self.sections)}})
        if self.refs:
            ref_clauses = [{"refs": {"$contains": int(r)}} for r in self.refs]
            clauses.append(ref_clauses[0] if len(ref_clauses) == 1 else {"$or": ref_clauses})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


@dataclass
class Hit:
    """A retrieved chunk with its fused relevance and its cosine similarity to the question."""

    chunk: Chunk
    fused: float
    cosine: float
    embedding: np.ndarray


def fuse_scores(dense: dict[str, float], lexical: dict[str, float], dense_weight: float = DENSE_WEIGHT) -> dict[str, float]:
    """Convex combination of min-max normalised scores; an id missing from a list scores 0 there, as
    that list's lowest entry does (a list whose scores all tie scores 1 for each).

    Unlike rank fusion, it keeps how far apart the scores are, so a passage that one retriever
    finds far better than the rest is not pulled level with those that both merely like.
    """
    def normalised(scores: dict[str, float]) -> dict[str, float]:
        if not scores:
            return {}
        low, high = min(scores.values()), max(scores.values())
        return {i: (v - low) / (high - low) if high > low else 1.0 for i, v in scores.items()}

    dense_n, lexical_n = normalised(dense), normalised(lexical)
    return {i: dense_weight * dense_n.get(i, 0.0) + (1 - dense_weight) * lexical_n.get(i, 0.0)
            for i in dense_n.keys() | lexical_n.keys()}


def select_diverse(relevance: np.ndarray, vectors: np.ndarray, k: int, weight: float = MMR_LAMBDA) -> list[int]:
    """Maximal marginal relevance; near-duplicates of a chosen passage are never chosen."""
    chosen: list[int] = []
    remaining = list(range(len(relevance)))
    while remaining and len(chosen) < k:
        if chosen:
            similarity = vectors[remaining] @ vectors[chosen].T
            redundancy = similarity.max(axis=1)
        else:
            redundancy = np.zeros(len(remaining))
        scores = weight * relevance[remaining] - (1 - weight) * redundancy
        best = int(np.argmax(scores))
        candidate = remaining.pop(best)
        if redundancy[best] < DUPLICATE_COSINE:
            chosen.append(candidate)
    return chosen


class Retrieved(list[Hit]):
    """The hits of one search, and the sources of suspect chunks (instruction-like text) that ranked
    among the best ``k`` of either search but were kept from the generator."""

    def __init__(self, hits: list[Hit], held_back: list[Chunk]):
        super().__init__(hits)
        by_source = {chunk.source_path: chunk for chunk in held_back}
        self.held_back = [HeldBack(source_path=path, source_label=chunk.title or path) for path, chunk in by_source.items()]


class PassageRetriever(Protocol):
    """What the answer path needs of a retriever."""

    def search(self, question: str, k: int, filters: Filters | None = None,
               query_vector: Sequence[float] | None = None) -> Retrieved:
        """The ``k`` best passages for ``question`` (``query_vector`` is its embedding, when known)."""
        ...


class SimilarityRetriever:
    """Chroma's plain top-k cosine similarity: no lexical search, no diversification, no held-back chunks."""

    def __init__(self, index: Index, embed_query: Callable[[str], list[float]]) -> None:
        self.index = index
        self.embed_query = embed_query

    def search(self, question: str, k: int, filters: Filters | None = None,
               query_vector: Sequence[float] | None = None) -> Retrieved:
        vector = query_vector if query_vector is not None else self.embed_query(question)
        rows = self.index.vectors.query(vector, k, (filters or Filters()).chroma_where())
        return Retrieved([Hit(chunk, cosine, cosine, embedding)
                          for chunk, cosine, embedding in rows], [])


class Retriever:
    """Hybrid search over one ``Index``."""

    def __init__(self, index: Index, embed_query: Callable[[str], list[float]]) -> None:
        self.index = index
        self.embed_query = embed_query

    def search(self, question: str, k: int, filters: Filters | None = None,
               query_vector: Sequence[float] | None = None) -> Retrieved:
        """The ``k`` best passages for ``question``; suspect chunks are never among them."""
        filters = filters or Filters()
        vector = np.asarray(query_vector if query_vector is not None else self.embed_query(question), dtype=np.float32)
        suspect = self.index.lexical.suspect
        dense_all = self.index.vectors.query(vector, CANDIDATES, filters.chroma_where())
        dense = [row for row in dense_all if row[0].chunk_id not in suspect]
        held_back = self._held_back(question, k, filters, dense_all) if suspect else []
        mask = self.index.lexical.allowed(filters.source_kind, filters.sections, filters.refs)
        lexical = self.index.lexical.search(question, CANDIDATES, mask)
        fused = fuse_scores({c.chunk_id: cosine for c, cosine, _ in dense}, dict(lexical))
        # Passages holding every exact identifier of the question (miR-1273f, GW4869, T98G) come
        # first; when only a few do, they join the candidates even if neither search ranked them.
        naming = self.index.lexical.naming_all(exact_identifiers(question), mask)
        for chunk_id in naming if len(naming) <= CANDIDATES else naming & fused.keys():
            fused[chunk_id] = fused.get(chunk_id, 0.0) + IDENTIFIER_BOOST
        pool = sorted(fused, key=fused.get, reverse=True)[: 2 * k + 4]

        found: dict[str, tuple[Chunk, np.ndarray]] = {c.chunk_id: (c, e) for c, _, e in dense}
        found.update(self.index.vectors.get([chunk_id for chunk_id in pool if chunk_id not in found]))
        pool = [chunk_id for chunk_id in pool if chunk_id in found]
        if not pool:
            return Retrieved([], held_back)

        pool.sort(key=fused.get, reverse=True)
        vectors = np.stack([found[chunk_id][1] for chunk_id in pool])
        relevance = np.array([fused[chunk_id] for chunk_id in pool])
        relevance = relevance / relevance.max()
        cosines = vectors @ vector
        return Retrieved([
            Hit(found[pool[i]][0], float(relevance[i]), float(cosines[i]), vectors[i])
            for i in select_diverse(relevance, vectors, k)
        ], held_back)

    def _held_back(self, question: str, k: int, filters: Filters, dense: list[tuple[Chunk, float, np.ndarray]]
                   ) -> list[Chunk]:
        """Suspect chunks among the ``k`` best of the dense or the lexical search."""
        lexical = self.index.lexical
        suspect = lexical.suspect
        chunks = {c.chunk_id: c for c, _, _ in dense[:k] if c.chunk_id in suspect}
        only_suspect = lexical.allowed(filters.source_kind, filters.sections, filters.refs, suspect_only=True)
        ranked = [chunk_id for chunk_id, _ in lexical.search(question, k, only_suspect) if chunk_id not in chunks]
        chunks.update((chunk_id, chunk) for chunk_id, (chunk, _) in self.index.vectors.get(ranked).items())
        return list(chunks.values())


class HybridRetriever(BaseRetriever):
    """exorag's hybrid search as a LangChain retriever (documents carry the chunk metadata)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Retriever
    k: int = 6
    filters: Filters | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [
            Document(
                page_content=hit.chunk.text,
                id=hit.chunk.chunk_id,
                metadata={**hit.chunk.model_dump(exclude={"text"}), "score": hit.fused, "cosine": hit.cosine},
            )
            for hit in self.retriever.search(query, self.k, self.filters)
        ]
