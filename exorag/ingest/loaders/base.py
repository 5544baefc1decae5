"""What every loader returns: the document's plain text and its blocks (headings, paragraphs,
table rows) as offsets into that text, with the page each block sits on when known."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

BlockKind = Literal["heading", "paragraph", "table_row"]


class LoadError(Exception):
    """A file that cannot be read; the message says why in a scientist's words."""


@dataclass(frozen=True)
class Block:
    kind: BlockKind
    start: int
    end: int
    page: int | None = None


@dataclass
class LoadedDocument:
    path: Path
    text: str
    blocks: list[Block] = field(default_factory=list)
    title: str = ""
    # A page's number as printed ("1245" of a journal issue, "iv"), where the PDF labels its pages so.
    page_labels: dict[int, str] = field(default_factory=dict)

    def block_text(self, block: Block) -> str:
        return self.text[block.start : block.end]


class Loader(Protocol):
    """A module per format exposes ``EXTENSIONS`` and ``load(path) -> LoadedDocument``."""

    EXTENSIONS: tuple[str, ...]

    def load(self, path: Path) -> LoadedDocument: ...
