"""Does the indexed literature answer this question? One ordered list of typed checks.

Before generation, on the retrieved passages: is there evidence at all, does the corpus name the
things the question names (and together), and does the best source address the question's focus.
After generation, on the drafted sentences: does the answer state the kind of detail the question
asks for. Every generator goes through the same checks; the first that fails decides, and its
``ReasonCode`` goes into the Answer beside the text a person reads.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from exorag.asked import is_yes_no, unstated
from exorag.config import Settings
from exorag.facet_relevance import absent_subject
from exorag.generate.base import GenerationContext
from exorag.generate.extractive import evidence_sentences
from exorag.models import Evidence, ReasonCode
from exorag.scope import unmentioned
from exorag.store.lexical import LexicalIndex
from exorag.text import (
    STOPWORDS,
    english_rarity,
    exact_identifiers,
    held_terms,
    identifier_spellings,
    names_all,
    question_terms,
    tokens_with_words,
    weighted_coverage,
)

# Sentences of the retrieved passages compared with the question: the first MAX_SENTENCES (best
# passages first), of which the CLOSEST_SENTENCES sharing most question terms are embedded.
MAX_SENTENCES = 40
CLOSEST_SENTENCES = 16
# They are embedded this many at a time, those sharing most terms first, until the question is answerable.
SENTENCES_PER_CALL = 4
# Synonyms of a missing term are looked for in this many sources, among their rarest words (a bounded cost).
SYNONYM_SOURCES = 2
SYNONYM_WORDS = 400


@dataclass(frozen=True)
class Assessment:
    """The outcome of one check: ``code`` is None when the check passed; ``score`` is its measure
    (the relevance check's is exact when it fails, and at least the threshold when it passes)."""

    code: ReasonCode | None = None
    score: float | None = None
    reason: str | None = None

    @property
    def answerable(self) -> bool:
        return self.code is None


ANSWERABLE = Assessment()


def focus_relevance(question: str, evidence: list[Evidence], context: GenerationContext, settings: Settings,
                    unjudged: frozenset[str] = frozenset()) -> float:
    """How well the retrieved passages address the question's focus, in 0..1.

    A blend of two measures that fail differently. Coverage: the weighted share of the question's
    terms that its best source (one document: its retrieved passages read together) holds, where
    rare, specific terms weigh most and a term the source lacks still earns partial credit for a
    word of the source with a close embedding (a synonym: "microRNA" for "miRNA"). Sentence
    similarity: the embedding cosine of the question with the closest sentence of those passages,
    which rewards a paraphrase that shares few words. Terms in ``unjudged`` count for nothing.
    """
    terms = {t: w for t, w in question_terms(question).items() if t not in unjudged}
    weights = {t: context.term_weight(t, w) for t, w in terms.items()}
    passages = evidence[: settings.relevance_passages]
    if not weights or not passages:
        return 0.0
    sources: dict[str, list[Evidence]] = defaultdict(list)
    for passage in passages:
        sources[passage.source_path].append(passage)
    found = [tokens_with_words("\n".join(f"{p.section}: {p.text}" for p in group)) for group in sources.values()]
    held = [held_terms(weights, tokens) for tokens in found]
    # Sources that hold most of the question first: synonyms are looked for in the first few (a bounded cost).
    best = sorted(range(len(found)), key=lambda i: -sum(weights[t] for t in held[i]))[:SYNONYM_SOURCES]
    weight = settings.relevance_coverage_weight

    def blend(coverage: float, closest: float) -> float:
        return weight * coverage + (1 - weight) * closest

    # Synonyms only raise coverage, and embedding a source's words costs most of a slow answer: they
    # are looked for only when the terms held verbatim leave the question below the threshold.
    held_coverage = weighted_coverage(weights, held[best[0]])
    # The similarity that takes the blend to the threshold: past it, more sentences change no decision.
    enough = (settings.min_relevance - weight * held_coverage) / (1 - weight) if weight < 1 else -1.0
    closest = _closest_sentence(question, passages, context, enough)
    if blend(held_coverage, closest) >= settings.min_relevance:
        return blend(held_coverage, closest)
    # Below the threshold every sentence was compared, so ``closest`` is exact here.
    return blend(max(_coverage(weights, terms, held[i], found[i], context, settings) for i in best), closest)


def _coverage(weights: dict[str, float], terms: dict[str, str], held: set[str], found: dict[str, str],
              context: GenerationContext, settings: Settings) -> float:
    """The weighted share of the question's terms a source holds, a missing term credited for the
    source word closest to it in embedding (from none at the floor cosine to all at the full one)."""
    credit = dict.fromkeys(held, 1.0)
    missing = [t for t in weights if t not in held]
    words = sorted({w.casefold() for w in found.values() if w.isalpha()} - STOPWORDS, key=english_rarity, reverse=True)
    if missing and words:
        closest = (context.embed_texts([terms[t].casefold() for t in missing])
                   @ context.embed_texts(words[:SYNONYM_WORDS]).T).max(axis=1)
        floor, full = settings.synonym_cosine_floor, settings.synonym_cosine_full
        credit.update({t: float(np.clip((c - floor) / (full - floor), 0.0, 1.0)) for t, c in zip(missing, closest)})
    return sum(weights[t] * c for t, c in credit.items()) / (sum(weights.values()) or 1.0)


def _closest_sentence(question: str, passages: list[Evidence], context: GenerationContext, enough: float) -> float:
    """The cosine of the question with its closest sentence among the passages' (0 when they have
    none), or, once a batch reaches ``enough``, the closest so far: a relevance already past the
    threshold is not refined, so an answerable question's score is a lower bound and an abstention's exact."""
    # The extractive generator's sentences: it embeds its candidates among them next, from the same cache.
    sentences = [s for p in passages for s in evidence_sentences(p) if len(s.text.split()) >= 4][:MAX_SENTENCES]
    # Embedding is most of an answer's time. The closest sentence in embedding is, in practice, among
    # those sharing most words with the question (on the review, PubMedQA and the bench corpus alike).
    asked = set(question_terms(question))
    ranked = sorted(sentences, key=lambda s: -len(asked & s.terms))[:CLOSEST_SENTENCES]
    if not ranked:
        return 0.0
    closest = -1.0
    for start in range(0, len(ranked), SENTENCES_PER_CALL):
        texts = [s.text for s in ranked[start:start + SENTENCES_PER_CALL]]
        closest = max(closest, float((context.embed_texts(texts) @ context.question_vector).max()))
        if closest >= enough:
            break
    return closest


def assess_evidence(question: str, evidence: list[Evidence], context: GenerationContext, lexical: LexicalIndex,
                    mask: np.ndarray | None, settings: Settings, linked: bool = True) -> Assessment:
    """The checks before generation, in order; the first that fails decides."""
    if not evidence:
        return Assessment(ReasonCode.NO_EVIDENCE, 0.0, "Nothing in the index matches this question "
                          "(is the corpus ingested, or are the filters too narrow?).")
    if not question_terms(question):
        return Assessment(ReasonCode.NO_QUESTION_TERMS, 0.0, "The question has no terms to look for in the literature.")
    absent = unmentioned(question, lexical, mask, linked=linked)
    if absent:
        code = ReasonCode.ENTITIES_NOT_TOGETHER if absent.together else ReasonCode.NAMED_ENTITY_ABSENT
        return Assessment(code, 0.0, absent.reason)
    # The subject of a yes/no question no passage mentions: the literature does not study it, though
    # it may study the same outcome ("Does giving zoledronic acid … reduce hip fractures?").
    subject = absent_subject(lexical, question)
    if subject:
        return Assessment(ReasonCode.NO_RELEVANT_EVIDENCE, 0.0, f"No indexed passage mentions {subject}.")
    identifiers = exact_identifiers(question)
    # An identifier no passage mentions got past the check above as a possible abbreviation of
    # words the corpus spells out ("nSMase2"): it says nothing either way about relevance.
    unknown = frozenset(spelling for name in identifiers if not lexical.mentions(name, mask)
                        for spelling in identifier_spellings(name))
    relevance = focus_relevance(question, evidence, context, settings, unknown)
    # A passage naming every id the question names (GW4869, miR-1273f) is on topic, however it reads.
    names_them = any(names_all(e.text, identifiers) for e in evidence[: settings.relevance_passages])
    if relevance < settings.min_relevance and not names_them:
        return Assessment(ReasonCode.NO_RELEVANT_EVIDENCE, relevance,
                          "This question is outside what the indexed literature covers.")
    return Assessment(score=relevance)


def assess_answer(question: str, answer_texts: list[str], cited_texts: list[str]) -> Assessment:
    """The check after generation: the answer states the kind of detail the question asks for.

    A yes/no question ("Is X predictive of mortality?") is answered by a finding that need not
    repeat the detail itself: it is enough that the passages it cites speak of it.
    """
    whether = is_yes_no(question)
    missing = unstated(question, cited_texts if whether else answer_texts, whether)
    if missing:
        return Assessment(ReasonCode.ASKED_DETAIL_ABSENT, 0.0,
                          f"The question asks for {missing}, and the indexed literature states none for it.")
    return ANSWERABLE
