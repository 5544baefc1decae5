"""Concurrent users against the chat UI's HTTP API: ``exorag serve`` in a child process, and
``users`` threads that each ask one question after another for ``seconds`` through Gradio's
``/gradio_api/call/answer`` endpoint (POST the question, then read the answer's event stream).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

import httpx

from exorag.bench.measure import percentile

READY_TIMEOUT_S = 600


class ServerNotReady(RuntimeError):
    """``exorag serve`` exited or did not answer HTTP in time; the message names its log."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_ui(corpus: Path, index: Path, log: TextIO, chroma_url: str | None = None,
             collection: str = "exorag") -> tuple[subprocess.Popen, str]:
    """Start ``exorag serve`` on a free loopback port, its output to ``log``, and wait until it answers HTTP."""
    port = free_port()
    env = {**os.environ, "EXORAG_COLLECTION": collection}
    env.pop("EXORAG_UI_AUTH", None)
    if chroma_url:
        env["EXORAG_CHROMA_URL"] = chroma_url
    server = subprocess.Popen(
        [sys.executable, "-m", "exorag.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--index", str(index), "--corpus", str(corpus)],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise ServerNotReady(f"{log.name}: exorag serve exited with {server.returncode}")
        try:
            if httpx.get(url + "/", timeout=5).status_code == 200:
                return server, url
        except httpx.HTTPError:
            pass
        time.sleep(1)
    server.terminate()
    raise ServerNotReady(f"{log.name}: exorag serve did not answer on {url} within {READY_TIMEOUT_S} s")


def ask_over_http(client: httpx.Client, url: str, question: str) -> dict:
    """One question through the UI's API; the Answer JSON, or an exception naming what went wrong."""
    posted = client.post(f"{url}/gradio_api/call/answer", json={"data": [question]})
    posted.raise_for_status()
    event_id = posted.json()["event_id"]
    event = ""
    with client.stream("GET", f"{url}/gradio_api/call/answer/{event_id}") as stream:
        stream.raise_for_status()
        for line in stream.iter_lines():
            if line.startswith("event: "):
                event = line[len("event: "):]
            elif line.startswith("data: ") and event in ("complete", "error"):
                data = json.loads(line[len("data: "):])
                if event == "error":
                    raise RuntimeError(f"the server reported an error: {data}")
                answer = data[0]
                if not isinstance(answer, dict) or "answer" not in answer:
                    raise RuntimeError(f"not an Answer: {str(answer)[:200]}")
                return answer
    raise RuntimeError("the event stream ended without an answer")


def run_load(url: str, questions: list[str], users: int = 20, seconds: float = 60.0) -> dict:
    """``users`` concurrent users asking ``questions`` in turn for ``seconds``: latency and errors."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def user(number: int) -> None:
        turn = number
        with httpx.Client(timeout=120) as client:
            while time.monotonic() < deadline:
                question = questions[turn % len(questions)]
                turn += users
                started = time.perf_counter()
                try:
                    ask_over_http(client, url, question)
                    with lock:
                        latencies.append((time.perf_counter() - started) * 1000)
                except Exception as error:  # noqa: BLE001 - every failure counts, whatever raised it
                    with lock:
                        errors.append(f"{type(error).__name__}: {error}")

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
        "latency_ms_p50": round(percentile(latencies, 50), 1), "latency_ms_p95": round(percentile(latencies, 95), 1),
        "latency_ms_max": round(max(latencies), 1) if latencies else None,
        "answers_per_s": round(len(latencies) / elapsed, 2),
    }


def load_test(corpus: Path, index: Path, questions: list[str], log_path: Path, users: int, seconds: float,
              chroma_url: str | None = None, collection: str = "exorag") -> dict:
    """Serve the index with ``exorag serve`` and run ``run_load`` against it."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w", encoding="utf-8") as log:
        server, url = start_ui(corpus, index, log, chroma_url, collection)
        try:
            return run_load(url, questions, users, seconds)
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
