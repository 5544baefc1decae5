"""The kind of detail a question asks for, and answers that state none of it."""

from __future__ import annotations

import pytest

from exorag.asked import unstated
from exorag.chain import answer
from exorag.models import ReasonCode

FINDING = "Melanoma exosomes carry specific integrins that determine organotropism [8, 49]."


@pytest.mark.parametrize(("question", "kind"), [
    ("Which mouse strain was used to show integrin organotropism?", "an animal model"),
    ("Which cell line was the HRAS model?", "a cell line"),
    ("What are the drawbacks of blocking Rab27a?", "a drawback or risk"),
    ("Does serum miR-1273f predict overall survival?", "a patient outcome"),
    ("Which bacterial species alter exosome cargo?", "an organism"),
    ("Which EGFR inhibitor blocks EGFRvIII transfer?", "a drug or agent"),
    ("How were the exosomes isolated?", "a method"),
    ("How many hours after hypoxia does release peak?", "a quantity"),
    ("Who first described exosomal PD-L1?", "who or when"),
    ("What phase of clinical trials has the exo-PD-L1 antibody reached?", "a clinical trial or approval"),
    ("Are α6β4 or αvβ5 exosomes more efficient at building a niche?", "a comparison"),
    ("Which adaptor links IL-1β to NF-κB - MyD88, IRAK4 or TRAF6?", "one of MyD88, IRAK4 or TRAF6"),
    ("Which breast cancer subtype sheds the most IL-1β-loaded vesicles?", "a comparison"),
    ("Is there a GEO accession for the sequencing data?", "a data set or accession"),
    ("Which sequencing platform detected the mutated DNA?", "a method"),
    ("What FDR cut-off called miR-21 enriched?", "a quantity"),
    ("Exosomal PD-L1 in melanoma: which drugs block its release?", "a drug or agent"),
    ("Which drugs inhibit exosome release in this setting: hypoxic melanoma cells?", "a drug or agent"),
    ("Which antibody-drug conjugates target exosomal HER2?", "a drug or agent"),
    # "What's" asks as "What is" does; an N-year survival is a figure; clinical testing is a trial.
    ("What's the sensitivity of exosomal GPC1 for early cancer?", "a quantity"),
    ("What five-year survival do patients with high exosomal miR-21 have?", "a quantity"),
    ("Which phase of clinical testing has the exo-PD-L1 antibody reached?", "a clinical trial or approval"),
])
def test_a_finding_on_the_topic_does_not_answer_a_question_asking_for_a_detail(question, kind):
    assert unstated(question, [FINDING]) == kind


@pytest.mark.parametrize(("question", "answer_text"), [
    ("Which mouse strain was used?", "Lung metastasis was seen in C57BL/6 mice."),
    ("What are the drawbacks of blocking Rab27a?", "Rab27a blockade is limited by toxicity in normal cells."),
    ("Which small-molecule inhibitor blocks budding?", "Exosome Biogenesis Inhibitors (e.g., GW4869) block ILV formation."),
    ("How many hours after hypoxia does release peak?", "Release peaks 24 hours after the switch."),
    ("Is high exosomal PD-L1 a favourable prognostic marker?", "It predicts a worse response to anti-PD-1 therapy."),
    ("Which gene does miR-21 silence?", "miR-21 silences PTEN."),  # a gene carries no mark: not checked
    ("Which adaptor links IL-1β to NF-κB - MyD88 or TRAF6?", "IL-1β signals through MyD88 to NF-κB."),
    ("Is αvβ5 more efficient than α6β4?", "αvβ5 exosomes reach the liver more often than α6β4 ones."),
    ("Does knocking down Rab27a or Rab27b cut release?", "Silencing Rab27 GTPases cuts release."),
    ("How long do injected exosomes circulate?", "They are cleared within minutes."),
    ("What's the five-year survival after resection?", "Five-year survival after resection was 42%."),
    ("Which phase of clinical development has the inhibitor reached?", "The inhibitor is in a phase II trial."),
    # a word of the kind used as the topic, not asked for
    ("Do tumour exosomes affect sensitivity to cisplatin?", "Exosomal miR-21 confers cisplatin resistance."),
    ("Is exosome uptake dose-dependent?", "Uptake rises in a dose-dependent manner."),
    ("How do exosomes promote cancer cell survival?", "EphA2 signalling promotes proliferation."),
    ("Does mechanical strain increase exosome release?", "Stretching cells increases release."),
    ("Does ultracentrifugation damage exosomes?", "It preserves their morphology."),
    ("What is known about drug-eluting stents?", "Adverse events occurred in 22.6% of patients."),
    # "make X more Y" asks how a change comes about, not which of two is more so
    ("Through which pathway does exosomal miR-21 make glioma cells more aggressive?", "miR-21 activates STAT3 in glioma."),
    # a title before the colon names the topic; only the question after it asks
    ("Pitfalls in stone imaging with CT: do two scanners give the same values?", "Values differed by scanner."),
    # a question counting things asks for a number, not for the things it counts
    ("What share of marine species live on coral reefs?", "About a quarter of all marine species live on coral reefs."),
    ("How many bacterial species were found in the tumours?", "In all, 12 bacterial species were found in the tumours."),
])
def test_an_answer_stating_the_detail_or_a_question_asking_none_passes(question, answer_text):
    assert unstated(question, [answer_text]) is None


def test_a_name_the_question_used_does_not_state_the_detail():
    assert unstated("Which mouse strain was used?", ["Mouse exosomes carry integrins."]) == "an animal model"
    assert unstated("Is it miR-210 or miR-155?", ["Exosomal miR-21 is abundant."]) == "one of miR-210 or miR-155"
    assert unstated("What share of marine species live on coral reefs?", ["Coral reefs are diverse."]) == "a quantity"


@pytest.mark.parametrize("question", [
    "Which mouse strain was used to show integrin-dependent organotropism of melanoma exosomes?",
    "What are the main drawbacks of Rab27a inhibition as an anticancer therapy?",
    "Does serum exosomal miR-1273f predict overall survival in HCC patients after resection?",
])
def test_answer_abstains_when_its_best_passage_is_on_topic_but_states_no_such_detail(indexed_settings, question):
    result = answer(question, settings=indexed_settings)
    # Read as a broad question, its only part is then found unaddressed: an abstention either way.
    assert result.abstained and not result.sentences
    assert result.reason_code in {ReasonCode.ASKED_DETAIL_ABSENT, ReasonCode.NO_ANSWERING_SENTENCE}
