"""Turn a run's answers into ``report.json``, ``report.md`` and a self-contained ``report.html``.

``report.json`` is DESIGN.md's contract: ``metrics`` holds exactly the metric names of DESIGN.md,
and ``items`` one entry per dataset line with its ``id`` and the full Answer JSON under
``answer``. Beside them: ``by_topic`` (the same metrics per topic), ``slices`` (``false_premise``
when the dataset marks such items), ``failed`` (items whose system raised, with the error), and,
when a baseline ran alongside, ``baseline`` with its metrics.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from evals.dataset import EvalItem
from evals.harness import ItemResult
from evals.metrics import METRIC_NAMES, aggregate, score_item
from exorag.atomic import write_text_atomic
from exorag.judge.base import Judge
from exorag.text import inert_markdown

REPORT_FILES = ("report.json", "report.md", "report.html")
NO_TOPIC = "(no topic)"
# The columns of the per-topic tables (all metrics are in report.json).
TOPIC_COLUMNS = ("retrieval_recall@5", "ref_recall", "key_fact_recall", "faithfulness", "citation_recall", "abstention_accuracy")
SHAPE_COLUMNS = ("completeness", "ref_precision", "key_fact_recall", "false_abstention_rate", "abstention_accuracy",
                 "verdict_accuracy")


def score_results(
    items: Sequence[EvalItem], results: dict[str, ItemResult], judge: Judge, workers: int = 1
) -> list[dict]:
    """One report entry per dataset item (in dataset order): its answer or error and its scores."""

    def entry(item: EvalItem) -> dict:
        result = results.get(item.id) or ItemResult(item.id, error="not run (the run was interrupted)")
        scores = score_item(item, result.answer, judge) if result.answer else None
        return {
            "id": item.id,
            "question": item.question,
            "topic": item.topic,
            "answerable": item.answerable,
            "false_premise": item.false_premise,
            "shape": item.shape or (result.answer.shape if result.answer else None) or "",
            "answer": result.answer.model_dump() if result.answer else None,
            "error": result.error if not result.answer else None,
            "scores": scores,
        }

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(entry, items))


def summarize(entries: Sequence[dict]) -> dict[str, dict]:
    """``metrics``, ``by_topic``, ``slices`` and ``by_shape`` (by the dataset's shape, else the
    answer's) from scored entries (failed entries are not scored)."""
    scored = [entry for entry in entries if entry["scores"] is not None]
    topics = sorted({entry["topic"] or NO_TOPIC for entry in scored})
    summary: dict[str, dict] = {
        "metrics": aggregate([entry["scores"] for entry in scored]),
        "by_topic": {
            topic: aggregate([e["scores"] for e in scored if (e["topic"] or NO_TOPIC) == topic]) for topic in topics
        },
        "slices": {},
        "by_shape": {
            shape: aggregate([e["scores"] for e in scored if e.get("shape", "") == shape])
            for shape in sorted({e.get("shape", "") for e in scored} - {""})
        },
    }
    false_premise = [entry["scores"] for entry in scored if entry["false_premise"]]
    if false_premise:
        summary["slices"]["false_premise"] = aggregate(false_premise)
    return summary


def build_report(
    items: Sequence[EvalItem],
    results: dict[str, ItemResult],
    judge: Judge,
    *,
    system: str,
    dataset: str,
    dataset_sha256: str | None = None,
    generator: str | None = None,
    workers: int = 1,
) -> dict:
    """The whole ``report.json`` object of one run; ``dataset_sha256`` identifies the question set
    by its content, whatever path it was given by."""
    entries = score_results(items, results, judge, workers)
    return {
        "system": system,
        "dataset": dataset,
        "dataset_sha256": dataset_sha256,
        "judge": judge.name,
        "generator": generator,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **summarize(entries),
        "failed": [{"id": e["id"], "error": e["error"]} for e in entries if e["answer"] is None],
        "items": entries,
    }


def with_baseline(report: dict, baseline: dict) -> dict:
    """``report`` with the baseline run's summary under ``baseline`` (its items stay in its own run)."""
    summary = {key: baseline[key] for key in ("system", "metrics", "by_topic", "slices", "by_shape", "failed") if key in baseline}
    return {**report, "baseline": summary}


def write_report(report: dict, out_dir: Path, baseline: dict | None = None) -> list[Path]:
    """Write report.json, report.md and report.html into ``out_dir``; ``baseline`` is the full
    report of a baseline run shown beside this one. Returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if baseline is not None:
        report = with_baseline(report, baseline)
    paths = [out_dir / name for name in REPORT_FILES]
    # All three rendered before any is written: an interrupted run never leaves files of two runs.
    texts = [json.dumps(report, indent=1, ensure_ascii=False) + "\n", render_markdown(report), render_html(report, baseline)]
    for path, text in zip(paths, texts, strict=True):
        write_text_atomic(path, text)
    return paths


# --- shared rendering helpers --------------------------------------------------------------------


def format_value(value: float | None, metric: str = "") -> str:
    """A metric as people read it: fractions with 3 decimals, times in ms with 1, ``–`` if null."""
    if value is None:
        return "–"
    if metric == "n":
        return str(int(value))
    if metric.startswith("latency"):
        return f"{value:.1f}"
    return f"{value:.3f}"


def _metric_rows(report: dict) -> list[list[str]]:
    baseline = report.get("baseline")
    rows = []
    for name in METRIC_NAMES:
        row = [name, format_value(report["metrics"][name], name)]
        if baseline:
            row.append(format_value(baseline["metrics"][name], name))
        rows.append(row)
    return rows


def _topic_rows(metrics_by_topic: dict[str, dict], columns: Sequence[str] = TOPIC_COLUMNS) -> list[list[str]]:
    return [
        [topic, format_value(metrics["n"], "n"), *(format_value(metrics[name], name) for name in columns)]
        for topic, metrics in metrics_by_topic.items()
    ]


def missed_items(report: dict) -> list[tuple[str, str, str]]:
    """``(id, question, what went wrong)`` for items a reader should look at first."""
    missed = []
    for entry in report["items"]:
        if entry["answer"] is None:
            missed.append((entry["id"], entry["question"], f"failed: {entry['error']}"))
            continue
        scores, problems = entry["scores"], []
        if scores["abstention_accuracy"] == 0:
            problems.append("answered an unanswerable question")
        if scores["false_abstention_rate"] == 1:
            problems.append("abstained on an answerable question")
        elif scores["key_fact_recall"] is not None and scores["key_fact_recall"] < 1:
            problems.append(f"key facts {scores['key_fact_recall']:.2f}")
        if scores["ref_recall"] is not None and scores["ref_recall"] < 1 and scores["false_abstention_rate"] != 1:
            problems.append(f"ref recall {scores['ref_recall']:.2f}")
        if scores["citation_recall"] is not None and scores["citation_recall"] < 1:
            problems.append(f"citation recall {scores['citation_recall']:.2f}")
        if scores["faithfulness"] is not None and scores["faithfulness"] < 1:
            problems.append(f"faithfulness {scores['faithfulness']:.2f}")
        if scores.get("verdict_accuracy") == 0:
            problems.append(f"verdict {entry['answer'].get('verdict') or 'none'}")
        # completeness short of its key facts: a part of the answer (a ref group) left uncited
        if (scores.get("completeness") is not None and scores["completeness"] < (scores["key_fact_recall"] or 1)
                and scores["false_abstention_rate"] != 1):
            problems.append(f"completeness {scores['completeness']:.2f}")
        if problems:
            missed.append((entry["id"], entry["question"], "; ".join(problems)))
    return missed


def _title(report: dict) -> str:
    return f"exorag evaluation: {report['system']} on {Path(report['dataset']).name}"


def _run_line(report: dict) -> str:
    parts = [f"system {report['system']}", f"judge {report['judge']}"]
    if report.get("generator"):
        parts.append(f"generator {report['generator']}")
    parts += [f"{report['metrics']['n']} items answered", f"{len(report['failed'])} failed", report["created"]]
    return " · ".join(parts)


# --- Markdown ------------------------------------------------------------------------------------


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric: bool = True) -> str:
    """A Markdown table; with ``numeric`` every column but the first is right-aligned."""

    def escape(cell: str) -> str:
        # A question set's text is data: no link, HTML or line break of its own reaches the table.
        return inert_markdown(" ".join(cell.split())).replace("|", "\\|")

    alignments = ["---" if i == 0 or not numeric else "---:" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(alignments) + "|"]
    lines += ["| " + " | ".join(escape(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(report: dict) -> str:
    """``report.md``: the metrics (beside the baseline's), per topic, slices, failures, misses."""
    systems = [report["system"]] + ([report["baseline"]["system"]] if report.get("baseline") else [])
    parts = [f"# {inert_markdown(_title(report))}", "", f"Dataset: `{report['dataset']}`  ", _run_line(report), "",
             "## Metrics", ""]
    parts += [_markdown_table(["metric", *systems], _metric_rows(report)), ""]
    parts += ["## By topic", "", _markdown_table(["topic", "n", *TOPIC_COLUMNS], _topic_rows(report["by_topic"])), ""]
    if report.get("by_shape"):
        rows = _topic_rows(report["by_shape"], SHAPE_COLUMNS)
        parts += ["## By question shape", "", _markdown_table(["shape", "n", *SHAPE_COLUMNS], rows), ""]
    for name, metrics in report["slices"].items():
        parts += [f"## Slice: {inert_markdown(name)}", "", _markdown_table(["slice", "n", *TOPIC_COLUMNS], _topic_rows({name: metrics})), ""]
    missed = missed_items(report)
    parts += ["## Items to look at", ""]
    parts += [_markdown_table(["id", "question", "problem"], missed, numeric=False) if missed else "None: every item was answered as expected.", ""]
    return "\n".join(parts)


# --- HTML ----------------------------------------------------------------------------------------

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #ccc;padding:.25rem .6rem}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%;border:1px solid #eee;margin:.5rem 0}.meta{color:#555}
details{margin:.3rem 0}summary{cursor:pointer}
"""


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric: bool = True) -> str:
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    body = "".join(
        "<tr>"
        + "".join(f'<td{" class=num" if numeric and i else ""}>{html.escape(cell)}</td>' for i, cell in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _answers_section(report: dict) -> str:
    blocks = []
    for entry in report["items"]:
        answer = entry["answer"]
        text = answer["answer"] if answer else f"failed: {entry['error']}"
        blocks.append(
            f"<details><summary>{html.escape(entry['id'])}: {html.escape(entry['question'])}</summary>"
            f"<p>{html.escape(text)}</p></details>"
        )
    return "".join(blocks)


def render_html(report: dict, baseline: dict | None = None) -> str:
    """``report.html``: one file with the tables and plots (inline base64 PNG) of ``render_markdown``
    plus every answer; ``baseline`` (its full report) is overlaid on the plots."""
    from evals.plots import report_plots

    systems = [report["system"]] + ([report["baseline"]["system"]] if report.get("baseline") else [])
    images = "".join(
        f'<figure><img alt="{html.escape(title)}" src="data:image/png;base64,{png}"><figcaption>{html.escape(title)}'
        "</figcaption></figure>"
        for title, png in report_plots(report, baseline)
    )
    slices = "".join(
        f"<h2>Slice: {html.escape(name)}</h2>" + _html_table(["slice", "n", *TOPIC_COLUMNS], _topic_rows({name: metrics}))
        for name, metrics in report["slices"].items()
    )
    missed = missed_items(report)
    shapes = (f"<h2>By question shape</h2>{_html_table(['shape', 'n', *SHAPE_COLUMNS], _topic_rows(report['by_shape'], SHAPE_COLUMNS))}"
              if report.get("by_shape") else "")
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(_title(report))}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(_title(report))}</h1>"
        f"<p class=meta>Dataset: <code>{html.escape(report['dataset'])}</code><br>{html.escape(_run_line(report))}</p>"
        f"<h2>Metrics</h2>{_html_table(['metric', *systems], _metric_rows(report))}"
        f"<h2>Plots</h2>{images}"
        f"<h2>By topic</h2>{_html_table(['topic', 'n', *TOPIC_COLUMNS], _topic_rows(report['by_topic']))}{shapes}{slices}"
        f"<h2>Items to look at</h2>{_html_table(['id', 'question', 'problem'], missed, numeric=False) if missed else '<p>None.</p>'}"
        f"<h2>Answers</h2>{_answers_section(report)}</body></html>\n"
    )
