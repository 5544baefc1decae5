"""The generator interface: evidence in, a draft of sentences pointing at evidence ids out.

Generators never write reference numbers: the chain maps the evidence ids a sentence points at
to the canonical citation of that evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from exorag.models import Evidence, FacetCoverage, ReasonCode

if TYPE_CHECKING:
    from exorag.facets import EvidencePlan


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
    abstain_code: ReasonCode | None = None
    # How well the best evidence sentence matches the question (0..1), when the generator knows it.
    confidence: float | None = None
    # For a broad question: which of its parts the draft covers.
    facets: list[FacetCoverage] | None = None


@dataclass
class GenerationContext:
    """What a generator may use besides the evidence.

    ``term_weight(token, word)`` says how much a question term matters, in 0..1: how specific it
    is in the corpus, or, for a word the corpus never uses, how rare it is in English.
    """

    term_weight: Callable[[str, str], float]
    # Unit vectors of texts, and of the question, from the embedding model of the index.
    embed_texts: Callable[[list[str]], np.ndarray]
    question_vector: np.ndarray
    # The corpus's mean embedding; similarities are taken with it projected out, so that what
    # every passage shares (the corpus's topic) does not make a generic sentence look relevant.
    centroid: np.ndarray | None = None
    # For a broad question: its shape, facets and the evidence found for each (exorag.facets.EvidencePlan).
    plan: EvidencePlan | None = None

    def topical_similarity(self, vectors: np.ndarray) -> np.ndarray:
        """Cosine of each row of ``vectors`` with the question, after removing the corpus direction."""
        question = self.question_vector
        if self.centroid is not None:
            vectors = vectors - np.outer(vectors @ self.centroid, self.centroid)
            question = question - (question @ self.centroid) * self.centroid
        norms = np.linalg.norm(vectors, axis=1) * (np.linalg.norm(question) or 1.0)
        return (vectors @ question) / np.where(norms == 0, 1.0, norms)


class Generator(Protocol):
    name: str

    def generate(self, question: str, evidence: list[Evidence], context: GenerationContext) -> Draft: ...

    def stream(self, question: str, evidence: list[Evidence], context: GenerationContext) -> Iterator[str | Draft]:
        """Text pieces as they are produced, then the finished Draft."""
        ...
