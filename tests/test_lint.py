"""The repository is ruff-clean, the notebooks' code cells included (ruff reads the built .ipynb;
tools/notebooks.py build formats the .md's code cells first)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "command", [["check", "."], ["format", "--check", "."]], ids=["lint", "format"]
)
def test_ruff_passes_on_the_whole_repository(command):
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", *command], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, f"ruff {' '.join(command)} fails:\n{proc.stdout[-3000:]}"


def test_ruff_lints_the_notebooks():
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--show-files", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    linted = {
        Path(line.strip()).relative_to(ROOT).as_posix()
        for line in proc.stdout.splitlines()
        if line.strip()
    }
    built = {p.relative_to(ROOT).as_posix() for p in ROOT.glob("notebooks/*/*.ipynb")}
    assert built and built <= linted, f"ruff leaves out the notebooks {sorted(built - linted)}"
