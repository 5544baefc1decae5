"""PubMed through NCBI E-utilities: a DOI's PMID (esearch), a paper's PMCID (esummary) and its
abstract (efetch). NCBI asks every caller for ``tool`` and ``email``, and allows 3 requests a
second (10 with an API key)."""

from __future__ import annotations

from xml.etree import ElementTree

from exorag.refs.clients.http import PoliteClient, ServiceError
from exorag.refs.clients.record import PaperRecord

SERVICE = "PubMed (NCBI E-utilities)"


class PubMed:
    """Client of one E-utilities base URL."""

    def __init__(
        self, http: PoliteClient, base_url: str, contact_email: str | None = None, api_key: str | None = None
    ) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._identity = {"tool": "exorag"}
        if contact_email:
            self._identity["email"] = contact_email
        if api_key:
            self._identity["api_key"] = api_key

    def pmid_for_doi(self, doi: str) -> str | None:
        """The PMID of the paper with ``doi``; None unless PubMed finds exactly one."""
        data = self._json("esearch.fcgi", {"db": "pubmed", "term": f'"{doi}"[doi]', "retmode": "json"})
        ids = ((data or {}).get("esearchresult") or {}).get("idlist") or []
        return str(ids[0]) if len(ids) == 1 else None

    def summary(self, pmid: str) -> PaperRecord | None:
        """Identifiers (DOI, PMCID), title, first author and year of ``pmid``."""
        data = self._json("esummary.fcgi", {"db": "pubmed", "id": pmid, "retmode": "json"})
        item = ((data or {}).get("result") or {}).get(str(pmid))
        if not isinstance(item, dict) or item.get("error"):
            return None
        ids = {entry.get("idtype"): entry.get("value") for entry in item.get("articleids") or []}
        authors = item.get("authors") or []
        first_author = str(authors[0].get("name") or "").split(" ")[0] if authors else ""
        return PaperRecord(
            doi=ids.get("doi"),
            pmid=str(pmid),
            pmcid=ids.get("pmc"),
            title=" ".join(str(item.get("title") or "").split()),
            first_author=first_author,
            year=str(item.get("pubdate") or "")[:4],
            journal=str(item.get("source") or ""),
        )

    def abstract(self, pmid: str) -> PaperRecord | None:
        """The PubMed record of ``pmid`` with its abstract; None when PubMed has no such record."""
        response = self._http.get(
            SERVICE, f"{self._base}/efetch.fcgi", {"db": "pubmed", "id": pmid, "retmode": "xml", **self._identity}
        )
        if response is None:
            return None
        try:
            root = ElementTree.fromstring(response.content)
        except ElementTree.ParseError as error:
            raise ServiceError(f"{SERVICE}: the record of PMID {pmid} is not valid XML ({error})") from error
        article = root.find(".//PubmedArticle")
        return record_from_pubmed_xml(article) if article is not None else None

    def _json(self, endpoint: str, params: dict[str, str]) -> dict | None:
        response = self._http.get(SERVICE, f"{self._base}/{endpoint}", {**params, **self._identity})
        if response is None:
            return None
        try:
            return response.json()
        except ValueError as error:
            raise ServiceError(f"{SERVICE}: the {endpoint} answer is not JSON ({error})") from error


def record_from_pubmed_xml(article: ElementTree.Element) -> PaperRecord:
    """A PaperRecord from a ``<PubmedArticle>`` element; labelled abstract parts keep their label."""
    parts = []
    for part in article.findall(".//Abstract/AbstractText"):
        text = " ".join("".join(part.itertext()).split())
        label = part.get("Label")
        if text:
            parts.append(f"{label.capitalize()}: {text}" if label else text)
    author = article.find(".//AuthorList/Author")
    first_author = ""
    if author is not None:
        first_author = author.findtext("LastName") or author.findtext("CollectiveName") or ""
    year = (
        article.findtext(".//JournalIssue/PubDate/Year")
        or (article.findtext(".//JournalIssue/PubDate/MedlineDate") or "")[:4]
    )
    title_element = article.find(".//ArticleTitle")
    title = " ".join("".join(title_element.itertext()).split()) if title_element is not None else ""
    ids = {node.get("IdType"): (node.text or "").strip() for node in article.findall(".//ArticleIdList/ArticleId")}
    return PaperRecord(
        doi=ids.get("doi") or None,
        pmid=article.findtext(".//MedlineCitation/PMID"),
        pmcid=ids.get("pmc") or None,
        title=title,
        first_author=first_author,
        year=year,
        journal=article.findtext(".//Journal/Title") or "",
        abstract="\n\n".join(parts),
    )
