"""`exorag eval` and `exorag judge` end to end on the real bundled index: the main run as a
subprocess, the rest in-process through typer's runner (the model is then loaded once)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evals.metrics import METRIC_NAMES
from exorag.cli import app

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "evals" / "datasets" / "exosome_qa.jsonl"
EXORAG = Path(sys.executable).with_name("exorag")


def exorag(*args: str | Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}
    return subprocess.run([str(EXORAG), *map(str, args)], capture_output=True, text=True, timeout=600, env=env, cwd=ROOT, check=False)


def exorag_in_process(*args: str | Path):
    return CliRunner().invoke(app, [str(arg) for arg in args], env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def index_copy(indexed_settings, tmp_path_factory) -> Path:
    """A copy of the session index, so the baseline's collection is not added to the shared one."""
    target = tmp_path_factory.mktemp("eval-index") / "index"
    shutil.copytree(indexed_settings.index, target)
    return target


@pytest.fixture(scope="module")
def run_both(indexed_settings, index_copy, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("eval-run") / "run"
    result = exorag("eval", "--dataset", QUESTIONS, "--index", index_copy, "--corpus", indexed_settings.corpus,
                    "--out", out, "--limit", "5", "--workers", "2", "--system", "both", "--min", "n=5")
    assert result.returncode == 0, result.stderr + result.stdout
    return out


def test_eval_writes_the_reports_of_exorag_and_the_baseline(run_both):
    for folder in (run_both, run_both / "baseline"):
        assert {"report.json", "report.md", "report.html", "items.jsonl"} <= {p.name for p in folder.iterdir()}
    report = json.loads((run_both / "report.json").read_text())
    assert report["system"] == "exorag" and report["baseline"]["system"] == "baseline"
    assert list(report["metrics"]) == list(METRIC_NAMES) and report["metrics"]["n"] == 5
    first_ids = [json.loads(line)["id"] for line in QUESTIONS.read_text().splitlines()[:5]]
    assert [item["id"] for item in report["items"]] == first_ids
    for item in report["items"]:
        assert item["answer"]["question"] == item["question"]
        assert {"answer", "abstained", "sentences", "evidence", "references", "generator", "timings_ms"} <= set(item["answer"])
    baseline = json.loads((run_both / "baseline" / "report.json").read_text())
    assert all(len(item["answer"]["evidence"]) <= 4 for item in baseline["items"])
    assert 'src="data:image/png;base64,' in (run_both / "report.html").read_text()


def test_compare_prints_improvements_and_regressions(run_both, tmp_path):
    result = exorag("eval", "--compare", run_both, run_both / "baseline")
    assert result.returncode == 0, result.stderr
    assert "improved:" in result.stdout and "regressed:" in result.stdout
    assert "key_fact_recall" in result.stdout
    assert "note:" not in result.stderr  # two systems on one question set, one judge: comparable
    other = json.loads((run_both / "report.json").read_text())
    # The question set is known by its content: the same file by another path is the same set,
    # and a file edited in place is another (its gold changed, so its figures did).
    (tmp_path / "report.json").write_text(json.dumps({**other, "dataset": str(Path(other["dataset"]).resolve())}))
    assert "note:" not in exorag("eval", "--compare", run_both, tmp_path).stderr
    (tmp_path / "report.json").write_text(json.dumps({**other, "dataset_sha256": "0" * 64}))
    noted = exorag("eval", "--compare", run_both, tmp_path)
    assert "note: the runs differ in dataset" in " ".join(noted.stderr.split())


def test_compare_notes_runs_over_other_items_and_refuses_what_is_not_a_report(run_both, tmp_path):
    report = json.loads((run_both / "report.json").read_text())
    (tmp_path / "limited").mkdir()
    (tmp_path / "limited" / "report.json").write_text(json.dumps({**report, "items": report["items"][:3]}))
    noted = exorag_in_process("eval", "--compare", run_both, tmp_path / "limited")
    assert "the runs differ in items: A 5, B 3 (2 only in A, 0 only in B)" in " ".join(noted.stderr.split())
    for name, content in (("binary", b"\xff\xfe{}"), ("text", json.dumps({"metrics": {"ref_recall": "0.9"}}).encode())):
        (tmp_path / name).mkdir()
        (tmp_path / name / "report.json").write_bytes(content)
        refused = exorag_in_process("eval", "--compare", tmp_path / name, run_both)
        assert refused.exit_code == 2 and "not a report" in refused.stderr, refused.output


def test_resume_refuses_the_answers_of_another_system(run_both, index_copy, indexed_settings, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(run_both, run)
    result = exorag_in_process("eval", "--dataset", QUESTIONS, "--index", index_copy, "--corpus", indexed_settings.corpus,
                               "--out", run, "--limit", "5", "--resume", "--system", "baseline")
    assert result.exit_code == 2
    assert "holds answers of system exorag" in " ".join(result.stderr.split())


def test_a_baseline_that_fails_fails_the_run_of_both(index_copy, indexed_settings, tmp_path, monkeypatch):
    import evals.cli

    real_system = evals.cli._system

    def system(name, settings):
        answer = real_system(name, settings)
        if name != "baseline":
            return answer

        def down(question: str):
            if question.startswith("Which"):
                raise RuntimeError("connection refused")
            return answer(question)
        return down

    monkeypatch.setattr(evals.cli, "_system", system)
    result = exorag_in_process("eval", "--dataset", QUESTIONS, "--index", index_copy, "--corpus", indexed_settings.corpus,
                               "--out", tmp_path / "run", "--limit", "4", "--system", "both")
    assert result.exit_code == 1, result.output
    assert "baseline: 1 of 4 items failed" in " ".join(result.stderr.split())


def test_an_out_folder_that_cannot_be_made_is_a_usage_error_before_any_work(index_copy, tmp_path):
    (tmp_path / "file").write_text("")
    result = exorag_in_process("eval", "--dataset", QUESTIONS, "--index", index_copy, "--out", tmp_path / "file" / "run")
    assert result.exit_code == 2
    assert f"--out {tmp_path / 'file' / 'run'}: cannot create the run folder" in " ".join(result.stderr.split())


def test_a_failed_minimum_exits_1_and_names_the_metric(run_both):
    result = exorag("eval", "--compare", run_both / "baseline", run_both, "--min", "ref_recall=1.01", "--max", "latency_ms_p95=1e9")
    assert result.returncode == 1
    assert "ref_recall" in result.stderr and "below the minimum 1.01" in result.stderr


def test_resume_reuses_answered_items_and_the_gate_fails_in_a_run(run_both, index_copy, indexed_settings, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(run_both, run)
    before = (run / "items.jsonl").read_text()
    result = exorag_in_process("eval", "--dataset", QUESTIONS, "--index", index_copy, "--corpus", indexed_settings.corpus,
                               "--out", run, "--limit", "5", "--resume", "--min", "key_fact_recall=1.01")
    assert result.exit_code == 1
    assert "threshold failed: key_fact_recall" in result.stderr
    assert (run / "items.jsonl").read_text() == before  # nothing was answered again


def test_resume_answers_again_an_item_whose_question_changed(run_both, index_copy, indexed_settings, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(run_both, run)
    items = [json.loads(line) for line in QUESTIONS.read_text().splitlines()[:2]]
    items[1]["question"] = "What is the capital of France?"  # the same id, another question
    dataset = tmp_path / "edited.jsonl"
    dataset.write_text("".join(json.dumps({**item, "answerable": i == 0, "gold_refs": item["gold_refs"] if i == 0 else [],
                                           "key_facts": item["key_facts"] if i == 0 else []}) + "\n"
                               for i, item in enumerate(items)))
    result = exorag_in_process("eval", "--dataset", dataset, "--index", index_copy, "--corpus", indexed_settings.corpus,
                               "--out", run, "--resume")
    assert result.exit_code == 0, result.output
    report = json.loads((run / "report.json").read_text())
    assert [item["answer"]["question"] for item in report["items"]] == [items[0]["question"], items[1]["question"]]
    assert report["items"][1]["answer"]["abstained"]


def test_items_that_fail_fail_the_run_and_an_unconfigured_llm_fails_before_it(index_copy, indexed_settings, tmp_path):
    args = ("eval", "--dataset", QUESTIONS, "--index", index_copy, "--corpus", indexed_settings.corpus, "--limit", "2",
            "--generator", "llm", "--min", "n=0")
    unconfigured = exorag_in_process(*args, "--out", tmp_path / "unconfigured")
    assert unconfigured.exit_code == 2 and "EXORAG_LLM_BASE_URL" in unconfigured.stderr
    assert not (tmp_path / "unconfigured" / "items.jsonl").exists()  # nothing was asked
    down = CliRunner().invoke(app, [str(arg) for arg in (*args, "--out", tmp_path / "down")], env={
        "COLUMNS": "200", "EXORAG_LLM_BASE_URL": "http://127.0.0.1:9/v1", "EXORAG_LLM_MODEL": "m"})
    assert down.exit_code == 1, down.output
    assert "2 of 2 items failed, so the metrics cover only the answered ones" in down.stderr


def test_a_bad_dataset_is_a_usage_error_naming_line_and_field(tmp_path, index_copy):
    dataset = tmp_path / "bad.jsonl"
    dataset.write_text('{"id": "q1", "question": "x", "answerable": true}\n{"id": "q2", "question": "y"}\n')
    result = exorag_in_process("eval", "--dataset", dataset, "--index", index_copy, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "line 2" in result.stderr and "answerable" in result.stderr


def test_judge_command_scores_pairs_of_ones_own(tmp_path):
    evidence = "Exosomal miR-21 inhibits PTEN and is enriched in tumour exosomes."
    pairs = [
        {"claim": "Exosomal miR-21 inhibits PTEN.", "evidence": evidence, "label": True},
        {"claim": "Exosomal miR-210 inhibits PTEN.", "evidence": evidence, "label": False, "error_type": "entity_swap"},
    ]
    dataset = tmp_path / "pairs.jsonl"
    dataset.write_text("\n".join(json.dumps(pair) for pair in pairs) + "\n")
    result = exorag_in_process("judge", "--dataset", dataset, "--judge", "rules", "--json")
    assert result.exit_code == 0, result.output
    scored = json.loads(result.stdout)
    assert scored["judge"] == "rules" and scored["overall"]["n"] == 2 and scored["overall"]["accuracy"] == 1.0
    assert [item["predicted"] for item in scored["items"]] == [True, False]
    table = exorag_in_process("judge", "--dataset", dataset, "--judge", "rules")
    assert table.exit_code == 0 and "entity_swap" in table.stdout and "accuracy" in table.stdout


def test_gold_nobody_cites_is_warned_of_and_answers_from_before_a_changed_corpus_are_not_resumed(indexed_settings, tmp_path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(indexed_settings.corpus, corpus)
    shutil.copytree(indexed_settings.index, index)
    dataset = tmp_path / "set.jsonl"
    dataset.write_text(
        json.dumps({"id": "t1", "question": "How do tumour exosomes blunt T cells?", "answerable": True,
                    "gold_refs": [170, 9999], "key_facts": [["PD-L1"]], "topic": "immune"}) + "\n", encoding="utf-8")
    first = exorag("eval", "--dataset", dataset, "--corpus", corpus, "--index", index, "--out", tmp_path / "run")
    assert first.returncode == 0, first.stderr
    # A typo in a hand-written gold reads as a retrieval miss unless it is named.
    assert "1 item(s) expect reference numbers that no indexed passage cites" in " ".join(first.stderr.split())
    assert "t1: 9999" in first.stderr
    # An ingest that changed nothing keeps the answers; one that changed the corpus does not.
    assert exorag("ingest", "--corpus", corpus, "--index", index).returncode == 0
    same = exorag("eval", "--dataset", dataset, "--corpus", corpus, "--index", index, "--out", tmp_path / "run", "--resume")
    assert same.returncode == 0, same.stderr
    review = corpus / "review" / "review-analysis.txt"
    review.write_text(review.read_text(encoding="utf-8").replace("1% O2", "2% O2"), encoding="utf-8")
    assert exorag("ingest", "--corpus", corpus, "--index", index).returncode == 0
    stale = exorag("eval", "--dataset", dataset, "--corpus", corpus, "--index", index, "--out", tmp_path / "run", "--resume")
    assert stale.returncode == 2 and "holds answers of" in " ".join(stale.stderr.split())
