"""``exorag bench``: the generated corpus, the embedding cache, and one small run of the whole bench
(both systems, every output, a short load test through the UI's HTTP API). No timing is asserted."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest

from exorag.bench.cache import CachedEmbeddings, EmbeddingCache
from exorag.bench.corpus import generate_corpus, load_queries
from exorag.config import get_settings
from exorag.ingest.sync import chunk_sources

FIGURES = ["ingest_chunks_per_s", "index_mb", "peak_rss_mb", "startup_s", "retrieve_ms_p50", "retrieve_ms_p95",
           "answer_ms_p50", "answer_ms_p95", "recall_at_5", "needle_quoted"]
QUERIES = 10


def test_generated_corpus_has_the_requested_chunks_and_one_answer_passage_per_query(tmp_path: Path) -> None:
    corpus = generate_corpus(tmp_path / "c", 300, seed=3, queries=40)
    chunks_by_path, failed = chunk_sources(get_settings(corpus=corpus.corpus, index=tmp_path / "index"))
    chunks = [" ".join(chunk.text.split()) for chunks in chunks_by_path.values() for chunk in chunks]
    assert not failed
    assert len(chunks) == 300
    assert len(corpus.queries) == 40
    for query in corpus.queries:
        assert sum(" ".join(query.answer_text.split()) in text for text in chunks) == 1, query.id
    literature = sorted((corpus.corpus / "literature").iterdir())
    assert literature[0].name.startswith("00001-")
    assert any(mark in literature[-1].read_text() for mark in ("-", ", ")), "citations such as [59, 61] or [170-172]"


def files_of(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in folder.rglob("*") if p.is_file()}


def test_generated_corpus_is_the_same_for_the_same_seed_and_differs_for_another(tmp_path: Path) -> None:
    first = generate_corpus(tmp_path / "a", 120, seed=1, queries=20)
    again = generate_corpus(tmp_path / "b", 120, seed=1, queries=20)
    other = generate_corpus(tmp_path / "c", 120, seed=2, queries=20)
    assert files_of(first.corpus) == files_of(again.corpus)
    assert files_of(first.corpus) != files_of(other.corpus)
    assert [q.question for q in load_queries(first.folder)][:20] == [q.question for q in first.queries]


def test_cached_embeddings_are_the_models_and_are_not_embedded_twice(tmp_path: Path) -> None:
    from exorag.embeddings import get_embeddings

    model = get_embeddings(get_settings())
    texts = ["Exosomal PD-L1 binds PD-1 on T cells [170-172].", "Hypoxia increases exosome release [13-16, 14]."]
    cached = CachedEmbeddings(model, EmbeddingCache(tmp_path / "vectors"))
    first = cached.embed_documents(texts)
    assert (cached.embedded, cached.cached) == (2, 0)
    reopened = CachedEmbeddings(model, EmbeddingCache(tmp_path / "vectors"))
    second = reopened.embed_documents(texts + texts[:1])
    assert (reopened.embedded, reopened.cached) == (0, 3)
    np.testing.assert_allclose(second[:2], first, atol=1e-6)
    np.testing.assert_allclose(first, model.embed_documents(texts), atol=1e-5)


@pytest.fixture(scope="module")
def bench_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One run of ``exorag bench --scales 200`` with a 5-second load test of 3 users.

    The embedder is not the default one, so the load test's server must open the index with the embedder that built it.
    """
    base = tmp_path_factory.mktemp("bench")
    command = [sys.executable, "-m", "exorag.cli", "bench", "--scales", "200", "--queries", str(QUERIES),
               "--embedders", "torch", "--load-seconds", "5", "--users", "3", "--out", str(base / "out"),
               "--cache", str(base / "cache")]
    result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=1500)
    assert result.returncode == 0, result.stderr[-3000:]
    return base / "out"


def test_bench_json_has_one_row_per_system_with_every_figure(bench_out: Path) -> None:
    rows = json.loads((bench_out / "bench.json").read_text())
    assert [(row["system"], row["chunks"]) for row in rows] == [("exorag", 200), ("baseline", 200)]
    for row in rows:
        for figure in FIGURES:
            assert isinstance(row[figure], (int, float)) and row[figure] >= 0, (row["system"], figure)
        assert row["indexed_chunks"] > 0 and row["queries"] == QUERIES
        assert 0 <= row["recall_at_5"] <= 1
        assert row["ingest_basis"] == "measured" and row["cached"] == 0
    exorag = rows[0]
    assert exorag["indexed_chunks"] == 200
    assert exorag["recall_at_5"] > 0, "exorag found none of the answer passages"
    assert exorag["needle_quoted"] > 0, "exorag quoted none of the answer sentences"
    assert set(exorag["ratio_to_baseline"]) == set(FIGURES)


def test_markdown_table_and_plot_are_written(bench_out: Path) -> None:
    table = (bench_out / "bench.md").read_text()
    assert "| 200 | exorag (torch) |" in table and "| 200 | baseline (torch) |" in table and "exorag / baseline" in table
    assert "| recall@5 | answers quoting it |" in table
    assert re.search(r"onnxruntime \d+\.\d+\S* \(\d+ threads\)", table)
    assert (bench_out / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_load_test_answered_through_the_ui_without_errors(bench_out: Path) -> None:
    load = json.loads((bench_out / "run.json").read_text())["load"]
    assert load["users"] == 3 and load["answered"] > 0
    assert load["errors"] == 0, load["error_examples"]


def test_embedders_are_shown_side_by_side_with_their_ratio_to_torch() -> None:
    from exorag.bench.report import markdown

    def row(embedder: str, rate: float, query_ms: float, recall: float) -> dict:
        return {"system": "exorag", "embedder": embedder, "chunks": 1000, "ingest_chunks_per_s": rate * 0.95,
                "embed_chunks_per_s": rate, "query_embed_ms_p50": query_ms, "query_embed_ms_p95": query_ms * 2,
                "retrieve_ms_p50": 20.0, "retrieve_ms_p95": 30.0, "answer_ms_p50": 90.0, "answer_ms_p95": 150.0,
                "recall_at_5": recall, "index_mb": 12.0, "peak_rss_mb": 900.0, "startup_s": 5.0, "indexed_chunks": 1000,
                "embedded": 1000, "cached": 0, "ingest_s": 10.0, "ingest_overhead_s": 1.0, "ingest_vs_embed": 0.95,
                "ingest_basis": "measured"}

    run = {"command": "exorag bench", "machine": {"cpu": "cpu", "cores": 2, "memory_gb": 24, "python": "3.11",
                                                  "torch": "2.13", "chromadb": "1.5", "load_average": [2, 2, 2],
                                                  "date": "today"}, "store": "embedded", "queries": 200, "seed": 0}
    text = markdown([row("torch", 30.0, 20.0, 0.99), row("onnx-int8", 90.0, 5.0, 0.985)], run)

    embedders = text.split("## Embedders", 1)[1].split("## Ingest", 1)[0]
    assert "| 1,000 | torch | 30.0 |" in embedders and "| 1,000 | onnx-int8 | 90.0 |" in embedders
    assert "| | *onnx-int8 / torch* | 3.00 | 3.00 | 0.25 / 0.25 | 1.00 / 1.00 | -0.005 |" in embedders
    assert "| 1,000 | exorag (onnx-int8) |" in text


def test_the_embedder_targets_are_checked_per_embedder_against_torch_at_10000_chunks() -> None:
    from exorag.bench.report import embedder_targets

    def row(embedder: str, rate: float, retrieve_p95: float, answer_p95: float, recall: float, rss: float) -> dict:
        return {"system": "exorag", "embedder": embedder, "chunks": 10_000, "embed_chunks_per_s": rate,
                "ingest_vs_embed": 0.95, "retrieve_ms_p95": retrieve_p95, "answer_ms_p95": answer_p95,
                "recall_at_5": recall, "peak_rss_mb": rss}

    rows = [row("torch", 20.0, 30.0, 400.0, 0.985, 1500.0), row("onnx", 34.0, 18.0, 140.0, 0.985, 700.0),
            row("onnx-int8", 48.0, 15.0, 160.0, 0.970, 1600.0)]
    checks = {name: (value, met) for name, value, met in embedder_targets(rows)}

    assert checks["onnx: retrieval p95 < 20 ms (at 10,000 chunks)"] == ("18.0 ms", True)
    assert checks["torch: retrieval p95 < 20 ms (at 10,000 chunks)"] == ("30.0 ms", False)
    assert checks["onnx-int8: extractive answer p95 < 150 ms (at 10,000 chunks)"] == ("160 ms", False)
    assert checks["onnx-int8: model rate >= 2.5x torch's (at 10,000 chunks)"] == ("2.40x", False)
    assert checks["onnx-int8: recall@5 within 0.01 of torch's (at 10,000 chunks)"] == ("-0.015", False)
    assert checks["onnx-int8: peak memory no higher than torch's (at 10,000 chunks)"] == ("1600 vs 1500 MB", False)
    assert checks["onnx: recall@5 within 0.01 of torch's (at 10,000 chunks)"] == ("+0.000", True)
    assert "onnx: model rate >= 2.5x torch's (at 10,000 chunks)" not in checks
    assert embedder_targets([{**rows[1], "chunks": 1000}]) == []


def test_the_general_targets_are_checked_on_the_default_embedder_and_name_it() -> None:
    from exorag.bench.report import targets

    def row(embedder: str, retrieve_p95: float) -> dict:
        return {"system": "exorag", "embedder": embedder, "chunks": 10_000, "retrieve_ms_p95": retrieve_p95,
                "answer_ms_p95": 100.0, "ingest_chunks_per_s": 30.0, "embed_chunks_per_s": 31.0, "ingest_vs_embed": 0.97,
                "ingest_basis": "measured", "peak_rss_mb": 700.0, "startup_s": 5.0, "recall_at_5": 0.985}

    checks = {name: value for name, value, _ in targets([row("torch", 32.0), row("onnx", 16.0), row("onnx-int8", 13.0)])}
    assert checks["retrieval p95 < 50 ms (at 10,000 chunks, exorag (onnx))"] == "16.0 ms"


class _Server:
    """A stand-in for the ``exorag serve`` child process."""

    def __init__(self, returncode: int | None) -> None:
        self.returncode = returncode

    def poll(self) -> int | None:
        return self.returncode


def test_the_load_test_waits_for_the_ui_to_answer_and_stops_if_it_exits(monkeypatch, tmp_path: Path) -> None:
    from exorag.bench import load

    replies = iter([httpx.ConnectError("not listening yet"), httpx.Response(503), httpx.Response(200)])

    def get(url: str, timeout: float) -> httpx.Response:
        reply = next(replies)
        if isinstance(reply, Exception):
            raise reply
        return reply

    monkeypatch.setattr(load.httpx, "get", get)
    monkeypatch.setattr(load.subprocess, "Popen", lambda *args, **kwargs: _Server(None))
    with (tmp_path / "serve.log").open("w") as log:
        server, url = load.start_ui(tmp_path, tmp_path, log)
        assert server.poll() is None and url.startswith("http://127.0.0.1:")
        assert next(replies, None) is None

        monkeypatch.setattr(load.subprocess, "Popen", lambda *args, **kwargs: _Server(3))
        with pytest.raises(load.ServerNotReady, match="exited with 3"):
            load.start_ui(tmp_path, tmp_path, log)


@pytest.mark.parametrize(("args", "message"), [
    (["--users", "0"], "Invalid value for '--users'"),
    (["--load-seconds", "-1"], "Invalid value for '--load-seconds'"),
    (["--chroma-url", "http://127.0.0.1:9"], "Invalid value for --chroma-url"),
])
def test_bad_bench_options_are_usage_errors_before_any_work(tmp_path: Path, args: list[str], message: str) -> None:
    from typer.testing import CliRunner

    from exorag.cli import app

    result = CliRunner().invoke(app, ["bench", "--scales", "100", "--queries", "5", "--out", str(tmp_path / "out"),
                                      "--cache", str(tmp_path / "cache"), *args], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and message in result.output, result.output
    assert not (tmp_path / "cache" / "corpora").exists()


def test_a_bench_folder_that_cannot_be_made_is_a_usage_error(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from exorag.cli import app

    (tmp_path / "file").write_text("")
    for option in ("--out", "--cache"):
        result = CliRunner().invoke(app, ["bench", "--scales", "100", "--queries", "5", "--out", str(tmp_path / "out"),
                                          option, str(tmp_path / "file" / "sub")], env={"COLUMNS": "200"})
        assert result.exit_code == 2 and "cannot create the folder" in result.output, result.output
