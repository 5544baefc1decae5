"""What runs inside a bench child process, so that its memory and start-up are its own.

``python -m exorag.bench.worker TASK JSON`` runs ``ingest`` or ``query`` for one system and prints
one line ``RESULT {json}`` at the end; ``query`` also prints ``FIRST_ANSWER`` as soon as its first
question is answered, which is how the parent times start-up.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import json
import resource
import sys
from pathlib import Path

from exorag.config import Settings

FIRST_ANSWER = "FIRST_ANSWER"
RESULT = "RESULT "
SAMPLE_TEXTS = 256


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def normalise_space(text: str) -> str:
    return " ".join(text.split())


def quotes(answer: str, sentence: str) -> bool:
    """Whether ``answer`` quotes ``sentence``, citations and spacing aside."""
    from exorag.text import strip_citations

    return normalise_space(strip_citations(sentence)) in normalise_space(strip_citations(answer))


def settings_from(job: dict) -> Settings:
    return Settings(corpus=Path(job["corpus"]), index=Path(job["index"]), chroma_url=job.get("chroma_url"),
                    collection=job.get("collection", "exorag"), embedder=job["embedder"],
                    embedder_cache=job.get("embedder_cache"))


def run_ingest(job: dict) -> dict:
    """Index the corpus with one system: wall time, how much was embedded or cached, and the
    model's own throughput on a sample of the same texts."""
    from exorag.bench.cache import CachedEmbeddings, EmbeddingCache
    from exorag.bench.systems import open_system
    from exorag.embeddings import get_embeddings

    settings = settings_from(job)
    model = get_embeddings(settings)
    system = open_system(job["system"], settings)
    embeddings = CachedEmbeddings(model, EmbeddingCache(Path(job["cache"])) if job.get("cache") else None)
    started = time.perf_counter()
    chunks = system.ingest(embeddings)
    wall = time.perf_counter() - started
    sample = system.sample_texts(SAMPLE_TEXTS, job.get("seed", 0))
    sample_started = time.perf_counter()
    model.embed_documents(sample)
    sample_seconds = time.perf_counter() - sample_started
    return {"chunks": chunks, "ingest_s": wall, "embed_sample": len(sample), "embed_sample_s": sample_seconds,
            "cached": embeddings.cached, "embedded": embeddings.embedded, "model_s": embeddings.model_seconds,
            "cache_s": embeddings.cache_seconds, "peak_rss_mb": peak_rss_mb()}


def run_queries(job: dict) -> dict:
    """Answer the first question cold (start-up), then time the query embedding, retrieval and
    ``answer()`` warm."""
    from exorag.bench.systems import open_system
    from exorag.embeddings import get_embeddings

    queries = [json.loads(line) for line in Path(job["queries"]).read_text(encoding="utf-8").splitlines() if line.strip()]
    settings = settings_from(job)
    system = open_system(job["system"], settings)
    system.answer(queries[0]["question"])
    first_answer = time.perf_counter()
    print(FIRST_ANSWER, flush=True)

    embeddings = get_embeddings(settings)
    query_embed_ms, retrieve_ms, answer_ms, found, abstained, quoted = [], [], [], 0, 0, 0
    for query in queries:
        started = time.perf_counter()
        embeddings.embed_query(query["question"])
        query_embed_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        texts = system.retrieve(query["question"], job.get("k", 5))
        retrieve_ms.append((time.perf_counter() - started) * 1000)
        found += any(normalise_space(query["answer_text"]) in normalise_space(text) for text in texts)
        started = time.perf_counter()
        result = system.answer(query["question"])
        answer_ms.append((time.perf_counter() - started) * 1000)
        abstained += result.abstained
        quoted += quotes(result.answer, query["answer_text"])
    return {"queries": len(queries), "query_embed_ms": query_embed_ms, "retrieve_ms": retrieve_ms, "answer_ms": answer_ms,
            "recall_at_5": found / len(queries), "abstained": abstained, "needle_quoted": quoted / len(queries),
            "first_answer_s": first_answer - STARTED, "peak_rss_mb": peak_rss_mb()}


def main(argv: list[str]) -> int:
    task, job = argv[0], json.loads(argv[1])
    tasks = {"ingest": run_ingest, "query": run_queries}
    if task not in tasks:
        print(f"unknown task {task!r}; use ingest or query", file=sys.stderr)
        return 2
    print(RESULT + json.dumps(tasks[task](job)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
