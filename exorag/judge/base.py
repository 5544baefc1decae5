"""What every judge offers: a verdict on whether evidence passages support a claim.

A verdict is one of ``supported`` (the evidence states the claim), ``partial`` (it states part
of it; the claim adds something it does not say), ``contradicted`` (it states something the claim
gets wrong: another entity, number, direction, or a negation) and ``not_found`` (it does not
speak to the claim). ``score`` is the judge's support in 0..1 and ``evidence`` the evidence
sentence(s) the verdict rests on.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from exorag.text import split_sentences, strip_citations, tokenize

Verdict = Literal["supported", "partial", "contradicted", "not_found"]
VERDICTS: tuple[Verdict, ...] = ("supported", "partial", "contradicted", "not_found")


class JudgeError(RuntimeError):
    """A judge that cannot run (a missing setting or model); the message says which."""


@dataclass(frozen=True)
class JudgeResult:
    """A judge's decision on one claim: verdict, support score, and the evidence it rests on."""

    verdict: Verdict
    score: float
    evidence: str = ""
    passage: int | None = None  # index of the passage holding ``evidence``

    @property
    def supported(self) -> bool:
        return self.verdict == "supported"

    def as_dict(self) -> dict:
        return {"verdict": self.verdict, "score": round(self.score, 4), "evidence": self.evidence, "passage": self.passage}


@dataclass(frozen=True)
class Window:
    """A few consecutive sentences of one passage, the unit a claim is checked against."""

    passage: int
    text: str
    overlap: float


def evidence_windows(claim: str, passages: Sequence[str], size: int = 3, keep: int = 2) -> list[Window]:
    """The ``keep`` windows of up to ``size`` sentences that share most content terms with ``claim``,
    best first: a cheap pre-selection so a model reads a few sentences, not whole passages."""
    claim_terms = set(tokenize(claim))
    windows: list[Window] = []
    for index, passage in enumerate(passages):
        sentences = [passage[start:end] for start, end in split_sentences(passage)] or [passage]
        terms = [set(tokenize(sentence)) for sentence in sentences]
        for start in range(max(1, len(sentences) - size + 1)):
            covered = set().union(*terms[start : start + size]) & claim_terms
            overlap = len(covered) / len(claim_terms) if claim_terms else 0.0
            windows.append(Window(index, strip_citations(" ".join(sentences[start : start + size])), overlap))
    windows.sort(key=lambda window: -window.overlap)
    return windows[:keep]


def best_sentence(claim: str, window: str) -> str:
    """The sentence of ``window`` sharing most content terms with ``claim`` (the one to show)."""
    claim_terms = set(tokenize(claim))
    sentences = [window[start:end] for start, end in split_sentences(window)] or [window]
    return max(sentences, key=lambda sentence: len(claim_terms & set(tokenize(sentence))))


class Judge(ABC):
    """Decides whether evidence supports a claim.

    Subclasses implement ``judge_many``; ``judge`` remembers every decision, because the metrics
    ask about the same (claim, evidence) pair several times.
    """

    name: str = ""
    threshold: float = 0.5

    def __init__(self) -> None:
        self._decisions: dict[tuple[str, tuple[str, ...]], JudgeResult] = {}
        self._lock = threading.Lock()

    @abstractmethod
    def judge_many(self, items: Sequence[tuple[str, Sequence[str]]]) -> list[JudgeResult]:
        """One result per ``(claim, evidence passages)`` item, in order."""

    def judge(self, claim: str, passages: Sequence[str]) -> JudgeResult:
        """The verdict on one claim against ``passages`` (read as their union), cached."""
        key = (claim, tuple(passages))
        with self._lock:
            if key in self._decisions:
                return self._decisions[key]
        result = self.judge_many([(claim, list(passages))])[0]
        with self._lock:
            self._decisions[key] = result
        return result

    def score_many(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """Support scores in 0..1 for ``(claim, evidence)`` pairs, in order."""
        return [result.score for result in self.judge_many([(claim, [evidence]) for claim, evidence in pairs])]

    def supports(self, claim: str, evidence: str) -> bool:
        """True when the verdict on ``claim`` against ``evidence`` is ``supported``."""
        return self.judge(claim, [evidence]).supported
