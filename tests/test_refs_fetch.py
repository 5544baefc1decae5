"""`exorag refs fetch` against local stand-ins of Europe PMC, Unpaywall and NCBI E-utilities."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_literature_services import FakeLiteratureServices, FakePaper
from pdf_factory import pdf_bytes
from typer.testing import CliRunner

from exorag.cli import app
from exorag.ingest.loaders import load_document
from exorag.models import Reference
from exorag.references import load_references, write_references
from exorag.refs.fetch import ABSTRACT_MARKER, FetchResult, fetch_literature

POGGIO_PDF = pdf_bytes(
    [["# Suppression of exosomal PD-L1", "Removing exosomal PD-L1 induces systemic anti-tumour immunity."]] * 3
)
HOSHINO_TITLE = "Tumour exosome integrins determine organotropic metastasis"


def make_papers() -> list[FakePaper]:
    return [
        FakePaper(
            "Suppression of exosomal PD-L1 induces systemic anti-tumor immunity",
            "Poggio",
            "2019",
            doi="10.5555/exo.1",
            pmid="1001",
            pmcid="PMC2001",
            abstract="PD-L1 abstract.",
            paragraphs=["Exosomal PD-L1 suppresses T cells."],
            pdf=POGGIO_PDF,
        ),
        FakePaper(
            "Hypoxic exosomes carry miR-1273f",
            "Li",
            "2020",
            doi="10.5555/exo.2",
            pmid="1002",
            pmcid="PMC2002",
            abstract="Hypoxia abstract.",
            paragraphs=[
                "Hypoxic HCC cells secrete miR-1273f exosomes.",
                "Wnt signalling drives EMT in recipient cells.",
            ],
        ),
        FakePaper(
            "Intercellular transfer of EGFRvIII",
            "Al-Nedawi",
            "2008",
            doi="10.5555/exo.3",
            pmid="1003",
            abstract="Glioma microvesicles transfer EGFRvIII.",
            in_europepmc=False,
        ),
        FakePaper(
            HOSHINO_TITLE, "Hoshino", "2015", pmid="1005", abstract="Integrins on exosomes direct organotropism."
        ),
    ]


REFERENCES = [
    Reference(number=1, citation="Poggio M, et al. Suppression of exosomal PD-L1. Cell. 2019.", doi="10.5555/exo.1"),
    Reference(number=2, citation="Li X, et al. Hypoxic exosomes. J Hepatol. 2020.", doi="10.5555/exo.2"),
    Reference(number=3, citation="Al-Nedawi K, et al. EGFRvIII. Nat Cell Biol. 2008.", doi="10.5555/exo.3"),
    Reference(number=4, citation="Nobody N. A paper no service knows. J Nowhere. 2011.", doi="10.5555/missing"),
    Reference(
        number=5, citation=f"Hoshino A, Costa-Silva B, Shen TL, et al. {HOSHINO_TITLE}. Nature. 2015;527:329-35."
    ),
    Reference(number=6, citation="Personal communication from the authors."),
]


@pytest.fixture
def services():
    with FakeLiteratureServices(make_papers()) as fake:
        yield fake


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    (corpus / "literature").mkdir(parents=True)
    write_references(corpus / "references.jsonl", REFERENCES)
    return corpus


def outcomes(results: list[FetchResult]) -> dict[int, str]:
    return {result.number: result.outcome for result in results}


def test_fetch_brings_in_full_text_and_abstracts_and_reports_the_rest(
    services: FakeLiteratureServices, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXORAG_EUROPEPMC_URL", f"{services.base_url}/europepmc")
    monkeypatch.setenv("EXORAG_UNPAYWALL_URL", f"{services.base_url}/unpaywall/v2")
    monkeypatch.setenv("EXORAG_NCBI_URL", f"{services.base_url}/eutils")
    monkeypatch.setenv("EXORAG_CONTACT_EMAIL", "lab@example.org")
    monkeypatch.setenv("EXORAG_FETCH_RATE", "100")

    result = CliRunner().invoke(app, ["refs", "fetch", "--corpus", str(corpus), "--json"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {r["number"]: r["outcome"] for r in report["results"]} == {
        1: "full_text",
        2: "full_text",
        3: "abstract",
        4: "not_available",
        5: "abstract",
        6: "no_identifier",
    }
    literature = corpus / "literature"
    assert sorted(p.name for p in literature.iterdir()) == [
        "1_poggio2019.pdf",
        "2_li2020.txt",
        "3_alnedawi2008.txt",
        "5_hoshino2015.txt",
    ]
    assert (literature / "1_poggio2019.pdf").read_bytes() == POGGIO_PDF
    assert "anti-tumour immunity" in load_document(literature / "1_poggio2019.pdf").text
    full_text = (literature / "2_li2020.txt").read_text(encoding="utf-8")
    assert "Wnt signalling drives EMT in recipient cells." in full_text
    assert "Another paper" not in full_text and "[" not in full_text  # the paper's own references stay out
    abstract = (literature / "3_alnedawi2008.txt").read_text(encoding="utf-8")
    assert abstract.startswith(f"{ABSTRACT_MARKER}: the full text was not openly available (PubMed 1003)")
    assert "Glioma microvesicles transfer EGFRvIII." in abstract
    assert "Integrins on exosomes direct organotropism." in (literature / "5_hoshino2015.txt").read_text(
        encoding="utf-8"
    )

    references, problems = load_references(corpus / "references.jsonl")
    assert not problems
    assert (references[1].pmid, references[1].pmcid, references[1].file) == (
        "1001",
        "PMC2001",
        "literature/1_poggio2019.pdf",
    )
    assert (references[3].pmid, references[3].file) == ("1003", "literature/3_alnedawi2008.txt")
    assert references[5].pmid == "1005" and references[5].doi is None
    assert references[4].file is None and references[6].file is None
    state = json.loads((corpus / ".exorag" / "fetch-state.json").read_text(encoding="utf-8"))
    assert state["references"]["1"]["source"] == "Unpaywall open-access PDF"


def test_requests_name_exorag_carry_the_contact_email_and_keep_the_rate(
    services: FakeLiteratureServices, corpus: Path
) -> None:
    fetch_literature(corpus, services.settings(fetch_rate=20.0), numbers={1, 2, 3})

    assert all(
        "exorag" in r.headers["User-Agent"] and "lab@example.org" in r.headers["User-Agent"] for r in services.requests
    )
    assert all(r.query["email"] == "lab@example.org" for r in services.requests if r.path.startswith("/unpaywall/"))
    eutils = [r for r in services.requests if r.path.startswith("/eutils/")]
    assert eutils and all(r.query["tool"] == "exorag" and r.query["email"] == "lab@example.org" for r in eutils)
    arrivals = [r.at for r in services.requests]
    assert len(arrivals) >= 8
    # 20 requests/s at most: the span is at least one interval per request (single gaps jitter)
    assert arrivals[-1] - arrivals[0] >= (len(arrivals) - 1) * 0.05 * 0.95


def test_a_429_with_retry_after_is_waited_out(services: FakeLiteratureServices, corpus: Path) -> None:
    services.fail('DOI:"10.5555/exo.1"', 429, headers={"Retry-After": "1"})

    report = fetch_literature(corpus, services.settings(), numbers={1})

    assert outcomes(report.results) == {1: "full_text"}
    searches = services.requests_to('DOI:"10.5555/exo.1"')
    assert len(searches) == 2
    assert searches[1].at - searches[0].at >= 0.95


def test_a_retry_after_longer_than_the_limit_fails_the_entry_without_waiting(
    services: FakeLiteratureServices, corpus: Path
) -> None:
    services.fail("10.5555/exo.1", 429, times=10, headers={"Retry-After": "3600"})

    report = fetch_literature(corpus, services.settings(), numbers={1})

    assert outcomes(report.results) == {1: "failed"}
    assert "asks to wait 3600 s" in report.results[0].detail


def test_server_errors_are_retried_with_growing_back_off(services: FakeLiteratureServices, corpus: Path) -> None:
    services.fail("/unpaywall/", 500, times=2)

    report = fetch_literature(corpus, services.settings(fetch_backoff=0.1), numbers={1})

    assert outcomes(report.results) == {1: "full_text"}
    assert (corpus / "literature" / "1_poggio2019.pdf").read_bytes() == POGGIO_PDF
    lookups = [r.at for r in services.requests if r.path.startswith("/unpaywall/")]
    assert len(lookups) == 3
    assert lookups[1] - lookups[0] >= 0.1 and lookups[2] - lookups[1] >= 0.2


def test_a_failing_entry_does_not_stop_the_others_and_is_retried_next_run(
    services: FakeLiteratureServices, corpus: Path
) -> None:
    services.fail("10.5555/exo.2", 503, times=1000)

    first = CliRunner().invoke(app, ["refs", "fetch", "--corpus", str(corpus)], env=env_for(services))

    assert first.exit_code == 1, first.output
    assert "[2] failed" in first.output and "[1] full text" in first.output and "[3] abstract only" in first.output
    assert "run `exorag refs fetch` again to retry them" in first.output
    services.clear_faults()
    services.requests.clear()

    second = CliRunner().invoke(app, ["refs", "fetch", "--corpus", str(corpus), "--json"], env=env_for(services))

    assert second.exit_code == 0, second.output
    results = {r["number"]: r for r in json.loads(second.output)["results"]}
    assert results[2]["outcome"] == "full_text" and not results[2]["earlier"]
    assert all(results[n]["earlier"] for n in (1, 3, 4, 5, 6))
    assert not services.requests_to("exo.1") and not services.requests_to("exo.3")


def env_for(services: FakeLiteratureServices) -> dict[str, str]:
    return {
        "EXORAG_EUROPEPMC_URL": f"{services.base_url}/europepmc",
        "EXORAG_UNPAYWALL_URL": f"{services.base_url}/unpaywall/v2",
        "EXORAG_NCBI_URL": f"{services.base_url}/eutils",
        "EXORAG_CONTACT_EMAIL": "lab@example.org",
        "EXORAG_FETCH_RATE": "200",
        "EXORAG_FETCH_RETRIES": "1",
        "EXORAG_FETCH_BACKOFF": "0.01",
    }


def test_an_interrupted_fetch_resumes_where_it_stopped(services: FakeLiteratureServices, corpus: Path) -> None:
    def stop_after_first(result: FetchResult) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fetch_literature(corpus, services.settings(), progress=stop_after_first)
    references, _ = load_references(corpus / "references.jsonl")
    assert references[1].file == "literature/1_poggio2019.pdf" and references[2].file is None
    services.requests.clear()

    report = fetch_literature(corpus, services.settings())

    assert report.results[0].earlier and report.results[0].outcome == "full_text"
    assert not services.requests_to("exo.1") and not services.requests_to("PMC2001")
    assert outcomes(report.results)[2] == "full_text"


def test_a_download_cut_short_resumes_with_a_range_request(services: FakeLiteratureServices, corpus: Path) -> None:
    services.cut_short("/pdf/")

    report = fetch_literature(corpus, services.settings(), numbers={1})

    assert outcomes(report.results) == {1: "full_text"}
    assert (corpus / "literature" / "1_poggio2019.pdf").read_bytes() == POGGIO_PDF
    downloads = [r for r in services.requests if r.path.startswith("/pdf/")]
    assert len(downloads) == 2 and "Range" not in downloads[0].headers
    assert downloads[1].headers["Range"] == f"bytes={len(POGGIO_PDF) // 2}-"


def test_files_placed_by_hand_are_never_overwritten_or_fetched(services: FakeLiteratureServices, corpus: Path) -> None:
    literature = corpus / "literature"
    (literature / "1_mine.pdf").write_bytes(b"%PDF-1.4 my annotated copy")
    (literature / "2_li2020.txt").write_text("My own notes on Li 2020.", encoding="utf-8")
    (literature / "hoshino-paper.pdf").write_bytes(b"%PDF-1.4 Hoshino")
    references, _ = load_references(corpus / "references.jsonl")
    references[5] = references[5].model_copy(update={"file": "literature/hoshino-paper.pdf"})
    write_references(corpus / "references.jsonl", list(references.values()))

    report = fetch_literature(corpus, services.settings(), refresh=True)

    assert {n: o for n, o in outcomes(report.results).items() if n in (1, 2, 5)} == {
        1: "user_file",
        2: "user_file",
        5: "user_file",
    }
    assert (literature / "1_mine.pdf").read_bytes() == b"%PDF-1.4 my annotated copy"
    assert (literature / "2_li2020.txt").read_text(encoding="utf-8") == "My own notes on Li 2020."
    assert (
        not services.requests_to("exo.1") and not services.requests_to("exo.2") and not services.requests_to("Hoshino")
    )
    references, _ = load_references(corpus / "references.jsonl")
    assert references[1].file == "literature/1_mine.pdf"
    assert references[5].file == "literature/hoshino-paper.pdf"


def test_a_pdf_link_to_a_web_page_falls_back_to_europe_pmc_full_text(
    services: FakeLiteratureServices, corpus: Path
) -> None:
    services.papers[1].pdf_is_web_page = True

    report = fetch_literature(corpus, services.settings(), numbers={2})

    assert outcomes(report.results) == {2: "full_text"}
    assert report.results[0].source == "Europe PMC open access (PMC2002)"
    assert "gave a web page, not a PDF" in report.results[0].detail
    assert [p.name for p in (corpus / "literature").iterdir()] == ["2_li2020.txt"]


def test_without_a_contact_email_unpaywall_is_not_asked(services: FakeLiteratureServices, corpus: Path) -> None:
    report = fetch_literature(corpus, services.settings(contact_email=None), numbers={1})

    assert any("EXORAG_CONTACT_EMAIL is not set" in warning for warning in report.warnings)
    assert not [r for r in services.requests if r.path.startswith("/unpaywall/")]
    assert outcomes(report.results) == {1: "full_text"}
    assert (corpus / "literature" / "1_poggio2019.txt").is_file()


def test_refresh_replaces_an_abstract_once_the_full_text_is_open(
    services: FakeLiteratureServices, corpus: Path
) -> None:
    fetch_literature(corpus, services.settings(), numbers={3})
    assert (corpus / "literature" / "3_alnedawi2008.txt").is_file()
    services.papers[2].pdf = POGGIO_PDF

    unchanged = fetch_literature(corpus, services.settings(), numbers={3})
    refreshed = fetch_literature(corpus, services.settings(), numbers={3}, refresh=True)

    assert unchanged.results[0].earlier and unchanged.results[0].outcome == "abstract"
    assert outcomes(refreshed.results) == {3: "full_text"}
    assert [p.name for p in (corpus / "literature").iterdir()] == ["3_alnedawi2008.pdf"]


def test_a_title_search_accepts_only_the_paper_the_citation_prints(
    services: FakeLiteratureServices, corpus: Path
) -> None:
    write_references(
        corpus / "references.jsonl",
        [
            Reference(number=7, citation="Hoshino A, et al. Tumour exosome integrins determine. Nature. 2015."),
            Reference(number=8, citation=f"Hoshino A, et al. {HOSHINO_TITLE}. Nature. 2016."),
            Reference(number=9, citation=f"Hoshino A, et al. {HOSHINO_TITLE}. Nature. 2015."),
        ],
    )

    report = fetch_literature(corpus, services.settings())

    assert outcomes(report.results) == {7: "no_identifier", 8: "no_identifier", 9: "abstract"}
    assert len(services.requests_to("TITLE:")) == 3


def test_refresh_never_trades_full_text_for_less(services: FakeLiteratureServices, corpus: Path) -> None:
    fetch_literature(corpus, services.settings(), numbers={1})
    services.papers[0].pdf = None
    services.papers[0].paragraphs = []

    refreshed = fetch_literature(corpus, services.settings(), numbers={1}, refresh=True)

    assert outcomes(refreshed.results) == {1: "full_text"} and refreshed.results[0].earlier
    assert (corpus / "literature" / "1_poggio2019.pdf").read_bytes() == POGGIO_PDF
