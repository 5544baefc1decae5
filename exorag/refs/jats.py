"""Open-access full text in JATS XML (Europe PMC, PubMed Central) as plain text a loader ingests:
the title, then each section heading on its own line followed by its paragraphs.

The paper's own citation markers (``<xref ref-type="bibr">``) and its reference list are left out:
their numbers belong to the paper's bibliography, not the review's, and would be read as the
review's reference numbers.
"""

from __future__ import annotations

import re
from xml.etree import ElementTree

# Elements whose text is not prose worth indexing.
_SKIPPED = frozenset(
    {"ref-list", "table", "graphic", "media", "disp-formula", "inline-formula", "object-id", "fn-group"}
)
_BLOCKS = frozenset({"p", "title", "caption", "label"})
_EMPTY_BRACKETS = re.compile(r"\s*[\[(][\s,;\u2013\u2014-]*[\])]")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([.,;:])")


class JatsError(ValueError):
    """XML that is not a JATS article."""


def jats_to_text(xml: str | bytes) -> str:
    """Plain text of a JATS article: title, abstract and body, blank lines between blocks."""
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as error:
        raise JatsError(f"not valid XML ({error})") from error
    blocks: list[str] = []
    title = root.find(".//article-meta/title-group/article-title")
    if title is not None:
        blocks.append(_inline_text(title))
    abstract = next((a for a in root.iter("abstract") if a.get("abstract-type") is None), None)
    if abstract is not None:
        blocks.append("Abstract")
        blocks.extend(_section_blocks(abstract))
    body = root.find(".//body")
    if body is not None:
        blocks.extend(_section_blocks(body))
    blocks = [block for block in blocks if block]
    if len(blocks) <= 1:
        raise JatsError("the article has no abstract or body text")
    return "\n\n".join(blocks) + "\n"


def _section_blocks(element: ElementTree.Element) -> list[str]:
    blocks: list[str] = []
    for child in element:
        name = _local(child.tag)
        if name in _SKIPPED:
            continue
        if name in _BLOCKS:
            blocks.append(_inline_text(child))
        else:
            blocks.extend(_section_blocks(child))
    return blocks


def _inline_text(element: ElementTree.Element) -> str:
    parts = [element.text or ""]
    for child in element:
        skip = _local(child.tag) in _SKIPPED or (_local(child.tag) == "xref" and child.get("ref-type") == "bibr")
        if not skip:
            parts.append(_inline_text(child))
        parts.append(child.tail or "")
    text = " ".join(_EMPTY_BRACKETS.sub("", "".join(parts)).split())
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", text)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""
