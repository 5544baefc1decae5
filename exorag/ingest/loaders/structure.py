"""Finding headings, paragraphs and table rows in plain text (text files and PDF pages).

A heading is a short line without closing punctuation or citation, followed by body text (or a
document's first line followed by a paper's section name: its title above "Abstract"); a table
row is a line that starts with ``|``; everything else joins into paragraphs at blank lines, or at
line ends that close a sentence when a format wraps its lines (PDF, hard-wrapped text files).
"""

from __future__ import annotations

import re

from exorag.ingest.loaders.base import Block

_LINE = re.compile(r"[^\n]*\n?")
_HEADING_MAX_WORDS = 14
_CLOSING = (".", ",", ";", ":", "]", ")", "-")  # a heading never ends like this
SENTENCE_END = (".", "?", "!", "]")
_LINE_END_OF_PARAGRAPH = SENTENCE_END + (":",)  # where a wrapped paragraph may end
# a line ending in one of these runs on into the next line: it is text, not a heading
_RUN_ON_WORDS = frozenset(
    {"a", "an", "the", "of", "and", "&", "or", "in", "on", "to", "for", "with", "by", "from", "at", "as", "that", "which"}
)
# The sections of a paper: a document's heading-like first line right above one of them is its title
# (above "Abstract"), though the section's name is shorter than it.
_SECTION_NAMES = frozenset({"abstract", "summary", "background", "introduction", "methods", "materials and methods",
                            "results", "discussion", "conclusion", "conclusions", "objective", "objectives", "purpose",
                            "aims", "keywords", "key words"})
_HEADING_MAX_WIDTH = 0.75  # of the full line width, in wrapped text
_WRAPPED_MIN_LINES = 5
_WRAPPED_MAX_WIDTH = 120  # characters; wider lines are paragraphs, not a fixed-width layout


def looks_like_heading(line: str) -> bool:
    """True for a short line that starts with a capital or a number and neither closes a
    sentence nor cites (``[58]``): a candidate heading, confirmed by the text that follows."""
    words = line.split()
    if not words or len(words) > _HEADING_MAX_WORDS or line.endswith(_CLOSING):
        return False
    if "[" in line or line.startswith("|") or words[-1].lower() in _RUN_ON_WORDS:
        return False
    first = words[0].lstrip("#*\"'(")
    has_letters = any(character.isalpha() for character in line)  # not a bare page number
    return bool(first) and has_letters and (first[0].isupper() or first[0].isdigit())


def is_hard_wrapped(text: str) -> bool:
    """True for text broken into lines of a fixed width (a saved e-mail or abstract), where most
    full-width lines stop mid-sentence; False for one line per paragraph."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) < _WRAPPED_MIN_LINES:
        return False
    width = _typical_width(lines)
    if width > _WRAPPED_MAX_WIDTH:
        return False
    full_lines = [line for line in lines if len(line) >= 0.6 * width]
    open_ended = sum(not line.endswith(_LINE_END_OF_PARAGRAPH) for line in full_lines)
    return open_ended >= 0.5 * len(full_lines)


def _typical_width(lines: list[str]) -> int:
    # the 90th percentile of line lengths: the full width, unmoved by a stray long line (a URL)
    lengths = sorted(len(line) for line in lines)
    return lengths[min(len(lengths) - 1, int(0.9 * len(lengths)))] if lengths else 0


def _ends_paragraph(line: str, next_line: str, short_line: float) -> bool:
    """In wrapped text: a line that closes a sentence before one that starts a sentence, or a
    line that stops well short of the full width (a title, a header, a paragraph's last line)
    unless the next line goes on with its sentence: a justified column's line of a few long words
    is short in characters ("growth, invasion, metastasis, and immune" / "modulation.")."""
    starts_sentence = next_line[:1].isupper() or next_line[:1].isdigit()
    goes_on = next_line[:1].islower() and not line.endswith(_LINE_END_OF_PARAGRAPH)
    return (line.endswith(_LINE_END_OF_PARAGRAPH) and starts_sentence) or (len(line) <= short_line and not goes_on)


def plain_text_blocks(text: str, page: int | None = None, offset: int = 0, wrapped: bool = False) -> list[Block]:
    """Blocks of ``text``; offsets are shifted by ``offset`` so pages can share one document text.

    ``wrapped`` is for layouts that break lines inside paragraphs (PDF): consecutive lines then
    join until one ends a sentence before a line that starts one, or stops short of the width.
    """
    lines: list[tuple[int, int, str]] = []
    position = 0
    for match in _LINE.finditer(text):
        raw = match.group(0)
        if not raw:
            break
        stripped = raw.strip()
        if stripped:
            lead = len(raw) - len(raw.lstrip())
            lines.append((position + lead, position + lead + len(stripped), stripped))
        else:
            lines.append((position, position, ""))
        position += len(raw)

    # the next non-blank line after each line, found in one backward pass
    following: list[str] = [""] * len(lines)
    for index in range(len(lines) - 2, -1, -1):
        later = lines[index + 1][2]
        following[index] = later or following[index + 1]
    # a wrapped body line runs close to the full width; a heading is clearly shorter
    short_line = _HEADING_MAX_WIDTH * _typical_width([line for _, _, line in lines if line])

    blocks: list[Block] = []
    paragraph: list[tuple[int, int, str]] = []

    def close_paragraph() -> None:
        if paragraph:
            blocks.append(Block("paragraph", offset + paragraph[0][0], offset + paragraph[-1][1], page))
            paragraph.clear()

    for index, (start, end, line) in enumerate(lines):
        if not line:
            close_paragraph()
            continue
        if line.startswith("|"):
            close_paragraph()
            if line.strip("| -:"):  # skip separator rows like |---|---|
                blocks.append(Block("table_row", offset + start, offset + end, page))
            continue
        if wrapped and paragraph and _ends_paragraph(paragraph[-1][2], line, short_line):
            close_paragraph()
        # Only a document's first block (its title) above a section name: a later line there is body text.
        above_section = (not blocks and following[index].rstrip(":").casefold() in _SECTION_NAMES
                         and (not wrapped or len(line) <= short_line))
        if (
            not paragraph
            and looks_like_heading(line)
            and (above_section or (len(following[index].split()) > len(line.split())
                                   and (not wrapped or len(line) <= short_line)))
        ):
            blocks.append(Block("heading", offset + start, offset + end, page))
            continue
        paragraph.append((start, end, line))
        if not wrapped:
            close_paragraph()
    close_paragraph()
    return blocks
