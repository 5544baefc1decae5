"""The generator interface: evidence in, a draft of sentences pointing at evidence ids out.

Generators never write reference numbers: the chain maps the evidence ids a sentence points at
to the canonical citation of that evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from exorag.models import Evidence


@dataclass
class DraftSentence:
    text: str
    evidence_ids: list[str]
    # The subset of the evidence's refs that this sentence carries, when the generator knows it
    # (the extractive generator reads which bracket closes the sentence); None means all of them.
    refs: set[int] | None = None


@dataclass
class Draft:
    sentences: list[DraftSentence] = field(default_factory=list)
    abstain_reason: str | None = None


@dataclass
class GenerationContext:
    """What a generator may use besides the evidence: term weights from the lexical index."""

    term_weight: Callable[[str], float]


class Generator(Protocol):
    name: str

    def generate(self, question: str, evidence: list[Evidence], context: GenerationContext) -> Draft: ...

    def stream(self, question: str, evidence: list[Evidence], context: GenerationContext) -> Iterator[str | Draft]:
        """Text pieces as they are produced, then the finished Draft."""
        ...
