"""The MCP server (``exorag mcp``), driven by the MCP SDK's own client over stdio and streamable HTTP."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import httpx
import pytest
from api_corpus import RECEPTOR_QUESTION, build_api_corpus, free_port
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from exorag.api.operations import MAX_QUESTION_CHARACTERS, ClaimCheck, PassageRecord, ReferenceRecord, SearchResult
from exorag.config import Settings
from exorag.models import Answer
from exorag.refs.status import CoverageReport

TOOLS = {"ask", "search_passages", "get_passage", "get_reference", "audit_claim", "coverage"}


@pytest.fixture(scope="module")
def mcp_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return build_api_corpus(tmp_path_factory.mktemp("mcp"))


def command(settings: Settings, *extra: str) -> list[str]:
    return ["-m", "exorag.cli", "mcp", "--index", str(settings.index), "--corpus", str(settings.corpus), *extra]


async def exercise_every_tool(client: Client) -> None:
    """List the tools, then call each one and check its structured result against its model."""
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    assert all(tool.output_schema and tool.input_schema["type"] == "object" for tool in tools.values())
    assert tools["ask"].input_schema["required"] == ["question"]
    assert set(tools["ask"].output_schema["properties"]) == set(Answer.model_fields)

    asked = await client.call_tool("ask", {"question": RECEPTOR_QUESTION})
    assert not asked.is_error
    answer = Answer.model_validate(asked.structured_content)
    assert not answer.abstained and "EGFRvIII" in answer.answer and {n for s in answer.sentences for n in s.refs}

    found = await client.call_tool("search_passages", {"query": "EGFRvIII microvesicles", "k": 2,
                                                       "source_kind": "literature"})
    search = SearchResult.model_validate(found.structured_content)
    assert 1 <= len(search.passages) <= 2 and all(p.refs == [59] for p in search.passages)

    chunk_id = answer.evidence[0].chunk_id
    passage = PassageRecord.model_validate((await client.call_tool("get_passage", {"chunk_id": chunk_id})).structured_content)
    assert passage.passage.chunk_id == chunk_id and passage.passage.text == answer.evidence[0].text

    reference = ReferenceRecord.model_validate((await client.call_tool("get_reference", {"number": 59})).structured_content)
    assert reference.reference.doi == "10.1038/ncb1725" and reference.coverage.holding == "full_text"

    claim = "Glioma cells lacking EGFRvIII activate MAPK and AKT signalling after merging with EGFRvIII microvesicles."
    checked = ClaimCheck.model_validate((await client.call_tool("audit_claim", {"claim": claim})).structured_content)
    best = checked.suggestions[0]
    assert best.ref == 59 and best.verdict == "supported" and "MAPK" in best.evidence
    assert best.passage.passage.source_path.endswith("59_al-nedawi2008.txt")

    report = CoverageReport.model_validate((await client.call_tool("coverage", {})).structured_content)
    assert {row.number for row in report.rows} >= {58, 59, 61}

    missing = await client.call_tool("get_passage", {"chunk_id": "no-such-chunk"})
    assert missing.is_error and "no-such-chunk" in missing.content[0].text
    wrong = await client.call_tool("ask", {"question": RECEPTOR_QUESTION, "k": "many"})
    assert wrong.is_error and "k" in wrong.content[0].text
    # Thousands of refs crashed the server inside the vector store; they are refused, naming the argument.
    too_many = await client.call_tool("search_passages", {"query": "EGFRvIII", "refs": list(range(1, 10_001))})
    assert too_many.is_error and "refs" in too_many.content[0].text
    # Every text argument states its bound, and one past it is refused naming the argument, not a crash.
    for tool, argument in (("ask", "question"), ("search_passages", "query"), ("audit_claim", "claim")):
        assert tools[tool].input_schema["properties"][argument]["maxLength"] == MAX_QUESTION_CHARACTERS
        refused = await client.call_tool(tool, {argument: "x" * (MAX_QUESTION_CHARACTERS + 1)})
        assert refused.is_error and argument in refused.content[0].text, refused.content[0].text


def test_every_tool_over_stdio(mcp_settings):
    server = StdioServerParameters(command=sys.executable, args=command(mcp_settings), env=dict(os.environ))

    async def session() -> None:
        async with Client(server, read_timeout_seconds=300) as client:
            await exercise_every_tool(client)

    asyncio.run(session())


def test_every_tool_over_streamable_http(mcp_settings):
    port = free_port()
    process = subprocess.Popen([sys.executable, *command(mcp_settings, "--http", "--port", str(port))],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline, "exorag mcp --http did not start"
            try:
                httpx.get(f"http://127.0.0.1:{port}/mcp")
                break
            except httpx.ConnectError:
                time.sleep(0.5)

        async def session() -> None:
            async with Client(f"http://127.0.0.1:{port}/mcp", read_timeout_seconds=300) as client:
                await exercise_every_tool(client)

        asyncio.run(session())
    finally:
        process.terminate()
        process.wait(timeout=30)
