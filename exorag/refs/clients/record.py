"""What a literature service tells about a paper, in one shape for all of them."""

from __future__ import annotations

from dataclasses import dataclass, fields

from exorag.refs.identifiers import checked_doi, checked_pmcid, checked_pmid, valid_or_none


@dataclass
class PaperRecord:
    """A paper's identifiers and the metadata that names its file; any field may be unknown."""

    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    title: str = ""
    first_author: str = ""
    year: str = ""
    journal: str = ""
    abstract: str = ""

    def fill_from(self, other: PaperRecord | None) -> None:
        """Take ``other``'s values for the fields this record does not know yet; a service's
        identifier that lacks its kind's syntax is not taken."""
        if other is None:
            return
        for item in fields(self):
            value = getattr(other, item.name)
            if item.name in _IDENTIFIER_CHECKS:
                value = valid_or_none(value, _IDENTIFIER_CHECKS[item.name])
            if not getattr(self, item.name) and value:
                setattr(self, item.name, value)


_IDENTIFIER_CHECKS = {"doi": checked_doi, "pmid": checked_pmid, "pmcid": checked_pmcid}
