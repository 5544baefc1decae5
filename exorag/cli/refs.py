"""``exorag refs extract | fetch | status``: thin commands over exorag.refs.

Exit codes as for the other commands: 0 done, 1 when something failed (the rest was done),
2 on a usage error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from exorag.cli.common import CorpusOption, JsonOption, fail
from exorag.config import get_settings
from exorag.refs.extract import ExtractError, extract_references
from exorag.refs.fetch import OUTCOME_LABELS, FetchError, FetchResult, fetch_literature, parse_numbers
from exorag.refs.importing import ImportItem, LibraryImportError, import_library
from exorag.refs.library import LibraryError
from exorag.refs.status import HOLDING_LABELS, coverage_report

refs_app = typer.Typer(
    help="The review's reference list and the cited papers: extract, import, fetch, status.", no_args_is_help=True
)

_PASSAGES_SHOWN = 3


def _corpus(corpus: Path | None) -> Path:
    return get_settings(corpus=corpus).corpus


@refs_app.command("extract")
def extract_command(
    review: Annotated[
        Path | None, typer.Option("--review", help="the review document (default: all of corpus/review/)")
    ] = None,
    corpus: CorpusOption = None,
    as_json: JsonOption = False,
) -> None:
    """Parse the review's bibliography into corpus/references.jsonl (keeps your hand edits)."""
    corpus_dir = _corpus(corpus)
    if review is not None and not review.is_file():
        fail(f"--review: {review} is not a file", 2)
    try:
        report = extract_references(corpus_dir, review)
    except ExtractError as error:
        fail(str(error), 1)
    if as_json:
        print(
            json.dumps(
                {
                    "written": report.written,
                    "references_path": str(report.references_path),
                    "entries": report.entries,
                    "added": report.added,
                    "updated": report.updated,
                    "kept_by_hand": report.kept_by_hand,
                    "documents": [vars(document) for document in report.documents],
                    "message": report.message,
                }
            )
        )
        return
    for document in report.documents:
        if document.problem:
            typer.echo(f"{document.path}: cannot read ({document.problem})", err=True)
        elif document.entries:
            typer.echo(f"{document.path}: {document.entries} references ({document.style} numbering)")
    if not report.written:
        typer.echo(report.message)
        return
    typer.echo(
        f"Wrote {report.references_path}: {report.added} added, {report.updated} updated"
        + (f", {report.kept_by_hand} with values you edited by hand kept" if report.kept_by_hand else "")
        + "."
    )


@refs_app.command("import")
def import_command(
    library: Annotated[Path, typer.Argument(help="a BibTeX (.bib), RIS (.ris) or CSL JSON (.json) export")],
    files: Annotated[Path | None, typer.Option(
        "--files", help="where the attachments' relative paths start (default: the library's folder)")] = None,
    numbered_in_order: Annotated[bool, typer.Option(
        "--numbered-in-order", help="an entry that matches nothing is the reference its position numbers")] = False,
    corpus: CorpusOption = None,
    as_json: JsonOption = False,
) -> None:
    """Match a Zotero/EndNote/Mendeley export to the review's reference numbers, record it and copy its PDFs."""
    if not library.is_file():
        fail(f"{library}: no such file", 2)
    if files is not None and not files.is_dir():
        fail(f"--files: {files} is not a folder", 2)
    try:
        report = import_library(_corpus(corpus), library, files, numbered_in_order)
    except (LibraryError, LibraryImportError) as error:
        fail(str(error), 1)
    if as_json:
        print(json.dumps(report.to_json()))
        raise typer.Exit(1 if report.malformed else 0)
    entries = len(report.items) + len(report.malformed)
    typer.echo(f"{library} ({report.format}): {entries} entries, {len(report.matched)} matched, "
               f"{len(report.unmatched)} unmatched, {len(report.malformed)} malformed.")
    rows = [(item.line, _import_row(item)) for item in report.items]
    rows += [(problem["line"], f"line {problem['line']:<4} malformed, skipped: {problem['error']}")
             for problem in report.malformed]
    for _, row in sorted(rows):
        typer.echo(f"  {row}")
    if report.matched:
        typer.echo(
            f"Wrote {report.references_path}: {report.added} added, {report.updated} updated"
            + (f", {report.kept_by_hand} with values you edited by hand kept" if report.kept_by_hand else "")
            + "."
        )
    else:
        typer.echo(f"Nothing matched; {report.references_path} was not changed.")
    raise typer.Exit(1 if report.malformed else 0)


def _import_row(item: ImportItem) -> str:
    label = f"line {item.line:<4} {item.key}"
    if item.number is None:
        return f"{label}: unmatched: {item.reason}"
    how = {"doi": "by DOI", "pmid": "by PMID", "order": "by its position (--numbered-in-order)",
           "title": f"by title (similarity {item.score or 0:.2f})"}[item.rule]
    row = f"{label} -> [{item.number}] {how}"
    if item.file:
        return f"{row}; copied {item.file}"
    return f"{row}; {item.file_note}" if item.file_note else row


@refs_app.command("fetch")
def fetch_command(
    corpus: CorpusOption = None,
    as_json: JsonOption = False,
    only: Annotated[str | None, typer.Option("--only", help="only these reference numbers, e.g. '170-172, 58'")] = None,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="ask again about references an earlier run settled")
    ] = False,
    email: Annotated[
        str | None, typer.Option("--email", help="contact e-mail for the services (EXORAG_CONTACT_EMAIL)")
    ] = None,
) -> None:
    """Download the cited papers that are openly available into corpus/literature/ (resumable)."""
    settings = get_settings(corpus=corpus)
    numbers = None
    if only is not None:
        try:
            numbers = parse_numbers(only)
        except ValueError as error:
            fail(f"--only: {error}", 2)
    literature = settings.literature if email is None else settings.literature.model_copy(update={"contact_email": email})

    def show(result: FetchResult) -> None:
        line = f"[{result.number}] {OUTCOME_LABELS[result.outcome]}"
        if result.file:
            line += f"  {result.file}"
        if result.source:
            line += f"  ({result.source}{', earlier run' if result.earlier else ''})"
        if result.detail and (result.retry or result.outcome in ("failed", "not_available", "no_identifier")):
            line += f": {result.detail}"
        typer.echo(line)

    try:
        report = fetch_literature(settings.corpus, literature, numbers, refresh, None if as_json else show)
    except FetchError as error:
        fail(str(error), 1)
    counts = report.counts()
    if as_json:
        print(
            json.dumps(
                {
                    "references_path": str(report.references_path),
                    "counts": counts,
                    "results": [vars(result) for result in report.results],
                    "warnings": report.warnings,
                }
            )
        )
    else:
        for warning in report.warnings:
            typer.echo(f"warning: {warning}", err=True)
        summary = ", ".join(f"{OUTCOME_LABELS[outcome]} {count}" for outcome, count in counts.items())
        earlier = sum(result.earlier for result in report.results)
        typer.echo(
            f"{len(report.results)} references: {summary or 'none chosen'}"
            + (f" ({earlier} settled by an earlier run)" if earlier else "")
            + "."
        )
        if report.failed:
            typer.echo(f"{len(report.failed)} failed on a service error; run `exorag refs fetch` again to retry them.")
    raise typer.Exit(1 if report.failed else 0)


@refs_app.command("status")
def status_command(corpus: CorpusOption = None, as_json: JsonOption = False) -> None:
    """For every reference number the review cites: full text, abstract or nothing, and where it is cited."""
    corpus_dir = _corpus(corpus)
    report = coverage_report(corpus_dir)
    if as_json:
        print(report.model_dump_json())
        raise typer.Exit(1 if report.problems and not report.reviews else 0)
    for problem in report.problems:
        typer.echo(f"problem: {problem}", err=True)
    if not report.reviews:
        fail(f"no readable review document in {corpus_dir / 'review'}", 1)
    typer.echo(f"Coverage in {corpus_dir}/ of the literature cited by {', '.join(report.reviews)}:")
    for row in report.rows:
        files = ", ".join(
            file.path + (" (abstract)" if file.abstract and row.holding == "full_text" else "") for file in row.files
        )
        typer.echo(f"[{row.number}] {HOLDING_LABELS[row.holding]}" + (f"  {files}" if files else ""))
        if row.citation:
            typer.echo(f"    {_shorten(row.citation, 110)}")
        for passage in row.passages[:_PASSAGES_SHOWN]:
            where = passage.section or passage.source
            typer.echo(f'    cited in {where}: "{passage.snippet}"')
        if len(row.passages) > _PASSAGES_SHOWN:
            typer.echo(f"    and {len(row.passages) - _PASSAGES_SHOWN} more passages")
    counts = ", ".join(f"{HOLDING_LABELS[holding]} {report.counts.get(holding, 0)}" for holding in HOLDING_LABELS)
    typer.echo(f"{len(report.rows)} reference numbers cited: {counts}.")
    if report.reference_list:
        typer.echo(f"Reference list: {report.reference_list} entries in references.jsonl.")
    else:
        typer.echo(
            "No reference list (references.jsonl): `exorag refs extract` reads it from a review with a "
            "bibliography; `exorag refs fetch` then downloads the open-access papers."
        )
    if report.uncited_files:
        typer.echo(
            f"{len(report.uncited_files)} literature files are named by numbers the review does not cite: "
            + ", ".join(report.uncited_files[:5])
            + (" ..." if len(report.uncited_files) > 5 else "")
        )


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + " \u2026"
