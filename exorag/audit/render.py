"""The audit as people read it: Markdown and a standalone HTML page (every corpus text escaped)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from exorag.atomic import write_text_atomic
from exorag.audit.core import AUDIT_VERDICTS, Audit, AuditItem, Passage
from exorag.citations import find_citations
from exorag.text import inert_markdown

LABELS = {"supported": "supported", "partial": "partly supported", "contradicted": "contradicted",
          "not_found": "not found in the paper", "paper_missing": "paper not in the corpus"}
COLOURS = {"supported": "#1a7f37", "partial": "#9a6700", "contradicted": "#cf222e", "not_found": "#57606a",
           "paper_missing": "#8250df"}
STYLE = """body{font-family:system-ui,sans-serif;max-width:72rem;margin:1rem auto;padding:0 1rem;color:#1f2328}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #d0d7de;padding:.4rem;vertical-align:top;text-align:left}
.verdict{font-weight:600;white-space:nowrap}mark{background:#fff8c5}.passage{font-size:.9em;color:#444}
.source{font-size:.8em;color:#57606a}"""


def summary_line(audit: Audit) -> str:
    """``12 sentences, 20 citations: 9 supported, ...``: the audit in one line."""
    counts = audit.summary
    verdicts = ", ".join(f"{counts[v]} {LABELS[v]}" for v in AUDIT_VERDICTS)
    return f"{counts['sentences']} sentences, {counts['pairs']} citations: {verdicts}"


# What closes a sentence after its last word: its citations and its full stop.
_CLOSING = re.compile(r"(?:\s*\[[^\[\]]{0,40}\])*[.!?;:]?")


def evidence_span(evidence: str, text: str) -> tuple[int, int] | None:
    """Where ``evidence`` is in ``text``, compared on letters and digits outside citation brackets:
    the judge's evidence sentence has the passage's citations ("… lymph node [12, 13].") and
    spacing taken out, so it is seldom a substring of the passage."""
    cited = {i for start, end, _ in find_citations(text) for i in range(start, end)}
    positions = [i for i, c in enumerate(text) if c.isalnum() and i not in cited]
    letters = "".join(text[i] for i in positions).casefold()
    wanted = "".join(c for c in evidence if c.isalnum()).casefold()
    where = letters.find(wanted) if wanted else -1
    if where < 0 or len(letters) != len(positions):  # casefold changed a length ("ß"): no safe mapping
        return None
    end = positions[where + len(wanted) - 1] + 1
    return positions[where], end + len(_CLOSING.match(text, end).group())


def highlighted(passage: Passage) -> str:
    """The passage's text, escaped, with the evidence sentence marked."""
    text = passage.text
    span = evidence_span(passage.evidence, text) if passage.evidence else None
    if span is None:
        return html.escape(text)
    start, end = span
    return html.escape(text[:start]) + "<mark>" + html.escape(text[start:end]) + "</mark>" + html.escape(text[end:])


def _source(passage: Passage | None) -> str:
    if passage is None:
        return ""
    page = f", p. {passage.page_label or passage.page}" if passage.page else ""
    return f"{passage.source_path}{page}"


def items_html(items: list[AuditItem]) -> str:
    """A table of audit items (sentence, citation, verdict, highlighted passage), corpus text escaped."""
    rows = ["<table class='audit'><thead><tr><th>sentence</th><th>ref</th><th>verdict</th><th>best passage</th></tr></thead><tbody>"]
    for item in items:
        passage = ""
        if item.passage:
            passage = (f"<div class='passage'>{highlighted(item.passage)}</div>"
                       f"<div class='source'>{html.escape(_source(item.passage))}</div>")
        rows.append(
            f"<tr class='verdict-{item.verdict}'><td>{html.escape(item.sentence)}"
            f"<div class='source'>{html.escape(item.section)}</div></td><td>[{item.ref}]</td>"
            f"<td class='verdict' style='color:{COLOURS[item.verdict]}'>{LABELS[item.verdict]}"
            f"<div class='source'>{item.score:.2f}</div></td><td>{passage}</td></tr>"
        )
    rows.append("</tbody></table>")
    return "\n".join(rows)


def audit_html(audit: Audit, title: str = "Citation audit") -> str:
    """A standalone HTML page of the audit."""
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<p class='summary'>{html.escape(summary_line(audit))}</p>{items_html(audit.items)}</body></html>")


def _cell(text: str) -> str:
    """Corpus text as one Markdown table cell: on one line, its bars escaped, never a link or HTML."""
    return inert_markdown(" ".join(text.split())).replace("|", "\\|")


def audit_markdown(audit: Audit) -> str:
    """The audit as a Markdown table."""
    lines = ["# Citation audit", "", summary_line(audit), "",
             "| sentence | ref | verdict | score | best passage |", "|---|---:|---|---:|---|"]
    for item in audit.items:
        evidence = f"{_cell(item.passage.evidence)} ({_cell(_source(item.passage))})" if item.passage else ""
        lines.append(f"| {_cell(item.sentence)} | {item.ref} | {LABELS[item.verdict]} | {item.score:.2f} | {evidence} |")
    return "\n".join(lines) + "\n"


def write_audit(audit: Audit, out: Path) -> list[Path]:
    """Write ``audit.json``, ``audit.md`` and ``audit.html`` into ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "audit.json", out / "audit.md", out / "audit.html"]
    # Written whole: the UI's Audit tab of other users reads audit.json while a re-run writes it.
    write_text_atomic(paths[0], json.dumps(audit.to_json(), ensure_ascii=False, indent=1))
    write_text_atomic(paths[1], audit_markdown(audit))
    write_text_atomic(paths[2], audit_html(audit))
    return paths
