"""What every judge offers: a support score in 0..1 for a claim against evidence text."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence


class JudgeError(RuntimeError):
    """A judge that cannot run (a missing setting or model); the message says which."""


class Judge(ABC):
    """Decides whether evidence supports (entails) a claim.

    Subclasses implement ``score_many``; ``supports`` applies ``threshold`` and remembers every
    decision, because the metrics ask about the same (sentence, evidence) pair several times.
    """

    name: str = ""
    threshold: float = 0.5

    def __init__(self) -> None:
        self._decisions: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    @abstractmethod
    def score_many(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """Support scores in 0..1 for ``(claim, evidence)`` pairs, in order."""

    def score(self, claim: str, evidence: str) -> float:
        """The support score of one pair, cached."""
        key = (claim, evidence)
        with self._lock:
            if key in self._decisions:
                return self._decisions[key]
        value = self.score_many([key])[0]
        with self._lock:
            self._decisions[key] = value
        return value

    def supports(self, claim: str, evidence: str) -> bool:
        """True when ``evidence`` supports ``claim`` (score at or above the threshold)."""
        return self.score(claim, evidence) >= self.threshold
