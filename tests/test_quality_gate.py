"""The CI gate: the bundled question set must keep the quality the answers issue reached.

A regression in retrieval, generation, abstention or verification fails `make test` here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT

MINIMUMS = {
    "retrieval_recall@5": 0.95,
    "ref_recall": 0.93,
    "ref_precision": 0.90,
    "key_fact_recall": 0.90,
    "faithfulness": 0.99,
    "citation_recall": 0.99,
    "citation_precision": 0.99,
    "abstention_accuracy": 0.90,
}
MAXIMUMS = {"false_abstention_rate": 0.05}


def test_bundled_question_set_meets_the_quality_bar(indexed_settings, tmp_path):
    command = [sys.executable, "-m", "exorag.cli", "eval", "--dataset", str(ROOT / "evals/datasets/exosome_qa.jsonl"),
               "--index", str(indexed_settings.index), "--out", str(tmp_path / "run")]
    command += [arg for name, value in MINIMUMS.items() for arg in ("--min", f"{name}={value}")]
    command += [arg for name, value in MAXIMUMS.items() for arg in ("--max", f"{name}={value}")]
    completed = subprocess.run(command, check=False, capture_output=True, text=True, timeout=1200,
                               env={**os.environ, "EXORAG_CORPUS": str(indexed_settings.corpus)})
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    metrics = json.loads((tmp_path / "run" / "report.json").read_text())["metrics"]
    assert metrics["n"] == sum(1 for line in (ROOT / "evals/datasets/exosome_qa.jsonl").open() if line.strip())
