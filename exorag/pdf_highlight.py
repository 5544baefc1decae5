"""Where a passage sits on the pages of a PDF, from the PDF's own character positions (pypdfium2).

Text is matched letter by letter, ignoring spaces, line ends, hyphens and citation brackets, so a
sentence broken across lines, columns or pages is still found, in pieces when a running header or
a page number sits between its halves; its characters are then grouped into one box per line.
Boxes are in PDF points from the page's top-left corner.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

# "[170-172]" or "[13, 14]" in the page text: skipped when matching, as answers quote without them.
_CITATION = re.compile(r"\[\s*\d[\d\s,\u2013\u2014-]*\]")
# Characters of one line differ in baseline by less than this share of their height.
_SAME_LINE = 0.5
# A sentence interrupted by page furniture is matched in pieces of at least this many letters,
# with at most this many letters (a running header, a page number) between them.
_MIN_PIECE = 12
_MAX_GAP = 400
# The most characters read from one page (a dense A4 page holds about 6,000, a poster 50,000) and
# from a whole document when looking for a sentence.
MAX_PAGE_CHARS = 200_000
MAX_DOCUMENT_CHARS = 2_000_000
PAGE_SCALE = 1.5  # 108 dpi: sharp enough to read, small enough to send with the panel
# A large-format page (a poster, up to 5 m square) is drawn smaller: at 1.5x it would take gigabytes.
MAX_PAGE_PIXELS = 4_000_000


class PdfHighlightError(ValueError):
    """The PDF cannot be opened; the message names the file."""


@dataclass
class Box:
    left: float
    top: float
    right: float
    bottom: float


@dataclass
class PageHighlight:
    """The boxes covering a passage on one page (1-based), with the page size in points."""

    page: int
    width: float
    height: float
    boxes: list[Box] = field(default_factory=list)


def locate_text(pdf_path: Path, text: str, near_page: int | None = None) -> list[PageHighlight]:
    """The pages and boxes where ``text`` is printed in ``pdf_path``, one entry per page it covers.

    When the text occurs more than once, the occurrence starting nearest ``near_page`` wins.
    Empty when it is not found (a scanned page, or text the PDF spells differently).
    """
    wanted = _letters(_CITATION.sub(" ", text))
    if not wanted:
        return []
    document = _open(pdf_path)
    try:
        if not len(document):
            return []
        target = min(max((near_page or 1) - 1, 0), len(document) - 1)
        # the cited page and the next first (a passage starts there), then the whole document
        for page_indexes in (range(target, min(target + 2, len(document))), range(len(document))):
            joined, where = _page_letters(document, page_indexes)
            pieces = _match_pieces(joined, wanted, lambda start: abs(where[start][0] - target))
            if pieces:
                break
        covered: dict[int, list[int]] = {}
        for start, end in pieces:
            for page_index, char_index in where[start:end]:
                chars_on_page = covered.setdefault(page_index, [])
                if not chars_on_page or chars_on_page[-1] != char_index:
                    chars_on_page.append(char_index)
        return [_page_highlight(document[p], p, indexes) for p, indexes in covered.items()]
    finally:
        document.close()


@dataclass
class PageImage:
    """A rendered page: PNG bytes, and the page size in points (what the boxes are measured in)."""

    png: bytes
    width: float
    height: float


def _page_letters(document: pdfium.PdfDocument, page_indexes: range) -> tuple[str, list[tuple[int, int]]]:
    """The letters of these pages (see ``_letters``) without citation brackets, and the (page index,
    char index) each comes from."""
    letters: list[str] = []
    where: list[tuple[int, int]] = []
    for page_index in page_indexes:
        textpage = document[page_index].get_textpage()
        count = textpage.count_chars()
        # A few kB of PDF can print millions of characters: such a page is not searched, nor is a
        # document past its budget (each letter costs a tuple here).
        if count > MAX_PAGE_CHARS or len(letters) + count > MAX_DOCUMENT_CHARS:
            continue
        chars = "".join(chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, i)) for i in range(count))
        skipped = {i for m in _CITATION.finditer(chars) for i in range(m.start(), m.end())}
        for char_index, char in enumerate(chars):
            if char_index in skipped:
                continue
            for letter in _letters(char):
                letters.append(letter)
                where.append((page_index, char_index))
    return "".join(letters), where


def _match_pieces(joined: str, wanted: str, distance: Callable[[int], int]) -> list[tuple[int, int]]:
    """Where ``wanted`` is in ``joined``: one (start, end) span, or several when page furniture (a
    running header, a page number) interrupts it; [] when it is not there.

    Each piece is the longest rest of ``wanted`` found within ``_MAX_GAP`` letters of the pieces
    before it, after them or before them (a page turned by /Rotate may give its lines bottom to
    top); the first piece's occurrence is the one with the smallest ``distance`` (to the page cited).
    """
    starts = [m.start() for m in re.finditer(re.escape(wanted), joined)]
    if starts:
        start = min(starts, key=distance)
        return [(start, start + len(wanted))]
    length = _longest_found(joined, wanted, 0, len(joined))
    if length < _MIN_PIECE:
        return []
    first = min((m.start() for m in re.finditer(re.escape(wanted[:length]), joined)), key=distance)
    pieces, done = [(first, first + length)], length
    while done < len(wanted):
        low, high = min(start for start, _ in pieces), max(end for _, end in pieces)
        reach = _MAX_GAP + len(wanted) - done
        after = (high, min(len(joined), high + reach))
        before = (max(0, low - reach), low)
        length, (window_start, window_end) = max(
            (_longest_found(joined, wanted[done:], *window), window) for window in (after, before))
        if length < min(_MIN_PIECE, len(wanted) - done):
            return []
        piece = wanted[done : done + length]
        if (window_start, window_end) == after:
            start = joined.find(piece, *after)
            gap = start - high
        else:
            start = joined.rfind(piece, *before)
            gap = low - (start + length)
        if gap > _MAX_GAP:
            return []
        pieces.append((start, start + length))
        done += length
    return pieces


def _longest_found(joined: str, wanted: str, low: int, high: int) -> int:
    """The length of the longest start of ``wanted`` found in ``joined[low:high]`` (binary search:
    a start that is found has every shorter start found too)."""
    shortest, longest = 0, len(wanted)
    while shortest < longest:
        middle = (shortest + longest + 1) // 2
        if joined.find(wanted[:middle], low, high) >= 0:
            shortest = middle
        else:
            longest = middle - 1
    return shortest


def render_page_png(pdf_path: Path, page: int, scale: float = PAGE_SCALE) -> PageImage:
    """Page ``page`` (1-based) of ``pdf_path`` as a PNG image."""
    document = _open(pdf_path)
    try:
        if not 1 <= page <= len(document):
            raise PdfHighlightError(f"{pdf_path.name}: no page {page} (the PDF has {len(document)})")
        pdf_page = document[page - 1]
        width, height = pdf_page.get_size()
        scale = min(scale, math.sqrt(MAX_PAGE_PIXELS / max(1.0, width * height)))
        buffer = io.BytesIO()
        pdf_page.render(scale=scale).to_pil().save(buffer, format="PNG", compress_level=3)
        return PageImage(buffer.getvalue(), *pdf_page.get_size())
    finally:
        document.close()


def _open(pdf_path: Path) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(pdf_path)
    except pdfium.PdfiumError as error:
        raise PdfHighlightError(f"{pdf_path.name}: cannot open the PDF ({error})") from error


def _page_highlight(page: pdfium.PdfPage, page_index: int, char_indexes: list[int]) -> PageHighlight:
    width, height = page.get_size()
    to_view = _view_of(page)
    textpage = page.get_textpage()
    boxes: list[Box] = []
    for index in char_indexes:
        char = to_view(*textpage.get_charbox(index))
        if char.right <= char.left or char.bottom <= char.top:
            continue  # a generated space or line end has no extent
        last = boxes[-1] if boxes else None
        if last is not None and _same_line(last, char) and char.left >= last.left - 1:
            last.left, last.top = min(last.left, char.left), min(last.top, char.top)
            last.right, last.bottom = max(last.right, char.right), max(last.bottom, char.bottom)
        else:
            boxes.append(char)
    return PageHighlight(page=page_index + 1, width=width, height=height, boxes=boxes)


def _view_of(page: pdfium.PdfPage) -> Callable[[float, float, float, float], Box]:
    """The box, on the page as it is rendered (from its top-left corner, in points), of a character
    box in the PDF's own coordinates (left, bottom, right, top): measured from the crop box, which
    a publisher's trimmed page moves off the origin, and turned as the page's /Rotate turns it."""
    x0, y0, x1, y1 = page.get_bbox()  # the crop box as pdfium shows it (inherited, within the media box)
    width, height = x1 - x0, y1 - y0
    turn = page.get_rotation() % 360

    def point(x: float, y: float) -> tuple[float, float]:
        u, v = x - x0, y - y0  # from the crop box's lower-left corner, upwards
        return {0: (u, height - v), 90: (v, u), 180: (width - u, v), 270: (height - v, width - u)}[turn]

    def to_view(left: float, bottom: float, right: float, top: float) -> Box:
        (ax, ay), (bx, by) = point(left, bottom), point(right, top)
        return Box(min(ax, bx), min(ay, by), max(ax, bx), max(ay, by))

    return to_view


def _same_line(line: Box, char: Box) -> bool:
    char_height = char.bottom - char.top
    return abs(line.bottom - char.bottom) < _SAME_LINE * char_height and char.left - line.right < 3 * char_height


def _letters(text: str) -> str:
    """Lowercase letters and digits only, ligatures unfolded (``ﬁ`` -> ``fi``)."""
    return "".join(c for c in unicodedata.normalize("NFKD", text).lower() if c.isalnum())
