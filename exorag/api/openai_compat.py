"""``POST /v1/chat/completions`` with ``model: "exorag"``: any OpenAI client can use exorag as a model.

The reply's ``content`` is the Answer's text with its citation ranges (after the verdict of a yes/no
question and the papers behind it), then a ``Sources:`` block (one line per cited passage, then the
cited references) for clients that show only text. The message's
``annotations`` are OpenAI's ``url_citation`` objects: one per cited passage of each sentence, spanning
that sentence's citation range in ``content`` and linking to ``/v1/passages/{chunk_id}``. The whole
Answer JSON rides in the extra top-level field ``exorag`` (in the last chunk when streaming).

Streaming sends the verified answer, never the draft: a text-only client cannot take back a
sentence that verification drops, so the text arrives once the answer is checked.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from typing import Literal

from chromadb.errors import ChromaError
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from exorag.api.app import EVENT_STREAM, current_settings, sse
from exorag.api.operations import MAX_HISTORY_TURNS, MAX_TURN_CHARACTERS, AskRequest, ask
from exorag.config import Settings
from exorag.generate.llm import LLMUnavailable
from exorag.models import Answer
from exorag.store.chroma import StoreUnavailable
from exorag.text import well_formed
from exorag.verdict import VERDICT_LABELS

MODEL = "exorag"
router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"])


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None

    @property
    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(part.text for part in self.content if part.type == "text" and part.text)
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool | None = None


class ChatRequest(BaseModel):
    """OpenAI's chat request; the last user message is the question, earlier turns the history.
    Sampling and length settings (temperature, stop, max_tokens, ...) are accepted and ignored: an
    answer is as long as its verified sentences. A tool call or JSON output that the request
    requires is refused, since exorag answers in cited prose only."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(description='"exorag"')
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool | None = Field(None, description="server-sent chunks (false or null: one reply)")
    stream_options: StreamOptions | None = None
    n: int | None = Field(None, ge=1, le=1, description="one answer a question (1 or null): exorag's answer to it is one")
    tool_choice: str | dict | None = None
    function_call: str | dict | None = None
    response_format: dict | None = None


def required_output(chat: ChatRequest) -> tuple[str, str] | None:
    """The field of ``chat`` that requires output exorag cannot give, and why, or None. A request
    that lists tools and lets the model choose ("auto") is answered in prose, as a model may."""
    if chat.tool_choice == "required" or isinstance(chat.tool_choice, dict):
        return "tool_choice", "tool_choice: exorag answers in cited prose and calls no tools; leave tool_choice at \"auto\" or \"none\""
    if isinstance(chat.function_call, dict):
        return "function_call", "function_call: exorag answers in cited prose and calls no functions"
    kind = (chat.response_format or {}).get("type")
    if kind not in (None, "text"):
        return "response_format", f"response_format: exorag answers in cited prose, not {kind}; use \"text\""
    return None


class UrlCitation(BaseModel):
    start_index: int
    end_index: int
    url: str
    title: str


class Annotation(BaseModel):
    type: Literal["url_citation"] = "url_citation"
    url_citation: UrlCitation


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    refusal: None = None
    annotations: list[Annotation] = Field(default_factory=list)


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    logprobs: None = None
    finish_reason: Literal["stop"] = "stop"


class Usage(BaseModel):
    """Counts for a client's bookkeeping. exorag has no tokenizer of its own: a word or a punctuation
    mark counts as one token."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


def usage(chat: ChatRequest, content: str) -> Usage:
    prompt = sum(_token_count(message.text) for message in chat.messages)
    completion_tokens = _token_count(content)
    return Usage(prompt_tokens=prompt, completion_tokens=completion_tokens, total_tokens=prompt + completion_tokens)


def _token_count(text: str) -> int:
    return len(re.findall(r"\w+|[^\w\s]", text))


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str = MODEL
    choices: list[Choice]
    usage: Usage
    exorag: Answer = Field(description="the full Answer JSON: sentences, evidence, references, verdicts")


class ModelCard(BaseModel):
    id: str = MODEL
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "exorag"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard] = Field(default_factory=lambda: [ModelCard()])


def openai_error(status: int, message: str, param: str | None, code: str | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={
        "error": {"message": message, "type": "invalid_request_error", "param": param, "code": code},
    })


def ask_request(chat: ChatRequest) -> AskRequest | str:
    """The question and history of a chat, or why the chat holds no question."""
    turns = [m for m in chat.messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user" or not turns[-1].text.strip():
        return "messages: the last user or assistant message must be a user message with text"
    history = [(asked.text, replied.text) for asked, replied in zip(turns, turns[1:])
               if asked.role == "user" and replied.role == "assistant"]
    try:
        # A chat client sends the whole conversation, a long paste included, on every turn; the chain
        # reads only the last turn's beginning, so no earlier turn may make the conversation invalid
        # (a lone surrogate in one, from a string cut inside an emoji, is read as U+FFFD).
        history = [(well_formed(asked[:MAX_TURN_CHARACTERS]), well_formed(replied[:MAX_TURN_CHARACTERS]))
                   for asked, replied in history[-MAX_HISTORY_TURNS:]]
        return AskRequest(question=turns[-1].text.strip(), history=history)
    except ValidationError as error:  # text that is no Unicode: a lone surrogate's JSON escape
        return f"messages: {error.errors()[0]['msg']}"


def sources_block(answer: Answer) -> str:
    """Plain-text footnotes: each cited passage with its citation and file, then the references."""
    cited_ids = dict.fromkeys(i for s in answer.sentences for i in s.evidence_ids)
    lines = []
    for evidence_id in cited_ids:
        evidence = answer.evidence_by_id(evidence_id)
        if evidence is None:
            continue
        citation = next(s.citation for s in answer.sentences if evidence_id in s.evidence_ids)
        page = f", p. {evidence.printed_page}" if evidence.page is not None else ""
        lines.append(f"- {citation} {evidence.source_label}: {evidence.source_path}{page}")
    for reference in answer.references:
        doi = f" https://doi.org/{reference.doi}" if reference.doi else ""
        lines.append(f"- [{reference.number}] {reference.citation}{doi}".rstrip())
    if lines and answer.basis_note:
        lines.append(answer.basis_note)
    return "\n\nSources:\n" + "\n".join(lines) if lines else ""


def annotations(answer: Answer, passage_url: str, offset: int = 0) -> list[Annotation]:
    """One url_citation per cited passage of each sentence, spanning its citation range in the text
    (which starts ``offset`` characters into the reply)."""
    found: list[Annotation] = []
    cursor = 0
    for sentence in answer.sentences:
        start = answer.answer.find(sentence.citation, cursor)
        if start < 0:
            continue
        cursor = start + len(sentence.citation)
        for evidence_id in sentence.evidence_ids:
            evidence = answer.evidence_by_id(evidence_id)
            if evidence is not None:
                found.append(Annotation(url_citation=UrlCitation(
                    start_index=offset + start, end_index=offset + cursor, url=passage_url + evidence.chunk_id,
                    title=evidence.source_label,
                )))
    return found


def verdict_line(answer: Answer) -> str:
    """A yes/no answer's verdict and the papers behind it ("Yes ([13-16])."), put first as the other views put it."""
    if answer.abstained or not answer.verdict:
        return ""
    tally = f" ({answer.verdict_tally})" if answer.verdict_tally else ""
    return f"{VERDICT_LABELS[answer.verdict]}{tally}.\n\n"


def completion(answer: Answer, passage_url: str, chat: ChatRequest) -> ChatCompletion:
    lead = verdict_line(answer)
    content = answer.answer if answer.abstained else lead + answer.answer + sources_block(answer)
    # Clients that show only the content must still learn that a source was withheld, as the other views say.
    if answer.held_back_note:
        content += "\n\n" + answer.held_back_note
    message = AssistantMessage(content=content, annotations=[] if answer.abstained else annotations(answer, passage_url, len(lead)))
    return ChatCompletion(id=f"chatcmpl-{uuid.uuid4().hex}", created=int(time.time()), choices=[Choice(message=message)],
                          usage=usage(chat, content), exorag=answer)


def chunk(completion_id: str, created: int, delta: dict, finish_reason: str | None = None, **extra) -> dict:
    return {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": MODEL,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}], **extra}


def completion_events(request: AskRequest, settings: Settings, passage_url: str, chat: ChatRequest) -> Iterator[str]:
    """The role first (so the client knows the reply has begun), the checked text a word at a time,
    then a last chunk with the annotations and the Answer; asked to include usage, every chunk has
    ``usage: null`` and one more, with no choices, carries it."""
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    counted = bool(chat.stream_options and chat.stream_options.include_usage)
    extra: dict = {"usage": None} if counted else {}
    yield sse(chunk(completion_id, created, {"role": "assistant", "content": ""}, **extra))
    try:
        result = completion(ask(request, settings), passage_url, chat)
    except (StoreUnavailable, LLMUnavailable, ChromaError) as error:
        yield sse({"error": {"message": str(error), "type": "server_error", "param": None, "code": None}})
        return
    message = result.choices[0].message
    for word in re.split(r"(?<=\s)(?=\S)", message.content):
        yield sse(chunk(completion_id, created, {"content": word}, **extra))
    final = {"annotations": [a.model_dump() for a in message.annotations]}
    yield sse(chunk(completion_id, created, final, "stop", exorag=result.exorag.model_dump(mode="json"), **extra))
    if counted:
        yield sse({**chunk(completion_id, created, {}), "choices": [], "usage": result.usage.model_dump()})
    yield "data: [DONE]\n\n"


@router.get("/models", response_model=ModelList)
def list_models() -> ModelList:
    """The one model this server offers, ``exorag`` (OpenAI clients and Open WebUI ask for the list)."""
    return ModelList()


@router.get("/models/{model_id}", response_model=ModelCard)
def retrieve_model(model_id: str):
    """The model ``exorag`` (clients check a configured model by its id)."""
    if model_id != MODEL:
        return openai_error(404, f"model: {model_id!r} is not served here; use {MODEL!r}", "model", "model_not_found")
    return ModelCard()


@router.post("/chat/completions", response_model=ChatCompletion, responses={200: {"content": {EVENT_STREAM: {}}}})
def chat_completions(chat: ChatRequest, request: Request, settings: Settings = Depends(current_settings)):  # noqa: B008
    """OpenAI's chat completion with ``model: "exorag"``: a cited answer to the last user message."""
    if chat.model != MODEL:
        return openai_error(404, f"model: {chat.model!r} is not served here; use {MODEL!r}", "model", "model_not_found")
    refused = required_output(chat)
    if refused is not None:  # what OpenAI answers a model that lacks the feature, rather than prose the client cannot read
        field, message = refused
        return openai_error(400, message, field, "unsupported_parameter")
    question = ask_request(chat)
    if isinstance(question, str):
        return openai_error(422, question, "messages")
    passage_url = f"{request.base_url}v1/passages/"
    if chat.stream:
        return StreamingResponse(completion_events(question, settings, passage_url, chat), media_type=EVENT_STREAM,
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    return completion(ask(question, settings), passage_url, chat)
