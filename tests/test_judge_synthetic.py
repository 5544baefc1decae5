"""The synthetic pair generator: each perturbation does what its name says, on text that is not
the bundled review's."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from exorag.judge.synthetic import (
    KIND_LABEL,
    added_clause,
    class_mislabel,
    direction,
    entity_swap,
    generate_pairs,
    negation,
    number_change,
    relation_swap,
    reordered,
    trimmed_clause,
)
from exorag.text import numbers_in

SENTENCE = "In A549 lung cancer cells, knockdown of KRAS reduced colony formation by 60% and increased BIM expression."
BINDING = "Secreted LGALS3 binds ITGB1 on fibroblasts and activates YAP signalling."


@pytest.fixture
def rng() -> random.Random:
    return random.Random(7)


def words(text: str) -> list[str]:
    return re.findall(r"[\w%-]+", text)


def test_entity_swap_puts_another_entity_of_the_same_shape_that_the_evidence_lacks(rng):
    pool = {"acronym": ["KRAS", "NRAS", "TP53"], "coded": ["A549", "H1299"]}
    for _ in range(10):
        claim = entity_swap(SENTENCE, pool, SENTENCE, rng)
        changed = set(words(claim)) ^ set(words(SENTENCE))
        assert len(changed) == 2, claim
        new = (set(words(claim)) - set(words(SENTENCE))).pop()
        assert new in {"NRAS", "TP53", "H1299"}


def test_entity_swap_prefers_an_entity_named_nearby_in_the_evidence(rng):
    evidence = "Knockdown of KRAS reduced colony formation. NRAS had no such effect."
    claim = entity_swap("Knockdown of KRAS reduced colony formation.", {"acronym": ["TP53"]}, evidence, rng)
    assert claim == "Knockdown of NRAS reduced colony formation."


def test_relation_swap_exchanges_two_entities(rng):
    assert relation_swap(BINDING, rng) in {
        "Secreted ITGB1 binds LGALS3 on fibroblasts and activates YAP signalling.",
        "Secreted YAP binds ITGB1 on fibroblasts and activates LGALS3 signalling.",
        "Secreted LGALS3 binds YAP on fibroblasts and activates ITGB1 signalling.",
    }


def test_number_change_changes_a_number_or_its_unit(rng):
    for _ in range(20):
        claim = number_change("Mice received 5 mg of drug for 14 days.", rng)
        assert claim != "Mice received 5 mg of drug for 14 days."
        assert numbers_in(claim) != {"5", "14"} or not re.search(r"\b5 mg\b.*\b14 days\b", claim)
        assert len(words(claim)) == len(words("Mice received 5 mg of drug for 14 days."))


def test_number_change_handles_number_words(rng):
    claim = number_change("Secretion rose threefold under hypoxia.", rng)
    assert "threefold" not in claim and claim.endswith("under hypoxia.")


def test_negation_is_added_after_an_auxiliary_or_before_an_effect_verb_and_removed_when_present(rng):
    assert negation("PTEN is required for the effect.", rng) == "PTEN is not required for the effect."
    assert negation("Exosomal Wnt5a promotes invasion.", rng) == "Exosomal Wnt5a does not promote invasion."
    assert negation("Exosomal Wnt5a increased invasion.", rng) == "Exosomal Wnt5a did not increase invasion."
    assert negation("The inhibitor did not reduce uptake.", rng) == "The inhibitor did reduce uptake."


def test_direction_turns_an_effect_word_to_its_opposite(rng):
    assert direction("Exosomal Wnt5a promotes invasion.", rng) == "Exosomal Wnt5a inhibits invasion."
    assert direction("Levels were higher in patients.", rng) == "Levels were lower in patients."
    assert direction("Hypoxia upregulated CD63.", rng) == "Hypoxia downregulated CD63."


def test_class_mislabel_changes_the_class_noun_of_an_entity(rng):
    claim = class_mislabel("Rab27a is a small GTPase that docks vesicles.", ["kinase", "receptor", "GTPase"], rng)
    assert claim in {"Rab27a is a small kinase that docks vesicles.", "Rab27a is a small receptor that docks vesicles."}


def test_trimmed_clause_and_reordering_keep_the_words_of_the_sentence():
    trimmed = trimmed_clause("Knockdown of KRAS reduced colony formation by 60%, which slowed tumour growth in mice.")
    assert trimmed == "Knockdown of KRAS reduced colony formation by 60%."
    moved = reordered(SENTENCE)
    assert moved == "Knockdown of KRAS reduced colony formation by 60% and increased BIM expression in A549 lung cancer cells."
    assert Counter(words(moved.lower())) == Counter(words(SENTENCE.lower()))


def test_added_clause_appends_a_clause_of_another_sentence():
    claim = added_clause(BINDING, "Serum levels predicted relapse in two cohorts, as shown before.")
    assert claim == BINDING[:-1] + ", and serum levels predicted relapse in two cohorts."


def test_generated_pairs_cover_every_kind_and_label_it(rng):
    text = " ".join([SENTENCE, BINDING, "Knockdown of KRAS reduced colony formation by 60%, which slowed tumour growth in mice.", "Rab27a is a small GTPase that docks vesicles at the membrane.",
                     "PTEN is required for the effect in HeLa cells.", "Tumour volume was 40% lower after 21 days.",
                     "Exosomal miR-210 rises under hypoxia in MCF7 cells.", "CD63 and CD81 mark exosomes of HEK293 cells."])
    pairs = generate_pairs([text, text.replace("KRAS", "NRAS")], seed=3, per_sentence=8)
    kinds = Counter(pair.kind for pair in pairs)
    assert set(kinds) == set(KIND_LABEL), kinds
    for pair in pairs:
        assert pair.label == KIND_LABEL[pair.kind]
        if pair.kind == "identity":
            assert pair.claim in pair.evidence
        elif pair.label == "contradicted":
            assert pair.claim not in pair.evidence
