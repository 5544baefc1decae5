"""Knowing when the literature answers: each typed reason, focus versus topic, yes/no questions,
and the absent-abstract harness on a sample of PubMedQA (a corpus nobody on the project wrote)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from exorag.answerability import assess_answer, focus_relevance
from exorag.asked import is_yes_no
from exorag.chain import AnswerOptions, answer, get_pipeline, search
from exorag.config import get_settings
from exorag.embeddings import CachedTextEmbedder
from exorag.facet_relevance import absent_subject
from exorag.models import Answer, Evidence, ReasonCode, Sentence

PUBMEDQA = Path(__file__).resolve().parents[2] / "shared" / "data" / "pubmedqa-dev"


def _indexed_literature(tmp_path: Path, papers: dict[str, str]):
    """Settings whose index holds ``papers`` (file name: text) as literature, ingested for real."""
    from exorag.ingest.sync import sync_corpus

    literature = tmp_path / "corpus" / "literature"
    literature.mkdir(parents=True)
    for name, text in papers.items():
        (literature / name).write_text(text, encoding="utf-8")
    settings = get_settings(corpus=tmp_path / "corpus", index=tmp_path / "index")
    sync_corpus(settings)
    return settings


@pytest.mark.parametrize(("question", "code"), [
    ("Does exosomal miR-9 silence PTEN in glioma?", ReasonCode.NAMED_ENTITY_ABSENT),
    ("Do the miR-1273f-laden vesicles also carry PD-L1?", ReasonCode.ENTITIES_NOT_TOGETHER),
    ("Which tetraspanins are used as exosome markers in flow cytometry?", ReasonCode.NO_RELEVANT_EVIDENCE),
    ("Which mouse strain was used to show integrin-driven organotropism of melanoma exosomes?",
     ReasonCode.ASKED_DETAIL_ABSENT),
])
def test_each_abstention_carries_its_typed_reason(indexed_settings, question, code):
    result = answer(question, settings=indexed_settings)
    assert result.abstained and result.reason_code == code and result.reason
    assert result.model_dump(mode="json")["reason_code"] == code.value
    assert not result.sentences and not result.references


def test_nothing_retrieved_is_its_own_reason(indexed_settings):
    result = answer("How do exosomes carry PD-L1?", AnswerOptions(sections=["No such section"]), indexed_settings)
    assert result.abstained and result.reason_code == ReasonCode.NO_EVIDENCE


def test_a_question_of_stop_words_has_no_terms_to_look_for(indexed_settings):
    result = answer("What is it about?", settings=indexed_settings)
    assert result.abstained and result.reason_code == ReasonCode.NO_QUESTION_TERMS


def test_the_relevance_gate_holds_for_the_llm_generator_too(indexed_settings):
    # No LLM is configured: had the gate not run first, asking the LLM generator would fail.
    result = answer("Which tetraspanins are used as exosome markers in flow cytometry?",
                    AnswerOptions(generator="llm"), indexed_settings)
    assert result.abstained and result.reason_code == ReasonCode.NO_RELEVANT_EVIDENCE


def test_the_relevance_threshold_is_a_setting(indexed_settings):
    question = "How do tumour exosomes suppress T cells?"
    assert not answer(question, settings=indexed_settings).abstained
    strict = indexed_settings.model_copy(update={"min_relevance": 0.99})
    result = answer(question, settings=strict)
    assert result.abstained and result.reason_code == ReasonCode.NO_RELEVANT_EVIDENCE


def _relevance_and_embedded(question: str, indexed_settings, settings) -> tuple[float, list[str]]:
    """The gate's relevance for ``question`` under ``settings``, and the texts it embedded (none cached before)."""
    pipeline = get_pipeline(indexed_settings)
    evidence = search(question, settings=indexed_settings)
    vector = np.asarray(pipeline.embeddings.embed_query(question), dtype=np.float32)
    embedder, embedded = CachedTextEmbedder(pipeline.embeddings), []

    def recording(texts):
        embedded.extend(texts)
        return embedder(texts)
    return focus_relevance(question, evidence, replace(pipeline.context(vector), embed_texts=recording), settings), embedded


@pytest.mark.parametrize(("question", "answerable"), [
    ("How do tumour exosomes suppress T cells?", True),
    ("Which tetraspanins are used as exosome markers in flow cytometry?", False),
])
def test_the_gate_stops_embedding_sentences_once_answerable_and_decides_as_the_full_comparison(
        indexed_settings, question, answerable):
    # A threshold no blend reaches: every candidate sentence is compared.
    full, all_compared = _relevance_and_embedded(question, indexed_settings,
                                                 indexed_settings.model_copy(update={"min_relevance": 2.0}))
    early, compared = _relevance_and_embedded(question, indexed_settings, indexed_settings)
    all_compared, compared = len(all_compared), len(compared)
    assert (full >= indexed_settings.min_relevance) == (early >= indexed_settings.min_relevance) == answerable
    if answerable:
        assert compared < all_compared and early <= full
    else:
        assert early == full and compared == all_compared  # an abstention's score is exact


def test_synonyms_are_looked_up_only_when_the_words_held_verbatim_leave_a_question_below_the_threshold(indexed_settings):
    question = "How do tumour vesicles dampen T cells?"  # "vesicles" and "dampen": the review words it otherwise

    def words(texts: list[str]) -> list[str]:  # a source's words, embedded to find synonyms
        return [t for t in texts if len(t.split()) == 1]

    answerable, embedded = _relevance_and_embedded(question, indexed_settings, indexed_settings)
    assert answerable >= indexed_settings.min_relevance and words(embedded) == []
    # Below a threshold no blend reaches, the synonyms' partial credit is counted, and it raises the score.
    exact, embedded = _relevance_and_embedded(question, indexed_settings,
                                              indexed_settings.model_copy(update={"min_relevance": 2.0}))
    assert words(embedded) and exact > answerable


def test_the_closest_sentence_keeps_a_negative_cosine():
    from exorag.answerability import _closest_sentence
    from exorag.generate.base import GenerationContext
    from exorag.models import Evidence

    passage = Evidence(id="e1", chunk_id="c1", source_label="Paper", source_path="p", text="Cells divided slowly in culture.")
    opposite = GenerationContext(term_weight=lambda token, word: 1.0, question_vector=np.array([1.0, 0.0], dtype=np.float32),
                                 embed_texts=lambda texts: np.tile(np.array([-0.6, 0.8], dtype=np.float32), (len(texts), 1)))
    # Not reached: every sentence is compared, and the exact (negative) cosine is the measure.
    assert _closest_sentence("Do cells divide slowly in culture?", [passage], opposite, enough=0.5) == pytest.approx(-0.6)
    assert _closest_sentence("Do cells divide?", [], opposite, enough=0.5) == 0.0


def test_same_topic_words_with_another_focus_abstain(tmp_path):
    """Two abstracts on one operation; a question about an outcome neither reports."""
    settings = _indexed_literature(tmp_path, {
        "0001_cholecystectomy.txt":
            "Laparoscopic cholecystectomy was completed in 212 patients with symptomatic gallstones. Conversion to "
            "open surgery was needed in 9 patients, mostly because of dense adhesions. Mean hospital stay was 1.8 "
            "days and wound infection occurred in 2 patients.",
        "0002_hernia.txt":
            "Inguinal hernia repair by the totally extraperitoneal approach was compared with open mesh repair in 180 "
            "men. Chronic groin pain at one year was less frequent after the laparoscopic approach, and return to "
            "work was faster by five days.",
        "0003_statins.txt":
            "Statin therapy lowered low-density lipoprotein cholesterol by 38 percent in adults with type 2 diabetes "
            "and reduced major cardiovascular events over four years of follow-up.",
    })
    on_focus = answer("How often was conversion to open surgery needed in laparoscopic cholecystectomy?", settings=settings)
    assert not on_focus.abstained and "Conversion" in on_focus.answer
    off_focus = answer("Does laparoscopic cholecystectomy influence peri-sinusoidal Kupffer cell activity in the liver?",
                       settings=settings)
    assert off_focus.abstained and off_focus.reason_code == ReasonCode.NO_RELEVANT_EVIDENCE


@pytest.mark.parametrize(("question", "passage"), [
    ("Is ankle/arm pressure predictive for cardiovascular mortality in older patients?",  # an outcome
     "Cardiovascular mortality over six years was 14% in patients with a low ankle/arm index."),
    ("Are complex coronary lesions more frequent in patients with diabetes?",  # a comparison
     "Type C lesions were found in 41% of diabetic patients compared with 28% of those without diabetes."),
    ("Does the drug reduce tumour growth in a mouse xenograft model?",  # an animal model
     "In nude mice bearing xenografts, tumour volume fell by half after three weeks of treatment."),
    ("Are there side effects of the new anticoagulant in elderly patients?",  # a drawback
     "Major bleeding, the main adverse event, occurred in 3% of patients over 75."),
])
def test_yes_no_questions_of_each_kind_are_answered_when_their_passage_speaks_of_it(question, passage):
    assert is_yes_no(question)
    finding = "The association held in the adjusted analysis."  # the quoted sentence need not name the detail
    assert assess_answer(question, [finding], [passage]).answerable
    unrelated = "Recruitment took place in three university hospitals between 2004 and 2006."
    assert assess_answer(question, [finding], [unrelated]).code == ReasonCode.ASKED_DETAIL_ABSENT


def test_a_tag_asking_for_confirmation_is_a_yes_no_question():
    assert is_yes_no("Hypoxia raises exosome release, right?")


@pytest.mark.parametrize("question", [
    "Which mouse strain was used in the xenograft experiments?",
    "What are the side effects of the anticoagulant?",
    "How does hypoxia raise exosome release, and is it reversible?",
])
def test_questions_asking_for_something_are_not_yes_no(question):
    assert not is_yes_no(question)


@pytest.mark.skipif(not PUBMEDQA.is_dir(), reason="needs ../shared/data/pubmedqa-dev beside the checkout (as CI has)")
def test_absent_abstract_harness_on_a_pubmedqa_sample(tmp_path):
    """A sample of 60 PubMedQA items, a third of their abstracts left out, through `exorag pubmedqa`."""
    from typer.testing import CliRunner

    from exorag.cli import app

    sample = dict(list(json.loads((PUBMEDQA / "pqal_dev.json").read_text(encoding="utf-8")).items())[:60])
    data = tmp_path / "sample.json"
    data.write_text(json.dumps(sample), encoding="utf-8")
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["pubmedqa", "--data", str(data), "--out", str(out), "--absent-share", "0.33"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    overall = report["splits"]["all"]
    assert overall["present"] + overall["absent"] == 60 and overall["absent"] >= 10
    assert len(list((out / "corpus" / "literature").glob("*.txt"))) == overall["present"]
    assert overall["retrieval_recall@5"] >= 0.95
    assert overall["abstention_on_absent"] >= 0.8
    assert overall["false_abstention_rate"] <= 0.1
    assert 0.0 <= overall["results_quoted"] <= 1.0


def test_an_answer_quotes_its_abstracts_results_only_with_a_whole_sentence_of_them():
    from evals.pubmedqa import PubMedQAItem, quotes_results

    item = PubMedQAItem("42", "Does drug X lower mortality?", ["We gave drug X to 80 patients.",
                        "Fourteen patients died on drug X and 30 on placebo (p = 0.01)."], "", "yes", ("METHODS", "RESULTS"))

    def answered(text: str, source: str = "literature/pmid42.txt") -> Answer:
        evidence = Evidence(id="e1", chunk_id="c1", source_label="pmid42", source_path=source, source_kind="literature",
                            text=text)
        return Answer(question=item.question, answer=text, evidence=[evidence],
                      sentences=[Sentence(text=text, citation="[pmid42]", evidence_ids=["e1"])])

    assert quotes_results(item, answered("Fourteen patients died on drug X and 30 on placebo (p = 0.01)."))
    assert not quotes_results(item, answered("We gave drug X to 80 patients."))
    # Part of a word is no sentence of it; another paper's sentence is not this abstract's.
    assert not quotes_results(item, answered("teen patients died on drug X and 30 on placebo (p = 0.01)."))
    assert not quotes_results(item, answered("Fourteen patients died on drug X and 30 on placebo (p = 0.01).",
                                             "literature/pmid7.txt"))


@pytest.mark.parametrize("question", [
    "How do exosomes promote angiogenesis?",
    "What are the main drawbacks of Rab27a inhibition as an anticancer therapy?",
    "Which lipids are enriched in tumour exosome membranes compared with the plasma membrane of the parent cell?",
    "Which telomerase components do tumour exosomes carry, and how do they extend replicative lifespan?",
])
def test_every_abstention_of_a_broad_question_is_typed_too(indexed_settings, question):
    result = answer(question, settings=indexed_settings)
    assert result.abstained and result.reason and result.reason_code in set(ReasonCode)


@pytest.mark.parametrize(("question", "subject"), [
    ("Is glypican-1 on circulating exosomes a reliable marker for early pancreatic cancer?", "glypican"),
    ("Do cardiomyocyte-derived exosomes protect the myocardium after ischaemia-reperfusion injury?", "cardiomyocyte"),
    # Named in the corpus: the subject is studied, whatever is asked of it.
    ("Does hypoxia raise exosome release from breast cancer cells?", None),
    # A pronoun or "there" names no subject; the rare word after it is a paraphrase, not a topic.
    ("Should we preferentially select patients with high exosomal PD-L1 for checkpoint blockade?", None),
    ("Is there a druggable target for stopping tumour cells from releasing vesicles?", None),
    # Not a yes/no question: its rare word may be a paraphrase ("rewire" for "reprogram").
    ("How do cancer exosomes rewire the metabolism of the cells that receive them?", None),
])
def test_a_yes_no_question_whose_subject_no_passage_mentions_is_not_answered_from_its_neighbours(
        indexed_settings, question, subject):
    lexical = get_pipeline(indexed_settings).index.lexical
    assert absent_subject(lexical, question) == subject
    if subject:
        result = answer(question, settings=indexed_settings)
        # A word and a number no passage names ("glypican-1") is refused as an absent entity first.
        assert result.abstained and result.reason_code in (ReasonCode.NO_RELEVANT_EVIDENCE, ReasonCode.NAMED_ENTITY_ABSENT)
        assert subject in result.reason


def test_a_drug_no_abstract_studies_is_not_answered_from_a_study_of_the_same_fracture(tmp_path):
    settings = _indexed_literature(tmp_path, {
        "contralateral.txt":
            "We followed 1,200 elderly patients after surgery for a first hip fracture. A previous hip fracture more "
            "than doubled the risk of a second, contralateral hip fracture within five years.",
        "mortality.txt":
            "Hip fracture in geriatric patients carries a substantial economic burden. One-year mortality after hip "
            "fracture surgery was 21% in our cohort of 640 patients.",
    })
    refused = answer("Does giving zoledronic acid after hip fracture surgery reduce the risk of a second hip fracture?",
                     settings=settings)
    assert refused.abstained and refused.reason == "No indexed passage mentions zoledronic."
    answered = answer("Does a previous hip fracture raise the risk of a contralateral hip fracture?", settings=settings)
    assert not answered.abstained and "contralateral" in answered.answer


def test_a_subject_the_corpus_writes_another_way_or_abbreviates_is_not_refused(tmp_path, indexed_settings):
    """Accents, British ae/oe, a slip of the pen and an abbreviation the corpus may spell out are
    the corpus's subject in other letters, not a subject it lacks."""
    settings = _indexed_literature(tmp_path, {"trials.txt":
        "In 120 patients with primary Sjogren syndrome, hydroxychloroquine did not improve dryness. Prophylactic "
        "factor VIII reduced the annual rate of hemarthrosis from 12 to 2 in boys with hemophilia. Zoledronic acid "
        "reduced new clinical fractures by 35% after hip fracture surgery."})
    lexical = get_pipeline(settings).index.lexical
    for question in ["Does Sjögren's syndrome respond to hydroxychloroquine?",
                     "Is haemarthrosis less frequent with prophylactic factor VIII?",
                     "Does zolendronic acid reduce new fractures after hip fracture?"]:
        assert absent_subject(lexical, question) is None, question
    assert absent_subject(lexical, "Does denosumab reduce new fractures after hip fracture?") == "denosumab"
    # "nSMase2" abbreviates the review's "neutral sphingomyelinase-2": the yes/no wording is answered too.
    result = answer("Does blocking nSMase2 reduce exosome numbers?", settings=indexed_settings)
    assert not result.abstained and "sphingomyelinase" in result.answer.casefold()
