"""Real PDFs for tests, written with fpdf2 (and pypdf for encryption).

    make_pdf(path, [["# Results", "Exosomes carry PD-L1 [170-172]."], ["Page two text."]], title="X")

Each page is a list of paragraphs. A paragraph that starts with ``# `` is drawn as a bold heading
(without the ``# ``); long paragraphs wrap at the page width (text that overflows an A4 page
continues on an extra page); a ``\\n`` inside a paragraph forces a line break there (to place a
hyphenated word at a line end, say). With ``running_header`` every page carries that line at its
top and its page number at its foot, as journal PDFs do. Text is drawn in Helvetica, or in DejaVu
Sans when it has characters outside Latin-1 (Greek letters, en dashes). Output is byte-for-byte
the same for the same arguments. Every function returns the path it wrote.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from fpdf import FPDF
from PIL import Image, ImageDraw
from pypdf import PdfWriter

Pages = list[list[str]]

SAMPLE_PAGES: Pages = [
    [
        "# Exosomal PD-L1 and T cells",
        (
            "Tumour cells release exosomes that carry PD-L1 on their surface. These vesicles bind PD-1 on "
            "T cells and suppress their activation, both in the tumour and systemically [170-172]."
        ),
    ],
    [
        "# Hypoxia and exosome release",
        "Hypoxic breast cancer cells release more exosomes, and their cargo changes with HIF-1 activation [13-16, 14].",
    ],
]

_UNICODE_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
_UNICODE_BOLD_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
_FIXED_DATE = datetime(2024, 1, 1, tzinfo=UTC)


class _JournalPage(FPDF):
    running_header = ""
    text_font = "helvetica"

    def header(self) -> None:
        if self.running_header:
            self.set_font(self.text_font, "", 8)
            self.cell(0, 6, self.running_header, new_x="LMARGIN", new_y="NEXT")
            self.ln(2)

    def footer(self) -> None:
        if self.running_header:
            self.set_y(-15)
            self.set_font(self.text_font, "", 8)
            self.cell(0, 6, str(self.page_no()), align="C")


def pdf_bytes(pages: Pages, title: str | None = None, running_header: str | None = None, compress: bool = True) -> bytes:
    """The bytes of a PDF with ``pages`` (see the module docstring) and metadata ``title``; uncompressed
    streams (``compress=False``) let a test edit its character map."""
    pdf = _JournalPage(format="A4")
    pdf.set_compression(compress)
    pdf.running_header = running_header or ""
    pdf.set_creation_date(_FIXED_DATE)
    if title:
        pdf.set_title(title)
    family = _font_family(pdf, [paragraph for page in pages for paragraph in page] + [title or "", pdf.running_header])
    pdf.text_font = family
    for page in pages:
        pdf.add_page()
        for paragraph in page:
            if paragraph.startswith("# "):
                pdf.set_font(family, "B", 15)
                pdf.multi_cell(0, 8, paragraph[2:], new_x="LMARGIN", new_y="NEXT")
                pdf.ln(2)
            else:
                pdf.set_font(family, "", 11)
                pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
                pdf.ln(4)
    return bytes(pdf.output())


def two_column_pdf_bytes(pages: Pages, title: str | None = None) -> bytes:
    """The bytes of a PDF whose pages set their paragraphs in two columns, as journals do; a
    paragraph flows from the foot of the left column to the top of the right one."""
    pdf = FPDF(format="A4")
    pdf.set_creation_date(_FIXED_DATE)
    if title:
        pdf.set_title(title)
    family = _font_family(pdf, [paragraph for page in pages for paragraph in page] + [title or ""])
    for page in pages:
        pdf.add_page()
        with pdf.text_columns(ncols=2, gutter=8, text_align="LEFT") as columns:
            for paragraph in page:
                heading = paragraph.startswith("# ")
                pdf.set_font(family, "B" if heading else "", 13 if heading else 11)
                columns.write(paragraph[2:] if heading else paragraph)
                columns.ln()
                columns.ln()
    return bytes(pdf.output())


def make_two_column_pdf(path: Path, pages: Pages, title: str | None = None) -> Path:
    """Write a two-column PDF with a text layer: one list of paragraphs per page."""
    path.write_bytes(two_column_pdf_bytes(pages, title))
    return path


def char_boxes(path: Path, page: int) -> tuple[str, list[tuple[float, float, float, float]]]:
    """Page ``page`` (1-based)'s text as PDFium reads it and each character's box (left, top, right,
    bottom) in points from the page's top-left corner: the PDF's own text positions."""
    document = pdfium.PdfDocument(path)
    try:
        pdf_page = document[page - 1]
        height = pdf_page.get_height()
        textpage = pdf_page.get_textpage()
        count = textpage.count_chars()
        text = "".join(chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, i)) for i in range(count))
        boxes = []
        for index in range(count):
            left, bottom, right, top = textpage.get_charbox(index)
            boxes.append((left, height - top, right, height - bottom))
        return text, boxes
    finally:
        document.close()


def make_pdf(path: Path, pages: Pages, title: str | None = None, running_header: str | None = None) -> Path:
    """Write a PDF with a text layer: one list of paragraphs per page."""
    path.write_bytes(pdf_bytes(pages, title, running_header))
    return path


def make_encrypted_pdf(
    path: Path, pages: Pages | None = None, user_password: str = "secret", owner_password: str = "owner"
) -> Path:
    """Write an AES-encrypted PDF. With ``user_password=""`` it opens without a password (it is
    only protected against editing), as many published PDFs are."""
    writer = PdfWriter(clone_from=io.BytesIO(pdf_bytes(pages or SAMPLE_PAGES)))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="AES-256")
    with path.open("wb") as file:
        writer.write(file)
    return path


def make_truncated_pdf(path: Path, pages: Pages | None = None) -> Path:
    """Write the first half of a valid PDF, as an interrupted download leaves it."""
    data = pdf_bytes(pages or SAMPLE_PAGES)
    path.write_bytes(data[: len(data) // 2])
    return path


def make_image_only_pdf(path: Path, pages: int = 1) -> Path:
    """Write a PDF whose pages hold only a picture (a scan without OCR): no text layer."""
    picture = Image.new("RGB", (400, 300), "white")
    draw = ImageDraw.Draw(picture)
    draw.rectangle((40, 40, 360, 260), outline="black", width=4)
    draw.ellipse((120, 90, 280, 210), fill=(180, 40, 40))
    pdf = FPDF(format="A4")
    pdf.set_creation_date(_FIXED_DATE)
    for _ in range(pages):
        pdf.add_page()
        pdf.image(picture, x=20, y=20, w=170)
    path.write_bytes(bytes(pdf.output()))
    return path


def _font_family(pdf: FPDF, texts: list[str]) -> str:
    if all(_is_latin1(text) for text in texts):
        return "helvetica"
    if not _UNICODE_FONT.exists():
        raise RuntimeError(f"text outside Latin-1 needs the DejaVu Sans font at {_UNICODE_FONT}")
    pdf.add_font("dejavu", "", str(_UNICODE_FONT))
    pdf.add_font("dejavu", "B", str(_UNICODE_BOLD_FONT))
    return "dejavu"


def _is_latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True
