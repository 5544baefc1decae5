"""Whether the evidence found for one part of a question speaks to it (a relevance judgement per facet).

Interim: the typed answerability step of the answerability issue replaces this module with the
same ``assess(pipeline, question, hits, question_vector) -> Assessment`` signature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

import numpy as np

from exorag.generate.extractive import QUESTION_WORDS, section_terms
from exorag.scope import unmentioned
from exorag.shape import asked_kind_terms
from exorag.text import english_rarity, exact_identifiers, names_all, tokenize, tokens_with_words

# Passage match (topical similarity and weighted term coverage, half and half) below which nothing
# retrieved is on the facet's topic.
MIN_PASSAGE_MATCH = 0.22
# A word this rare in English that no indexed passage uses is a topic the literature lacks
# ("angiogenesis"), not a paraphrase of one it has.
ABSENT_TOPIC_RARITY = 0.6
SHARED_PREFIX = 5


class ReasonCode(str, Enum):
    no_evidence = "no_evidence"
    named_entity_absent = "named_entity_absent"
    off_topic = "off_topic"


@dataclass
class Assessment:
    answerable: bool
    code: ReasonCode | None
    score: float
    reason: str | None


# In "how does X <verb> Y?", Y is what the answer must explain: its last word names the topic.
_HOW_OBJECT = re.compile(r"^\s*how\s+(?:do|does|did|can|could|might|may)\s+.+\s([^\W\d_]+)\W*$", re.IGNORECASE)


def absent_topic(pipeline, question: str) -> str | None:
    """The topic word of a "how does X <verb> Y?" question when it is rare and no indexed passage
    uses it, nor a word of the same stem (``vesicular`` for ``vesicles``)."""
    match = _HOW_OBJECT.match(question)
    if not match:
        return None
    word = match.group(1)
    tokens = tokenize(word)
    lexical = pipeline.index.lexical
    if len(tokens) != 1 or lexical.knows(tokens[0]) or english_rarity(word) < ABSENT_TOPIC_RARITY:
        return None
    return None if lexical.has_prefix(tokens[0][:SHARED_PREFIX]) else word


def required_weight(weights: dict[str, float], question: str) -> float:
    """The weight an answer must cover: all but the kind a "which X" asks for (an answer names
    members of the kind, "miR-21", and need not repeat "microRNAs"); a kind found still counts."""
    kind = asked_kind_terms(question)
    required = sum(w for t, w in weights.items() if t not in kind)
    return required or sum(weights.values()) or 1.0


def assess(pipeline, question: str, hits, question_vector: np.ndarray) -> Assessment:
    """Whether ``hits`` can answer ``question`` (see ReasonCode for why not)."""
    if not hits:
        return Assessment(False, ReasonCode.no_evidence, 0.0, "Nothing in the index matches this question.")
    missing = unmentioned(question, pipeline.index.lexical, linked=False)
    if missing:
        return Assessment(False, ReasonCode.named_entity_absent, 0.0, missing)
    absent = absent_topic(pipeline, question)
    if absent:
        return Assessment(False, ReasonCode.off_topic, 0.0, f"No indexed passage mentions {absent}.")
    # A passage naming every identifier the question names (GW4869) is on topic, however it reads.
    identifiers = exact_identifiers(question)
    if identifiers and any(names_all(hit.chunk.text, identifiers) for hit in hits):
        return Assessment(True, None, 1.0, None)
    words = {t: w for t, w in tokens_with_words(question).items() if t not in QUESTION_WORDS}
    weights = {t: pipeline.term_weight(t, w) for t, w in words.items()}
    total = required_weight(weights, question)
    context = pipeline.context(question_vector, hits)
    similarity = context.topical_similarity(np.stack([hit.embedding for hit in hits]))
    match = max(
        0.5 * float(sim) + 0.5 * min(1.0, sum(weights[t] for t in weights.keys() & (set(tokenize(hit.chunk.text))
                                                                                 | section_terms(hit.chunk))) / total)
        for hit, sim in zip(hits, similarity, strict=True)
    )
    if match < MIN_PASSAGE_MATCH:
        return Assessment(False, ReasonCode.off_topic, match, "This question is outside what the indexed literature covers.")
    return Assessment(True, None, match, None)
