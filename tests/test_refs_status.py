"""`exorag refs status` and ``coverage()``: what the corpus holds of each paper the review cites."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fake_literature_services import FakeLiteratureServices
from pdf_factory import make_pdf
from test_refs_fetch import env_for, make_papers
from typer.testing import CliRunner

from exorag.citations import cited_numbers
from exorag.cli import app
from exorag.models import Reference
from exorag.references import write_references
from exorag.refs.status import coverage, coverage_report

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_CORPUS = ROOT / "corpus"

REVIEW = """Tumour exosomes

Immune evasion
Exosomal PD-L1 binds PD-1 on T cells and suppresses their activation [1]. TGF-beta on exosomes expands regulatory T cells [2, 3].

Hypoxia
Hypoxic cells release more exosomes [3-4].

References
[1] Poggio M, et al. Suppression of exosomal PD-L1. Cell. 2019.
[2] Li X, et al. Hypoxic exosomes. J Hepatol. 2020.
[3] Al-Nedawi K, et al. EGFRvIII transfer. Nat Cell Biol. 2008.
[4] Hoshino A, et al. Exosome integrins. Nature. 2015.
[5] Listed but never cited. 2001.
"""


def test_bundled_corpus_lists_every_number_the_review_cites_with_its_passages() -> None:
    review_text = (BUNDLED_CORPUS / "review" / "review-analysis.txt").read_text(encoding="utf-8")
    literature = BUNDLED_CORPUS / "literature"
    names = [p.name for p in literature.iterdir()] if literature.is_dir() else []

    rows = coverage(BUNDLED_CORPUS)

    assert [row.number for row in rows] == sorted(cited_numbers(review_text))
    for row in rows:
        assert row.passages and all(row.number in cited_numbers(p.snippet) for p in row.passages)
        if not any(re.match(rf"0*{row.number}\D", name) for name in names):
            assert row.holding == "nothing" and not row.files
    by_number = {row.number: row for row in rows}
    assert by_number[58].passages[0].section == "Hypoxia-Driven Exosomes in HCC Progression"
    assert by_number[58].passages[0].snippet.endswith("promote aggressive phenotypes [58]")


def make_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    (corpus / "review").mkdir(parents=True)
    (corpus / "literature").mkdir()
    (corpus / "review" / "review.txt").write_text(REVIEW, encoding="utf-8")
    make_pdf(corpus / "literature" / "1_poggio2019.pdf", [["# Exosomal PD-L1", "Full text of the paper."]])
    (corpus / "literature" / "2_li2020.txt").write_text(
        "Abstract only: the full text was not openly available (PubMed 1002).\n\nHypoxic exosomes\n\nAbstract.\n",
        encoding="utf-8",
    )
    (corpus / "literature" / "0003-alnedawi.md").write_text(
        "# EGFRvIII transfer\n\nThe whole paper.\n", encoding="utf-8"
    )
    (corpus / "literature" / "4_hoshino.docx").write_bytes(b"PK not a format exorag reads")
    (corpus / "literature" / "9_other.txt").write_text("A paper the review does not cite.\n", encoding="utf-8")
    write_references(
        corpus / "references.jsonl", [Reference(number=1, citation="Poggio M, et al. Cell. 2019.", doi="10.5555/exo.1")]
    )
    return corpus


def test_status_shows_full_text_abstract_or_nothing_and_where_each_is_cited(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path)

    report = coverage_report(corpus)

    assert [row.number for row in report.rows] == [1, 2, 3, 4]  # 5 is only in the bibliography
    assert {row.number: row.holding for row in report.rows} == {
        1: "full_text",
        2: "abstract",
        3: "full_text",
        4: "nothing",
    }
    first = report.rows[0]
    assert first.citation == "Poggio M, et al. Cell. 2019." and first.doi == "10.5555/exo.1"
    assert [(p.section, p.snippet) for p in first.passages] == [
        ("Immune evasion", "Exosomal PD-L1 binds PD-1 on T cells and suppresses their activation [1]")
    ]
    assert [p.section for p in report.rows[2].passages] == ["Immune evasion", "Hypoxia"]
    assert report.rows[1].files[0].abstract and report.rows[2].files[0].path == "literature/0003-alnedawi.md"
    assert report.counts == {"full_text": 2, "abstract": 1, "nothing": 1}
    assert report.uncited_files == ["literature/9_other.txt"]
    assert [p.split(" (")[0] for p in report.problems] == ["literature/4_hoshino.docx: not a format exorag reads"]


def test_a_citation_broken_by_a_hard_line_wrap_is_counted_as_ingest_counts_it(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path)
    wrapped = REVIEW.replace("regulatory T cells [2, 3].", "regulatory T cells [2,\n3].").replace(
        "more exosomes [3-4].", "more exosomes [3-\n4].")
    (corpus / "review" / "review.txt").write_text(wrapped, encoding="utf-8")
    report = coverage_report(corpus)
    assert [row.number for row in report.rows] == [1, 2, 3, 4]
    assert [p.snippet for p in report.rows[3].passages] == ["Hypoxic cells release more exosomes [3- 4]"]


def test_an_empty_file_or_a_pdf_that_is_none_is_no_full_text(tmp_path: Path) -> None:
    # Ingest fails both and the audit calls the paper missing: status must not count them as held.
    corpus = make_corpus(tmp_path)
    (corpus / "literature" / "4_empty.txt").write_bytes(b"")
    (corpus / "literature" / "4_saved.pdf").write_text("<html>a publisher's sign-in page</html>", encoding="utf-8")
    with open(bytes(corpus / "literature") + b"/4_caf\xe9.txt", "wb") as latin1_name:  # ingest fails its name
        latin1_name.write(b"Exosomes carry PD-L1.\n")
    report = coverage_report(corpus)
    assert {row.number: row.holding for row in report.rows}[4] == "nothing"
    assert "literature/4_empty.txt: empty; not counted as the paper's text" in report.problems
    assert "literature/4_saved.pdf: not a PDF (no %PDF- header); not counted as the paper's text" in report.problems
    assert ("literature/4_caf\\xe9.txt: the file name is not valid UTF-8 (ingest fails it); rename the file"
            in report.problems)
    # A link out of the corpus is skipped by ingest: no full text either.
    (tmp_path / "outside.txt").write_text("Exosomes carry PD-L1 to lymph nodes.\n", encoding="utf-8")
    (corpus / "literature" / "4_linked.txt").symlink_to(tmp_path / "outside.txt")
    report = coverage_report(corpus)
    assert {row.number: row.holding for row in report.rows}[4] == "nothing"
    assert ("literature/4_linked.txt: a link to a file outside the corpus folder (ingest skips it); "
            "not counted as the paper's text") in report.problems


def test_status_command_prints_the_same_coverage(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path)
    runner = CliRunner()

    text = runner.invoke(app, ["refs", "status", "--corpus", str(corpus)])
    as_json = runner.invoke(app, ["refs", "status", "--corpus", str(corpus), "--json"])

    assert text.exit_code == 0 and as_json.exit_code == 0, text.output + as_json.output
    assert "[2] abstract  literature/2_li2020.txt" in text.output
    assert "[4] nothing" in text.output
    assert 'cited in Hypoxia: "Hypoxic cells release more exosomes [3-4]"' in text.output
    assert "4 reference numbers cited: full text 2, abstract 1, nothing 1." in text.output
    assert json.loads(as_json.output) == coverage_report(corpus).model_dump()


def test_extract_fetch_and_status_on_a_pdf_review(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "review").mkdir(parents=True)
    make_pdf(
        corpus / "review" / "review.pdf",
        [
            [
                "# Immune evasion",
                "Exosomal PD-L1 suppresses T cells [1]. Hypoxic exosomes carry miR-1273f [2, 3].",
                "# Open questions",
                "Whether integrins direct all metastases is unknown [4].",
                "# References",
                "1. Poggio M, et al. Suppression of exosomal PD-L1 induces systemic anti-tumor immunity. Cell. 2019. doi:10.5555/exo.1",
                "2. Li X, et al. Hypoxic exosomes carry miR-1273f. J Hepatol. 2020. doi:10.5555/exo.2",
            ],
            [
                "3. Al-Nedawi K, et al. Intercellular transfer of EGFRvIII. Nat Cell Biol. 2008. doi:10.5555/exo.3",
                "4. Nobody N. A paper no service knows. J Nowhere. 2011. doi:10.5555/missing",
            ],
        ],
    )
    runner = CliRunner()
    with FakeLiteratureServices(make_papers()) as services:
        extracted = runner.invoke(app, ["refs", "extract", "--corpus", str(corpus)])
        fetched = runner.invoke(app, ["refs", "fetch", "--corpus", str(corpus)], env=env_for(services))
    status = runner.invoke(app, ["refs", "status", "--corpus", str(corpus)])

    assert extracted.exit_code == 0 and "4 references (dot numbering)" in extracted.output, extracted.output
    assert fetched.exit_code == 0, fetched.output
    assert status.exit_code == 0, status.output
    assert "[1] full text  literature/1_poggio2019.pdf" in status.output
    assert "[2] full text  literature/2_li2020.txt" in status.output
    assert "[3] abstract  literature/3_alnedawi2008.txt" in status.output
    assert "[4] nothing" in status.output
    assert "Reference list: 4 entries in references.jsonl." in status.output
