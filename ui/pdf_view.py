""""Open in PDF": the page of a cited paper, drawn as an image with the cited sentence boxed.

The boxes come from the PDF's own character positions (exorag.pdf_highlight), placed over the
page image in percent of the page size, so they stay on the text at any width. The view opens
over the chat, large enough to read, and scrolls to the first box (assets/pdf_view.js).
"""

from __future__ import annotations

import base64
import uuid
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
    title = (
        f"<code>{escape(evidence.source_path)}</code>, {where}"
        f' <a href="{escape(links.url(evidence.source_path, numbers[0]) or "")}" target="_blank" rel="noopener">'
        "open the whole PDF</a>"
    )
    note_html = f'<p class="xr-muted">{escape(note)}</p>' if note else ""
    return _overlay(title, note_html + images, evidence.source_path)


def _page_html(path: Path, page: PageHighlight) -> str:
    rendered = render_page_png(path, page.page)
    image = base64.b64encode(rendered.png).decode("ascii")
    width, height = rendered.width, rendered.height
    boxes = "".join(
        f'<div class="xr-pdf-box" style="left:{100 * b.left / width:.3f}%;top:{100 * b.top / height:.3f}%;'
        f'width:{100 * (b.right - b.left) / width:.3f}%;height:{100 * (b.bottom - b.top) / height:.3f}%"></div>'
        for b in page.boxes
    )
    return (
        f'<div class="xr-pdf-page" data-page="{page.page}">'
        f'<img src="data:image/png;base64,{image}" alt="Page {page.page}" width="{round(width)}" '
        f'height="{round(height)}">{boxes}</div>'
    )


def _notice(message: str) -> str:
    return _overlay("Open in PDF", f'<p class="xr-muted">{escape(message)}</p>', "")


def _overlay(title: str, body: str, source: str) -> str:
    # a fresh id each time, so that opening the same page again shows it again after it was closed
    return (
        f'<div class="xr-pdf-backdrop" data-opened="{uuid.uuid4().hex}">'
        f'<div class="xr-pdf-view" role="dialog" aria-label="PDF page" data-source="{escape(source)}">'
        f'<header class="xr-pdf-title"><span>{title}</span>'
        '<button class="xr-pdf-close" type="button" aria-label="Close the PDF view" title="Close (Esc)">\u00d7</button>'
        f'</header><div class="xr-pdf-pages">{body}</div></div></div>'
    )
