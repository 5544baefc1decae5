"""The Audit tab: the citation audit of the review (``exorag audit``), loaded or run, as HTML."""

from __future__ import annotations

import html

from exorag.config import Settings


def audit_page(settings: Settings, run: bool = False) -> str:
    """The audit's summary and table; the last audit of the index unless ``run`` (or none exists)."""
    from exorag.audit.core import audit_folder, audit_review, indexed_chunks, load_audit
    from exorag.audit.render import items_html, summary_line, write_audit
    from exorag.judge import JudgeError, runtime_judge

    saved = audit_folder(settings) / "audit.json"
    try:
        if saved.is_file() and not run:
            audit = load_audit(saved)
        else:
            audit = audit_review(indexed_chunks(settings), runtime_judge(settings))
            write_audit(audit, audit_folder(settings))
    except (JudgeError, OSError, ValueError, KeyError) as error:
        return f"<p class='xr-audit-error'>The audit could not run: {html.escape(str(error))}</p>"
    if not audit.items:
        return "<p>No sentence of the review cites a reference number, so there is nothing to audit.</p>"
    return f"<p class='xr-audit-summary'><b>{html.escape(summary_line(audit))}</b></p>{items_html(audit.items)}"
