"""The extractive answer to a broad question: one quoted, cited sentence per distinct finding.

For each facet of the question (a side of a comparison, a part of a multi-part question, the one
topic of a list or summary), the evidence sentences found for that facet are scored as the
extractive generator scores them, against the facet instead of the whole question. A sentence is
a finding when it shares a weighted term with the facet, states the facet's own focus (the
"limitations" of "…, and what are their limitations?"), and scores near the facet's best; near
duplicates of a finding already chosen are left out. When the sentence closest to the facet is a
review's own uncited statement of the topic, a sentence also scores against that statement, so
the findings it introduces in other words count, and a summary quotes the cited sentences that
follow the statement in the review (its elaboration). Where the question asks what was found, a
study's finding scores nearly as well as the study's best sentence: its aim and background repeat
the question's words, its results ("the leak rate fell from 6.5% to 1.4%") often share few.
Findings are grouped by facet, then by section, in retrieval order, each with the sentences of its
paragraph that go on from it ("This acts as a decoy …"). A facet with no finding is reported as
not covered.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from exorag.answerability import assess_answer
from exorag.facet_relevance import required_weight
from exorag.facets import EvidencePlan, FacetEvidence
from exorag.generate.base import Draft, DraftSentence, GenerationContext
from exorag.generate.extractive import (
    EvidenceSentence,
    abbreviation_reader,
    asks_for_finding,
    evidence_sentences,
    finding_of_same_study,
    is_header_row,
    needs_its_finding,
    ranking_penalty,
    section_terms,
    with_antecedents,
    with_consequents,
)
from exorag.models import Evidence, FacetCoverage, ReasonCode
from exorag.shape import QuestionShape
from exorag.store.lexical import is_family_member
from exorag.text import QUESTION_WORDS, exact_identifiers, names_all, tokenize, topic_words

# Findings kept per facet, by shape; with the sentences that go on from them, a facet quotes at most
# QUOTED_PER_FINDING times as many sentences.
FINDINGS_PER_FACET = {"list": 8, "summary": 8, "comparison": 2, "multi_part": 4}
QUOTED_PER_FINDING = 2
PASSAGES_PER_FACET = 10
SIMILARITY_WEIGHT = 0.5
GENERALITY_PENALTY = 0.1
# A finding scores at least this share of its facet's best finding, and at least MIN_FINDING.
RELATIVE_SCORE = 0.6
MIN_FINDING = 0.1
# Candidates embedded per facet (embedding is most of an answer's time): those covering most of it.
MAX_EMBEDDED = 16
# Two sentences this similar (embedding cosine) say the same thing.
DUPLICATE_COSINE = 0.9
# A study's finding is as relevant as the study: it scores at least this share of the study's best
# sentence (its aim or background matches the question's words; its results often share few).
STUDY_SHARE = 0.8
# Passages of one document this close (a heading between them) are read as one run of text.
HEADING_GAP = 200
# Words that point back at an earlier part of the question rather than name a topic.
POINTING_WORDS = frozenset(tokenize("it its they them their these those this that each one ones else other others "
                                    "act acts achieve achieves consequence consequences result results"))


def focus_terms(facet_text: str, earlier: str) -> set[str]:
    """The terms a later part of a question adds to the earlier ones ("limitations")."""
    return set(tokenize(facet_text)) - set(tokenize(earlier)) - QUESTION_WORDS - POINTING_WORDS


def _weights(text: str, context: GenerationContext) -> dict[str, float]:
    words = {t: w for t, w in topic_words(text).items() if t not in POINTING_WORDS}
    return {t: context.term_weight(t, w) for t, w in words.items()}


def elaboration(topic: EvidenceSentence, facet: FacetEvidence, evidence: list[Evidence]) -> list[EvidenceSentence]:
    """The cited sentences a review's uncited statement of a topic introduces: those after it in its
    document, up to its next uncited statement, the second heading after it or a passage the search
    did not read. Only a paragraph that cites nothing introduces (a topic stated before its heading);
    an uncited sentence closing a paragraph of cited findings sums them up instead."""
    if not all(s.framing for s in evidence_sentences(topic.evidence) if s.paragraph == topic.paragraph):
        return []
    chunks = {h.chunk.chunk_id: h.chunk for h in facet.hits}
    by_chunk = {e.chunk_id: e for e in evidence}
    first = chunks[topic.evidence.chunk_id]
    run = sorted((c for c in chunks.values() if c.source_id == first.source_id and c.char_start >= first.char_start
                  and c.chunk_id in by_chunk), key=lambda c: c.char_start)
    found: dict[str, EvidenceSentence] = {}
    end, sections = first.char_start, [first.section]
    for chunk in run:
        if chunk.section != sections[-1]:
            sections.append(chunk.section)
        if chunk.char_start > end + HEADING_GAP or len(sections) > 2:
            break
        end = max(end, chunk.char_end)
        for sentence in evidence_sentences(by_chunk[chunk.chunk_id]):
            if chunk is first and (sentence.paragraph, sentence.position) <= (topic.paragraph, topic.position):
                continue
            if sentence.framing:
                # The rest of the statement's own paragraph is part of it; any other uncited sentence starts anew.
                if chunk is first and sentence.paragraph == topic.paragraph:
                    continue
                return list(found.values())
            found.setdefault(sentence.text, sentence)
    return list(found.values())


def facet_findings(facet: FacetEvidence, focus: set[str], evidence: list[Evidence], context: GenerationContext,
                   most: int, elaborate: bool = False) -> list[tuple[EvidenceSentence, np.ndarray]]:
    """The findings of one facet, best first, each with its embedding. With ``elaborate`` (a summary),
    a review's uncited statement of the facet's topic brings the sentences that elaborate it first."""
    weights = _weights(facet.facet.query, context)
    if not weights:
        return []
    total = required_weight(weights, facet.facet.query)
    by_chunk = {e.chunk_id: e for e in evidence}
    passages = [by_chunk[h.chunk.chunk_id] for h in facet.hits if h.chunk.chunk_id in by_chunk][:PASSAGES_PER_FACET]
    # A part naming identifiers (GW4869) is answered only from passages that name them, where any does
    # (an abbreviation the literature spells out, nSMase2, is named by none).
    named = exact_identifiers(facet.facet.text)
    passages = [e for e in passages if names_all(e.text, named)] or passages if named else passages
    candidates = list({s.text: s for e in passages for s in evidence_sentences(e)}.values())
    spelled_out = abbreviation_reader(passages)
    # A table's rows are about what its column headings name ("Strategy", "Key Limitations").
    headings = {(e.source_path, e.section): set(tokenize(e.text)) for e in passages if is_header_row(e.text)}

    def context_terms(s: EvidenceSentence) -> set[str]:
        table = headings.get((s.evidence.source_path, s.evidence.section), set()) if s.evidence.text.lstrip().startswith("|") else set()
        return section_terms(s.evidence) | table

    def coverage(terms: set[str]) -> float:
        return min(1.0, sum(weights[t] for t in weights.keys() & terms) / total)

    def names_member(s: EvidenceSentence) -> bool:
        return any(is_family_member(t, family) for t in s.terms for family in facet.families)

    # Only sentences that speak to the facet are embedded: embedding is most of an answer's time.
    spelled = {id(s): spelled_out(s) for s in candidates}
    candidates = [s for s in candidates if coverage(spelled[id(s)]) and (not focus or focus & spelled[id(s)])
                  and (not facet.families or names_member(s))]
    if not candidates:
        return []
    covers = {id(s): coverage(spelled[id(s)] | context_terms(s)) for s in candidates}
    # What a sentence loses for reporting no finding, once per sentence; a study's sentence that
    # loses nothing, where the question asks what was found, reports one.
    penalty = {id(s): ranking_penalty(facet.facet.text, s) for s in candidates}
    asks_finding = asks_for_finding(facet.facet.text)
    study_findings = {id(s) for s in candidates
                      if asks_finding and s.evidence.source_kind == "literature" and not penalty[id(s)]}
    study_cover = _best_by_study(candidates, covers)
    ranked_cover = {id(s): max(covers[id(s)], STUDY_SHARE * study_cover[s.evidence.source_path])
                    if id(s) in study_findings else covers[id(s)] for s in candidates}
    # The members found in the corpus each get a sentence, so all of theirs are embedded.
    listed = set(facet.members)
    most_embedded = max(MAX_EMBEDDED, sum(bool(s.terms & listed) for s in candidates))
    if len(candidates) > most_embedded:
        best = {id(s) for s in sorted(candidates, key=lambda s: (not s.terms & listed, -ranked_cover[id(s)]))[:most_embedded]}
        candidates = [s for s in candidates if id(s) in best]
    vectors = context.embed_texts([s.text for s in candidates])
    generality = vectors @ context.centroid if context.centroid is not None else np.zeros(len(candidates))

    def scores(query_vector: np.ndarray, covered: dict[int, float]) -> list[tuple[float, int]]:
        similarity = dataclasses.replace(context, question_vector=query_vector).topical_similarity(vectors)
        own = {id(s): SIMILARITY_WEIGHT * float(similarity[i]) + (1 - SIMILARITY_WEIGHT) * covered[id(s)]
               - GENERALITY_PENALTY * float(generality[i]) - penalty[id(s)]
               for i, s in enumerate(candidates)}
        study = _best_by_study(candidates, own)
        return [(max(own[id(s)], STUDY_SHARE * study[s.evidence.source_path] + (1 - STUDY_SHARE) * own[id(s)])
                 if id(s) in study_findings else own[id(s)], i) for i, s in enumerate(candidates)]

    scored = scores(facet.vector, covers)
    topic_index = max(scored)[1]
    topic = candidates[topic_index]
    # A summary of a topic the review states in its own words quotes what the review says under it.
    elaborating = elaboration(topic, facet, evidence)[:most] if elaborate and topic.framing else []
    # A review's sentence citing nothing is framing (an outline, a call to action): a finding only
    # where no cited sentence or paper speaks to the facet.
    if elaborating or any(not s.framing for s in candidates):
        if topic.framing:
            # The framing sentence that matches the facet best is the literature's own statement of
            # it ("… by delivering oncogenic receptors and miRNAs …"): its words and meaning are
            # searched for too (pseudo-relevance feedback), so the findings it introduces count.
            expanded = {**_weights(topic.text, context), **weights}
            expanded_total = required_weight(expanded, facet.facet.query)
            expanded_covers = {id(s): min(1.0, sum(expanded[t] for t in expanded.keys() & s.terms) / expanded_total)
                               for s in candidates}
            query = facet.vector + vectors[topic_index]
            fed_back = scores(query / (np.linalg.norm(query) or 1.0), expanded_covers)
            scored = [(max(score, again), i) for (score, i), (again, _) in zip(scored, fed_back, strict=True)]
        scored = [(score, i) for score, i in scored if not candidates[i].framing]
    if not scored and not elaborating:
        return []
    scored.sort(reverse=True)
    floor = max(MIN_FINDING, RELATIVE_SCORE * scored[0][0]) if scored else 0.0
    # Each member of a listed family gets its best sentence, however it scores against the question.
    unnamed = set(facet.members)
    chosen: list[tuple[EvidenceSentence, np.ndarray]] = []
    if elaborating:
        chosen = list(zip(elaborating, context.embed_texts([s.text for s in elaborating]), strict=True))
    for score, i in scored:
        names = unnamed & candidates[i].terms
        if (score < floor and not names) or len(chosen) >= max(most, len(facet.members)):
            continue
        if any(float(vectors[i] @ v) >= DUPLICATE_COSINE or candidates[i].terms <= c.terms for c, v in chosen):
            continue
        chosen.append((candidates[i], vectors[i]))
        unnamed -= candidates[i].terms
    # As in a single answer, a study's aim or method is quoted with the best finding of the same paper.
    ranked = [candidates[i] for _, i in scored]
    position = {id(s): i for i, s in enumerate(candidates)}
    quoted = {id(c) for c, _ in chosen}
    for aim, _ in [c for c in chosen if needs_its_finding(facet.facet.text, c[0])]:
        finding = finding_of_same_study(aim, ranked, quoted)
        if finding is not None:
            chosen.append((finding, vectors[position[id(finding)]]))
            quoted.add(id(finding))
    return chosen


def _best_by_study(candidates: list[EvidenceSentence], scores: dict[int, float]) -> dict[str, float]:
    best: dict[str, float] = {}
    for s in candidates:
        best[s.evidence.source_path] = max(best.get(s.evidence.source_path, float("-inf")), scores[id(s)])
    return best


def _with_consequents_within(found: list[tuple[EvidenceSentence, np.ndarray]], most: int) -> list[EvidenceSentence]:
    """The findings, each followed by the sentences that go on from it while the facet quotes at most ``most``."""
    spare = most - len(found)
    quoted: list[EvidenceSentence] = []
    for finding, _ in found:
        following = with_consequents([finding])[1:][:max(0, spare)]
        spare -= len(following)
        quoted += [finding, *following]
    return quoted


def structured_draft(shape: QuestionShape, plan: EvidencePlan, evidence: list[Evidence],
                     context: GenerationContext) -> Draft:
    """One cited sentence per finding, grouped by facet and then by section; facets without one uncovered."""
    most = FINDINGS_PER_FACET.get(shape.shape, 3)
    section_rank: dict[str, int] = {}
    for e in evidence:
        section_rank.setdefault(e.section, len(section_rank))
    order = {e.id: rank for rank, e in enumerate(evidence)}
    sentences: list[DraftSentence] = []
    coverage: list[FacetCoverage] = []
    quoted: dict[str, str] = {}
    earlier = ""
    for index, facet in enumerate(plan.facets):
        focus = set()
        if shape.shape == "multi_part" and index:
            focus = focus_terms(facet.facet.text, earlier)
        elif shape.shape == "comparison":
            focus = set(tokenize(facet.facet.text)) - QUESTION_WORDS
        earlier = f"{earlier} {facet.facet.text}"
        found = (facet_findings(facet, focus, evidence, context, most, elaborate=shape.shape == "summary")
                 if facet.assessment.answerable else [])
        # Asked for a dose or a drawback, a part is covered only by findings that state one.
        if found and not assess_answer(facet.facet.text, [s.text for s, _ in found],
                                       list(dict.fromkeys(s.evidence.text for s, _ in found))).answerable:
            found = []
        found.sort(key=lambda f: (section_rank[f[0].evidence.section], order[f[0].evidence.id], f[0].paragraph, f[0].position))
        for sentence in with_antecedents(_with_consequents_within(found, QUOTED_PER_FINDING * most)):
            if sentence.text not in quoted:
                quoted[sentence.text] = sentence.evidence.id
                sentences.append(DraftSentence(sentence.text, [sentence.evidence.id], sentence.refs))
        coverage.append(FacetCoverage(text=facet.facet.text, covered=bool(found),
                                      evidence_ids=list(dict.fromkeys(s.evidence.id for s, _ in found))))
    if not sentences:
        failed = next((f.assessment for f in plan.facets if f.assessment.reason), None)
        if failed is not None:
            return Draft(abstain_reason=failed.reason, abstain_code=failed.code, facets=coverage)
        return Draft(abstain_reason="The indexed literature does not address any part of this question closely enough "
                     "to answer it.", abstain_code=ReasonCode.NO_ANSWERING_SENTENCE, facets=coverage)
    return Draft(sentences, facets=coverage)
