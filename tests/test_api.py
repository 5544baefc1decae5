"""The REST API (``exorag api``), served by uvicorn on a loopback port and called with httpx."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from api_corpus import RECEPTOR_QUESTION, REFERENCES, build_api_corpus, free_port, serving

from exorag.api.app import build_app
from exorag.config import Settings
from exorag.models import Answer

TOKEN = "test-token-6d1f"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CITATION = re.compile(r"\[\d+(?:\s*[-–—,]\s*\d+)*\]")
QUESTIONS = [
    RECEPTOR_QUESTION,
    "Which microRNA do hypoxic liver cancer cells put into their exosomes?",
    "What does exosomal miR-21 do to PTEN?",
    "Which integrins send melanoma exosomes to the liver?",
    "How do tumour exosomes switch off T cells?",
]


@pytest.fixture(scope="module")
def api_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = build_api_corpus(tmp_path_factory.mktemp("api"))
    return settings.model_copy(update={"api_token": TOKEN})


@pytest.fixture(scope="module")
def api(api_settings: Settings):
    with serving(build_app(api_settings)) as url, httpx.Client(base_url=url, headers=AUTH, timeout=300) as client:
        yield client


def url_of(api: httpx.Client, path: str) -> str:
    """The full URL of ``path`` on the API's server, for requests without the client's token."""
    return str(api.base_url).rstrip("/") + path


def sse_events(response: httpx.Response) -> list[tuple[str, dict]]:
    """(event, data) pairs of a server-sent event stream."""
    events, name = [], "message"
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            events.append((name, json.loads(line.removeprefix("data: "))))
            name = "message"
    return events


def test_answer_returns_the_answer_json_with_citations_and_references(api):
    response = api.post("/v1/answer", json={"question": RECEPTOR_QUESTION})
    assert response.status_code == 200, response.text
    result = Answer.model_validate(response.json())
    assert not result.abstained and "EGFRvIII" in result.answer
    assert CITATION.search(result.answer) and all(CITATION.fullmatch(s.citation) for s in result.sentences)
    cited = {n for s in result.sentences for n in s.refs}
    assert cited & {59, 61}
    listed = {r.number: r.doi for r in REFERENCES}
    assert {r.number: r.doi for r in result.references} == {n: listed[n] for n in cited if n in listed}


def test_answer_streams_draft_tokens_then_the_same_answer(api):
    plain = api.post("/v1/answer", json={"question": RECEPTOR_QUESTION}).json()
    for request in ({"json": {"question": RECEPTOR_QUESTION, "stream": True}},
                    {"json": {"question": RECEPTOR_QUESTION}, "headers": {"Accept": "text/event-stream"}}):
        with api.stream("POST", "/v1/answer", **request) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = sse_events(response)
        kinds = [kind for kind, _ in events]
        assert kinds[-1] == "answer" and kinds.count("answer") == 1 and "token" in kinds
        assert "EGFRvIII" in "".join(data["text"] for kind, data in events if kind == "token")
        streamed = Answer.model_validate(events[-1][1])
        assert streamed.answer == plain["answer"] and streamed.sentences == Answer.model_validate(plain).sentences


def test_a_client_that_accepts_json_as_well_as_events_gets_json(api):
    # MCP and other HTTP clients send both; events are for a client that prefers them.
    for accept, streamed in (("application/json, text/event-stream", False), ("text/event-stream;q=0.1, application/json", False),
                             ("text/event-stream, application/json;q=0.5", True)):
        response = api.post("/v1/answer", json={"question": RECEPTOR_QUESTION}, headers={"Accept": accept})
        assert response.headers["content-type"].startswith("text/event-stream") is streamed, accept


def test_a_search_with_no_word_to_look_for_is_a_422_not_six_passages(api):
    for query in ("   ", "???", "\u0000", "the"):
        response = api.post("/v1/search", json={"query": query})
        assert response.status_code == 422 and response.json()["error"]["param"] == "query", query
    assert api.post("/v1/search", json={"query": "EGFRvIII"}).json()["passages"]


def test_search_returns_scored_passages_and_honours_filters(api):
    response = api.post("/v1/search", json={"query": "glioblastoma EGFRvIII receptor transfer", "k": 3})
    assert response.status_code == 200, response.text
    passages = response.json()["passages"]
    assert 1 <= len(passages) <= 3 and any("EGFRvIII" in p["text"] for p in passages)
    assert all(p["chunk_id"] and p["source_path"] and isinstance(p["score"], float) for p in passages)
    papers = api.post("/v1/search", json={"query": "EGFRvIII microvesicles", "source_kind": "literature"}).json()
    assert papers["passages"] and {p["source_kind"] for p in papers["passages"]} == {"literature"}
    assert all(p["refs"] == [59] for p in papers["passages"])


def test_a_passage_and_a_reference_are_looked_up_by_id_and_number(api):
    evidence = api.post("/v1/answer", json={"question": RECEPTOR_QUESTION}).json()["evidence"][0]
    passage = api.get(f"/v1/passages/{evidence['chunk_id']}")
    assert passage.status_code == 200
    assert passage.json()["passage"]["text"] == evidence["text"]
    assert passage.json()["source_label"] == evidence["source_label"]

    reference = api.get("/v1/references/59").json()
    assert reference["reference"]["doi"] == "10.1038/ncb1725"
    assert reference["coverage"]["holding"] == "full_text"
    assert [f["path"] for f in reference["coverage"]["files"]] == ["literature/59_al-nedawi2008.txt"]
    cited_only = api.get("/v1/references/58").json()  # cited by the review, not in references.jsonl
    assert cited_only["reference"] is None and cited_only["coverage"]["holding"] == "nothing"


def test_unknown_passages_and_references_are_404s_that_say_what_is_missing(api):
    missing = api.get("/v1/passages/no-such-chunk")
    assert missing.status_code == 404 and "no-such-chunk" in missing.json()["detail"]
    unknown = api.get("/v1/references/99999")
    assert unknown.status_code == 404 and "99999" in unknown.json()["detail"]


def test_stats_coverage_and_health(api, api_settings):
    stats = api.get("/v1/stats").json()
    assert stats["chunks"] > 0 and stats["source_count"] == 2
    assert {s["path"] for s in stats["sources"]} >= {"literature/59_al-nedawi2008.txt"}
    coverage = api.get("/v1/coverage").json()
    assert {row["number"] for row in coverage["rows"]} >= {58, 59, 61}
    health = httpx.get(url_of(api, "/healthz"))  # no token
    assert health.status_code == 200 and health.json() == {"status": "ok", "passages": stats["chunks"]}


@pytest.mark.parametrize("path, body", [("/v1/answer", {"question": "x"}), ("/v1/search", {"query": "x"}),
                                        ("/v1/chat/completions", {"model": "exorag", "messages": []})])
def test_a_missing_or_wrong_token_is_refused_with_401(api, path, body):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic dXNlcjpwYXNz"}):
        response = httpx.post(url_of(api, path), json=body, headers=headers)
        assert response.status_code == 401, (headers, response.text)
        assert response.headers["www-authenticate"] == "Bearer" and "token" in response.json()["detail"]
    assert httpx.get(url_of(api, "/v1/stats"), headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_without_a_token_setting_the_api_is_open(api_settings):
    with serving(build_app(api_settings.model_copy(update={"api_token": None}))) as url:
        response = httpx.post(f"{url}/v1/search", json={"query": "hypoxia"}, timeout=120)
    assert response.status_code == 200 and response.json()["passages"]


def test_served_on_loopback_it_answers_only_requests_addressed_to_a_loopback_name(api_settings):
    # A reverse proxy on this machine passing its own name is let in by EXORAG_ALLOWED_HOSTS.
    settings = api_settings.model_copy(update={"api_token": None, "allowed_hosts": ("exorag.lab.example",)})
    with serving(build_app(settings, bound_to="127.0.0.1")) as url:
        # What a page does after pointing its own name at 127.0.0.1 (DNS rebinding): its Host is its own name.
        rebound = httpx.post(f"{url}/v1/search", json={"query": "hypoxia"}, headers={"Host": "attacker.example"})
        local = httpx.post(f"{url}/v1/search", json={"query": "hypoxia"}, timeout=120)
        named = [httpx.get(f"{url}/healthz", headers={"Host": host}, timeout=120).status_code
                 for host in ("localhost:8000", "[::1]:8000", "exorag.lab.example")]
    assert rebound.status_code == 400 and "passages" not in rebound.text
    assert local.status_code == 200 and local.json()["passages"] and named == [200, 200, 200]


def test_malformed_json_is_a_422_that_says_where(api):
    response = api.post("/v1/answer", content=b'{"question": "What is miR-21?", ', headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    body = response.json()
    assert body["detail"][0]["type"] == "json_invalid"
    assert body["error"]["message"].startswith("body: invalid JSON at character") and body["error"]["param"] is None


@pytest.mark.parametrize(("path", "content", "param"), [
    ("/v1/answer", b'{"question": NaN}', "question"),
    ("/v1/answer", b'{"question": "What is miR-21?", "k": 1e400}', "k"),
    ("/v1/answer", b'{"question": "What is miR-21?", "refs": [Infinity]}', "refs.0"),
    ("/v1/search", b'{"query": "exosome", "k": NaN}', "k"),
    ("/v1/chat/completions", b'{"model": "exorag", "messages": [{"role": "user", "content": -Infinity}]}', "messages.0.content.str"),
])
def test_nan_and_infinity_in_the_json_are_a_422_naming_the_field(api, path, content, param):
    # Python's JSON parser takes them; echoed back in the error, they once made it a 500.
    response = api.post(path, content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["param"] == param


def test_a_body_in_latin_1_without_a_json_content_type_is_refused_not_a_500(api):
    for path in ("/v1/answer", "/v1/search", "/v1/chat/completions"):
        for headers in ({}, {"Content-Type": "text/plain"}, {"Content-Type": "application/octet-stream"}):
            response = api.post(path, content='{"question": "café exosomes?"}'.encode("latin-1"), headers=headers)
            assert 400 <= response.status_code < 500, (path, headers, response.text)


def test_a_lone_surrogate_escaped_in_the_json_is_a_422_naming_the_field(api):
    # "\\udc80" is a JSON escape for a lone surrogate, which is no Unicode text; the error echoes
    # the input back, and UTF-8 cannot encode it as it came.
    body = b'{"question": "How do tumour exosomes \\udc80 switch off T cells?"}'
    chat = b'{"model": "exorag", "messages": [{"role": "user", "content": "Why \\udc80?"}]}'
    for path, content in (("/v1/answer", body), ("/v1/search", body), ("/v1/chat/completions", chat)):
        response = api.post(path, content=content, headers={"Content-Type": "application/json"})
        assert response.status_code == 422, (path, response.text)
    response = api.post("/v1/answer", content=body, headers={"Content-Type": "application/json"})
    assert response.json()["error"]["param"] == "question"
    assert response.json()["detail"][0]["input"] == "How do tumour exosomes \ufffd switch off T cells?"
    response = api.post("/v1/chat/completions", content=chat, headers={"Content-Type": "application/json"})
    assert response.json()["error"]["param"] == "messages" and "unicode" in response.json()["error"]["message"]


def test_an_unconfigured_llm_generator_is_a_503_that_says_what_to_set(api_settings):
    settings = api_settings.model_copy(update={"api_token": None, "llm_base_url": None, "llm_gguf": None})
    with serving(build_app(settings)) as url:
        plain = httpx.post(f"{url}/v1/answer", json={"question": RECEPTOR_QUESTION, "generator": "llm"}, timeout=120)
        with httpx.stream("POST", f"{url}/v1/answer", json={"question": RECEPTOR_QUESTION, "generator": "llm",
                                                             "stream": True}, timeout=120) as streamed:
            events = sse_events(streamed)
    assert plain.status_code == 503 and "EXORAG_LLM_BASE_URL" in plain.json()["detail"]
    assert events[-1][0] == "error" and "EXORAG_LLM_BASE_URL" in events[-1][1]["detail"]


@pytest.mark.parametrize("body, field", [
    ({"question": "What is miR-21?", "k": "many"}, "k"),
    ({"question": "What is miR-21?", "k": 0}, "k"),
    ({"question": 42}, "question"),
    ({"question": ""}, "question"),
    ({}, "question"),
    ({"question": "What is miR-21?", "source_kind": "blog"}, "source_kind"),
    ({"question": "What is miR-21?", "refs": ["fifty"]}, "refs.0"),
    ({"question": "What is miR-21?", "passages": 3}, "passages"),
    # Each ref and section is a clause of the vector store's query: thousands of them crashed the server.
    ({"question": "What is miR-21?", "refs": list(range(1, 10_001))}, "refs"),
    ({"question": "What is miR-21?", "sections": [f"s{i}" for i in range(50_000)]}, "sections"),
    ({"question": "What is miR-21?", "refs": [0]}, "refs.0"),
    ({"question": "What is miR-21?", "refs": [2**63]}, "refs.0"),
    ({"question": "x" * 20_001}, "question"),
    ({"question": "What is miR-21?", "history": [["q", "a"]] * 51}, "history"),
])
def test_a_wrong_field_is_a_422_naming_it(api, body, field):
    response = api.post("/v1/answer", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["param"] == field and error["message"].startswith(f"body.{field}: ")


def test_a_body_over_the_limit_is_a_413_before_it_is_read_whether_its_length_is_declared_or_not(api):
    body = json.dumps({"question": "What is miR-21?", "history": [["x" * 1000, "y" * 1000]] * 3000}).encode()
    declared = api.post("/v1/answer", content=body, headers={"Content-Type": "application/json"})
    assert declared.status_code == 413 and declared.json()["detail"] == "request body over 5 MB"
    assert declared.json()["error"]["message"] == "request body over 5 MB"  # what OpenAI clients show
    chunked = api.post("/v1/answer", content=iter([body[i:i + 65536] for i in range(0, len(body), 65536)]),
                       headers={"Content-Type": "application/json"})
    assert chunked.status_code == 413
    # A body under the limit sent in chunks is read whole and answered.
    small = json.dumps({"question": "What is miR-21?"}).encode()
    assert api.post("/v1/answer", content=iter([small[:10], small[10:]]),
                    headers={"Content-Type": "application/json"}).status_code == 200


def test_a_non_numeric_reference_is_a_422_naming_the_path_parameter(api):
    response = api.get("/v1/references/fifty-nine")
    assert response.status_code == 422 and response.json()["error"]["param"] == "number"


def test_openapi_schema_is_the_answer_model_and_docs_are_served(api):
    schema = api.get("/openapi.json").json()
    published = schema["components"]["schemas"]["Answer"]["properties"]
    assert set(published) == set(Answer.model_fields)
    answer_route = schema["paths"]["/v1/answer"]["post"]
    assert answer_route["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Answer")
    assert "text/event-stream" in answer_route["responses"]["200"]["content"]
    docs = api.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_twenty_concurrent_requests_are_all_answered(api):
    def ask(question: str) -> httpx.Response:
        return api.post("/v1/answer", json={"question": question})

    one_at_a_time = {question: ask(question).json()["answer"] for question in QUESTIONS}
    asked = [QUESTIONS[i % len(QUESTIONS)] for i in range(20)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(ask, asked))
    assert [r.status_code for r in responses] == [200] * 20
    answers = [Answer.model_validate(r.json()) for r in responses]
    assert [a.question for a in answers] == asked
    assert [a.answer for a in answers] == [one_at_a_time[question] for question in asked]
    assert sum(not a.abstained for a in answers) >= 16


def test_exorag_api_command_serves_on_loopback(api_settings):
    port = free_port()
    env = {**os.environ, "EXORAG_API_TOKEN": TOKEN}
    command = [sys.executable, "-m", "exorag.cli", "api", "--port", str(port),
               "--index", str(api_settings.index), "--corpus", str(api_settings.corpus)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline, "exorag api did not start"
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz")
                break
            except httpx.ConnectError:
                time.sleep(0.5)
        assert health.json()["status"] == "ok"
        assert httpx.get(f"http://127.0.0.1:{port}/v1/stats").status_code == 401
        stats = httpx.get(f"http://127.0.0.1:{port}/v1/stats", headers=AUTH)
        assert stats.status_code == 200 and stats.json()["chunks"] == health.json()["passages"]
    finally:
        process.terminate()
        process.wait(timeout=30)
