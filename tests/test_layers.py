"""The library (exorag) imports neither the views (ui) nor the evaluation suite (evals), except the
command line, exorag.cli: the import-linter contract in pyproject.toml."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def test_exorag_imports_neither_evals_nor_ui_outside_its_cli():
    # PYTHONPATH makes import-linter read this checkout, not an installed copy of exorag.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
