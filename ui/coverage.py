"""The "Literature coverage" tab: for each reference number the review cites, what the corpus
holds of that paper (from ``exorag.refs.status``)."""

from __future__ import annotations

from html import escape
from pathlib import Path
from urllib.parse import quote

from exorag.refs.status import HOLDING_LABELS, coverage_report


def coverage_html(corpus: Path) -> str:
    """Totals and one table row per cited reference number."""
    report = coverage_report(corpus)
    if not report.rows:
        return '<div class="xr-notice">The review in this corpus cites no reference numbers, so there is nothing to cover.</div>'
    counts = " ".join(
        f"<span><b>{report.counts.get(holding, 0)}</b> {label}</span>" for holding, label in HOLDING_LABELS.items()
    )
    rows = []
    for row in report.rows:
        reference = escape(row.citation) if row.citation else '<span class="xr-muted">not in the reference list</span>'
        if row.doi:
            url = "https://doi.org/" + quote(row.doi, safe="/:;()._-")
            reference += f' <a href="{escape(url)}" target="_blank" rel="noopener">doi:{escape(row.doi)}</a>'
        files = "<br>".join(f"<code>{escape(f.path)}</code>" for f in row.files) or "—"
        sections = sorted({p.section for p in row.passages if p.section})
        cited_in = "; ".join(escape(s) for s in sections) or "—"
        rows.append(
            f'<tr><td>[{row.number}]</td><td class="xr-held-{row.holding}">{HOLDING_LABELS[row.holding]}</td>'
            f"<td>{files}</td><td>{reference}</td><td>{cited_in}</td></tr>"
        )
    problems = ""
    if report.problems:
        problems = '<div class="xr-notice xr-notice-error">' + "<br>".join(escape(p) for p in report.problems) + "</div>"
    return (
        f'<p class="xr-coverage-counts">{len(report.rows)} reference numbers cited by the review: {counts}</p>{problems}'
        '<div class="xr-coverage"><table><thead><tr><th>Ref</th><th>Corpus holds</th><th>Files</th>'
        "<th>Reference</th><th>Cited in</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>"
    )
