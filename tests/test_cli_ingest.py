"""`exorag ingest` and `exorag stats` as DESIGN.md's command-line section says."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from exorag.citations import cited_numbers
from exorag.cli import app
from exorag.config import get_settings
from exorag.ingest.sync import chunk_sources, sync_corpus

EXORAG = Path(sys.executable).with_name("exorag")
REVIEW = Path(__file__).resolve().parents[1] / "corpus" / "review" / "review-analysis.txt"
INGEST_KEYS = {"files", "chunks", "added", "unchanged", "removed", "failed", "suspect"}


def run(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(EXORAG), *arguments],
        check=False,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def make_corpus(folder: Path) -> Path:
    (folder / "review").mkdir(parents=True)
    (folder / "literature").mkdir()
    (folder / "review" / "review-analysis.txt").write_text(REVIEW.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "literature" / "0058-li2020.txt").write_text(
        "Hypoxic HCC cells secrete exosomes rich in miR-1273f, which activate Wnt signalling.\n",
        encoding="utf-8",
    )
    return folder


def run_on_a_terminal(*arguments: str, cwd: Path) -> tuple[int, str]:
    """Run exorag with a pseudo-terminal as its stdout and stderr: its exit code and what it showed."""
    leader, follower = pty.openpty()
    process = subprocess.Popen([str(EXORAG), *arguments], stdout=follower, stderr=follower, cwd=cwd)
    os.close(follower)
    shown = b""
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not data:
            break
        shown += data
    os.close(leader)
    return process.wait(timeout=300), re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown.decode("utf-8", "replace"))


def test_ingest_twice_then_stats_print_what_design_says(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    # the default folders corpus/ and index/ are relative to where exorag runs
    code, shown = run_on_a_terminal("ingest", cwd=tmp_path)
    assert code == 0, shown
    assert "reading" in shown and "embedding" in shown and "100%" in shown  # the progress bars
    summary = re.search(r"2 files, (\d+) chunks: (\d+) added, 0 unchanged, 0 removed, 0 failed", shown)
    assert summary and summary.group(1) == summary.group(2), shown
    chunks = int(summary.group(1))
    assert (tmp_path / "index").is_dir()

    again = run("ingest", "--json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)  # stdout is exactly one JSON object
    assert report == {"files": 2, "chunks": chunks, "added": 0, "unchanged": chunks, "removed": 0, "failed": [],
                      "suspect": []}
    assert set(report) == INGEST_KEYS

    stats = CliRunner().invoke(app, ["stats", "--index", str(tmp_path / "index"), "--json"])
    assert stats.exit_code == 0, stats.output
    numbers = json.loads(stats.stdout)
    assert {"sources", "chunks", "reference_numbers", "size_mb"} <= set(numbers)
    produced, _ = chunk_sources(get_settings(corpus=corpus, index=tmp_path / "index"))
    assert {s["path"]: s["chunks"] for s in numbers["sources"]} == {path: len(c) for path, c in produced.items()}
    assert {s["path"]: s["kind"] for s in numbers["sources"]} == {
        "review/review-analysis.txt": "review",
        "literature/0058-li2020.txt": "literature",
    }
    assert numbers["chunks"] == chunks
    # the review's cited numbers and the paper's own number
    assert numbers["reference_numbers"] == len(cited_numbers(REVIEW.read_text(encoding="utf-8")) | {58})
    assert numbers["size_mb"] > 0

    text_stats = CliRunner().invoke(app, ["stats", "--index", str(tmp_path / "index")])
    assert text_stats.exit_code == 0
    assert "review/review-analysis.txt" in text_stats.stdout and "literature/0058-li2020.txt" in text_stats.stdout


def test_stats_prints_file_names_with_brackets_as_they_are(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    (corpus / "literature" / "171_[bold]luga.txt").write_text("Exosomes carry integrins.\n", encoding="utf-8")
    (corpus / "literature" / "batch[").mkdir()
    (corpus / "literature" / "batch[" / "]170_poggio.txt").write_text("Exosomal PD-L1 binds PD-1.\n", encoding="utf-8")
    settings = get_settings(corpus=corpus, index=tmp_path / "index")
    sync_corpus(settings)
    result = CliRunner().invoke(app, ["stats", "--index", str(settings.index)])
    assert result.exit_code == 0, result.output
    assert "literature/171_[bold]luga.txt" in result.stdout and "literature/batch[/]170_poggio.txt" in result.stdout


def test_missing_corpus_folder_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-corpus"
    result = CliRunner().invoke(
        app,
        [
            "ingest",
            "--corpus",
            str(missing),
            "--index",
            str(tmp_path / "index"),
            "--json",
        ],
    )
    assert result.exit_code == 2
    assert str(missing) in result.stderr and "not found" in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "index").exists()


def test_a_folder_without_sources_is_refused_and_the_index_kept(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "review").mkdir(parents=True)
    (corpus / "review" / "r.txt").write_text("Exosomal PD-L1 binds PD-1 on T cells [170].\n", encoding="utf-8")
    index = ["--index", str(tmp_path / "index"), "--json"]
    assert CliRunner().invoke(app, ["ingest", "--corpus", str(corpus), *index]).exit_code == 0
    wrong = tmp_path / "downloads"
    wrong.mkdir()
    result = CliRunner().invoke(app, ["ingest", "--corpus", str(wrong), *index])
    assert result.exit_code == 2 and "no files in review/ or literature/" in result.stderr
    stats = json.loads(CliRunner().invoke(app, ["stats", *index]).stdout)
    assert stats["chunks"] == 1


def test_unknown_option_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["ingest", "--corpus", str(tmp_path), "--bogus"])
    assert result.exit_code == 2
