"""The bench's outputs: ``bench.json`` (one object per scale and system), ``bench.md`` (tables,
ratios, targets, load test) and ``bench.png`` (latency and memory against corpus size)."""

from __future__ import annotations

import json
import math
import os
import platform
import time
from pathlib import Path

import psutil

from exorag.config import Settings

FIGURES = ["ingest_chunks_per_s", "index_mb", "peak_rss_mb", "startup_s", "retrieve_ms_p50", "retrieve_ms_p95",
           "answer_ms_p50", "answer_ms_p95", "recall_at_5", "needle_quoted"]
EMBEDDER_SCALE = 10_000
COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red")


def machine() -> dict:
    """What the bench ran on, including how busy the machine was."""
    import chromadb
    import onnxruntime
    import torch

    from exorag.config import get_settings

    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 1e9, 1),
            "python": platform.python_version(), "torch": torch.__version__, "chromadb": chromadb.__version__,
            "torch_threads": torch.get_num_threads(), "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "(default)"),
            "onnxruntime": onnxruntime.__version__, "onnx_threads": get_settings().embedder_threads,
            "load_average": [round(x, 2) for x in os.getloadavg()], "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def with_ratios(rows: list[dict]) -> list[dict]:
    """Each exorag row gains ``ratio_to_baseline``: exorag / baseline for every figure at its scale."""
    baselines = {row["chunks"]: row for row in rows if row["system"] == "baseline"}
    for row in rows:
        baseline = baselines.get(row["chunks"])
        if row["system"] != "exorag" or baseline is None:
            continue
        row["ratio_to_baseline"] = {
            figure: round(row[figure] / baseline[figure], 3) if row.get(figure) is not None and baseline.get(figure) else None
            for figure in FIGURES
        }
    return rows


def targets(rows: list[dict]) -> list[tuple[str, str, bool | None]]:
    """The issue's targets, checked on exorag at the largest scale run: (target, value, met)."""
    exorag = [row for row in rows if row["system"] == "exorag"]
    if not exorag:
        return []
    default = Settings.model_fields["embedder"].default
    row = max(exorag, key=lambda r: (r["chunks"], r.get("embedder") == default))
    baseline = next((r for r in rows if r["system"] == "baseline" and r["chunks"] == row["chunks"]), None)
    checks = [
        ("retrieval p95 < 50 ms", f"{row['retrieve_ms_p95']:.1f} ms", row["retrieve_ms_p95"] < 50),
        ("extractive answer p95 < 300 ms", f"{row['answer_ms_p95']:.0f} ms", row["answer_ms_p95"] < 300),
        ("ingest within 15% of the model's own embedding rate",
         (f"{row['ingest_chunks_per_s']:.1f} vs {row['embed_chunks_per_s']:.1f} chunks/s "
         f"({row['ingest_vs_embed']:.0%}, {row['ingest_basis']})"), row["ingest_vs_embed"] >= 0.85),
        ("peak memory < 2 GB", f"{row['peak_rss_mb']:.0f} MB", row["peak_rss_mb"] < 2000),
        ("second process answers within 10 s", f"{row['startup_s']:.1f} s", row["startup_s"] < 10),
    ]
    if baseline:
        checks.append(("recall@5 above the baseline's", f"{row['recall_at_5']:.2f} vs {baseline['recall_at_5']:.2f}",
                       row["recall_at_5"] > baseline["recall_at_5"]))
    return ([(f"{name} (at {row['chunks']:,} chunks, {label(row)})", value, met) for name, value, met in checks]
            + embedder_targets(rows))


def embedder_targets(rows: list[dict]) -> list[tuple[str, str, bool | None]]:
    """The embedder issue's targets, per embedder at 10,000 chunks: latency for each, and against the
    torch fp32 embedder of the same run, model rate (2.5x for ``onnx-int8``), recall@5 and memory."""
    at_scale = [row for row in rows if row["system"] == "exorag" and row.get("embedder") and row["chunks"] == EMBEDDER_SCALE]
    torch_row = next((row for row in at_scale if row["embedder"] == "torch"), None)
    checks: list[tuple[str, str, bool | None]] = []
    for row in at_scale:
        name = row["embedder"]
        checks += [
            (f"{name}: retrieval p95 < 20 ms", f"{row['retrieve_ms_p95']:.1f} ms", row["retrieve_ms_p95"] < 20),
            (f"{name}: extractive answer p95 < 150 ms", f"{row['answer_ms_p95']:.0f} ms", row["answer_ms_p95"] < 150),
            (f"{name}: ingest within 10% of its model's rate", f"{row['ingest_vs_embed']:.0%}", row["ingest_vs_embed"] >= 0.9),
        ]
        if torch_row is None or row is torch_row:
            continue
        rate = row["embed_chunks_per_s"] / torch_row["embed_chunks_per_s"]
        checks += [
            (f"{name}: recall@5 within 0.01 of torch's", f"{row['recall_at_5'] - torch_row['recall_at_5']:+.3f}",
             abs(row["recall_at_5"] - torch_row["recall_at_5"]) <= 0.01),
            (f"{name}: peak memory no higher than torch's", f"{row['peak_rss_mb']:.0f} vs {torch_row['peak_rss_mb']:.0f} MB",
             row["peak_rss_mb"] <= torch_row["peak_rss_mb"]),
        ]
        if name == "onnx-int8":
            checks.append((f"{name}: model rate >= 2.5x torch's", f"{rate:.2f}x", rate >= 2.5))
    return [(f"{name} (at {EMBEDDER_SCALE:,} chunks)", value, met) for name, value, met in checks]


def label(row: dict) -> str:
    """``exorag (onnx-int8)``: the system, and the embedder it ran with."""
    return f"{row['system']} ({row['embedder']})" if row.get("embedder") else row["system"]


def embedder_lines(rows: list[dict]) -> list[str]:
    """The exorag rows of each embedder side by side, with ratios to the torch embedder at the same scale."""
    exorag = [row for row in rows if row["system"] == "exorag" and row.get("embedder")]
    if len({row["embedder"] for row in exorag}) < 2:
        return []
    lines = [
        "", "## Embedders", "",
        ("Each embedder indexed and queried the same corpus in the same run. *x / torch* rows: ratio of each "
         "figure to the torch fp32 embedder's (above 1 is faster for rates, slower for times); recall@5 as a difference."),
        "",
        "| chunks | embedder | model texts/s | ingest chunks/s | query embed p50 / p95 ms | retrieve p50 / p95 ms | recall@5 |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for scale in sorted({row["chunks"] for row in exorag}):
        at_scale = [row for row in exorag if row["chunks"] == scale]
        torch_row = next((row for row in at_scale if row["embedder"] == "torch"), None)
        for row in at_scale:
            ingest = _number(row["ingest_chunks_per_s"]) + ("*" if row.get("ingest_basis") == "projected" else "")
            lines.append(
                f"| {scale:,} | {row['embedder']} | {_number(row['embed_chunks_per_s'])} | {ingest} "
                f"| {_number(row.get('query_embed_ms_p50'), 2)} / {_number(row.get('query_embed_ms_p95'), 2)} "
                f"| {_number(row['retrieve_ms_p50'])} / {_number(row['retrieve_ms_p95'])} | {_number(row['recall_at_5'], 3)} |"
            )
        for row in at_scale:
            if torch_row is None or row is torch_row:
                continue
            ratio = {figure: _ratio(row, torch_row, figure) for figure in (
                "embed_chunks_per_s", "ingest_chunks_per_s", "query_embed_ms_p50", "query_embed_ms_p95",
                "retrieve_ms_p50", "retrieve_ms_p95")}
            lines.append(
                f"| | *{row['embedder']} / torch* | {ratio['embed_chunks_per_s']} | {ratio['ingest_chunks_per_s']} "
                f"| {ratio['query_embed_ms_p50']} / {ratio['query_embed_ms_p95']} "
                f"| {ratio['retrieve_ms_p50']} / {ratio['retrieve_ms_p95']} "
                f"| {row['recall_at_5'] - torch_row['recall_at_5']:+.3f} |"
            )
    return lines


def _ratio(row: dict, base: dict, figure: str) -> str:
    value, reference = row.get(figure), base.get(figure)
    return _number(value / reference, 2) if value is not None and reference else "–"


def _number(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def markdown(rows: list[dict], run: dict) -> str:
    """bench.md: the table, ratios, targets, ingest details and the load test."""
    lines = [
        "# exorag bench",
        "",
        f"Command: `{run['command']}`  ",
        (f"Machine: {run['machine']['cpu']}, {run['machine']['cores']} cores, {run['machine']['memory_gb']} GB; "
         f"Python {run['machine']['python']}, torch {run['machine']['torch']} ({run['machine'].get('torch_threads')} threads, "
         f"OMP_WAIT_POLICY {run['machine'].get('omp_wait_policy')}), onnxruntime {run['machine'].get('onnxruntime', '–')} "
         f"({run['machine'].get('onnx_threads', '–')} threads), chromadb {run['machine']['chromadb']}  "),
        (f"Load average at start {run['machine']['load_average']}, at end {run.get('load_average_end', '–')}; "
        f"run {run['machine']['date']}, {run.get('minutes', '–')} minutes  "),
        f"Chroma: {run['store']}; {run['queries']} queries per scale and system, seed {run['seed']}",
        "",
        ("| chunks | system | ingest chunks/s | index MB | peak RSS MB | start-up s | retrieve p50 / p95 ms | answer p50 / p95 ms "
         "| recall@5 | answers quoting it |"),
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for scale in sorted({row["chunks"] for row in rows}):
        at_scale = [row for row in rows if row["chunks"] == scale]
        for row in at_scale:
            ingest = _number(row["ingest_chunks_per_s"]) + ("*" if row.get("ingest_basis") == "projected" else "")
            lines.append(
                f"| {scale:,} | {label(row)} | {ingest} | {_number(row['index_mb'])} | {_number(row['peak_rss_mb'], 0)} "
                f"| {_number(row['startup_s'])} | {_number(row['retrieve_ms_p50'])} / {_number(row['retrieve_ms_p95'])} "
                f"| {_number(row['answer_ms_p50'], 0)} / {_number(row['answer_ms_p95'], 0)} | {_number(row['recall_at_5'], 3)} "
                f"| {_number(row.get('needle_quoted'), 3)} |"
            )
        ratios = next((row["ratio_to_baseline"] for row in at_scale if row.get("ratio_to_baseline")), None)
        if ratios:
            lines.append(
                f"| | *exorag / baseline* | {_number(ratios['ingest_chunks_per_s'], 2)} | {_number(ratios['index_mb'], 2)} "
                f"| {_number(ratios['peak_rss_mb'], 2)} | {_number(ratios['startup_s'], 2)} "
                f"| {_number(ratios['retrieve_ms_p50'], 2)} / {_number(ratios['retrieve_ms_p95'], 2)} "
                f"| {_number(ratios['answer_ms_p50'], 2)} / {_number(ratios['answer_ms_p95'], 2)} | {_number(ratios['recall_at_5'], 2)} "
                f"| {_number(ratios.get('needle_quoted'), 2)} |"
            )
    lines += ["", ("Every query is answered by one sentence of the corpus. recall@5: the share of queries whose passage "
                   "holding it is among the five retrieved; answers quoting it: the share whose answer quotes it.")]
    if any(row.get("ingest_basis") == "projected" for row in rows):
        lines += ["", ("\\* projected: embeddings came from the bench's cache, so ingest was timed without the model "
                       "and the model's own time for every chunk (measured on a sample of the same texts) was added.")]
    lines += embedder_lines(rows)
    lines += [
        "",
        "## Ingest",
        "",
        ("| chunks | system | indexed chunks | embedded | from cache | ingest s | besides the model s "
        "| model chunks/s | ingest / model |"),
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['chunks']:,} | {label(row)} | {row['indexed_chunks']:,} | {row['embedded']:,} | {row['cached']:,} "
            f"| {_number(row['ingest_s'])} | {_number(row['ingest_overhead_s'])} | {_number(row['embed_chunks_per_s'])} "
            f"| {row['ingest_vs_embed']:.0%} |"
        )
    lines += ["", ("The model's rate is timed inside the ingest where it embedded afresh, else on a sample of "
                   "256 of the same texts after it.")]
    checks = targets(rows)
    if checks:
        lines += ["", "## Targets", "", "| target | value | met |", "|---|---|---|"]
        lines += [f"| {name} | {value} | {'yes' if met else 'no'} |" for name, value, met in checks]
    load = run.get("load")
    if load:
        lines += [
            "", "## Load: the chat UI's HTTP API", "",
            (f"{load['users']} concurrent users for {load['seconds']} s against `exorag serve` on the {load['chunks']:,}-chunk "
            f"index: {load['requests']} requests, {load['answered']} answered, {load['errors']} errors; latency p50 "
            f"{_number(load['latency_ms_p50'], 0)} ms, p95 {_number(load['latency_ms_p95'], 0)} ms, max "
            f"{_number(load['latency_ms_max'], 0)} ms; {load['answers_per_s']} answers/s."),
        ]
        if load["error_examples"]:
            lines += ["", "Errors: " + "; ".join(f"`{e}`" for e in load["error_examples"])]
    lines += ["", "![latency and memory against corpus size](bench.png)", ""]
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> None:
    """Retrieval latency, answer latency and peak memory against corpus size, both systems."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("retrieval latency (ms)", ["retrieve_ms_p50", "retrieve_ms_p95"]),
              ("answer() latency (ms)", ["answer_ms_p50", "answer_ms_p95"]),
              ("peak memory (MB)", ["peak_rss_mb"])]
    figure, axes = plt.subplots(1, 3, figsize=(14, 4))
    for axis, (title, figures) in zip(axes, panels):
        for name, color in zip(dict.fromkeys(label(r) for r in rows), COLORS):
            series = sorted((r for r in rows if label(r) == name), key=lambda r: r["chunks"])
            for figure_name, style in zip(figures, ["-o", "--s"]):
                axis.plot([r["chunks"] for r in series], [r[figure_name] for r in series], style, color=color,
                          label=f"{name} {figure_name.rsplit('_', 1)[-1] if len(figures) > 1 else ''}".strip())
        axis.set_xscale("log")
        axis.set_xlabel("corpus size (chunks)")
        axis.set_title(title)
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_outputs(rows: list[dict], out: Path, run: dict) -> None:
    """Write bench.json, run.json, bench.md and bench.png to ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    rows = with_ratios(rows)
    (out / "bench.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    (out / "run.json").write_text(json.dumps(run, indent=2), encoding="utf-8")
    (out / "bench.md").write_text(markdown(rows, run), encoding="utf-8")
    if rows:
        plot(rows, out / "bench.png")
