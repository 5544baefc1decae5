"""A small stand-in for Slack's Web API on 127.0.0.1, for tests of the bot.

It answers ``auth.test``, ``chat.postMessage``, ``chat.update``, ``chat.postEphemeral``,
``conversations.replies`` and ``apps.connections.open`` the way Slack does (keeping the messages,
so that threads have a history), records every call, checks the tokens, and can be told to answer
one call with 429 + Retry-After or with a Slack error. POSTs to ``/response/<name>`` stand in for
the ``response_url`` of slash commands and buttons. ``FakeSocketMode`` is the websocket end of
Socket Mode.
"""

from __future__ import annotations

import itertools
import json
import queue
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

JSON_FIELDS = {"blocks", "metadata", "attachments"}


@dataclass
class Call:
    """One call the bot made: the Web API method, its arguments and what the fake answered."""

    method: str
    args: dict
    result: dict = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)


class FakeSlackAPI:
    """Start with ``start()``; ``api_url`` is what ``EXORAG_SLACK_API_URL`` should be."""

    def __init__(self, token: str, team_id: str = "T_TEST", bot_user_id: str = "U_BOT", bot_id: str = "B_BOT",
                 app_token: str | None = None, socket_url: str | None = None):
        self.token, self.app_token, self.socket_url = token, app_token, socket_url
        self.team_id, self.bot_user_id, self.bot_id = team_id, bot_user_id, bot_id
        self.calls: list[Call] = []
        self.refused: list[Call] = []  # calls answered with 429 or an error, as instructed
        self.messages: dict[tuple[str, str], dict] = {}
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        self._rate_limits: dict[str, int] = {}
        self._errors: dict[str, str] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # --- control -------------------------------------------------------------------------
    def start(self) -> FakeSlackAPI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/"

    def response_url(self, name: str) -> str:
        return f"{self.base_url}/response/{name}"

    def rate_limit_next(self, method: str, retry_after: int = 1) -> None:
        """Answer the next call of ``method`` with 429 and ``Retry-After``."""
        with self._lock:
            self._rate_limits[method] = retry_after

    def fail_next(self, method: str, error: str) -> None:
        """Answer the next call of ``method`` with ``{"ok": false, "error": error}``."""
        with self._lock:
            self._errors[method] = error

    def next_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.000100"

    def add_message(self, channel: str, user: str, text: str, thread_ts: str | None = None, **extra: object) -> str:
        """A message a person wrote (Slack would hold it); returns its ts."""
        ts = self.next_ts()
        message = {"type": "message", "user": user, "text": text, "ts": ts, **extra}
        if thread_ts:
            message["thread_ts"] = thread_ts
        with self._lock:
            self.messages[(channel, ts)] = message
        return ts

    # --- what happened -------------------------------------------------------------------
    def calls_to(self, method: str, **match: object) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and all(c.args.get(k) == v for k, v in match.items())]

    def wait_for(self, method: str, timeout: float = 60.0, count: int = 1, **match: object) -> list[Call]:
        """Poll until ``count`` calls of ``method`` matching ``match`` were made; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.calls_to(method, **match)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no {count} call(s) of {method} with {match} within {timeout} s; calls: {self.calls}")

    # --- the Web API ---------------------------------------------------------------------
    def _answer(self, method: str, args: dict, authorization: str) -> tuple[int, dict, dict]:
        with self._lock:
            if method in self._rate_limits:
                retry_after = self._rate_limits.pop(method)
                self.refused.append(Call(method, args))
                return 429, {"Retry-After": str(retry_after)}, {"ok": False, "error": "ratelimited"}
            if method in self._errors:
                self.refused.append(Call(method, args))
                return 200, {}, {"ok": False, "error": self._errors.pop(method)}
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if method == "response_url":
            result = {"ok": True}
        elif authorization != f"Bearer {self.app_token if method == 'apps.connections.open' else self.token}":
            result = {"ok": False, "error": "invalid_auth"}
        elif handler is None:
            result = {"ok": False, "error": "unknown_method"}
        else:
            result = handler(args)
        with self._lock:
            self.calls.append(Call(method, args, result))
        return 200, {}, result

    def _auth_test(self, args: dict) -> dict:
        return {"ok": True, "url": "https://exorag-test.slack.com/", "team": "exorag test", "user": "exorag",
                "team_id": self.team_id, "user_id": self.bot_user_id, "bot_id": self.bot_id, "is_enterprise_install": False}

    def _apps_connections_open(self, args: dict) -> dict:
        return {"ok": True, "url": self.socket_url} if self.socket_url else {"ok": False, "error": "not_allowed_token_type"}

    def _chat_postMessage(self, args: dict) -> dict:
        if not args.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        ts = self.next_ts()
        message = {"type": "message", "user": self.bot_user_id, "bot_id": self.bot_id, "ts": ts, "text": args.get("text", "")}
        for key in ("thread_ts", "blocks", "metadata"):
            if args.get(key):
                message[key] = args[key]
        with self._lock:
            self.messages[(args["channel"], ts)] = message
        return {"ok": True, "channel": args["channel"], "ts": ts, "message": message}

    def _chat_update(self, args: dict) -> dict:
        with self._lock:
            message = self.messages.get((args.get("channel"), args.get("ts")))
            if message is None:
                return {"ok": False, "error": "message_not_found"}
            message["text"] = args.get("text", "")
            for key in ("blocks", "metadata"):
                if key in args:
                    message[key] = args[key]
        return {"ok": True, "channel": args["channel"], "ts": args["ts"], "text": message["text"], "message": message}

    def _chat_postEphemeral(self, args: dict) -> dict:
        if not args.get("user"):
            return {"ok": False, "error": "user_not_in_channel"}
        return {"ok": True, "message_ts": self.next_ts()}

    def _conversations_replies(self, args: dict) -> dict:
        channel, root = args.get("channel"), args.get("ts")
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        with self._lock:
            thread = [dict(m) for (c, ts), m in self.messages.items()
                      if c == channel and (ts == root or m.get("thread_ts") == root)]
        if not thread:
            return {"ok": False, "error": "thread_not_found"}
        for message in thread:
            if not with_metadata:
                message.pop("metadata", None)
        thread.sort(key=lambda m: float(m["ts"]))
        return {"ok": True, "messages": thread, "has_more": False, "response_metadata": {"next_cursor": ""}}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def _reply(self) -> None:
                url = urlsplit(self.path)
                args: dict = dict(parse_qsl(url.query))
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                if raw:
                    if self.headers.get("Content-Type", "").startswith("application/json"):
                        args.update(json.loads(raw))
                    else:
                        args.update(parse_qsl(raw))
                for key in JSON_FIELDS & args.keys():
                    if isinstance(args[key], str):
                        args[key] = json.loads(args[key])
                if url.path.startswith("/api/"):
                    method = url.path.removeprefix("/api/")
                elif url.path.startswith("/response/"):
                    method = "response_url"
                    args["response_name"] = url.path.removeprefix("/response/")
                else:
                    self.send_error(404)
                    return
                status, headers, body = fake._answer(method, args, self.headers.get("Authorization", ""))
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = _reply
            do_POST = _reply

        return Handler


class FakeSocketMode:
    """Slack's end of a Socket Mode websocket on 127.0.0.1: says hello, sends envelopes, keeps the acks."""

    def __init__(self) -> None:
        self.acks: list[dict] = []
        self._outbox: queue.Queue[dict] = queue.Queue()
        self._server = serve(self._talk, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}/link"

    def start(self) -> FakeSocketMode:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    def send_event(self, body: dict, envelope_id: str, retry_attempt: int = 0) -> None:
        """Deliver an Events API body the way Socket Mode wraps it."""
        self._outbox.put({"envelope_id": envelope_id, "type": "events_api", "accepts_response_payload": False,
                          "retry_attempt": retry_attempt, "retry_reason": "timeout" if retry_attempt else "",
                          "payload": body})

    def wait_for_ack(self, envelope_id: str, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [a for a in self.acks if a.get("envelope_id") == envelope_id]
            if found:
                return found[0]
            time.sleep(0.05)
        raise AssertionError(f"no ack of envelope {envelope_id} within {timeout} s; acks: {self.acks}")

    def _talk(self, connection: ServerConnection) -> None:
        connection.send(json.dumps({"type": "hello", "num_connections": 1,
                                    "connection_info": {"app_id": "A_EXORAG"}, "debug_info": {"host": "fake"}}))
        while True:
            try:
                envelope = self._outbox.get(timeout=0.05)
            except queue.Empty:
                envelope = None
            if envelope is not None:
                connection.send(json.dumps(envelope))
            try:
                message = connection.recv(timeout=0.01)
            except TimeoutError:
                continue
            except ConnectionClosed:
                return
            self.acks.append(json.loads(message))
