"""`exorag refs fetch` against hostile answers: redirects only to allowed https hosts (or the
configured service itself), identifiers only of their syntax and only as one encoded path segment."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from fake_literature_services import FakeLiteratureServices, FakePaper
from pdf_factory import pdf_bytes

from exorag.models import Reference
from exorag.references import write_references
from exorag.refs.clients.http import PoliteClient, ServiceError
from exorag.refs.fetch import fetch_literature
from exorag.refs.identifiers import InvalidIdentifier, checked_doi, checked_pmcid, checked_pmid, path_segment
from exorag.refs.settings import LiteratureSettings

SECRET_PDF = pdf_bytes([["# Internal", "Administrator credentials and other secrets."]])
SERVICE_PREFIXES = ("/europepmc/", "/unpaywall/v2/", "/eutils/", "/pdf/", "/redirect/")


class _Internal(BaseHTTPRequestHandler):
    """An internal server that must never be reached: it serves a valid PDF to anyone."""

    hits: list[str] = []

    def do_GET(self) -> None:
        _Internal.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "application/pdf")
        self.send_header("Content-Length", str(len(SECRET_PDF)))
        self.end_headers()
        self.wfile.write(SECRET_PDF)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def internal() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Internal)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Internal.hits = []
    yield f"http://localhost:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def corpus_with(tmp_path: Path, references: list[Reference]) -> Path:
    corpus = tmp_path / "corpus"
    (corpus / "literature").mkdir(parents=True)
    write_references(corpus / "references.jsonl", references)
    return corpus


def test_a_redirect_to_an_internal_address_is_refused_and_nothing_is_saved(tmp_path: Path, internal: str) -> None:
    paper = FakePaper("Exosomal PD-L1", "Poggio", "2019", doi="10.5555/exo.1", pmid="1001",
                      abstract="PD-L1 abstract.", pdf_redirect=f"{internal}/internal-admin/secret.pdf")
    corpus = corpus_with(tmp_path, [Reference(number=1, citation="Poggio M. 2019.", doi="10.5555/exo.1")])
    with FakeLiteratureServices([paper]) as services:
        report = fetch_literature(corpus, services.settings())
    assert _Internal.hits == []
    result = report.results[0]
    assert result.outcome == "abstract" and "refused a redirect to" in result.detail and "/internal-admin/" in result.detail
    assert not any(path.suffix == ".pdf" for path in (corpus / "literature").iterdir())


def test_a_redirect_back_to_the_configured_service_is_followed(tmp_path: Path) -> None:
    pdf = pdf_bytes([["# Exosomes", "Exosomal PD-L1 suppresses T cells."]])
    corpus = corpus_with(tmp_path, [Reference(number=1, citation="Poggio M. 2019.", doi="10.5555/exo.1")])
    with FakeLiteratureServices() as services:
        target = FakePaper("Exosomal PD-L1 (PDF)", "Poggio", "2019", doi="10.5555/exo.pdf", pdf=pdf)
        services.papers += [target, FakePaper("Exosomal PD-L1", "Poggio", "2019", doi="10.5555/exo.1",
                                              pdf_redirect=services.pdf_url(target))]
        report = fetch_literature(corpus, services.settings())
    assert report.results[0].outcome == "full_text" and report.results[0].file.endswith(".pdf")


def test_redirects_elsewhere_need_https_and_an_allowed_host_and_no_private_address() -> None:
    public = LiteratureSettings(europepmc_url="https://www.ebi.ac.uk/europepmc/webservices/rest",
                                unpaywall_url="https://api.unpaywall.org/v2",
                                ncbi_url="https://eutils.ncbi.nlm.nih.gov/entrez/eutils")
    with PoliteClient(public) as client:
        client.allow_hosts(["https://www.publisher.example/article.pdf", "https://10.0.0.7/paper.pdf"])
        assert client._refusal(httpx.URL("https://www.publisher.example/a.pdf"), redirected=True) is None
        assert "plain-http" in client._refusal(httpx.URL("http://www.publisher.example/a.pdf"), redirected=True)
        assert "neither a configured service" in client._refusal(httpx.URL("https://evil.example/a.pdf"), redirected=True)
        assert "private" in client._refusal(httpx.URL("https://10.0.0.7/paper.pdf"), redirected=False)
        assert "web address" in client._refusal(httpx.URL("file:///etc/passwd"), redirected=True)
        with pytest.raises(ServiceError, match="refused"):
            client.get("Unpaywall", "http://169.254.169.254/latest/meta-data/")


@pytest.mark.parametrize("doi", ["10.1/../../other", "10.5555/../../../other", "10.5555/a b", "doi.org/10.5555/x"])
def test_a_doi_that_is_not_one_never_leaves_the_services_path(tmp_path: Path, doi: str) -> None:
    corpus = corpus_with(tmp_path, [Reference(number=1, citation="Somebody. 2020.", doi=doi)])
    with FakeLiteratureServices() as services:
        report = fetch_literature(corpus, services.settings())
        paths = [request.path for request in services.requests]
    assert all(path.startswith(SERVICE_PREFIXES) for path in paths), paths
    assert "is not a DOI" in report.results[0].detail


def test_a_remote_pmcid_is_checked_before_it_goes_into_a_path(tmp_path: Path) -> None:
    paper = FakePaper("Hypoxic exosomes", "Li", "2020", doi="10.5555/exo.2", pmid="1002",
                      pmcid="PMC2002/../../../other", abstract="Hypoxia abstract.", paragraphs=["Full text."])
    corpus = corpus_with(tmp_path, [Reference(number=2, citation="Li X. 2020.", doi="10.5555/exo.2")])
    with FakeLiteratureServices([paper]) as services:
        report = fetch_literature(corpus, services.settings())
        paths = [request.path for request in services.requests]
    assert not any("other" in path or "fullTextXML" in path for path in paths), paths
    assert report.results[0].outcome == "abstract"
    assert "pmcid" not in (corpus / "references.jsonl").read_text()


def test_identifiers_are_checked_and_encoded_as_one_segment() -> None:
    assert checked_doi("10.1016/j.cell.2019.02.016") == "10.1016/j.cell.2019.02.016"
    assert path_segment("10.1016/j.cell(2019)/x") == "10.1016%2Fj.cell%282019%29%2Fx"
    assert checked_pmcid("pmc6013") == "PMC6013" and checked_pmid("31000000") == "31000000"
    for bad, check in [("10.1/../x", checked_doi), ("12a", checked_pmid), ("PMC1/..", checked_pmcid), ("", checked_doi)]:
        with pytest.raises(InvalidIdentifier):
            check(bad)
