"""Where the literature services live and how politely to ask them (``EXORAG_*`` variables):
the ``literature`` section of ``exorag.config.Settings``.

Every base URL is a setting so that a library proxy or a mirror works; the defaults are the
public services.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class LiteratureSettings(BaseSettings):
    """Settings of ``exorag refs fetch``; each field can be set as ``EXORAG_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="EXORAG_", extra="ignore")

    europepmc_url: str = Field(
        default="https://www.ebi.ac.uk/europepmc/webservices/rest",
        description="Europe PMC REST API (search, open-access full text)",
    )
    unpaywall_url: str = Field(default="https://api.unpaywall.org/v2", description="Unpaywall API v2")
    ncbi_url: str = Field(
        default="https://eutils.ncbi.nlm.nih.gov/entrez/eutils",
        description="NCBI E-utilities (PubMed identifiers and abstracts)",
    )
    contact_email: str | None = Field(
        default=None, description="sent to the services as they ask; Unpaywall answers only with one"
    )
    ncbi_api_key: str | None = Field(default=None, description="optional NCBI key: 10 instead of 3 requests/s")
    fetch_rate: float = Field(default=3.0, gt=0, description="requests per second to each service")
    fetch_retries: int = Field(default=4, ge=0, description="retries after a failed request")
    fetch_backoff: float = Field(default=1.0, ge=0, description="seconds before the first retry; doubles each time")
    fetch_max_wait: float = Field(default=120.0, ge=0, description="the longest Retry-After worth waiting for, seconds")
    fetch_timeout: float = Field(default=30.0, gt=0, description="seconds to wait for a service to answer")
    fetch_max_mb: float = Field(default=100.0, gt=0, description="the largest download accepted")

