"""``POST /v1/chat/completions`` called by the real ``openai`` client against uvicorn on loopback."""

from __future__ import annotations

import json
import re

import httpx
import openai
import pytest
from api_corpus import RECEPTOR_QUESTION, build_api_corpus, serving

from exorag.api.app import build_app
from exorag.config import Settings
from exorag.models import Answer

TOKEN = "openai-test-token"
CITATION = re.compile(r"\[\d+(?:\s*[-–—,]\s*\d+)*\]")


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory):
    settings: Settings = build_api_corpus(tmp_path_factory.mktemp("openai")).model_copy(update={"api_token": TOKEN})
    with serving(build_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def client(server_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server_url}/v1", api_key=TOKEN, timeout=300, max_retries=0)


def ask(client: openai.OpenAI, **kwargs):
    return client.chat.completions.create(model="exorag", messages=[{"role": "user", "content": RECEPTOR_QUESTION}],
                                          **kwargs)


def test_the_reply_cites_ranges_lists_its_sources_and_carries_the_answer(client, server_url):
    completion = ask(client)
    message = completion.choices[0].message
    result = Answer.model_validate(completion.model_extra["exorag"])
    assert not result.abstained and completion.choices[0].finish_reason == "stop"
    text, sources = message.content.split("\n\nSources:\n")
    assert text == result.answer and CITATION.search(text)
    cited = [result.evidence_by_id(i) for s in result.sentences for i in s.evidence_ids]
    assert all(f"{e.source_label}: {e.source_path}" in sources for e in cited)
    assert all(f"[{r.number}] {r.citation} https://doi.org/{r.doi}" in sources for r in result.references)
    assert result.references, "the reply cites a listed reference"

    assert len(message.annotations) == sum(len(s.evidence_ids) for s in result.sentences)
    for annotation in message.annotations:
        span = message.content[annotation.url_citation.start_index:annotation.url_citation.end_index]
        assert CITATION.fullmatch(span) or span.startswith("[")
        passage = httpx.get(annotation.url_citation.url, headers={"Authorization": f"Bearer {TOKEN}"})
        assert passage.status_code == 200 and passage.json()["source_label"] == annotation.url_citation.title


def test_a_yes_no_reply_opens_with_its_verdict_and_the_papers_behind_it(client):
    completion = client.chat.completions.create(
        model="exorag", messages=[{"role": "user", "content": "Does hypoxia increase exosome release?"}])
    message = completion.choices[0].message
    result = Answer.model_validate(completion.model_extra["exorag"])
    assert result.verdict == "yes" and "[13-16]" in result.verdict_tally
    assert message.content.startswith(f"Yes ({result.verdict_tally}).\n\n{result.answer}")
    # The citation spans still point at the citations, past the verdict line.
    for annotation in message.annotations:
        assert CITATION.fullmatch(message.content[annotation.url_citation.start_index:annotation.url_citation.end_index])


def test_streaming_sends_the_same_text_and_ends_with_the_answer(client):
    whole = ask(client).choices[0].message.content
    chunks = list(ask(client, stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert streamed == whole and CITATION.search(streamed)
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert Answer.model_validate(last.model_extra["exorag"]).answer in whole
    assert sum(c.choices[0].finish_reason is not None for c in chunks) == 1


def test_earlier_turns_make_a_follow_up_standalone(client):
    completion = client.chat.completions.create(model="exorag", messages=[
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": RECEPTOR_QUESTION},
        {"role": "assistant", "content": "EGFRvIII [59, 61]."},
        {"role": "user", "content": [{"type": "text", "text": "And what does it do in recipient cells?"}]},
    ])
    result = Answer.model_validate(completion.model_extra["exorag"])
    assert result.question == "And what does it do in recipient cells?"
    assert result.standalone_question and "glioblastoma" in result.standalone_question


def test_a_long_paste_earlier_in_the_chat_and_many_turns_leave_it_answerable(client):
    # Chat clients send the whole conversation on every turn; exorag reads only the last turn.
    earlier = [{"role": role, "content": "PD-L1?" if role == "user" else "[170-172]."}
               for _ in range(60) for role in ("user", "assistant")] + [
        {"role": "user", "content": "Here is my draft: " + "exosomes " * 5000}, {"role": "assistant", "content": "Noted."}]
    completion = client.chat.completions.create(model="exorag", messages=[
        *earlier, {"role": "user", "content": RECEPTOR_QUESTION}])
    assert "EGFRvIII" in completion.choices[0].message.content


def test_the_model_list_offers_exorag(client):
    assert [model.id for model in client.models.list()] == ["exorag"]


def test_another_model_name_is_refused_by_name(client):
    with pytest.raises(openai.NotFoundError, match="gpt-4o"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": RECEPTOR_QUESTION}])
    assert client.models.retrieve("exorag").id == "exorag"
    with pytest.raises(openai.NotFoundError, match="gpt-4o"):
        client.models.retrieve("gpt-4o")


def test_more_than_one_choice_is_refused_not_ignored(client):
    with pytest.raises(openai.UnprocessableEntityError) as raised:
        ask(client, n=2)
    assert raised.value.body["param"] == "n"
    assert ask(client, n=1).choices and ask(client, extra_body={"n": None}).choices


def test_an_unknown_route_or_method_answers_in_openais_error_shape_too(server_url):
    for response in (httpx.get(f"{server_url}/v1/no-such-route"), httpx.put(f"{server_url}/v1/models")):
        assert response.status_code in (404, 405) and response.json()["error"]["message"] == response.json()["detail"]


def test_a_chat_without_a_user_question_is_a_422_naming_messages(client):
    with pytest.raises(openai.UnprocessableEntityError) as raised:
        client.chat.completions.create(model="exorag", messages=[{"role": "system", "content": "Be brief."}])
    assert raised.value.body["param"] == "messages"


def test_a_wrong_token_is_an_authentication_error(server_url):
    stranger = openai.OpenAI(base_url=f"{server_url}/v1", api_key="not-the-token", max_retries=0)
    # The reason is in OpenAI's error object, which is what OpenAI clients show.
    with pytest.raises(openai.AuthenticationError, match="wrong bearer token"):
        ask(stranger)


def test_usage_is_reported_and_streamed_last_when_asked(client):
    completion = ask(client)
    usage = completion.usage
    assert usage.completion_tokens > 10 and usage.prompt_tokens >= len(RECEPTOR_QUESTION.split())
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    # OpenAI's stream_options: every chunk has "usage": null, and one more, with no choices, holds it.
    chunks = list(ask(client, stream=True, stream_options={"include_usage": True}))
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == usage.completion_tokens
    assert all(c.usage is None and c.choices for c in chunks[:-1])
    assert all(c.usage is None for c in ask(client, stream=True))


def test_a_null_stream_is_a_reply_as_the_openai_client_may_send_it(client):
    assert ask(client, stream=None).choices[0].message.content


def test_a_required_tool_call_or_json_output_is_refused_by_its_field(client):
    # Answered in prose, LangChain's structured output read None and a parser failed on the text.
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}
    for kwargs, field in (({"tools": [tool], "tool_choice": "required"}, "tool_choice"),
                          ({"tools": [tool], "tool_choice": {"type": "function", "function": {"name": "lookup"}}}, "tool_choice"),
                          ({"response_format": {"type": "json_object"}}, "response_format"),
                          ({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}},
                           "response_format")):
        with pytest.raises(openai.BadRequestError) as raised:
            ask(client, **kwargs)
        assert raised.value.body["param"] == field and "cited prose" in raised.value.body["message"]
    # Tools the model may leave unused, and plain text, are answered as a model may: in prose.
    assert ask(client, tools=[tool], tool_choice="auto", response_format={"type": "text"}).choices[0].message.content


def test_a_broken_character_in_an_earlier_turn_leaves_the_chat_answerable(server_url):
    # A JavaScript client cutting a string inside an emoji sends a lone surrogate's escape.
    body = json.dumps({"model": "exorag", "messages": [{"role": "user", "content": "earlier @"}, {"role": "assistant", "content": "x"},
                                                       {"role": "user", "content": RECEPTOR_QUESTION}]}).replace("@", "\\udc80")
    response = httpx.post(f"{server_url}/v1/chat/completions", content=body, timeout=300,
                          headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    assert response.status_code == 200 and "EGFRvIII" in response.json()["choices"][0]["message"]["content"]
