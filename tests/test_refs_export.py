"""The references a real answer cites, exported as BibTeX, RIS, CSL-JSON and a formatted
bibliography, and read back with bibtexparser and rispy."""

from __future__ import annotations

import json
from pathlib import Path

import bibtexparser
import pytest
import rispy
from two_column_corpus import PAPER_DOI, PAPER_NUMBER, PAPER_TITLE, QUESTION, REVIEW_QUESTION, build_two_column_corpus
from typer.testing import CliRunner

from exorag.chain import AnswerOptions, answer
from exorag.cli import app
from exorag.config import Settings
from exorag.models import Answer, Reference
from exorag.refs.export import NO_METADATA, cited_references, export_references
from exorag.refs.library import read_library


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return build_two_column_corpus(tmp_path_factory.mktemp("export"))


@pytest.fixture(scope="module")
def answers(settings: Settings) -> list[Answer]:
    results = [answer(q, AnswerOptions(generator="extractive"), settings) for q in (QUESTION, REVIEW_QUESTION)]
    assert PAPER_NUMBER in {n for s in results[0].sentences for n in s.refs}
    assert 12 in {n for s in results[1].sentences for n in s.refs}
    return results


def test_the_answer_json_carries_the_imported_record(answers):
    reference = next(r for r in answers[0].references if r.number == PAPER_NUMBER)
    assert reference.csl["title"] == PAPER_TITLE and reference.doi == PAPER_DOI


def test_bibtex_of_a_conversation_parses_back_with_its_metadata_and_a_marked_stub(answers):
    text = export_references(cited_references(answers), "bibtex")
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks
    entries = {entry.key: {k: f.value for k, f in entry.fields_dict.items()} for entry in library.entries}
    paper = entries["nakamura2024"]
    assert paper["title"] == PAPER_TITLE and paper["doi"] == PAPER_DOI and paper["year"] == "2024"
    assert paper["author"] == "Nakamura, Kenji and Ortiz, Lucia" and paper["pages"] == "101--113"
    stub = entries["ref12"]
    assert stub["keywords"] == NO_METADATA and "title" not in stub and "author" not in stub
    assert "Hypoxic enhancement of exosome release" in stub["note"]


def test_ris_and_csl_json_parse_back(answers):
    references = cited_references(answers)
    records = {record["id"]: record for record in rispy.loads(export_references(references, "ris"))}
    assert records["nakamura2024"]["title"] == PAPER_TITLE and records["nakamura2024"]["doi"] == PAPER_DOI
    assert records["nakamura2024"]["authors"] == ["Nakamura, Kenji", "Ortiz, Lucia"]
    assert records["ref12"]["type_of_reference"] == "GEN" and records["ref12"]["keywords"] == [NO_METADATA]
    items = {item["id"]: item for item in json.loads(export_references(references, "csl-json"))}
    assert items["nakamura2024"]["container-title"] == "Journal of Test Oncology"
    assert items["ref12"]["keyword"] == NO_METADATA and "title" not in items["ref12"]


def test_formatted_bibliography_comes_from_citeproc(answers):
    text = export_references(cited_references(answers), "text")
    lines = dict(line.split(" ", 1) for line in text.strip().splitlines())
    assert lines[f"[{PAPER_NUMBER}]"].startswith("Nakamura, K. and Ortiz, L. (2024)")
    assert "Journal of Test Oncology" in lines[f"[{PAPER_NUMBER}]"]
    assert "no bibliographic metadata" in lines["[12]"]


def test_cli_ask_prints_the_cited_references_on_stdout(settings, tmp_path: Path):
    result = CliRunner().invoke(app, ["ask", QUESTION, "--cite-format", "bibtex", "--corpus", str(settings.corpus),
                                      "--index", str(settings.index)])
    assert result.exit_code == 0, result.output
    library = bibtexparser.parse_string(result.stdout)
    assert [entry.key for entry in library.entries] == ["nakamura2024"]
    assert "NKS-901" in result.stderr  # the answer itself went to stderr
    wrong = CliRunner().invoke(app, ["ask", QUESTION, "--cite-format", "endnote"])
    assert wrong.exit_code == 2 and "--cite-format" in wrong.output


def test_two_references_with_the_same_library_key_export_under_distinct_keys():
    # two libraries imported separately may both call their entry "smith2019", or RIS records without ID
    # both "ris-line-1"; the export must still be one readable entry per reference
    def record(number: int, title: str) -> Reference:
        return Reference(number=number, csl={"id": "smith2019", "type": "article-journal", "title": title,
                                             "author": [{"family": "Smith", "given": "A"}],
                                             "issued": {"date-parts": [[2019]]}})

    references = [record(3, "Exosomes carry PD-L1"), record(8, "Exosomes carry integrins")]
    library = bibtexparser.parse_string(export_references(references, "bibtex"))
    assert not library.failed_blocks
    assert sorted(entry.fields_dict["title"].value for entry in library.entries) == [
        "Exosomes carry PD-L1", "Exosomes carry integrins"]
    assert len({entry.key for entry in library.entries}) == 2
    assert len({record["id"] for record in rispy.loads(export_references(references, "ris"))}) == 2
    lines = export_references(references, "text").splitlines()
    assert "PD-L1" in lines[0] and "integrins" in lines[1]


def test_an_imported_link_that_is_no_web_link_is_left_out_of_every_export():
    record = {"id": "x2019", "type": "article-journal", "title": "Exosomes carry PD-L1",
              "URL": "javascript:alert(document.cookie)", "issued": {"date-parts": [[2019]]}}
    kept = {"id": "y2019", "type": "article-journal", "title": "Exosomes carry integrins",
            "URL": "https://example.org/y", "issued": {"date-parts": [[2019]]}}
    references = [Reference(number=3, csl=record), Reference(number=8, csl=kept)]
    for cite_format in ("bibtex", "ris", "csl-json", "text"):
        written = export_references(references, cite_format)
        assert "javascript" not in written and "Exosomes carry PD-L1" in written, cite_format
        assert "https://example.org/y" in written, cite_format



def test_a_name_written_as_a_number_is_exported_as_text_in_every_format():
    # CSL-JSON from some tools (or references.jsonl edited by hand) holds "family": 1234 or {"literal": 3}
    record = {"id": "a2019", "type": "article-journal", "title": "Exosomes carry PD-L1",
              "author": [{"family": 1234, "given": "A", "parse-names": False}, {"literal": 3}],
              "issued": {"date-parts": [[2019]]}}
    for cite_format in ("bibtex", "ris", "csl-json", "text"):
        written = export_references([Reference(number=3, csl=record)], cite_format)
        assert "Exosomes carry PD-L1" in written and "1234" in written, cite_format
    entry = bibtexparser.parse_string(export_references([Reference(number=3, csl=record)], "bibtex")).entries[0]
    assert entry.fields_dict["author"].value == "1234, A and {3}"


def test_bibtex_and_ris_exports_read_back_as_written(tmp_path: Path):
    # An institution, LaTeX's special characters, a key with spaces, a line break and a list of journals.
    record = {"id": "TCGA 2012, pan-cancer", "type": "article-journal",
              "title": "50% of T & B cells carry #1 marker_x\nacross $5 tumours",
              "author": [{"literal": "The Cancer Genome Atlas Network"}, {"family": "Müller", "given": "Hans"}],
              "container-title": ["Nature", "Nature (London)"], "issued": {"date-parts": [[2012]]},
              "URL": "https://example.edu/~lab/tcga%20final.pdf"}
    references = [Reference(number=3, csl=record), Reference(number=4, csl={**record, "id": "other"})]
    bibtex = export_references(references, "bibtex")
    assert not bibtexparser.parse_string(bibtex).failed_blocks
    for suffix, written in (("bib", bibtex), ("ris", export_references(references, "ris"))):
        (tmp_path / f"export.{suffix}").write_text(written, encoding="utf-8")
        library = read_library(tmp_path / f"export.{suffix}")
        assert not library.problems and [entry.key for entry in library.entries] == ["TCGA-2012-pan-cancer", "other"]
        item = library.entries[0].csl
        assert item["title"] == "50% of T & B cells carry #1 marker_x across $5 tumours", suffix
        assert item["container-title"] == "Nature" and item["URL"] == record["URL"], suffix
        assert item["author"][1] == {"family": "Müller", "given": "Hans"}, suffix
    assert read_library(tmp_path / "export.bib").entries[0].csl["author"][0] == {
        "literal": "The Cancer Genome Atlas Network"}


def test_braces_backslashes_and_line_breaks_in_any_field_lose_no_record(tmp_path: Path):
    # An unbalanced brace ended the BibTeX entry early (the record was lost), and a line break in a
    # name or keyword started an RIS tag of its own ("ER  -" closed the record there).
    odd = {"id": "odd", "type": "article-journal", "title": "A } broken {title with \\ a path ~ and ^",
           "container-title": "J {Odd", "author": [{"family": "O}Brien", "given": "Ann\nBeth"}],
           "volume": "3}", "issue": "Suppl_1", "page": "e12_3-e15", "DOI": "10.1000/{x}",
           "keyword": "exosomes\nER  - injected", "issued": {"date-parts": [[2020]]}}
    plain = {"id": "plain", "type": "article-journal", "title": "Exosomes carry PD-L1", "issued": {"date-parts": [[2019]]}}
    references = [Reference(number=1, csl=odd), Reference(number=2, csl=plain)]
    bibtex = export_references(references, "bibtex")
    assert not bibtexparser.parse_string(bibtex).failed_blocks
    for suffix, written in (("bib", bibtex), ("ris", export_references(references, "ris"))):
        (tmp_path / f"export.{suffix}").write_text(written, encoding="utf-8")
        library = read_library(tmp_path / f"export.{suffix}")
        assert not library.problems and [entry.key for entry in library.entries] == ["odd", "plain"], suffix
        item = library.entries[0].csl
        assert item["title"] == "A } broken {title with \\ a path ~ and ^", suffix
        assert item["author"] == [{"family": "O}Brien", "given": "Ann Beth"}], suffix
        # a field read verbatim keeps its underscore (it lost only its unbalancing brace)
        volume = "3" if suffix == "bib" else "3}"  # RIS holds a brace as written
        assert (item.get("issue"), item.get("page"), item.get("volume")) == ("Suppl_1", "e12_3-e15", volume), suffix
        assert library.entries[1].csl["title"] == "Exosomes carry PD-L1", suffix
