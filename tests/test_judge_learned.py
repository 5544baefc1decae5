"""The learned judge: trained inside the suite on pairs from a generated corpus, it beats the rule
judge on pairs from documents it never saw, and plugs into ``get_judge`` beside the index."""

from __future__ import annotations

import random

import pytest

from evals.calibrate import calibrate
from evals.dataset import JudgePair
from exorag.config import get_settings
from exorag.judge import get_judge
from exorag.judge.learned import LearnedJudge, build_judge, judge_folder, train_judge
from exorag.judge.rules import RulesJudge
from exorag.judge.synthetic import generate_pairs

GENES = ["KRAS", "NRAS", "BRAF", "TP53", "PTEN", "MYC", "EGFR", "ERBB2", "CDK4", "STAT3", "SMAD4", "NOTCH1",
         "LGALS3", "ITGB1", "YAP1", "CXCR4", "VEGFA", "SOX2", "TWIST1", "SNAI1", "ZEB1", "MMP9", "CD44", "HIF1A"]
LINES = ["A549", "H1299", "MCF7", "HeLa", "HCT116", "PC3", "U87", "SW480", "HepG2", "T47D"]
CELLS = ["fibroblasts", "macrophages", "endothelial cells", "T cells", "neutrophils", "adipocytes"]
PROCESSES = ["colony formation", "migration", "invasion", "glucose uptake", "apoptosis", "proliferation"]
CLASSES = ["kinase", "receptor", "transcription factor", "GTPase", "ligand", "phosphatase"]
TEMPLATES = [
    "Knockdown of {g1} reduced {p} by {n}% in {line} cells.",
    "Secreted {g1} binds {g2} on {c} and activates {g3} signalling.",
    "{g1} is a {k} that phosphorylates {g2} in {line} cells.",
    "Treatment with the inhibitor increased {g1} expression {m}-fold after {h} hours.",
    "In {line} cells, {g1} promotes {p} through {g2}.",
    "Loss of {g1} did not change {p} in {c}.",
    "{g1} levels were higher in {c} than in {line} cells.",
]


def corpus(seed: int, documents: int) -> list[str]:
    """Documents of templated findings about random genes, cell lines and numbers."""
    rng = random.Random(seed)
    texts = []
    for _ in range(documents):
        sentences = []
        for template in rng.sample(TEMPLATES, 5):
            g1, g2, g3 = rng.sample(GENES, 3)
            sentences.append(template.format(g1=g1, g2=g2, g3=g3, line=rng.choice(LINES), c=rng.choice(CELLS),
                                             p=rng.choice(PROCESSES), k=rng.choice(CLASSES), n=rng.randint(2, 9) * 10,
                                             m=rng.randint(2, 9), h=rng.choice([6, 12, 24, 48])))
        texts.append(" ".join(sentences))
    return texts


def as_judge_pairs(pairs) -> list[JudgePair]:
    return [JudgePair(claim=p.claim, evidence=p.evidence, label=p.label == "supported", error_type=p.kind) for p in pairs]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("index") / "judge"
    pairs = generate_pairs(corpus(seed=1, documents=24), seed=1, per_sentence=2)[:360]
    report = train_judge(pairs, folder)
    assert report.pairs == len(pairs) and (folder / "judge.json").is_file()
    return folder


def test_the_learned_judge_beats_the_rule_judge_on_pairs_it_did_not_train_on(trained):
    unseen = as_judge_pairs(generate_pairs(corpus(seed=2, documents=8), seed=9, per_sentence=3))
    learned = calibrate(unseen, LearnedJudge(trained))
    rules = calibrate(unseen, RulesJudge())
    assert learned.overall.n == rules.overall.n > 80
    assert learned.overall.accuracy > rules.overall.accuracy, (learned.to_markdown(), rules.to_markdown())
    assert learned.overall.accuracy >= 0.8


def test_the_learned_judge_gives_a_verdict_and_the_evidence_sentence(trained):
    judge = LearnedJudge(trained)
    passages = ["Tumours grew slowly. Knockdown of SMAD4 reduced migration by 40% in PC3 cells. Nothing else changed.",
                "Secreted MYC binds CD44 on macrophages and activates STAT3 signalling."]
    result = judge.judge("Knockdown of SMAD4 reduced migration by 40% in PC3 cells.", passages)
    assert result.verdict == "supported" and result.passage == 0
    assert result.evidence == "Knockdown of SMAD4 reduced migration by 40% in PC3 cells."
    assert judge.judge("Knockdown of SMAD4 reduced migration by 90% in PC3 cells.", passages).verdict != "supported"


def test_auto_picks_the_learned_judge_beside_the_index_and_rules_without_one(trained, tmp_path):
    assert get_judge("auto", get_settings(index=trained.parent)).name == "learned"
    assert judge_folder(get_settings(index=trained.parent)) == trained
    assert get_judge("auto", get_settings(index=tmp_path)).name == "rules"


def test_a_training_interrupted_halfway_leaves_the_judge_there_was(tmp_path, monkeypatch):
    settings = get_settings(index=tmp_path / "index", corpus=tmp_path / "corpus")
    texts = corpus(seed=3, documents=6)
    tune = [(pair.claim, [pair.evidence], pair.label == "supported") for pair in generate_pairs(texts, seed=4)[:40]]
    first = build_judge(settings, texts, max_pairs=200, tune=tune)
    saved = (judge_folder(settings) / "judge.json").read_text()
    assert first.folder == str(judge_folder(settings)) and '"threshold"' in saved

    def interrupted(*args: object) -> None:  # Ctrl-C while the new judge's threshold is tuned
        raise KeyboardInterrupt

    monkeypatch.setattr(LearnedJudge, "judge_many", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_judge(settings, texts, max_pairs=200, tune=tune)
    assert (judge_folder(settings) / "judge.json").read_text() == saved
