"""Tokens, spelling and score fusion: the pieces that decide what a question matches."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from exorag.models import Chunk
from exorag.retrieve import fuse_scores
from exorag.store.lexical import LexicalIndex
from exorag.text import (
    TOKENIZER_VERSION,
    defined_abbreviations,
    entity_key,
    exact_identifiers,
    named_entities,
    names_all,
    question_terms,
    split_sentences,
    tokenize,
)


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("T cells", "T-cell"),
        ("B cell", "B-cells"),
        ("colonisation", "colonization"),
        ("tumour-derived", "tumor-derived"),
        ("tumourigenesis", "tumorigenesis"),
        ("signalling behaviour", "signaling behavior"),
        ("characterised", "characterized"),
        ("haematopoietic", "hematopoietic"),
        ("oestradiol", "estradiol"),
        ("tachypnoea", "tachypnea"),
        ("paediatric haemodialysis", "pediatric hemodialysis"),
        ("haemarthrosis", "hemarthrosis"),
        ("diarrhoea oedema", "diarrhea edema"),
        ("anaesthetised", "anesthetized"),
        ("sulphonylurea sulphate", "sulfonylurea sulfate"),
        ("paracetamol", "acetaminophen"),
        ("noradrenaline", "norepinephrine"),
        ("adrenalin amfetamines", "epinephrine amphetamines"),
        ("disulphide thiosulphate", "disulfide thiosulfate"),
        ("T Cells", "T-cells"),
        ("IL-1beta", "IL-1β"),
        ("TGF-beta", "TGF-β"),
        ("NF-kappaB", "NF-κB"),
        ("beta-catenin", "ẞ-catenin"),
    ],
)
def test_a_spelling_variant_gives_the_same_tokens(typed: str, written: str) -> None:
    assert tokenize(typed) == tokenize(written)


def test_american_words_that_only_look_british_keep_their_stems() -> None:
    assert tokenize("precise") == tokenize("precision") and tokenize("revise") == tokenize("revision")
    assert tokenize("flour contour") == ["flour", "contour"]
    # An ae/oe outside British medical spelling is another word: it stays.
    for word in ["Boeing", "aerobic", "AECs", "canoes", "woes", "aloes", "Loewy", "Caesar"]:
        assert tokenize(word) != tokenize(re.sub("(?i)(a|o)e", "e", word)), word


def test_tokens_change_only_with_a_new_tokenizer_version() -> None:
    # Saved lexical indexes are rebuilt when TOKENIZER_VERSION changes: change both together.
    assert TOKENIZER_VERSION == 9
    assert tokenize("Tumour-derived miR-21 silences PTEN in T cells under 1% O2 (3-fold)") == [
        "tumor-deriv", "tumorderiv", "tumor", "deriv", "mir-21", "mir21", "mir", "21", "silenc", "pten",
        "t-cell", "tcell", "cell", "1%", "o2", "3-fold", "3fold", "3", "fold",
    ]


def test_quantities_are_not_identifiers_and_ids_are_matched_whole() -> None:
    assert exact_identifiers("Does 3-fold more miR-21 at 24h in 786-O cells raise HIF-1α?") == ["miR-21", "786-O", "HIF-1α"]
    assert names_all("Exosomal miR-21-containing vesicles", ["miR-21"])
    assert not names_all("Exosomal miR-210 is raised", ["miR-21"])
    assert not names_all("anything", [])


def test_an_identifier_is_the_name_before_its_describing_word_in_any_spelling() -> None:
    assert exact_identifiers("Do PD-L1-positive, miR-1273f-laden or IL-1β-bearing vesicles differ?") == [
        "PD-L1", "miR-1273f", "IL-1β"]
    assert names_all("HIF-1α drives release; EGFRvIII spreads.", ["HIF-1a", "EGFR-vIII", "HIF-1alpha"])
    assert exact_identifiers("Is the miR-21/PTEN axis, MT1-MMP or Hsp90-alpha or IL\u20101β involved?") == [
        "miR-21", "MT1-MMP", "Hsp90-alpha", "IL\u20101β"]


def test_entities_are_found_by_shape_not_by_a_list() -> None:
    found = {name: kind for _, _, name, kind in named_entities("miR-155 and HIF-1α raise PTEN, EphA2 and Rab27a in cells.")}
    assert found == {"miR-155": "mirna", "HIF-1α": "coded", "PTEN": "acronym", "EphA2": "coded", "Rab27a": "coded"}
    names = [name for _, _, name, _ in named_entities("anti-PD-L1, caspase-3, let-7a, β-catenin, EGFRvIII-loaded MMPs, "
                                                        "50 kDa, 3-tenfold, 24h")]
    assert names == ["PD-L1", "caspase-3", "let-7a", "β-catenin", "EGFRvIII", "MMPs"]
    assert entity_key("MMPs") == entity_key("mmp") and entity_key("PD-L1") == "pdl1"


def test_ids_stay_whole_and_a_lone_capital_a_stays_a_word() -> None:
    tokens = tokenize("miR-1273f-containing exosomes under 1% O2, 3-10-fold, HIF-1α")
    assert {"mir-1273f", "1%", "3-10-fold", "hif-1α"} <= set(tokens)
    assert "a-phase" not in tokenize("A phased approach")
    assert tokenize("four hours") == ["four", "hour"]


@pytest.mark.parametrize("question", [
    "Give me an overview of what these abstracts say about radiotherapy for prostate cancer.",
    "What has the literature documented about radiotherapy for prostate cancer in this collection of papers?",
])
def test_words_of_asking_and_of_the_literature_itself_are_not_what_a_question_is_about(question) -> None:
    assert set(question_terms(question).values()) == {"radiotherapy", "prostate", "cancer"}


def test_a_topic_word_sharing_a_stem_with_a_word_of_asking_stays() -> None:
    assert set(question_terms("What is the prognosis of collecting duct carcinoma?").values()) == {
        "prognosis", "collecting", "duct", "carcinoma"}


@pytest.mark.parametrize(("text", "sentences"), [
    ("Exosomes carry PD-L1 [170-172]. They blunt T cells.", ["Exosomes carry PD-L1 [170-172].", "They blunt T cells."]),
    ("Uptake rose (e.g. in mice) vs. controls. Fig. 2 shows it.", ["Uptake rose (e.g. in mice) vs. controls.", "Fig. 2 shows it."]),
    ("Release fell, i.e. by half. the rest did not.", ["Release fell, i.e. by half. the rest did not."]),
    ("Vitamin A. It was given daily.", ["Vitamin A. It was given daily."]),
    # The word before a stop is the whole word, however far back it starts or ends.
    ("Cells were counted (see Fig" + " " * 120 + ". Two groups.", ["Cells were counted (see Fig" + " " * 120 + ". Two groups."]),
    ("Results blahetc" + " " * 77 + ". Then it ended.", ["Results blahetc" + " " * 77 + ".", "Then it ended."]),
    ("Stage" + " x" * 60 + " etc. Then it ended.", ["Stage" + " x" * 60 + " etc. Then it ended."]),
])
def test_sentences_end_at_a_stop_followed_by_a_capital_not_after_an_abbreviation(text: str, sentences: list[str]) -> None:
    assert [text[start:end] for start, end in split_sentences(text)] == sentences


def test_a_text_of_many_abbreviations_splits_where_its_sentences_end() -> None:
    text = "Rates vs. " * 5000 + "controls. " + "A finding. " * 3000
    spans = split_sentences(text)
    assert len(spans) == 3001
    assert text[spans[0][0]:spans[0][1]].endswith("vs. controls.") and text[spans[-1][0]:spans[-1][1]] == "A finding."
    spaced = ("word" + " " * 100 + ". ") * 2000  # a stop after spaces, before a lower-case word: one sentence
    assert split_sentences(spaced) == [(0, len(spaced.rstrip()))]


def test_fusion_keeps_the_margin_of_a_passage_one_retriever_finds_far_better() -> None:
    dense = {"specific": 0.80, "generic": 0.50, "other": 0.49}
    lexical = {"generic": 6.0, "other": 5.9, "specific": 5.9}
    fused = fuse_scores(dense, lexical, dense_weight=0.6)
    assert max(fused, key=fused.get) == "specific"
    # an id only one retriever returned scores that list's minimum in the other
    assert fuse_scores({"a": 0.9, "b": 0.1}, {"c": 3.0, "b": 1.0})["a"] == pytest.approx(0.6)


def test_importing_exorag_makes_openmp_threads_sleep_unless_told_otherwise() -> None:
    def policy_after_import(env: dict[str, str]) -> str:
        code = "import exorag, os; print(os.environ['OMP_WAIT_POLICY'])"
        return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout.strip()

    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    assert policy_after_import(env) == "PASSIVE"
    assert policy_after_import({**env, "OMP_WAIT_POLICY": "ACTIVE"}) == "ACTIVE"


def chunk(chunk_id: str, text: str, kind: str = "literature") -> Chunk:
    return Chunk(chunk_id=chunk_id, text=text, source_id=chunk_id, source_path=f"literature/{chunk_id}.txt",
                 source_kind=kind, title=chunk_id, char_start=0, char_end=len(text), content_hash=chunk_id)


def test_the_lexical_index_finds_chunks_naming_every_identifier_whole() -> None:
    lexical = LexicalIndex.build([
        chunk("a", "Exosomal miR-21 silences PTEN in T98G cells."),
        chunk("b", "Exosomal miR-210 is raised under hypoxia in T98G cells."),
        chunk("c", "miR-21-containing vesicles from HeLa cells.", kind="review"),
    ], generation="g")
    assert lexical.naming_all(["mir-21"]) == {"a", "c"}
    assert lexical.naming_all(["mir-21", "t98g"]) == {"a"}
    assert lexical.naming_all(["mir-21", "gw4869"]) == set()
    assert lexical.naming_all(["mir-21"], mask=lexical.allowed("review", None, None)) == {"c"}
    assert lexical.naming_all([]) == set()


@pytest.mark.parametrize(("text", "short", "words"), [
    ("High flow nasal cannulae (HFNC) are an alternative to CPAP.", "HFNC", "high flow nasal cannulae"),
    ("The risk after robotically assisted laparoscopic prostatectomy (RALP) was lower.", "RALP",
     "robotically assisted laparoscopic prostatectomy"),
    ("Blocking neutral sphingomyelinase-2 (nSMase2) lowers release.", "nSMase2", "neutral sphingomyelinase-2"),
    ("Cells underwent epithelial-mesenchymal transition (EMT, as judged by vimentin).", "EMT",
     "epithelial-mesenchymal transition"),
])
def test_an_abbreviation_defined_in_brackets_stands_for_the_words_before_it(text, short, words):
    assert defined_abbreviations(text)[short] == set(tokenize(words))


@pytest.mark.parametrize("text", [
    "Noise was measured in decibels (10 dB) at the ear.",  # a quantity, no capital
    "Patients were treated (see Table 2).",  # its letters are not the words before it
    "The stents (DES) were placed.",  # "stents" alone does not spell D-E-S
    "Tumours were graded (grade III) by two pathologists.",
    "Exosomes were abundant in the liver (Li, 2019).",  # an author and a year
    "Exosomes promote metastasis (Ma, 2019; Xu, 2020).",
    "Ferrous sulphate is iron(II) sulphate.",  # a bracket inside a word
])
def test_brackets_that_define_no_abbreviation_define_none(text):
    assert defined_abbreviations(text) == {}
