"""``exorag refs import``: BibTeX, RIS and CSL-JSON libraries written by the test, matched to a real
references.jsonl by DOI, PMID, title and (when asked) order, with attached PDFs and a broken entry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pdf_factory import make_pdf
from typer.testing import CliRunner

from exorag.cli import app
from exorag.models import Reference
from exorag.references import load_references, write_references
from exorag.refs.importing import TITLE_THRESHOLD, import_library

POGGIO = {
    "key": "poggio2019", "title": "Suppression of exosomal PD-L1 induces systemic anti-tumor immunity and memory",
    "authors": [("Poggio", "Mauro"), ("Hu", "Tianyi")], "journal": "Cell", "year": 2019,
    "doi": "https://doi.org/10.1016/J.CELL.2019.02.016", "file": "files/7/Poggio 2019.pdf",
}
HOSHINO = {
    "key": "hoshino2015", "title": "Tumour exosome integrins determine organotropic metastasis",
    "authors": [("Hoshino", "Ayuko")], "journal": "Nature", "year": 2015, "pmid": "26524530",
}
PEINADO = {
    "key": "peinado2012",
    "title": "Melanoma exosomes educate bone marrow progenitor cells toward a pro-metastatic phenotype through MET",
    "authors": [("Peinado", "Hector")], "journal": "Nat Med", "year": 2012, "file": "files/9/peinado.pdf",
}
UNRELATED = {
    "key": "zhang2021", "title": "Deep learning for protein structure prediction in yeast",
    "authors": [("Zhang", "Li")], "journal": "Science", "year": 2021,
}
ENTRIES = [POGGIO, HOSHINO, PEINADO, UNRELATED]
BROKEN_MARK = "BROKEN-ENTRY"


def optional(entry: dict, key: str, template: str) -> list[str]:
    return [template.format(entry[key])] if key in entry else []


def bibtex(entries: list[dict], broken_after: int) -> str:
    parts = []
    for index, entry in enumerate(entries):
        fields = [f"  title = {{{entry['title']}}}",
                  "  author = {" + " and ".join(f"{f}, {g}" for f, g in entry["authors"]) + "}",
                  f"  journal = {{{entry['journal']}}}", f"  year = {{{entry['year']}}}"]
        fields += optional(entry, "doi", "  doi = {{{}}}") + optional(entry, "pmid", "  pmid = {{{}}}")
        fields += optional(entry, "file", "  file = {{Full Text PDF:{}:application/pdf}}")
        parts.append(f"@article{{{entry['key']},\n" + ",\n".join(fields) + "\n}\n")
        if index == broken_after:
            parts.append(f"@article{{{BROKEN_MARK},\n  title = {{A title whose brace never closes,\n  year = 2020\n\n")
    return "\n".join(parts)


def ris(entries: list[dict], broken_after: int) -> str:
    parts = []
    for index, entry in enumerate(entries):
        lines = ["TY  - JOUR", f"ID  - {entry['key']}", f"TI  - {entry['title']}"]
        lines += [f"AU  - {f}, {g}" for f, g in entry["authors"]]
        lines += [f"T2  - {entry['journal']}", f"PY  - {entry['year']}"]
        lines += optional(entry, "doi", "DO  - {}") + optional(entry, "pmid", "AN  - {}")
        lines += optional(entry, "file", "L1  - {}")
        parts.append("\n".join([*lines, "ER  - ", ""]))
        if index == broken_after:
            parts.append(f"TY  - JOUR\nTI  - {BROKEN_MARK} a record that never ends\nPY  - 2020\n")
    return "\n".join(parts)


def csl_json(entries: list[dict], broken_after: int) -> str:
    items = []
    for index, entry in enumerate(entries):
        item = {"id": entry["key"], "type": "article-journal", "title": entry["title"],
                "author": [{"family": f, "given": g} for f, g in entry["authors"]],
                "container-title": entry["journal"], "issued": {"date-parts": [[entry["year"]]]}}
        item |= {"DOI": entry["doi"]} if "doi" in entry else {}
        item |= {"PMID": entry["pmid"]} if "pmid" in entry else {}
        items.append(json.dumps(item, indent=2))
        if index == broken_after:
            broken = {"id": BROKEN_MARK, "title": "Authors as one string", "author": "Smith J"}
            items.append(json.dumps(broken, indent=2))
    return "[\n" + ",\n".join(items) + "\n]\n"


WRITERS = {"bib": bibtex, "ris": ris, "json": csl_json}


def line_of(text: str, mark: str) -> int:
    """The 1-based line where the entry holding ``mark`` starts."""
    lines = text.splitlines()
    hit = next(i for i, line in enumerate(lines) if mark in line)
    starts = ("@", "TY  -", "{")
    return next(i for i in range(hit, -1, -1) if lines[i].lstrip().startswith(starts)) + 1


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A corpus whose reference list came from `refs extract`, with one hand edit and one paper already held."""
    corpus = tmp_path / "corpus"
    (corpus / "literature").mkdir(parents=True)
    make_pdf(corpus / "literature" / "3_peinado.pdf", [["A paper already in the corpus."]])
    write_references(corpus / "references.jsonl", [
        Reference(number=1, citation="Poggio M, Hu T, et al. Suppression of exosomal PD-L1 induces systemic anti-tumor "
                  "immunity and memory. Cell 2019;177:414-427.", doi="10.1016/j.cell.2019.02.016"),
        Reference(number=2, citation="Hoshino A, et al. Tumour exosome integrins determine organotropic metastasis. "
                  "Nature 2015.", pmid="26524530", url="https://example.org/edited-by-hand"),
        Reference(number=3, citation="Peinado H, et al. Melanoma exosomes educate bone marrow progenitor cells "
                  "toward a pro-metastatic phenotype through MET. Nat Med 2012;18:883-891."),
        Reference(number=4, citation="Kalluri R. The biology and function of exosomes in cancer. J Clin Invest 2016."),
    ])
    return corpus


def library_with_files(tmp_path: Path, suffix: str, entries: list[dict] = ENTRIES, broken_after: int = 1) -> Path:
    folder = tmp_path / "zotero-export"
    folder.mkdir(exist_ok=True)
    for entry in entries:
        if "file" in entry:
            (folder / entry["file"]).parent.mkdir(parents=True, exist_ok=True)
            make_pdf(folder / entry["file"], [[f"# {entry['title']}", "Full text of the attached paper."]])
    path = folder / f"library.{suffix}"
    path.write_text(WRITERS[suffix](entries, broken_after), encoding="utf-8")
    return path


@pytest.mark.parametrize("suffix", ["bib", "ris", "json"])
def test_entries_match_by_doi_pmid_then_title_and_the_broken_one_is_named_by_its_line(corpus, tmp_path, suffix):
    library = library_with_files(tmp_path, suffix)
    report = import_library(corpus, library)

    by_key = {item.key: item for item in report.items}
    assert (by_key["poggio2019"].number, by_key["poggio2019"].rule) == (1, "doi")
    assert (by_key["hoshino2015"].number, by_key["hoshino2015"].rule) == (2, "pmid")
    assert (by_key["peinado2012"].number, by_key["peinado2012"].rule) == (3, "title")
    assert by_key["peinado2012"].score >= TITLE_THRESHOLD
    unmatched = by_key["zhang2021"]
    assert unmatched.number is None and "below 0.90" in unmatched.reason and "no DOI or PMID" in unmatched.reason
    text = library.read_text(encoding="utf-8")
    assert [problem["line"] for problem in report.malformed] == [line_of(text, BROKEN_MARK)]

    references, problems = load_references(corpus / "references.jsonl")
    assert not problems
    assert references[1].csl["title"] == POGGIO["title"] and references[1].csl["author"][0]["family"] == "Poggio"
    assert references[2].url == "https://example.org/edited-by-hand"  # a hand edit survives the import
    assert references[3].csl["container-title"] == "Nat Med"
    assert references[4].csl is None  # nothing in the library for it: nothing invented
    assert references[1].citation.startswith("Poggio M, Hu T")  # the review's citation text is kept


def test_attached_pdfs_are_copied_under_their_number_and_nothing_is_overwritten(corpus, tmp_path):
    library = library_with_files(tmp_path, "bib")
    report = import_library(corpus, library)
    by_key = {item.key: item for item in report.items}

    copied = corpus / "literature" / "1_poggio2019.pdf"
    assert by_key["poggio2019"].file == "literature/1_poggio2019.pdf"
    assert copied.read_bytes() == (library.parent / POGGIO["file"]).read_bytes()
    assert "kept literature/3_peinado.pdf" in by_key["peinado2012"].file_note
    references, _ = load_references(corpus / "references.jsonl")
    assert references[1].file == "literature/1_poggio2019.pdf" and references[3].file is None

    copied.write_bytes(b"%PDF- a copy the user annotated")
    again = {item.key: item for item in import_library(corpus, library).items}
    assert again["poggio2019"].number == 1 and not again["poggio2019"].file
    assert copied.read_bytes() == b"%PDF- a copy the user annotated"


def test_bibtex_paths_urls_and_institutions_are_read_as_zotero_and_mendeley_write_them(corpus, tmp_path):
    # Only prose is LaTeX: in a path, a URL or a DOI "%", "~" and "--" are themselves; Zotero escapes
    # ":" and ";" in a path, Mendeley drops its leading "/"; an institution braced whole is one name.
    folder = tmp_path / "export"
    zotero, mendeley = folder / "files" / "PD-L1 -- exosomes: 50%.pdf", folder / "Hoshino 2015.pdf"
    zotero.parent.mkdir(parents=True)
    for path, title in ((zotero, POGGIO["title"]), (mendeley, HOSHINO["title"])):
        make_pdf(path, [[f"# {title}", "Full text of the attached paper."]])
    library = folder / "library.bib"
    library.write_text(f"""@article{{poggio2019,
  title = {{{POGGIO['title']}}},
  author = {{{{The Cancer Genome Atlas Network}} and M{{\\"u}}ller, Hans}},
  journal = {{Cell}}, year = {{2019}}, doi = {{10.1016/j.cell.2019.02.016}},
  url = {{https://example.edu/~lab/tcga%20final.pdf}},
  file = {{Full Text PDF:files/PD-L1 -- exosomes\\: 50%.pdf:application/pdf}}
}}
@article{{hoshino2015,
  title = {{{HOSHINO['title']}}}, author = {{Hoshino, Ayuko}}, journal = {{Nature}}, year = {{2015}},
  pmid = {{26524530}}, file = {{:{str(mendeley).removeprefix('/')}:pdf}}
}}
""", encoding="utf-8")
    report = import_library(corpus, library)
    assert [(item.key, item.number, item.file) for item in report.items] == [
        ("poggio2019", 1, "literature/1_thecancergenomeatlasnetwork2019.pdf"),
        ("hoshino2015", 2, "literature/2_hoshino2015.pdf")]
    assert (corpus / report.items[0].file).read_bytes() == zotero.read_bytes()
    references, _ = load_references(corpus / "references.jsonl")
    assert references[1].csl["author"] == [{"literal": "The Cancer Genome Atlas Network"},
                                           {"family": "Müller", "given": "Hans"}]
    assert references[1].url == "https://example.edu/~lab/tcga%20final.pdf"


def test_a_value_edited_by_hand_after_an_import_survives_the_next_import(corpus, tmp_path):
    library = library_with_files(tmp_path, "json")
    import_library(corpus, library)
    references, _ = load_references(corpus / "references.jsonl")
    edited = references[1].csl | {"title": "Suppression of exosomal PD-L1 (corrected by hand)"}
    write_references(corpus / "references.jsonl", [*[r for n, r in references.items() if n != 1],
                                                   references[1].model_copy(update={"csl": edited})])
    report = import_library(corpus, library)
    references, _ = load_references(corpus / "references.jsonl")
    assert references[1].csl["title"] == "Suppression of exosomal PD-L1 (corrected by hand)"
    assert report.kept_by_hand >= 1


def test_order_numbers_entries_only_when_asked(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    library = library_with_files(tmp_path, "ris", [HOSHINO, UNRELATED], broken_after=-1)

    report = import_library(corpus, library)
    assert not report.matched and all("--numbered-in-order" in item.reason for item in report.items)
    assert not (corpus / "references.jsonl").exists()

    report = import_library(corpus, library, numbered_in_order=True)
    assert [(item.number, item.rule) for item in report.items] == [(1, "order"), (2, "order")]
    references, _ = load_references(corpus / "references.jsonl")
    assert references[1].citation.startswith("Hoshino, A. (2015)")  # formatted from the library's own metadata
    assert references[2].csl["title"] == UNRELATED["title"]


@pytest.mark.parametrize("suffix", ["bib", "ris", "json"])
def test_entries_after_a_malformed_one_are_not_numbered_by_a_position_it_shifted(tmp_path, suffix):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    library = library_with_files(tmp_path, suffix, [HOSHINO, UNRELATED], broken_after=0)
    report = import_library(corpus, library, numbered_in_order=True)
    assert len(report.malformed) == 1
    first, second = report.items
    assert (first.number, first.rule) == (1, "order")
    assert second.number is None and "malformed entry on line" in second.reason
    references, _ = load_references(corpus / "references.jsonl")
    assert sorted(references) == [1]


def test_a_citation_shorter_than_the_title_neither_takes_nor_blocks_its_match(tmp_path):
    # "Immunity." lies inside any title holding the word: aligned to it, the title scored a perfect 1.00.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_references(corpus / "references.jsonl", [
        Reference(number=1, citation="Poggio M, Hu T, et al. Suppression of exosomal PD-L1 induces systemic anti-tumor "
                  "immunity and memory. Cell 2019;177:414-427."),
        Reference(number=2, citation="Immunity."),
    ])
    entry = {**POGGIO, "doi": None}
    entry.pop("file")
    report = import_library(corpus, library_with_files(tmp_path, "json", [entry], broken_after=-1))
    assert [(item.number, item.rule) for item in report.items] == [(1, "title")]


@pytest.mark.parametrize("suffix", ["bib", "json"])
def test_a_short_title_inside_a_longer_one_is_another_paper_not_a_title_match(tmp_path, suffix):
    # "Exosomes in cancer therapy and diagnosis" stands inside Kalluri's title word for word: another
    # author, so another paper, whose DOI, record and PDF must not become [4]'s.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_references(corpus / "references.jsonl", [
        Reference(number=4, citation="Kalluri R, LeBleu VS. The biology, function, and biomedical applications of "
                  "exosomes in cancer therapy and diagnosis. Science. 2020;367:eaau6977."),
        Reference(number=5, citation="Peinado H, et al. Melanoma exosomes educate bone marrow progenitor cells toward "
                  "a pro-metastatic phenotype through MET. Nat Med 2012;18:883-891."),
    ])
    smith = {"key": "smith2021", "title": "Exosomes in cancer therapy and diagnosis", "authors": [("Smith", "John")],
             "journal": "Oncology Letters", "year": 2021, "file": "files/1/smith.pdf"}
    report = import_library(corpus, library_with_files(tmp_path, suffix, [smith, PEINADO], broken_after=-1))
    assert [(item.number, item.rule) for item in report.items] == [(None, ""), (5, "title")]
    assert not (corpus / "literature").exists() or not list((corpus / "literature").glob("4_*"))


def test_a_doi_or_pmid_match_later_in_the_file_is_not_blocked_by_a_title_match_before_it(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_references(corpus / "references.jsonl", [
        Reference(number=9, citation="Hoshino A, et al. Tumour exosome integrins determine organotropic metastasis. "
                  "Nature 2015;527:329-335.", pmid="26524530"),
    ])
    lookalike = {**HOSHINO, "key": "hoshino-preprint", "pmid": None}
    report = import_library(corpus, library_with_files(tmp_path, "json", [lookalike, HOSHINO], broken_after=-1))
    assert [(item.number, item.rule) for item in report.items] == [(None, ""), (9, "pmid")]
    assert "already matched" in report.items[0].reason


def test_cli_prints_the_import_report_and_exits_1_for_a_malformed_entry(corpus, tmp_path):
    library = library_with_files(tmp_path, "bib")
    result = CliRunner().invoke(app, ["refs", "import", str(library), "--corpus", str(corpus)])
    assert result.exit_code == 1, result.output
    out = result.output
    assert "4 matched" not in out and "3 matched, 1 unmatched, 1 malformed" in out
    assert "-> [1] by DOI; copied literature/1_poggio2019.pdf" in out
    assert "-> [3] by title (similarity" in out
    assert f"line {line_of(library.read_text(), BROKEN_MARK)}" in out and "malformed, skipped" in out
    missing = CliRunner().invoke(app, ["refs", "import", str(tmp_path / "nope.bib"), "--corpus", str(corpus)])
    assert missing.exit_code == 2 and "nope.bib: no such file" in missing.output


def test_csl_json_numbers_for_pmid_are_read_and_a_bad_identifier_is_named(corpus, tmp_path):
    # citation.js and some Mendeley exports write PMID as a JSON number
    items = [{"id": "hoshino2015", "type": "article-journal", "title": HOSHINO["title"], "PMID": 26524530},
             {"id": "odd", "type": "article-journal", "title": "An item whose DOI is an object", "DOI": {"x": 1}},
             {"id": "year", "type": "article-journal", "title": "A date that is a bare string", "issued": "2018"},
             {"id": "name", "type": "article-journal", "title": "A name that is an object",
              "author": [{"family": {"x": 1}}]}]
    library = tmp_path / "library.json"
    library.write_text(json.dumps(items, indent=2), encoding="utf-8")
    report = import_library(corpus, library, numbered_in_order=True)  # a new number is cited via citeproc
    assert [(item.key, item.number, item.rule) for item in report.items] == [("hoshino2015", 2, "pmid")]
    assert report.malformed[0] == {"line": 8, "error": "'DOI' must be text"}
    assert report.malformed[1]["line"] == 16 and "'issued' must be an object" in report.malformed[1]["error"]
    assert report.malformed[2]["error"] == """'author': each part of a name must be text, not {"family": {"x": 1}}"""
    references, _ = load_references(corpus / "references.jsonl")
    assert references[2].pmid == "26524530"


def test_a_name_written_as_a_number_is_imported_as_text(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    library = tmp_path / "library.json"
    library.write_text(json.dumps([{"id": "a", "type": "article-journal", "title": "Exosomal PD-L1 in melanoma",
                                    "author": [{"family": 1234, "given": "X"}], "issued": {"date-parts": [[2019]]}}]))
    report = import_library(corpus, library, numbered_in_order=True)
    assert [(item.number, item.rule) for item in report.items] == [(1, "order")]
    assert "1234" in load_references(corpus / "references.jsonl")[0][1].citation


def test_an_entry_with_a_link_that_is_not_a_web_link_or_no_type_is_imported_with_the_rest(tmp_path):
    # EndNote writes "internal-pdf://" as the URL; hand-written CSL-JSON omits "type" or leaves a date empty.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    items = [{"id": "endnote", "type": "article-journal", "title": HOSHINO["title"], "container-title": "Nature",
              "URL": "internal-pdf://1234567/hoshino.pdf", "issued": {"date-parts": [[2015]]}},
             {"id": "untyped", "title": UNRELATED["title"], "URL": "https://example.org/paper",
              "issued": {"date-parts": [[]]}}]
    library = tmp_path / "library.json"
    library.write_text(json.dumps(items, indent=2), encoding="utf-8")
    report = import_library(corpus, library, numbered_in_order=True)
    assert [(item.key, item.number) for item in report.items] == [("endnote", 1), ("untyped", 2)]
    references, problems = load_references(corpus / "references.jsonl")
    assert problems == [] and references[1].url is None and references[2].url == "https://example.org/paper"
    # Formatted by citeproc all the same, and a journal article lacking pages is no "[Preprint]".
    assert f"(2015) “{HOSHINO['title']}”, Nature" in references[1].citation
    assert "internal-pdf" not in references[1].citation and "[Preprint]" not in references[1].citation
    assert UNRELATED["title"] in references[2].citation


def test_an_attachment_named_pdf_that_is_not_one_is_not_copied(corpus, tmp_path):
    library = library_with_files(tmp_path, "bib", [POGGIO], broken_after=-1)
    (library.parent / POGGIO["file"]).write_text("<html>a saved web page</html>", encoding="utf-8")
    item = import_library(corpus, library).items[0]
    assert item.number == 1 and not item.file and "not a PDF" in item.file_note
    assert not (corpus / "literature" / "1_poggio2019.pdf").exists()


def test_a_doi_written_as_a_dx_doi_org_link_in_references_jsonl_still_matches_by_doi(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_references(corpus / "references.jsonl", [
        Reference(number=5, citation="Poggio M, et al. Cell 2019.", doi="http://dx.doi.org/10.1016/j.cell.2019.02.016"),
    ])
    library = library_with_files(tmp_path, "ris", [POGGIO], broken_after=-1)
    item = import_library(corpus, library).items[0]
    assert (item.number, item.rule) == (5, "doi")


def test_a_csl_json_syntax_error_is_named_by_its_line_and_the_items_before_it_are_imported(corpus, tmp_path):
    good = json.dumps({"id": "hoshino2015", "type": "article-journal", "title": HOSHINO["title"],
                       "PMID": HOSHINO["pmid"]})
    library = tmp_path / "library.json"
    library.write_text(f'[\n{good},\n{{"id": "broken" "title": "a comma is missing"}}\n]\n', encoding="utf-8")
    report = import_library(corpus, library)
    assert [(item.key, item.number) for item in report.items] == [("hoshino2015", 2)]
    assert [problem["line"] for problem in report.malformed] == [3]
    assert "not valid JSON" in report.malformed[0]["error"]
