"""One settings tree: every documented variable reaches its field, the sections included."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from exorag.config import Settings, get_settings, usable_cores

VARIABLES = {
    "EXORAG_INDEX": "/data/index",
    "EXORAG_LLM_BASE_URL": "http://127.0.0.1:9/v1",
    "EXORAG_NLI_MODEL": "/models/nli",
    "EXORAG_UI_AUTH": "scientist:s3cret",
    "EXORAG_CONTACT_EMAIL": "lab@example.org",
    "EXORAG_FETCH_RATE": "2.5",
    "SLACK_BOT_TOKEN": "xoxb-1",
    "EXORAG_SLACK_ALLOWED_CHANNELS": "C1,C2",
}


def test_every_section_reads_its_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in VARIABLES.items():
        monkeypatch.setenv(name, value)

    settings = get_settings(corpus=Path("papers"))

    assert settings.corpus == Path("papers") and settings.index == Path("/data/index")
    assert settings.llm_configured
    assert settings.nli_model == Path("/models/nli")
    assert settings.ui_auth.get_secret_value() == "scientist:s3cret"
    assert settings.literature.contact_email == "lab@example.org" and settings.literature.fetch_rate == 2.5
    assert settings.slack.bot_token.get_secret_value() == "xoxb-1"
    assert settings.slack.allowed_channels == {"C1", "C2"}
    assert "xoxb-1" not in repr(settings) and "s3cret" not in repr(settings)


def test_defaults_without_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("EXORAG_LLM_GGUF", raising=False)

    settings = Settings()

    assert not settings.llm_configured and settings.nli_model is None and settings.ui_auth is None
    assert settings.literature.contact_email is None and settings.slack.bot_token is None
    assert settings.embedder == "onnx"
    assert settings.embedder_threads == settings.llm_threads == usable_cores()


def test_usable_cores_are_capped_by_a_containers_cpu_quota(tmp_path: Path) -> None:
    cpu_max = tmp_path / "cpu.max"
    on_this_machine = usable_cores(tmp_path / "absent")
    assert on_this_machine == len(os.sched_getaffinity(0))
    cpu_max.write_text("max 100000\n")
    assert usable_cores(cpu_max) == on_this_machine
    cpu_max.write_text("50000 100000\n")  # half a core still runs one thread
    assert usable_cores(cpu_max) == 1
    cpu_max.write_text(f"{(on_this_machine + 8) * 100000} 100000\n")  # a quota above the cores changes nothing
    assert usable_cores(cpu_max) == on_this_machine


def test_a_malformed_setting_is_named_by_every_command_without_a_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "EXORAG_FETCH_RATE": "0", "EXORAG_INDEX": str(tmp_path / "index")}
    completed = subprocess.run([sys.executable, "-m", "exorag.cli", "stats"], capture_output=True, text=True,
                               env=env, check=False, timeout=120)
    assert completed.returncode == 2
    assert "fetch_rate" in completed.stderr and "greater than 0" in completed.stderr
    assert "Traceback" not in completed.stderr


@pytest.mark.parametrize(("variable", "value", "said"), [
    ("EXORAG_MIN_RELEVANCE", "nan", "finite number"),  # every comparison with nan is false: the gate was off
    ("EXORAG_MIN_RELEVANCE", "63", "less than or equal to 1"),  # a percentage typed for a fraction
    ("EXORAG_K", "0", "greater than or equal to 1"),
    ("EXORAG_MAX_FILE_MB", "inf", "finite number"),
    ("EXORAG_CHUNK_WORDS", "-5", "greater than or equal to 1"),
    ("EXORAG_COLLECTION", "ab", "should match pattern"),
    ("EXORAG_CHROMA_URL", "dbhost:9000", "not an http(s) URL with a host"),  # had read a server on 127.0.0.1:8000
])
def test_a_setting_out_of_its_range_is_named_before_anything_runs(tmp_path: Path, variable: str, value: str,
                                                                  said: str) -> None:
    env = {**os.environ, variable: value}
    completed = subprocess.run([sys.executable, "-m", "exorag.cli", "ingest", "--corpus", str(tmp_path / "corpus"),
                                "--index", str(tmp_path / "index")], capture_output=True, text=True, env=env,
                               check=False, timeout=120)
    assert completed.returncode == 2, completed.stderr[-1500:]
    message = " ".join(completed.stderr.split())
    assert variable.removeprefix("EXORAG_").lower() in message and said in message and "Traceback" not in message
    assert not (tmp_path / "index").exists()


def test_a_missing_embedding_model_folder_is_named_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "corpus" / "review").mkdir(parents=True)
    (tmp_path / "corpus" / "review" / "r.md").write_text("# A\n\nExosomes carry PD-L1 [1].\n", encoding="utf-8")
    env = {**os.environ, "EXORAG_EMBEDDING_MODEL": str(tmp_path / "no-model")}
    for args in (["ingest", "--corpus", str(tmp_path / "corpus")], ["stats"], ["ask", "What do exosomes carry?"]):
        completed = subprocess.run([sys.executable, "-m", "exorag.cli", *args, "--index", str(tmp_path / "index")],
                                   capture_output=True, text=True, env=env, check=False, timeout=120)
        assert completed.returncode == 2, (args, completed.stderr[-1500:])
        assert f"EXORAG_EMBEDDING_MODEL={tmp_path / 'no-model'}: no such model folder" in " ".join(completed.stderr.split())
        assert "Traceback" not in completed.stderr
