"""Finding headings, paragraphs and table rows in plain text (text files and PDF pages).

A heading is a short line without closing punctuation or citation, followed by body text; a table
row is a line that starts with ``|``; everything else joins into paragraphs at blank lines, or at
line ends that close a sentence when a format wraps its lines (PDF).
"""

from __future__ import annotations

import re

from exorag.ingest.loaders.base import Block

_LINE = re.compile(r"[^\n]*\n?")
_HEADING_MAX_WORDS = 14
_CLOSING = (".", ",", ";", ":", "]", ")", "-")  # a heading never ends like this
_SENTENCE_END = (".", "?", "!", "]")
_HEADING_MAX_WIDTH = 0.7  # of the longest line, in wrapped text


def looks_like_heading(line: str) -> bool:
    """True for a short line that starts with a capital or a number and neither closes a
    sentence nor cites (``[58]``): a candidate heading, confirmed by the text that follows."""
    words = line.split()
    if not words or len(words) > _HEADING_MAX_WORDS or line.endswith(_CLOSING):
        return False
    if "[" in line or line.startswith("|"):
        return False
    first = words[0].lstrip("#*\"'(")
    return bool(first) and (first[0].isupper() or first[0].isdigit())


def _starts_sentence(line: str) -> bool:
    return line[:1].isupper() or line[:1].isdigit()


def plain_text_blocks(text: str, page: int | None = None, offset: int = 0, wrapped: bool = False) -> list[Block]:
    """Blocks of ``text``; offsets are shifted by ``offset`` so pages can share one document text.

    ``wrapped`` is for layouts that break lines inside paragraphs (PDF): consecutive lines then
    join until one ends a sentence before a line that starts one.
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
    short_line = _HEADING_MAX_WIDTH * max((len(line) for _, _, line in lines), default=0)

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
        if wrapped and paragraph and paragraph[-1][2].endswith(_SENTENCE_END) and _starts_sentence(line):
            close_paragraph()
        if (
            not paragraph
            and looks_like_heading(line)
            and len(following[index].split()) > len(line.split())
            and (not wrapped or len(line) <= short_line)
        ):
            blocks.append(Block("heading", offset + start, offset + end, page))
            continue
        paragraph.append((start, end, line))
        if not wrapped:
            close_paragraph()
    close_paragraph()
    return blocks
