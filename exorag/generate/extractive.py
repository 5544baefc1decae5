"""The extractive generator: the answer is built from evidence sentences, quoted, never written.

Each evidence sentence is scored by how much of the question's weighted terms it covers (weights
are the lexical index's IDF, so rare, specific words count most) and by how highly its passage
was retrieved. The best sentence leads; sentences of the same paragraph that carry the question's
terms join it, and a sentence from another passage joins when it covers terms the first did not.
A sentence carries the citation that closes it in its paragraph.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from exorag.citations import cited_numbers, format_numbers
from exorag.findings import is_tested_finding, reports_finding, states_aim_or_method
from exorag.generate.base import Draft, DraftSentence, GenerationContext
from exorag.models import Evidence, ReasonCode
from exorag.shape import asks_about_each
from exorag.text import (
    defined_abbreviations,
    exact_identifiers,
    names_all,
    question_terms,
    split_sentences,
    strip_citations,
    tokenize,
    weighted_coverage,
    whole_word,
)

MAX_SENTENCES = 4
MAX_WORDS = 110
MAX_PASSAGES = 5
MAX_CANDIDATES = 18
SIMILARITY_WEIGHT = 0.5
GENERALITY_PENALTY = 0.1
UNCITED_PENALTY = 0.05
AIM_OR_METHOD_PENALTY = 0.1
# A sentence joins the lead when it scores at least this share of the lead's score.
CLOSE_SCORE = 0.85


@dataclass
class EvidenceSentence:
    text: str
    refs: set[int]
    evidence: Evidence
    paragraph: int
    position: int
    terms: set[str]

    @property
    def place(self) -> tuple[str, int, int]:
        """Where the sentence stands: its passage, paragraph and position (one sentence, however found)."""
        return self.evidence.id, self.paragraph, self.position

    @property
    def framing(self) -> bool:
        """A review sentence that cites nothing: the author's framing (an outline, a call to action).
        A paper's own sentence is a finding, cited by the paper, numbered or not."""
        return not self.refs and self.evidence.source_kind == "review"


def evidence_sentences(evidence: Evidence) -> list[EvidenceSentence]:
    """The sentences of a passage, each with the refs of the citation that closes it.

    A sentence without a bracket of its own carries the next bracket of its paragraph (reviews
    cite once at the end of a run of sentences); literature passages carry the paper's number.
    """
    sentences: list[EvidenceSentence] = []
    literature = evidence.source_kind == "literature"
    paragraphs = evidence.text.split("\n")
    for paragraph_index, paragraph in enumerate(paragraphs):
        if paragraph.lstrip().startswith("|"):
            following = paragraphs[paragraph_index + 1] if paragraph_index + 1 < len(paragraphs) else ""
            row = table_row_text(paragraph, following)
            if row:
                refs = set(evidence.refs) if literature else cited_numbers(paragraph) & set(evidence.refs)
                sentences.append(EvidenceSentence(strip_citations(row), refs, evidence, paragraph_index, 0, set(tokenize(row))))
            continue
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


_SEPARATOR_CELL = re.compile(r"^:?-{3,}:?$")
# A column heading: a few words, no number, citation or clause (a row separated from its table's
# separator line by chunking is still a header).
_HEADER_CELL = re.compile(r"^[^\W\d_][^\d\[\](),;.]{0,40}$")


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def is_header_row(line: str) -> bool:
    """Whether a table row is a row of column headings."""
    return line.lstrip().startswith("|") and all(_HEADER_CELL.match(cell) for cell in _cells(line))


def table_row_text(line: str, following: str = "") -> str | None:
    """A Markdown table row quoted as its cells, ``"first cell: second; third"``, or None for what is
    never quoted: a header row (the next line is the separator, or every cell is a short heading),
    the separator, a row with an empty cell or with fewer than two cells."""
    cells = _cells(line)
    if all(_SEPARATOR_CELL.match(cell) for cell in cells):
        return None
    if following.lstrip().startswith("|") and all(_SEPARATOR_CELL.match(cell) for cell in _cells(following)):
        return None
    if len(cells) < 2 or not all(cells) or is_header_row(line):
        return None
    return f"{cells[0]}: {'; '.join(cells[1:])}"


class ExtractiveGenerator:
    name = "extractive"

    def __init__(self, min_confidence: float):
        # Below this score of the best sentence, the evidence does not answer the question.
        self.min_confidence = min_confidence

    def generate(self, question: str, evidence: list[Evidence], context: GenerationContext) -> Draft:
        if context.plan is not None and context.plan.shape.broad:
            from exorag.generate.structured import structured_draft

            return structured_draft(context.plan.shape, context.plan, evidence, context)
        terms = question_terms(question)
        weights = {t: context.term_weight(t, w) for t, w in terms.items()}

        def coverage(tokens: set[str]) -> float:
            return weighted_coverage(weights, tokens)

        identifiers = exact_identifiers(question)
        # A passage naming every id the question names (GW4869, miR-1273f) is on topic, however it reads.
        naming = {e.id for e in evidence[:MAX_PASSAGES] if names_all(e.text, identifiers)}
        candidates = [s for e in evidence[:MAX_PASSAGES] for s in evidence_sentences(e)][:MAX_CANDIDATES]
        if asks_for_finding(question):
            candidates += rest_of_lead_study(evidence, candidates)
        if not candidates:
            return Draft(abstain_reason="The retrieved passages hold no usable sentence.",
                         abstain_code=ReasonCode.NO_ANSWERING_SENTENCE)
        spelled_out = abbreviation_reader(evidence[:MAX_PASSAGES])
        vectors = context.embed_texts([s.text for s in candidates])
        similarity = context.topical_similarity(vectors)
        # A sentence close to the corpus centroid says what every passage says: a summary, not an answer.
        generality = vectors @ context.centroid if context.centroid is not None else np.zeros(len(candidates))
        score = {
            id(s): SIMILARITY_WEIGHT * float(similarity[i])
            + (1 - SIMILARITY_WEIGHT) * coverage(spelled_out(s) | section_terms(s.evidence))
            - GENERALITY_PENALTY * float(generality[i])
            # A review sentence citing nothing is the author's framing; a finding goes before it.
            - (UNCITED_PENALTY if s.framing else 0.0)
            for i, s in enumerate(candidates)
        }
        ranked = sorted(candidates, key=lambda s: score[id(s)], reverse=True)
        # Whether the evidence answers rests on the best sentence of all; what is quoted puts a
        # finding before a study's aim, method or background.
        confidence = score[id(ranked[0])]
        ranked.sort(key=lambda s: score[id(s)] - ranking_penalty(question, s), reverse=True)
        lead = ranked[0]
        # What the lead finding leads to is said in the sentences that go on from it ("These vesicles …").
        chosen = [lead]
        for following in with_consequents([lead])[1:]:
            if sum(len(s.text.split()) for s in with_antecedents([*chosen, following])) <= MAX_WORDS:
                chosen.append(following)
        covered = set().union(*(s.terms | section_terms(s.evidence) for s in chosen))
        for sentence in ranked[1:]:
            if any(s.place == sentence.place for s in chosen):
                continue
            # What a sentence points back to is quoted with it, and counts towards the length.
            words_with_it = sum(len(s.text.split()) for s in with_antecedents([*chosen, sentence]))
            if len(chosen) >= MAX_SENTENCES or words_with_it > MAX_WORDS:
                continue
            same_paragraph = sentence.evidence is lead.evidence and sentence.paragraph == lead.paragraph
            close = score[id(sentence)] >= CLOSE_SCORE * score[id(lead)]
            adds_terms = coverage(covered | sentence.terms) - coverage(covered) >= 0.1
            if (same_paragraph and (close or adds_terms)) or (close and adds_terms):
                chosen.append(sentence)
                covered |= sentence.terms
        # A study's aim restates the question: it is quoted with the best finding of the same paper
        # (a review is no single study: its sentences of that kind are not paired).
        for aim in [s for s in chosen if needs_its_finding(question, s)]:
            findings = study_findings(aim, ranked)
            # One finding of a study answers a single question: an aim whose study's finding is quoted needs no other.
            if findings and not {id(s) for s in findings} & {id(s) for s in chosen}:
                chosen.append(findings[0])
        chosen = within_length(chosen, ranked)

        # A lead from a passage naming the question's ids is on topic though loosely worded: half the bar.
        if confidence < (self.min_confidence / 2 if lead.evidence.id in naming else self.min_confidence):
            return Draft(abstain_reason="The indexed literature does not address this question closely enough to answer it.",
                         abstain_code=ReasonCode.NO_ANSWERING_SENTENCE, confidence=confidence)
        if naming and not any(s.evidence.id in naming for s in chosen):
            return Draft(abstain_reason="The indexed literature names what this question asks about, but nothing it says answers it.",
                         abstain_code=ReasonCode.NO_ANSWERING_SENTENCE, confidence=confidence)
        order = {id(e): rank for rank, e in enumerate(evidence)}
        chosen = with_antecedents(sorted(chosen, key=lambda s: (order[id(s.evidence)], s.paragraph, s.position)))
        return Draft([DraftSentence(s.text, [s.evidence.id], s.refs) for s in chosen], confidence=confidence)

    def stream(self, question: str, evidence: list[Evidence], context: GenerationContext) -> Iterator[str | Draft]:
        draft = self.generate(question, evidence, context)
        for sentence in draft.sentences:
            yield sentence.text + " "
        yield draft


_MEASURED = re.compile(r"\d")


def study_findings(aim: EvidenceSentence, ranked: list[EvidenceSentence]) -> list[EvidenceSentence]:
    """The findings of ``aim``'s paper in ``ranked`` order: those tested against something, else
    those that measure something (a number: a background's "a higher incidence of …" does not), else all."""
    findings = [s for s in ranked if s.evidence.source_path == aim.evidence.source_path and reports_finding(s.text)]
    return ([s for s in findings if is_tested_finding(s.text)] or [s for s in findings if _MEASURED.search(s.text)]
            or findings)


def finding_of_same_study(aim: EvidenceSentence, ranked: list[EvidenceSentence], quoted: set[int]) -> EvidenceSentence | None:
    """The best of ``aim``'s paper's findings (``study_findings``) not quoted yet (``quoted`` holds ``id``s)."""
    return next((s for s in study_findings(aim, ranked) if id(s) not in quoted), None)


def rest_of_lead_study(evidence: list[Evidence], candidates: list[EvidenceSentence]) -> list[EvidenceSentence]:
    """The sentences of the best passage's paper (a study, not the review) that the evidence holds
    beyond ``candidates``: a paper's results follow its aim and methods, worded apart from the
    question. A sentence that two overlapping passages share is read once."""
    if not evidence or evidence[0].source_kind != "literature":
        return []
    seen = {s.text for s in candidates}
    rest = []
    for passage in [e for e in evidence if e.source_path == evidence[0].source_path]:
        for sentence in evidence_sentences(passage):
            if sentence.text not in seen:
                seen.add(sentence.text)
                rest.append(sentence)
    return rest


def within_length(chosen: list[EvidenceSentence], ranked: list[EvidenceSentence]) -> list[EvidenceSentence]:
    """``chosen`` cut to an answer's MAX_SENTENCES and MAX_WORDS (what its sentences point back to
    counted): sentences that report no finding go first, the lowest-ranked first; the lead stays."""
    rank = {id(s): position for position, s in enumerate(ranked)}
    kept = list(chosen)
    while len(kept) > MAX_SENTENCES or sum(len(s.text.split()) for s in with_antecedents(kept)) > MAX_WORDS:
        droppable = [s for s in kept[1:] if not reports_finding(s.text)]
        if not droppable:
            break
        kept.remove(max(droppable, key=lambda s: rank.get(id(s), len(ranked))))
    return kept


# A question about what was studied or how ("Which markers were examined?", "What tests were done?")
# is answered by a study's aim or method, not only by its finding.
_ASKS_ABOUT_DESIGN = re.compile(r"\b(?:examined|evaluated|studied|measured|assessed|tested|investigated|explored|"
                                r"analy[sz]ed|looked at|done|performed|used|recruited|enrolled|included|designs?|"
                                r"designed|methods?|aims?|objectives?)\b", re.IGNORECASE)


# "What is sarcopenia?", "What are exosomes?": a definition, which a study's background gives.
_ASKS_DEFINITION = re.compile(r"^\s*what (?:is|are) (?:an? |the )?(?!.*\b(?:of|on|in|for|with|between|after|about|to|from|known)\b)"
                              r"[\w-]+(?:\s+[\w-]+){0,3}\s*\??\s*$", re.IGNORECASE)


def asks_for_finding(question: str) -> bool:
    """Whether ``question`` asks what was found: not what something is, nor only what was examined
    or how, unless it asks what each of those showed ("Which tests were evaluated, and what did each
    one show?")."""
    if _ASKS_DEFINITION.match(question):
        return False
    return not _ASKS_ABOUT_DESIGN.search(question) or asks_about_each(question)


def needs_its_finding(question: str, sentence: EvidenceSentence) -> bool:
    """Whether ``sentence`` reports no finding (a study's aim, method or background) where the
    question asks for one: it is quoted with the best finding of the same paper (a review is no
    single study)."""
    return sentence.evidence.source_kind == "literature" and not reports_finding(sentence.text) and asks_for_finding(question)


def ranking_penalty(question: str, sentence: EvidenceSentence) -> float:
    """What a sentence loses in the ranking for reporting no finding where the question asks for
    one: a study's aim or method, or, in a study (not a review, which is all summary), its background."""
    if not asks_for_finding(question):
        return 0.0
    # A finding is never an aim or method, so in a study "reports no finding" covers both and the background.
    if sentence.evidence.source_kind == "literature":
        reports_nothing = not reports_finding(sentence.text)
    else:
        reports_nothing = states_aim_or_method(sentence.text)
    return AIM_OR_METHOD_PENALTY if reports_nothing else 0.0


# A sentence that opens by pointing back ("This acts as a decoy", "These vesicles …", "Fusion of these
# exosomes …") says little without the sentence before it.
_POINTS_BACK = re.compile(r"^(?:(?:however|moreover|furthermore|in addition|additionally|in turn|thus|therefore|"
                          r"consequently|similarly|notably|importantly),?\s+)?"
                          r"(?:(?:this|these|those|such|they|their|its)|[\w-]+\s+of\s+(?:this|these|those|such))\b", re.IGNORECASE)


def points_back(text: str) -> bool:
    """Whether a sentence opens by pointing back to the one before it ("This acts as a decoy …")."""
    return _POINTS_BACK.match(text) is not None


# How many sentences a chain of such sentences is followed, back to what they point to or on from a finding.
CHAIN = 2


def _neighbour(sentence: EvidenceSentence, step: int) -> EvidenceSentence | None:
    """The sentence ``step`` places away from ``sentence`` in its paragraph when the later of the two
    points back to the earlier (and the earlier is cited if the later is: a cited finding is never
    read with uncited framing)."""
    other = next((s for s in evidence_sentences(sentence.evidence)
                  if s.paragraph == sentence.paragraph and s.position == sentence.position + step), None)
    if other is None:
        return None
    earlier, later = (other, sentence) if step < 0 else (sentence, other)
    return other if points_back(later.text) and not (later.refs and not earlier.refs) else None


def _with_chains(sentences: list[EvidenceSentence], step: int) -> list[EvidenceSentence]:
    result: list[EvidenceSentence] = []
    placed: set[tuple[str, int, int]] = set()
    for sentence in sentences:
        chain = [sentence]
        while len(chain) <= CHAIN and (other := _neighbour(chain[0] if step < 0 else chain[-1], step)) is not None:
            if step < 0:
                chain.insert(0, other)
            else:
                chain.append(other)
        for item in chain:
            if item.place not in placed:
                placed.add(item.place)
                result.append(item)
    return result


def with_antecedents(sentences: list[EvidenceSentence]) -> list[EvidenceSentence]:
    """``sentences`` in order, each one that points back preceded by what it points back to."""
    return _with_chains(sentences, -1)


def with_consequents(sentences: list[EvidenceSentence]) -> list[EvidenceSentence]:
    """``sentences`` in order, each followed by the sentences that go on from it (what a finding
    leads to is often said in the next sentence, which points back to it)."""
    return _with_chains(sentences, 1)


def section_terms(evidence: Evidence) -> set[str]:
    return set(tokenize(evidence.section)) if evidence.section else set()


def abbreviation_reader(passages: list[Evidence]) -> Callable[[EvidenceSentence], set[str]]:
    """A function giving a sentence's terms with the words of each abbreviation it writes (in the
    case defined) that ``passages`` define: a study's results name its arms and measures by their
    short forms ("HFNC was 3.0 dBA quieter than BCPAP"), which hold the words they stand for."""
    defined = {short: words for e in passages for short, words in defined_abbreviations(e.text).items()}
    if not defined:
        return lambda sentence: sentence.terms
    shorts = "|".join(re.escape(short) for short in sorted(defined, key=len, reverse=True))
    written = re.compile(whole_word(shorts))

    def with_long_forms(sentence: EvidenceSentence) -> set[str]:
        return sentence.terms.union(*(defined[short] for short in set(written.findall(sentence.text))))

    return with_long_forms


# A question about a reference itself ("What does [182] report?") is answered by this many sentences.
REFERENCE_SENTENCES = 6


def reference_draft(numbers: set[int], evidence: list[Evidence]) -> Draft:
    """What the passages say citing ``numbers``, for a question about the references themselves:
    every sentence carrying one of them, the review's first, then the papers' own, each once."""
    found = [(e.source_kind != "review", s) for e in evidence for s in evidence_sentences(e) if s.refs & numbers]
    sentences: dict[str, DraftSentence] = {}
    for _, sentence in sorted(found, key=lambda item: item[0]):
        sentences.setdefault(sentence.text, DraftSentence(sentence.text, [sentence.evidence.id], sentence.refs))
    if not sentences:
        return Draft(abstain_reason=f"No indexed passage cites {format_numbers(numbers)}.",
                     abstain_code=ReasonCode.NO_EVIDENCE, confidence=0.0)
    return Draft(list(sentences.values())[:REFERENCE_SENTENCES])
