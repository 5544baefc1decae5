"""Negation and direction of effect, read once for the verdict, the rules judge and the pair generator."""

from __future__ import annotations

from exorag.polarity import (
    denies_effect,
    direction_of,
    effect_verb_base,
    negates,
    opposed_prefix,
    opposite_word,
    reword_effect_phrases,
)


def test_negation_reads_phrases_before_words():
    assert negates("hypoxia failed to raise release")
    assert negates("it doesn't bind")
    assert negates("a role in uptake rather than release")
    assert not negates("not only in the tumour")
    assert denies_effect("release was unchanged (p = 0.41)")


def test_direction_of_a_stated_effect():
    assert direction_of("suppresses") == "down"
    assert direction_of("down-regulated") == "down"
    assert direction_of("triggers") == "up"
    assert direction_of("worse") == "bad"
    assert direction_of("reduction") is None  # a noun names an effect, it does not state one
    assert direction_of("exosomes") is None
    assert direction_of("lowered") == "down" and direction_of("higher") == "up"
    # Adjectives are read as written: their stems would take in other words.
    assert direction_of("highly") is None and direction_of("positivity") is None and direction_of("positioned") is None


def test_over_a_whole_sentence_a_contrast_or_a_failed_treatment_denies_nothing():
    assert not denies_effect("hypoxia raises exosome release rather than lowering it")
    assert not denies_effect("hypoxia raised exosome release in cells that failed treatment")
    assert denies_effect("hypoxia failed to raise exosome release")
    assert denies_effect("release did not change") and denies_effect("release was unchanged")


def test_opposites_keep_the_form():
    assert opposite_word("increases") == "decreases"
    assert opposite_word("upregulated") == "downregulated"
    assert opposite_word("higher") == "lower"
    assert effect_verb_base("promoted") == "promote"


def test_phrasal_verbs_of_effect_read_as_one_verb():
    assert reword_effect_phrases("regulatory t cells held tumour growth in check") == "regulatory t cells inhibits tumour growth "
    assert reword_effect_phrases("the drug holds back fibrosis") == "the drug inhibits fibrosis"
    assert reword_effect_phrases("the cells ramp up glycolysis") == "the cells increases glycolysis"
    # Other senses, and check-ups, are left as written.
    for other in ("the patients held their breath", "children were held back a school year",
                  "the data were held back from publication", "visits were held in check-up clinics",
                  "the nurses kept watch and the infection in check"):
        assert reword_effect_phrases(other) == other


def test_opposed_prefixes_on_one_stem():
    assert opposed_prefix("an anti-inflammatory state", "pro-inflammatory mediators") == "anti-inflammatory"
    assert opposed_prefix("hyperglycaemia was common", "hypoglycaemia was common") == "hyperglycaemia"
    assert opposed_prefix("an anti\u2010inflammatory state", "pro-inflammatory mediators") == "anti-inflammatory"  # a Unicode hyphen reads as "-"
    assert opposed_prefix("proinflammatory cytokines", "pro-inflammatory cytokines") is None
    assert opposed_prefix("an anti-inflammatory state", "an inflammatory state") is None
    # A text that names both forms reverses nothing.
    assert opposed_prefix("from a pro-inflammatory to an anti-inflammatory phenotype", "pro-inflammatory cells") is None
    assert opposed_prefix("an anti-inflammatory phenotype", "pro-inflammatory cells turned anti-inflammatory") is None
