"""A small real corpus for the API and MCP tests: the bundled review, one cited paper's text and a
reference list, ingested into a fresh index; and a uvicorn server on a free loopback port."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from conftest import BUNDLED_CORPUS

from exorag.config import Settings, get_settings
from exorag.ingest.sync import sync_corpus
from exorag.models import Reference
from exorag.references import write_references

RECEPTOR_QUESTION = "Which cancer-driving receptor do glioblastoma exosomes pass to other cells?"
REFERENCES = [
    Reference(number=59, citation="Al-Nedawi K, et al. Intercellular transfer of the oncogenic receptor EGFRvIII "
                                  "by microvesicles derived from tumour cells. Nat Cell Biol. 2008.",
              doi="10.1038/ncb1725"),
    Reference(number=61, citation="Skog J, et al. Glioblastoma microvesicles transport RNA and proteins. "
                                  "Nat Cell Biol. 2008.", doi="10.1038/ncb1800"),
]
PAPER_59 = """Intercellular transfer of the oncogenic receptor EGFRvIII by microvesicles

Abstract
Glioma cells expressing the truncated oncogenic receptor EGFRvIII shed it in membrane microvesicles.
These microvesicles merge with the plasma membrane of glioma cells lacking EGFRvIII, which then
activate MAPK and AKT signalling, change the expression of EGFRvIII-regulated genes and grow
anchorage-independently.
"""


def build_api_corpus(base: Path) -> Settings:
    """Ingest the corpus into ``base/index`` and return its settings."""
    corpus = base / "corpus"
    shutil.copytree(BUNDLED_CORPUS, corpus)
    (corpus / "literature" / "59_al-nedawi2008.txt").write_text(PAPER_59, encoding="utf-8")
    write_references(corpus / "references.jsonl", REFERENCES)
    settings = get_settings(corpus=corpus, index=base / "index")
    report = sync_corpus(settings)
    assert not report.failed and report.added > 0
    return settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(app) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free loopback port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
