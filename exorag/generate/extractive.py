"""The extractive generator: the answer is built from evidence sentences, quoted, never written.

Each evidence sentence is scored by how much of the question's weighted terms it covers (weights
are the lexical index's IDF, so rare, specific words count most) and by how highly its passage
was retrieved. The best sentence leads; sentences of the same paragraph that carry the question's
terms join it, and a sentence from another passage joins when it covers terms the first did not.
A sentence carries the citation that closes it in its paragraph.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from exorag.citations import cited_numbers
from exorag.generate.base import Draft, DraftSentence, GenerationContext
from exorag.models import Evidence
from exorag.text import split_sentences, strip_citations, tokenize

MAX_SENTENCES = 4
MAX_WORDS = 110
# Below this share of the question's weighted terms, the evidence does not answer the question.
MIN_COVERAGE = 0.34
QUESTION_WORDS = frozenset(tokenize("what which how why when where who whose role roles mechanism mechanisms "
                                    "effect effects way ways happen happens involved involve play plays "
                                    "function functions main kind kinds type types work works mean means "
                                    "particular specifically exactly actually thing things"))


@dataclass
class EvidenceSentence:
    text: str
    refs: set[int]
    evidence: Evidence
    paragraph: int
    position: int
    terms: set[str]


def evidence_sentences(evidence: Evidence) -> list[EvidenceSentence]:
    """The sentences of a passage, each with the refs of the citation that closes it.

    A sentence without a bracket of its own carries the next bracket of its paragraph (reviews
    cite once at the end of a run of sentences); literature passages carry the paper's number.
    """
    sentences: list[EvidenceSentence] = []
    literature = evidence.source_kind == "literature"
    for paragraph_index, paragraph in enumerate(evidence.text.split("\n")):
        spans = split_sentences(paragraph)
        own = [cited_numbers(paragraph[s:e]) for s, e in spans]
        for position, (start, end) in enumerate(spans):
            refs = set(evidence.refs) if literature else own[position] or next((r for r in own[position:] if r), set())
            raw = paragraph[start:end]
            sentences.append(
                EvidenceSentence(strip_citations(raw).strip(" |"), refs & set(evidence.refs) if not literature else refs,
                                 evidence, paragraph_index, position, set(tokenize(raw)))
            )
    return [s for s in sentences if len(s.text.split()) >= 3]


class ExtractiveGenerator:
    name = "extractive"

    def generate(self, question: str, evidence: list[Evidence], context: GenerationContext) -> Draft:
        query_terms = {t for t in tokenize(question) if t not in QUESTION_WORDS}
        if not query_terms or not evidence:
            return Draft(abstain_reason="The question has no terms to look for in the literature.")
        weights = {t: context.term_weight(t) for t in query_terms}
        total = sum(weights.values())

        def coverage(terms: set[str]) -> float:
            return sum(weights[t] for t in query_terms & terms) / total

        top_score = max(e.score for e in evidence) or 1.0
        candidates = [s for e in evidence for s in evidence_sentences(e)]
        if not candidates:
            return Draft(abstain_reason="The retrieved passages hold no usable sentence.")
        ranked = sorted(
            candidates,
            key=lambda s: 0.7 * coverage(s.terms | section_terms(s.evidence)) + 0.3 * s.evidence.score / top_score,
            reverse=True,
        )
        lead = ranked[0]
        chosen = [lead]
        covered = lead.terms | section_terms(lead.evidence)
        for sentence in ranked[1:]:
            if len(chosen) >= MAX_SENTENCES or sum(len(s.text.split()) for s in chosen) + len(sentence.text.split()) > MAX_WORDS:
                continue
            same_paragraph = sentence.evidence is lead.evidence and sentence.paragraph == lead.paragraph
            adds_terms = coverage(covered | sentence.terms) - coverage(covered) >= 0.15
            if (same_paragraph and coverage(sentence.terms) > 0) or (adds_terms and coverage(sentence.terms) >= 0.3):
                chosen.append(sentence)
                covered |= sentence.terms

        if coverage(covered) < MIN_COVERAGE:
            return Draft(abstain_reason="The indexed literature does not address this question closely enough to answer it.")
        order = {id(e): rank for rank, e in enumerate(evidence)}
        chosen.sort(key=lambda s: (order[id(s.evidence)], s.paragraph, s.position))
        return Draft([DraftSentence(s.text, [s.evidence.id], s.refs) for s in chosen])

    def stream(self, question: str, evidence: list[Evidence], context: GenerationContext) -> Iterator[str | Draft]:
        draft = self.generate(question, evidence, context)
        for sentence in draft.sentences:
            yield sentence.text + " "
        yield draft


def section_terms(evidence: Evidence) -> set[str]:
    return set(tokenize(evidence.section)) if evidence.section else set()
