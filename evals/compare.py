"""Compare two runs: which metrics improved, which regressed (``exorag eval --compare A B``)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from evals.metrics import LOWER_IS_BETTER, METRIC_NAMES, NEUTRAL

# Differences smaller than these are noise: fractions move by a rounding, latencies jitter.
FRACTION_TOLERANCE = 0.005
LATENCY_RELATIVE_TOLERANCE = 0.10


class RunNotFound(FileNotFoundError):
    """A run folder or report file that does not exist or is not a report."""


@dataclass(frozen=True)
class Change:
    """One metric of run A against run B; ``verdict`` is improved, regressed, unchanged or n/a."""

    metric: str
    before: float | None
    after: float | None
    verdict: str

    @property
    def delta(self) -> float | None:
        return None if self.before is None or self.after is None else self.after - self.before


def load_report(path: Path) -> dict:
    """A run's report.json, from the run folder or the file itself."""
    file = path / "report.json" if path.is_dir() else path
    try:
        report = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise RunNotFound(f"{file}: no such report (run `exorag eval --out {path}` first)") from error
    except json.JSONDecodeError as error:
        raise RunNotFound(f"{file}: not a report ({error.msg} at line {error.lineno})") from error
    except UnicodeDecodeError as error:
        raise RunNotFound(f"{file}: not a report (not UTF-8 text)") from error
    if not isinstance(report, dict) or not isinstance(report.get("metrics"), dict):
        raise RunNotFound(f"{file}: not a report (no 'metrics' object)")
    for name in METRIC_NAMES:
        value = report["metrics"].get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)):
            raise RunNotFound(f"{file}: not a report (metric {name!r} is {value!r}, not a number)")
    return report


def _verdict(metric: str, before: float | None, after: float | None) -> str:
    if before is None or after is None:
        return "n/a"
    if metric in NEUTRAL:
        return "unchanged" if before == after else "changed"
    tolerance = abs(before) * LATENCY_RELATIVE_TOLERANCE if metric.startswith("latency") else FRACTION_TOLERANCE
    if abs(after - before) <= tolerance:
        return "unchanged"
    better = after < before if metric in LOWER_IS_BETTER else after > before
    return "improved" if better else "regressed"


def compare_reports(before: dict, after: dict) -> list[Change]:
    """Every DESIGN.md metric of run ``before`` (A) against run ``after`` (B)."""
    return [
        Change(name, before["metrics"].get(name), after["metrics"].get(name),
               _verdict(name, before["metrics"].get(name), after["metrics"].get(name)))
        for name in METRIC_NAMES
    ]


def differences(before: dict, after: dict) -> list[str]:
    """What makes two runs' figures not comparable: another question set or other items of it (a
    ``--limit``), or another judge of support (a system or generator is what one compares)."""
    # The question set is known by its content where both runs recorded it: the same file by another
    # path is the same set, and a file edited in place is another.
    dataset_key = "dataset_sha256" if before.get("dataset_sha256") and after.get("dataset_sha256") else "dataset"
    found = [f"{key.removesuffix('_sha256')}: A {before.get(key)!r}, B {after.get(key)!r}" for key in (dataset_key, "judge")
             if before.get(key) != after.get(key)]
    ids_before, ids_after = ({item.get("id") for item in report.get("items") or [] if isinstance(item, dict)}
                             for report in (before, after))
    if ids_before != ids_after:
        found.append(f"items: A {len(ids_before)}, B {len(ids_after)} ({len(ids_before - ids_after)} only in A, "
                     f"{len(ids_after - ids_before)} only in B)")
    return found
