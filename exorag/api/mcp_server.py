"""The MCP server (``exorag mcp``): exorag's cited answers and passages as tools an agent can call.

Each tool calls ``exorag.api.operations`` and returns its pydantic model: the SDK publishes the
model's JSON schema as the tool's output schema and sends the result as structured content (with
the same JSON as text for clients that read only text). Served over stdio, or over streamable HTTP
at ``http://HOST:PORT/mcp``.
"""

from __future__ import annotations

from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field, ValidationError

from exorag.api import operations
from exorag.api.operations import (
    AskRequest,
    Claim,
    ClaimCheck,
    NotFound,
    OnlyKind,
    OnlyRefs,
    OnlySections,
    PassageRecord,
    Passages,
    Query,
    Question,
    ReferenceRecord,
    SearchRequest,
    SearchResult,
)
from exorag.chain import get_pipeline
from exorag.config import Settings
from exorag.generate.llm import LLMUnavailable
from exorag.models import Answer
from exorag.refs.status import CoverageReport
from exorag.store.chroma import StoreUnavailable

INSTRUCTIONS = (
    "exorag answers questions from an indexed review and the papers it cites. `ask` gives an answer whose every "
    "sentence carries the citation range of its evidence (bracketed reference numbers such as [170-172]), or "
    "abstains with a reason; quote citations as given. `search_passages` finds passages without writing an answer; "
    "`get_passage` and `get_reference` look up a chunk_id or a reference number; `audit_claim` finds the papers "
    "that support a sentence of your own; `coverage` lists which cited papers the corpus holds."
)


def build_server(settings: Settings) -> MCPServer:
    """The tools over the index and corpus in ``settings``."""
    server = MCPServer("exorag", instructions=INSTRUCTIONS)

    def call(operation, *args):
        try:
            return operation(*args, settings)
        except (NotFound, StoreUnavailable, LLMUnavailable) as error:
            raise ToolError(str(error)) from error
        except ValidationError as error:  # an argument the tool's schema let through: say which and why
            raise ToolError("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())) from error

    @server.tool()
    def ask(question: Question, k: Passages = None, source_kind: OnlyKind = None, sections: OnlySections = None,
            refs: OnlyRefs = None) -> Answer:
        """A cited answer from the indexed literature: sentences with citation ranges, the evidence they rest
        on, the cited references, or an abstention with its reason."""
        request = AskRequest(question=question, k=k, source_kind=source_kind, sections=sections, refs=refs)
        return call(operations.ask, request)

    @server.tool()
    def search_passages(query: Query,
                        k: Passages = None, source_kind: OnlyKind = None, sections: OnlySections = None,
                        refs: OnlyRefs = None) -> SearchResult:
        """The passages an answer would rest on, best first, with scores and metadata; no answer is written."""
        request = SearchRequest(query=query, k=k, source_kind=source_kind, sections=sections, refs=refs)
        return call(operations.search_passages, request)

    @server.tool()
    def get_passage(chunk_id: Annotated[str, Field(min_length=1, description="an evidence item's chunk_id")]
                    ) -> PassageRecord:
        """One indexed passage with its source, section, page, character span and reference numbers."""
        return call(operations.get_passage, chunk_id)

    @server.tool()
    def get_reference(number: Annotated[int, Field(ge=0, description="a reference number the review cites")]
                      ) -> ReferenceRecord:
        """A reference number: its reference-list entry (citation, DOI) and what the corpus holds of the paper."""
        return call(operations.get_reference, number)

    @server.tool()
    def audit_claim(claim: Claim) -> ClaimCheck:
        """The papers of the corpus that support a sentence of your own, best first, each with its verdict
        (supported, partial, contradicted, not_found) and the passage it rests on."""
        return call(operations.audit_claim, claim)

    @server.tool()
    def coverage() -> CoverageReport:
        """For every reference number the review cites: full text, abstract or nothing in the corpus, with the
        review sections that cite it."""
        return call(operations.coverage)

    return server


def serve(settings: Settings, http: bool = False, host: str = "127.0.0.1", port: int = 8001) -> None:
    """Load the model and index, then serve MCP over stdio, or streamable HTTP at ``/mcp``."""
    get_pipeline(settings)
    server = build_server(settings)
    if http:
        server.run("streamable-http", host=host, port=port)
    else:
        server.run("stdio")
