"""The metrics of DESIGN.md: what each number in ``report.json`` means, item by item.

Every item metric returns a value in 0..1, or None when it does not apply to that item (for
example ``ref_recall`` on an unanswerable question). ``aggregate`` averages each metric over the
items it applies to, so a reported metric is a mean over its own population; a metric that applies
to no item is reported as null.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from evals.dataset import EvalItem
from exorag.citations import cited_numbers
from exorag.judge.base import Judge
from exorag.models import Answer, Evidence
from exorag.text import normalise, split_sentences, strip_citations

METRIC_NAMES: tuple[str, ...] = (
    "retrieval_recall@1",
    "retrieval_recall@5",
    "mrr",
    "ref_recall",
    "ref_precision",
    "key_fact_recall",
    "faithfulness",
    "citation_recall",
    "citation_precision",
    "abstention_accuracy",
    "false_abstention_rate",
    "completeness",
    "verdict_accuracy",
    "latency_ms_p50",
    "latency_ms_p95",
    "n",
)
# Every other metric is better when higher; ``n`` is neither.
LOWER_IS_BETTER = frozenset({"false_abstention_rate", "latency_ms_p50", "latency_ms_p95"})
NEUTRAL = frozenset({"n"})


_DASHES = re.compile("[\u2010\u2011\u2012\u2013\u2014\u2015\u2212]")


def fact_text(text: str) -> str:
    """Text as key facts are compared: NFKC, casefolded, ß/ẞ read as β (as PDFs often print it),
    every dash as ``-`` and runs of white space as one space."""
    return " ".join(_DASHES.sub("-", normalise(text)).split())


# --- retrieval -----------------------------------------------------------------------------------


def fact_found(fact: Sequence[str], text: str) -> bool:
    """True when any accepted spelling of ``fact`` is a substring of ``text``.

    Both sides are compared as ``fact_text`` (NFKC, casefold, β look-alikes, dashes),
    so ``TGF-ß`` matches ``TGF-β`` and ``pd-l1`` matches ``PD–L1``.
    """
    haystack = fact_text(text)
    return any(fact_text(spelling) in haystack for spelling in fact if spelling.strip())


def is_gold_passage(item: EvalItem, evidence: Evidence) -> bool:
    """Whether one retrieved passage is a hit for ``item``.

    With ``gold_refs``: the passage's refs intersect them. Without (an answerable item whose answer
    no reference number backs): the passage states at least half of the key facts (at least one).
    """
    if item.gold_refs:
        return bool(set(evidence.refs) & set(item.gold_refs))
    needed = max(1, math.ceil(len(item.key_facts) / 2))
    return sum(fact_found(fact, evidence.text) for fact in item.key_facts) >= needed


def first_hit_rank(item: EvalItem, answer: Answer) -> int | None:
    """1-based rank of the first gold passage in the answer's evidence (retrieval order), or None."""
    for rank, evidence in enumerate(answer.evidence, start=1):
        if is_gold_passage(item, evidence):
            return rank
    return None


def _retrieval_applies(item: EvalItem) -> bool:
    return item.answerable and bool(item.gold_refs or item.key_facts)


def retrieval_recall_at(item: EvalItem, answer: Answer, k: int) -> float | None:
    """``retrieval_recall@k``: 1 when a gold passage (see ``is_gold_passage``) is among the first
    ``k`` evidence passages, else 0. Applies to answerable items with gold refs or key facts; an
    answer that abstained is still scored on the evidence it retrieved."""
    if not _retrieval_applies(item):
        return None
    rank = first_hit_rank(item, answer)
    return 1.0 if rank is not None and rank <= k else 0.0


def reciprocal_rank(item: EvalItem, answer: Answer) -> float | None:
    """``mrr`` per item: 1/rank of the first gold passage, 0 when none was retrieved.
    Applies where ``retrieval_recall_at`` does."""
    if not _retrieval_applies(item):
        return None
    rank = first_hit_rank(item, answer)
    return 1.0 / rank if rank is not None else 0.0


# --- cited reference numbers ---------------------------------------------------------------------


def answer_refs(answer: Answer) -> set[int]:
    """The reference numbers an answer cites: the union of its sentences' refs (or, for an answer
    without sentences, the numbers in its text's citation brackets). An abstention cites nothing."""
    if answer.abstained:
        return set()
    if answer.sentences:
        return {number for sentence in answer.sentences for number in sentence.refs}
    return cited_numbers(answer.answer)


def ref_recall(item: EvalItem, answer: Answer) -> float | None:
    """``ref_recall``: |cited ∩ gold_refs| / |gold_refs|.

    Applies to answerable items with gold refs; an abstention there scores 0 (it cites nothing).
    Items with an empty gold set (unanswerable, or answerable without a reference number) are not
    scored: ``abstention_accuracy`` and ``key_fact_recall`` cover them.
    """
    if not (item.answerable and item.gold_refs):
        return None
    gold = set(item.gold_refs)
    return len(answer_refs(answer) & gold) / len(gold)


def ref_precision(item: EvalItem, answer: Answer) -> float | None:
    """``ref_precision``: |cited ∩ gold_refs| / |cited|.

    Applies to answerable items with gold refs whose answer cites at least one number; an answer
    citing nothing (including an abstention) has no precision to measure and is left out, its miss
    being counted by ``ref_recall`` and ``false_abstention_rate``.
    """
    if not (item.answerable and item.gold_refs):
        return None
    cited = answer_refs(answer)
    if not cited:
        return None
    return len(cited & set(item.gold_refs)) / len(cited)


# --- key facts -----------------------------------------------------------------------------------


def stated_text(answer: Answer) -> str:
    """What an answer states: its sentences, not the notes naming the parts it does not answer
    ("… does not answer this part of the question: …", which echo the question's words)."""
    return " ".join(sentence.text for sentence in answer.sentences) or answer.answer


def key_fact_recall(item: EvalItem, answer: Answer) -> float | None:
    """``key_fact_recall``: the share of key facts of which any accepted spelling is a
    case-insensitive substring of what the answer states (``stated_text``; Unicode-normalised, see
    ``fact_found``).

    Applies to answerable items with key facts; an abstention scores 0, so facts echoed in an
    abstention's explanation are not credited.
    """
    if not (item.answerable and item.key_facts):
        return None
    if answer.abstained:
        return 0.0
    return sum(fact_found(fact, stated_text(answer)) for fact in item.key_facts) / len(item.key_facts)


def completeness(item: EvalItem, answer: Answer) -> float | None:
    """``completeness``: the share of the item's key facts stated and ``ref_groups`` cited (a group
    is cited when any of its numbers is). Applies to answerable items with either; an abstention
    scores 0."""
    parts = len(item.key_facts) + len(item.ref_groups)
    if not (item.answerable and parts):
        return None
    if answer.abstained:
        return 0.0
    cited = answer_refs(answer)
    stated = sum(fact_found(fact, stated_text(answer)) for fact in item.key_facts)
    return (stated + sum(bool(cited & set(group)) for group in item.ref_groups)) / parts


def verdict_correct(item: EvalItem, answer: Answer) -> float | None:
    """``verdict_accuracy`` per item: 1 when the answer's verdict is the item's gold ``verdict``.
    Applies to items with a gold verdict."""
    if item.verdict is None:
        return None
    return 1.0 if answer.verdict == item.verdict else 0.0


# --- support of sentences by evidence (the judge's metrics) --------------------------------------


@dataclass(frozen=True)
class Claim:
    """One sentence of an answer, without its citation brackets, and the evidence it cites."""

    text: str
    evidence_ids: tuple[str, ...]


def answer_claims(answer: Answer) -> list[Claim]:
    """The sentences an answer asserts; an answer without ``sentences`` is split from its text."""
    if answer.sentences:
        claims = [Claim(strip_citations(s.text), tuple(dict.fromkeys(s.evidence_ids))) for s in answer.sentences]
    else:
        spans = split_sentences(answer.answer)
        claims = [Claim(strip_citations(answer.answer[start:end]), ()) for start, end in spans]
    return [claim for claim in claims if claim.text]


def _passages(answer: Answer, evidence_ids: Iterable[str]) -> str:
    texts = [evidence.text for evidence_id in evidence_ids if (evidence := answer.evidence_by_id(evidence_id))]
    return "\n".join(texts)


def faithfulness(answer: Answer, judge: Judge) -> float | None:
    """``faithfulness`` (RAGAS-style): the share of the answer's sentences that the union of all
    retrieved evidence entails, by ``judge``. Abstentions and empty answers are not scored."""
    claims = answer_claims(answer)
    if answer.abstained or not claims:
        return None
    everything = _passages(answer, [evidence.id for evidence in answer.evidence])
    return sum(judge.supports(claim.text, everything) for claim in claims) / len(claims)


def citation_recall(answer: Answer, judge: Judge) -> float | None:
    """``citation_recall`` (ALCE): the share of the answer's sentences that the union of their own
    cited evidence entails; a sentence citing nothing counts as unsupported. Abstentions and empty
    answers are not scored."""
    claims = answer_claims(answer)
    if answer.abstained or not claims:
        return None
    supported = sum(bool(c.evidence_ids) and judge.supports(c.text, _passages(answer, c.evidence_ids)) for c in claims)
    return supported / len(claims)


def citation_precision(answer: Answer, judge: Judge) -> float | None:
    """``citation_precision`` (ALCE): the share of citations (evidence ids on sentences) that are
    precise, over all citations of the answer.

    As in ALCE, a citation of a sentence its citations do not jointly support is not precise. For a
    supported sentence, a citation is precise unless it alone does not support the sentence while
    the sentence's other citations support it without it (it is then superfluous). An answer that
    cites nothing scores 0; abstentions and empty answers are not scored.
    """
    claims = answer_claims(answer)
    if answer.abstained or not claims:
        return None
    total = precise = 0
    for claim in claims:
        cited = claim.evidence_ids
        total += len(cited)
        if not cited or not judge.supports(claim.text, _passages(answer, cited)):
            continue
        for evidence_id in cited:
            others = [other for other in cited if other != evidence_id]
            alone = judge.supports(claim.text, _passages(answer, [evidence_id]))
            superfluous = not alone and bool(others) and judge.supports(claim.text, _passages(answer, others))
            precise += not superfluous
    return precise / total if total else 0.0


# --- abstention ----------------------------------------------------------------------------------


def abstention_correct(item: EvalItem, answer: Answer) -> float | None:
    """``abstention_accuracy`` per item: 1 when an unanswerable item's answer abstained, else 0.
    Answerable items are not scored here (see ``false_abstention``)."""
    if item.answerable:
        return None
    return 1.0 if answer.abstained else 0.0


def false_abstention(item: EvalItem, answer: Answer) -> float | None:
    """``false_abstention_rate`` per item: 1 when an answerable item's answer abstained, else 0.
    Unanswerable items are not scored here."""
    if not item.answerable:
        return None
    return 1.0 if answer.abstained else 0.0


# --- per item and aggregate ----------------------------------------------------------------------

ItemMetric = Callable[[EvalItem, Answer, Judge], float | None]

ITEM_METRICS: dict[str, ItemMetric] = {
    "retrieval_recall@1": lambda item, answer, judge: retrieval_recall_at(item, answer, 1),
    "retrieval_recall@5": lambda item, answer, judge: retrieval_recall_at(item, answer, 5),
    "mrr": lambda item, answer, judge: reciprocal_rank(item, answer),
    "ref_recall": lambda item, answer, judge: ref_recall(item, answer),
    "ref_precision": lambda item, answer, judge: ref_precision(item, answer),
    "key_fact_recall": lambda item, answer, judge: key_fact_recall(item, answer),
    "faithfulness": lambda item, answer, judge: faithfulness(answer, judge),
    "citation_recall": lambda item, answer, judge: citation_recall(answer, judge),
    "citation_precision": lambda item, answer, judge: citation_precision(answer, judge),
    "abstention_accuracy": lambda item, answer, judge: abstention_correct(item, answer),
    "false_abstention_rate": lambda item, answer, judge: false_abstention(item, answer),
    "completeness": lambda item, answer, judge: completeness(item, answer),
    "verdict_accuracy": lambda item, answer, judge: verdict_correct(item, answer),
}


def latency_ms(answer: Answer) -> float | None:
    """The answer's end-to-end time, ``timings_ms["total"]``, when it was measured."""
    total = answer.timings_ms.get("total")
    return float(total) if total is not None else None


def score_item(item: EvalItem, answer: Answer, judge: Judge) -> dict[str, float | None]:
    """Every item metric for one answer, plus ``latency_ms``; None where a metric does not apply."""
    scores = {name: metric(item, answer, judge) for name, metric in ITEM_METRICS.items()}
    scores["latency_ms"] = latency_ms(answer)
    return scores


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100) with linear interpolation between ranks; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def aggregate(item_scores: Sequence[dict[str, float | None]]) -> dict[str, float | None]:
    """DESIGN.md's ``metrics`` object from per-item scores (``score_item``), in METRIC_NAMES order.

    Each averaged metric is the mean over the items it applies to (null if none);
    ``latency_ms_p50``/``latency_ms_p95`` are percentiles of ``timings_ms.total``; ``n`` is the
    number of items that produced an answer (failed items are listed in the report, not scored).
    """
    metrics: dict[str, float | None] = {}
    for name in ITEM_METRICS:
        values = [value for scores in item_scores if (value := scores.get(name)) is not None]
        metrics[name] = sum(values) / len(values) if values else None
    latencies = [value for scores in item_scores if (value := scores.get("latency_ms")) is not None]
    metrics["latency_ms_p50"] = percentile(latencies, 50)
    metrics["latency_ms_p95"] = percentile(latencies, 95)
    metrics["n"] = len(item_scores)
    return {name: metrics[name] for name in METRIC_NAMES}
