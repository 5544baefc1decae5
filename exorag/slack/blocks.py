"""An Answer as Slack Block Kit: the cited answer, its evidence and references, and the buttons.

Slack's limits: 3000 characters in a section's or a context element's text, 10 elements in a
context block, 50 blocks in a message. Longer content is split into more blocks and messages.
"""

from __future__ import annotations

import re

from exorag.citations import format_numbers, split_ending
from exorag.facets import uncovered_note
from exorag.links import doi_link, web_link
from exorag.models import Answer, Evidence
from exorag.shape import BROAD_SHAPES
from exorag.verdict import VERDICT_LABELS

PLACEHOLDER = "Looking in the literature…"
ERROR_MESSAGE = "Sorry, something went wrong while answering. The people who run exorag can find the details in its log."
USAGE = ("Ask me about tumour exosomes and the hallmarks of cancer: mention me with a question, send me a direct "
         "message, or type `/exorag How do tumour exosomes blunt T cells?`")
GONE = "That answer is no longer stored; ask the question again to see its evidence or rate it."
THANKS = "Thanks, your feedback is recorded."

SHOW_EVIDENCE = "exorag_show_evidence"
FEEDBACK_UP = "exorag_feedback_up"
FEEDBACK_DOWN = "exorag_feedback_down"

TEXT_LIMIT = 3000
CONTEXT_ELEMENTS = 10
BLOCKS_PER_MESSAGE = 50
_UNBREAKABLE = re.compile(r"<[^<>\s]*(?:\|[^<>]*)?>|&(?:amp|lt|gt);")


def escape(text: str) -> str:
    """Text safe for mrkdwn: Slack reads only ``&``, ``<`` and ``>`` as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at whitespace where possible and never
    inside an escape (``&amp;``) or a link (``<url|label>``), which Slack would show broken."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind(" ", 0, limit)
        cut = cut if cut > 0 else limit
        inside = next((m.start() for m in _UNBREAKABLE.finditer(text) if m.start() < cut < m.end()), 0)
        if inside:
            space = text.rfind(" ", 0, inside)
            cut = space if space > 0 else inside
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _sections(texts: list[str]) -> list[dict]:
    """Texts packed into as few sections as fit, each piece kept whole when it can be."""
    blocks: list[str] = []
    for piece in (part for text in texts for part in split_text(text)):
        if blocks and len(blocks[-1]) + 1 + len(piece) <= TEXT_LIMIT:
            blocks[-1] += " " + piece
        else:
            blocks.append(piece)
    return [_section(text) for text in blocks]


def _contexts(texts: list[str]) -> list[dict]:
    elements = [{"type": "mrkdwn", "text": part} for text in texts for part in split_text(text)]
    return [{"type": "context", "elements": elements[i:i + CONTEXT_ELEMENTS]} for i in range(0, len(elements), CONTEXT_ELEMENTS)]


def _button(text: str, action_id: str, value: str) -> dict:
    label = {"type": "plain_text", "text": text, "emoji": True}
    return {"type": "button", "action_id": action_id, "text": label, "value": value}


def cited_evidence(answer: Answer) -> list[Evidence]:
    """The passages the answer's sentences cite, in retrieval order."""
    cited = {i for sentence in answer.sentences for i in sentence.evidence_ids}
    return [e for e in answer.evidence if e.id in cited]


def sentence_mrkdwn(text: str, citation: str, flagged: bool = False) -> str:
    """``Exosomal PD-L1 ... activation *[170-172]*.``, the citation before the closing punctuation."""
    body, end = split_ending(text)
    weak = " _(weakly supported)_" if flagged else ""
    return f"{escape(body)} *{escape(citation)}*{end}{weak}"


def evidence_line(evidence: Evidence) -> str:
    """``*e1* · review/review.txt · Immune evasion · p. 3 · refs [170-172]``: where a passage comes from."""
    parts = [f"*{evidence.id}*", escape(evidence.source_path or evidence.source_label)]
    if evidence.section:
        parts.append(escape(evidence.section))
    if evidence.page is not None:
        parts.append(f"p. {escape(evidence.printed_page or '')}")
    if evidence.refs:
        parts.append(f"refs {format_numbers(evidence.refs)}")
    return " · ".join(parts)


def answer_blocks(answer: Answer, answer_id: str, asker: str | None = None) -> list[dict]:
    """The blocks of one answer; ``answer_id`` is what its buttons carry, ``asker`` a user id to name."""
    blocks: list[dict] = []
    if asker:
        blocks += _contexts([f"<@{asker}> asked: {escape(answer.question)}"])
    if answer.abstained:
        reason = escape(answer.reason or answer.answer)
        blocks += _sections([f":grey_question: *I could not answer this from the indexed literature.* {reason}"])
    else:
        if answer.verdict:
            tally = f" ({escape(answer.verdict_tally)})" if answer.verdict_tally else ""
            blocks += _sections([f"*{VERDICT_LABELS[answer.verdict]}*{tally}, from the cited passages:"])
        lines = [sentence_mrkdwn(s.text, s.citation, s.flagged) for s in answer.sentences]
        # A broad answer is one finding a sentence: shown as a bulleted list.
        broad = answer.shape in BROAD_SHAPES and len(lines) > 1
        blocks += _sections(["\n".join(f"• {line}" for line in lines)] if broad else lines)
        blocks += _contexts([f"_{escape(uncovered_note(f.text))}_" for f in answer.facets if not f.covered])
        if answer.standalone_question:
            blocks += _contexts([f"_Read as: {escape(answer.standalone_question)}_"])
        if answer.basis_note:
            blocks += _contexts([f"_{escape(answer.basis_note)}_"])
        blocks += _contexts([evidence_line(e) for e in cited_evidence(answer)])
        references = []
        for reference in answer.references:
            line = f"[{reference.number}] {escape(reference.citation)}"
            if reference.doi:
                line += f" · <{doi_link(reference.doi)}|doi:{escape(reference.doi)}>"
            elif url := web_link(reference.url):
                line += f" · <{url}>"
            references.append(line)
        blocks += _contexts(references)
    if answer.held_back_note:
        blocks += _contexts([f":warning: _{escape(answer.held_back_note)}_"])
    buttons = [_button("Show evidence", SHOW_EVIDENCE, answer_id)] if answer.evidence else []
    buttons += [_button(":thumbsup: Helpful", FEEDBACK_UP, answer_id),
                _button(":thumbsdown: Not helpful", FEEDBACK_DOWN, answer_id)]
    blocks.append({"type": "actions", "block_id": "exorag_actions", "elements": buttons})
    return blocks


def evidence_blocks(answer: Answer) -> list[dict]:
    """The passages behind an answer (all retrieved ones when none was cited), for the asker's eyes."""
    shown = cited_evidence(answer)
    title = f"*Evidence for:* {escape(answer.question)}"
    if not shown:
        shown = answer.evidence
        title += "\n_None of these passages was used in the answer; they are what the search found._"
    blocks = _sections([title])
    for evidence in shown:
        passage = escape(" ".join(evidence.text.split()))
        blocks += _contexts([evidence_line(evidence)])
        blocks += [_section("> " + piece) for piece in split_text(passage, TEXT_LIMIT - 2)]
    return blocks


def split_messages(blocks: list[dict]) -> list[list[dict]]:
    """Blocks in messages of at most 50 blocks each."""
    return [blocks[i:i + BLOCKS_PER_MESSAGE] for i in range(0, len(blocks), BLOCKS_PER_MESSAGE)]


def fallback_text(answer: Answer) -> str:
    """The plain text Slack shows in notifications and keeps as the message text (the thread's history),
    escaped as the blocks are: a passage's ``<!channel>`` or ``<url|label>`` must not become live mrkdwn."""
    text = f"I could not answer this from the indexed literature. {answer.answer}" if answer.abstained else answer.answer
    return escape(split_text(text, TEXT_LIMIT)[0])
