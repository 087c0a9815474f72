"""The project's own promises about itself: environment.yml and pyproject.toml list the same
packages, the README's quick start is exactly what CI runs, and the code is ruff-clean."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pip vendors the same parser
    from pip._vendor import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def split_requirement(text: str) -> tuple[str, str]:
    """("numpy", ">=1.26") from "numpy>=1.26"; the name normalised as pip does (PEP 503)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)", text)
    assert match, f"cannot read the requirement {text!r}"
    name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
    return name, match.group(3).replace(" ", "")


def pyproject_requirements() -> dict[str, str]:
    """Name -> version specifier of the dependencies and the course's extras.

    rnnlib's own extras are excluded, and so is ``bench`` (PyTorch, for ``python -m rnnlib.bench``
    only: the course environment never needs it).
    """
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for name, extra in project.get("optional-dependencies", {}).items():
        if name != "bench":
            lines += extra
    pairs = [split_requirement(line) for line in lines]
    return {name: spec for name, spec in pairs if name != project["name"]}


CONDA_TO_PIP: dict[str, str] = {}  # conda-forge names that differ from the PyPI ones


def conda_requirements() -> dict[str, str]:
    """Name -> version specifier of environment.yml's dependencies, its pip: section included.

    A small reader for the list items of environment.yml, so that the check needs no YAML library.
    """
    text = (ROOT / "environment.yml").read_text()
    body = text.split("dependencies:", 1)[1]
    items = re.findall(r"^\s*-\s*([^\s#][^#\n]*?)\s*(?:#.*)?$", body, flags=re.MULTILINE)
    pairs = [split_requirement(item) for item in items if item.rstrip(":") != "pip"]
    return {CONDA_TO_PIP.get(name, name): spec for name, spec in pairs if name != "python"}


def test_environment_yml_and_pyproject_list_the_same_packages():
    pip_side, conda_side = pyproject_requirements(), conda_requirements()
    only_pip = sorted(set(pip_side) - set(conda_side))
    only_conda = sorted(set(conda_side) - set(pip_side))
    assert not only_pip and not only_conda, (
        f"only in pyproject.toml: {only_pip}; only in environment.yml: {only_conda}"
    )


def test_environment_yml_and_pyproject_ask_for_the_same_versions():
    pip_side, conda_side = pyproject_requirements(), conda_requirements()
    differ = {n: (pip_side[n], conda_side[n]) for n in pip_side if pip_side[n] != conda_side.get(n)}
    assert not differ, f"version specifiers differ (pyproject, environment.yml): {differ}"


def test_environment_yml_asks_for_the_python_that_pyproject_requires():
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    text = (ROOT / "environment.yml").read_text()
    match = re.search(r"^\s*-\s*python\s*([^\s#]*)", text, flags=re.MULTILINE)
    assert match, "environment.yml does not name a python version"
    assert match.group(1) == requires.replace(" ", ""), (
        f"environment.yml asks for python{match.group(1)}, pyproject.toml for {requires}"
    )


def quick_start_commands() -> list[str]:
    """The commands of the first fenced block after the README's "Quick start" heading."""
    readme = (ROOT / "README.md").read_text()
    section = re.search(
        r"^#+\s*Quick start\s*$(.*?)^```[a-z]*\n(.*?)^```", readme, re.M | re.S | re.I
    )
    assert section, 'README.md has no fenced code block under a "Quick start" heading'
    lines = [line.split(" #")[0].strip() for line in section.group(2).splitlines()]
    return [part.strip() for line in lines if line for part in line.split("&&")]


def ci_commands() -> list[str]:
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


@pytest.mark.parametrize("kind, prefix", [("install", "pip install"), ("test", "pytest")])
def test_readme_quick_start_runs_what_ci_runs(kind, prefix):
    readme = [c for c in quick_start_commands() if c.startswith(prefix)]
    ci = [c for c in ci_commands() if c.startswith(prefix)]
    assert len(readme) == 1, (
        f"the README's quick start should have one {kind} command, has {readme}"
    )
    assert readme == ci, f"{kind} command: README says {readme}, .ci/run runs {ci}"


def test_quick_start_installs_the_dev_extra_and_runs_pytest():
    commands = quick_start_commands()
    assert 'pip install -e ".[dev]"' in commands, f"quick start: {commands}"
    assert "pytest" in commands, f"quick start: {commands}"


LINTED = ["rnnlib", "graders", "tools", "tests", "README.md"]  # ruff formats its code blocks too


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None, reason="ruff is not installed")
@pytest.mark.parametrize("folder", LINTED)
@pytest.mark.parametrize(
    "command",
    [("check", "--output-format", "concise"), ("format", "--check")],
    ids=["ruff check", "ruff format --check"],
)
def test_the_code_is_ruff_clean(command, folder):
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command, folder],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = result.stdout.splitlines()
    if command[0] == "check":  # path:line:col: CODE message
        report = [line for line in lines if re.match(r"\S+:\d+:\d+: ", line)]
    else:  # the files that would change
        report = [line for line in lines if "-->" in line or "eformat" in line]
    assert result.returncode == 0, (
        f"ruff {command[0]} {folder} failed:\n" + "\n".join(report[:40]) + result.stderr[-1000:]
    )
