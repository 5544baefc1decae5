"""The citation audit: each review sentence checked against the text of the papers it cites.

For every sentence of the review that cites reference numbers, and every number it cites, the
audit gathers the chunks of that paper (``literature/NNN_*``, chunk ``refs``), picks the few
sentence windows that share most words with the review sentence, and asks the judge whether they
support it. A number with no paper in the corpus is ``paper_missing``. ``check_claim`` does the
same for a sentence of the user's own against every paper, and ranks the papers.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from exorag.citations import find_citations
from exorag.config import Settings
from exorag.judge import VERDICTS, Judge, JudgeResult
from exorag.judge.base import evidence_windows
from exorag.models import Chunk
from exorag.refs.extract import is_bibliography_heading
from exorag.text import split_sentences, strip_citations

PAPER_MISSING = "paper_missing"
AUDIT_VERDICTS = (*VERDICTS, PAPER_MISSING)
# Literature passages retrieved for a claim; their papers are the candidates judged.
CLAIM_CANDIDATES = 30
# Windows of a paper read per claim: the judge sees these, not the whole paper.
WINDOWS_PER_PAPER = 3
# How good a verdict is, for ranking suggestions (best first).
_RANK = {"supported": 0, "partial": 1, "contradicted": 2, "not_found": 3, PAPER_MISSING: 4}


@dataclass
class Passage:
    chunk_id: str
    source_path: str
    page: int | None
    text: str
    evidence: str  # the sentence(s) of ``text`` the verdict rests on, for highlighting
    page_label: str | None = None  # the page as printed, where the PDF labels it


@dataclass
class AuditItem:
    sentence: str
    section: str
    ref: int
    verdict: str
    score: float
    passage: Passage | None = None


@dataclass
class Audit:
    items: list[AuditItem] = field(default_factory=list)
    sentences: int = 0

    @property
    def summary(self) -> dict[str, int]:
        counts = {verdict: 0 for verdict in AUDIT_VERDICTS}
        for item in self.items:
            counts[item.verdict] += 1
        return {"sentences": self.sentences, "pairs": len(self.items), **counts}

    def to_json(self) -> dict:
        return {"summary": self.summary, "items": [asdict(item) for item in self.items]}


@dataclass(frozen=True)
class CitingSentence:
    text: str
    section: str
    refs: tuple[int, ...]


def citing_sentences(review_chunks: Sequence[Chunk]) -> list[CitingSentence]:
    """Every sentence of the review chunks that cites reference numbers, once each, in order; the
    review's own bibliography ("[1] Poggio M, … Cell. 2019") cites nothing."""
    seen: set[str] = set()
    found: list[CitingSentence] = []
    for chunk in sorted(review_chunks, key=lambda c: (c.source_path, c.char_start)):
        if is_bibliography_heading(chunk.section):
            continue
        for start, end in split_sentences(chunk.text):
            text = chunk.text[start:end].strip()
            numbers = sorted({n for _, _, citation in find_citations(text) for n in citation.numbers})
            if numbers and text not in seen:
                seen.add(text)
                found.append(CitingSentence(text, chunk.section, tuple(numbers)))
    return found


def judge_against_paper(claim: str, chunks: Sequence[Chunk], judge: Judge) -> tuple[JudgeResult, Passage | None]:
    """The judge's verdict on ``claim`` against one paper's chunks, with the passage it rests on."""
    windows = evidence_windows(claim, [chunk.text for chunk in chunks], keep=WINDOWS_PER_PAPER)
    if not windows:
        return JudgeResult("not_found", 0.0), None
    result = judge.judge(claim, [window.text for window in windows])
    chunk = chunks[windows[result.passage if result.passage is not None else 0].passage]
    return result, Passage(chunk.chunk_id, chunk.source_path, chunk.page, chunk.text, result.evidence, chunk.page_label)


def _papers(chunks: Sequence[Chunk]) -> dict[int, list[Chunk]]:
    papers: dict[int, list[Chunk]] = defaultdict(list)
    for chunk in chunks:
        if chunk.source_kind == "literature":
            for number in chunk.refs:
                papers[number].append(chunk)
    return papers


def audit_review(chunks: Sequence[Chunk], judge: Judge, progress: Callable[[int, int], None] | None = None) -> Audit:
    """Audit every citing sentence of the review chunks against the literature chunks."""
    papers = _papers(chunks)
    sentences = citing_sentences([chunk for chunk in chunks if chunk.source_kind == "review"])
    audit = Audit(sentences=len(sentences))
    for done, sentence in enumerate(sentences, start=1):
        claim = strip_citations(sentence.text)
        for number in sentence.refs:
            if number not in papers:
                audit.items.append(AuditItem(sentence.text, sentence.section, number, PAPER_MISSING, 0.0))
                continue
            result, passage = judge_against_paper(claim, papers[number], judge)
            audit.items.append(AuditItem(sentence.text, sentence.section, number, result.verdict,
                                         round(result.score, 4), passage))
        if progress:
            progress(done, len(sentences))
    return audit


def check_claim(claim: str, chunks: Sequence[Chunk], judge: Judge, candidates: Sequence[str] | None = None,
                limit: int = 5) -> list[AuditItem]:
    """The papers that best support ``claim``, best first: each paper among ``candidates`` (chunk
    ids, e.g. a retriever's hits; default every paper) judged on its own chunks."""
    papers = _papers(chunks)
    if candidates is not None:
        wanted = {number for chunk in chunks if chunk.chunk_id in set(candidates) for number in chunk.refs}
        papers = {number: found for number, found in papers.items() if number in wanted}
    text = strip_citations(claim)
    items = []
    for number, found in papers.items():
        result, passage = judge_against_paper(text, found, judge)
        items.append(AuditItem(claim, "", number, result.verdict, round(result.score, 4), passage))
    items.sort(key=lambda item: (_RANK[item.verdict], -item.score, item.ref))
    return items[:limit]


def suggest_references(claim: str, settings: Settings, judge: Judge, chunks: Sequence[Chunk] | None = None
                       ) -> list[AuditItem]:
    """The papers of the index that best support ``claim`` (a manuscript sentence), best first:
    those of the literature passages that hybrid retrieval finds closest to it, each judged."""
    from exorag.chain import get_pipeline
    from exorag.retrieve import Filters

    hits = get_pipeline(settings).retriever.search(claim, CLAIM_CANDIDATES, Filters(source_kind="literature"))
    return check_claim(claim, indexed_chunks(settings) if chunks is None else chunks, judge,
                       candidates=[hit.chunk.chunk_id for hit in hits])


def indexed_chunks(settings: Settings) -> list[Chunk]:
    """Every chunk of the index."""
    from exorag.store.chroma import VectorStore

    return list(VectorStore(settings).all_chunks())


def load_audit(path: Path) -> Audit:
    """An audit written by ``write_audit`` (its ``audit.json``)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    items = [AuditItem(**{**item, "passage": Passage(**item["passage"]) if item.get("passage") else None})
             for item in data["items"]]
    return Audit(items=items, sentences=int(data["summary"]["sentences"]))


def audit_folder(settings: Settings) -> Path:
    """Where ``exorag audit`` writes by default and the UI reads: ``<index>/audit/``."""
    return settings.index / "audit"
