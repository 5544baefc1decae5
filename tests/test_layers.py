"""The library (exorag) imports neither the views (ui) nor the evaluation suite (evals), except the
command line, exorag.cli: the import-linter contract in pyproject.toml."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    # PYTHONPATH makes import-linter read this tree, not an installed copy of exorag.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tree), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=tree, env=env,
                          capture_output=True, text=True, check=False)


def test_exorag_imports_neither_evals_nor_ui_outside_its_cli():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_an_upward_import_in_the_library_fails_the_contract(tmp_path):
    for part in ("exorag", "evals", "ui"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    retrieve = tmp_path / "exorag" / "retrieve.py"
    retrieve.write_text(retrieve.read_text(encoding="utf-8") + "\nimport ui.render  # noqa\n", encoding="utf-8")
    done = lint_imports(tmp_path)
    assert done.returncode != 0 and "exorag.retrieve -> ui.render" in done.stdout, done.stdout + done.stderr
