"""One polite HTTP client for every literature service.

Polite means: at most ``fetch_rate`` requests a second to each host, a User-Agent that names
exorag and the contact e-mail, and retries with exponential back-off that honour a service's
``Retry-After``. Downloads resume from a partial file with an HTTP Range request.

Careful means: requests go only to the configured services and to the publisher hosts an
open-access record names (``allow_hosts``); a redirect is followed only to https (or to a
configured service's own scheme and host) on those hosts; and private, loopback or link-local
addresses are refused unless a configured service is itself at one (a test stand-in or a proxy).
"""

from __future__ import annotations

import ipaddress
import threading
import time
from contextlib import closing
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import NoReturn, Self
from urllib.parse import urlsplit

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from exorag.refs.settings import LiteratureSettings

# Answers worth asking again: the service is busy or briefly broken.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
NOT_FOUND_STATUSES = frozenset({404, 410})
_MAX_REDIRECTS = 5
_VERSION = "0.1.0"


class ServiceError(Exception):
    """A service that did not give an answer; the message names the service and what went wrong."""


class _Busy(Exception):
    """An answer worth asking for again; ``response`` may say when (Retry-After)."""

    def __init__(self, failure: str, response: httpx.Response | None = None) -> None:
        super().__init__(failure)
        self.response = response


def user_agent(contact_email: str | None) -> str:
    """``exorag/0.1.0 (literature fetch; mailto:you@example.org)``."""
    contact = f"; mailto:{contact_email}" if contact_email else ""
    return f"exorag/{_VERSION} (literature fetch for a review's reference list{contact})"


class PoliteClient:
    """GET and download with a per-host rate limit and retries; close it when done."""

    def __init__(self, settings: LiteratureSettings) -> None:
        self._settings = settings
        self._client = httpx.Client(
            timeout=settings.fetch_timeout,
            follow_redirects=False,  # each hop is checked against the allow-list first (_send)
            headers={"User-Agent": user_agent(settings.contact_email)},
        )
        self._next_turn: dict[str, float] = {}
        self._lock = threading.Lock()
        services = [httpx.URL(url) for url in (settings.europepmc_url, settings.unpaywall_url, settings.ncbi_url)]
        self._service_origins = {(url.scheme, url.host, url.port) for url in services}
        self._allowed_hosts = {url.host for url in services}
        self._private_allowed = any(_private_address(url.host) for url in services)

    def allow_hosts(self, urls: list[str]) -> None:
        """Add the hosts of ``urls`` (the publishers an open-access record names) to the allow-list."""
        self._allowed_hosts.update(httpx.URL(url).host for url in urls)

    def _refusal(self, url: httpx.URL, redirected: bool) -> str | None:
        """Why a request to ``url`` is not made, or None when it may be."""
        if url.scheme not in ("http", "https"):
            return f"{url.scheme}: is not a web address"
        own_service = (url.scheme, url.host, url.port) in self._service_origins
        if redirected and url.scheme != "https" and not own_service:
            return "a redirect to a plain-http address"
        if url.host not in self._allowed_hosts:
            return f"{url.host} is neither a configured service nor a publisher the open-access record names"
        if not self._private_allowed and _private_address(url.host):
            return f"{url.host} is a private, loopback or link-local address"
        return None

    def _send(self, service: str, url: str, params: dict[str, str] | None = None,
              headers: dict[str, str] | None = None) -> httpx.Response:
        """``GET url`` as a streamed response (close it), following allowed redirects only."""
        request = self._client.build_request("GET", url, params=params, headers=headers)
        for hop in range(_MAX_REDIRECTS + 1):
            refusal = self._refusal(request.url, redirected=hop > 0)
            if refusal:
                raise ServiceError(f"{service}: refused {'a redirect to ' if hop else ''}{_short(str(request.url))}: "
                                   f"{refusal}")
            response = self._client.send(request, stream=True)
            if not (response.is_redirect and response.next_request is not None):
                return response
            response.close()
            request = response.next_request
        raise ServiceError(f"{service}: more than {_MAX_REDIRECTS} redirects for {_short(url)}")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def get(self, service: str, url: str, params: dict[str, str] | None = None) -> httpx.Response | None:
        """The answer to ``GET url``; None when the service says the item does not exist (404/410).

        Busy or failing answers (429, 5xx) and broken connections are retried with back-off;
        ServiceError when they persist, or for any other error status.
        """

        def attempt() -> httpx.Response | None:
            self._wait_turn(url)
            with closing(self._send(service, url, params)) as response:
                response.read()
            if response.status_code in RETRY_STATUSES:
                raise _Busy(f"HTTP {response.status_code}", response)
            if response.status_code in NOT_FOUND_STATUSES:
                return None
            if response.is_error:
                raise ServiceError(f"{service}: HTTP {response.status_code} for {_short(url)}: {_body(response)}")
            return response

        return self._retrying(service, url)(attempt)

    def download(self, service: str, url: str, part: Path) -> str:
        """Download ``url`` into ``part``, resuming from what ``part`` already holds; returns the
        Content-Type. A partial file is kept on failure, so the next call picks up from there.

        ServiceError when the download fails after the retries, is missing (404) or is larger
        than ``fetch_max_mb``.
        """
        max_bytes = int(self._settings.fetch_max_mb * 1_000_000)
        part.parent.mkdir(parents=True, exist_ok=True)

        def attempt() -> str:
            have = part.stat().st_size if part.exists() else 0
            headers = {"Range": f"bytes={have}-"} if have else {}
            self._wait_turn(url)
            with closing(self._send(service, url, headers=headers)) as response:
                if response.status_code in RETRY_STATUSES:
                    raise _Busy(f"HTTP {response.status_code}", response)
                if response.status_code == 416:  # the partial file does not fit: start again
                    part.unlink(missing_ok=True)
                    raise _Busy("HTTP 416 (range not satisfiable)")
                if response.is_error:
                    response.read()
                    raise ServiceError(f"{service}: HTTP {response.status_code} for {_short(url)}")
                resumed = response.status_code == 206 and _range_start(response) == have
                with part.open("ab" if resumed else "wb") as out:
                    written = have if resumed else 0
                    for chunk in response.iter_bytes():
                        written += len(chunk)
                        if written > max_bytes:
                            out.close()
                            part.unlink(missing_ok=True)
                            raise ServiceError(
                                f"{service}: {_short(url)} is larger than {self._settings.fetch_max_mb:g} MB "
                                "(EXORAG_FETCH_MAX_MB)"
                            )
                        out.write(chunk)
                return response.headers.get("content-type", "")

        return self._retrying(service, url)(attempt)

    def _retrying(self, service: str, url: str) -> Retrying:
        """Up to ``fetch_retries`` more attempts after a busy answer or a broken connection, waiting
        what a ``Retry-After`` asks (up to ``fetch_max_wait``) or ``fetch_backoff`` doubling each time."""
        settings = self._settings
        backoff = wait_exponential(multiplier=settings.fetch_backoff)

        def wait(state: RetryCallState) -> float:
            asked = _retry_after(state)
            return backoff(state) if asked is None else asked

        def refuse_long_waits(state: RetryCallState) -> None:
            asked = _retry_after(state)
            if asked is not None and asked > settings.fetch_max_wait:
                raise ServiceError(
                    f"{service} asks to wait {asked:.0f} s before the next request (Retry-After), longer than "
                    f"EXORAG_FETCH_MAX_WAIT={settings.fetch_max_wait:g}; run the fetch again later"
                )

        def give_up(state: RetryCallState) -> NoReturn:
            error = state.outcome.exception()
            failure = str(error) if isinstance(error, _Busy) else f"{type(error).__name__}: {error}"
            raise ServiceError(f"{service}: {failure} for {_short(url)}, after {state.attempt_number} attempts")

        return Retrying(
            retry=retry_if_exception_type((_Busy, httpx.TransportError)),
            stop=stop_after_attempt(settings.fetch_retries + 1),
            wait=wait,
            before_sleep=refuse_long_waits,
            retry_error_callback=give_up,
        )

    def _wait_turn(self, url: str) -> None:
        host = urlsplit(url).netloc
        interval = 1.0 / self._settings.fetch_rate
        with self._lock:
            now = time.monotonic()
            turn = max(now, self._next_turn.get(host, now))
            self._next_turn[host] = turn + interval
        if turn > now:
            time.sleep(turn - now)


def _private_address(host: str) -> bool:
    """Whether ``host`` is a loopback name or an address no public server has (literal IPs only:
    a name is resolved by the request itself)."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return (address.is_private or address.is_loopback or address.is_link_local or address.is_reserved
            or address.is_multicast or address.is_unspecified)


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (a number of seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _retry_after(state: RetryCallState) -> float | None:
    """The seconds that the failed attempt's answer asked to wait, if it asked."""
    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, _Busy) and error.response is not None:
        return retry_after_seconds(error.response.headers.get("retry-after"))
    return None


def _range_start(response: httpx.Response) -> int | None:
    content_range = response.headers.get("content-range", "")  # "bytes 100-199/200"
    try:
        return int(content_range.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _short(url: str) -> str:
    return url if len(url) <= 120 else url[:117] + "..."


def _body(response: httpx.Response) -> str:
    text = " ".join(response.text.split())
    return text[:200] or "(no message)"
