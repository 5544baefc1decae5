"""Measuring one system at one scale, each step in a child process of its own.

An ingest child indexes the corpus (and times the embedding model alone on a sample of the same
texts); a query child answers its first question cold, which times start-up, then every query
warm. Peak memory is each child's own high-water mark; with a Chroma server on this machine, the
server's memory is sampled beside it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Self
from urllib.parse import urlparse

import numpy as np
import psutil

from exorag.bench.worker import FIRST_ANSWER, RESULT
from exorag.config import Settings

CHILD_TIMEOUT_S = 4 * 3600


class BenchStepFailed(RuntimeError):
    """A child process of the bench failed; the message names its log file."""


@dataclass
class Step:
    """One system at one scale: where its corpus, index and logs are."""

    system: str
    scale: int
    corpus: Path
    queries: Path
    index: Path
    logs: Path
    chroma_url: str | None = None
    cache: Path | None = None
    seed: int = 0
    embedder: str = Settings.model_fields["embedder"].default
    embedder_cache: Path | None = None

    @property
    def collection(self) -> str:
        return f"bench-{self.scale}" if self.chroma_url else "exorag"

    def settings_env(self) -> dict[str, str]:
        """The ``EXORAG_*`` variables that open this step's index as it was built (another process serving it)."""
        env = {"EXORAG_COLLECTION": self.collection, "EXORAG_EMBEDDER": self.embedder}
        if self.chroma_url:
            env["EXORAG_CHROMA_URL"] = self.chroma_url
        if self.embedder_cache:
            env["EXORAG_EMBEDDER_CACHE"] = str(self.embedder_cache)
        return env

    def job(self) -> dict:
        return {"system": self.system, "corpus": str(self.corpus), "index": str(self.index),
                "queries": str(self.queries), "chroma_url": self.chroma_url, "collection": self.collection,
                "cache": str(self.cache) if self.cache else None, "seed": self.seed, "embedder": self.embedder,
                "embedder_cache": str(self.embedder_cache) if self.embedder_cache else None}


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def folder_mb(folder: Path) -> float:
    if not folder.exists():
        return 0.0
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def local_chroma_server(url: str | None) -> psutil.Process | None:
    """The process serving ``url`` when it listens on this machine, else None."""
    if not url:
        return None
    parsed = urlparse(url)
    if parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
        return None
    port = parsed.port or 8000
    try:
        for connection in psutil.net_connections(kind="tcp"):
            if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port and connection.pid:
                return psutil.Process(connection.pid)
    except psutil.AccessDenied:
        return None
    return None


def server_data_folder(server: psutil.Process | None) -> Path | None:
    """The ``--path`` a ``chroma run`` server stores its data in."""
    if server is None:
        return None
    arguments = server.cmdline()
    for position, argument in enumerate(arguments):
        if argument == "--path" and position + 1 < len(arguments):
            return Path(arguments[position + 1])
        if argument.startswith("--path="):
            return Path(argument.split("=", 1)[1])
    return None


class RssSampler:
    """The peak RSS of a process, sampled every ``interval`` seconds while the sampler runs."""

    def __init__(self, process: psutil.Process | None, interval: float = 0.25):
        self.process = process
        self.interval = interval
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak_mb = max(self.peak_mb, self.process.memory_info().rss / 1e6)
            except psutil.Error:
                return
            self._stop.wait(self.interval)

    def __enter__(self) -> Self:
        if self.process is not None:
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def run_child(task: str, step: Step) -> tuple[dict, float | None]:
    """Run ``task`` for ``step`` in a fresh Python process: its result, and the seconds from
    launch to its first answer (query children only)."""
    step.logs.mkdir(parents=True, exist_ok=True)
    log_path = step.logs / f"{step.scale}-{step.system}-{step.embedder}-{task}.log"
    command = [sys.executable, "-m", "exorag.bench.worker", task, json.dumps(step.job())]
    launched = time.perf_counter()
    first_answer = None
    result = None
    with log_path.open("w", encoding="utf-8") as log:
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True)
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith(FIRST_ANSWER) and first_answer is None:
                first_answer = time.perf_counter() - launched
            elif line.startswith(RESULT):
                result = json.loads(line[len(RESULT):])
            else:
                log.write(line)
        code = child.wait(timeout=CHILD_TIMEOUT_S)
    if code != 0 or result is None:
        tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
        raise BenchStepFailed(f"{log_path}: {step.system} ({step.embedder}) {task} at {step.scale} chunks exited with {code}: " + " | ".join(tail))
    return result, first_answer


def clear_index(step: Step) -> None:
    """Remove the index of ``step``: its folder, and its collection on a Chroma server."""
    shutil.rmtree(step.index, ignore_errors=True)
    if step.chroma_url and step.system == "exorag":
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        url = urlparse(step.chroma_url)
        client = chromadb.HttpClient(host=url.hostname or "127.0.0.1", port=url.port or 8000, ssl=url.scheme == "https",
                                     settings=ChromaSettings(anonymized_telemetry=False))
        if step.collection in {collection.name for collection in client.list_collections()}:
            client.delete_collection(step.collection)


def measure(step: Step) -> dict:
    """Every figure of one system at one scale (one row of bench.json)."""
    clear_index(step)
    server = local_chroma_server(step.chroma_url) if step.system == "exorag" else None
    with RssSampler(server) as ingest_server:
        ingested, _ = run_child("ingest", step)
    with RssSampler(server) as query_server:
        queried, startup = run_child("query", step)

    chunks = ingested["chunks"]
    sample_rate = ingested["embed_sample"] / ingested["embed_sample_s"]
    # Everything ingest did besides running the model.
    overhead = ingested["ingest_s"] - ingested["model_s"] - ingested["cache_s"]
    if ingested["cached"]:
        # Embedding came (partly) from the cache: afresh, every chunk would add its time in the
        # model, at the model's own rate on a sample of the same texts, to the rest of ingest.
        embed_rate = sample_rate
        ingest_rate, basis = chunks / (overhead + chunks / embed_rate), "projected"
    else:
        # The model's own rate, timed inside this very ingest: same texts, same moment.
        embed_rate = ingested["embedded"] / ingested["model_s"]
        ingest_rate, basis = chunks / ingested["ingest_s"], "measured"
    data_folder = server_data_folder(server)
    index_mb = folder_mb(step.index) + (folder_mb(data_folder) if data_folder else 0.0)
    return {
        "system": step.system,
        "embedder": step.embedder,
        "chunks": step.scale,
        "ingest_chunks_per_s": round(ingest_rate, 2),
        "index_mb": round(index_mb, 1),
        "peak_rss_mb": round(max(ingested["peak_rss_mb"], queried["peak_rss_mb"]), 1),
        "startup_s": round(startup, 2) if startup is not None else None,
        "retrieve_ms_p50": round(percentile(queried["retrieve_ms"], 50), 2),
        "retrieve_ms_p95": round(percentile(queried["retrieve_ms"], 95), 2),
        "answer_ms_p50": round(percentile(queried["answer_ms"], 50), 2),
        "answer_ms_p95": round(percentile(queried["answer_ms"], 95), 2),
        "recall_at_5": round(queried["recall_at_5"], 4),
        # Every query has its answer in the corpus: the share whose answer quotes that sentence.
        "needle_quoted": round(queried["needle_quoted"], 4),
        "query_embed_ms_p50": round(percentile(queried["query_embed_ms"], 50), 2),
        "query_embed_ms_p95": round(percentile(queried["query_embed_ms"], 95), 2),
        "store": "server" if step.chroma_url and step.system == "exorag" else "embedded",
        "indexed_chunks": chunks,
        "queries": queried["queries"],
        "abstained": queried["abstained"],
        "ingest_basis": basis,
        "ingest_s": round(ingested["ingest_s"], 2),
        "embedded": ingested["embedded"],
        "cached": ingested["cached"],
        "embed_chunks_per_s": round(embed_rate, 2),
        "embed_sample_chunks_per_s": round(sample_rate, 2),
        "ingest_overhead_s": round(overhead, 2),
        # 1.0 would be an ingest that costs nothing besides running the model.
        "ingest_vs_embed": round(ingest_rate / embed_rate, 3),
        "ingest_rss_mb": round(ingested["peak_rss_mb"], 1),
        "query_rss_mb": round(queried["peak_rss_mb"], 1),
        "server_rss_mb": round(max(ingest_server.peak_mb, query_server.peak_mb), 1) if server else None,
        "first_answer_in_process_s": round(queried["first_answer_s"], 2),
    }
