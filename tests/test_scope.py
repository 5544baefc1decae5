"""Questions about named things the corpus never mentions abstain before any generator runs."""

from __future__ import annotations

import pytest

from exorag.chain import answer
from exorag.scope import unmentioned
from exorag.store.lexical import LexicalIndex
from tests.test_text import chunk


@pytest.fixture(scope="module")
def lexical() -> LexicalIndex:
    return LexicalIndex.build([
        chunk("a", "Exosomal miR-21 silences PTEN; HIF-1α raises exosome release."),
        chunk("b", "Tumour exosomes are enriched in matrix metalloproteinases (MMPs). PD-L1 blunts T cells."),
        chunk("c", "Neutral sphingomyelinase-2 inhibitors such as GW4869 block budding.", kind="review"),
        chunk("d", "Hif1a and IL-1b rise in hypoxic cells."),
    ], generation="g")


@pytest.mark.parametrize(("question", "reason"), [
    # a numbered member of a family the corpus names, which it does not name
    ("Does exosomal miR-9 silence PTEN?", "No indexed passage mentions miR-9."),
    ("Which is enriched, MMP-2 or MMP-9?", "No indexed passage mentions MMP-2 and MMP-9."),
    ("Is miR-210 raised too?", "No indexed passage mentions miR-210."),
    # one name in parentheses abbreviates the words before it: it counts
    ("Does the microRNA (miR-9) silence PTEN?", "No indexed passage mentions miR-9."),
    ("Does the microRNA (miR-9, a tumour suppressor) silence PTEN?", "No indexed passage mentions miR-9."),
    ("Do exosomes carry the NLRP3-like sensor (miR-9-like)?", "No indexed passage mentions NLRP3 and miR-9."),
    # names joined by "and" or "/" in parentheses are one subject, not alternatives offered
    ("Does the pair (miR-9 and PTEN) predict relapse?", "No indexed passage mentions miR-9."),
    # named things the corpus names, never in one passage
    ("Does HIF-1α load PD-L1 into exosomes?", "No indexed passage mentions HIF-1α and PD-L1 together."),
    # a word and a number name a molecule, whose word no passage uses: no abbreviation of anything
    ("Do tumour exosomes carry glypican-1?", "No indexed passage mentions glypican-1."),
    ("Is Caspase-3 cleaved in recipient cells?", "No indexed passage mentions Caspase-3."),
    # a gene or protein symbol, which papers on it write as it is
    ("Does exosomal miR-21 target PDCD4 in recipient cells?", "No indexed passage mentions PDCD4."),
    ("Which ESCRT proteins, such as TSG101, sort PD-L1?", "No indexed passage mentions TSG101."),
    ("Does HOXD10 fall when miR-21 rises?", "No indexed passage mentions HOXD10."),
])
def test_a_question_about_what_no_passage_names_gets_a_reason(lexical, question, reason):
    assert unmentioned(question, lexical).reason == reason


@pytest.mark.parametrize("question", [
    "How does miR-21 act on PTEN?",
    "Does HIF-1 change exosome release?",  # a less specific form of HIF-1α
    "Does HIF-1a raise release?",  # a Latin letter typed for the Greek one
    "Which targets does miR-21-5p hit?",  # a more specific form of miR-21
    "How does blocking nSMase2 cut exosome numbers?",  # an abbreviation with no relatives in the corpus
    "Does sphingomyelinase-2 matter?",  # a word and a number whose word the corpus uses
    "How do exosomes carry cargo?",  # no identifiers: nothing to check
    "Does HIF-1α or PD-L1 matter more?",  # alternatives need not share a passage
    "What does the miR-21/PTEN axis do?",  # a slash separates two names
    "Does IL‐1β rise under hypoxia?",  # a Unicode hyphen; the corpus writes the Latin "IL-1b"
    # names in parentheses offered as examples or guesses are not what the question is about
    "Which MMPs (MMP-2, MMP-9?) do tumour exosomes carry?",
    "Which MMPs (MMP-2 or MMP-9) do tumour exosomes carry?",
    "Which microRNAs (e.g. miR-9) silence PTEN?",
    # capitals that are an English word, or a common abbreviation a passage may write otherwise
    "Do TYPE2 cells release more?",
    "Do CD8 cells respond?",
    "Is HIV1 load lower?",
])
def test_a_question_about_what_passages_name_or_may_paraphrase_goes_on(lexical, question):
    assert unmentioned(question, lexical) is None


@pytest.mark.parametrize(("question", "passage"), [
    ("Is Caspase-3 activated after exosome uptake?", "CASP3 was cleaved in recipient cells."),
    ("Do tumour exosomes carry glypican-1?", "Exosomal GPC1 marks pancreatic cancer."),
    ("Is connexin-43 lost?", "Cx43 was lost."),
    ("Is cyclooxygenase-2 induced?", "COX-2 was induced."),
    ("Is matrix metalloproteinase-9 secreted?", "MMP-9 was secreted."),  # the letters span "matrix" too
    ("Is interleukin-6 raised?", "IL-6 was raised."),
    ("What does Table-1 list?", "Table 1 lists the cohort."),  # a common word: no molecule
    ("Did phase-3 trials succeed?", "Trials succeeded."),
])
def test_a_word_and_a_number_the_corpus_names_by_its_symbol_or_another_spelling_goes_on(question, passage):
    assert unmentioned(question, LexicalIndex.build([chunk("a", passage)], generation="g")) is None


def test_a_follow_up_is_not_held_to_linking_the_names_of_two_questions(lexical):
    question = "Does HIF-1α load PD-L1 into exosomes?"
    assert unmentioned(question, lexical, linked=False) is None
    assert unmentioned("Does miR-9 load PD-L1?", lexical, linked=False).reason == "No indexed passage mentions miR-9."


def test_the_check_keeps_to_the_filtered_passages(lexical):
    assert unmentioned("What does GW4869 block?", lexical, lexical.allowed("review", None, None)) is None
    assert unmentioned("What does miR-21 silence?", lexical, lexical.allowed("review", None, None)).reason == (
        "No indexed passage mentions miR-21.")


def test_answer_abstains_on_a_link_the_literature_never_makes(indexed_settings):
    result = answer("Do the miR-1273f-laden vesicles from hypoxic liver cancer cells also carry PD-L1?",
                    settings=indexed_settings)
    assert result.abstained and "together" in result.reason and not result.sentences


def test_answer_reads_an_abbreviation_the_literature_spells_out(indexed_settings):
    result = answer("How does blocking nSMase2 reduce exosome numbers?", settings=indexed_settings)
    assert not result.abstained and "sphingomyelinase" in result.answer.lower()
