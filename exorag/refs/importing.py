"""``exorag refs import``: a reference library matched to the review's reference numbers.

Each entry is matched by DOI, then PMID, against corpus/references.jsonl, then by how closely its
title appears in a reference's citation text, and by its position in the library only when the
user says the library is numbered in order. Matches are merged into references.jsonl (values a
person changed there are kept, as ``refs extract`` does) and attached PDFs are copied to
``corpus/literature/<number>_<firstauthor><year>.pdf`` (as ``refs fetch`` names papers); nothing
already there is overwritten.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz

from exorag.links import web_link
from exorag.models import Reference
from exorag.references import REFERENCES_FILE, load_references, write_references
from exorag.refs.corpus import (
    LITERATURE_DIR,
    STATE_DIR,
    has_pdf_header,
    literature_files,
    outside_corpus,
    relative_to_corpus,
)
from exorag.refs.export import bibliography
from exorag.refs.extract import merge_references
from exorag.refs.fetch import file_stem
from exorag.refs.library import Library, LibraryEntry, attached_path, bare_doi, read_library

# What the last import wrote: a value that differs from it in references.jsonl was changed by hand.
IMPORTED_SNAPSHOT = "imported-references.jsonl"
IMPORTED_FIELDS = ("doi", "pmid", "pmcid", "url", "csl")
# A title matches a citation when it appears in it with at most this much difference (0..1) ...
TITLE_THRESHOLD = 0.90
# ... and clearly better than the next citation (two near-identical titles are left to the user).
TITLE_MARGIN = 0.05
# Titles shorter than this ("Exosomes") appear in too many citations to identify one.
TITLE_MIN_CHARS = 20
_NON_WORD = re.compile(r"[^a-z0-9]+")


class LibraryImportError(ValueError):
    """The import cannot start (unreadable references.jsonl); the message says what to fix."""


@dataclass
class ImportItem:
    """What became of one library entry."""

    line: int
    key: str
    title: str
    number: int | None = None
    rule: str = ""  # doi | pmid | title | order
    score: float | None = None  # title similarity, 0..1, for title matches and near misses
    reason: str = ""  # why an entry did not match
    file: str = ""  # the literature file copied for it
    file_note: str = ""  # why an attachment was not copied


@dataclass
class ImportReport:
    library: str
    format: str
    references_path: Path
    items: list[ImportItem] = field(default_factory=list)
    malformed: list[dict] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    kept_by_hand: int = 0

    @property
    def matched(self) -> list[ImportItem]:
        return [item for item in self.items if item.number is not None]

    @property
    def unmatched(self) -> list[ImportItem]:
        return [item for item in self.items if item.number is None]

    def to_json(self) -> dict:
        return {
            "library": self.library, "format": self.format, "references_path": str(self.references_path),
            "matched": len(self.matched), "unmatched": len(self.unmatched), "malformed": self.malformed,
            "added": self.added, "updated": self.updated, "kept_by_hand": self.kept_by_hand,
            "items": [vars(item) for item in self.items],
        }


def import_library(corpus_dir: Path, library_path: Path, files_dir: Path | None = None,
                   numbered_in_order: bool = False) -> ImportReport:
    """Match every entry of ``library_path`` to a reference number and record it (see the module docstring).

    ``files_dir`` is where relative attachment paths start (default: the library's folder).
    LibraryError when the library cannot be read at all; LibraryImportError when references.jsonl cannot.
    """
    library = read_library(library_path)
    references_path = corpus_dir / REFERENCES_FILE
    existing, problems = load_references(references_path)
    if problems:
        raise LibraryImportError(
            f"{references_path} has lines that cannot be read, fix them first: " + "; ".join(problems))
    report = ImportReport(library=str(library_path), format=library.format, references_path=references_path)
    report.malformed = [{"line": p.line, "error": p.message} for p in library.problems]

    matches = _match(library, existing, numbered_in_order, report)
    imported = [_reference_for(number, entry, existing) for number, entry in matches]
    snapshot_path = corpus_dir / STATE_DIR / IMPORTED_SNAPSHOT
    previous, _ = load_references(snapshot_path)
    merged, (report.added, report.updated, report.kept_by_hand) = merge_references(
        existing, imported, previous, IMPORTED_FIELDS
    )
    by_number = {reference.number: reference for reference in merged}
    base = files_dir or library_path.parent
    # A link out of the corpus holds no paper ingest reads: a real PDF may be copied for its number.
    held = {number: [path for path in paths if not outside_corpus(path, corpus_dir)]
            for number, paths in literature_files(corpus_dir).items()}
    for (number, entry), item in zip(matches, report.matched, strict=True):
        copied = _copy_attachment(corpus_dir, number, entry, base, held, item)
        if copied and not by_number[number].file:
            by_number[number] = by_number[number].model_copy(update={"file": copied})
    if matches:
        write_references(references_path, list(by_number.values()))
        snapshot = {r.number: r for r in previous.values()} | {r.number: r for r in imported}
        write_references(snapshot_path, list(snapshot.values()))
    return report


def _match(library: Library, existing: dict[int, Reference], numbered_in_order: bool,
           report: ImportReport) -> list[tuple[int, LibraryEntry]]:
    by_doi = {_doi_key(r.doi): n for n, r in existing.items() if r.doi}
    by_pmid = {r.pmid.strip(): n for n, r in existing.items() if r.pmid}
    citations = {n: _words(r.citation) for n, r in existing.items() if r.citation}
    taken: dict[int, ImportItem] = {}
    # Past a malformed entry, an entry's place in the file no longer tells its place in the review.
    first_malformed = min((problem.line for problem in library.problems), default=None)
    items = [ImportItem(line=entry.line, key=entry.key, title=entry.title) for entry in library.entries]
    report.items += items

    def take(item: ImportItem) -> None:
        if item.number is not None and item.number in taken:
            other = taken[item.number]
            item.reason = (f"[{item.number}] ({item.rule}) was already matched by the entry on line {other.line} "
                           f"({other.key})")
            item.number, item.rule = None, ""
        if item.number is not None:
            taken[item.number] = item

    # A DOI or PMID names the paper: those matches are made first, so a weaker one earlier in the
    # file cannot take their number.
    identifiers = [(_doi_key(entry.csl.get("DOI")), str(entry.csl.get("PMID") or "").strip()) for entry in library.entries]
    for item, (doi, pmid) in zip(items, identifiers, strict=True):
        if doi and doi in by_doi:
            item.number, item.rule = by_doi[doi], "doi"
        elif pmid and pmid in by_pmid:
            item.number, item.rule = by_pmid[pmid], "pmid"
        take(item)
    for position, (entry, item, (doi, pmid)) in enumerate(zip(library.entries, items, identifiers, strict=True), start=1):
        if item.rule or item.reason:  # matched, or its identifier's number was already taken
            continue
        best, score, runner_up = _best_title_match(entry.title, citations)
        item.score = round(score, 3) if best is not None else None
        if (best is not None and score >= TITLE_THRESHOLD and score - runner_up >= TITLE_MARGIN
                and _same_work(entry, existing[best])):
            item.number, item.rule = best, "title"
        elif numbered_in_order and first_malformed is not None and entry.line > first_malformed:
            item.reason = (f"not numbered by its position: the malformed entry on line {first_malformed} "
                           "before it makes its place in the review's order uncertain; fix that entry")
        elif numbered_in_order:
            item.number, item.rule = position, "order"
        else:
            item.reason = _unmatched_reason(entry, doi, pmid, best, score, runner_up, bool(existing))
        take(item)
    return [(item.number, entry) for entry, item in zip(library.entries, items, strict=True) if item.number is not None]


def _same_work(entry: LibraryEntry, reference: Reference) -> bool:
    """Whether a title that matches a citation names the same work: the citation names the entry's
    first author (its year, when it has none), and neither has a DOI the other contradicts. A short
    title can stand inside a longer one ("Exosomes in cancer therapy and diagnosis")."""
    doi = _doi_key(entry.csl.get("DOI"))
    if doi and reference.doi and _doi_key(reference.doi) != doi:
        return False
    citation = reference.citation.casefold()
    authors = entry.csl.get("author") or []
    first = authors[0] if authors and isinstance(authors[0], dict) else {}
    family = str(first.get("family") or first.get("literal") or "").strip().casefold()
    if family:
        return family in citation
    issued = entry.csl.get("issued")
    parts = issued.get("date-parts") if isinstance(issued, dict) else None
    year = str(parts[0][0]) if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0] else ""
    return not year or year in citation


def _best_title_match(title: str, citations: dict[int, str]) -> tuple[int | None, float, float]:
    """The citation holding ``title`` most closely: (number, score, the next best score), scores in 0..1."""
    wanted = _words(title)
    if len(wanted) < TITLE_MIN_CHARS or not citations:
        return None, 0.0, 0.0
    # A citation holds the title, so it is the longer: aligned to a shorter one ("Immunity."), a
    # title would find a perfect partial match inside itself.
    scores = sorted(((fuzz.partial_ratio(wanted, text) / 100 if len(text) >= len(wanted) else 0.0, number)
                     for number, text in citations.items()), reverse=True)
    best_score, best = scores[0]
    return best, best_score, scores[1][0] if len(scores) > 1 else 0.0


def _unmatched_reason(entry: LibraryEntry, doi: str, pmid: str, best: int | None, score: float,
                      runner_up: float, have_list: bool) -> str:
    if not have_list:
        return ("references.jsonl is empty or missing: run `exorag refs extract` first, or pass "
                "--numbered-in-order if the library lists the references in the review's order")
    ids = ", ".join(f"{name} {value}" for name, value in (("DOI", doi), ("PMID", pmid)) if value)
    parts = [f"{ids} not in references.jsonl" if ids else "no DOI or PMID"]
    if len(_words(entry.title)) < TITLE_MIN_CHARS:
        parts.append("title missing or too short to match on")
    elif best is not None and score >= TITLE_THRESHOLD:
        parts.append(f"title matches [{best}] ({score:.2f}) but another citation almost as well ({runner_up:.2f})")
    elif best is not None:
        parts.append(f"best title match [{best}] scores {score:.2f}, below {TITLE_THRESHOLD:.2f}")
    return "; ".join(parts)


def _reference_for(number: int, entry: LibraryEntry, existing: dict[int, Reference]) -> Reference:
    csl = entry.csl
    old = existing.get(number)
    citation = "" if old is not None else bibliography([(number, csl)])[0]
    # the same DOI spelled in other letters is not a new value
    doi = old.doi if old is not None and old.doi and _doi_key(old.doi) == _doi_key(csl.get("DOI")) else csl.get("DOI")
    # EndNote writes "internal-pdf://…" and BibTeX often a bare "www.…" as the URL: not a web link.
    return Reference(number=number, citation=citation, doi=doi, pmid=csl.get("PMID"),
                     pmcid=csl.get("PMCID"), url=web_link(csl.get("URL")), csl=csl)


def _copy_attachment(corpus_dir: Path, number: int, entry: LibraryEntry, base: Path,
                     held: dict[int, list[Path]], item: ImportItem) -> str:
    """Copy the entry's first attached PDF into the literature folder; returns its corpus path or ""."""
    pdfs = [attached_path(a, base) for a in entry.files if a.lower().endswith(".pdf")]
    if not pdfs:
        return ""
    source = next((p for p in pdfs if p.is_file()), None)
    if source is None:
        item.file_note = f"attached file not found: {pdfs[0]}"
        return ""
    if not has_pdf_header(source):
        item.file_note = f"{source} is not a PDF (no %PDF- header); not copied"
        return ""
    if held.get(number):
        item.file_note = f"kept {relative_to_corpus(held[number][0], corpus_dir)} already there for [{number}]"
        return ""
    target = corpus_dir / LITERATURE_DIR / f"{_file_stem(number, entry.csl)}.pdf"
    if target.exists():
        item.file_note = f"{relative_to_corpus(target, corpus_dir)} exists; not overwritten"
        return ""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    item.file = relative_to_corpus(target, corpus_dir)
    return item.file


def _file_stem(number: int, csl: dict) -> str:
    """``170_poggio2019``, named as ``refs fetch`` names the papers it saves."""
    authors = csl.get("author") or [{}]
    family = str(authors[0].get("family") or authors[0].get("literal") or "")
    try:
        year = str(csl["issued"]["date-parts"][0][0])
    except (KeyError, IndexError, TypeError):
        year = ""
    return file_stem(number, family, year)


def _doi_key(doi: object) -> str:
    return (bare_doi(doi) or "").lower()


def _words(text: str) -> str:
    """Lowercase words of ``text`` joined by single spaces, accents and punctuation gone."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().lower()
    return " ".join(_NON_WORD.split(ascii_text)).strip()
