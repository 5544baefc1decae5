"""Extractive repair of an LLM sentence that fails verification.

Rather than drop the sentence (and with it a part of the answer), it is replaced by the evidence
sentence that best supports its point: the sentence of the evidence it cited (or, citing nothing
usable, of all the evidence) that shares the most of its terms, quoted with its own citation.
"""

from __future__ import annotations

from exorag.generate.base import DraftSentence
from exorag.generate.extractive import evidence_sentences
from exorag.models import Evidence
from exorag.text import tokenize

# Below this share of the failed sentence's terms, no evidence sentence makes its point.
MIN_SHARED = 0.25


def best_supporting_sentence(text: str, cited: list[Evidence], evidence: list[Evidence]) -> DraftSentence | None:
    """The evidence sentence closest to ``text`` (from ``cited`` first, else ``evidence``), or None."""
    terms = set(tokenize(text))
    if not terms:
        return None
    for pool in (cited, evidence):
        candidates = [s for e in pool for s in evidence_sentences(e)]
        if not candidates:
            continue
        best = max(candidates, key=lambda s: len(terms & s.terms) / len(terms | s.terms))
        if len(terms & best.terms) / len(terms) >= MIN_SHARED:
            return DraftSentence(best.text, [best.evidence.id], best.refs)
    return None
