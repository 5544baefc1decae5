"""`exorag refs extract`: bibliographies that the tests write in several numbering styles and
formats (text, Markdown, HTML, PDF) become references.jsonl entries."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest
from pdf_factory import make_pdf
from typer.testing import CliRunner

from exorag.cli import app
from exorag.references import load_references
from exorag.refs.extract import ExtractError, extract_references, parse_bibliography, read_bibliography

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_REVIEW = ROOT / "corpus" / "review" / "review-analysis.txt"

# (number, citation as printed, doi, pmid); DOIs use Crossref's test prefix 10.5555.
ENTRIES = [
    (
        1,
        (
            "Poggio M, Hu T, Pai CC, Chu B, Belair CD, Chang A, et al. Suppression of exosomal PD-L1 induces "
            "systemic anti-tumor immunity and memory. Cell. 2019;177:414-427. doi:10.5555/exo.cell.2019.01.001"
        ),
        "10.5555/exo.cell.2019.01.001",
        None,
    ),
    (
        2,
        (
            "Li X, Wang Y, Wang Q. Hypoxic hepatocellular carcinoma cells release exosomes that carry miR-1273f. "
            "J Hepatol. 2020;72:101-112. PMID: 29879435"
        ),
        None,
        "29879435",
    ),
    (
        3,
        (
            "Al-Nedawi K, Meehan B, Micallef J, Lhotak V, May L, Guha A, et al. Intercellular transfer of the "
            "oncogenic receptor EGFRvIII by microvesicles derived from tumour cells. Nat Cell Biol. 2008;10:619-624. "
            "https://doi.org/10.5555/ncb1725"
        ),
        "10.5555/ncb1725",
        None,
    ),
    (
        4,
        (
            "van der Pol E, Boing AN, Harrison P, Sturk A, Nieuwland R. Classification, functions, and clinical "
            "relevance of extracellular vesicles. Pharmacol Rev. 2012;64:676-705."
        ),
        None,
        None,
    ),
]
REVIEW_TEXT = "Tumour exosomes and immunity\nExosomal PD-L1 suppresses T cells [1], and hypoxia raises release [2-4].\n"
LABELS = {
    "dot": "{n}. ",
    "bracket": "[{n}] ",
    "parenthesis": "({n}) ",
    "closing parenthesis": "{n}) ",
    "bare number": "{n} ",
    "superscript": "{n}",
}


def wrapped_entry(label: str, citation: str, width: int = 60) -> list[str]:
    """An entry as a layout prints it: wrapped at ``width``, the DOI of entry 1 broken after a dot."""
    lines = textwrap.wrap(label + citation, width=width, break_on_hyphens=False, break_long_words=False)
    broken: list[str] = []
    for line in lines:
        if "exo.cell.2019" in line:
            head, tail = line.split("exo.cell.", 1)
            broken += [head + "exo.cell.", tail]
        else:
            broken.append(line)
    return broken


def bibliography_text(style: str) -> str:
    lines = ["References", ""]
    for number, citation, _, _ in ENTRIES:
        lines += wrapped_entry(LABELS[style].format(n=number), citation)
    return REVIEW_TEXT + "\n" + "\n".join(lines) + "\n"


def assert_entries(references: list) -> None:
    assert [r.number for r in references] == [number for number, *_ in ENTRIES]
    for reference, (number, citation, doi, pmid) in zip(references, ENTRIES):
        assert reference.citation == citation, number
        assert reference.doi == doi, number
        assert reference.pmid == pmid, number


@pytest.mark.parametrize("style", list(LABELS))
def test_numbering_styles_parse_into_entries_spanning_lines(style: str) -> None:
    bibliography = parse_bibliography(bibliography_text(style))
    assert bibliography is not None
    assert_entries(bibliography.references)


def test_doi_broken_across_lines_is_joined_but_a_sentence_end_is_not() -> None:
    text = (
        "References\n"
        "1. Alpha A. A study. Cell. 2019. doi:10.5555/j.cell.\n2019.01.001\n"
        "2. Beta B. Another study. Nature. 2020. doi:10.5555/nature.\nEpub 2020 Jan 3.\n"
        "3. Gamma C. A third. Science. 2021. https://doi.org/10.5555/s41586-\n019-1234-5\n"
    )
    references = parse_bibliography(text).references
    assert [r.doi for r in references] == ["10.5555/j.cell.2019.01.001", "10.5555/nature", "10.5555/s41586-019-1234-5"]
    assert references[1].citation.endswith("doi:10.5555/nature. Epub 2020 Jan 3.")


def test_page_furniture_and_the_section_after_the_list_stay_out_of_entries() -> None:
    header = "Cancers 2021, 13, 4567"
    first_line_of_3 = wrapped_entry("3. ", ENTRIES[2][1])[0]
    text = (
        f"{header}\n"
        + bibliography_text("dot")
        .replace("2. Li X", f"17\n{header}\n2. Li X")  # between entries
        .replace(first_line_of_3, f"{first_line_of_3}\n\n18 of 30\n{header}\n")  # inside one
        + "\nFigure legends\nFigure 1. Exosome release under hypoxia.\n"
    )
    bibliography = parse_bibliography(text)
    assert_entries(bibliography.references)
    assert "Figure" not in bibliography.references[-1].citation
    assert text[bibliography.start :].startswith("References")


def test_a_references_heading_in_a_table_of_contents_is_not_the_bibliography() -> None:
    text = "Contents\nIntroduction\nReferences\nAppendix\n\n" + bibliography_text("bracket")
    bibliography = parse_bibliography(text)
    assert_entries(bibliography.references)
    assert bibliography.start == text.index("References", text.index("Appendix"))


def test_review_text_without_a_bibliography_has_none() -> None:
    assert parse_bibliography(BUNDLED_REVIEW.read_text(encoding="utf-8")) is None


def test_markdown_review_with_a_numbered_list(tmp_path: Path) -> None:
    lines = ["# Tumour exosomes", "", REVIEW_TEXT, "## References", ""]
    for number, citation, _, _ in ENTRIES:
        wrapped = wrapped_entry(f"{number}. ", citation)
        lines += [wrapped[0], *("   " + line for line in wrapped[1:])]
    path = tmp_path / "review.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bibliography, _ = read_bibliography(path)
    assert_entries(bibliography.references)


@pytest.mark.parametrize("layout", ["ordered list", "numbered paragraphs"])
def test_html_review(tmp_path: Path, layout: str) -> None:
    if layout == "ordered list":
        items = "".join(f"<li>{citation}</li>" for _, citation, _, _ in ENTRIES)
        references = f"<ol>{items}</ol>"
    else:
        references = "".join(f"<p>[{number}] {citation}</p>" for number, citation, _, _ in ENTRIES)
    path = tmp_path / "review.html"
    path.write_text(
        f"<html><body><h1>Tumour exosomes</h1><p>{REVIEW_TEXT}</p><h2>References</h2>{references}</body></html>",
        encoding="utf-8",
    )
    bibliography, _ = read_bibliography(path)
    assert_entries(bibliography.references)


def make_review_pdf(path: Path) -> Path:
    """A review PDF whose bibliography has an entry across the page break and a broken DOI."""
    entry1 = "1. " + ENTRIES[0][1].replace("exo.cell.2019", "exo.cell.\n2019")
    entry3 = "3. " + ENTRIES[2][1]
    split_at = entry3.index(" Nat Cell Biol.")
    pages = [
        [
            "# Tumour exosomes and immunity",
            "Exosomal PD-L1 suppresses T cells [1], and hypoxia raises release [2-4].",
            "# References",
            entry1,
            "2. " + ENTRIES[1][1],
            entry3[:split_at],
        ],
        [entry3[split_at + 1 :], "4. " + ENTRIES[3][1]],
    ]
    return make_pdf(path, pages)


def test_pdf_review_with_an_entry_across_the_page_break_and_a_broken_doi(tmp_path: Path) -> None:
    path = make_review_pdf(tmp_path / "review.pdf")
    bibliography, text = read_bibliography(path)
    assert "exo.cell.\n2019" in text  # the PDF really breaks the DOI
    assert_entries(bibliography.references)


def corpus_with_review(tmp_path: Path, name: str, text: str) -> Path:
    corpus = tmp_path / "corpus"
    (corpus / "review").mkdir(parents=True)
    (corpus / "review" / name).write_text(text, encoding="utf-8")
    return corpus


def test_extract_command_writes_references_jsonl(tmp_path: Path) -> None:
    corpus = corpus_with_review(tmp_path, "review.txt", bibliography_text("bracket"))
    result = CliRunner().invoke(app, ["refs", "extract", "--corpus", str(corpus)])
    assert result.exit_code == 0, result.output
    assert "4 references (bracket numbering)" in result.output
    references, problems = load_references(corpus / "references.jsonl")
    assert not problems
    assert_entries(list(references.values()))


def test_extract_command_on_a_review_without_bibliography_says_so_and_writes_nothing(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "review").mkdir(parents=True)
    shutil.copy(BUNDLED_REVIEW, corpus / "review")
    result = CliRunner().invoke(app, ["refs", "extract", "--corpus", str(corpus), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["written"] is False and "No reference list found in review/review-analysis.txt" in report["message"]
    assert not (corpus / "references.jsonl").exists()


def test_reextracting_keeps_values_edited_by_hand(tmp_path: Path) -> None:
    corpus = corpus_with_review(tmp_path, "review.txt", bibliography_text("dot"))
    extract_references(corpus)
    path = corpus / "references.jsonl"
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    lines[1]["citation"] = "Li X et al. 2020 (checked by hand)"
    lines[3]["pmcid"] = "PMC1234567"
    lines.append({"number": 99, "citation": "Added by hand"})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    # the review changes: entry 4 now prints a DOI
    review = corpus / "review" / "review.txt"
    review.write_text(
        review.read_text(encoding="utf-8").replace("2012;64:676-705.", "2012;64:676-705. doi:10.5555/pr.64"),
        encoding="utf-8",
    )

    report = extract_references(corpus)

    references, _ = load_references(path)
    assert references[2].citation == "Li X et al. 2020 (checked by hand)"
    assert references[4].pmcid == "PMC1234567" and references[4].doi == "10.5555/pr.64"
    assert references[4].citation.endswith("doi:10.5555/pr.64")
    assert references[99].citation == "Added by hand"
    assert (report.added, report.updated, report.kept_by_hand) == (0, 1, 1)


def test_two_reviews_with_bibliographies_ask_which_one(tmp_path: Path) -> None:
    corpus = corpus_with_review(tmp_path, "a.txt", bibliography_text("dot"))
    (corpus / "review" / "b.txt").write_text(bibliography_text("bracket"), encoding="utf-8")
    with pytest.raises(ExtractError, match="choose one with --review"):
        extract_references(corpus)
    report = extract_references(corpus, review=corpus / "review" / "b.txt")
    assert report.written and report.entries == len(ENTRIES)
