"""``exorag audit``: the review's citations checked against the cited papers, or one claim
against the whole corpus (``--claim``)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from exorag.cli.common import console, errors, fail, require_index


def audit_command(
    corpus: Annotated[Path | None, typer.Option("--corpus", help="corpus folder (default corpus/, EXORAG_CORPUS)")] = None,
    index: Annotated[Path | None, typer.Option("--index", help="index folder (default index/, EXORAG_INDEX)")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="folder for audit.json, audit.md and audit.html (default <index>/audit)", file_okay=False)] = None,
    claim: Annotated[str | None, typer.Option("--claim", help="check this sentence against the whole corpus instead")] = None,
    judge: Annotated[str, typer.Option("--judge", help="rules (default), auto, learned, nli or llm")] = "rules",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Check every review sentence that cites reference numbers against the cited papers' text."""
    from exorag.audit.core import audit_folder, audit_review, indexed_chunks, suggest_references
    from exorag.audit.render import summary_line, write_audit
    from exorag.config import get_settings
    from exorag.judge import JudgeError, get_judge
    from exorag.store.chroma import StoreUnavailable

    settings = get_settings(index=index, corpus=corpus)
    require_index(settings)
    try:
        chosen = get_judge(judge, settings)
        chunks = indexed_chunks(settings)
    except (JudgeError, StoreUnavailable) as error:
        fail(str(error))
    if claim is not None:
        if not claim.strip():
            fail("--claim is empty: give the sentence to check")
        suggestions = suggest_references(claim, settings, chosen, chunks)
        if as_json:
            print(json.dumps({"claim": claim, "suggestions": [_suggestion(item) for item in suggestions]},
                             ensure_ascii=False, indent=1))
            return
        # A claim or a paper's text is printed as written: "[and/or]" or "[/]" in it is no markup.
        table = Table(title=f"references for: {escape(claim)}")
        for column in ("ref", "verdict", "score", "passage"):
            table.add_column(column, overflow="fold")
        for item in suggestions:
            table.add_row(str(item.ref), item.verdict, f"{item.score:.2f}", escape(item.passage.evidence) if item.passage else "")
        console.print(table if suggestions else "no paper in the corpus speaks to this sentence")
        return
    from rich.progress import Progress

    with Progress(console=errors, transient=True, disable=as_json) as bar:
        task = bar.add_task("auditing citations", total=None)
        audit = audit_review(chunks, chosen, progress=lambda done, total: bar.update(task, completed=done, total=total))
    paths = write_audit(audit, out or audit_folder(settings))
    if as_json:
        print(json.dumps(audit.to_json(), ensure_ascii=False, indent=1))
        return
    console.print(f"judge {chosen.name}: {summary_line(audit)}")
    console.print("wrote " + ", ".join(str(path) for path in paths))


def _suggestion(item) -> dict:
    return {"ref": item.ref, "verdict": item.verdict, "score": item.score,
            "passage": asdict(item.passage) if item.passage else None}


def register(app: typer.Typer) -> None:
    """Add ``audit`` to exorag's command-line app."""
    app.command("audit")(audit_command)
