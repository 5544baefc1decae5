"""The chat UI's limits, on the real app over loopback: uploads above the file-size limit get 413,
a reference number must be a whole number from 1 to 99,999, and no exception text reaches a client."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from pdf_factory import make_pdf

from exorag.chain import reset_pipelines
from exorag.config import Settings, get_settings
from exorag.ingest.sync import sync_corpus
from ui.app import serve
from ui.handlers import ANSWER_FAILED, ChatHandlers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def dead_llm() -> str:
    return f"http://127.0.0.1:{free_port()}/v1/secret-llm-path"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, dead_llm: str) -> Settings:
    base = tmp_path_factory.mktemp("limits")
    (base / "corpus" / "review").mkdir(parents=True)
    (base / "corpus" / "review" / "review.md").write_text(
        "# Immune evasion\n\nExosomal PD-L1 binds PD-1 on T cells and blunts them [170].\n", encoding="utf-8")
    settings = get_settings(corpus=base / "corpus", index=base / "index", max_file_mb=0.05, llm_base_url=dead_llm,
                            feedback_db=base / "feedback.sqlite3")
    sync_corpus(settings)
    reset_pipelines()
    return settings


@pytest.fixture(scope="module")
def url(settings: Settings) -> Iterator[str]:
    port = free_port()
    app = serve(settings, "127.0.0.1", port, block=False)
    yield f"http://127.0.0.1:{port}/"
    app.close()


def test_an_upload_above_the_file_size_limit_is_refused_with_413(url: str) -> None:
    response = httpx.post(url + "gradio_api/upload", files={"files": ("big.pdf", b"%PDF-" + b"0" * 80_000)}, timeout=30)
    assert response.status_code == 413
    small = httpx.post(url + "gradio_api/upload", files={"files": ("small.pdf", b"%PDF-" + b"0" * 1_000)}, timeout=30)
    assert small.status_code == 200


@pytest.mark.parametrize("number", [2.5, 0, -3])
def test_a_reference_number_that_is_not_a_whole_number_of_1_or_more_is_refused(
        url: str, settings: Settings, tmp_path: Path, number: float) -> None:
    pdf = make_pdf(tmp_path / "paper.pdf", [["# Results", "Exosomes carry PD-L1 to lymph nodes."]])
    try:
        message = Client(url, verbose=False).predict(handle_file(str(pdf)), number, api_name="/add_paper")[0]
    except AppError as error:  # Gradio's own minimum check answers before the handler
        message = str(error)
    assert "xr-notice-ok" not in message and ("whole number" in message or "minimum" in message)
    assert not list((settings.corpus / "literature").glob("*.pdf"))


def test_a_failure_while_answering_shows_no_exception_text(url: str, settings: Settings, dead_llm: str) -> None:
    with pytest.raises(AppError) as raised:
        Client(url, verbose=False).predict("How do exosomes blunt T cells?", "llm", api_name="/answer")
    assert "secret-llm-path" not in str(raised.value) and "Connection" not in str(raised.value)
    conversation = list(ChatHandlers(settings).ask("How do exosomes blunt T cells?", [], "llm", 6, "all", [], ""))[-1][0]
    assert ANSWER_FAILED in conversation and "secret-llm-path" not in conversation
