"""Europe PMC's REST API: finding a paper by DOI, PMID, PMCID or title, and its open-access
full text as JATS XML (``/{PMCID}/fullTextXML``)."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup

from exorag.models import Reference
from exorag.refs.clients.http import PoliteClient, ServiceError
from exorag.refs.clients.record import PaperRecord
from exorag.refs.identifiers import InvalidIdentifier, checked_pmcid, path_segment

SERVICE = "Europe PMC"
_SENTENCE_BREAK = re.compile(r"(?<=[.?!])\s+")
_INITIALS = re.compile(r"^[A-Z]{1,3}[.,]*$")
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")


class EuropePmc:
    """Client of one Europe PMC REST base URL."""

    def __init__(self, http: PoliteClient, base_url: str, contact_email: str | None = None) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._email = contact_email

    def search(self, query: str) -> list[dict]:
        """Core metadata (with abstract) of the first hits for a Europe PMC ``query``."""
        params = {"query": query, "format": "json", "resultType": "core", "pageSize": "5"}
        if self._email:
            params["email"] = self._email
        response = self._http.get(SERVICE, f"{self._base}/search", params)
        if response is None:
            return []
        try:
            results = response.json().get("resultList", {}).get("result", [])
        except ValueError as error:
            raise ServiceError(f"{SERVICE}: the search answer is not JSON ({error})") from error
        return [hit for hit in results if isinstance(hit, dict)]

    def find(self, reference: Reference) -> PaperRecord | None:
        """The paper a reference names: by its DOI, PMID or PMCID, else by the title in its citation
        (accepted only when the found title is printed in the citation and the year agrees)."""
        if reference.doi:
            hit = _first_matching(self.search(f'DOI:"{reference.doi}"'), "doi", reference.doi.lower())
            if hit:
                return record_from_hit(hit)
        if reference.pmid:
            hit = _first_matching(self.search(f"EXT_ID:{reference.pmid} AND SRC:MED"), "pmid", reference.pmid)
            if hit:
                return record_from_hit(hit)
        if reference.pmcid:
            hit = _first_matching(self.search(f"PMCID:{reference.pmcid}"), "pmcid", reference.pmcid.upper())
            if hit:
                return record_from_hit(hit)
        if reference.doi or reference.pmid or reference.pmcid:
            return None
        title = title_in_citation(reference.citation)
        if not title:
            return None
        for hit in self.search(f'TITLE:"{title}"'):
            if _title_confirmed(hit, reference.citation):
                return record_from_hit(hit)
        return None

    def full_text_xml(self, pmcid: str) -> str | None:
        """The open-access full text of ``pmcid`` as JATS XML; None when Europe PMC has none."""
        try:
            segment = path_segment(checked_pmcid(pmcid))
        except InvalidIdentifier as error:
            raise ServiceError(f"{SERVICE}: {error}") from error
        response = self._http.get(SERVICE, f"{self._base}/{segment}/fullTextXML")
        if response is None or not response.text.strip():
            return None
        return response.text


def record_from_hit(hit: dict) -> PaperRecord:
    """A PaperRecord from one Europe PMC search result (``resultType=core``)."""
    authors = (hit.get("authorList") or {}).get("author") or []
    first_author = ""
    if authors:
        first = authors[0]
        first_author = first.get("lastName") or first.get("collectiveName") or first.get("fullName") or ""
    elif hit.get("authorString"):
        first_author = hit["authorString"].split(",")[0].split()[0]
    journal = ((hit.get("journalInfo") or {}).get("journal") or {}).get("title") or hit.get("journalTitle") or ""
    abstract = hit.get("abstractText") or ""
    if abstract:
        abstract = BeautifulSoup(abstract, "html.parser").get_text(" ", strip=True)
    return PaperRecord(
        doi=hit.get("doi"),
        pmid=hit.get("pmid"),
        pmcid=hit.get("pmcid"),
        title=" ".join(str(hit.get("title") or "").split()),
        first_author=first_author,
        year=str(hit.get("pubYear") or ""),
        journal=journal,
        abstract=" ".join(abstract.split()),
    )


def title_in_citation(citation: str) -> str:
    """The longest sentence of a citation that reads like a title (not the author list)."""
    candidates = []
    for segment in _SENTENCE_BREAK.split(citation):
        words = segment.split()
        initials = sum(1 for word in words if _INITIALS.match(word))
        if 4 <= len(words) <= 40 and initials < 2 and not _YEAR.search(segment):
            candidates.append(segment.rstrip(". ").replace('"', ""))
    return max(candidates, key=len, default="")


def _first_matching(hits: list[dict], key: str, wanted: str) -> dict | None:
    for hit in hits:
        value = str(hit.get(key) or "")
        if (value.lower() if key == "doi" else value.upper() if key == "pmcid" else value) == wanted:
            return hit
    return None


def _title_confirmed(hit: dict, citation: str) -> bool:
    title = _letters(str(hit.get("title") or ""))
    if len(title) < 20 or title not in _letters(citation):
        return False
    year = str(hit.get("pubYear") or "")
    return not year or year in citation


def _letters(text: str) -> str:
    return "".join(character for character in text.casefold() if character.isalnum())
