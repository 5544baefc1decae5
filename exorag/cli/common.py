"""What every ``exorag`` command shares: the consoles, the error exit and the common options."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from exorag.config import Settings

console = Console()
errors = Console(stderr=True)

IndexOption = Annotated[Path | None, typer.Option("--index", help="index folder (default index/, EXORAG_INDEX)")]
CorpusOption = Annotated[Path | None, typer.Option("--corpus", help="corpus folder (default corpus/, EXORAG_CORPUS)")]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON")]


def fail(message: str, code: int = 2) -> None:
    """Print ``error: message`` to stderr and exit with ``code`` (DESIGN.md: 1 some input failed, 2 usage)."""
    errors.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)


def require_index(settings: Settings) -> None:
    """Exit with a usage error when ``settings.index`` is no index folder: a command that only reads
    it would otherwise create an empty one there (a mistyped ``--index``) and answer nothing."""
    from exorag.store.chroma import StoreUnavailable, check_index_folder, has_chroma_data

    if settings.chroma_url:
        return
    try:
        check_index_folder(settings)
    except StoreUnavailable as error:
        fail(str(error))
    if not settings.index.is_dir():
        fail(f"no index at {settings.index}: run `exorag ingest --index {settings.index}` first")
    if not has_chroma_data(settings):
        # A folder with nothing ingested (a fresh clone's index/ holds only the embedder's export):
        # answering from it would abstain on every question.
        fail(f"no index at {settings.index} (nothing has been ingested there): run `exorag ingest --index {settings.index}` first")


def require_guard_beyond_loopback(host: str, guarded: bool, unguarded: str, remedy: str) -> None:
    """Exit with a usage error when a server would listen on ``host`` beyond this machine with
    nothing ``guarded`` to keep strangers out: anyone who reaches it would read the corpus."""
    from exorag.loopback import is_loopback

    if not guarded and not is_loopback(host):
        fail(f"--host {host} serves other machines, and {unguarded}: {remedy}, or leave --host at 127.0.0.1")
