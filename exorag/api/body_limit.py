"""A cap on the size of a request body, for servers whose framework has none (Starlette, uvicorn).

A body over the cap is answered ``413`` before the app sees it: read in full, a body of hundreds of
megabytes holds the server's memory whatever the route then does with it.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    """ASGI middleware: ``413`` for a body longer than ``limit`` bytes, declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        # A body sent in chunks declares no length: it is read here, up to the cap, and handed on whole.
        parts: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            parts.append(message.get("body", b""))
            size += len(parts[-1])
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            more = message.get("more_body", False)
        body_given = False

        async def replay() -> Message:
            nonlocal body_given
            if not body_given:
                body_given = True
                return {"type": "http.request", "body": b"".join(parts), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        megabytes = self.limit / 1e6
        message = f"request body over {megabytes:g} MB"
        # FastAPI's "detail" and OpenAI's "error" object, as the app's own errors carry them
        error = {"message": message, "type": "invalid_request_error", "param": None, "code": "request_too_large"}
        response = JSONResponse(status_code=413, content={"detail": message, "error": error})
        await response(scope, receive, send)
