"""Concurrent users against the chat UI's HTTP API: ``exorag serve`` in a child process, and
``users`` threads that each ask one question after another for ``seconds`` through the UI's
``/answer`` endpoint, with Gradio's own HTTP client (one client per user, as separate browsers).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

import httpx
from gradio_client import Client
from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_fixed

from exorag.bench.measure import Step, percentile

READY_TIMEOUT_S = 600


class ServerNotReady(RuntimeError):
    """``exorag serve`` exited or did not answer HTTP in time; the message names its log."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_ui(corpus: Path, index: Path, log: TextIO, settings_env: dict[str, str] | None = None
             ) -> tuple[subprocess.Popen, str]:
    """Start ``exorag serve`` on a free loopback port, its output to ``log``, and wait until it answers HTTP.

    ``settings_env`` (``EXORAG_*`` variables) opens the index as it was built: its collection, embedder, Chroma server.
    """
    port = free_port()
    env = {**os.environ, **(settings_env or {})}
    env.pop("EXORAG_UI_AUTH", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "exorag.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--index", str(index), "--corpus", str(corpus)],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )
    url = f"http://127.0.0.1:{port}"

    def answering() -> bool:
        if server.poll() is not None:
            raise ServerNotReady(f"{log.name}: exorag serve exited with {server.returncode}")
        try:
            return httpx.get(url + "/", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        Retrying(retry=retry_if_result(lambda ready: not ready), stop=stop_after_delay(READY_TIMEOUT_S),
                 wait=wait_fixed(1))(answering)
    except RetryError:
        server.terminate()
        raise ServerNotReady(f"{log.name}: exorag serve did not answer on {url} within {READY_TIMEOUT_S} s") from None
    return server, url


def ask(client: Client, question: str) -> dict:
    """One question through the UI's API; the Answer JSON, or an exception naming what went wrong."""
    answer = client.predict(question, api_name="/answer")
    if not isinstance(answer, dict) or "answer" not in answer:
        raise RuntimeError(f"not an Answer: {str(answer)[:200]}")
    return answer


def run_load(url: str, questions: list[str], users: int = 20, seconds: float = 60.0) -> dict:
    """``users`` concurrent users asking ``questions`` in turn for ``seconds``: latency and errors."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def user(number: int) -> None:
        turn = number
        client = Client(url, verbose=False, download_files=False, analytics_enabled=False)
        while time.monotonic() < deadline:
            question = questions[turn % len(questions)]
            turn += users
            started = time.perf_counter()
            try:
                ask(client, question)
                with lock:
                    latencies.append((time.perf_counter() - started) * 1000)
            except Exception as error:  # noqa: BLE001 - every failure counts, whatever raised it
                with lock:
                    errors.append(f"{type(error).__name__}: {str(error)[:300]}")

    started = time.perf_counter()
    threads = [threading.Thread(target=user, args=(n,)) for n in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "users": users, "seconds": round(elapsed, 1), "requests": len(latencies) + len(errors),
        "answered": len(latencies), "errors": len(errors), "error_examples": sorted(set(errors))[:5],
        "latency_ms_p50": round(percentile(latencies, 50), 1) if latencies else None,
        "latency_ms_p95": round(percentile(latencies, 95), 1) if latencies else None,
        "latency_ms_max": round(max(latencies), 1) if latencies else None,
        "answers_per_s": round(len(latencies) / elapsed, 2),
    }


def load_test(step: Step, questions: list[str], log_path: Path, users: int, seconds: float) -> dict:
    """Serve the index of ``step`` with ``exorag serve`` and run ``run_load`` against it."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w", encoding="utf-8") as log:
        server, url = start_ui(step.corpus, step.index, log, step.settings_env())
        try:
            return run_load(url, questions, users, seconds)
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
