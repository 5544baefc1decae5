"""Locating a cited sentence in a real PDF from its own character positions (pypdfium2)."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import pytest
from fpdf import FPDF
from pdf_factory import char_boxes, make_pdf, make_two_column_pdf

from exorag.pdf_highlight import MAX_PAGE_CHARS, MAX_PAGE_PIXELS, Box, locate_text, render_page_png

FILLER = "Exosomes are small vesicles that cells release into the blood and other body fluids. "
LEAD = "Mice were followed for ten weeks."
TARGET = ("Pancreatic tumour exosomes carry the protein NKS-901, which silences natural killer cells and lets the "
          "tumour escape immune attack in the liver.")
AFTER = "Blocking NKS-901 restored the killing of tumour cells."


def sentence_span(text: str, sentence: str) -> tuple[int, int]:
    """Character indexes of ``sentence`` in PDFium's page text, whose line ends are "\\r\\n"."""
    pattern = r"\s+".join(re.escape(word) for word in sentence.split())
    match = re.search(pattern, text)
    assert match, f"{sentence!r} is not on the page"
    return match.start(), match.end()


def center_inside(char: tuple[float, float, float, float], boxes: list[Box]) -> bool:
    x, y = (char[0] + char[2]) / 2, (char[1] + char[3]) / 2
    return any(b.left <= x <= b.right and b.top <= y <= b.bottom for b in boxes)


def assert_boxes_cover_exactly(pdf: Path, page: int, sentence: str, boxes: list[Box]) -> int:
    """Every visible character of ``sentence`` lies in a box and no other character of the page does;
    returns the number of lines the sentence's characters sit on."""
    text, chars = char_boxes(pdf, page)
    start, end = sentence_span(text, sentence)
    visible = [i for i, c in enumerate(text) if not c.isspace() and chars[i][2] > chars[i][0]]
    inside = [i for i in visible if start <= i < end]
    outside = [i for i in visible if not start <= i < end]
    assert all(center_inside(chars[i], boxes) for i in inside if text[i].isalnum())
    assert not [text[i] for i in outside if center_inside(chars[i], boxes)]
    return text[start:end].count("\n") + 1


def test_a_sentence_broken_across_lines_of_the_right_column_is_boxed_line_by_line(tmp_path):
    paragraph = f"{LEAD} {TARGET} {AFTER}"
    pdf = make_two_column_pdf(tmp_path / "two-columns.pdf", [["# Results", FILLER * 44, paragraph, FILLER * 2]])
    found = locate_text(pdf, TARGET, near_page=1)
    assert [h.page for h in found] == [1]
    boxes = found[0].boxes
    lines = assert_boxes_cover_exactly(pdf, 1, TARGET, boxes)
    assert lines >= 2 and len(boxes) == lines  # one box a line
    assert min(b.left for b in boxes) > found[0].width / 2  # the right column, not the left


def boxed_letters(pdf: Path, page: int, boxes: list[Box]) -> str:
    """The letters and digits of page ``page`` that lie in ``boxes``, in reading order, lowercase."""
    text, chars = char_boxes(pdf, page)
    return "".join(c.lower() for i, c in enumerate(text) if c.isalnum() and center_inside(chars[i], boxes))


@pytest.mark.parametrize(("filler", "running_header"), [(55, None), (54, "Journal of Exosome Tests 2024; 12: 101-113")])
def test_a_sentence_across_a_page_break_gets_boxes_on_both_pages(tmp_path, filler, running_header):
    # one paragraph long enough that TARGET starts at the foot of page 1 and ends on page 2; with a
    # running header, the page number and the header sit between its two halves
    pdf = make_pdf(tmp_path / "long.pdf", [[f"{(FILLER * filler).strip()} {TARGET} {AFTER}"]],
                   running_header=running_header)
    text_one, _ = char_boxes(pdf, 1)
    assert "Pancreatic" in text_one and "liver" not in text_one, "the test PDF must break TARGET across pages"
    found = locate_text(pdf, TARGET, near_page=1)
    assert [h.page for h in found] == [1, 2]
    boxed = boxed_letters(pdf, 1, found[0].boxes) + boxed_letters(pdf, 2, found[1].boxes)
    assert boxed == "".join(c.lower() for c in TARGET if c.isalnum())  # the sentence and nothing else


def test_text_the_pdf_does_not_hold_is_not_found_and_pages_render(tmp_path):
    pdf = make_pdf(tmp_path / "short.pdf", [[FILLER]])
    assert locate_text(pdf, "Exosomes cure every cancer overnight.", near_page=1) == []
    rendered = render_page_png(pdf, 1)
    assert rendered.png.startswith(b"\x89PNG") and (round(rendered.width), round(rendered.height)) == (595, 842)


def test_a_large_format_page_is_drawn_small_enough_to_send(tmp_path):
    # A poster-sized page at the usual 1.5x would take gigabytes to draw.
    poster = FPDF(unit="pt", format=(7200, 7200))
    poster.add_page()
    poster.set_font("Helvetica", size=96)
    poster.cell(text="Tumour exosomes carry PD-L1.")
    path = tmp_path / "poster.pdf"
    poster.output(str(path))
    rendered = render_page_png(path, 1)
    width, height = struct.unpack(">II", rendered.png[16:24])  # the PNG header's IHDR
    assert (round(rendered.width), round(rendered.height)) == (7200, 7200)
    assert width * height <= MAX_PAGE_PIXELS and width == height > 1000



def _printing_pdf(path: Path, sentence: str, filler_chars: int) -> Path:
    """A PDF of one page that prints ``sentence`` and then ``filler_chars`` more characters, in a few
    hundred bytes of compressed content (as a crafted file can)."""
    filler = b"(" + b"ab " * 10_000 + b") Tj "
    content = b"BT /F1 10 Tf 20 700 Td (" + sentence.encode() + b") Tj " + filler * (filler_chars // 30_000) + b"ET"
    stream = zlib.compress(content, 9)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [5 0 R] /Count 1 >>",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
               (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
                b"/Contents 4 0 R >>")]
    out, offsets = bytearray(b"%PDF-1.7\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def test_a_page_printing_more_characters_than_a_page_holds_is_not_searched(tmp_path):
    sentence = "Exosomal PD-L1 suppresses CD8 T cell activation."
    small = _printing_pdf(tmp_path / "small.pdf", sentence, 30_000)
    assert locate_text(small, sentence, near_page=1)
    # A few kB that print millions of characters once cost gigabytes to search; past the cap the page is skipped.
    crafted = _printing_pdf(tmp_path / "crafted.pdf", sentence, MAX_PAGE_CHARS + 30_000)
    assert crafted.stat().st_size < 10_000
    assert locate_text(crafted, sentence, near_page=1) == []


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_boxes_land_on_the_sentence_of_a_trimmed_or_turned_page(tmp_path, rotation):
    # A publisher's page trimmed by its crop box, or turned by /Rotate: the boxes were measured from
    # the uncropped, unturned page and landed on the title, or off the page.
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import RectangleObject

    plain = make_pdf(tmp_path / "plain.pdf", [["# Results", LEAD + " " + TARGET + " " + AFTER]])
    (original,) = locate_text(plain, TARGET, near_page=1)
    page_height = float(PdfReader(plain).pages[0].mediabox.height)
    writer = PdfWriter(clone_from=plain)
    crop = (20.0, 40.0, float(writer.pages[0].mediabox.width) - 15.0, page_height - 30.0)
    writer.pages[0].cropbox = RectangleObject(crop)
    writer.pages[0].rotate(rotation)
    writer.write(tmp_path / "trimmed.pdf")
    (found,) = locate_text(tmp_path / "trimmed.pdf", TARGET, near_page=1)
    width, height = crop[2] - crop[0], crop[3] - crop[1]
    assert (found.width, found.height) == pytest.approx((width, height) if rotation in (0, 180) else (height, width))

    def turned(box: Box) -> tuple[float, float, float, float]:
        """Where ``box`` of the plain page lies on the trimmed page as displayed."""
        left, top, right, bottom = box.left - crop[0], box.top - (page_height - crop[3]), box.right - crop[0], box.bottom - (page_height - crop[3])
        return {0: (left, top, right, bottom), 90: (height - bottom, left, height - top, right),
                180: (width - right, height - bottom, width - left, height - top),
                270: (top, width - right, bottom, width - left)}[rotation]

    expected = sorted(turned(b) for b in original.boxes)
    boxes = [(b.left, b.top, b.right, b.bottom) for b in found.boxes]
    # turned by 90 or 270, a line is a column of letters: each letter is its own box, within a line's box
    assert all(any(e[0] - 0.5 <= b[0] and b[2] <= e[2] + 0.5 and e[1] - 0.5 <= b[1] and b[3] <= e[3] + 0.5
                   for e in expected) for b in boxes)
    assert all(0 <= b[0] and b[2] <= found.width and 0 <= b[1] and b[3] <= found.height for b in boxes)
