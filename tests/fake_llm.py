"""An OpenAI-compatible chat server for tests of what exorag does with a model's reply: it streams
``reply`` a word at a time (``word_s`` apart), answers HTTP ``status`` when that is not 200, or
serves a web ``page`` instead (a proxy's sign-in page)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeLLM(BaseHTTPRequestHandler):
    reply = "INSUFFICIENT: nothing set"
    word_s = 0.0
    status = 200
    page: str | None = None

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.status != 200:
            self.send_response(self.status)
            self.end_headers()
            return
        if self.page is not None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(self.page.encode())
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            for word in self.reply.split(" "):
                delta = {"choices": [{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}],
                         "id": "fake", "object": "chat.completion.chunk", "created": 0, "model": "fake"}
                self.wfile.write(f"data: {json.dumps(delta)}\n\n".encode())
                self.wfile.flush()
                time.sleep(self.word_s)
            self.wfile.write(b"data: [DONE]\n\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the answer was cancelled

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def fake_llm(reply: str = "", word_s: float = 0.0, status: int = 200, page: str | None = None) -> Iterator[str]:
    """The base URL (``…/v1``) of a server that gives ``reply`` to every chat request."""
    handler = type("Reply", (FakeLLM,), {"reply": reply, "word_s": word_s, "status": status, "page": page})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1"
    finally:
        server.shutdown()
