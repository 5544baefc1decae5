"""The REST API (``exorag api``): the Answer JSON over HTTP, streamed as server-sent events on request.

``build_app(settings)`` makes the FastAPI app; ``serve(settings, host, port)`` warms the pipeline and
listens (127.0.0.1 unless told otherwise). Every route calls ``exorag.api.operations``; the OpenAPI
schema at ``/openapi.json`` (shown at ``/docs``) is generated from the same pydantic models.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator

from chromadb.errors import ChromaError
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware

from exorag.api import operations
from exorag.api.body_limit import BodyLimit
from exorag.api.operations import (
    AskRequest,
    IndexStats,
    NotFound,
    PassageRecord,
    ReferenceRecord,
    SearchRequest,
    SearchResult,
)
from exorag.chain import answer_stream, get_pipeline
from exorag.config import Settings
from exorag.generate.llm import LLMUnavailable
from exorag.loopback import loopback_host_check
from exorag.models import Answer
from exorag.refs.status import CoverageReport
from exorag.store.chroma import StoreUnavailable
from exorag.text import well_formed

log = logging.getLogger(__name__)
EVENT_STREAM = "text/event-stream"


class AnswerRequest(AskRequest):
    stream: bool = Field(default=False, description="send server-sent events: `token` (draft text), then `answer`")


def sse(data: object, event: str | None = None) -> str:
    """One server-sent event whose data is ``data`` as JSON."""
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(jsonable_encoder(data), ensure_ascii=False)}\n\n"


def current_settings(request: Request) -> Settings:
    return request.app.state.settings


bearer = HTTPBearer(auto_error=False, description="the server's EXORAG_API_TOKEN; needed only when it is set")


def require_token(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:  # noqa: B008 (FastAPI's idiom)
    """401 unless the request carries the bearer token the server was started with (if any)."""
    token = current_settings(request).api_token
    if not token:
        return
    if credentials is None:
        raise HTTPException(401, "missing bearer token: send 'Authorization: Bearer <EXORAG_API_TOKEN>'",
                            headers={"WWW-Authenticate": "Bearer"})
    if not secrets.compare_digest(credentials.credentials.encode(), token.encode()):
        raise HTTPException(401, "wrong bearer token", headers={"WWW-Authenticate": "Bearer"})


router = APIRouter(prefix="/v1", dependencies=[Depends(require_token)])


@router.post("/answer", response_model=Answer, responses={200: {"content": {EVENT_STREAM: {}}, "description": (
    "The Answer JSON; with `stream: true` or `Accept: text/event-stream`, server-sent events: `token` events "
    "({\"text\"}: the draft as written, which verification may still change), then one `answer` event (the Answer), "
    "or an `error` event ({\"detail\"}).")}})
def post_answer(body: AnswerRequest, request: Request, settings: Settings = Depends(current_settings)):  # noqa: B008
    """A cited answer to a question: every sentence carries the citation range of its evidence."""
    if body.stream or prefers_event_stream(request.headers.get("accept", "")):
        return StreamingResponse(answer_events(body, settings), media_type=EVENT_STREAM,
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    return operations.ask(body, settings)


def prefers_event_stream(accept: str) -> bool:
    """Whether an ``Accept`` header ranks server-sent events above JSON (RFC 9110's q-values): a
    client that accepts both equally ("application/json, text/event-stream", MCP's) gets JSON."""
    quality: dict[str, float] = {}
    for item in accept.split(","):
        media, *parameters = (part.strip() for part in item.split(";"))
        weight = next((value for name, _, value in (p.partition("=") for p in parameters) if name.strip() == "q"), "1")
        try:
            quality[media.lower()] = float(weight)
        except ValueError:
            quality[media.lower()] = 0.0
    return quality.get(EVENT_STREAM, 0.0) > quality.get("application/json", 0.0)


def answer_events(body: AnswerRequest, settings: Settings) -> Iterator[str]:
    try:
        for event in answer_stream(body.question, body.options(), settings):
            if event.kind == "answer":
                yield sse(event.answer, "answer")
            else:
                yield sse({"text": event.text}, event.kind)
    except (StoreUnavailable, LLMUnavailable, ChromaError) as error:
        yield sse({"detail": str(error)}, "error")


@router.post("/search", response_model=SearchResult)
def post_search(body: SearchRequest, settings: Settings = Depends(current_settings)) -> SearchResult:  # noqa: B008
    """The passages an answer would rest on, with scores and metadata, and no answer written."""
    return operations.search_passages(body, settings)


@router.get("/passages/{chunk_id}", response_model=PassageRecord)
def get_passage(chunk_id: str, settings: Settings = Depends(current_settings)) -> PassageRecord:  # noqa: B008
    """One indexed passage by the ``chunk_id`` that evidence carries."""
    return operations.get_passage(chunk_id, settings)


@router.get("/references/{number}", response_model=ReferenceRecord)
def get_reference(number: int, settings: Settings = Depends(current_settings)) -> ReferenceRecord:  # noqa: B008
    """A reference number: its reference-list entry and what the corpus holds of the paper."""
    return operations.get_reference(number, settings)


@router.get("/stats", response_model=IndexStats)
def get_stats(settings: Settings = Depends(current_settings)) -> IndexStats:  # noqa: B008
    """Sources, passages, reference numbers covered and size of the index (as `exorag stats --json`)."""
    return operations.stats(settings)


@router.get("/coverage", response_model=CoverageReport)
def get_coverage(settings: Settings = Depends(current_settings)) -> CoverageReport:  # noqa: B008
    """For each reference number the review cites: full text, abstract or nothing in the corpus."""
    return operations.coverage(settings)


def describe_error(error: dict) -> str:
    """``body.k: Input should be a valid integer`` or ``body: invalid JSON at character 12 (...)``."""
    location = [str(part) for part in error.get("loc", ())]
    context = error.get("ctx") or {}
    if error.get("type") == "json_invalid":
        return f"body: invalid JSON at character {location[-1]} ({context.get('error', error['msg'])})"
    return f"{'.'.join(location)}: {error['msg']}"


def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    """422 with FastAPI's per-field ``detail`` and an OpenAI-style ``error`` that names the first field."""
    # The input is echoed back: a lone surrogate in it ("\udc80" in the JSON), bytes that are not
    # UTF-8 (a body sent without a JSON content type) or NaN/Infinity could not be encoded.
    echoed = jsonable_encoder(error.errors(), custom_encoder={Exception: str, bytes: lambda b: b.decode("utf-8", "replace")})
    details = json.loads(well_formed(json.dumps(echoed, ensure_ascii=False)), parse_constant=str)
    messages = [describe_error(detail) for detail in details]
    first = details[0] if details else {}
    param = None if first.get("type") == "json_invalid" else ".".join(str(p) for p in first.get("loc", ())[1:]) or None
    return JSONResponse(status_code=422, content={
        "detail": details,
        "error": {"message": "; ".join(messages), "type": "invalid_request_error", "param": param, "code": None},
    })


def unavailable(request: Request, error: Exception) -> JSONResponse:
    log.warning("%s: %s", request.url.path, error)
    return JSONResponse(status_code=503, content=error_content(str(error), "server_error"))


def not_found(request: Request, error: NotFound) -> JSONResponse:
    return JSONResponse(status_code=404, content=error_content(str(error), "invalid_request_error"))


def refused(request: Request, error: StarletteHTTPException) -> JSONResponse:
    """A refusal the routes raise (401 without the right token), in the same two shapes."""
    kind = "authentication_error" if error.status_code == 401 else "invalid_request_error"
    return JSONResponse(status_code=error.status_code, content=error_content(str(error.detail), kind), headers=error.headers)


def error_content(message: str, kind: str) -> dict:
    """FastAPI's ``detail`` and, for OpenAI clients, which show only an ``error`` object, the same message."""
    return {"detail": message, "error": {"message": message, "type": kind, "param": None, "code": None}}


def build_app(settings: Settings, bound_to: str | None = None) -> FastAPI:
    """The API for the index and corpus in ``settings``. Served on a loopback address (``bound_to``),
    it answers only requests addressed to a loopback name: a web page that points its own name at
    127.0.0.1 (DNS rebinding) could otherwise read the corpus through the user's browser."""
    from exorag.api.openai_compat import router as openai_router

    app = FastAPI(
        title="exorag API",
        description="Cited answers from a review and its literature. Every route under /v1 takes the bearer token "
                    "EXORAG_API_TOKEN when the server sets one.",
        middleware=[*(loopback_host_check(bound_to, settings.allowed_hosts) if bound_to is not None else []),
                    Middleware(BodyLimit, limit=operations.MAX_BODY_BYTES)],
    )
    app.state.settings = settings
    app.include_router(router)
    app.include_router(openai_router, dependencies=[Depends(require_token)])
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(NotFound, not_found)
    app.add_exception_handler(StarletteHTTPException, refused)  # the routes' 401s, and 404/405 of unknown routes
    app.add_exception_handler(StoreUnavailable, unavailable)
    app.add_exception_handler(LLMUnavailable, unavailable)
    app.add_exception_handler(ChromaError, unavailable)

    @app.get("/healthz")
    def healthz() -> dict[str, str | int]:
        """Liveness and the number of passages indexed (no token needed)."""
        return {"status": "ok", "passages": len(get_pipeline(settings).index.lexical.ids)}

    return app


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Load the model and index, then serve the API until interrupted."""
    import uvicorn

    get_pipeline(settings)
    uvicorn.run(build_app(settings, bound_to=host), host=host, port=port, log_level="info")
