"""Bad input to `exorag ingest`: each bad file or reference line is one failure naming it and the
reason, every good file still goes in, the exit code is 1, and a file that turns bad keeps its chunks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pdf_factory import (
    make_encrypted_pdf,
    make_image_only_pdf,
    make_pdf,
    make_truncated_pdf,
)
from typer.testing import CliRunner

from exorag.cli import app
from exorag.config import Settings, get_settings
from exorag.ingest.sync import sync_corpus
from exorag.references import load_references
from exorag.store.chroma import VectorStore
from exorag.store.stats import index_stats

EXORAG = Path(sys.executable).with_name("exorag")
MAX_FILE_MB = "0.02"  # 20 kB: every good file is smaller, the "large" one is not

GOOD = {
    "review/review.md": "# Immune evasion\n\nExosomal PD-L1 binds PD-1 on T cells and blunts them [170-172].\n",
    "literature/0058-li2020.txt": "Hypoxic HCC cells secrete exosomes rich in miR-1273f, which drive proliferation.\n",
    "literature/0170_poggio2019.pdf": None,  # written with make_pdf
    "literature/notes.html": "<html><head><title>Notes</title></head><body><p>Exosomes were pelleted.</p></body></html>",
}

# path -> words the failure's reason must contain
BAD = {
    "literature/0007_locked.pdf": "encrypted",
    "literature/0008_cut.pdf": "truncated",
    "literature/0009_empty.pdf": "empty",
    "literature/0113 [suppl] scan.pdf": "no text layer",
    "literature/0010_data.txt": "binary",
    "literature/0011_gone.txt": "cannot read",
    "literature/0012_large.txt": "EXORAG_MAX_FILE_MB",
}

REFERENCES = (
    "\n".join(
        [
            json.dumps({"number": 58, "citation": "Li X, et al. 2020"}),
            '{"number": 59, "citation": "broken',
            json.dumps({"citation": "A reference without its number"}),
            json.dumps(
                {
                    "number": 170,
                    "citation": "Poggio M, et al. Cell 2019",
                    "doi": "10.1016/j.cell.2019.02.016",
                }
            ),
        ]
    )
    + "\n"
)
REFERENCE_FAILURES = {"line 2": "not valid JSON", "line 3": "number"}


def write_good_files(corpus: Path) -> None:
    for relative, text in GOOD.items():
        path = corpus / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if text is None:
            make_pdf(
                path,
                [
                    [
                        "# Exosomal PD-L1",
                        "Exosomal PD-L1 suppresses T cells in the circulation.",
                    ]
                ],
                title="Poggio 2019",
            )
        else:
            path.write_text(text, encoding="utf-8")


def write_bad_files(corpus: Path) -> None:
    literature = corpus / "literature"
    make_encrypted_pdf(literature / "0007_locked.pdf")
    make_truncated_pdf(literature / "0008_cut.pdf")
    (literature / "0009_empty.pdf").write_bytes(b"")
    make_image_only_pdf(literature / "0113 [suppl] scan.pdf")
    (literature / "0010_data.txt").write_bytes(bytes(range(256)) * 8)
    # tests run as root, which reads any file whatever its mode: a link whose target is gone is
    # a file that honestly cannot be read
    (literature / "0011_gone.txt").symlink_to(literature / "deleted-target.txt")
    (literature / "0012_large.txt").write_text("Exosomes carry cargo between cells. " * 1000, encoding="utf-8")
    (corpus / "references.jsonl").write_text(REFERENCES, encoding="utf-8")


@pytest.fixture
def bad_corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("EXORAG_MAX_FILE_MB", MAX_FILE_MB)
    corpus = tmp_path / "corpus"
    write_good_files(corpus)
    write_bad_files(corpus)
    assert all((corpus / p).stat().st_size < float(MAX_FILE_MB) * 1e6 for p in GOOD)
    return get_settings(corpus=corpus, index=tmp_path / "index")


def assert_one_failure_each(failed: list[dict[str, str]]) -> None:
    assert all(set(failure) == {"path", "error"} for failure in failed)
    file_failures = {f["path"]: f["error"] for f in failed if f["path"] != "references.jsonl"}
    assert len(file_failures) == len([f for f in failed if f["path"] != "references.jsonl"]), failed
    assert set(file_failures) == set(BAD)
    for path, words in BAD.items():
        assert words in file_failures[path], (path, file_failures[path])
    reference_errors = [f["error"] for f in failed if f["path"] == "references.jsonl"]
    assert len(reference_errors) == len(REFERENCE_FAILURES), reference_errors
    for line, words in REFERENCE_FAILURES.items():
        assert any(error.startswith(line + ":") and words in error for error in reference_errors), reference_errors


def test_ingest_json_reports_each_bad_input_and_ingests_the_rest(
    bad_corpus: Settings,
) -> None:
    result = subprocess.run(
        [
            str(EXORAG),
            "ingest",
            "--corpus",
            str(bad_corpus.corpus),
            "--index",
            str(bad_corpus.index),
            "--json",
        ],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "EXORAG_MAX_FILE_MB": MAX_FILE_MB},
        timeout=300,
    )
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert_one_failure_each(report["failed"])
    assert report["files"] == len(GOOD)
    assert report["added"] == report["chunks"] > 0
    sources = {source["path"] for source in index_stats(bad_corpus)["sources"]}
    assert sources == set(GOOD)


def test_ingest_prints_one_clear_line_per_failure(bad_corpus: Settings) -> None:
    result = CliRunner().invoke(
        app,
        [
            "ingest",
            "--corpus",
            str(bad_corpus.corpus),
            "--index",
            str(bad_corpus.index),
        ],
    )
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    for path, words in BAD.items():
        (line,) = [line for line in lines if path in line]
        assert words in line
    for number, words in REFERENCE_FAILURES.items():
        (line,) = [line for line in lines if f"references.jsonl: {number}:" in line]
        assert words in line
    assert len(lines) == len(BAD) + len(REFERENCE_FAILURES), lines
    assert f"{len(GOOD)} files" in result.stdout and f"{len(BAD) + len(REFERENCE_FAILURES)} failed" in result.stdout


def test_file_that_turns_bad_keeps_its_chunks(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write_good_files(corpus)
    settings = get_settings(corpus=corpus, index=tmp_path / "index")
    assert sync_corpus(settings).failed == []
    store = VectorStore(settings)

    def chunks_of(path: str) -> set[str]:
        return {chunk.chunk_id for chunk in store.all_chunks() if chunk.source_path == path}

    kept = {path: chunks_of(path) for path in ("literature/0170_poggio2019.pdf", "literature/0058-li2020.txt")}
    assert all(kept.values())
    make_truncated_pdf(corpus / "literature" / "0170_poggio2019.pdf")  # a download overwrote it, cut short
    (corpus / "literature" / "0058-li2020.txt").unlink()
    (corpus / "literature" / "0058-li2020.txt").symlink_to(corpus / "moved-away.txt")

    report = sync_corpus(settings)
    assert {f["path"] for f in report.failed} == set(kept)
    assert report.removed == 0 and report.added == 0
    assert {path: chunks_of(path) for path in kept} == kept
    # A re-embed builds a new collection: the files that fail keep their chunks there too.
    report = sync_corpus(settings, reembed=True)
    assert {f["path"] for f in report.failed} == set(kept) and report.unchanged == 0
    store = VectorStore(settings)
    assert {path: chunks_of(path) for path in kept} == kept


def test_reference_list_saved_with_a_byte_order_mark_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "references.jsonl"
    path.write_bytes(
        b"\xef\xbb\xbf" + REFERENCES.split("\n", 1)[0].encode() + b"\n" + REFERENCES.rsplit("\n", 2)[1].encode()
    )
    references, problems = load_references(path)
    assert problems == []
    assert sorted(references) == [58, 170] and references[170].doi == "10.1016/j.cell.2019.02.016"


READING_COMMANDS = [["api", "--port", "1"], ["mcp", "--http", "--port", "1"], ["ask", "How do tumour exosomes blunt T cells?"],
                    ["stats"], ["eval", "--dataset", str(Path(__file__).resolve().parent.parent / "evals/datasets/exosome_qa.jsonl")],
                    ["judge", "train"]]


@pytest.mark.parametrize("command", READING_COMMANDS)
def test_a_command_given_a_mistyped_index_refuses_and_creates_nothing(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "idnex"
    result = CliRunner().invoke(app, [*command, "--index", str(missing)])
    assert result.exit_code == 2
    assert f"no index at {missing}" in " ".join(result.output.split()) and not missing.exists()


@pytest.mark.parametrize("command", READING_COMMANDS)
def test_a_command_given_an_index_folder_with_nothing_ingested_refuses(tmp_path: Path, command: list[str]) -> None:
    # A fresh clone's index/ holds only the embedder's export: answering from it would abstain on everything.
    (tmp_path / "index" / "embedder").mkdir(parents=True)
    result = CliRunner().invoke(app, [*command, "--index", str(tmp_path / "index")])
    assert result.exit_code == 2
    assert "nothing has been ingested there" in " ".join(result.output.split())
    assert sorted(p.name for p in (tmp_path / "index").iterdir()) == ["embedder"]


def test_a_pipeline_is_kept_per_judge(indexed_settings: Settings) -> None:
    # A process that answers with one judge and is then asked to use another gets the other.
    from exorag.chain import answer
    from exorag.judge import JudgeError

    assert not answer("How do tumour exosomes blunt T cells?", settings=indexed_settings).abstained
    with pytest.raises(JudgeError, match="no learned judge here"):
        answer("How do tumour exosomes blunt T cells?", settings=indexed_settings.model_copy(update={"judge": "learned"}))


def test_a_judge_that_cannot_load_is_a_clear_error_of_ask(indexed_settings: Settings) -> None:
    # A process of its own: this one may hold the index's pipeline, built with another judge.
    completed = subprocess.run(
        [sys.executable, "-m", "exorag.cli", "ask", "How do tumour exosomes blunt T cells?", "--index",
         str(indexed_settings.index), "--corpus", str(indexed_settings.corpus)],
        capture_output=True, text=True, timeout=300, check=False, env={**os.environ, "EXORAG_JUDGE": "learned"})
    assert completed.returncode == 2, completed.stdout[-2000:] + completed.stderr[-2000:]
    assert "no learned judge here; run `exorag judge train` first" in " ".join(completed.stderr.split())
    assert "Traceback" not in completed.stderr



@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port something already listens on: a server that wrongly starts there fails instead of running on."""
    with socket.socket() as listener:
        listener.bind(("0.0.0.0", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.mark.parametrize("command", [["api"], ["mcp", "--http"], ["serve"]])
def test_a_server_asked_to_serve_other_machines_unguarded_refuses_to_start(
    tmp_path: Path, command: list[str], monkeypatch: pytest.MonkeyPatch, busy_port: int
) -> None:
    monkeypatch.delenv("EXORAG_API_TOKEN", raising=False)
    monkeypatch.delenv("EXORAG_UI_AUTH", raising=False)
    result = CliRunner().invoke(
        app, [*command, "--host", "0.0.0.0", "--index", str(tmp_path / "index"), "--port", str(busy_port)]
    )
    assert result.exit_code == 2
    assert "--host 0.0.0.0 serves other machines" in " ".join(result.output.split())


def test_the_api_with_a_token_may_serve_other_machines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXORAG_API_TOKEN", "s3cret")
    missing = tmp_path / "index"
    result = CliRunner().invoke(app, ["api", "--host", "0.0.0.0", "--index", str(missing), "--port", "1"])
    # Past the host check, it stops at the next one: the index it was given does not exist.
    assert result.exit_code == 2 and "serves other machines" not in result.output
    assert f"no index at {missing}" in " ".join(result.output.split())


def test_the_pubmedqa_harness_refuses_a_folder_holding_a_corpus_and_names_a_malformed_item(tmp_path: Path) -> None:
    items = {"1001": {"QUESTION": "Does drug X reduce mortality in sepsis?", "CONTEXTS": ["Drug X reduced mortality."]},
             "1002": {"QUESTION": "Is Y linked to Z?", "CONTEXTS": ["Y was linked to Z in 40 patients."]}}
    data = tmp_path / "items.json"
    data.write_text(json.dumps(items), encoding="utf-8")
    project = tmp_path / "project"
    notes = project / "corpus" / "literature" / "58_li2020.txt"
    notes.parent.mkdir(parents=True)
    notes.write_text("My notes on paper 58.", encoding="utf-8")
    result = CliRunner().invoke(app, ["pubmedqa", "--data", str(data), "--out", str(project)])
    assert result.exit_code == 2 and "literature/58_li2020.txt" in " ".join(result.output.split())
    assert notes.read_text(encoding="utf-8") == "My notes on paper 58." and not (project / "index").exists()
    for field, broken, error in (("QUESTION", None, "item 1001: QUESTION must be a non-empty string"),
                                 ("CONTEXTS", "Drug X reduced mortality.", "item 1001: CONTEXTS must be a list of strings"),
                                 ("LABELS", "RESULTS", "item 1001: LABELS must be a list of strings"),
                                 ("LABELS", ["BACKGROUND", "RESULTS"], "item 1001: LABELS must be a list of strings")):
        data.write_text(json.dumps({**items, "1001": {**items["1001"], field: broken}}), encoding="utf-8")
        result = CliRunner().invoke(app, ["pubmedqa", "--data", str(data), "--out", str(tmp_path / "fresh")])
        assert result.exit_code == 2 and error in " ".join(result.output.split())
        assert not (tmp_path / "fresh").exists()


@pytest.mark.parametrize("args", [["judge", "speed", "--repeats", "0"], ["judge", "train", "--max-pairs", "-100"],
                                  ["ask", "How do tumour exosomes blunt T cells?", "--k", "0"]])
def test_a_count_below_one_is_a_usage_error_naming_the_option(args: list[str], tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [*args, "--index", str(tmp_path / "index")])
    assert result.exit_code == 2
    assert "greater than or equal to 1" in " ".join(result.output.replace("│", " ").split())


def test_a_file_given_for_a_folder_or_a_folder_for_a_file_is_a_usage_error(tmp_path: Path) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine", encoding="utf-8")
    for args in (["eval", "--dataset", str(a_file), "--out", str(a_file)], ["eval", "--dataset", str(tmp_path)],
                 ["judge", "--dataset", str(tmp_path)], ["feedback", "export", "--out", str(tmp_path)]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        said = " ".join(result.output.replace("│", " ").split())
        assert "is a file" in said or "is a directory" in said or "a folder, not a JSON Lines file" in said, (args, said)
    assert a_file.read_text(encoding="utf-8") == "mine"


def test_feedback_export_reads_the_feedback_database_wherever_it_is_and_creates_none(tmp_path: Path) -> None:
    from exorag.feedback import FeedbackStore
    from exorag.models import Answer

    database = tmp_path / "elsewhere" / "feedback.sqlite3"
    database.parent.mkdir()
    FeedbackStore(database).add("How do exosomes blunt T cells?", Answer(question="q", answer="a"), rating=1, channel="slack")
    (tmp_path / "index" / "embedder").mkdir(parents=True)  # nothing ingested: the export needs no index
    out = tmp_path / "feedback.jsonl"
    result = CliRunner().invoke(app, ["feedback", "export", "--index", str(tmp_path / "index"), "--out", str(out)],
                                env={"EXORAG_FEEDBACK_DB": str(database)})
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["rating"] for line in out.read_text().splitlines()] == [1]
    missing = tmp_path / "idnex"
    refused = CliRunner().invoke(app, ["feedback", "export", "--index", str(missing), "--out", str(out)])
    assert refused.exit_code == 2 and f"no feedback at {missing}" in " ".join(refused.output.split())
    assert not missing.exists()


def test_an_install_without_the_disk_space_it_needs_stops_before_pip_and_says_where_and_how_much() -> None:
    root = Path(__file__).resolve().parents[1]
    short = subprocess.run(["make", "--no-print-directory", "-C", str(root), "disk-space", "NEED_MB=999999999"],
                           check=False, capture_output=True, text=True, timeout=60)
    assert short.returncode != 0
    assert "Not enough disk space to install exorag" in short.stdout and "999999999 MB needed" in short.stdout
    assert f"{root}/.venv" in short.stdout
    enough = subprocess.run(["make", "--no-print-directory", "-C", str(root), "disk-space", "NEED_MB=1"],
                            check=False, capture_output=True, text=True, timeout=60)
    assert enough.returncode == 0 and not enough.stdout
