"""How far a judge can be trusted: accuracy, precision and recall on labelled pairs.

"Supported" is the positive class: precision is the share of pairs the judge accepts that are
truly supported, recall the share of supported pairs it accepts. Results are given overall and by
``error_type`` (entity swap, number swap, negation, ...); a group with no supported pair has no
recall and, if the judge accepted none of it, no precision: those are null, and its accuracy is
the share of errors the judge caught.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from evals.dataset import JudgePair
from exorag.judge.base import Judge

NO_ERROR_TYPE = "(none)"


@dataclass
class Scores:
    """Counts of one group of pairs and the rates derived from them."""

    n: int = 0
    true_positive: int = 0
    false_positive: int = 0
    true_negative: int = 0
    false_negative: int = 0

    def add(self, label: bool, predicted: bool) -> None:
        self.n += 1
        if predicted:
            self.true_positive += label
            self.false_positive += not label
        else:
            self.false_negative += label
            self.true_negative += not label

    @property
    def accuracy(self) -> float | None:
        return (self.true_positive + self.true_negative) / self.n if self.n else None

    @property
    def precision(self) -> float | None:
        accepted = self.true_positive + self.false_positive
        return self.true_positive / accepted if accepted else None

    @property
    def recall(self) -> float | None:
        supported = self.true_positive + self.false_negative
        return self.true_positive / supported if supported else None

    def as_dict(self) -> dict[str, float | int | None]:
        return {"n": self.n, "accuracy": self.accuracy, "precision": self.precision, "recall": self.recall}


@dataclass
class Calibration:
    """A judge's results on a labelled file: overall, by error type, and line by line."""

    judge: str
    overall: Scores = field(default_factory=Scores)
    by_error_type: dict[str, Scores] = field(default_factory=dict)
    items: list[dict] = field(default_factory=list)

    def as_dict(self, with_items: bool = True) -> dict:
        result = {
            "judge": self.judge,
            "overall": self.overall.as_dict(),
            "by_error_type": {name: scores.as_dict() for name, scores in self.by_error_type.items()},
        }
        if with_items:
            result["items"] = self.items
        return result

    def to_markdown(self) -> str:
        """A table of accuracy, precision and recall, overall and by error type."""
        rows = ["| error type | n | accuracy | precision | recall |", "|---|---:|---:|---:|---:|"]
        for name, scores in [("overall", self.overall), *sorted(self.by_error_type.items())]:
            cells = [_fraction(value) for value in (scores.accuracy, scores.precision, scores.recall)]
            rows.append(f"| {name} | {scores.n} | " + " | ".join(cells) + " |")
        return "\n".join(rows)


def _fraction(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def calibrate(pairs: Sequence[JudgePair], judge: Judge) -> Calibration:
    """Judge every pair and count the judge's agreements with the labels (``supported`` = accepted)."""
    results = judge.judge_many([(pair.claim, pair.evidence_list) for pair in pairs])
    result = Calibration(judge=judge.name)
    for position, (pair, verdict) in enumerate(zip(pairs, results, strict=True), start=1):
        predicted = verdict.supported
        error_type = pair.error_type or NO_ERROR_TYPE
        result.overall.add(pair.label, predicted)
        result.by_error_type.setdefault(error_type, Scores()).add(pair.label, predicted)
        result.items.append(
            {"line": pair.line or position, "id": pair.id, "claim": pair.claim, "label": pair.label, "error_type": error_type,
             "score": round(verdict.score, 4), "verdict": verdict.verdict, "predicted": predicted,
             "correct": predicted == pair.label}
        )
    return result
