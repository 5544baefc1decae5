""""Open in PDF": the page of a cited paper, drawn as an image with the cited sentence boxed.

The boxes come from the PDF's own character positions (exorag.pdf_highlight), placed over the
page image in percent of the page size, so they stay on the text at any panel width.
"""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from exorag.models import Evidence
from exorag.pdf_highlight import PageHighlight, PdfHighlightError, locate_text, render_page_png
from ui.render import FileLinks, marked_spans


def pdf_view_html(evidence: Evidence, sentence: str, links: FileLinks) -> str:
    """The page(s) of ``evidence``'s PDF holding the part of it that states ``sentence``, highlighted."""
    if links.url(evidence.source_path) is None:
        return _notice(f"{evidence.source_path} is not a PDF in the corpus.")
    path = (links.corpus / evidence.source_path).resolve()
    passage = evidence.text
    pages: dict[int, PageHighlight] = {}
    try:
        for start, end in marked_spans(passage, sentence):
            for found in locate_text(path, passage[start:end], evidence.page):
                pages.setdefault(found.page, PageHighlight(found.page, found.width, found.height)).boxes += found.boxes
        note = ""
        if not pages:
            page = evidence.page or 1
            note = (f"The cited sentence was not found in the text layer of this PDF; showing page {page}, "
                    "where the passage starts.")
            pages[page] = PageHighlight(page, 0, 0)
        images = "".join(_page_html(path, pages[number]) for number in sorted(pages))
    except PdfHighlightError as error:
        return _notice(str(error))
    numbers = sorted(pages)
    where = f"page {numbers[0]}" if len(numbers) == 1 else f"pages {numbers[0]}-{numbers[-1]}"
    header = (
        f'<header class="xr-pdf-title"><code>{escape(evidence.source_path)}</code>, {where}'
        f' <a href="{escape(links.url(evidence.source_path, numbers[0]) or "")}" target="_blank" rel="noopener">'
        "open the whole PDF</a></header>"
    )
    note_html = f'<p class="xr-muted">{escape(note)}</p>' if note else ""
    return f'<div class="xr-pdf-view" data-source="{escape(evidence.source_path)}">{header}{note_html}{images}</div>'


def _page_html(path: Path, page: PageHighlight) -> str:
    image = base64.b64encode(render_page_png(path, page.page)).decode("ascii")
    boxes = "".join(
        f'<div class="xr-pdf-box" style="left:{100 * b.left / page.width:.3f}%;top:{100 * b.top / page.height:.3f}%;'
        f'width:{100 * (b.right - b.left) / page.width:.3f}%;height:{100 * (b.bottom - b.top) / page.height:.3f}%"></div>'
        for b in page.boxes
    )
    return (
        f'<div class="xr-pdf-page" data-page="{page.page}">'
        f'<img src="data:image/png;base64,{image}" alt="Page {page.page}">{boxes}</div>'
    )


def _notice(message: str) -> str:
    return f'<div class="xr-pdf-view"><p class="xr-muted">{escape(message)}</p></div>'
