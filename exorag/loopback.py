"""Servers bound to this machine only, and the Host check that keeps them so.

A server on 127.0.0.1 is out of other machines' reach, but not out of a web page's: a page whose
own name its attacker points at 127.0.0.1 (DNS rebinding) talks to the server through the
user's browser, with its own name in the ``Host`` header. Answering only loopback names stops it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

# As a Host header names them (an IPv6 address in brackets).
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def is_loopback(host: str) -> bool:
    """Whether a server bound to ``host`` is reachable from this machine only."""
    try:
        return host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def loopback_host_check(bound_to: str, also: Sequence[str] = ()) -> list[Middleware]:
    """For a server bound to ``bound_to``: on a loopback address, the middleware that answers
    400 to a request whose ``Host`` is neither a loopback name nor one of ``also`` (a reverse
    proxy's name, ``EXORAG_ALLOWED_HOSTS``); elsewhere none."""
    if not is_loopback(bound_to):
        return []
    bound_name = f"[{bound_to.strip('[]')}]" if ":" in bound_to else bound_to
    return [Middleware(TrustedHostMiddleware, allowed_hosts=[*LOOPBACK_NAMES, bound_name, *also])]
