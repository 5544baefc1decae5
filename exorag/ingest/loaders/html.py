"""HTML (BeautifulSoup with the stdlib parser): the visible text of block elements, one block
each, joined with blank lines. Headings h1-h6 become headings, table rows ``| cell | cell |``
rows, everything else paragraphs; script, style, nav and head are left out."""

from __future__ import annotations

from pathlib import Path

from bs4 import BeautifulSoup, Tag
from bs4.dammit import EncodingDetector
from bs4.element import NavigableString, PreformattedString

from exorag.ingest.loaders.base import Block, BlockKind, LoadedDocument, LoadError
from exorag.ingest.loaders.text import decode_text

EXTENSIONS = (".html", ".htm")

_SKIPPED = frozenset({"script", "style", "nav", "head", "noscript", "template", "svg"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# elements that start a block of their own; any other element is inline text of its block
_BLOCK_ELEMENTS = _HEADINGS | frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog", "div",
        "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "header", "hgroup", "hr", "html",
        "li", "main", "ol", "p", "pre", "section", "summary", "table", "tbody", "tfoot", "thead", "ul",
    }
)  # fmt: skip
_BYTE_ORDER_MARKS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
# browsers read these declarations as windows-1252, and so do the pages written for them
_READ_AS_CP1252 = frozenset({"iso-8859-1", "iso8859-1", "latin-1", "latin1", "us-ascii", "ascii"})


class _TextBuilder:
    """Collects block texts into one document text, with a blank line between blocks."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.blocks: list[Block] = []
        self.length = 0

    def add(self, kind: BlockKind, text: str) -> None:
        text = " ".join(text.split())
        if not text:
            return
        if self.parts:
            self.parts.append("\n\n")
            self.length += 2
        self.parts.append(text)
        self.blocks.append(Block(kind, self.length, self.length + len(text)))
        self.length += len(text)

    @property
    def text(self) -> str:
        return "".join(self.parts)


def _visit(element: Tag, kind: BlockKind, builder: _TextBuilder, pending: list[str]) -> None:
    """Walk ``element``'s children in order; text gathers in ``pending`` until a block ends."""
    for child in element.children:
        if isinstance(child, PreformattedString):  # comments, doctype, CDATA
            continue
        if isinstance(child, NavigableString):
            pending.append(str(child))
        elif isinstance(child, Tag) and child.name not in _SKIPPED:
            if child.name == "tr":
                builder.add(kind, "".join(pending))
                pending.clear()
                builder.add("table_row", _table_row(child))
            elif child.name in _BLOCK_ELEMENTS:
                builder.add(kind, "".join(pending))
                pending.clear()
                child_kind: BlockKind = "heading" if child.name in _HEADINGS else "paragraph"
                _visit(child, child_kind, builder, pending)
                builder.add(child_kind, "".join(pending))
                pending.clear()
            elif child.name == "br":
                pending.append(" ")
            else:
                _visit(child, kind, builder, pending)


def _table_row(row: Tag) -> str:
    cells = [" ".join(cell.get_text(" ").split()) for cell in row.find_all(["td", "th"], recursive=False)]
    return f"| {' | '.join(cells)} |" if any(cells) else ""


def decode_html(data: bytes) -> str:
    """Text of HTML ``data``: the charset its ``<meta>`` declares, else the detected one."""
    declared = EncodingDetector.find_declared_encoding(data, is_html=True)
    # A declaration readable as ASCII cannot be in UTF-16: browsers then read UTF-8 (HTML standard), as we do.
    if declared and declared.lower().startswith("utf-16"):
        declared = None
    if declared and not data.startswith(_BYTE_ORDER_MARKS):
        codec = "cp1252" if declared.lower() in _READ_AS_CP1252 else declared
        try:
            return data.decode(codec).replace("\r\n", "\n").replace("\r", "\n")
        except (LookupError, UnicodeError, ValueError):
            pass  # a wrong or unusable declaration ("punycode", a NUL in the name): fall back to detection
    return decode_text(data)


def load(path: Path) -> LoadedDocument:
    """Text and blocks of the HTML page at ``path``; the title from ``<title>`` or the first h1."""
    soup = BeautifulSoup(decode_html(path.read_bytes()), "html.parser")
    builder = _TextBuilder()
    pending: list[str] = []
    try:
        _visit(soup, "paragraph", builder, pending)
    except RecursionError as error:
        raise LoadError("elements nested too deeply to read (a thousand levels or more)") from error
    builder.add("paragraph", "".join(pending))
    if not builder.blocks:
        raise LoadError("no visible text")

    text = builder.text
    title_tag = soup.find("title")
    first_h1 = soup.find("h1")
    title = " ".join(title_tag.get_text().split()) if title_tag else ""
    if not title and first_h1:
        title = " ".join(first_h1.get_text(" ").split())
    if not title:
        title = next((text[b.start : b.end] for b in builder.blocks if b.kind == "heading"), path.stem)
    return LoadedDocument(path=path, text=text, blocks=builder.blocks, title=title)
