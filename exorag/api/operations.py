"""What the REST API, the OpenAI-compatible endpoint and the MCP server offer, each a call into the
library: a cited answer, a passage search, one passage, one reference, the index's numbers and the
literature coverage, a claim's supporting references. The request and result models here are the schemas all three publish.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from exorag.chain import AnswerOptions, answer, get_pipeline, search
from exorag.citations import MAX_REFERENCE_NUMBER
from exorag.config import Settings
from exorag.models import Answer, Chunk, Evidence, Reference, SourceKind
from exorag.refs.status import CoverageReport, CoverageRow, coverage_report
from exorag.store.stats import index_stats
from exorag.text import question_terms

MAX_PASSAGES = 50
# Bounds of a request: each ref or section is a clause of the vector store's query (Chroma fails
# past about 2,000), and only the last turn of a conversation is read.
MAX_FILTER_VALUES = 200
MAX_QUESTION_CHARACTERS = 20_000
MAX_HISTORY_TURNS = 50
MAX_TURN_CHARACTERS = 20_000
# What a request body may weigh: the bounds above with room to spare.
MAX_BODY_BYTES = 5_000_000


class NotFound(LookupError):
    """A passage or reference the index does not hold; the message says which."""


# Parameter types shared by the REST models below and the MCP tools' signatures.
Passages = Annotated[int | None, Field(ge=1, le=MAX_PASSAGES, description="passages to retrieve (default 6)")]
OnlyKind = Annotated[SourceKind | None, Field(description="only passages of the 'review' or of the 'literature'")]
OnlySections = Annotated[list[Annotated[str, Field(max_length=1000)]] | None,
                         Field(max_length=MAX_FILTER_VALUES, description="only passages from these sections")]
OnlyRefs = Annotated[list[Annotated[int, Field(ge=1, le=MAX_REFERENCE_NUMBER)]] | None,
                     Field(max_length=MAX_FILTER_VALUES, description="only passages citing these reference numbers")]
Question = Annotated[str, Field(min_length=1, max_length=MAX_QUESTION_CHARACTERS,
                                description="the question, in plain language")]


def _holds_terms(query: str) -> str:
    # Without a word to match, retrieval still ranks passages, by nothing: "???" would get six.
    if not question_terms(query):
        raise ValueError("holds no word to look for in the literature")
    return query


Query = Annotated[str, Field(min_length=1, max_length=MAX_QUESTION_CHARACTERS, description="what to look for"),
                  AfterValidator(_holds_terms)]
Claim = Annotated[str, Field(min_length=1, max_length=MAX_QUESTION_CHARACTERS,
                             description="a sentence to check, e.g. a manuscript line")]
Turn = Annotated[str, Field(max_length=MAX_TURN_CHARACTERS)]


class PassageFilters(BaseModel):
    """Which passages retrieval may use (all of them when nothing is set)."""

    model_config = ConfigDict(extra="forbid")

    k: Passages = None
    source_kind: OnlyKind = None
    sections: OnlySections = None
    refs: OnlyRefs = None


class AskRequest(PassageFilters):
    """A question, with optional retrieval filters and the conversation so far."""

    question: Question
    generator: Literal["extractive", "llm"] | None = Field(default=None, description="default: the server's setting")
    history: list[tuple[Turn, Turn]] = Field(
        default_factory=list, max_length=MAX_HISTORY_TURNS,
        description="earlier (question, answer) pairs, oldest first, for follow-up questions (the last is read)"
    )

    def options(self) -> AnswerOptions:
        return AnswerOptions(generator=self.generator, k=self.k, source_kind=self.source_kind,
                             sections=self.sections, refs=self.refs, history=self.history)


class SearchRequest(PassageFilters):
    """A query for passages, with no answer written."""

    query: Query


class SearchResult(BaseModel):
    query: str
    passages: list[Evidence] = Field(description="best first; score is the cosine similarity to the query")


class PassageRecord(BaseModel):
    """One indexed passage with its chunk metadata and the label answers cite it by."""

    source_label: str
    passage: Chunk


class ReferenceRecord(BaseModel):
    """A reference number: its entry in references.jsonl and what the corpus holds of the paper."""

    number: int
    reference: Reference | None = Field(default=None, description="the reference list's entry, when there is one")
    coverage: CoverageRow | None = Field(default=None, description="null when the review does not cite the number")


def ask(request: AskRequest, settings: Settings) -> Answer:
    return answer(request.question, request.options(), settings)


def search_passages(request: SearchRequest, settings: Settings) -> SearchResult:
    options = AnswerOptions(k=request.k, source_kind=request.source_kind, sections=request.sections, refs=request.refs)
    return SearchResult(query=request.query, passages=search(request.query, options, settings))


def get_passage(chunk_id: str, settings: Settings) -> PassageRecord:
    found = get_pipeline(settings).index.vectors.get([chunk_id])
    if chunk_id not in found:
        raise NotFound(f"chunk_id {chunk_id!r}: no such passage in the index")
    chunk, _ = found[chunk_id]
    return PassageRecord(source_label=chunk.source_label, passage=chunk)


def get_reference(number: int, settings: Settings) -> ReferenceRecord:
    reference = get_pipeline(settings).references.get(number)
    row = next((r for r in coverage_report(settings.corpus).rows if r.number == number), None)
    if reference is None and row is None:
        raise NotFound(f"reference {number}: neither the review cites it nor references.jsonl lists it")
    return ReferenceRecord(number=number, reference=reference, coverage=row)


def coverage(settings: Settings) -> CoverageReport:
    return coverage_report(settings.corpus)


class ClaimSuggestion(BaseModel):
    ref: int = Field(description="the reference number of the paper")
    verdict: Literal["supported", "partial", "contradicted", "not_found"]
    score: float
    passage: PassageRecord | None = Field(default=None, description="the passage the verdict rests on")
    evidence: str = Field(default="", description="the sentence(s) of the passage the verdict rests on")


class ClaimCheck(BaseModel):
    claim: str
    suggestions: list[ClaimSuggestion] = Field(description="the papers that best support the claim, best first")


def audit_claim(claim: str, settings: Settings) -> ClaimCheck:
    """A sentence of one's own (a manuscript line) checked against the corpus's papers (``exorag audit --claim``)."""
    from exorag.audit.core import suggest_references
    from exorag.judge import runtime_judge

    suggestions = []
    for item in suggest_references(claim, settings, runtime_judge(settings)):
        passage = item.passage and get_passage(item.passage.chunk_id, settings)
        suggestions.append(ClaimSuggestion(ref=item.ref, verdict=item.verdict, score=item.score, passage=passage,
                                           evidence=item.passage.evidence if item.passage else ""))
    return ClaimCheck(claim=claim, suggestions=suggestions)


class IndexStats(BaseModel):
    """What ``exorag stats --json`` prints."""

    index: str
    sources: list[dict[str, str | int]]
    source_count: int
    chunks: int
    reference_numbers: int
    reference_range: str
    size_mb: float


def stats(settings: Settings) -> IndexStats:
    return IndexStats.model_validate(index_stats(settings))
