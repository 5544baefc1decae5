"""A small corpus for the citation-export and "Open in PDF" tests: a short review, one cited paper
set in two columns (reference [905], with its bibliographic record) and a reference list in which
[12] has only its citation text. ``build_two_column_corpus`` writes it and indexes it for real."""

from __future__ import annotations

from pathlib import Path

from pdf_factory import make_two_column_pdf

from exorag.config import Settings, get_settings
from exorag.models import Reference
from exorag.references import write_references
from exorag.refs.importing import import_library

PAPER_NUMBER = 905
PAPER_FILE = "literature/905_nakamura2024.pdf"
PAPER_TITLE = "Exosomal NKS-901 silences natural killer cells in pancreatic cancer"
PAPER_DOI = "10.5555/exorag.test.905"
# Long enough to break across lines of a column; it starts mid-line, after LEAD.
TARGET = ("Pancreatic tumour exosomes carry the protein NKS-901, which silences natural killer cells and lets the "
          "tumour escape immune attack in the liver.")
LEAD = "Mice were followed for ten weeks."
AFTER = "Blocking the vesicle pathway restored the killing of tumour cells in culture."
QUESTION = "Which exosomal protein silences natural killer cells in pancreatic tumours?"
REVIEW_QUESTION = "How does hypoxia change exosome release?"

REVIEW = """# Exosomes in cancer: a short review

## Hypoxia

Hypoxia increases exosome release from breast cancer cells, and the cargo of these vesicles
changes with HIF-1 activation [12].

## Immune evasion

Tumour exosomes can suppress immune cells in several ways that recent work has begun to map [905].
"""


def _methods(count: int) -> str:
    """Plain, varied methods prose that fills the left column."""
    return " ".join(
        f"In cohort {i}, plasma vesicles were isolated by ultracentrifugation at week {i + 2} and counted by "
        f"nanoparticle tracking before comparison with {10 + i} healthy donors."
        for i in range(1, count + 1)
    )


def build_two_column_corpus(base: Path) -> Settings:
    """Write the corpus under ``base``, index it, and return its settings."""
    from exorag.ingest.sync import sync_corpus

    corpus = base / "corpus"
    (corpus / "review").mkdir(parents=True)
    (corpus / "literature").mkdir()
    (corpus / "review" / "review.md").write_text(REVIEW, encoding="utf-8")
    make_two_column_pdf(corpus / PAPER_FILE, [[
        "# Methods", _methods(22), "# Results", f"{LEAD} {TARGET} {AFTER}",
        "Natural killer cells from healthy donors regained their activity when the exosomes were removed.",
    ]], title=PAPER_TITLE)
    # the reference list as `refs extract` leaves it, then the paper's record imported from a BibTeX export
    write_references(corpus / "references.jsonl", [
        Reference(number=12, citation="King HW, Michael MZ, Gleadle JM. Hypoxic enhancement of exosome release by "
                  "breast cancer cells. BMC Cancer 2012."),
        Reference(number=PAPER_NUMBER, citation="Nakamura K, Ortiz L. Exosomal NKS-901 silences natural killer cells "
                  "in pancreatic cancer. J Test Oncol 2024;12:101-13."),
    ])
    library = base / "library.bib"
    library.write_text(
        f"@article{{nakamura2024,\n  title = {{{PAPER_TITLE}}},\n  author = {{Nakamura, Kenji and Ortiz, Lucia}},\n"
        f"  journal = {{Journal of Test Oncology}},\n  year = {{2024}},\n  volume = {{12}},\n  pages = {{101--113}},\n"
        f"  doi = {{{PAPER_DOI}}}\n}}\n", encoding="utf-8")
    report = import_library(corpus, library)
    assert [item.number for item in report.items] == [PAPER_NUMBER]
    settings = get_settings(corpus=corpus, index=base / "index")
    ingested = sync_corpus(settings)
    assert not ingested.failed and ingested.added > 0
    return settings
