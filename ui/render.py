"""The chat as HTML: answers with citation chips, abstentions, flags, and the evidence panel.

Everything shown comes from the verified ``Answer``; every piece of text from the corpus or the
user is escaped here, because ``gr.HTML`` inserts its value as markup.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from html import escape
from pathlib import Path
from urllib.parse import quote

from exorag.citations import format_numbers, split_ending
from exorag.facets import uncovered_note
from exorag.links import doi_link, web_link
from exorag.models import Answer, Evidence, Reference, Sentence
from exorag.refs.corpus import literature_files
from exorag.shape import BROAD_SHAPES
from exorag.text import split_sentences, strip_citations, tokenize
from exorag.verdict import VERDICT_LABELS

# When an answer sentence is not quoted verbatim, passage sentences holding this share of its terms are marked.
HIGHLIGHT_OVERLAP = 0.6
CHIP_LABEL_CHARS = 48
ALL_EVIDENCE = -1
"""The ``sentence`` index a chip uses to open every retrieved passage (shown with abstentions)."""

EVIDENCE_HINT = (
    '<div class="xr-evidence-empty"><p><b>Evidence</b></p>'
    "<p>Click a citation chip such as <span class=\"xr-chip xr-chip-static\">[170-172]</span> in an answer "
    "to read the passage it rests on, with its source, section, page and reference.</p></div>"
)


@dataclass
class Turn:
    """One question of the conversation and what came back: an Answer, or an error message."""

    question: str
    answer: Answer | None = None
    error: str = ""


# Where Gradio serves a file of its allowed folders.
FILE_ROUTE = "gradio_api/file="


@dataclass(frozen=True)
class FileLinks:
    """Which corpus files the browser may open, and the URL prefix that serves them."""

    corpus: Path
    roots: tuple[Path, ...] = ()
    prefix: str = FILE_ROUTE

    def url(self, relative_path: str, page: int | None = None) -> str | None:
        """A link to a PDF of the corpus, or None when the file is not under a served folder."""
        path = (self.corpus / relative_path).resolve()
        if path.suffix.lower() != ".pdf" or not path.is_file():
            return None
        if any(unicodedata.category(c) == "Cc" for c in path.as_posix()):  # a line break in a name: Gradio serves no such path
            return None
        if not any(path.is_relative_to(root) for root in self.roots):
            return None
        return self.prefix + quote(path.as_posix()) + (f"#page={page}" if page else "")


def conversation_html(turns: list[Turn], pending: Turn | None = None, draft: str = "", status: str = "") -> str:
    """The whole conversation; ``pending`` is the question being answered, with its draft so far."""
    if not turns and pending is None:
        return (
            '<div class="xr-welcome"><p><b>Ask a question about tumour exosomes and the hallmarks of cancer.</b></p>'
            "<p>Every sentence of an answer carries the reference numbers of the review passage it comes from. "
            "Click a number to see that passage. When the literature does not answer a question, exorag says so "
            "instead of guessing.</p></div>"
        )
    parts = [turn_html(number, turn) for number, turn in enumerate(turns)]
    if pending is not None:
        parts.append(
            f'<div class="xr-turn xr-pending">{_question_html(pending.question)}'
            f'<div class="xr-answer xr-drafting"><div class="xr-status">{escape(status)}</div>'
            f'<p class="xr-draft">{escape(draft)}<span class="xr-cursor"></span></p></div></div>'
        )
    return '<div class="xr-conversation">' + "".join(parts) + "</div>"


def _question_html(question: str) -> str:
    return f'<div class="xr-question"><span class="xr-who">You</span><p>{escape(question)}</p></div>'


def turn_html(number: int, turn: Turn) -> str:
    """One question and its answer, abstention or error."""
    if turn.answer is None:
        body = (
            '<div class="xr-answer xr-error"><div class="xr-answer-title">Could not answer</div>'
            f"<p>{escape(turn.error)}</p></div>"
        )
    elif turn.answer.abstained:
        body = _abstention_html(number, turn.answer)
    else:
        body = _answer_html(number, turn.answer)
    return f'<div class="xr-turn" data-turn="{number}">{_question_html(turn.question)}{body}</div>'


def _verdict_html(answer: Answer) -> str:
    """The verdict of a yes/no question, shown before the sentences it rests on."""
    if not answer.verdict:
        return ""
    tally = f' <span class="xr-verdict-tally">({escape(answer.verdict_tally)})</span>' if answer.verdict_tally else ""
    return (f'<div class="xr-verdict xr-verdict-{escape(answer.verdict)}" title="What the cited passages conclude">'
            f"{escape(VERDICT_LABELS[answer.verdict])}{tally}</div>")


def _uncovered_html(answer: Answer) -> str:
    """The parts of a broad question the indexed literature does not answer, named."""
    notes = [uncovered_note(facet.text) for facet in answer.facets if not facet.covered]
    return "".join(f'<p class="xr-uncovered">{escape(note)}</p>' for note in notes)


def _answer_html(number: int, answer: Answer) -> str:
    rendered = [_sentence_html(number, index, sentence) for index, sentence in enumerate(answer.sentences)]
    # A broad answer is one finding a sentence: a list reads better than a paragraph.
    if answer.shape in BROAD_SHAPES and len(rendered) > 1:
        body = '<ul class="xr-findings">' + "".join(f"<li>{item}</li>" for item in rendered) + "</ul>"
    else:
        body = f'<p class="xr-sentences">{"".join(rendered)}</p>'
    return (f'<div class="xr-answer">{_verdict_html(answer)}{body}{_uncovered_html(answer)}'
            f"{_meta_html(answer)}</div>")


def _sentence_html(turn: int, index: int, sentence: Sentence) -> str:
    text, ending = split_ending(sentence.text, default="")
    label = sentence.citation if len(sentence.citation) <= CHIP_LABEL_CHARS else sentence.citation[: CHIP_LABEL_CHARS - 2] + "…]"
    chip = (
        f'<button class="xr-chip" type="button" data-turn="{turn}" data-sentence="{index}" '
        f'title="Show the evidence for this sentence: {escape(sentence.citation)}">{escape(label)}</button>'
    )
    flag = ""
    classes = "xr-sentence"
    if sentence.repaired:
        flag = ('<span class="xr-repaired" title="The model\'s own sentence was not supported by its passage; '
                'the passage\'s sentence is quoted instead.">quoted from the source</span>')
    if sentence.flagged:
        classes += " xr-flagged"
        flag = (
            f'<span class="xr-flag" title="The verifier found only weak support in the cited passage '
            f'(support {sentence.support:.2f}); check the evidence.">weakly supported</span>'
        )
    return f'<span class="{classes}" data-sentence="{index}">{escape(text)} {chip}{escape(ending or ".")}{flag}</span> '


def _abstention_html(number: int, answer: Answer) -> str:
    closest = ""
    if answer.evidence:
        closest = (
            f'<p class="xr-closest">The closest passages were not close enough to answer from. '
            f'<button class="xr-chip xr-chip-quiet" type="button" data-turn="{number}" data-sentence="{ALL_EVIDENCE}">'
            f"see the {len(answer.evidence)} closest passages</button></p>"
        )
    return (
        '<div class="xr-answer xr-abstained"><div class="xr-answer-title">No answer from the indexed literature</div>'
        f"<p>{escape(answer.reason or answer.answer)}</p>{closest}{_meta_html(answer)}</div>"
    )


def _meta_html(answer: Answer) -> str:
    seconds = answer.timings_ms.get("total", 0.0) / 1000
    items = [
        f'<span class="xr-generator">generator: {escape(answer.generator)}</span>',
        f"<span>{len(answer.evidence)} passages searched</span>",
        f"<span>{seconds:.1f} s</span>",
    ]
    if answer.basis_note:
        items.append(f'<span class="xr-basis">{escape(answer.basis_note)}</span>')
    if answer.held_back_note:
        items.append(f'<span class="xr-held-back">{escape(answer.held_back_note)}</span>')
    flagged = sum(1 for s in answer.sentences if s.flagged)
    if flagged:
        items.append(f'<span class="xr-flag-count">{flagged} weakly supported</span>')
    read_as = ""
    if answer.standalone_question:
        read_as = (
            '<details class="xr-read-as"><summary>How this follow-up was read</summary>'
            f"<p>read as: <q>{escape(answer.standalone_question)}</q></p></details>"
        )
    return f'<div class="xr-meta">{" · ".join(items)}{read_as}</div>'


def evidence_panel_html(turns: list[Turn], turn: int, sentence: int, links: FileLinks) -> str:
    """The evidence behind sentence ``sentence`` of turn ``turn`` (``ALL_EVIDENCE``: every passage)."""
    if not 0 <= turn < len(turns) or turns[turn].answer is None:
        return EVIDENCE_HINT
    answer = turns[turn].answer
    if sentence == ALL_EVIDENCE:
        heading = f'<p class="xr-ev-for">The {len(answer.evidence)} passages closest to <q>{escape(answer.question)}</q></p>'
        return _panel(heading, [_passage_html(e, None, links) for e in answer.evidence], "")
    if not 0 <= sentence < len(answer.sentences):
        return EVIDENCE_HINT
    chosen = answer.sentences[sentence]
    heading = (
        f'<p class="xr-ev-for">Evidence for <q>{escape(chosen.text)}</q> '
        f'<span class="xr-chip xr-chip-static">{escape(chosen.citation)}</span></p>'
        f'<p class="xr-support">support {chosen.support:.2f}'
        + (' · <span class="xr-flag">weakly supported</span>' if chosen.flagged else "")
        + "</p>"
    )
    passages = [_passage_html(e, chosen.text, links, (turn, sentence))
                for i in chosen.evidence_ids if (e := answer.evidence_by_id(i))]
    known = {reference.number: reference for reference in answer.references}
    return _panel(heading, passages, _references_html(chosen.refs, known, links))


def _panel(heading: str, passages: list[str], references: str) -> str:
    return f'<div class="xr-evidence">{heading}{"".join(passages)}{references}</div>'


def _references_html(numbers: list[int], known: dict[int, Reference], links: FileLinks) -> str:
    """Full references with DOI links where the reference list has them, and the PDFs the corpus holds."""
    if not numbers:
        return ""
    held = literature_files(links.corpus)
    items, unknown = [], []
    for number in numbers:
        reference = known.get(number)
        pdfs = [url for path in held.get(number, []) if (url := links.url(path.relative_to(links.corpus).as_posix()))]
        if (reference is None or not reference.citation) and not pdfs:
            unknown.append(number)
            continue
        items.append(_reference_html(number, reference, pdfs))
    if unknown:
        numbers_text = ", ".join(f"[{n}]" for n in unknown)
        items.append(
            f'<li><b>{numbers_text}</b> <span class="xr-muted">not in the reference list '
            "(corpus/references.jsonl) and no paper in the corpus</span></li>"
        )
    return '<section class="xr-references"><h4>References</h4><ul>' + "".join(items) + "</ul></section>"


def _passage_html(evidence: Evidence, sentence: str | None, links: FileLinks,
                  chip: tuple[int, int] | None = None) -> str:
    facts = [
        ("Source", _source_html(evidence, links)),
        ("Section", escape(evidence.section) if evidence.section else ""),
        ("Page", escape(evidence.printed_page or "")),
        ("Cites", escape(format_numbers(evidence.refs)) if evidence.refs else ""),
        ("Match", f"{evidence.score:.2f}"),
    ]
    rows = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in facts if value)
    return (
        f'<article class="xr-passage" data-evidence="{escape(evidence.id)}">'
        f'<header class="xr-passage-label">{escape(evidence.source_label)}</header>'
        f'<blockquote>{highlight(evidence.text, sentence) if sentence else escape(evidence.text)}</blockquote>'
        f'<dl class="xr-facts">{rows}</dl>{_open_pdf_button(evidence, links, chip)}</article>'
    )


def _open_pdf_button(evidence: Evidence, links: FileLinks, chip: tuple[int, int] | None) -> str:
    """"Open in PDF" for a passage of a PDF in the corpus, shown for the sentence of ``chip`` (turn, sentence)."""
    if chip is None or links.url(evidence.source_path) is None:
        return ""
    turn, sentence = chip
    return (
        f'<button class="xr-open-pdf" type="button" data-turn="{turn}" data-sentence="{sentence}" '
        f'data-evidence="{escape(evidence.id)}" title="Show the page with the cited sentence highlighted">'
        "Open in PDF</button>"
    )


def _source_html(evidence: Evidence, links: FileLinks) -> str:
    url = links.url(evidence.source_path, evidence.page)
    if url is None:
        return f"<code>{escape(evidence.source_path)}</code>"
    page = f", page {escape(evidence.printed_page)}" if evidence.printed_page else ""
    return (
        f'<a href="{escape(url)}" target="_blank" rel="noopener">'
        f"<code>{escape(evidence.source_path)}</code>{page}</a>"
    )


def _reference_html(number: int, reference: Reference | None, pdfs: list[str]) -> str:
    citation = escape(reference.citation) if reference and reference.citation else '<span class="xr-muted">not in the reference list</span>'
    extras = []
    if reference and reference.doi:
        doi_url = doi_link(reference.doi)
        extras.append(f'<a href="{escape(doi_url)}" target="_blank" rel="noopener">doi:{escape(reference.doi)}</a>')
    elif reference and (url := web_link(reference.url)):
        extras.append(f'<a href="{escape(url)}" target="_blank" rel="noopener">{escape(url)}</a>')
    extras += [f'<a class="xr-pdf-link" href="{escape(url)}" target="_blank" rel="noopener">PDF in the corpus</a>' for url in pdfs]
    return f"<li><b>[{number}]</b> {citation} {' · '.join(extras)}</li>"


def highlight(passage: str, sentence: str) -> str:
    """``passage`` escaped, with the sentences that state ``sentence`` wrapped in ``<mark>``.

    A sentence quoted verbatim (the extractive generator's) is marked exactly; otherwise the passage
    sentences that share most of its terms are.
    """
    pieces, last = [], 0
    for start, end in marked_spans(passage, sentence):
        pieces.append(escape(passage[last:start]))
        pieces.append(f"<mark>{escape(passage[start:end])}</mark>")
        last = end
    pieces.append(escape(passage[last:]))
    return "".join(pieces)


def marked_spans(passage: str, sentence: str) -> list[tuple[int, int]]:
    """The (start, end) spans of ``passage`` that state ``sentence``: the sentence itself when it is
    quoted verbatim, else the passage sentences sharing most of its terms."""
    claim = strip_citations(sentence).rstrip(" .!?")
    start = passage.find(claim) if claim else -1
    if start >= 0:
        end = start + len(claim)
        return [(start, end + 1 if passage[end : end + 1] in (".", "!", "?") else end)]
    return _overlapping_sentences(passage, claim)


def _overlapping_sentences(passage: str, claim: str) -> list[tuple[int, int]]:
    wanted = set(tokenize(claim))
    spans = split_sentences(passage)
    if not wanted or not spans:
        return []
    overlaps = [len(wanted & set(tokenize(strip_citations(passage[start:end])))) / len(wanted) for start, end in spans]
    best = max(overlaps)
    return [span for span, overlap in zip(spans, overlaps) if overlap >= HIGHLIGHT_OVERLAP or (overlap == best > 0)]
