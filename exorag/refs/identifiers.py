"""DOIs, PMIDs and PMCIDs checked against their syntax before they go into a request.

Identifiers come from the user's reference list and from the services' answers; either may be
wrong or hostile (``10.1/../../other``). A URL path gets an identifier only as one encoded segment.
"""

from __future__ import annotations

import re
from urllib.parse import quote

# Crossref's advice: "10." + a registrant code of 4-9 digits (subdivisions allowed) + "/" + a suffix.
_DOI = re.compile(r"10\.\d{4,9}(?:\.\d+)*/\S+")
_PMID = re.compile(r"[1-9]\d{0,9}")
_PMCID = re.compile(r"PMC[1-9]\d{0,9}", re.IGNORECASE)


class InvalidIdentifier(ValueError):
    """An identifier that does not have its kind's syntax; the message names it."""


def checked_doi(doi: str) -> str:
    if not _DOI.fullmatch(doi) or any(part in (".", "..") for part in doi.split("/")):
        raise InvalidIdentifier(f"{doi[:80]!r} is not a DOI (10.<registrant>/<suffix>)")
    return doi


def checked_pmid(pmid: str) -> str:
    if not _PMID.fullmatch(pmid):
        raise InvalidIdentifier(f"{pmid[:80]!r} is not a PMID (digits only)")
    return pmid


def checked_pmcid(pmcid: str) -> str:
    if not _PMCID.fullmatch(pmcid):
        raise InvalidIdentifier(f"{pmcid[:80]!r} is not a PMCID (PMC followed by digits)")
    return pmcid.upper()


def path_segment(value: str) -> str:
    """``value`` percent-encoded as one URL path segment (a ``/`` becomes ``%2F``)."""
    return quote(value, safe="")


def valid_or_none(value: str | None, check) -> str | None:
    """``check(value)``, or None when ``value`` is missing or invalid (for values a service sent)."""
    if not value:
        return None
    try:
        return check(value)
    except InvalidIdentifier:
        return None
