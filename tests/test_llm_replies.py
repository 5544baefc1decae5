"""What exorag makes of an LLM's reply, on the real bundled index, with a server that gives a
chosen reply: a decline in the model's own words, a reasoning block, and a server that fails."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from fake_llm import fake_llm

from exorag.chain import AnswerOptions, answer, answer_stream
from exorag.config import Settings
from exorag.models import Answer, ReasonCode

T_CELLS = "How do tumour exosomes blunt T cells?"
LLM = AnswerOptions(generator="llm")


def _llm_answer(question: str, reply: str, settings: Settings) -> Answer:
    """``question`` answered by the llm generator, whose model replies ``reply``."""
    with fake_llm(reply) as base_url:
        return answer(question, LLM, settings.model_copy(update={"llm_base_url": base_url}))


@pytest.mark.parametrize("reply", [
    "The passages do not say how tumour exosomes blunt T cells.",
    "I'm sorry, but the provided passages do not describe how tumour exosomes affect T cells.",
    "Unfortunately, there is no information in the passages about this [1].",
])
def test_a_decline_in_the_models_own_words_is_an_abstention_not_a_repaired_answer(indexed_settings, reply):
    result = _llm_answer(T_CELLS, reply, indexed_settings)
    assert result.abstained and result.reason_code == ReasonCode.GENERATOR_DECLINED, result.answer
    assert not result.sentences


def test_a_decline_beside_a_cited_finding_keeps_the_finding(indexed_settings):
    reply = ("The passages do not mention NK cells. Exosomal PD-L1 binds PD-1 on T cells and suppresses their "
             "activation [1].")
    result = _llm_answer(T_CELLS, reply, indexed_settings)
    assert not result.abstained and result.sentences and "mention" not in result.answer


def test_a_broad_answer_quotes_the_findings_the_models_sentences_leave_out(indexed_settings):
    # The model writes one of the review's mechanisms; the others are quoted after it, with their
    # own citations, and the one it wrote is not quoted again.
    reply = "Tumour cells release exosomes coated with PD-L1, which bind PD-1 receptors on T cells and suppress their activation [1, 2, 3, 4]."
    with fake_llm(reply) as base_url:
        settings = indexed_settings.model_copy(update={"llm_base_url": base_url})
        events = list(answer_stream(T_CELLS, LLM, settings))
    streamed = "".join(event.text for event in events if event.kind == "token")
    result = events[-1].answer
    assert not result.abstained and result.sentences[0].text.startswith("Tumour cells release exosomes coated with PD-L1")
    quoted = [s for s in result.sentences[1:] if "TGF" in s.text]
    assert quoted and quoted[0].citation == "[20, 175]" and quoted[0].verdict == "supported"
    assert quoted[0].text.rstrip(".") + " [20, 175]" in streamed  # streamed once verified, with its citation
    assert not any("These exosomal PD-L1 bind to PD-1 receptors" in s.text for s in result.sentences)
    # What goes on from the finding the model wrote is not quoted after another one, where "This" would point at it.
    assert "This acts as a decoy" not in result.answer


def test_a_reasoning_block_is_neither_shown_nor_read_as_the_answer(indexed_settings):
    thinking = "<think>Passage [1] names PD-L1 but the question asks for a mouse strain, so I must decline.</think>"
    with fake_llm(f"{thinking} INSUFFICIENT: no mouse strain is named.") as base_url:
        settings = indexed_settings.model_copy(update={"llm_base_url": base_url})
        events = list(answer_stream(T_CELLS, LLM, settings))
    streamed = "".join(event.text for event in events if event.kind == "token")
    result = events[-1].answer
    assert "think" not in streamed and "must decline" not in streamed
    assert result.abstained and result.reason_code == ReasonCode.GENERATOR_DECLINED
    assert "no mouse strain is named" in result.reason


@pytest.mark.parametrize("failure", [{"status": 500}, {"page": "<html>Please sign in to the proxy</html>"}])
def test_a_failing_llm_server_is_a_clear_error_not_a_traceback(indexed_settings, failure):
    # 500: the model crashed; a web page: a proxy's sign-in page, no stream at all.
    with fake_llm(**failure) as base_url:
        completed = subprocess.run(
            [sys.executable, "-m", "exorag.cli", "ask", T_CELLS, "--generator", "llm", "--index",
             str(indexed_settings.index), "--corpus", str(indexed_settings.corpus)],
            capture_output=True, text=True, timeout=300, check=False,
            env={**os.environ, "EXORAG_LLM_BASE_URL": base_url, "EXORAG_LLM_TIMEOUT": "20"},
        )
    assert completed.returncode == 2, completed.stderr[-2000:]
    assert "error: the LLM (EXORAG_LLM_BASE_URL or EXORAG_LLM_GGUF) failed" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_a_models_sentence_that_no_passage_speaks_to_is_removed_not_flagged(indexed_settings):
    reply = ("Exosomal PD-L1 binds PD-1 receptors on T cells and suppresses their activation [1, 2, 3]. "
             "Zebrafish embryos grow fewer blood vessels after vitamin C treatment [1, 2, 3].")
    result = _llm_answer("What does exosomal PD-L1 bind on T cells?", reply, indexed_settings)
    assert not result.abstained and "PD-1" in result.answer
    assert "Zebrafish" not in result.answer and all(s.verdict != "not_found" for s in result.sentences)


def test_a_models_paraphrase_that_drops_a_findings_numbers_leaves_the_finding_to_be_quoted(indexed_settings):
    # It keeps most of the finding's words but not how much more (the review's "3-tenfold" at 1% O2).
    reply = ("Hypoxia, common in solid tumors, significantly enhances exosome production by breast cancer cells and alters cargo "
             "composition, driven by HIF-1α activation [1, 2, 3, 4].")
    result = _llm_answer("Give me an overview of how hypoxia changes exosome release by tumour cells.", reply,
                         indexed_settings)
    assert result.sentences[0].text.startswith("Hypoxia, common in solid tumors, significantly enhances exosome production by")
    assert any("3-tenfold" in s.text for s in result.sentences[1:])


def test_a_models_bare_yes_is_followed_by_the_finding_it_rests_on(indexed_settings):
    result = _llm_answer("Does hypoxia increase exosome release by tumour cells?",
                         "Yes, hypoxia raises exosome release by tumour cells [1, 2, 3, 4].", indexed_settings)
    assert result.shape == "yes_no" and result.sentences[0].text.startswith("Yes, hypoxia raises")
    assert any("3-tenfold" in s.text and s.citation == "[13-16]" for s in result.sentences[1:])
