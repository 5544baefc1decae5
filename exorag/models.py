"""The data that flows through exorag: chunks in the index, and the Answer every view renders.

The Answer's JSON is the contract of DESIGN.md: ``Answer.model_dump()`` is what
``exorag ask --json`` prints, what the UI and the Slack bot render and what ``exorag eval`` stores.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from exorag.links import web_link

SourceKind = Literal["review", "literature"]


class Chunk(BaseModel):
    """One passage of a source, as stored in the index (its metadata is DESIGN.md's chunk row)."""

    chunk_id: str
    text: str
    source_id: str
    source_path: str
    source_kind: SourceKind
    title: str
    section: str = ""
    page: int | None = None
    # The page as printed ("1245" of a journal issue) where the PDF labels its pages; ``page`` stays
    # the PDF's own, which links open.
    page_label: str | None = None
    char_start: int
    char_end: int
    refs: list[int] = Field(default_factory=list)
    content_hash: str
    # Text that speaks to a model or reader (exorag.ingest.injection): never given to a generator.
    suspect: bool = False

    @property
    def source_label(self) -> str:
        """How a person names this passage: ``Review, Immune evasion`` or ``[170] Poggio 2019, p. 3``."""
        kind = "Review" if self.source_kind == "review" else self.title
        parts = [kind]
        if self.section and self.section != self.title:
            parts.append(self.section)
        if self.page is not None:
            parts.append(f"p. {self.page_label or self.page}")
        return ", ".join(parts)


class Evidence(BaseModel):
    """A retrieved passage given to the generator; ``id`` is what answer sentences point to."""

    id: str
    chunk_id: str
    source_label: str
    source_path: str
    source_kind: SourceKind = "review"
    page: int | None = None
    page_label: str | None = None  # the page as printed, where the PDF labels it ("1245"); else ``page``
    section: str = ""
    refs: list[int] = Field(default_factory=list)
    text: str
    score: float = 0.0

    @property
    def printed_page(self) -> str | None:
        """The page a reader cites: as printed where the PDF labels it, else the PDF's own."""
        return self.page_label or (str(self.page) if self.page is not None else None)


class Sentence(BaseModel):
    """One sentence of an answer with the canonical citation of the evidence that supports it."""

    text: str
    citation: str
    refs: list[int] = Field(default_factory=list)
    evidence_ids: list[str] = Field(default_factory=list)
    support: float = 0.0
    flagged: bool = False
    verdict: Literal["supported", "partial", "contradicted", "not_found"] | None = None
    # True when the LLM's own sentence failed verification and was replaced by the evidence
    # sentence that best supports its point.
    repaired: bool = False


class Reference(BaseModel):
    """An entry of the review's reference list."""

    number: int = Field(ge=1)
    citation: str = ""
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    url: str | None = None
    file: str | None = None
    # The paper's bibliographic record as CSL-JSON (title, authors, journal, year), from `exorag refs import`.
    csl: dict | None = None

    @field_validator("url")
    @classmethod
    def _web_link(cls, value: str | None) -> str | None:
        if value is not None and web_link(value) is None:
            raise ValueError(f"{value[:80]!r} is not an http(s) link")
        return value


class FacetCoverage(BaseModel):
    """One part of a broad question, and whether the answer covers it (from which evidence)."""

    text: str
    covered: bool
    evidence_ids: list[str] = Field(default_factory=list)


class SourceVerdict(BaseModel):
    """What one cited paper says to a yes/no question, and the passages it says it in."""

    citation: str
    verdict: Literal["yes", "no"]
    evidence_ids: list[str] = Field(default_factory=list)


class ReasonCode(StrEnum):
    """Why an answer abstained (``Answer.reason_code``), one value per check of ``exorag.answerability``."""

    NO_EVIDENCE = "no_evidence"  # nothing retrieved (empty index, or filters too narrow)
    NO_QUESTION_TERMS = "no_question_terms"  # the question names nothing to look for
    NAMED_ENTITY_ABSENT = "named_entity_absent"  # it names an identifier no passage mentions
    ENTITIES_NOT_TOGETHER = "entities_not_together"  # names no passage mentions together
    NO_RELEVANT_EVIDENCE = "no_relevant_evidence"  # the best source does not address its focus
    NO_ANSWERING_SENTENCE = "no_answering_sentence"  # on topic, but no sentence answers it
    ASKED_DETAIL_ABSENT = "asked_detail_absent"  # the answer lacks the kind of detail asked for
    UNSUPPORTED_DRAFT = "unsupported_draft"  # no drafted sentence survived verification
    GENERATOR_DECLINED = "generator_declined"  # the LLM said the passages do not answer it


class HeldBack(BaseModel):
    """A source whose passage matched the question but was not used: it reads as instructions."""

    source_path: str
    source_label: str


class Answer(BaseModel):
    """What ``answer()`` returns: the JSON of DESIGN.md."""

    question: str
    answer: str
    abstained: bool = False
    sentences: list[Sentence] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    generator: str = "extractive"
    timings_ms: dict[str, float] = Field(default_factory=dict)
    reason: str | None = None
    reason_code: ReasonCode | None = None
    standalone_question: str | None = None
    # Whose words the cited evidence is: "review" means the answer rests on the review's summary of
    # the cited papers, not on the papers themselves (views say "as summarised by the review").
    basis: Literal["review", "literature", "review and literature"] | None = None
    # Sources with passages on the question that were not used because they hold instruction-like text.
    held_back: list[HeldBack] = Field(default_factory=list)
    shape: Literal["fact", "yes_no", "list", "summary", "comparison", "multi_part"] | None = None
    facets: list[FacetCoverage] = Field(default_factory=list)
    # Yes/no questions only: what the cited evidence concludes, and what each cited paper says.
    verdict: Literal["yes", "no", "mixed", "not_addressed"] | None = None
    source_verdicts: list[SourceVerdict] = Field(default_factory=list)

    @property
    def basis_note(self) -> str | None:
        """What views print when the answer rests only on the review's summary of its sources."""
        if self.basis == "review" and any(s.refs for s in self.sentences):
            return "As summarised by the review: the cited papers themselves are not in the evidence."
        return None

    @property
    def verdict_tally(self) -> str | None:
        """The cited papers behind the verdict: "[58], [59]" where they agree, "Yes: [58], [59] · No:
        [61]" where they do not; None without any."""
        said = {verdict: list(dict.fromkeys(s.citation for s in self.source_verdicts if s.verdict == verdict))
                for verdict in ("yes", "no")}
        parts = [(verdict.capitalize(), ", ".join(citations)) for verdict, citations in said.items() if citations]
        if len(parts) == 1:
            return parts[0][1]
        return " · ".join(f"{verdict}: {citations}" for verdict, citations in parts) or None

    @property
    def held_back_note(self) -> str | None:
        """What views print when a source was held back from the generator."""
        if not self.held_back:
            return None
        names = ", ".join(dict.fromkeys(h.source_label for h in self.held_back))
        return (f"Held back: {names}. It contains text addressed to an AI or reader (like \"ignore previous "
                "instructions\"), so it was neither quoted nor cited.")

    def evidence_by_id(self, evidence_id: str) -> Evidence | None:
        return next((e for e in self.evidence if e.id == evidence_id), None)

    def cited_studies(self) -> list[Evidence]:
        """The cited passages and every other retrieved passage of a cited paper: a study speaks of
        a question's subject in any of its passages, not only the one quoted. A review's passages
        are not one study: only those cited count."""
        cited = {i for s in self.sentences for i in s.evidence_ids}
        papers = {e.source_path for e in self.evidence if e.id in cited and e.source_kind == "literature"}
        return [e for e in self.evidence if e.id in cited or e.source_path in papers]
