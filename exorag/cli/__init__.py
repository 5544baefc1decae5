"""The ``exorag`` command: thin wrappers that parse flags, call the library and print.

This package is the composition root: the one place in ``exorag`` that may import the views
(``ui``) and the evaluation suite (``evals``); the rest of the library never does (checked by
import-linter, ``[tool.importlinter]`` in pyproject.toml).

Exit codes (DESIGN.md): 0 success, 1 when some input failed (the rest was done), 2 usage error.
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.markup import escape

from evals.cli import register as register_evals
from exorag.cli.audit import register as register_audit
from exorag.cli.bench import register as register_bench
from exorag.cli.common import (
    CorpusOption,
    IndexOption,
    JsonOption,
    console,
    errors,
    fail,
    require_guard_beyond_loopback,
    require_index,
)
from exorag.cli.judge import judge_app
from exorag.cli.refs import refs_app
from exorag.config import Settings, get_settings

app = typer.Typer(help="exorag: cited answers about tumour exosomes from a review and its literature.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
def run_ingest(settings: Settings, as_json: bool = False, reembed: bool = False) -> int:
    """Sync the index with the corpus, print the report, return the exit code."""
    from exorag.ingest.sync import CorpusMissing, IngestLocked, sync_corpus
    from exorag.store.chroma import StoreUnavailable

    try:
        if as_json or not console.is_terminal:
            report = sync_corpus(settings, reembed=reembed)
        else:
            from rich.progress import Progress

            with Progress(console=errors, transient=True) as bar:
                tasks: dict[str, int] = {}

                def progress(stage: str, done: int, total: int) -> None:
                    if stage not in tasks:
                        tasks[stage] = bar.add_task(stage, total=total)
                    bar.update(tasks[stage], completed=done, total=total)

                report = sync_corpus(settings, progress, reembed=reembed)
    except (CorpusMissing, IngestLocked, StoreUnavailable) as error:
        fail(str(error))
    if as_json:
        print(json.dumps(report.to_json()))
    else:
        for failure in report.failed:
            errors.print(f"[red]failed[/red] {escape(failure['path'])}: {escape(failure['error'])}", soft_wrap=True)
        for held in report.suspect:
            errors.print(f"[yellow]suspect[/yellow] {escape(str(held['path']))}: {held['chunks']} passage(s) held back "
                         f"from answers, {escape(str(held['why']))}", soft_wrap=True)
        console.print(
            f"{report.files} files, {report.chunks} chunks: {report.added} added, {report.unchanged} unchanged, "
            f"{report.removed} removed, {len(report.failed)} failed"
        )
    return 1 if report.failed else 0


@app.command()
def ingest(
    corpus: CorpusOption = None,
    index: IndexOption = None,
    as_json: JsonOption = False,
    reembed: Annotated[bool, typer.Option("--reembed", help="embed every chunk again with EXORAG_EMBEDDER")] = False,
) -> None:
    """Sync the index with the corpus: add new chunks, drop removed ones, report failures."""
    raise typer.Exit(run_ingest(get_settings(corpus=corpus, index=index), as_json, reembed))


@app.command()
def stats(index: IndexOption = None, as_json: JsonOption = False) -> None:
    """Sources, chunks, reference numbers covered and size of the index."""
    from exorag.store.chroma import StoreUnavailable
    from exorag.store.stats import index_stats

    settings = get_settings(index=index)
    require_index(settings)
    try:
        numbers = index_stats(settings)
    except StoreUnavailable as error:
        fail(str(error))
    if as_json:
        print(json.dumps(numbers))
        return
    for key, value in numbers.items():
        if key not in ("sources", "suspect_sources"):
            console.print(f"{key:>18}: {escape(str(value))}")
    for source in numbers["sources"]:
        console.print(f"  {source['chunks']:>6} chunks  {source['kind']:<10} {escape(source['path'])}")
    for source in numbers["suspect_sources"]:
        console.print(f"  suspect: {source['chunks']} chunk(s) of {escape(source['path'])} held back from answers")


@app.command()
def ask(
    question: Annotated[str | None, typer.Argument(help="the question; omit it for an interactive prompt")] = None,
    as_json: JsonOption = False,
    index: IndexOption = None,
    corpus: CorpusOption = None,
    generator: Annotated[str | None, typer.Option(help="extractive (default) or llm")] = None,
    k: Annotated[int | None, typer.Option(help="passages to retrieve", min=1)] = None,
    source_kind: Annotated[str | None, typer.Option("--source", help="only 'review' or 'literature'")] = None,
    section: Annotated[list[str] | None, typer.Option(help="only these sections (repeatable)")] = None,
    ref: Annotated[list[int] | None, typer.Option(help="only passages citing these reference numbers (repeatable)")] = None,
    cite_format: Annotated[str | None, typer.Option(
        "--cite-format", help="print the cited references as bibtex, ris, csl-json or text (a formatted "
        "bibliography) on stdout; the answer then goes to stderr")] = None,
) -> None:
    """Answer a question with cited sentences and their evidence."""
    from exorag.chain import AnswerOptions
    from exorag.render import render_answer
    from exorag.store.chroma import StoreUnavailable

    if generator not in (None, "extractive", "llm"):
        fail(f"--generator: unknown generator {generator!r}; use extractive or llm")
    from exorag.refs.export import CITE_FORMATS, cited_references, export_references

    if cite_format not in (None, *CITE_FORMATS):
        fail(f"--cite-format: unknown format {cite_format!r}; use one of {', '.join(CITE_FORMATS)}")
    if source_kind not in (None, "review", "literature"):
        fail(f"--source: {source_kind!r} is neither review nor literature")
    settings = get_settings(index=index, corpus=corpus)
    require_index(settings)
    options = AnswerOptions(generator=generator, k=k, source_kind=source_kind, sections=section or None, refs=ref or None)

    def answer(text: str):
        from exorag.chain import answer as answer_question
        from exorag.generate.llm import LLMUnavailable
        from exorag.judge import JudgeError

        try:
            return answer_question(text, options, settings)
        except (StoreUnavailable, LLMUnavailable, JudgeError) as error:
            fail(str(error))

    shown = errors if cite_format else console  # stdout is kept for the references
    answers = []
    if question is not None:
        result = answer(question)
        if as_json:
            print(result.model_dump_json(indent=2), file=sys.stderr if cite_format else sys.stdout)
        else:
            render_answer(result, shown)
        if cite_format:
            print(export_references(cited_references([result]), cite_format), end="")
        return
    console.print("Ask about tumour exosomes and the hallmarks of cancer (empty line or Ctrl-D to quit).")
    while True:
        try:
            question = console.input("[bold]question>[/bold] ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not question:
            break
        result = answer(question)
        render_answer(result, shown)
        answers.append(result)
        options.history.append((question, result.answer))
    if cite_format:
        print(export_references(cited_references(answers), cite_format), end="")


feedback_app = typer.Typer(help="Ratings that users gave answers in the UI and in Slack.", no_args_is_help=True)
app.add_typer(feedback_app, name="feedback")


@feedback_app.command("export")
def feedback_export(
    out: Annotated[Path, typer.Option("--out", help="JSONL file to write", dir_okay=False)] = Path("feedback.jsonl"),
    index: IndexOption = None,
) -> None:
    """Write all feedback records as JSON lines."""
    from exorag.feedback import FeedbackStore, default_feedback_path

    settings = get_settings(index=index)
    path = default_feedback_path(settings)
    if not path.is_file():
        # Opening the store would create it (and a mistyped --index folder around it).
        fail(f"no feedback at {path}: nothing has been rated with this index (or EXORAG_FEEDBACK_DB)")
    count = FeedbackStore(path).export_jsonl(out)
    console.print(f"{count} feedback records written to {out}")


# Views and tools register their commands below.


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on; 127.0.0.1 serves this machine only; any other needs EXORAG_UI_AUTH")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 7860,
    index: IndexOption = None,
    corpus: CorpusOption = None,
) -> None:
    """The chat UI at http://HOST:PORT (set EXORAG_UI_AUTH=user:password to require a login)."""
    from ui.app import UiSettingError, ui_login
    from ui.app import serve as serve_ui

    settings = get_settings(index=index, corpus=corpus)
    try:
        require_guard_beyond_loopback(host, ui_login(settings) is not None,
                                      "without a login anyone who reaches it reads the corpus and adds papers to it",
                                      "set EXORAG_UI_AUTH=user:password")
        # A service manager stops the chat with SIGTERM: closed as on Ctrl-C, so exit handlers run
        # (the temporary folder of the UI's downloads is removed).
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        serve_ui(settings, host, port)
    except UiSettingError as error:
        fail(str(error))
    except OSError as error:
        fail(f"cannot listen on {host}:{port}: {error}", code=1)


@app.command("slack")
def slack_bot(
    http: Annotated[bool, typer.Option("--http", help="HTTP mode (Events API at /slack/events) instead of Socket Mode")] = False,
    host: Annotated[str, typer.Option(help="HTTP mode: address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP mode: port to listen on")] = 3000,
    index: IndexOption = None,
    corpus: CorpusOption = None,
) -> None:
    """The Slack bot: Socket Mode with SLACK_APP_TOKEN, or --http with SLACK_SIGNING_SECRET (tokens from the environment)."""
    from exorag.slack.run import run_slack
    from exorag.slack.settings import SlackConfigError

    try:
        run_slack(get_settings(index=index, corpus=corpus), http=http, host=host, port=port)
    except SlackConfigError as error:
        fail(str(error))
    except KeyboardInterrupt:
        pass


@app.command("api")
def api_server(
    host: Annotated[str, typer.Option(help="address to listen on; 127.0.0.1 serves this machine only; any other needs EXORAG_API_TOKEN")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    index: IndexOption = None,
    corpus: CorpusOption = None,
) -> None:
    """The REST API and OpenAI-compatible endpoint at http://HOST:PORT/v1 (docs at /docs; set EXORAG_API_TOKEN to require it)."""
    from exorag.api.app import serve as serve_api

    settings = get_settings(index=index, corpus=corpus)
    require_guard_beyond_loopback(host, bool(settings.api_token), "without a token anyone who reaches it reads the corpus",
                                  "set EXORAG_API_TOKEN")
    require_index(settings)
    serve_api(settings, host, port)


@app.command("mcp")
def mcp_server(
    http: Annotated[bool, typer.Option("--http", help="streamable HTTP at http://HOST:PORT/mcp instead of stdio")] = False,
    host: Annotated[str, typer.Option(help="HTTP mode: address to listen on (loopback only: no token)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP mode: port to listen on")] = 8001,
    index: IndexOption = None,
    corpus: CorpusOption = None,
) -> None:
    """The MCP server for agents (Claude, Cursor, ...): stdio by default, or --http."""
    from exorag.api.mcp_server import serve as serve_mcp

    if http:
        require_guard_beyond_loopback(host, False, "the MCP HTTP transport has no token",
                                      "serve other machines with `exorag api` and EXORAG_API_TOKEN")
    settings = get_settings(index=index, corpus=corpus)
    require_index(settings)
    try:
        serve_mcp(settings, http=http, host=host, port=port)
    except KeyboardInterrupt:
        pass


app.add_typer(refs_app, name="refs")
register_evals(app)
app.add_typer(judge_app, name="judge")
register_bench(app)
register_audit(app)


# The models a malformed environment variable or flag fails to build.
_SETTINGS_MODELS = {"Settings", "LiteratureSettings", "SlackSettings"}


def main() -> None:
    """The ``exorag`` command. A malformed setting (say ``EXORAG_FETCH_RATE=0``) stops every
    command, since one settings tree is read at start: it is named, without a traceback. So does an
    index that cannot be opened (no Chroma server, or vectors of another embedder) or an embedding
    model folder that is missing, in any command that does not report it itself, the servers
    (serve, slack, api, mcp) among them."""
    try:
        app(prog_name="exorag")
    except ValidationError as error:
        if error.title not in _SETTINGS_MODELS:
            raise
        errors.print(f"[red]error:[/red] a setting is invalid (EXORAG_<FIELD>, SLACK_<FIELD> or a flag): "
                     f"{escape(str(error))}", soft_wrap=True)
        raise SystemExit(2) from None
    except Exception as error:
        from exorag.embeddings import EmbeddingModelMissing
        from exorag.store.chroma import StoreUnavailable  # already loaded when the error is one of its

        if not isinstance(error, (StoreUnavailable, EmbeddingModelMissing)):
            raise
        errors.print(f"[red]error:[/red] {escape(str(error))}", soft_wrap=True)
        raise SystemExit(2) from None
