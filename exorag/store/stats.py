"""What an index holds: sources, chunks, reference numbers covered and size on disk."""

from __future__ import annotations

from collections import Counter

from exorag.config import Settings
from exorag.embeddings import embedder_cache
from exorag.store.chroma import VectorStore


def folder_size_mb(settings: Settings) -> float:
    """The index folder's size, less the ONNX exports kept there (they belong to the model, not the index)."""
    if not settings.index.exists():
        return 0.0
    exports = embedder_cache(settings)
    return round(sum(p.stat().st_size for p in settings.index.rglob("*") if p.is_file() and exports not in p.parents) / 1e6, 2)


def index_stats(settings: Settings) -> dict:
    store = VectorStore(settings)
    chunks_per_source: Counter[tuple[str, str]] = Counter()
    suspect_per_source: Counter[str] = Counter()
    refs: set[int] = set()
    for chunk in store.all_chunks():
        chunks_per_source[(chunk.source_path, chunk.source_kind)] += 1
        suspect_per_source[chunk.source_path] += chunk.suspect
        refs.update(chunk.refs)
    return {
        "index": settings.chroma_url or str(settings.index),
        "sources": [{"path": p, "kind": k, "chunks": n} for (p, k), n in sorted(chunks_per_source.items())],
        "source_count": len(chunks_per_source),
        "chunks": sum(chunks_per_source.values()),
        "reference_numbers": len(refs),
        "reference_range": f"{min(refs)}-{max(refs)}" if refs else "",
        "size_mb": folder_size_mb(settings),
        # chunks whose text reads as instructions to a model: indexed, never given to a generator
        "suspect_chunks": sum(suspect_per_source.values()),
        "suspect_sources": [{"path": p, "chunks": n} for p, n in sorted(suspect_per_source.items()) if n],
    }
