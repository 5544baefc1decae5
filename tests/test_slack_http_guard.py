"""HTTP mode's door, on a real loopback server in front of the real Bolt app: oversized bodies are
refused unread, the signature is checked over the raw bytes before any parsing, no malformed request
gets a 500, and an empty signing secret stops the bot at start-up."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fake_slack_api import FakeSlackAPI

from exorag.config import Settings
from exorag.feedback import FeedbackStore
from exorag.slack.answers import AnswerStore
from exorag.slack.app import build_app
from exorag.slack.guard import MAX_BODY_BYTES
from exorag.slack.run import make_http_server
from exorag.slack.settings import SlackConfigError, SlackSettings, check_settings

TOKEN, SECRET = "xoxb-test-token", "8f742231b10e8888abcd99yyyzzz85a5"


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    stamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + digest}


@pytest.fixture(scope="module")
def events_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = tmp_path_factory.mktemp("guard")
    fake = FakeSlackAPI(TOKEN).start()
    slack = SlackSettings(bot_token=TOKEN, signing_secret=SECRET, api_url=fake.api_url, app_token=None)
    app = build_app(Settings(corpus=base / "corpus", index=base / "index", slack=slack),
                    answers=AnswerStore(base / "answers.sqlite3"), feedback=FeedbackStore(base / "feedback.sqlite3"))
    server = make_http_server(app, "127.0.0.1", 0, SECRET)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/slack/events"
    server.shutdown()
    server.server_close()
    fake.stop()


def test_an_oversized_body_is_refused_with_413_before_it_is_sent(events_url: str) -> None:
    port = int(events_url.split(":")[2].split("/")[0])
    announced = 300_000_000
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                           f"Content-Length: {announced}\r\n\r\n".encode() + b"x" * 65536)
        # the server answers while 299.9 MB are still unsent: it did not wait to read them
        reply = connection.recv(4096).decode()
    assert reply.startswith(("HTTP/1.0 413", "HTTP/1.1 413")), reply


def test_a_client_that_announces_a_body_and_never_sends_it_is_let_go(events_url: str) -> None:
    # Otherwise each such client holds a server thread and a socket for good (slowloris).
    port = int(events_url.split(":")[2].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=60) as connection:
        connection.sendall(b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                           b"Content-Length: 999\r\n\r\n")
        started = time.monotonic()
        ended = connection.recv(4096)  # the server's answer or its close; a socket.timeout fails the test
    assert time.monotonic() - started < 60 and not ended.startswith((b"HTTP/1.0 2", b"HTTP/1.1 2"))


@pytest.mark.parametrize("length", [b"\xb9", b"9" * 5000], ids=["superscript", "5000-digits"])
def test_a_content_length_that_is_no_usable_number_gets_400(events_url: str, length: bytes) -> None:
    port = int(events_url.split(":")[2].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                           b"Content-Length: " + length + b"\r\n\r\n{}")
        reply = connection.recv(4096).decode("latin-1")
    assert reply.startswith(("HTTP/1.0 400", "HTTP/1.1 400")), reply


@pytest.mark.parametrize("body", [b"\xff\xfe\x80 not utf-8 \xc3\x28", b"not json at all " * 50_000, b"{}"],
                         ids=["invalid-utf8", "800kB-non-json", "empty-json"])
def test_an_unsigned_body_gets_401_whatever_it_holds(events_url: str, body: bytes) -> None:
    assert len(body) <= MAX_BODY_BYTES
    response = httpx.post(events_url, content=body, headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 401


@pytest.mark.parametrize("headers", [[(b"X-Slack-Request-Timestamp", b"soon"), (b"X-Slack-Signature", b"v0=00")],
                                     [(b"X-Slack-Request-Timestamp", b"1"), (b"X-Slack-Signature", b"v0=\xff\xfe")],
                                     # "\xb2" is Latin-1 "²": a digit to str.isdigit(), not to int()
                                     [(b"X-Slack-Request-Timestamp", b"\xb2"), (b"X-Slack-Signature", b"v0=00")],
                                     # past 4,300 digits int() refuses a number
                                     [(b"X-Slack-Request-Timestamp", b"9" * 5000), (b"X-Slack-Signature", b"v0=00")]],
                         ids=["non-numeric-timestamp", "stale-and-garbled", "superscript-timestamp", "5000-digit-timestamp"])
def test_malformed_signature_headers_get_401(events_url: str, headers: list[tuple[bytes, bytes]]) -> None:
    response = httpx.post(events_url, content=b"{}", headers=[(b"Content-Type", b"application/json"), *headers],
                          timeout=10)
    assert response.status_code == 401


@pytest.mark.parametrize(("body", "content_type"), [(b"\xff\xfe\x80", "application/json"),
                                                     (b"{not json", "application/json"),
                                                     (b"payload=%FF%FE", "application/x-www-form-urlencoded"),
                                                     # JSON, but not the object Bolt reads
                                                     (b"[]", "application/json"), (b"null", "application/json"),
                                                     (b'{"type": "event_callback", "event": "x"}', "application/json"),
                                                     (b"payload=%5B%5D", "application/x-www-form-urlencoded")])
def test_a_signed_but_malformed_body_never_gets_500(events_url: str, body: bytes, content_type: str) -> None:
    response = httpx.post(events_url, content=body, headers={"Content-Type": content_type, **signed(body)}, timeout=10)
    assert 400 <= response.status_code < 500


def test_a_signed_url_verification_still_works(events_url: str) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "legacy"}).encode()
    response = httpx.post(events_url, content=body, headers={"Content-Type": "application/json", **signed(body)}, timeout=10)
    assert response.status_code == 200 and "abc123" in response.text


@pytest.mark.parametrize("secret", ["", "   "])
def test_an_empty_signing_secret_stops_http_mode_at_start_up(secret: str, tmp_path: Path) -> None:
    slack = SlackSettings(bot_token=TOKEN, signing_secret=secret, app_token=None)
    with pytest.raises(SlackConfigError, match="SLACK_SIGNING_SECRET"):
        check_settings(slack, http=True)
    fake = FakeSlackAPI(TOKEN).start()
    try:
        app = build_app(Settings(index=tmp_path / "index", slack=slack.model_copy(update={"api_url": fake.api_url})),
                        answers=AnswerStore(tmp_path / "a.sqlite3"), feedback=FeedbackStore(tmp_path / "f.sqlite3"))
        with pytest.raises(SlackConfigError, match="SLACK_SIGNING_SECRET"):
            make_http_server(app, "127.0.0.1", 0, secret)
    finally:
        fake.stop()
