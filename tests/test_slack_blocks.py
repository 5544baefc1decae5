"""Block Kit rendering of answers: citations kept, evidence listed, Slack's limits respected."""

from __future__ import annotations

import re

import pytest

from exorag.chain import answer
from exorag.models import Answer, Evidence, Reference, Sentence
from exorag.slack import blocks

QUESTION = "How do tumour exosomes blunt T cells?"


@pytest.fixture(scope="module")
def real_answer(indexed_settings) -> Answer:
    return answer(QUESTION, settings=indexed_settings)


def texts_of(message: list[dict]) -> list[str]:
    found = []
    for block in message:
        if block["type"] == "section":
            found.append(block["text"]["text"])
        elif block["type"] == "context":
            found += [element["text"] for element in block["elements"]]
    return found


def long_answer(sentences: int, words: int = 60) -> Answer:
    evidence = Evidence(id="e1", chunk_id="c1", source_label="Review, Immune evasion", source_path="review/r.txt",
                        section="Immune evasion", page=4, refs=[170, 171, 172], text="PD-L1 <exosomes> & T cells. " * 40)
    body = " ".join(["exosomes"] * words)
    return Answer(
        question="<long> & question",
        answer="…",
        sentences=[Sentence(text=f"Sentence {i} {body}.", citation="[170-172]", refs=[170, 171, 172], evidence_ids=["e1"])
                   for i in range(sentences)],
        evidence=[evidence],
        references=[Reference(number=170, citation="Poggio M, et al. Cell 2019", doi="10.1016/j.cell.2019.02.016")],
    )


def test_answer_blocks_carry_every_sentence_with_its_citation_and_the_cited_evidence(real_answer):
    assert not real_answer.abstained and real_answer.sentences
    rendered = "\n".join(texts_of(blocks.answer_blocks(real_answer, "id-1")))
    for sentence in real_answer.sentences:
        assert f"*{sentence.citation}*" in rendered
    for evidence in blocks.cited_evidence(real_answer):
        assert blocks.evidence_line(evidence) in rendered
        assert evidence.source_path in rendered


def test_buttons_carry_the_answer_id(real_answer):
    actions = blocks.answer_blocks(real_answer, "id-42")[-1]
    assert actions["type"] == "actions"
    assert {b["action_id"]: b["value"] for b in actions["elements"]} == {
        blocks.SHOW_EVIDENCE: "id-42", blocks.FEEDBACK_UP: "id-42", blocks.FEEDBACK_DOWN: "id-42"}


def test_evidence_line_names_source_section_page_and_refs():
    evidence = Evidence(id="e3", chunk_id="c", source_label="x", source_path="literature/170_poggio.pdf",
                        section="Results", page=7, refs=[170, 171, 172, 175], text="t")
    assert blocks.evidence_line(evidence) == "*e3* · literature/170_poggio.pdf · Results · p. 7 · refs [170-172, 175]"


def test_abstention_is_said_plainly_without_citations():
    reason = "This question is outside what the indexed literature covers."
    abstained = Answer(question="What is the capital of France?", answer=reason, abstained=True, reason=reason)
    rendered = "\n".join(texts_of(blocks.answer_blocks(abstained, "id")))
    assert "I could not answer this from the indexed literature." in rendered
    assert "outside what the indexed literature covers" in rendered
    assert "[" not in rendered
    buttons = [b["action_id"] for b in blocks.answer_blocks(abstained, "id")[-1]["elements"]]
    assert blocks.SHOW_EVIDENCE not in buttons and blocks.FEEDBACK_DOWN in buttons


def test_long_answers_are_split_within_slacks_limits():
    result = long_answer(sentences=400)
    messages = blocks.split_messages(blocks.answer_blocks(result, "id", asker="U1"))
    assert len(messages) > 1
    for message in messages:
        assert 0 < len(message) <= blocks.BLOCKS_PER_MESSAGE
        assert all(len(text) <= blocks.TEXT_LIMIT for text in texts_of(message))
        assert all(len(b["elements"]) <= blocks.CONTEXT_ELEMENTS for b in message if b["type"] == "context")
    rendered = " ".join(text for message in messages for text in texts_of(message))
    for i in range(400):
        assert f"Sentence {i} " in rendered
    assert rendered.count("*[170-172]*") == 400


def test_one_sentence_longer_than_a_section_is_cut_at_spaces():
    result = long_answer(sentences=1, words=1500)
    sections = [b for b in blocks.answer_blocks(result, "id") if b["type"] == "section"]
    assert len(sections) >= 3
    assert all(len(s["text"]["text"]) <= blocks.TEXT_LIMIT for s in sections)
    assert "".join(s["text"]["text"] for s in sections).replace(" ", "").count("exosomes") == 1500


def test_slack_control_characters_are_escaped():
    result = long_answer(sentences=1, words=1)
    rendered = "\n".join(texts_of(blocks.answer_blocks(result, "id", asker="U1")))
    assert "&lt;long&gt; &amp; question" in rendered
    assert "<@U1> asked:" in rendered
    passages = "\n".join(texts_of(blocks.evidence_blocks(result)))
    assert "PD-L1 &lt;exosomes&gt; &amp; T cells." in passages and "<exosomes>" not in passages


def test_the_message_text_beside_the_blocks_is_escaped_too():
    # Slack reads `text` for notifications: a quoted passage must not ping the channel or disguise a link.
    result = long_answer(sentences=1, words=1).model_copy(
        update={"answer": "Exosomes carry PD-L1 <!channel> via <https://evil.example/login|doi.org/10.1/x> [170-172]."})
    text = blocks.fallback_text(result)
    assert "&lt;!channel&gt;" in text and "&lt;https://evil.example/login|doi.org/10.1/x&gt;" in text
    assert "<!channel>" not in text and "<https://" not in text


def test_evidence_blocks_quote_the_cited_passages(real_answer):
    rendered = "\n".join(texts_of(blocks.evidence_blocks(real_answer)))
    for evidence in blocks.cited_evidence(real_answer):
        assert blocks.escape(" ".join(evidence.text.split()))[:200] in rendered


@pytest.mark.parametrize("text", [
    "x" * 97 + "&amp;" + "y" * 50,  # no space: the hard cut at 100 fell inside the escape
    "see " + "x" * 55 + " <https://doi.org/10.1/abc|doi:10.1/a b c> and more words after it",
])
def test_split_text_cuts_no_escape_or_link_in_two(text):
    pieces = blocks.split_text(text, 100)
    assert all(len(piece) <= 100 for piece in pieces)
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")
    whole = re.compile(r"&(?:amp|lt|gt);|<https://doi.org/10.1/abc\|doi:10.1/a b c>")
    assert sum(len(whole.findall(piece)) for piece in pieces) == len(whole.findall(text))


def test_split_text_keeps_every_word():
    text = " ".join(f"w{i}" for i in range(3000))
    pieces = blocks.split_text(text, 100)
    assert all(len(piece) <= 100 for piece in pieces)
    assert " ".join(pieces).split() == text.split()
