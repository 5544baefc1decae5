"""Unpaywall (``/v2/{doi}?email=``): where a paper is openly available as a PDF."""

from __future__ import annotations

from dataclasses import dataclass, field

from exorag.refs.clients.http import PoliteClient, ServiceError
from exorag.refs.clients.record import PaperRecord
from exorag.refs.identifiers import InvalidIdentifier, checked_doi, path_segment

SERVICE = "Unpaywall"


@dataclass
class OpenAccess:
    """Unpaywall's answer for one DOI: PDF links, best first, and what it knows of the paper."""

    pdf_urls: list[str] = field(default_factory=list)
    record: PaperRecord = field(default_factory=PaperRecord)


class Unpaywall:
    """Client of one Unpaywall base URL; Unpaywall requires a contact e-mail on every request."""

    def __init__(self, http: PoliteClient, base_url: str, contact_email: str) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._email = contact_email

    def lookup(self, doi: str) -> OpenAccess | None:
        """Open-access PDF links for ``doi`` (best location first); None when Unpaywall does not know it."""
        try:
            segment = path_segment(checked_doi(doi))
        except InvalidIdentifier as error:
            raise ServiceError(f"{SERVICE}: {error}") from error
        response = self._http.get(SERVICE, f"{self._base}/{segment}", {"email": self._email})
        if response is None:
            return None
        try:
            data = response.json()
        except ValueError as error:
            raise ServiceError(f"{SERVICE}: the answer for {doi} is not JSON ({error})") from error
        locations = [data.get("best_oa_location"), *(data.get("oa_locations") or [])]
        urls = [loc["url_for_pdf"] for loc in locations if isinstance(loc, dict) and loc.get("url_for_pdf")]
        authors = data.get("z_authors") or []
        first_author = (authors[0].get("family") or "") if authors and isinstance(authors[0], dict) else ""
        record = PaperRecord(
            doi=data.get("doi") or doi,
            title=" ".join(str(data.get("title") or "").split()),
            first_author=first_author,
            year=str(data.get("year") or ""),
            journal=data.get("journal_name") or "",
        )
        return OpenAccess(pdf_urls=list(dict.fromkeys(urls)), record=record)
