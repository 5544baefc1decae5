"""Thresholds on metrics for CI: ``--min METRIC=VALUE`` and ``--max METRIC=VALUE``."""

from __future__ import annotations

import math

from evals.metrics import METRIC_NAMES


class ThresholdError(ValueError):
    """A threshold that cannot be read; the message says which and why."""


def parse_thresholds(specs: list[str], option: str) -> dict[str, float]:
    """``["ref_recall=0.9", ...]`` -> ``{"ref_recall": 0.9}``; names must be DESIGN.md metrics."""
    thresholds: dict[str, float] = {}
    for spec in specs:
        name, separator, value = spec.partition("=")
        name = name.strip()
        if not separator:
            raise ThresholdError(f"{option} {spec!r}: expected METRIC=VALUE, e.g. {option} ref_recall=0.9")
        if name not in METRIC_NAMES:
            raise ThresholdError(f"{option} {spec!r}: unknown metric {name!r}; known: {', '.join(METRIC_NAMES)}")
        try:
            thresholds[name] = float(value)
        except ValueError as error:
            raise ThresholdError(f"{option} {spec!r}: {value.strip()!r} is not a number") from error
        if not math.isfinite(thresholds[name]):  # every comparison with nan is false: the gate would always hold
            raise ThresholdError(f"{option} {spec!r}: {value.strip()!r} is not a finite number")
    return thresholds


def check_thresholds(metrics: dict, minimums: dict[str, float], maximums: dict[str, float]) -> list[str]:
    """One line per failed threshold (empty when all hold); an unmeasured (null) metric fails."""
    failures = []
    for name, limit in minimums.items():
        value = metrics.get(name)
        if value is None:
            failures.append(f"{name} was not measured (no item it applies to); --min {name}={limit:g}")
        elif value < limit:
            failures.append(f"{name} = {value:.4g} is below the minimum {limit:g}")
    for name, limit in maximums.items():
        value = metrics.get(name)
        if value is None:
            failures.append(f"{name} was not measured (no item it applies to); --max {name}={limit:g}")
        elif value > limit:
            failures.append(f"{name} = {value:.4g} is above the maximum {limit:g}")
    return failures
