"""Evidence for every part of a broad question: one search per facet, merged and de-duplicated,
and a judgement per facet of whether the indexed literature speaks to it at all.

A comparison or a multi-part question never needs one passage naming both sides: each side is
searched on its own, and the passages are interleaved so that every facet's best ones come first.
How many passages a facet gets depends on the shape, not on a fixed k.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from exorag import answerability
from exorag.facet_relevance import absent_side, absent_topic
from exorag.generate.base import Draft
from exorag.models import Answer, Chunk, FacetCoverage, ReasonCode, Sentence, SourceVerdict
from exorag.retrieve import Filters, Hit
from exorag.shape import Facet, QuestionShape, asked_kind, asks_for_list, yes_no_claim
from exorag.store.lexical import family_of
from exorag.text import exact_identifiers, identifier_spellings, named_entities, split_sentences
from exorag.verdict import paper_votes, verdict_of

# Passages searched per facet, by shape; the merged evidence holds at most MAX_EVIDENCE.
PASSAGES_PER_FACET = {"fact": 6, "yes_no": 6, "list": 10, "summary": 8, "comparison": 5, "multi_part": 6}
MAX_EVIDENCE = 14
# Passages whose named families may extend a list, the most members searched for, and how alike
# (embedding cosine) a family's name and the kind asked for must be.
FAMILY_SOURCES = 3
MAX_MEMBERS = 6
KIND_LIKENESS = 0.3
# Rows of one table lie within this many characters of each other.
TABLE_REACH = 3000
# An overview reads the passages that follow its best ones: this many, this close after them.
LEADING_PASSAGES = 2
FOLLOWING_PASSAGES = 2
FOLLOWING_REACH = 3000


@dataclass
class FacetEvidence:
    facet: Facet
    hits: list[Hit]
    vector: np.ndarray
    assessment: answerability.Assessment
    # For a list: members of the family it asks for that the corpus names (tokens, ``mir-122``; at
    # most a dozen a family), each given a finding of its own.
    members: list[str] = field(default_factory=list)
    # For a list: the families it asks for (``mir-``); only a sentence naming a member of one, any
    # the corpus names (``mir-4190a``), is a finding.
    families: list[str] = field(default_factory=list)
    # The topic word of a "how does X <verb> Y?" part that no indexed passage mentions.
    absent_topic: str | None = None


@dataclass
class EvidencePlan:
    shape: QuestionShape
    hits: list[Hit]
    facets: list[FacetEvidence]


def interleave(rankings: list[list[Hit]], most: int) -> list[Hit]:
    """Round-robin over ``rankings`` (best of each first), each chunk once, at most ``most``."""
    merged: dict[str, Hit] = {}
    for position in range(max((len(r) for r in rankings), default=0)):
        for ranking in rankings:
            if position < len(ranking) and ranking[position].chunk.chunk_id not in merged:
                merged[ranking[position].chunk.chunk_id] = ranking[position]
    return list(merged.values())[:most]


def _passages_of(pipeline, source_id: str, mask: np.ndarray | None, section: str | None = None, after: int | None = None,
                 until: int | None = None, most: int | None = None) -> list[tuple[Chunk, np.ndarray]]:
    """The first ``most`` stored passages of ``source_id`` in ``mask`` (the filters' passages, no
    suspect one: ``LexicalIndex.allowed``), and in ``section``, starting after ``after`` and at most at
    ``until``, in document order, with their vectors."""
    ids = pipeline.index.lexical.passages_of(source_id, mask, section, after, until)
    found = pipeline.index.vectors.get(ids)
    return [found[i] for i in ids if i in found][:most]


def with_table_rows(pipeline, hits: list[Hit], question_vector: np.ndarray, mask: np.ndarray | None) -> list[Hit]:
    """``hits`` with the other rows of any table one of them belongs to, after it: a table is read
    whole (its header may be what matched the question, its rows are what answer it). Rows keep to
    ``mask``: the filters' passages, no suspect one."""
    expanded: dict[str, Hit] = {}
    for hit in hits:
        expanded.setdefault(hit.chunk.chunk_id, hit)
        if not hit.chunk.text.lstrip().startswith("|"):
            continue
        start = hit.chunk.char_start
        for chunk, vector in _passages_of(pipeline, hit.chunk.source_id, mask, hit.chunk.section,
                                          after=start - TABLE_REACH - 1, until=start + TABLE_REACH):
            if chunk.text.lstrip().startswith("|"):
                expanded.setdefault(chunk.chunk_id, Hit(chunk, hit.fused, float(vector @ question_vector), vector))
    return list(expanded.values())


def with_following_passages(pipeline, hits: list[Hit], question_vector: np.ndarray, mask: np.ndarray | None,
                            leading: int = LEADING_PASSAGES) -> list[Hit]:
    """``hits`` with the passages that follow the ``leading`` best ones in their document, each read
    right after the one it follows: an overview reads on past the passage that introduces its topic
    (its elaboration is often worded apart from the question). Like table rows, they keep to ``mask``."""
    present = {hit.chunk.chunk_id for hit in hits}
    expanded: list[Hit] = []
    for rank, hit in enumerate(hits):
        expanded.append(hit)
        if rank >= leading:
            continue
        for chunk, vector in _passages_of(pipeline, hit.chunk.source_id, mask, after=hit.chunk.char_start,
                                          until=hit.chunk.char_start + FOLLOWING_REACH, most=FOLLOWING_PASSAGES):
            if chunk.chunk_id not in present:
                present.add(chunk.chunk_id)
                expanded.append(Hit(chunk, hit.fused, float(vector @ question_vector), vector))
    return expanded


def with_family_members(pipeline, facet: Facet, hits: list[Hit], filters: Filters
                        ) -> tuple[list[Hit], list[str], list[str]]:
    """``hits`` and, for a question asking for the members of a kind, passages on the other members
    of a family its best passages name (``miR-122`` and ``miR-1273f`` beside ``miR-21``), with the
    members and the families. A family counts when its name reads like the kind asked for
    ("microRNAs" and ``miR-21``), or, the kind unknown, when the best passage already lists two of its members."""
    named = list(dict.fromkeys(name for hit in hits[:FAMILY_SOURCES] for name in exact_identifiers(hit.chunk.text)))
    families = {name: family for name in named if len(family := pipeline.index.lexical.family_members(name)) > 1}
    kind = asked_kind(facet.text)
    if kind and families:
        representatives = list(families)
        likeness = pipeline.embed_texts(representatives) @ pipeline.embed_texts([kind])[0]
        chosen = [name for name, like in zip(representatives, likeness, strict=True) if like >= KIND_LIKENESS]
    else:
        first = {t for name in exact_identifiers(hits[0].chunk.text) for t in identifier_spellings(name)} if hits else set()
        chosen = [name for name, family in families.items() if len(first & set(family)) >= 2]
    seen = {t for hit in hits for name in exact_identifiers(hit.chunk.text) for t in identifier_spellings(name)}
    members = list(dict.fromkeys(m for name in chosen for m in families[name]))
    prefixes = list(dict.fromkeys(prefix for name in chosen if (prefix := family_of(name))))
    unseen = [m for m in members if m not in seen][:MAX_MEMBERS]
    if not unseen:
        return hits, members, prefixes
    vectors = pipeline.embed_texts(unseen)
    extra = [hit for member, vector in zip(unseen, vectors, strict=True)
             for hit in pipeline.retriever.search(member, 2, filters, vector)]
    return interleave([hits, extra], len(hits) + len(extra)), members, prefixes


def _absent_assessment(topic: str) -> answerability.Assessment:
    return answerability.Assessment(ReasonCode.NO_RELEVANT_EVIDENCE, 0.0, f"No indexed passage mentions {topic}.")


FacetJudge = Callable[[str, list[Hit], np.ndarray], answerability.Assessment]


def gather_evidence(pipeline, question: str, shape: QuestionShape, filters: Filters, mask: np.ndarray | None,
                    question_hits: list[Hit], question_vector: np.ndarray, judge: FacetJudge) -> EvidencePlan:
    """Search each facet of ``shape`` (the whole question's hits lead), ``judge`` each, merge; passages
    read around a hit keep to ``mask`` (``LexicalIndex.allowed`` of ``filters``)."""
    per_facet = PASSAGES_PER_FACET[shape.shape]
    facets: list[FacetEvidence] = []
    searched: list[list[Hit]] = []  # each facet's hits as searched, before reading on
    # One batch for every facet's query: far cheaper than one embedding call each.
    others = [f.query for f in shape.facets if f.query != question]
    vectors = dict(zip(others, pipeline.embed_texts(others), strict=True)) if others else {}
    for facet in shape.facets:
        vector = question_vector if facet.query == question else np.asarray(vectors[facet.query], dtype=np.float32)
        hits = pipeline.retriever.search(facet.query, per_facet, filters, vector)
        members: list[str] = []
        prefixes: list[str] = []
        if shape.shape == "list" or asks_for_list(facet.text):
            hits, members, prefixes = with_family_members(pipeline, facet, hits, filters)
        hits = with_table_rows(pipeline, hits, vector, mask)
        assessment = judge(facet.query, hits, vector)
        if (shape.shape == "comparison" and assessment.code == ReasonCode.NO_RELEVANT_EVIDENCE
                and facet.text != facet.query and named_entities(facet.text)):
            # A side naming an entity is searched with the question's shared words ("… how do these two
            # routes to more proliferation differ?"), which may dilute it: its passages may address the
            # side itself. A side of common words alone ("liver metastasis") would pass on any passage.
            assessment = judge(facet.text, hits, np.asarray(pipeline.embed_texts([facet.text])[0], dtype=np.float32))
        searched.append(hits)
        if shape.shape == "summary":
            hits = with_following_passages(pipeline, hits, vector, mask)
        absent = absent_topic(pipeline.index.lexical, facet.query) if assessment.answerable else None
        if shape.shape == "comparison" and assessment.answerable:
            absent = absent or absent_side(pipeline.index.lexical, facet.text)
        if absent:
            assessment = _absent_assessment(absent)
        facets.append(FacetEvidence(facet, hits, vector, assessment, members=members, families=prefixes, absent_topic=absent))
    # A later part searched with the first part's words ("how do exosomes promote angiogenesis, and
    # which factors drive it") is about the same absent topic.
    absent_words = [f.absent_topic for f in facets if f.absent_topic]
    for facet in facets:
        word = next((w for w in absent_words if re.search(rf"\b{re.escape(w)}\b", facet.facet.query, re.IGNORECASE)), None)
        if word and facet.assessment.answerable:
            facet.assessment = _absent_assessment(word)
    merged = interleave([question_hits, *searched], max(MAX_EVIDENCE, len(question_hits)))
    # Passages read on past the search's come last: whether the literature answers the question
    # rests on what the search found, not on them.
    read_on = {hit.chunk.chunk_id: hit for f in facets for hit in f.hits}
    for hit in merged:
        read_on.pop(hit.chunk.chunk_id, None)
    return EvidencePlan(shape, merged + list(read_on.values()), facets)


def plan_assessment(plan: EvidencePlan) -> answerability.Assessment:
    """The question's assessment from its parts': answerable when some part is (the rest are named
    as uncovered), else the first part's reason. A comparison one of whose sides no passage
    mentions is not answered: there is nothing to compare."""
    unstudied = next((f for f in plan.facets if f.absent_topic), None) if plan.shape.shape == "comparison" else None
    if unstudied is not None:
        return unstudied.assessment
    if any(f.assessment.answerable for f in plan.facets):
        return answerability.Assessment()
    first = next((f.assessment for f in plan.facets if f.assessment.reason), None)
    if first is None:
        return answerability.Assessment(ReasonCode.NO_RELEVANT_EVIDENCE, 0.0,
                                        "The indexed literature does not address this question.")
    return answerability.Assessment(first.code, first.score, first.reason)


_WHAT_IS = re.compile(r"^(?:what|which)\s+(?:is|are|was|were)\s+(?:the\s+)?(.+)$", re.IGNORECASE)


def uncovered_note(facet_text: str) -> str:
    """What a partial answer says about a part it cannot answer."""
    match = _WHAT_IS.match(facet_text.strip(" ?."))
    if match:
        return f"The indexed literature does not describe {match.group(1)}."
    return f"The indexed literature does not answer this part of the question: {facet_text.strip(' ?.')}?"


def cited_coverage(plan: EvidencePlan, answer: Answer) -> list[FacetCoverage]:
    """Which parts of a broad question the answer's verified sentences cite evidence found for them."""
    ids_by_chunk = {e.chunk_id: e.id for e in answer.evidence}
    cited = {i for s in answer.sentences for i in s.evidence_ids}
    coverage = []
    for facet in plan.facets:
        found = list(dict.fromkeys(ids_by_chunk[h.chunk.chunk_id] for h in facet.hits
                                   if ids_by_chunk.get(h.chunk.chunk_id) in cited))
        covered = facet.assessment.answerable and bool(found)
        coverage.append(FacetCoverage(text=facet.facet.text, covered=covered, evidence_ids=found if covered else []))
    return coverage


def annotate(answer: Answer, shape: QuestionShape, draft: Draft, plan: EvidencePlan | None = None) -> Answer:
    """``answer`` with its shape, facet coverage, partial-answer notes and (yes/no) verdict, with
    what each cited paper says (``source_verdicts``).

    The extractive draft knows which part each finding answers; for a model's draft, a part is
    covered when a verified sentence cites a passage found for it."""
    answer.shape = shape.shape
    if plan is not None and draft.facets is None:
        draft.facets = cited_coverage(plan, answer)
    if draft.facets:
        answer.facets = draft.facets
        notes = [uncovered_note(f.text) for f in draft.facets if not f.covered]
        if notes and not answer.abstained:
            answer.answer = " ".join([answer.answer, *notes])
    claim, quoted = yes_no_part(answer, shape)
    if claim:
        papers = [_paper(answer, s) for s in quoted]
        votes = paper_votes(claim, [s.text for s in quoted], papers)
        said = {paper: [s for s, of in zip(quoted, papers, strict=True) if of == paper] for paper in votes}
        path_of = {paper: paper.rsplit(":", 1)[0] for paper in votes}
        if not votes and quoted:
            # The quoted sentences may not word the claim where the rest of a cited study does.
            paths = {path for s in quoted for path in _cited_paths(answer, s)}
            read = [(e.text[start:end], e.source_path) for e in answer.cited_studies()
                    if e.source_kind == "literature" and e.source_path in paths for start, end in split_sentences(e.text)]
            votes = paper_votes(claim, [text for text, _ in read], [paper for _, paper in read])
            said = {path: [s for s in quoted if path in _cited_paths(answer, s)] for path in votes}
            path_of = {path: path for path in votes}
        answer.verdict = verdict_of(list(votes.values()))
        answer.source_verdicts = [SourceVerdict(citation=said[paper][0].citation, verdict=vote,
                                                evidence_ids=_cited_passages_of(answer, said[paper], path_of[paper]))
                                  for paper, vote in votes.items()]
    return answer


def yes_no_part(answer: Answer, shape: QuestionShape) -> tuple[str | None, list[Sentence]]:
    """The yes/no claim an answer gets a verdict on and the sentences that vote on it: the whole
    question's, or of a question of several parts, its first yes/no part's, with only the
    sentences quoted for that part ("Does hypoxia raise exosome release, and which integrins …?")."""
    quoted = [] if answer.abstained else answer.sentences
    if shape.shape in ("fact", "list", "summary"):  # asked for a fact or findings (a reference's), not yes or no
        return None, []
    if shape.shape != "multi_part":
        return yes_no_claim(answer.standalone_question or answer.question) or yes_no_claim(shape.facets[0].text), quoted
    for facet in answer.facets or []:
        if claim := yes_no_claim(facet.text):
            return claim, [s for s in quoted if set(s.evidence_ids) & set(facet.evidence_ids)]
    return None, []


def _cited_passages_of(answer: Answer, sentences: list[Sentence], path: str) -> list[str]:
    """The passages of the paper at ``path`` that ``sentences`` cite, not another paper's beside them."""
    return list(dict.fromkeys(i for s in sentences for i in s.evidence_ids
                              if (e := answer.evidence_by_id(i)) and e.source_path == path))


def _cited_paths(answer: Answer, sentence: Sentence) -> set[str]:
    return {e.source_path for i in sentence.evidence_ids if (e := answer.evidence_by_id(i))}


def _paper(answer: Answer, sentence: Sentence) -> str:
    """Which paper a sentence reports: its literature file, or in a review the references it cites."""
    evidence = answer.evidence_by_id(sentence.evidence_ids[0]) if sentence.evidence_ids else None
    return f"{evidence.source_path if evidence else ''}:{sentence.refs}"
