"""exorag against a real Chroma server (`chroma run` on a loopback port), as EXORAG_CHROMA_URL selects."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import chromadb
import httpx
import pytest
from chromadb.config import Settings as ChromaSettings
from typer.testing import CliRunner

from exorag.chain import answer
from exorag.cli import app
from exorag.config import Settings, get_settings
from exorag.ingest.sync import sync_corpus
from exorag.store.stats import index_stats

CHROMA = Path(sys.executable).with_name("chroma")
REVIEW = Path(__file__).resolve().parents[1] / "corpus" / "review" / "review-analysis.txt"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A `chroma run` server on a free loopback port, stopped at the end of the module."""
    port = free_port()
    folder = tmp_path_factory.mktemp("chroma-server")
    server = subprocess.Popen(
        [
            str(CHROMA),
            "run",
            "--path",
            str(folder / "data"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=(folder / "server.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert server.poll() is None, (folder / "server.log").read_text()
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "chroma run did not come up"
        time.sleep(0.2)
    yield url
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@pytest.fixture(scope="module")
def server_settings(chroma_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    base = tmp_path_factory.mktemp("server-index")
    (base / "corpus" / "review").mkdir(parents=True)
    shutil.copy(REVIEW, base / "corpus" / "review")
    return get_settings(corpus=base / "corpus", index=base / "index", chroma_url=chroma_url)


def test_ingest_stats_and_answers_go_through_the_server(server_settings: Settings, chroma_url: str) -> None:
    report = sync_corpus(server_settings)
    assert report.failed == [] and report.added == report.chunks > 10
    assert not (server_settings.index / "chroma").exists()  # nothing stored in an embedded Chroma

    port = int(chroma_url.rsplit(":", 1)[1])
    client = chromadb.HttpClient(host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.get_collection(server_settings.collection)
    assert collection.count() == report.chunks

    stats = index_stats(server_settings)
    assert stats["chunks"] == report.chunks and stats["index"] == chroma_url
    assert [source["path"] for source in stats["sources"]] == ["review/review-analysis.txt"]

    result = answer("How do tumour exosomes blunt T cells?", settings=server_settings)
    assert not result.abstained and result.sentences
    evidence_refs = {number for evidence in result.evidence for number in evidence.refs}
    cited = [sentence for sentence in result.sentences if sentence.citation]
    assert cited
    for sentence in cited:
        assert sentence.refs and set(sentence.refs) <= evidence_refs
    stored_ids = set(collection.get(ids=[e.chunk_id for e in result.evidence], include=[])["ids"])
    assert stored_ids == {evidence.chunk_id for evidence in result.evidence}

    again = sync_corpus(server_settings)
    assert (again.added, again.removed, again.unchanged) == (0, 0, report.chunks)
    assert collection.count() == report.chunks


@pytest.mark.parametrize("command", ["ingest", "stats"])
def test_closed_server_port_is_a_clear_usage_error(command: str, tmp_path: Path) -> None:
    (tmp_path / "corpus" / "review").mkdir(parents=True)
    shutil.copy(REVIEW, tmp_path / "corpus" / "review")
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    arguments = [command, "--index", str(tmp_path / "index")] + (
        ["--corpus", str(tmp_path / "corpus")] if command == "ingest" else []
    )
    result = CliRunner().invoke(app, arguments, env={"EXORAG_CHROMA_URL": url})
    assert result.exit_code == 2, result.output
    assert f"EXORAG_CHROMA_URL={url}" in result.stderr
    assert "Traceback" not in result.output
