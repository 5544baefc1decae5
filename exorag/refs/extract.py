"""The review's bibliography: found after a "References" heading, parsed into numbered entries.

Entries are numbered ``1.``, ``[1]``, ``(1)``, ``1)`` or with a bare number (superscript-style
lists print ``1Smith``); an entry runs until the next number in sequence, across line and page
breaks, and a DOI broken at a line end (``10.1016/j.cell.`` / ``2019.01.001``) is joined again.
``extract_references`` writes the entries to ``corpus/references.jsonl``, keeping what a person
changed there by hand.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bs4 import BeautifulSoup

from exorag.ingest.loaders import LoadError, load_document
from exorag.models import Reference
from exorag.references import REFERENCES_FILE, load_references, write_references
from exorag.refs.corpus import STATE_DIR, relative_to_corpus, review_files

# What the last extraction wrote: a field that differs from it was changed by hand (or by fetch).
EXTRACTED_SNAPSHOT = "extracted-references.jsonl"
MERGED_FIELDS = ("citation", "doi", "pmid", "pmcid", "url")

_HEADING = re.compile(
    r"^(?:#{1,6}\s*)?[*_]{0,2}\s*(?:\d+\.?\s+|[IVX]+\.\s+)?"
    r"(?:references?(?:\s+and\s+notes)?|references\s+cited|bibliography|literature\s+cited|works\s+cited"
    r"|reference\s+list|cited\s+literature|notes\s+and\s+references)"
    r"\s*:?\s*[*_]{0,2}\s*$",
    re.IGNORECASE,
)
# A heading that ends the bibliography (anything after it is not an entry).
_END_HEADING = re.compile(
    r"^(?:#{1,6}\s.*|(?:figure\s+legends?|figures?|tables?|supplementary(?:\s+\w+){0,3}|appendix(?:\s+\w+)?"
    r"|acknowledge?ments?|author\s+contributions|funding|conflicts?\s+of\s+interest|competing\s+interests"
    r"|abbreviations)\s*:?)$",
    re.IGNORECASE,
)
# Entry numbering styles, tried in this order on the first entry; the rest must use the same one.
_STYLES: dict[str, re.Pattern[str]] = {
    "bracket": re.compile(r"^\[(\d{1,4})\]\s*(.*)$"),
    "parenthesis": re.compile(r"^\((\d{1,4})\)\s*(.*)$"),
    "dot": re.compile(r"^(\d{1,4})\.(?:\s+(.*))?$"),
    "closing parenthesis": re.compile(r"^(\d{1,4})\)\s*(.*)$"),
    "bare number": re.compile(r"^(\d{1,4})(?:\s+|(?=[^\W\d_])|$)(.*)$"),
}
# How far the numbering may jump (an entry the text layer lost); a bare number is easily a stray
# number in the text, so it must follow closely and the list must start low.
_MAX_STEP = {"bare number": 2}
_DEFAULT_MAX_STEP = 5
_BARE_FIRST_MAX = 10
_LOOKAHEAD_LINES = 3
# Page furniture inside a bibliography: "12", "Page 12", "12 of 30"; and running headers, which
# repeat on every page (a line of a few words seen this often is not part of one entry).
_PAGE_NUMBER = re.compile(r"^(?:page\s+)?\d+(?:\s*(?:of|/)\s*\d+)?$", re.IGNORECASE)
_RUNNING_HEADER_REPEATS = 3
_RUNNING_HEADER_MIN_WORDS = 4
_BULLET = re.compile(r"^[-*\u2022]\s+")

_DOI = re.compile(r"10\.\d{4,9}/[^\s\"<>]+")
_DOI_IN_PROGRESS = re.compile(r"(?:^|doi:|doi\.org/)10\.\d*(?:/\S*)?$", re.IGNORECASE)
_DOI_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-/()]*")
_PMID = re.compile(r"\bPMID\s*:?\s*(\d{1,9})\b", re.IGNORECASE)
_PMCID = re.compile(r"\b(PMC\d{4,9})\b")
_URL = re.compile(r"https?://[^\s<>\"]+")
_TRAILING = ".,;:"


class ExtractError(Exception):
    """A reference list that cannot be extracted; the message says what to do."""


@dataclass
class Bibliography:
    """A parsed bibliography: its span in the document text and its entries."""

    start: int
    end: int
    references: list[Reference]
    style: str = ""


@dataclass
class DocumentResult:
    path: str
    entries: int = 0
    style: str = ""
    problem: str | None = None


@dataclass
class ExtractReport:
    """What ``extract_references`` found and wrote."""

    references_path: Path
    documents: list[DocumentResult] = field(default_factory=list)
    written: bool = False
    entries: int = 0
    added: int = 0
    updated: int = 0
    kept_by_hand: int = 0
    message: str = ""


@dataclass
class _Line:
    start: int
    end: int
    text: str


@dataclass
class _Entry:
    number: int
    lines: list[str]
    end: int


def is_bibliography_heading(text: str) -> bool:
    """Whether ``text`` is a heading that opens a bibliography ("References", "## Literature cited")."""
    return bool(_HEADING.match(text.strip()))


def parse_bibliography(text: str) -> Bibliography | None:
    """The bibliography of a document's ``text``, or None when it has none.

    When several headings qualify (a table of contents names "References" too) the one followed
    by the most entries wins, the later one on a tie.
    """
    lines = _lines(text)
    best: Bibliography | None = None
    for index, line in enumerate(lines):
        if not _HEADING.match(line.text):
            continue
        found = _entries_after(lines, index)
        if found is not None and (best is None or len(found.references) >= len(best.references)):
            best = found
    return best


def read_bibliography(path: Path) -> tuple[Bibliography | None, str]:
    """Load the document at ``path`` and parse its bibliography; also returns the document text.

    An HTML ordered list (``<ol><li>``) after a References heading is read when the text itself
    carries no entry numbers. LoadError when the document cannot be read.
    """
    document = load_document(path)
    bibliography = parse_bibliography(document.text)
    if bibliography is None and path.suffix.lower() in {".html", ".htm"}:
        bibliography = _html_ordered_list(path, document.text)
    return bibliography, document.text


def extract_references(corpus_dir: Path, review: Path | None = None) -> ExtractReport:
    """Parse the review's bibliography into ``corpus/references.jsonl``.

    ``review`` is one document; by default every file under ``corpus/review/`` is read. Entries
    merge with an existing reference list: a field changed there by hand (or filled by fetch) is
    kept, entries only the list has stay. Nothing is written when no bibliography is found;
    ExtractError when none of the documents can be read, or several hold a bibliography.
    """
    references_path = corpus_dir / REFERENCES_FILE
    report = ExtractReport(references_path=references_path)
    documents = [review] if review is not None else review_files(corpus_dir)
    if not documents:
        raise ExtractError(f"no review document: {corpus_dir / 'review'} is empty or missing (or give --review PATH)")

    found: list[tuple[DocumentResult, Bibliography]] = []
    for path in documents:
        result = DocumentResult(path=relative_to_corpus(path, corpus_dir))
        report.documents.append(result)
        try:
            bibliography, _ = read_bibliography(path)
        except LoadError as error:
            result.problem = str(error)
            continue
        if bibliography is not None:
            result.entries, result.style = len(bibliography.references), bibliography.style
            found.append((result, bibliography))

    if not found:
        if all(result.problem for result in report.documents):
            problems = "; ".join(f"{r.path}: {r.problem}" for r in report.documents)
            raise ExtractError(f"cannot read the review: {problems}")
        names = ", ".join(r.path for r in report.documents if not r.problem)
        report.message = (
            f"No reference list found in {names}: no 'References' (or 'Bibliography', 'Literature cited') "
            f"heading followed by numbered entries. {REFERENCES_FILE} was not written; add the review with "
            "its reference list to corpus/review/, or write corpus/references.jsonl yourself."
        )
        return report
    if len(found) > 1:
        names = " and ".join(result.path for result, _ in found)
        raise ExtractError(f"reference lists found in {names}; choose one with --review PATH")

    extracted = found[0][1].references
    snapshot_path = corpus_dir / STATE_DIR / EXTRACTED_SNAPSHOT
    existing, problems = load_references(references_path)
    if problems:
        raise ExtractError(f"{references_path} has lines that cannot be read, fix them first: " + "; ".join(problems))
    previous, _ = load_references(snapshot_path)
    merged, counts = merge_references(existing, extracted, previous)
    write_references(references_path, merged)
    write_references(snapshot_path, extracted)
    report.written = True
    report.entries = len(extracted)
    report.added, report.updated, report.kept_by_hand = counts
    return report


def merge_references(
    existing: dict[int, Reference], extracted: list[Reference], previous: dict[int, Reference],
    fields: tuple[str, ...] = MERGED_FIELDS,
) -> tuple[list[Reference], tuple[int, int, int]]:
    """Merge freshly ``extracted`` entries into the ``existing`` list.

    A field keeps its existing value when it was changed since the ``previous`` extraction (by
    hand, or filled by fetch) or when the new extraction has nothing for it; ``file`` is never
    touched; ``fields`` are the ones merged. Returns the merged list and the counts (added, updated, entries where a hand-made
    value was kept).
    """
    merged = dict(existing)
    added = updated = kept = 0
    for new in extracted:
        old = existing.get(new.number)
        if old is None:
            merged[new.number] = new
            added += 1
            continue
        before = previous.get(new.number)
        values = old.model_dump()
        kept_here = False
        for name in fields:
            old_value, new_value = getattr(old, name), getattr(new, name)
            changed_by_hand = bool(old_value) and (before is None or getattr(before, name) != old_value)
            if changed_by_hand:
                kept_here = kept_here or (bool(new_value) and new_value != old_value)
            elif new_value:
                values[name] = new_value
        candidate = Reference.model_validate(values)
        if candidate != old:
            updated += 1
        kept += kept_here
        merged[new.number] = candidate
    return sorted(merged.values(), key=lambda r: r.number), (added, updated, kept)


def reference_from_text(number: int, citation: str) -> Reference:
    """A Reference with the DOI, PMID, PMCID and link found in one entry's ``citation`` text."""
    doi = _first(_DOI, citation)
    urls = [_clean(url) for url in _URL.findall(citation)]
    url = next((u for u in urls if "doi.org/" not in u.lower()), None)
    pmid = _PMID.search(citation)
    pmcid = _PMCID.search(citation)
    return Reference(
        number=number,
        citation=citation,
        doi=doi,
        pmid=pmid.group(1) if pmid else None,
        pmcid=pmcid.group(1) if pmcid else None,
        url=url,
    )


def _lines(text: str) -> list[_Line]:
    lines: list[_Line] = []
    position = 0
    for raw in text.split("\n"):
        stripped = raw.strip()
        lead = len(raw) - len(raw.lstrip())
        lines.append(_Line(position + lead, position + lead + len(stripped), _BULLET.sub("", stripped)))
        position += len(raw) + 1
    return lines


def _entries_after(lines: list[_Line], heading_index: int) -> Bibliography | None:
    style = ""
    entries: list[_Entry] = []
    skipped = 0
    repeats = Counter(line.text for line in lines if len(line.text.split()) >= _RUNNING_HEADER_MIN_WORDS)
    for line in lines[heading_index + 1 :]:
        if not line.text:
            continue
        if not style:
            first = _first_entry(line.text)
            if first is None:
                skipped += 1
                if skipped > _LOOKAHEAD_LINES:
                    return None
                continue
            style, number, rest = first
            entries.append(_Entry(number, [rest] if rest else [], line.end))
            continue
        if _END_HEADING.match(line.text):
            break
        match = _STYLES[style].match(line.text)
        last = entries[-1].number
        if match and last < int(match.group(1)) <= last + _MAX_STEP.get(style, _DEFAULT_MAX_STEP):
            rest = (match.group(2) or "").strip()
            entries.append(_Entry(int(match.group(1)), [rest] if rest else [], line.end))
        elif _PAGE_NUMBER.match(line.text) or repeats[line.text] >= _RUNNING_HEADER_REPEATS:
            continue
        else:
            entries[-1].lines.append(line.text)
            entries[-1].end = line.end
    references = [reference_from_text(e.number, _join_lines(e.lines)) for e in entries if e.lines]
    if not references:
        return None
    return Bibliography(lines[heading_index].start, entries[-1].end, references, style)


def _first_entry(text: str) -> tuple[str, int, str] | None:
    for style, pattern in _STYLES.items():
        match = pattern.match(text)
        if not match:
            continue
        number = int(match.group(1))
        if style == "bare number" and number > _BARE_FIRST_MAX:
            return None
        return style, number, (match.group(2) or "").strip()
    return None


def _join_lines(lines: list[str]) -> str:
    joined = ""
    for line in lines:
        if not joined:
            joined = line
        elif joined.endswith(("-", "\u2013")) or _continues_doi(joined, line):
            joined += line
        else:
            joined += " " + line
    return " ".join(joined.split())


def _continues_doi(previous: str, following: str) -> bool:
    """Whether ``following`` carries on a DOI that ``previous`` broke off at its line end."""
    last = previous.split()[-1]
    if not _DOI_IN_PROGRESS.search(last):
        return False
    first = following.split()[0]
    if last.endswith(("/", "-", "_")):
        return first[0].isalnum()
    if first.upper().startswith(("PMC", "PMID")) or not _DOI_TOKEN.fullmatch(first.rstrip(_TRAILING)):
        return False
    if last.endswith("."):  # "j.cell." + "2019.01.001", but not a sentence end + "Epub"
        return any(c.isdigit() for c in first) or first[0].islower()
    return any(c.isdigit() for c in first)


def _first(pattern: re.Pattern[str], text: str) -> str | None:
    match = pattern.search(text)
    return _clean(match.group(0)) if match else None


def _clean(value: str) -> str:
    """An identifier or link without the punctuation of the sentence around it."""
    value = value.rstrip(_TRAILING)
    for opening, closing in ("()", "[]"):
        while value.endswith(closing) and value.count(closing) > value.count(opening):
            value = value[:-1].rstrip(_TRAILING)
    return value


def _html_ordered_list(path: Path, text: str) -> Bibliography | None:
    soup = BeautifulSoup(path.read_bytes(), "html.parser")
    for heading in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "strong", "b", "div"]):
        if not _HEADING.match(heading.get_text(" ", strip=True)):
            continue
        ordered = heading.find_next("ol")
        if ordered is None:
            continue
        first = int(ordered.get("start", 1)) if str(ordered.get("start", "1")).isdigit() else 1
        references = [
            reference_from_text(number, " ".join(item.get_text(" ", strip=True).split()))
            for number, item in enumerate(ordered.find_all("li", recursive=False), start=first)
        ]
        references = [r for r in references if r.citation]
        if references:
            heading_text = heading.get_text(" ", strip=True)
            start = max(text.rfind(heading_text), 0)
            return Bibliography(start, len(text), references, "ordered list")
    return None
