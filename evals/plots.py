"""The report's plots as base64 PNG (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import base64
import io

from evals.report import TOPIC_COLUMNS


def _png(figure) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def support_scores(report: dict) -> list[float]:
    """Every answer sentence's ``support`` in a run."""
    return [s["support"] for e in report["items"] if e["answer"] for s in e["answer"]["sentences"]]


def latencies(report: dict) -> list[float]:
    """Every answer's ``timings_ms.total`` in a run."""
    return [e["answer"]["timings_ms"]["total"] for e in report["items"] if e["answer"] and "total" in e["answer"]["timings_ms"]]


def topic_metrics_plot(report: dict) -> str:
    """Grouped bars: the main metrics for each topic."""
    import matplotlib.pyplot as plt
    import numpy as np

    topics = list(report["by_topic"])
    figure, axes = plt.subplots(figsize=(max(6, 1.3 * len(topics) + 2), 4))
    width = 0.8 / len(TOPIC_COLUMNS)
    positions = np.arange(len(topics))
    for offset, metric in enumerate(TOPIC_COLUMNS):
        values = [report["by_topic"][topic][metric] for topic in topics]
        bars = axes.bar(positions + offset * width, [np.nan if v is None else v for v in values], width, label=metric)
        # A score of 0 draws no bar, as a metric not measured does: each is written where its bar would be.
        for x, value in zip(positions + offset * width, values, strict=True):
            if value is None or value == 0:
                axes.text(x, 0.01, "n/a" if value is None else "0", rotation=90, ha="center", va="bottom", fontsize=6,
                          color="grey" if value is None else bars.patches[0].get_facecolor())
    axes.set_xticks(positions + width * (len(TOPIC_COLUMNS) - 1) / 2, topics, rotation=30, ha="right")
    axes.set_xlim(-0.5, len(topics) - 0.5 + 0.8)
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("score")
    axes.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.3))
    axes.set_title(f"Metrics by topic ({report['system']})")
    return _png(figure)


def _histogram(title: str, xlabel: str, runs: list[tuple[str, list[float]]], bins) -> str:
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 3.5))
    for label, values in runs:
        if values:
            axes.hist(values, bins=bins, alpha=0.6, label=f"{label} (n={len(values)})")
    if any(values for _, values in runs):
        axes.legend(fontsize=8)
    else:
        axes.text(0.5, 0.5, "no data", ha="center", va="center", transform=axes.transAxes)
    axes.set_xlabel(xlabel)
    axes.set_ylabel("count")
    axes.set_title(title)
    return _png(figure)


def report_plots(report: dict, baseline: dict | None = None) -> list[tuple[str, str]]:
    """``(title, base64 PNG)`` for the per-topic metrics, the support-score distribution and the
    latency histogram; a baseline run is overlaid on the two histograms."""
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    runs = [report] + ([baseline] if baseline else [])
    all_latencies = [value for run in runs for value in latencies(run)] or [0.0]
    # Shared bin edges, so the runs' bars line up.
    latency_bins = np.linspace(min(all_latencies), max(max(all_latencies), min(all_latencies) + 1), 21)
    return [
        ("Metrics by topic", topic_metrics_plot(report)),
        ("Support score of answer sentences", _histogram(
            "Support score distribution", "support (verifier score)",
            [(run["system"], support_scores(run)) for run in runs], bins=[i / 20 for i in range(21)])),
        ("Latency of answer()", _histogram(
            "Latency histogram", "timings_ms.total (ms)", [(run["system"], latencies(run)) for run in runs], bins=latency_bins)),
    ]
