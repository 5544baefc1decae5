"""Links that views may render: only http(s) URLs ever reach an ``href`` or a Slack link."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

DOI_RESOLVER = "https://doi.org/"


def web_link(url: str | None) -> str | None:
    """``url`` when it is an http(s) link with a host, else None (``javascript:``, ``data:``, ``file:``...)."""
    if not url:
        return None
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or any(c.isspace() or c in "<>\"|" for c in url):
        return None
    return url


def doi_link(doi: str) -> str:
    """The resolver link of a DOI, with the DOI percent-encoded (it may hold ``<``, ``|`` or ``#``)."""
    return DOI_RESOLVER + quote(doi.strip(), safe="/:;()._-")
