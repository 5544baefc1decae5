"""PDF with a text layer (pypdf): the text of each page, blocks that keep their 1-based page.

Page texts are cleaned before their blocks are found, so offsets index the cleaned text: runs of
spaces become one, ligatures are letters ("ﬁ" -> "fi"), running headers, footers and page numbers
go, and words broken across line ends are joined again ("exo-\\nsomes" -> "exosomes", "miR-\\n1273f"
-> "miR-1273f"). Pages are joined with a blank line; a paragraph that a page ends mid-sentence runs
on into the next page's first paragraph, so that its sentences stay whole.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from collections import Counter
from pathlib import Path

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError, PyPdfError

from exorag.ingest.loaders.base import Block, LoadedDocument, LoadError
from exorag.ingest.loaders.structure import SENTENCE_END, plain_text_blocks
from exorag.text import well_formed

EXTENSIONS = (".pdf",)

# pypdf logs every oddity of a damaged file (even at ERROR level) to stderr; what matters to the
# user is whether the file loaded, and a failed load is reported as a LoadError
logging.getLogger("pypdf").setLevel(logging.CRITICAL)

_PAGE_SEPARATOR = "\n\n"
MAX_PAGE_LABEL = 20  # characters: a printed page number or a short prefix and one ("S12", "e1245")
_EDGE_LINES = 2  # lines at the top and at the bottom of a page, where headers and footers sit
_RUNNING_MIN_PAGES = 3
_RUNNING_SHARE = 0.4  # a numbered header recurs on most pages; chapter openings on few
_PAGE_NUMBER = re.compile(r"(page\s*)?\d{1,4}(\s*(of|/)\s*\d{1,4})?", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
# head-, newline, tail, then what sticks to the tail ("somes)." ) and the space after it
_BROKEN_WORD = re.compile(r"([A-Za-z]*[a-z])-\n([a-z]+)(\S*)[ \t]*\n?")
# A name's own hyphen at a line end, before a digit or a capital ("miR-\\n1273f", "Ephrin-\\nA1"): kept, the line joined.
_BROKEN_NAME = re.compile(r"(\w*[A-Za-z0-9])-\n([A-Z0-9][\w]*)(\S*)[ \t]*\n?")
_LIGATURE = re.compile("[\ufb00-\ufb06]")
_WORD = re.compile(r"[A-Za-z][A-Za-z-]*[A-Za-z]")
# A title a PDF's writer filled in, not the paper's: "Microsoft Word - ms_rev2.docx", "untitled", a file name.
_PLACEHOLDER_TITLE = re.compile(r"^(?:microsoft\s+\w+\s+-\s|untitled\b)|\.(?:docx?|pdf|tex|rtf|odt|indd)$", re.IGNORECASE)
# second halves of compounds whose hyphen is real: "exosome-\nmediated" stays "exosome-mediated"
_COMPOUND_ENDS = frozenset(
    {
        "mediated", "derived", "induced", "dependent", "independent", "related", "associated", "based",
        "specific", "like", "free", "positive", "negative", "rich", "enriched", "loaded", "driven",
        "regulated", "bound", "containing", "secreting",
    }
)  # fmt: skip


def join_broken_words(text: str, known_words: set[str] | None = None) -> str:
    """``text`` with words hyphenated at a line end joined, the rest of the word moved up.

    A hyphen stays when the word after it is a common compound ending, or when ``known_words``
    (lowercase words seen elsewhere in the document) holds the hyphenated form but not the
    joined one. Line count changes by at most one per broken word that filled its line.
    """
    known = known_words or set()

    def join(match: re.Match[str]) -> str:
        head, tail, attached = match.groups()
        joined, hyphenated = f"{head}{tail}", f"{head}-{tail}"
        keep_hyphen = tail in _COMPOUND_ENDS or (hyphenated.lower() in known and joined.lower() not in known)
        return f"{hyphenated if keep_hyphen else joined}{attached}\n"

    return _BROKEN_NAME.sub(r"\1-\2\3\n", _BROKEN_WORD.sub(join, text))


def drop_running_lines(pages: list[str]) -> list[str]:
    """``pages`` without their running headers and footers. Near the top or bottom of a page
    (two lines each) a bare page number goes, and so does a line found there on three pages or
    more; the outermost line also goes when, numbers aside, it recurs on three pages and 40% of
    them ("Smith et al. 12"). The first occurrence of a repeated line stays: it may be the title."""
    pages_lines = [page.split("\n") for page in pages]
    edges = [_edge_indexes(lines) for lines in pages_lines]
    outermost = [set(indexes[:1] + indexes[-1:]) for indexes in edges]
    lines_seen = Counter(line for lines, indexes in zip(pages_lines, edges) for line in {lines[i] for i in indexes})
    shapes_seen = Counter(
        shape for lines, ends in zip(pages_lines, outermost) for shape in {_shape(lines[i]) for i in ends}
    )
    shape_needed = max(_RUNNING_MIN_PAGES, _RUNNING_SHARE * len(pages))

    earlier_lines: set[str] = set()
    earlier_shapes: set[str] = set()
    cleaned: list[str] = []
    for lines, indexes, ends in zip(pages_lines, edges, outermost):
        dropped = set()
        for index in indexes:
            line, shape = lines[index], _shape(lines[index])
            repeated = lines_seen[line] >= _RUNNING_MIN_PAGES and line in earlier_lines
            numbered = index in ends and shapes_seen[shape] >= shape_needed and shape in earlier_shapes
            if repeated or numbered or _PAGE_NUMBER.fullmatch(line):
                dropped.add(index)
            earlier_lines.add(line)
            if index in ends:
                earlier_shapes.add(shape)
        cleaned.append("\n".join(line for index, line in enumerate(lines) if index not in dropped))
    return cleaned


def _edge_indexes(lines: list[str]) -> list[int]:
    filled = [index for index, line in enumerate(lines) if line]
    return sorted(set(filled[:_EDGE_LINES] + filled[-_EDGE_LINES:]))


def _shape(line: str) -> str:
    return _DIGITS.sub("#", line)


def _open(data: bytes) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data))
    except Exception as error:  # pypdf raises many types on damaged files
        raise LoadError(f"corrupt or truncated PDF: {_short_reason(error)}") from error
    if reader.is_encrypted:
        _decrypt_without_password(reader)
    try:
        pages = len(reader.pages)
    except Exception as error:
        raise LoadError(f"corrupt or truncated PDF: {_short_reason(error)}") from error
    if not pages:
        raise LoadError("PDF has no pages")
    return reader


def _decrypt_without_password(reader: PdfReader) -> None:
    # many PDFs are encrypted only against editing and open with the empty user password
    try:
        opened = reader.decrypt("") != PasswordType.NOT_DECRYPTED
    except DependencyError as error:
        raise LoadError(f"encrypted PDF ({_short_reason(error)})") from error
    except Exception as error:
        raise LoadError(f"corrupt or truncated PDF: {_short_reason(error)}") from error
    if not opened:
        raise LoadError("encrypted PDF")


def _page_texts(reader: PdfReader) -> list[str]:
    texts: list[str] = []
    for number, page in enumerate(reader.pages, start=1):
        try:
            text = page.extract_text()
        except Exception as error:  # a damaged content stream on one page
            raise LoadError(f"corrupt or truncated PDF: page {number}: {_short_reason(error)}") from error
        # justified lines come out with runs of spaces; one space between words is what was meant. A
        # broken character map may give lone surrogates, which no text file could hold.
        text = _LIGATURE.sub(lambda match: unicodedata.normalize("NFKC", match.group()), well_formed(text or ""))
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        texts.append("\n".join(" ".join(line.split()) for line in lines))
    return texts


def _short_reason(error: Exception) -> str:
    reason = " ".join(str(error).split()) or type(error).__name__
    return reason if len(reason) <= 120 else reason[:117] + "..."


def _metadata_title(reader: PdfReader) -> str:
    """The info dictionary's title when it names the paper: not a placeholder its writer put there,
    a name object ("/Untitled") or bytes that decoded to nothing legible; control and format
    characters (an escape sequence, a right-to-left override) go."""
    try:
        title = reader.metadata.title if reader.metadata else None
    except (PyPdfError, ValueError, KeyError, TypeError):  # a broken info dictionary only costs the title
        return ""
    if not isinstance(title, str):
        return ""
    title = " ".join("".join(c for c in well_formed(title) if unicodedata.category(c) not in ("Cc", "Cf")).split())
    # A byte-order mark read as Latin-1 ("ÿþ", "þÿ") or an undecodable byte: the title is mojibake.
    if not title or title.startswith(("/", "ÿþ", "þÿ")) or "\ufffd" in title or _PLACEHOLDER_TITLE.search(title):
        return ""
    return title


def _runs_on(ending: str, last: Block, first: Block) -> bool:
    """Whether a page's last paragraph (whose text ends ``ending``) stops mid-sentence and the next
    page's first paragraph goes on with it."""
    return last.kind == first.kind == "paragraph" and not ending.rstrip().endswith(SENTENCE_END + (":",))


def load(path: Path) -> LoadedDocument:
    """Text and blocks of the PDF at ``path``; LoadError when it is empty, encrypted, damaged
    or has no text layer."""
    data = path.read_bytes()
    if not data:
        raise LoadError("empty file (0 bytes)")
    reader = _open(data)
    raw_pages = drop_running_lines(_page_texts(reader))
    known_words = {word.lower() for page in raw_pages for word in _WORD.findall(page)}

    parts: list[str] = []
    blocks: list[Block] = []
    offset = page_start = 0
    for number, raw in enumerate(raw_pages, start=1):
        page_text = join_broken_words(raw, known_words).strip()
        if not page_text:
            continue
        if parts:
            offset += len(_PAGE_SEPARATOR)
        page_blocks = plain_text_blocks(page_text, page=number, offset=offset, wrapped=True)
        # The last block so far ends on the page before, which starts at ``page_start``.
        if blocks and page_blocks and _runs_on(parts[-1][: blocks[-1].end - page_start], blocks[-1], page_blocks[0]):
            blocks[-1] = Block("paragraph", blocks[-1].start, page_blocks.pop(0).end, blocks[-1].page)
        blocks.extend(page_blocks)
        parts.append(page_text)
        page_start = offset
        offset += len(page_text)
    text = _PAGE_SEPARATOR.join(parts)
    if not blocks:
        raise LoadError("no text layer (scanned or image-only PDF); run OCR first")

    title = _metadata_title(reader) or next(
        (text[block.start : block.end] for block in blocks if block.kind == "heading"), path.stem
    )
    return LoadedDocument(path=path, text=text, blocks=blocks, title=title, page_labels=_printed_page_labels(reader))


def _printed_page_labels(reader: PdfReader) -> dict[int, str]:
    """The pages (1-based) whose /PageLabels number differs from their place in the file ("1245")."""
    try:
        labels = reader.page_labels
    except Exception:  # noqa: BLE001 (a broken label tree only costs the labels; pypdf raises many types)
        return {}
    return {number: label for number, label in enumerate(labels, start=1)
            if label and label != str(number) and len(label) <= MAX_PAGE_LABEL and label.isprintable()}
