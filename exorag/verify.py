"""Checking an answer sentence against the evidence it cites.

``support_score`` is a model-free entailment estimate in 0..1: the share of the sentence's
content terms found in the evidence, with hard failures for what such overlap misses most often
in biology: a number or a named entity (gene, protein, miRNA) that the evidence does not contain,
a negation the evidence does not make, and an effect whose direction the evidence reverses.
A sentence found verbatim in its evidence scores 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from exorag.citations import find_citations
from exorag.text import normalise, numbers_in, strip_citations, tokenize

SUPPORT_THRESHOLD = 0.6

_ENTITY = re.compile(r"\b(?=[\w\u03b1-\u03c9-]*(?:\d|[A-Z]{2}))[A-Za-z][\w\u03b1-\u03c9\u0391-\u03a9-]*\b")
_NEGATION = re.compile(r"\b(?:not|no|never|neither|nor|cannot|fails? to|without|lacks?|absence of|unable)\b|n't\b")
_DIRECTIONS = [
    ({"increas", "rais", "elev", "enhanc", "promot", "boost", "upregul", "stimul", "activ", "induc", "augment", "more", "higher"},
     {"decreas", "lower", "reduc", "suppress", "inhibit", "downregul", "block", "repress", "impair", "attenu", "less", "fewer", "silenc", "blunt", "dampen"}),
]


@dataclass
class SupportCheck:
    score: float
    problems: list[str] = field(default_factory=list)


def _squash(text: str) -> str:
    return " ".join(normalise(strip_citations(text)).split())


def entities_in(text: str) -> set[str]:
    """Gene, protein and miRNA-like names: words with a digit or two capitals (PD-L1, miR-21, EGFRvIII)."""
    return {normalise(m.group(0)) for m in _ENTITY.finditer(strip_citations(text))}


def _stems(words: set[str], prefixes: set[str]) -> set[str]:
    return {p for p in prefixes for w in words if w.startswith(p)}


def support_score(sentence: str, evidence: list[str]) -> SupportCheck:
    """How well the union of ``evidence`` passages supports ``sentence`` (see module docstring)."""
    if not evidence:
        return SupportCheck(0.0, ["no evidence cited"])
    claim = _squash(sentence)
    joined = "\n".join(evidence)
    if claim and claim.rstrip(".") in _squash(joined):
        return SupportCheck(1.0)

    problems: list[str] = []
    missing_numbers = numbers_in(sentence) - numbers_in(joined)
    if missing_numbers:
        problems.append(f"number not in evidence: {', '.join(sorted(missing_numbers))}")
    evidence_entities = entities_in(joined)
    evidence_compact = _squash(joined).replace("-", "")
    missing_entities = {e for e in entities_in(sentence) - evidence_entities if e.replace("-", "") not in evidence_compact}
    if missing_entities:
        problems.append(f"name not in evidence: {', '.join(sorted(missing_entities))}")

    claim_words = set(re.findall(r"[a-z']+", claim))
    evidence_words = set(re.findall(r"[a-z']+", _squash(joined)))
    if _NEGATION.search(claim) and not _NEGATION.search(_squash(joined)):
        problems.append("negation the evidence does not make")
    for up, down in _DIRECTIONS:
        claim_up, claim_down = _stems(claim_words, up), _stems(claim_words, down)
        evidence_up, evidence_down = _stems(evidence_words, up), _stems(evidence_words, down)
        # A direction word of the claim that the evidence lacks, where the evidence has the opposite.
        if ((claim_up - evidence_up) and (evidence_down - claim_down)) or (
            (claim_down - evidence_down) and (evidence_up - claim_up)
        ):
            problems.append("direction of effect reversed")

    claim_terms = set(tokenize(sentence))
    if not claim_terms:
        return SupportCheck(0.0, problems + ["no content"])
    coverage = len(claim_terms & set(tokenize(joined))) / len(claim_terms)
    score = coverage * (0.3 if problems else 1.0)
    return SupportCheck(round(score, 3), problems)


def cited_refs_are_in_evidence(citation_text: str, evidence_refs: set[int]) -> bool:
    """True when every number of ``citation_text`` is among ``evidence_refs``."""
    return all(c.numbers <= evidence_refs for _, _, c in find_citations(citation_text))
