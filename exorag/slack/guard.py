"""The door of HTTP mode: what reaches Bolt is small, signed by Slack and readable.

Bolt decodes and parses a body before its own signature check, so an unsigned request of any size
and any bytes would be read and parsed whole, and undecodable bytes end in a 500. This WSGI
middleware runs first: a body over the limit is refused (413) unread, the signature is checked
over the raw bytes (401), and a signed body that is not UTF-8 or not the JSON it claims is refused
(400). Nothing a client sends makes it answer 500.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import time
from collections.abc import Callable, Iterable

from slack_bolt.request.internals import parse_body

logger = logging.getLogger(__name__)

# Slack's events, commands and interactions are a few kB; a message carries at most 40,000 characters.
MAX_BODY_BYTES = 1_000_000
# Slack's own limit on a request's age (replays are refused).
MAX_AGE_SECONDS = 5 * 60

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


def signature_valid(secret: str, body: bytes, timestamp: str | None, signature: str | None,
                    now: float | None = None) -> bool:
    """Whether ``signature`` is Slack's v0 signature of ``body`` at ``timestamp`` (not older than 5 minutes)."""
    if not (timestamp and signature and _is_ascii_number(timestamp)):
        return False
    if abs((now or time.time()) - int(timestamp)) > MAX_AGE_SECONDS:
        return False
    expected = "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def _is_ascii_number(text: str) -> bool:
    # str.isdigit() also takes "²", which int() refuses: a header is Latin-1 text. Past 4,300 digits
    # int() refuses too; no length or time needs 20.
    return text.isascii() and text.isdigit() and len(text) <= 20


class SignedRequestsOnly:
    """WSGI middleware in front of Bolt's handler for POST requests (see the module's docstring)."""

    def __init__(self, app: WsgiApp, signing_secret: str, max_bytes: int = MAX_BODY_BYTES):
        self.app = app
        self.secret = signing_secret
        self.max_bytes = max_bytes

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        length = environ.get("CONTENT_LENGTH") or "0"
        if not _is_ascii_number(length):
            return _refuse(start_response, "400 Bad Request", "the Content-Length header is not a number")
        if int(length) > self.max_bytes:
            logger.warning("refused a %s-byte request from %s unread (the limit is %d)",
                           length, environ.get("REMOTE_ADDR"), self.max_bytes)
            return _refuse(start_response, "413 Content Too Large",
                           f"the body is larger than {self.max_bytes} bytes; Slack's requests are smaller")
        body = environ["wsgi.input"].read(int(length))
        if not signature_valid(self.secret, body, environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"),
                               environ.get("HTTP_X_SLACK_SIGNATURE")):
            return _refuse(start_response, "401 Unauthorized", "invalid request signature or timestamp")
        try:
            parsed = parse_body(body.decode("utf-8"), environ.get("CONTENT_TYPE"))  # as Bolt will, where its errors are 500s
        except ValueError:
            return _refuse(start_response, "400 Bad Request", "the body is not the UTF-8 JSON or form it claims to be")
        if not _is_slack_payload(parsed):
            return _refuse(start_response, "400 Bad Request", "the body is not a Slack event, command or interaction")
        environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)


def _is_slack_payload(parsed: object) -> bool:
    """Whether a parsed body has the shape Bolt reads: an object whose ``payload`` and ``event``, if
    any, are objects too (Bolt calls ``.get`` on them, and a list or a string there is a 500)."""
    return isinstance(parsed, dict) and all(isinstance(parsed.get(key, {}), dict) for key in ("payload", "event"))


def _refuse(start_response: Callable, status: str, message: str) -> list[bytes]:
    body = message.encode()
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]
