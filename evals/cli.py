"""``exorag eval`` and ``exorag pubmedqa``: thin commands over the evaluation suite.

``register(app)`` adds them to exorag's typer app. Exit codes follow DESIGN.md: 0 success, 1 when
a ``--min``/``--max`` threshold fails (or no item produced an answer), 2 on a usage error (bad
flags, a bad dataset file, a judge that cannot run).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from exorag.cli.common import console, errors, fail, require_index

SYSTEMS = ("exorag", "baseline", "both")


def _metrics_table(title: str, columns: dict[str, dict]) -> Table:
    """A table of DESIGN.md's metrics, one column per run."""
    from evals.metrics import METRIC_NAMES
    from evals.report import format_value

    table = Table(title=title)
    table.add_column("metric")
    for name in columns:
        table.add_column(name, justify="right")
    for metric in METRIC_NAMES:
        table.add_row(metric, *(format_value(metrics.get(metric), metric) for metrics in columns.values()))
    return table


def _compare(run_a: Path, run_b: Path) -> dict:
    """Print what improved and regressed from run A to run B; returns B's report."""
    from evals.compare import RunNotFound, compare_reports, differences, load_report
    from evals.report import format_value

    try:
        before, after = load_report(run_a), load_report(run_b)
    except RunNotFound as error:
        fail(str(error))
    colours = {"improved": "green", "regressed": "red"}
    table = Table(title=f"{run_a} -> {run_b}")
    for column in ("metric", "A", "B", "change", "verdict"):
        table.add_column(column, justify="left" if column in ("metric", "verdict") else "right")
    changes = compare_reports(before, after)
    for change in changes:
        delta = "–" if change.delta is None else format_value(abs(change.delta), change.metric)
        if change.delta is not None:
            delta = ("-" if change.delta < 0 else "+") + delta
        verdict = f"[{colours[change.verdict]}]{change.verdict}[/]" if change.verdict in colours else change.verdict
        table.add_row(change.metric, format_value(change.before, change.metric), format_value(change.after, change.metric), delta, verdict)
    console.print(table)
    improved = [c.metric for c in changes if c.verdict == "improved"]
    regressed = [c.metric for c in changes if c.verdict == "regressed"]
    console.print(f"improved: {', '.join(improved) or 'none'}")
    console.print(f"regressed: {', '.join(regressed) or 'none'}")
    for difference in differences(before, after):
        errors.print(f"[yellow]note:[/yellow] the runs differ in {escape(difference)}, so their figures are not comparable")
    return after


def _gate(metrics: dict, minimums: dict[str, float], maximums: dict[str, float]) -> None:
    from evals.gate import check_thresholds

    failures = check_thresholds(metrics, minimums, maximums)
    for failure in failures:
        errors.print(f"[red]threshold failed:[/red] {failure}")
    if failures:
        raise typer.Exit(1)
    if minimums or maximums:
        console.print(f"all {len(minimums) + len(maximums)} thresholds hold")


def eval_command(
    dataset: Annotated[Path | None, typer.Option("--dataset", help="question set, JSON Lines in DESIGN.md's format")] = None,
    index: Annotated[Path | None, typer.Option("--index", help="index folder (default index/, EXORAG_INDEX)")] = None,
    corpus: Annotated[Path | None, typer.Option("--corpus", help="corpus folder (default corpus/, EXORAG_CORPUS)")] = None,
    out: Annotated[Path, typer.Option("--out", help="run folder for items.jsonl and the reports", file_okay=False)] = Path("evals/runs/latest"),
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="only the first N items")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="answer N items at a time (threads)")] = 1,
    resume: Annotated[bool, typer.Option("--resume", help="keep the answered items of an interrupted run in --out")] = False,
    system: Annotated[str, typer.Option("--system", help="exorag, baseline (plain LangChain RAG) or both")] = "exorag",
    judge: Annotated[str, typer.Option("--judge", help="judge for faithfulness and citations: rules (default), auto, learned, nli or llm")] = "rules",
    generator: Annotated[str | None, typer.Option("--generator", help="extractive or llm (default: EXORAG_GENERATOR)")] = None,
    compare: Annotated[
        tuple[Path, Path] | None, typer.Option("--compare", metavar="RUN_A RUN_B", help="compare two run folders and exit")
    ] = None,
    minimum: Annotated[list[str] | None, typer.Option("--min", metavar="METRIC=VALUE", help="fail (exit 1) below this")] = None,
    maximum: Annotated[list[str] | None, typer.Option("--max", metavar="METRIC=VALUE", help="fail (exit 1) above this")] = None,
) -> None:
    """Run a question set through exorag (and/or the baseline) and write report.json/.md/.html."""
    from evals.gate import ThresholdError, parse_thresholds

    try:
        minimums, maximums = parse_thresholds(minimum or [], "--min"), parse_thresholds(maximum or [], "--max")
    except ThresholdError as error:
        fail(str(error))
    if compare:
        after = _compare(*compare)
        _gate(after["metrics"], minimums, maximums)
        return
    if dataset is None:
        fail("--dataset is required (or --compare RUN_A RUN_B)")
    if system not in SYSTEMS:
        fail(f"--system: {system!r} is not one of {', '.join(SYSTEMS)}")
    if generator not in (None, "extractive", "llm"):
        fail(f"--generator: unknown generator {generator!r}; use extractive or llm")
    reports = run_evaluation(dataset, out, index=index, corpus=corpus, limit=limit, workers=workers, resume=resume,
                             system=system, judge_name=judge, generator=generator)
    for name, report in reports.items():
        if report["failed"]:
            # A failed item is in no metric's denominator: an outage would otherwise pass every gate.
            failed, first = len(report["failed"]), report["failed"][0]
            fail(f"{name}: {failed} of {failed + report['metrics']['n']} items failed, so the metrics cover only the "
                 f"answered ones (first: {first['id']}: {first['error']}); fix the cause and rerun with --resume", code=1)
    _gate(next(iter(reports.values()))["metrics"], minimums, maximums)


def run_evaluation(
    dataset: Path, out: Path, *, index: Path | None, corpus: Path | None, limit: int | None, workers: int,
    resume: bool, system: str, judge_name: str, generator: str | None,
) -> dict[str, dict]:
    """Run the chosen system(s), write the reports, print the summary; returns the report of each
    system, the main one first."""
    from evals.dataset import DatasetError, load_dataset
    from evals.harness import ResumeMismatch, run_items
    from evals.report import build_report, write_report
    from exorag.config import get_settings
    from exorag.generate import get_generator
    from exorag.generate.llm import LLMUnavailable
    from exorag.judge import JudgeError, get_judge

    try:
        items = load_dataset(dataset)[:limit]
    except DatasetError as error:
        fail(str(error))
    settings = get_settings(index=index, corpus=corpus, generator=generator)
    require_index(settings)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        fail(f"--out {out}: cannot create the run folder ({error.strerror})")
    try:
        judge = get_judge(judge_name, settings)
        get_generator(settings.generator, settings)  # an LLM that is not configured fails here, not on every item
    except (JudgeError, LLMUnavailable) as error:
        fail(str(error))

    names = ["exorag", "baseline"] if system == "both" else [system]
    reports: dict[str, dict] = {}
    from exorag.store.chroma import StoreUnavailable

    try:
        content, covered = index_content(settings)  # answers from before a re-ingest that changed the corpus are not resumed
    except StoreUnavailable as error:
        fail(str(error), code=1)
    missing = gold_refs_absent(items, covered)
    if missing:
        shown = "; ".join(f"{item_id}: {', '.join(map(str, numbers))}" for item_id, numbers in list(missing.items())[:5])
        errors.print(f"[yellow]warning:[/yellow] {len(missing)} item(s) expect reference numbers that no indexed passage "
                     f"cites or belongs to (a typo in the gold, or a paper not in the corpus; they count as misses): {shown}")
    for name in names:
        run_dir = out / "baseline" if system == "both" and name == "baseline" else out
        producer = {"system": name, "generator": settings.generator,
                    "index": f"{settings.chroma_url} {settings.collection}" if settings.chroma_url else str(settings.index.resolve()),
                    "index_content": content}
        try:
            results = run_items(items, _system(name, settings), run_dir, workers=workers, resume=resume,
                                progress_label=f"{name}: answering", producer=producer)
        except ResumeMismatch as error:
            fail(str(error))
        try:
            reports[name] = build_report(items, results, judge, system=name, dataset=str(dataset),
                                         dataset_sha256=hashlib.sha256(dataset.read_bytes()).hexdigest(),
                                         generator=settings.generator, workers=workers)
        except JudgeError as error:
            fail(f"{error} (the answers are kept in {run_dir / 'items.jsonl'}: rerun with --resume)")
        for failure in reports[name]["failed"]:
            errors.print(f"[yellow]{name} item {failure['id']} failed:[/yellow] {failure['error']}")

    main = reports[names[0]]
    if system == "both":
        write_report(reports["baseline"], out / "baseline")
        paths = write_report(main, out, baseline=reports["baseline"])
    else:
        paths = write_report(main, out)
    console.print(_metrics_table(f"{Path(dataset).name}: {len(items)} items, judge {judge.name}",
                                 {name: report["metrics"] for name, report in reports.items()}))
    console.print("wrote " + ", ".join(str(path) for path in paths))
    return reports


def index_content(settings) -> tuple[str, set[int]]:
    """A digest of the chunks an index holds (their ids derive from their content and file: the same
    after an ingest that changed nothing, another after one that did), and the reference numbers
    its passages cite or belong to."""
    from exorag.store.chroma import VectorStore

    chunks = list(VectorStore(settings).all_chunks())
    digest = hashlib.sha256("\n".join(sorted(chunk.chunk_id for chunk in chunks)).encode()).hexdigest()[:16]
    return digest, {number for chunk in chunks for number in chunk.refs}


def gold_refs_absent(items, covered: set[int]) -> dict[str, list[int]]:
    """Per item, the gold reference numbers (``gold_refs``, ``ref_groups``) that no indexed passage cites."""
    missing = {}
    for item in items:
        wanted = set(item.gold_refs) | {n for group in item.ref_groups for n in group}
        if wanted - covered:
            missing[item.id] = sorted(wanted - covered)
    return missing


def _system(name: str, settings):
    """The answer function of a system: exorag's pipeline, or the baseline (the same answer path
    with the plain parts, ``exorag.pipelines.PLAIN``; its collection is synced with the corpus first)."""
    from exorag.chain import AnswerOptions, answer
    from exorag.ingest.sync import CorpusMissing, IngestLocked
    from exorag.pipelines import EXORAG, PLAIN, ingest
    from exorag.store.chroma import StoreUnavailable

    options = AnswerOptions(generator=settings.generator)
    parts = PLAIN if name == "baseline" else EXORAG
    if parts is PLAIN:
        try:
            ingest(settings, PLAIN)
        except (CorpusMissing, IngestLocked, StoreUnavailable) as error:
            fail(f"baseline: {error}")
    return lambda question: answer(question, options, settings, parts)


def pubmedqa_command(
    data: Annotated[Path, typer.Option("--data", help="a PubMedQA file (pqal_*.json) or the folder holding pqal_dev.json")],
    out: Annotated[Path, typer.Option("--out", help="run folder: the laid-out corpus, its index, items.jsonl, report.json", file_okay=False)] = Path(
        "evals/runs/pubmedqa"),
    absent_share: Annotated[float, typer.Option("--absent-share", min=0.0, max=0.9, help="share of abstracts left out")] = 0.3,
    workers: Annotated[int, typer.Option("--workers", min=1, help="answer N items at a time (threads)")] = 1,
    generator: Annotated[str | None, typer.Option("--generator", help="extractive or llm (default: EXORAG_GENERATOR)")] = None,
) -> None:
    """Answerability off the home corpus: PubMedQA abstracts as a corpus with a share left out.

    Reports, for the tune and test halves, retrieval recall@5 and false abstention on questions
    whose abstract is present, and abstention on those whose abstract is absent.
    """
    from evals.pubmedqa import PubMedQAError, lay_out_corpus, load_pubmedqa, run_harness
    from exorag.cli import run_ingest
    from exorag.config import get_settings

    try:
        items = load_pubmedqa(data)
        absent = lay_out_corpus(items, out / "corpus", absent_share)
    except PubMedQAError as error:
        fail(str(error))
    settings = get_settings(corpus=out / "corpus", index=out / "index", generator=generator)
    if run_ingest(settings) == 2:
        raise typer.Exit(2)
    report = run_harness(items, absent, _system("exorag", settings), out / "answers", workers=workers)
    report.update(data=str(data), absent_share=absent_share, generator=settings.generator)
    (out / "report.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    table = Table(title=f"PubMedQA answerability: {len(items)} items, {len(absent)} abstracts left out")
    columns = ("present", "absent", "retrieval_recall@5", "false_abstention_rate", "abstention_on_absent", "results_quoted")
    table.add_column("split")
    for column in columns:
        table.add_column(column, justify="right")
    for split, scores in report["splits"].items():
        table.add_row(split, *("–" if scores[c] is None else str(scores[c]) for c in columns))
    console.print(table)
    console.print(f"abstention reasons: {report['abstention_reasons']}")
    for pmid, error in report["failed"].items():
        errors.print(f"[yellow]item {pmid} failed:[/yellow] {error}")
    console.print(f"wrote {out / 'report.json'}")


def register(app: typer.Typer) -> None:
    """Add ``eval`` and ``pubmedqa`` to exorag's command-line app."""
    app.command("eval")(eval_command)
    app.command("pubmedqa")(pubmedqa_command)
