"""Reference-manager exports (Zotero, EndNote, Mendeley) read into CSL-JSON items.

BibTeX is read with bibtexparser, RIS with rispy, CSL-JSON with the json module; every entry
becomes one CSL-JSON item (the format citeproc and Zotero share) with the line it starts on and
the files attached to it. A malformed entry is reported with its line and the others are read.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

import bibtexparser
import rispy
from bibtexparser.middlewares import SeparateCoAuthors, SplitNameParts
from bibtexparser.middlewares.names import NameParts
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

FORMATS = {".bib": "BibTeX", ".bibtex": "BibTeX", ".ris": "RIS", ".json": "CSL-JSON"}

_BIBTEX_TYPES = {
    "article": "article-journal", "book": "book", "inbook": "chapter", "incollection": "chapter",
    "inproceedings": "paper-conference", "conference": "paper-conference", "phdthesis": "thesis",
    "mastersthesis": "thesis", "techreport": "report", "online": "webpage", "misc": "document",
}  # fmt: skip
_RIS_TYPES = {
    "JOUR": "article-journal", "JFULL": "article-journal", "EJOUR": "article-journal", "BOOK": "book",
    "CHAP": "chapter", "CONF": "paper-conference", "CPAPER": "paper-conference", "THES": "thesis",
    "RPRT": "report", "ELEC": "webpage", "PREPRINT": "article",
}  # fmt: skip
_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")
_PMID = re.compile(r"\bPMID\s*:?\s*(\d{1,9})\b", re.IGNORECASE)
_CSL_IDENTIFIERS = ("DOI", "PMID", "PMCID", "URL")
_RIS_START = re.compile(r"^TY  -")
_RIS_END = re.compile(r"^ER  -")


def _latex_reader() -> LatexNodes2Text:
    """pylatexenc's reader, also knowing the braces and caret that exorag's own BibTeX export writes
    as LaTeX's text macros (a bare brace would unbalance a field)."""
    context = get_default_latex_context_db()
    context.add_context_category("exorag-export", prepend=True, macros=[
        MacroTextSpec("textbraceleft", "{"), MacroTextSpec("textbraceright", "}"), MacroTextSpec("textasciicircum", "^")])
    return LatexNodes2Text(latex_context=context)


_LATEX = _latex_reader()
# bibtexparser logs every broken block; the import reports them itself, with their lines
logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)


class LibraryError(ValueError):
    """A library file that cannot be read at all; the message names the file."""


@dataclass
class LibraryEntry:
    """One entry of a library: its CSL-JSON item, where it starts (1-based line) and its attached files."""

    line: int
    key: str
    csl: dict
    files: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return str(self.csl.get("title") or "")


@dataclass
class LibraryProblem:
    """An entry that could not be read, named by its line."""

    line: int
    message: str


@dataclass
class Library:
    path: Path
    format: str
    entries: list[LibraryEntry] = field(default_factory=list)
    problems: list[LibraryProblem] = field(default_factory=list)


def read_library(path: Path) -> Library:
    """Every entry of a BibTeX (.bib), RIS (.ris) or CSL-JSON (.json) export, as CSL-JSON items."""
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise LibraryError(
            f"{path}: unknown library format {path.suffix!r}; export BibTeX (.bib), RIS (.ris) or CSL JSON (.json)")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise LibraryError(f"{path}: cannot read ({error})") from error
    library = Library(path=path, format=kind)
    {"BibTeX": _read_bibtex, "RIS": _read_ris, "CSL-JSON": _read_csl_json}[kind](text, library)
    if not library.entries and not library.problems:
        raise LibraryError(f"{path}: no {kind} entries found")
    return library


def _read_bibtex(text: str, library: Library) -> None:
    # No LaTeX decoding of the whole entry: in a path, a URL or a DOI "%", "~" and "--" are themselves.
    # Prose fields and names are decoded one by one, names after splitting ("{The Cancer Genome
    # Atlas Network}" is one name).
    parsed = bibtexparser.parse_string(text, append_middleware=[SeparateCoAuthors(), SplitNameParts()])
    for block in parsed.failed_blocks:
        first_line = (block.raw or "").strip().splitlines()[0][:60] if block.raw else ""
        reason = getattr(block.error, "abort_reason", None) or str(block.error) or type(block.error).__name__
        library.problems.append(LibraryProblem(block.start_line + 1, f"{first_line} {' '.join(reason.split())}"))
    for entry in parsed.entries:
        fields = {key.lower(): value for key, value in entry.fields_dict.items()}
        value = {key: f.value for key, f in fields.items()}
        item: dict = {"id": entry.key, "type": _BIBTEX_TYPES.get(entry.entry_type.lower(), "document")}
        _put(item, "title", _latex_text(value.get("title")))
        authors = value.get("author") or []
        if authors:
            item["author"] = [_bibtex_name(parts) for parts in authors]
        container = value.get("journal") or value.get("journaltitle") or value.get("booktitle")
        _put(item, "container-title", _latex_text(container))
        year = _year(str(value.get("year") or value.get("date") or ""))
        if year:
            item["issued"] = {"date-parts": [[year]]}
        _put(item, "volume", value.get("volume"))
        _put(item, "issue", value.get("number"))
        _put(item, "page", re.sub(r"\s*(?:--|\u2013)\s*", "-", str(value.get("pages") or "")) or None)
        _put(item, "DOI", bare_doi(value.get("doi")))
        _put(item, "PMID", value.get("pmid") or _pmid_in(value.get("note"), value.get("extra")))
        _put(item, "PMCID", value.get("pmcid"))
        _put(item, "URL", value.get("url"))
        files = _bibtex_files(value.get("file") or "")
        library.entries.append(LibraryEntry(line=entry.start_line + 1, key=entry.key, csl=item, files=files))


def _bibtex_name(parts: NameParts) -> dict:
    """A CSL name; a name braced whole (``{The Cancer Genome Atlas Network}``) is a ``literal``."""
    if not (parts.first or parts.von or parts.jr) and len(parts.last) == 1 and re.fullmatch(r"\{.*\}", parts.last[0]):
        return {"literal": _latex_text(parts.last[0])}
    family, given = _latex_text(" ".join(parts.von + parts.last)), _latex_text(" ".join(parts.first))
    return {k: v for k, v in (("family", family), ("given", given)) if v}


def _bibtex_files(value: str) -> list[str]:
    """Zotero and JabRef write ``file = {Title:path/to.pdf:application/pdf;...}`` (JabRef ``:path:PDF``),
    with ``\\:``, ``\\;`` and ``\\\\`` standing for themselves in a path; others a bare path."""
    files = []
    for part in filter(None, (p.strip() for p in _split_unescaped(value, ";"))):
        pieces = _split_unescaped(part, ":")
        # "Title:path:type" (and "Title:C:\\path:type" where the colon is not escaped); a bare path has no type
        path = ":".join(pieces[1:-1]) if len(pieces) >= 3 else part
        files.append(re.sub(r"\\(.)", r"\1", path))
    return files


def _split_unescaped(text: str, separator: str) -> list[str]:
    """``text`` split at each ``separator`` not escaped by a backslash; escapes are kept."""
    pieces, current = [], ""
    for escaped, char in re.findall(r"(\\.)|(.)", text, re.DOTALL):
        if char == separator:
            pieces, current = [*pieces, current], ""
        else:
            current += escaped or char
    return [*pieces, current]


def _read_ris(text: str, library: Library) -> None:
    """Records are split at their ``TY`` and ``ER`` lines so that a broken one is named by its line."""
    lines = text.splitlines()
    start: int | None = None
    for number, line in enumerate(lines):
        if _RIS_START.match(line):
            if start is not None:
                library.problems.append(LibraryProblem(start + 1, "record has no 'ER  -' line before the next 'TY  -'"))
            start = number
        elif _RIS_END.match(line) and start is not None:
            _ris_record("\n".join(lines[start : number + 1]), start + 1, library)
            start = None
    if start is not None:
        library.problems.append(LibraryProblem(start + 1, "record has no 'ER  -' line (the file ends inside it)"))


def _ris_record(text: str, line: int, library: Library) -> None:
    records = rispy.loads(text)
    if not records:
        library.problems.append(LibraryProblem(line, "not a RIS record"))
        return
    record = records[0]
    title = record.get("title") or record.get("primary_title")
    doi = bare_doi(record.get("doi"))
    if not title and not doi:
        library.problems.append(LibraryProblem(line, "record has neither a title (TI/T1) nor a DOI (DO)"))
        return
    item: dict = {"id": record.get("id") or f"ris-line-{line}",
                  "type": _RIS_TYPES.get(record.get("type_of_reference", ""), "document")}
    _put(item, "title", title)
    names = record.get("authors") or record.get("first_authors") or []
    if names:
        item["author"] = [_ris_name(name) for name in names]
    container = record.get("journal_name") or record.get("secondary_title") or record.get("alternate_title3")
    _put(item, "container-title", container)
    year = _year(str(record.get("year") or record.get("publication_year") or record.get("date") or ""))
    if year:
        item["issued"] = {"date-parts": [[year]]}
    _put(item, "volume", record.get("volume"))
    _put(item, "issue", record.get("number"))
    pages = "-".join(p for p in (record.get("start_page"), record.get("end_page")) if p)
    _put(item, "page", pages or None)
    _put(item, "DOI", doi)
    accession = str(record.get("accession_number") or "")
    _put(item, "PMID", accession if accession.isdigit() else _pmid_in(*record.get("notes", [])))
    urls = record.get("urls") or []
    _put(item, "URL", urls[0] if urls else None)
    files = []
    for key in ("file_attachments1", "file_attachments2"):
        value = record.get(key) or []
        files += [value] if isinstance(value, str) else list(value)
    library.entries.append(LibraryEntry(line=line, key=item["id"], csl=item, files=files))


def _ris_name(name: str) -> dict:
    family, _, given = name.partition(",")
    return {k: v for k, v in (("family", family.strip()), ("given", given.strip())) if v}


def _read_csl_json(text: str, library: Library) -> None:
    """A JSON array of CSL items; each item is read on its own so that one bad item is named by its line."""
    decoder = json.JSONDecoder()
    start = _skip(text, 0)
    if not text.startswith("[", start):
        raise LibraryError(f"{library.path}: CSL JSON must be an array of items (a Zotero 'CSL JSON' export)")
    position = _skip(text, start + 1)
    while position < len(text) and text[position] != "]":
        line = text.count("\n", 0, position) + 1
        try:
            item, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            # past a syntax error item boundaries are unknown: keep the items before it, report the rest
            message = f"not valid JSON ({error.msg}); nothing after it was read"
            library.problems.append(LibraryProblem(error.lineno, message))
            return
        problem = _csl_problem(item)
        if problem:
            library.problems.append(LibraryProblem(line, problem))
        else:
            files = [item.pop("file")] if isinstance(item.get("file"), str) else []
            for key in _CSL_IDENTIFIERS:  # some tools write PMID as a JSON number
                if isinstance(item.get(key), int):
                    item[key] = str(item[key])
            item["DOI"] = bare_doi(item.get("DOI"))
            library.entries.append(LibraryEntry(line=line, key=str(item.get("id") or f"item-line-{line}"),
                                                csl={k: v for k, v in item.items() if v is not None}, files=files))
        position = _skip(text, end)
        if text.startswith(",", position):
            position = _skip(text, position + 1)


def _csl_problem(item: object) -> str | None:
    if not isinstance(item, dict):
        return f"an item must be an object, not {type(item).__name__}"
    if "title" in item and not isinstance(item["title"], str):
        return "'title' must be text"
    if "author" in item and not (isinstance(item["author"], list) and all(isinstance(a, dict) for a in item["author"])):
        return "'author' must be a list of {\"family\", \"given\"} objects"
    for name in item.get("author", []):
        if any(not isinstance(part, (str, int, float)) for part in name.values()):
            return f"'author': each part of a name must be text, not {json.dumps(name)[:80]}"
    if "issued" in item and not isinstance(item["issued"], dict):
        return "'issued' must be an object such as {\"date-parts\": [[2019]]}"
    for key in _CSL_IDENTIFIERS:
        if item.get(key) is not None and not isinstance(item[key], (str, int)):
            return f"'{key}' must be text"
    if not item.get("title") and not item.get("DOI"):
        return "item has neither a 'title' nor a 'DOI'"
    return None


def _skip(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _put(item: dict, key: str, value: object) -> None:
    if value not in (None, "", []):
        item[key] = str(value).strip() if not isinstance(value, (list, dict)) else value


def _latex_text(value: object) -> str | None:
    """A BibTeX prose field as text: ``M{\\"u}ller`` -> ``Müller``, and the braces that protect capitals
    dropped (``{PD-L1} in {T} cells`` -> ``PD-L1 in T cells``)."""
    if not value:
        return None
    return " ".join(_LATEX.latex_to_text(str(value)).split()) or None


def _year(text: str) -> int | None:
    match = _YEAR.search(text)
    return int(match.group(1)) if match else None


def bare_doi(value: object) -> str | None:
    """``https://doi.org/10.1/X`` or ``doi:10.1/X`` -> ``10.1/X``."""
    if not value:
        return None
    text = str(value).strip()
    text = re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", text, flags=re.IGNORECASE)
    return text or None


def _pmid_in(*texts: object) -> str | None:
    for text in texts:
        match = _PMID.search(str(text or ""))
        if match:
            return match.group(1)
    return None


def attached_path(attachment: str, base: Path) -> Path:
    """Where an attachment lives: ``file:///abs/x.pdf``, an absolute path, or a path relative to ``base``."""
    if attachment.startswith("file://"):
        return Path(unquote(urlparse(attachment).path))
    path = Path(attachment)
    if path.is_absolute():
        return path
    if not (base / path).exists() and (Path("/") / path).exists():  # Mendeley writes "home/u/x.pdf"
        return Path("/") / path
    return base / path
