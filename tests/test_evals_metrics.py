"""Every DESIGN.md metric on small cases computed by hand (Answers built by hand are the input)."""

from __future__ import annotations

import pytest

from evals.dataset import EvalItem
from evals.metrics import (
    METRIC_NAMES,
    aggregate,
    answer_refs,
    citation_precision,
    citation_recall,
    completeness,
    fact_found,
    faithfulness,
    first_hit_rank,
    key_fact_recall,
    percentile,
    reciprocal_rank,
    ref_precision,
    ref_recall,
    retrieval_recall_at,
    score_item,
)
from exorag.judge.rules import RulesJudge
from exorag.models import Answer, Evidence, Sentence

PD_L1 = "Exosomal PD-L1 binds PD-1 receptors on T cells and suppresses their activation."
MIR_21 = "Exosomal miR-21 inhibits PTEN in recipient cells."
HYPOXIA = "Hypoxia increases exosome release from breast cancer cells under 1% O2."


def evidence(id_: str, text: str, refs: list[int]) -> Evidence:
    return Evidence(id=id_, chunk_id=f"chunk-{id_}", source_label="Review", source_path="review.txt", text=text, refs=refs)


def item(**fields) -> EvalItem:
    base = {"id": "q1", "question": "How do tumour exosomes blunt T cells?", "answerable": True, "topic": "immune"}
    return EvalItem.model_validate({**base, **fields})


def immune_answer(**fields) -> Answer:
    """Retrieved: e1 (hypoxia, refs 13-16), e2 (PD-L1, refs 170-172), e3 (miR-21, ref 73); cites e2 and e3."""
    base = {
        "question": "How do tumour exosomes blunt T cells?",
        "answer": f"{PD_L1[:-1]} [170-172]. {MIR_21[:-1]} [73].",
        "sentences": [
            Sentence(text=PD_L1, citation="[170-172]", refs=[170, 171, 172], evidence_ids=["e2"], support=1.0),
            Sentence(text=MIR_21, citation="[73]", refs=[73], evidence_ids=["e3"], support=1.0),
        ],
        "evidence": [evidence("e1", HYPOXIA, [13, 14, 15, 16]), evidence("e2", PD_L1, [170, 171, 172]),
                     evidence("e3", MIR_21, [73])],
        "timings_ms": {"retrieve": 5.0, "generate": 10.0, "verify": 2.0, "total": 20.0},
    }
    return Answer(**{**base, **fields})


def abstention(question: str = "What is the boiling point of exosomes?") -> Answer:
    return Answer(question=question, answer="The indexed literature does not cover this.", abstained=True,
                  evidence=[evidence("e1", HYPOXIA, [13])], timings_ms={"total": 8.0})


@pytest.fixture(scope="module")
def judge() -> RulesJudge:
    return RulesJudge()


# --- retrieval ------------------------------------------------------------------------------------


def test_retrieval_metrics_use_the_rank_of_the_first_passage_citing_a_gold_ref():
    question = item(gold_refs=[170, 171, 172], key_facts=[["PD-L1"]])
    answer = immune_answer()
    assert first_hit_rank(question, answer) == 2
    assert retrieval_recall_at(question, answer, 1) == 0.0
    assert retrieval_recall_at(question, answer, 5) == 1.0
    assert reciprocal_rank(question, answer) == 0.5


def test_retrieval_scores_zero_when_no_passage_cites_a_gold_ref():
    question = item(gold_refs=[500], key_facts=[["PD-L1"]])
    assert retrieval_recall_at(question, immune_answer(), 5) == 0.0
    assert reciprocal_rank(question, immune_answer()) == 0.0


def test_without_gold_refs_a_passage_stating_half_the_key_facts_is_a_hit():
    # Facts: PTEN (only e3), recipient cells (only e3), hypoxia (only e1): e3 states 2 of 3.
    question = item(gold_refs=[], key_facts=[["PTEN"], ["recipient cells"], ["hypoxia"]])
    assert first_hit_rank(question, immune_answer()) == 3
    assert reciprocal_rank(question, immune_answer()) == pytest.approx(1 / 3)


def test_retrieval_metrics_do_not_apply_to_unanswerable_items():
    question = item(answerable=False)
    assert retrieval_recall_at(question, abstention(), 1) is None
    assert reciprocal_rank(question, abstention()) is None


# --- cited reference numbers ----------------------------------------------------------------------


def test_ref_recall_and_precision_compare_the_union_of_cited_refs_with_gold():
    question = item(gold_refs=[170, 171, 172, 175])
    answer = immune_answer()
    assert answer_refs(answer) == {170, 171, 172, 73}
    assert ref_recall(question, answer) == 0.75  # 3 of the 4 gold refs
    assert ref_precision(question, answer) == 0.75  # 3 of the 4 cited refs


def test_an_abstention_on_an_answerable_item_has_zero_ref_recall_and_no_precision():
    question = item(gold_refs=[170])
    assert ref_recall(question, abstention()) == 0.0
    assert ref_precision(question, abstention()) is None


def test_ref_metrics_do_not_apply_to_empty_gold_sets():
    assert ref_recall(item(gold_refs=[], key_facts=[["x"]]), immune_answer()) is None
    assert ref_precision(item(answerable=False), immune_answer()) is None


def test_an_answer_without_sentences_is_read_from_its_citation_brackets():
    answer = Answer(question="q", answer="PD-L1 blunts T cells [170-172]. It is on exosomes [8, 73].")
    assert answer_refs(answer) == {8, 73, 170, 171, 172}


# --- key facts ------------------------------------------------------------------------------------


def test_key_fact_recall_is_the_share_of_facts_with_any_spelling_in_the_answer():
    question = item(key_facts=[["PD-L1"], ["PD-1", "PD1"], ["CTLA-4"], ["pten"]])
    assert key_fact_recall(question, immune_answer()) == 0.75


def test_key_facts_match_across_unicode_variants_case_and_dashes():
    assert fact_found(["Wnt/β-catenin"], "activate Wnt/ẞ-catenin signaling")
    assert fact_found(["TGF-β"], "Exosomal TGF-ß promotes Tregs")
    assert fact_found(["PD-L1"], "exosomal pd\u2013l1 binds")
    assert fact_found(["HIF-1α"], "driven by HIF-1\u03b1 activation")
    assert not fact_found(["miR-210"], "exosomal miR-21 is abundant")


def test_an_abstention_states_no_key_facts():
    question = item(question="Why do exosomes raise PTEN?", key_facts=[["PTEN"]])
    answer = abstention("Why do exosomes raise PTEN?").model_copy(update={"answer": "Nothing says exosomes raise PTEN."})
    assert key_fact_recall(question, answer) == 0.0


def test_a_key_fact_named_only_in_the_note_of_an_unanswered_part_is_not_stated():
    question = item(question="How does PD-L1 blunt T cells, and which dose of tipifarnib was used in dogs?",
                    key_facts=[["PD-L1"], ["tipifarnib"]], ref_groups=[[170]])
    note = " The indexed literature does not answer this part of the question: which dose of tipifarnib was used in dogs?"
    answer = immune_answer(answer=immune_answer().answer + note)
    assert key_fact_recall(question, answer) == 0.5
    assert completeness(question, answer) == 2 / 3


# --- abstention -----------------------------------------------------------------------------------


def test_abstention_metrics_split_by_answerability():
    scores_unanswerable = score_item(item(answerable=False), abstention(), judge=None)
    assert scores_unanswerable["abstention_accuracy"] == 1.0
    assert scores_unanswerable["false_abstention_rate"] is None
    scores_answerable = score_item(item(gold_refs=[170]), abstention(), judge=None)
    assert scores_answerable["false_abstention_rate"] == 1.0
    assert scores_answerable["abstention_accuracy"] is None
    assert scores_answerable["faithfulness"] is None


# --- support of sentences (the judge's metrics) --------------------------------------------------


def test_faithfulness_and_citation_recall_count_supported_sentences(judge):
    answer = immune_answer(
        sentences=[
            Sentence(text=PD_L1, citation="[170-172]", refs=[170], evidence_ids=["e2"]),  # supported by its citation
            Sentence(text=MIR_21, citation="[13-16]", refs=[13], evidence_ids=["e1"]),  # true, but cites the wrong passage
            Sentence(text="Exosomal CTLA-4 blocks B7 on dendritic cells.", citation="[170]", refs=[170], evidence_ids=["e2"]),
        ]
    )
    assert faithfulness(answer, judge) == pytest.approx(2 / 3)
    assert citation_recall(answer, judge) == pytest.approx(1 / 3)
    assert citation_precision(answer, judge) == pytest.approx(1 / 3)


def test_a_superfluous_citation_is_not_precise(judge):
    answer = immune_answer(
        sentences=[Sentence(text=PD_L1, citation="[13-16, 170-172]", refs=[13, 170], evidence_ids=["e2", "e1"])]
    )
    assert citation_recall(answer, judge) == 1.0
    assert citation_precision(answer, judge) == 0.5


def test_citations_that_are_each_needed_are_all_precise(judge):
    both = "Exosomal PD-L1 binds PD-1 receptors on T cells and exosomal miR-21 inhibits PTEN."
    answer = immune_answer(sentences=[Sentence(text=both, citation="[73, 170]", refs=[73, 170], evidence_ids=["e2", "e3"])])
    assert not judge.supports(both, PD_L1) and not judge.supports(both, MIR_21)
    assert citation_recall(answer, judge) == 1.0
    assert citation_precision(answer, judge) == 1.0


def test_a_sentence_citing_nothing_is_unsupported_and_judge_metrics_skip_abstentions(judge):
    answer = immune_answer(sentences=[Sentence(text=PD_L1, citation="", evidence_ids=[])])
    assert faithfulness(answer, judge) == 1.0
    assert citation_recall(answer, judge) == 0.0
    assert citation_precision(answer, judge) == 0.0
    assert faithfulness(abstention(), judge) is None and citation_precision(abstention(), judge) is None


# --- aggregation ----------------------------------------------------------------------------------


def test_aggregate_averages_each_metric_over_the_items_it_applies_to(judge):
    answerable = item(id="a", gold_refs=[170, 171, 172], key_facts=[["PD-L1"], ["CTLA-4"]])
    unanswerable = item(id="u", answerable=False)
    scores = [
        score_item(answerable, immune_answer(), judge),
        score_item(unanswerable, abstention(), judge),
        score_item(unanswerable, immune_answer(timings_ms={"total": 40.0}), judge),
    ]
    metrics = aggregate(scores)
    assert list(metrics) == list(METRIC_NAMES)
    assert metrics["n"] == 3
    assert metrics["ref_recall"] == 1.0  # only the answerable item is scored
    assert metrics["ref_precision"] == 0.75
    assert metrics["key_fact_recall"] == 0.5
    assert metrics["abstention_accuracy"] == 0.5  # one of two unanswerable items abstained
    assert metrics["false_abstention_rate"] == 0.0
    assert metrics["latency_ms_p50"] == 20.0  # of 8, 20 and 40 ms
    assert metrics["latency_ms_p95"] == pytest.approx(38.0)


def test_a_metric_that_applies_to_no_item_is_null():
    metrics = aggregate([score_item(item(answerable=False), abstention(), judge=None)])
    assert metrics["ref_recall"] is None and metrics["false_abstention_rate"] is None


def test_percentile_interpolates_between_ranks():
    assert percentile([10.0, 20.0, 30.0, 40.0], 50) == 25.0
    assert percentile([5.0], 95) == 5.0
    assert percentile([], 50) is None
