"""Markdown (markdown-it-py): headings (ATX and setext), paragraphs, list items and table rows,
as offsets into the raw Markdown text, which is kept as written.

Code blocks, raw HTML blocks and YAML front matter are not blocks; a front matter ``title:``
becomes the title.
"""

from __future__ import annotations

import re
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from exorag.ingest.loaders.base import Block, BlockKind, LoadedDocument, LoadError
from exorag.ingest.loaders.text import decode_text

EXTENSIONS = (".md", ".markdown")

_PARSER = MarkdownIt("commonmark").enable("table")
_FRONT_MATTER = re.compile(r"\A---\n(.*?\n)---\n", re.DOTALL)
_FRONT_MATTER_TITLE = re.compile(r"^title:\s*(.+?)\s*$", re.MULTILINE)


def markdown_blocks(text: str) -> list[Block]:
    """Heading, paragraph (list items included) and table-row blocks of Markdown ``text``."""
    line_starts = [0] + [match.end() for match in re.finditer("\n", text)]
    tokens = _PARSER.parse(_blank_front_matter(text))
    blocks: list[Block] = []
    for index, token in enumerate(tokens):
        kind: BlockKind
        if token.type == "tr_open" and token.map:
            line = text[line_starts[token.map[0]] :].split("\n", 1)[0]
            start = line_starts[token.map[0]] + len(line) - len(line.lstrip())
            blocks.append(Block("table_row", start, start + len(line.strip())))
            continue
        if token.type == "heading_open":
            kind = "heading"
        elif token.type == "paragraph_open":
            kind = "paragraph"
        else:
            continue
        span = _content_span(text, line_starts, tokens[index + 1])
        if span:
            blocks.append(Block(kind, *span))
    return blocks


def _content_span(text: str, line_starts: list[int], inline: Token) -> tuple[int, int] | None:
    """Where the inline content of a heading or paragraph sits in the raw text, from its first
    character to its last: markers such as ``## `` and ``- `` stay outside."""
    if not inline.content.strip() or not inline.map:
        return None
    lines = inline.content.split("\n")
    first, last = inline.map[0], inline.map[1] - 1
    # content lines are the raw lines without their leading markers, so search from the right
    start = text.rfind(lines[0], line_starts[first], _line_end(text, line_starts, first))
    end = text.rfind(lines[-1], line_starts[last], _line_end(text, line_starts, last))
    if start < 0 or end < 0:
        return None
    return start, end + len(lines[-1])


def _line_end(text: str, line_starts: list[int], line: int) -> int:
    return line_starts[line + 1] - 1 if line + 1 < len(line_starts) else len(text)


def _blank_front_matter(text: str) -> str:
    # blank lines keep the line numbers, so token positions still point into ``text``
    match = _FRONT_MATTER.match(text)
    if not match:
        return text
    return "\n" * match.group(0).count("\n") + text[match.end() :]


def _title(text: str, blocks: list[Block], path: Path) -> str:
    """The front matter ``title:``, else the first heading, else the file name."""
    match = _FRONT_MATTER.match(text)
    title = _FRONT_MATTER_TITLE.search(match.group(1)) if match else None
    if title:
        return title.group(1).strip("\"'")
    return next((text[block.start : block.end] for block in blocks if block.kind == "heading"), path.stem)


# A blockquote's markers at the start of each of its lines ("> ", "> > ").
_QUOTE_MARKERS = re.compile(r"^(?:[ \t]{0,3}>[ \t]?)+", re.MULTILINE)


def load(path: Path) -> LoadedDocument:
    """Text (the Markdown as written, a blockquote's markers blanked out) and blocks of the
    Markdown file at ``path``."""
    text = decode_text(path.read_bytes())
    blocks = markdown_blocks(text)
    if not blocks:
        raise LoadError("no text")
    # Spaces of the markers' length: the blocks' offsets still point at the same characters.
    text = _QUOTE_MARKERS.sub(lambda marker: " " * len(marker.group(0)), text)
    return LoadedDocument(path=path, text=text, blocks=blocks, title=_title(text, blocks, path))
