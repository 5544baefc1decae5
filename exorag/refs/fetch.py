"""Bringing in the cited papers: each reference is resolved to its identifiers and the best openly
available text is saved as ``corpus/literature/<number>_<firstauthor><year>.<ext>``.

For each reference, in this order:
1. the open-access PDF that Unpaywall reports (``.pdf``),
2. Europe PMC's open-access full text, converted from JATS XML to plain text (``.txt``),
3. the abstract (Europe PMC or PubMed), as ``.txt`` whose first line says it is only the abstract.

A file the user placed (any literature file named by that number, or the ``file`` of the
reference) is never overwritten or fetched again. Progress is kept in
``corpus/.exorag/fetch-state.json`` after every reference, so an interrupted fetch resumes where it
stopped; entries that failed on a service error are retried on the next run.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from hashlib import sha1
from pathlib import Path
from typing import Literal

from exorag.citations import parse_citation
from exorag.models import Reference
from exorag.references import REFERENCES_FILE, load_references, write_references
from exorag.refs.clients.europepmc import EuropePmc
from exorag.refs.clients.http import PoliteClient, ServiceError
from exorag.refs.clients.pubmed import PubMed
from exorag.refs.clients.record import PaperRecord
from exorag.refs.clients.unpaywall import Unpaywall
from exorag.refs.corpus import LITERATURE_DIR, STATE_DIR, has_pdf_header, literature_files, relative_to_corpus
from exorag.refs.identifiers import checked_pmid, valid_or_none
from exorag.refs.jats import JatsError, jats_to_text
from exorag.refs.settings import LiteratureSettings

Outcome = Literal["full_text", "abstract", "not_available", "no_identifier", "user_file", "failed"]
OUTCOME_LABELS: dict[str, str] = {
    "full_text": "full text",
    "abstract": "abstract only",
    "not_available": "not openly available",
    "no_identifier": "no DOI/PMID found",
    "user_file": "your own file",
    "failed": "failed",
}
# Outcomes that a later run does not ask the services about again (unless --refresh).
_FINAL = frozenset({"full_text", "abstract", "not_available", "no_identifier"})
STATE_FILE = "fetch-state.json"
DOWNLOADS_DIR = "downloads"
# The first line of an abstract file; `exorag refs status` recognises abstracts by it.
ABSTRACT_MARKER = "Abstract only"
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
_IDENTIFIER_TEXT = re.compile(r"(?:https?://\S+|10\.\d{4,9}/\S+)")
_INITIALS = re.compile(r"^(?:[A-Z]{1,3}|(?:[A-Z]\.-?)+)$")


class FetchError(Exception):
    """A fetch that cannot start; the message says what to do."""


@dataclass
class FetchResult:
    """What one reference came to: the outcome, the file saved or found, and why."""

    number: int
    outcome: Outcome
    file: str | None = None
    source: str = ""
    detail: str = ""
    retry: bool = False  # a service failed on the way: the next run asks again
    earlier: bool = False  # the outcome of an earlier run, not asked again


@dataclass
class FetchReport:
    """The results of one ``fetch_literature`` run, one per reference."""

    references_path: Path
    results: list[FetchResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many references came to each outcome."""
        return dict(Counter(result.outcome for result in self.results))

    @property
    def failed(self) -> list[FetchResult]:
        return [result for result in self.results if result.outcome == "failed"]


@dataclass
class _Services:
    europepmc: EuropePmc
    pubmed: PubMed
    unpaywall: Unpaywall | None


def fetch_literature(
    corpus_dir: Path,
    settings: LiteratureSettings,
    numbers: set[int] | None = None,
    refresh: bool = False,
    progress: Callable[[FetchResult], None] | None = None,
) -> FetchReport:
    """Fetch the papers of ``corpus/references.jsonl`` into ``corpus/literature/``.

    ``numbers`` limits the run to those reference numbers; ``refresh`` asks the services again
    about references an earlier run settled (user files are still never touched). ``progress``
    is called with each reference's result. References.jsonl gains the identifiers found and
    the ``file`` saved. FetchError when there is no usable reference list.
    """
    references_path = corpus_dir / REFERENCES_FILE
    if not references_path.exists():
        raise FetchError(
            f"no reference list at {references_path}: run `exorag refs extract` on a review with a "
            "bibliography, or write the file (one JSON object a line, with number, citation and doi)"
        )
    references, problems = load_references(references_path)
    if problems:
        raise FetchError(f"{references_path} has lines that cannot be read, fix them first: " + "; ".join(problems))

    report = FetchReport(references_path=references_path)
    if not settings.contact_email:
        report.warnings.append(
            "EXORAG_CONTACT_EMAIL is not set: Unpaywall answers only requests that carry a contact e-mail, "
            "so its open-access PDFs are skipped (Europe PMC and PubMed are still asked)."
        )
    state = FetchState.load(corpus_dir / STATE_DIR / STATE_FILE)
    chosen = [r for r in sorted(references.values(), key=lambda r: r.number) if numbers is None or r.number in numbers]
    with PoliteClient(settings) as http:
        services = _Services(
            europepmc=EuropePmc(http, settings.europepmc_url, settings.contact_email),
            pubmed=PubMed(http, settings.ncbi_url, settings.contact_email, settings.ncbi_api_key),
            unpaywall=Unpaywall(http, settings.unpaywall_url, settings.contact_email)
            if settings.contact_email
            else None,
        )
        try:
            for reference in chosen:
                try:
                    result, record = _fetch_one(reference, corpus_dir, state, services, http, refresh)
                except Exception as error:  # noqa: BLE001 - one reference's surprise never stops the others
                    result, record = (
                        FetchResult(reference.number, "failed", detail=f"unexpected error: {error!r}"),
                        None,
                    )
                references[reference.number] = _updated_reference(reference, result, record)
                if not result.earlier:
                    state.record(result, record)
                    state.save()
                report.results.append(result)
                if progress is not None:
                    progress(result)
        finally:
            write_references(references_path, list(references.values()))
    return report


def parse_numbers(text: str) -> set[int]:
    """Reference numbers from ``"170-172, 58"`` (the review's own citation syntax)."""
    citation = parse_citation(text)
    if citation is None or citation.notes:
        raise ValueError(f"not a list of reference numbers: {text!r} (write e.g. 170-172, 58)")
    return set(citation.numbers)


def file_stem(number: int, first_author: str, year: str) -> str:
    """``170_poggio2019``: the reference number, the first author's surname in ASCII, the year."""
    ascii_name = unicodedata.normalize("NFKD", first_author).encode("ascii", "ignore").decode()
    name = re.sub(r"[^a-z]", "", ascii_name.lower())[:30]
    year = year if re.fullmatch(r"\d{4}", year or "") else ""
    return f"{number}_{name}{year}" if name or year else str(number)


def author_from_citation(citation: str) -> str:
    """The first author's surname as printed: ``Poggio M, Hu T, ...`` -> ``Poggio``."""
    head = re.split(r"[,.;(]", citation, maxsplit=1)[0]
    words = head.split()
    while len(words) > 1 and _INITIALS.match(words[-1]):
        words.pop()
    return "".join(words)


def year_from_citation(citation: str) -> str:
    """The first year printed in a citation outside its DOI and links."""
    match = _YEAR.search(_IDENTIFIER_TEXT.sub(" ", citation))
    return match.group(0) if match else ""


class FetchState:
    """``fetch-state.json``: what each reference came to, and which literature files fetch wrote."""

    def __init__(self, path: Path, entries: dict[str, dict]) -> None:
        self.path = path
        self.entries = entries

    @classmethod
    def load(cls, path: Path) -> FetchState:
        if not path.exists():
            return cls(path, {})
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            entries = data["references"]
        except (ValueError, KeyError, TypeError) as error:
            raise FetchError(f"{path} is damaged ({error}); delete it to start the fetch afresh") from error
        return cls(path, entries)

    def own_files(self) -> set[str]:
        """Literature files that fetch wrote (so it may replace them; all others are the user's)."""
        return {
            entry["file"]
            for entry in self.entries.values()
            if entry.get("file") and entry.get("outcome") in ("full_text", "abstract")
        }

    def record(self, result: FetchResult, record: PaperRecord | None) -> None:
        entry = asdict(result)
        entry.pop("earlier")
        entry["at"] = datetime.now(UTC).isoformat(timespec="seconds")
        if record is not None:
            entry.update(doi=record.doi, pmid=record.pmid, pmcid=record.pmcid)
        self.entries[str(result.number)] = entry

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"version": 1, "references": self.entries}, indent=1), encoding="utf-8")
        os.replace(temporary, self.path)


def _fetch_one(
    reference: Reference,
    corpus_dir: Path,
    state: FetchState,
    services: _Services,
    http: PoliteClient,
    refresh: bool,
) -> tuple[FetchResult, PaperRecord | None]:
    number = reference.number
    own = state.own_files()
    users = [relative_to_corpus(p, corpus_dir) for p in literature_files(corpus_dir).get(number, [])]
    if reference.file and (corpus_dir / reference.file).is_file():
        users.insert(0, reference.file)
    users = [path for path in users if path not in own]
    if users:
        return FetchResult(number, "user_file", file=users[0], detail="placed by hand; left as it is"), None

    earlier = state.entries.get(str(number))
    if earlier and not refresh and earlier.get("outcome") in _FINAL and not earlier.get("retry"):
        saved = earlier.get("file")
        if not saved or (corpus_dir / saved).is_file():
            return _earlier_result(number, earlier), None
    previous_file = earlier.get("file") if earlier and earlier.get("file") in own else None

    errors: list[str] = []
    notes: list[str] = []
    record = _resolve(reference, services, errors)
    if not (record.doi or record.pmid or record.pmcid):
        if errors:
            return FetchResult(number, "failed", detail="; ".join(errors), retry=True), record
        return FetchResult(
            number, "no_identifier", detail="no DOI, PMID or PMCID in the citation, and no title match"
        ), record

    def stem() -> str:
        return file_stem(
            number,
            record.first_author or author_from_citation(reference.citation),
            record.year or year_from_citation(reference.citation),
        )

    def done(outcome: Outcome, path: str, source: str) -> FetchResult:
        detail = "; ".join(errors + notes)
        return FetchResult(number, outcome, file=path, source=source, detail=detail, retry=bool(errors))

    if services.unpaywall is not None and record.doi:
        try:
            open_access = services.unpaywall.lookup(record.doi)
        except ServiceError as error:
            errors.append(str(error))
            open_access = None
        if open_access is not None:
            record.fill_from(open_access.record)
            http.allow_hosts(open_access.pdf_urls)  # redirects may lead to the publishers the record names
            for url in open_access.pdf_urls:
                path = _download_pdf(url, corpus_dir, stem(), http, previous_file, errors, notes)
                if path:
                    return done("full_text", path, "Unpaywall open-access PDF"), record

    if record.pmcid:
        try:
            xml = services.europepmc.full_text_xml(record.pmcid)
            if xml:
                text = jats_to_text(xml)
                path = _save(corpus_dir, f"{stem()}.txt", text.encode("utf-8"), previous_file)
                return done("full_text", path, f"Europe PMC open access ({record.pmcid})"), record
        except ServiceError as error:
            errors.append(str(error))
        except JatsError as error:
            notes.append(f"Europe PMC full text of {record.pmcid}: {error}")

    if not record.abstract and record.pmid:
        try:
            record.fill_from(services.pubmed.abstract(record.pmid))
        except ServiceError as error:
            errors.append(str(error))
    had_full_text = bool(previous_file and earlier and earlier.get("outcome") == "full_text")
    if record.abstract and not had_full_text:
        path = _save(corpus_dir, f"{stem()}.txt", abstract_text(record).encode("utf-8"), previous_file)
        source = f"PubMed {record.pmid}" if record.pmid else "Europe PMC"
        return done("abstract", path, source), record
    if previous_file and (corpus_dir / previous_file).is_file() and earlier:
        # nothing better than last time: the earlier file stays, and so does its record
        return _earlier_result(number, earlier), None
    if errors:
        return FetchResult(number, "failed", detail="; ".join(errors), retry=True), record
    return FetchResult(number, "not_available", detail="; ".join(notes) or "no open-access text or abstract"), record


def _earlier_result(number: int, entry: dict) -> FetchResult:
    return FetchResult(
        number,
        entry["outcome"],
        file=entry.get("file"),
        source=entry.get("source", ""),
        detail=entry.get("detail", ""),
        retry=bool(entry.get("retry")),
        earlier=True,
    )


def _resolve(reference: Reference, services: _Services, errors: list[str]) -> PaperRecord:
    """Identifiers and metadata: the reference's own first, then Europe PMC, then PubMed."""
    record = PaperRecord(doi=reference.doi, pmid=reference.pmid, pmcid=reference.pmcid)
    found = None
    try:
        found = services.europepmc.find(reference)
    except ServiceError as error:
        errors.append(str(error))
    record.fill_from(found)
    if found is None and (record.doi or record.pmid):
        try:
            record.pmid = record.pmid or valid_or_none(services.pubmed.pmid_for_doi(record.doi or ""), checked_pmid)
            if record.pmid:
                record.fill_from(services.pubmed.summary(record.pmid))
        except ServiceError as error:
            errors.append(str(error))
    return record


def _download_pdf(
    url: str,
    corpus_dir: Path,
    stem: str,
    http: PoliteClient,
    previous_file: str | None,
    errors: list[str],
    notes: list[str],
) -> str | None:
    part = corpus_dir / STATE_DIR / DOWNLOADS_DIR / f"{stem}-{sha1(url.encode()).hexdigest()[:10]}.part"
    try:
        http.download("Unpaywall PDF link", url, part)
    except ServiceError as error:
        errors.append(str(error))
        return None
    if not has_pdf_header(part):
        part.unlink()
        notes.append(f"{url} gave a web page, not a PDF")
        return None
    return _move_into_literature(corpus_dir, f"{stem}.pdf", part, previous_file)


def abstract_text(record: PaperRecord) -> str:
    """An abstract file: a first line saying it is only the abstract, the title, then the abstract."""
    where = f"PubMed {record.pmid}" if record.pmid else "Europe PMC"
    lines = [f"{ABSTRACT_MARKER}: the full text was not openly available ({where}).", ""]
    if record.title:
        lines += [record.title, ""]
    byline = ", ".join(
        part for part in (record.first_author and f"{record.first_author} et al.", record.journal, record.year) if part
    )
    if byline:
        lines += [byline + (f" doi:{record.doi}" if record.doi else ""), ""]
    lines.append(record.abstract)
    return "\n".join(lines) + "\n"


def _save(corpus_dir: Path, name: str, data: bytes, previous_file: str | None) -> str:
    temporary = corpus_dir / STATE_DIR / DOWNLOADS_DIR / f"{name}.tmp"
    temporary.parent.mkdir(parents=True, exist_ok=True)
    temporary.write_bytes(data)
    return _move_into_literature(corpus_dir, name, temporary, previous_file)


def _move_into_literature(corpus_dir: Path, name: str, source: Path, previous_file: str | None) -> str:
    """Move a finished download into literature/ (never over a file fetch did not write)."""
    target = corpus_dir / LITERATURE_DIR / name
    relative = relative_to_corpus(target, corpus_dir)
    if target.exists() and relative != previous_file:
        source.unlink()
        raise FileExistsError(f"{relative} exists and was not written by exorag; left as it is")
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)
    if previous_file and previous_file != relative:
        (corpus_dir / previous_file).unlink(missing_ok=True)
    return relative


def _updated_reference(reference: Reference, result: FetchResult, record: PaperRecord | None) -> Reference:
    values = reference.model_dump()
    if record is not None:
        for name in ("doi", "pmid", "pmcid"):
            if not values[name] and getattr(record, name):
                values[name] = getattr(record, name)
    if result.file and not (reference.file and result.outcome == "user_file"):
        values["file"] = result.file
    return Reference.model_validate(values)
