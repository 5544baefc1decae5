"""The references an answer (or a conversation) cites, as BibTeX, RIS, CSL-JSON or a formatted bibliography.

A reference's metadata is the CSL-JSON record ``exorag refs import`` stored in references.jsonl.
A cited number without one is exported as a marked stub (``exorag-no-metadata``) that carries only
what is known, the review's citation text and DOI: nothing is invented.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterable

import bibtexparser
import rispy
from bibtexparser.model import Entry, Field
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON

from exorag.links import web_link
from exorag.models import Answer, Reference

CITE_FORMATS: tuple[str, ...] = ("bibtex", "ris", "csl-json", "text")
FILE_SUFFIXES = {"bibtex": ".bib", "ris": ".ris", "csl-json": ".json", "text": ".txt"}
NO_METADATA = "exorag-no-metadata"
# Harvard (author-date) ships with citeproc-py; each entry is prefixed with its number in the review.
BIBLIOGRAPHY_STYLE = "harvard-cite-them-right"

# Fields written as one line of text (RIS starts a tag on each line: a line break in a value would
# start a record of its own); names and keywords too.
_TEXT_FIELDS = ("title", "container-title", "volume", "issue", "page", "DOI", "PMID", "PMCID", "note")
_BIBTEX_TYPES = {"article-journal": "article", "book": "book", "chapter": "incollection",
                 "paper-conference": "inproceedings", "thesis": "phdthesis", "report": "techreport"}
_RIS_TYPES = {"article-journal": "JOUR", "book": "BOOK", "chapter": "CHAP", "paper-conference": "CPAPER",
              "thesis": "THES", "report": "RPRT", "webpage": "ELEC"}


def cited_references(answers: Iterable[Answer]) -> list[Reference]:
    """Every reference number the answers' sentences cite, in number order, with what the list knows of it."""
    known: dict[int, Reference] = {}
    cited: set[int] = set()
    for answer in answers:
        known.update((reference.number, reference) for reference in answer.references)
        cited.update(n for sentence in answer.sentences for n in sentence.refs)
    return [known.get(number, Reference(number=number)) for number in sorted(cited)]


def has_metadata(reference: Reference) -> bool:
    return bool(reference.csl and reference.csl.get("title"))


def csl_item(reference: Reference) -> dict:
    """The CSL-JSON item of ``reference``: its imported record, or a marked stub with only what is known."""
    if has_metadata(reference):
        item = dict(reference.csl or {})
        item.setdefault("id", f"ref{reference.number}")
        for key, value in (("DOI", reference.doi), ("PMID", reference.pmid), ("PMCID", reference.pmcid)):
            if value and not item.get(key):
                item[key] = value
        # Every link exorag writes is a web link, whatever a library stored ("javascript:", "internal-pdf://").
        if url := web_link(str(item.pop("URL", "") or "")):
            item["URL"] = url
        for key in _TEXT_FIELDS:  # one line of text each: a list (some tools' "container-title") gives its first
            value = item.get(key)
            if isinstance(value, list):
                value = value[0] if value else None
            if value is not None:
                item[key] = _one_line(value)
        if isinstance(item.get("author"), list):  # a name part written as a number ("family": 1234) is text
            item["author"] = [{part: value if isinstance(value, bool) else _one_line(value)
                               for part, value in name.items() if isinstance(value, (str, int, float))}
                              for name in item["author"] if isinstance(name, dict)]
        if item.get("keyword") is not None:
            item["keyword"] = _one_line(item["keyword"])
        return item
    note = f"exorag: no bibliographic metadata for reference [{reference.number}] of the review"
    if reference.citation:
        note += f"; as printed there: {reference.citation}"
    item = {"id": f"ref{reference.number}", "type": "document", "note": note, "keyword": NO_METADATA}
    for key, value in (("DOI", reference.doi), ("PMID", reference.pmid), ("URL", reference.url)):
        if value:
            item[key] = value
    return item


def export_references(references: list[Reference], cite_format: str) -> str:
    """``references`` written as ``bibtex``, ``ris``, ``csl-json`` or ``text`` (a formatted bibliography)."""
    items = [(reference.number, csl_item(reference)) for reference in references]
    seen: set[str] = set()
    for number, item in items:
        # two libraries may use the same key (or RIS "ris-line-1") for different papers; keys must be unique
        item["id"] = re.sub(r"[^\w:.\-]+", "-", str(item["id"])).strip("-") or f"ref{number}"  # a valid BibTeX key
        if str(item["id"]).lower() in seen:
            item["id"] = f"{item['id']}-ref{number}"
        seen.add(str(item["id"]).lower())
    if cite_format == "bibtex":
        return to_bibtex(items)
    if cite_format == "ris":
        return to_ris(items)
    if cite_format == "csl-json":
        return json.dumps([item for _, item in items], ensure_ascii=False, indent=2) + "\n"
    if cite_format == "text":
        lines = bibliography(items)
        return "".join(f"[{number}] {line}\n" for (number, _), line in zip(items, lines, strict=True))
    raise ValueError(f"unknown citation format {cite_format!r}; use one of {', '.join(CITE_FORMATS)}")


def to_bibtex(items: list[tuple[int, dict]]) -> str:
    library = bibtexparser.Library()
    for _, item in items:
        fields = {
            "title": _tex(item.get("title")),
            "author": " and ".join(_bibtex_author(name) for name in item.get("author", [])) or None,
            "journal": _tex(item.get("container-title")) if item.get("type") == "article-journal" else None,
            "booktitle": _tex(item.get("container-title")) if item.get("type") != "article-journal" else None,
            "year": str(_year(item) or "") or None,
            "volume": _braces_kept_balanced(item.get("volume")),
            "number": _braces_kept_balanced(item.get("issue")),
            "pages": re.sub(r"\s*[-\u2013]+\s*", "--", _braces_kept_balanced(item["page"])) if item.get("page") else None,
            "doi": _braces_kept_balanced(item.get("DOI")),
            "pmid": _braces_kept_balanced(item.get("PMID")),
            "pmcid": _braces_kept_balanced(item.get("PMCID")),
            "url": _braces_kept_balanced(item.get("URL")),
            "note": _tex(item.get("note")),
            "keywords": _braces_kept_balanced(item.get("keyword")),
        }
        entry_type = _BIBTEX_TYPES.get(item.get("type", ""), "misc")
        library.add(Entry(entry_type, str(item["id"]), [Field(k, str(v)) for k, v in fields.items() if v]))
    return bibtexparser.write_string(library)


def to_ris(items: list[tuple[int, dict]]) -> str:
    records = []
    for _, item in items:
        pages = re.split(r"\s*[-\u2013]+\s*", str(item.get("page") or ""), maxsplit=1)
        record = {
            "type_of_reference": _RIS_TYPES.get(item.get("type", ""), "GEN"),
            "id": str(item["id"]),
            "title": item.get("title"),
            "authors": [_bibtex_name(name) for name in item.get("author", [])],
            "journal_name": item.get("container-title"),
            "year": str(_year(item) or ""),
            "volume": item.get("volume"),
            "number": item.get("issue"),
            "start_page": pages[0],
            "end_page": pages[1] if len(pages) > 1 else "",
            "doi": item.get("DOI"),
            "urls": [item["URL"]] if item.get("URL") else [],
            "notes": [item["note"]] if item.get("note") else [],
            "keywords": [item["keyword"]] if item.get("keyword") else [],
        }
        records.append({k: v for k, v in record.items() if v})
    return rispy.dumps(records, implementation=_RisWriter)


class _RisWriter(rispy.RisWriter):
    """rispy's writer without the "1." line it puts before each record (not part of RIS)."""

    def set_header(self, count: int) -> str:
        return ""


def bibliography(items: list[tuple[int, dict]]) -> list[str]:
    """One formatted entry per item (citeproc-py, Harvard style), in the order given; a stub says it has
    no metadata."""
    with_metadata = [item for _, item in items if item.get("keyword") != NO_METADATA]
    formatted: dict[str, str] = {}
    if with_metadata:
        style = CitationStylesStyle(BIBLIOGRAPHY_STYLE, validate=False)
        source = CiteProcJSON([_citeproc_item(item) for item in with_metadata])
        rendered = CitationStylesBibliography(style, source, formatter.plain)
        for item in with_metadata:
            rendered.register(Citation([CitationItem(str(item["id"]).lower())]))
        with warnings.catch_warnings():  # citeproc-py warns about CSL variables it does not implement
            warnings.simplefilter("ignore")
            # The style calls a journal article without volume or pages a "[Preprint]": often it is a
            # record that lacks them, and exorag passes no status that would say it is one.
            entries = [str(entry).replace(" [Preprint]", "") for entry in rendered.bibliography()]
        formatted = dict(zip(rendered.keys, entries, strict=True))
    return [formatted.get(str(item["id"]).lower()) or f"({item.get('note', 'no metadata')})" for _, item in items]


def _citeproc_item(item: dict) -> dict:
    # citeproc-py reads the CSL variables it knows and fails on extra ones (Zotero adds some), on an
    # item without a type and on a date without a whole year: hand-written CSL-JSON has all three.
    known = ("id", "type", "title", "author", "container-title", "volume", "issue", "page", "DOI")
    kept = {key: item[key] for key in known if key in item}
    if isinstance(kept.get("author"), list):  # a name part written as a number ("family": 1234) is text
        kept["author"] = [{part: value if isinstance(value, (str, bool)) else str(value) for part, value in name.items()}
                          for name in kept["author"] if isinstance(name, dict)]
    if url := web_link(item.get("URL")):  # not EndNote's "internal-pdf://…"
        kept["URL"] = url
    kept.setdefault("type", "article-journal" if item.get("container-title") else "document")
    year = _year(item)
    if year is not None:
        kept["issued"] = {"date-parts": [[year]]}
    return kept


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


# LaTeX's special characters as LaTeX writes them. A brace or backslash left bare unbalances the
# field: BibTeX counts braces even after a backslash, and the rest of the file is lost.
_TEX_SPECIAL = {"&": r"\&", "%": r"\%", "#": r"\#", "$": r"\$", "_": r"\_", "{": r"\textbraceleft{}",
                "}": r"\textbraceright{}", "\\": r"\textbackslash{}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
_TEX_SPECIALS = re.compile("[" + re.escape("".join(_TEX_SPECIAL)) + "]")


def _tex(text: object) -> str | None:
    """Text for a BibTeX field: LaTeX's special characters escaped ("50% of T & B cells", "a {typo")."""
    return _TEX_SPECIALS.sub(lambda match: _TEX_SPECIAL[match.group()], str(text)) if text else None


def _braces_kept_balanced(value: object) -> str | None:
    """A field read verbatim (a DOI, a URL, a volume "Suppl_1": readers do not decode LaTeX there),
    without the braces and backslashes that would unbalance it."""
    return re.sub(r"[{}\\]", "", str(value)) if value else None


def _bibtex_author(name: dict) -> str:
    """A name for BibTeX's author field; an institution is braced, or BibTeX splits it into parts."""
    return "{" + _tex(str(name["literal"])) + "}" if "literal" in name else _tex(_bibtex_name(name)) or ""


def _bibtex_name(name: dict) -> str:
    if "literal" in name:
        return str(name["literal"])
    return ", ".join(part for part in (name.get("family", ""), name.get("given", "")) if part)


def _year(item: dict) -> int | None:
    try:
        return int(item["issued"]["date-parts"][0][0])
    except (KeyError, IndexError, TypeError, ValueError):
        return None
