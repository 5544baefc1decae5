"""pyproject.toml lists exactly what exorag, ui and evals import: deptry finds nothing missing,
unused or imported only through another package."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ["exorag", "ui", "evals"]


def deptry(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "deptry", "--no-ansi", *CHECKED], check=False, cwd=folder,
                          capture_output=True, text=True, timeout=300)


def test_pyproject_lists_exactly_the_imported_packages() -> None:
    result = deptry(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr


def test_an_import_that_pyproject_does_not_list_fails_the_check(tmp_path: Path) -> None:
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    for package in CHECKED:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    assert deptry(tmp_path).returncode == 0
    # requests comes in through other packages; exorag does not list it.
    (tmp_path / "exorag" / "unlisted.py").write_text("import requests\nimport not_a_package_at_all\n")

    result = deptry(tmp_path)

    assert result.returncode != 0
    assert "DEP003 'requests'" in result.stderr and "DEP001 'not_a_package_at_all'" in result.stderr
