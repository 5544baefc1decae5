"""Coverage: for every reference number the review cites, what the corpus holds of that paper
(full text, abstract or nothing) and which review passages cite it.

``coverage(corpus_dir)`` is what the UI shows; ``coverage_report`` adds the totals and the
problems that ``exorag refs status`` prints.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from exorag.citations import find_citations
from exorag.ingest.chunking import join_broken_citations
from exorag.ingest.loaders import LoadedDocument, LoadError, load_document, supported_extensions
from exorag.references import REFERENCES_FILE, load_references
from exorag.refs.corpus import (
    has_pdf_header,
    literature_files,
    outside_corpus,
    relative_to_corpus,
    review_files,
    shown_path,
)
from exorag.refs.extract import parse_bibliography
from exorag.refs.fetch import ABSTRACT_MARKER
from exorag.text import split_sentences

Holding = Literal["full_text", "abstract", "nothing"]
HOLDING_LABELS: dict[str, str] = {"full_text": "full text", "abstract": "abstract", "nothing": "nothing"}
SNIPPET_CHARS = 140
_ABSTRACT_NAME = re.compile(r"abstract", re.IGNORECASE)
_TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown"}


class CitingPassage(BaseModel):
    """A review passage that cites a reference: its section heading and a short snippet."""

    source: str
    section: str = ""
    page: int | None = None
    snippet: str


class LiteratureFile(BaseModel):
    """A literature file named by a reference number; ``abstract`` when it holds only the abstract."""

    path: str
    abstract: bool = False


class CoverageRow(BaseModel):
    """One cited reference number: what the corpus holds of it and where the review cites it."""

    number: int
    holding: Holding
    files: list[LiteratureFile] = Field(default_factory=list)
    citation: str = ""
    doi: str | None = None
    passages: list[CitingPassage] = Field(default_factory=list)


class CoverageReport(BaseModel):
    """Rows for the cited numbers, the totals, and what could not be read."""

    corpus: str
    reviews: list[str] = Field(default_factory=list)
    rows: list[CoverageRow] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict)
    reference_list: int = 0
    uncited_files: list[str] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)


def coverage(corpus_dir: Path) -> list[CoverageRow]:
    """One row per reference number the review cites, in number order."""
    return coverage_report(corpus_dir).rows


def coverage_report(corpus_dir: Path) -> CoverageReport:
    """Coverage rows with their totals; unreadable review documents are listed in ``problems``."""
    report = CoverageReport(corpus=str(corpus_dir))
    passages: dict[int, list[CitingPassage]] = {}
    for path in review_files(corpus_dir):
        name = relative_to_corpus(path, corpus_dir)
        try:
            found = _review_citations(path, name, *_fingerprint(path))
        except LoadError as error:
            report.problems.append(f"{name}: {error}")
            continue
        report.reviews.append(name)
        for number, passage in found:
            known = passages.setdefault(number, [])
            if passage not in known:
                known.append(passage)

    references, problems = load_references(corpus_dir / REFERENCES_FILE)
    report.problems.extend(problems)
    report.reference_list = len(references)
    readable = supported_extensions()
    files: dict[int, list[Path]] = {}
    for number, paths in literature_files(corpus_dir).items():
        for path in paths:
            relative = relative_to_corpus(path, corpus_dir)
            name = shown_path(relative)
            if name != relative:
                report.problems.append(f"{name}: the file name is not valid UTF-8 (ingest fails it); rename the file")
            elif outside_corpus(path, corpus_dir):
                report.problems.append(f"{name}: a link to a file outside the corpus folder (ingest skips it); "
                                       "not counted as the paper's text")
            elif path.suffix.lower() not in readable:
                report.problems.append(f"{name}: not a format exorag reads ({', '.join(sorted(readable))})")
            elif (unusable := _unusable(path)) is not None:
                # Ingest fails such a file and the audit calls its paper missing: it holds no text.
                report.problems.append(f"{name}: {unusable}; not counted as the paper's text")
            else:
                files.setdefault(number, []).append(path)
    for number in sorted(passages):
        held = [
            LiteratureFile(path=relative_to_corpus(p, corpus_dir), abstract=is_abstract_file(p))
            for p in files.get(number, [])
        ]
        if any(not file.abstract for file in held):
            holding: Holding = "full_text"
        else:
            holding = "abstract" if held else "nothing"
        reference = references.get(number)
        report.rows.append(
            CoverageRow(
                number=number,
                holding=holding,
                files=held,
                citation=reference.citation if reference else "",
                doi=reference.doi if reference else None,
                passages=passages[number],
            )
        )
    report.counts = {holding: sum(1 for row in report.rows if row.holding == holding) for holding in HOLDING_LABELS}
    report.uncited_files = [
        relative_to_corpus(path, corpus_dir)
        for number, paths in sorted(files.items())
        if number not in passages
        for path in paths
    ]
    return report


def _fingerprint(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


@lru_cache(maxsize=8)
def _review_citations(path: Path, name: str, mtime_ns: int, size: int) -> tuple[tuple[int, CitingPassage], ...]:
    """The review's citations, read again only when the file changes (the UI asks often)."""
    return tuple(citing_passages(load_document(path), name))


def citing_passages(document: LoadedDocument, source: str) -> list[tuple[int, CitingPassage]]:
    """``(number, passage)`` for every citation in a loaded review, outside its own bibliography."""
    bibliography = parse_bibliography(document.text)
    found: list[tuple[int, CitingPassage]] = []
    section = ""
    for block in join_broken_citations(document):  # as ingest reads them: "[170,\n171]" is one citation
        if bibliography is not None and bibliography.start <= block.start < bibliography.end:
            continue
        text = document.block_text(block).replace("\n", " ")
        if block.kind == "heading":
            section = " ".join(text.lstrip("#").split())
            continue
        for start, end, citation in find_citations(text):
            shown = snippet(text, start, end)
            if block.kind == "table_row":
                shown = " \u00b7 ".join(cell.strip() for cell in shown.strip("| ").split("|"))
            passage = CitingPassage(source=source, section=section, page=block.page, snippet=shown)
            found.extend((number, passage) for number in sorted(citation.numbers))
    return found


def _unusable(path: Path) -> str | None:
    """Why a literature file of a readable kind holds no text (empty, or a PDF that is none), or None."""
    with path.open("rb") as handle:
        head = handle.read(1024)
    if not head.strip() and path.stat().st_size <= len(head):
        return "empty"
    if path.suffix.lower() == ".pdf" and not has_pdf_header(path):
        return "not a PDF (no %PDF- header)"
    return None


def snippet(text: str, start: int, end: int) -> str:
    """The sentence holding the citation at ``start:end``, shortened to end at the citation."""
    sentence_start = next((s for s, e in split_sentences(text) if s <= start < e), 0)
    piece = " ".join(text[sentence_start:end].split())
    if len(piece) > SNIPPET_CHARS:
        piece = "\u2026" + piece[-(SNIPPET_CHARS - 1) :].split(" ", 1)[-1]
    return piece


def is_abstract_file(path: Path) -> bool:
    """Whether a literature file holds only an abstract: fetch's marker on its first line, or
    "abstract" in its name."""
    if _ABSTRACT_NAME.search(path.stem):
        return True
    if path.suffix.lower() not in _TEXT_SUFFIXES:
        return False
    try:
        with path.open(encoding="utf-8", errors="replace") as text:
            first_line = text.readline()
    except OSError:
        return False
    return first_line.lstrip("# ").startswith(ABSTRACT_MARKER)
