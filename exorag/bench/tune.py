"""Texts per second of each embedder setting on the bench's own passages, measured in turns.

    python -m exorag.bench.tune [--texts 512] [--rounds 3] [--threads 1,2] [--batch-tokens 256,512,1024,4096]

Every ONNX setting (intra-op threads x padded tokens per call) and the torch embedder embed the
same passages of the 1,000-chunk generated corpus, one after another, round by round, so a busy
moment of a shared machine falls on all of them alike; the median of the rounds is printed with
the load average. This is how ``BATCH_TOKENS`` and the default ``EXORAG_EMBEDDER_THREADS`` were chosen.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from functools import partial

from exorag.bench.cache import DEFAULT_FOLDER, corpus_folder
from exorag.bench.corpus import generate_corpus
from exorag.config import get_settings
from exorag.embeddings import get_embeddings, model_path
from exorag.ingest.sync import chunk_sources, embedding_text
from exorag.onnx_embeddings import OnnxEmbeddings, ensure_onnx_model


def bench_passages(count: int) -> list[str]:
    """The first ``count`` passages exorag embeds for the 1,000-chunk bench corpus."""
    corpus = generate_corpus(corpus_folder(DEFAULT_FOLDER, 0, 1000), 1000, 0)
    chunks_by_path, _ = chunk_sources(get_settings(corpus=corpus.corpus))
    return [embedding_text(chunk) for chunks in chunks_by_path.values() for chunk in chunks][:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--batch-tokens", default="256,512,1024,4096")
    parser.add_argument("--embedder", default="onnx-int8", choices=["onnx", "onnx-int8"])
    arguments = parser.parse_args()
    texts = bench_passages(arguments.texts)
    folder = model_path(get_settings())
    # The bench's own export cache (``exorag bench`` keeps its exports there too).
    onnx_file = ensure_onnx_model(folder, DEFAULT_FOLDER / "embedders", arguments.embedder == "onnx-int8")
    torch = get_embeddings(get_settings(embedder="torch"))
    setups: dict[str, Callable[[], object]] = {"torch": partial(torch.embed_documents, texts)}
    for threads in map(int, arguments.threads.split(",")):
        for budget in map(int, arguments.batch_tokens.split(",")):
            session = OnnxEmbeddings(folder, onnx_file, threads, arguments.embedder, budget)
            setups[f"{arguments.embedder} threads={threads} batch_tokens={budget}"] = partial(session.embed_documents, texts)
    rates: dict[str, list[float]] = {name: [] for name in setups}
    load_start = os.getloadavg()[0]
    for _ in range(arguments.rounds):
        for name, embed in setups.items():
            started = time.perf_counter()
            embed()
            rates[name].append(len(texts) / (time.perf_counter() - started))
    print(f"{len(texts)} bench passages, {arguments.rounds} rounds; load average {load_start:.2f} at start, "
          f"{os.getloadavg()[0]:.2f} at end")
    torch_rate = statistics.median(rates["torch"])
    for name, values in rates.items():
        print(f"  {name}: {statistics.median(values):,.1f} texts/s ({statistics.median(values) / torch_rate:.2f}x torch)")


if __name__ == "__main__":
    main()
