"""The command line: ``python -m rnnlib train`` / ``sample`` and the ``rnnlib`` console script."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest

# tiny matrices: one BLAS thread avoids threads waiting on each other on a busy machine
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def run(*args, cwd, command=(sys.executable, "-m", "rnnlib")):
    return subprocess.run(
        [*command, *args], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=300
    )


TRAIN = ("train", "--steps", "50", "--seed", "3")


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """The same seeded training run twice, each saving its model."""
    folder = tmp_path_factory.mktemp("cli")
    results = []
    for name in ("first.npz", "second.npz"):
        result = run(*TRAIN, "--save", name, "--no-progress", cwd=folder)
        assert result.returncode == 0, f"train failed:\n{result.stdout}\n{result.stderr}"
        results.append((result, folder / name))
    return results


def test_train_reports_loss_and_perplexity(two_runs):
    out = two_runs[0][0].stdout
    for fragment in (
        "vocabulary 27",
        "start: loss",
        "after 50 steps: loss",
        "perplexity",
        "saved to",
    ):
        assert fragment in out, f"train's output lacks {fragment!r}:\n{out}"


def test_the_same_seed_reproduces_the_run_exactly(two_runs):
    (first, first_path), (second, second_path) = two_runs
    strip = lambda out: out.replace("second.npz", "first.npz")  # noqa: E731 (only the name differs)
    assert strip(second.stdout) == first.stdout, "two runs with --seed 3 printed different output"
    with np.load(first_path) as a, np.load(second_path) as b:
        assert sorted(a.files) == sorted(b.files), f"saved arrays {a.files} vs {b.files}"
        for name in a.files:
            np.testing.assert_array_equal(a[name], b[name], err_msg=f"saved {name} differs")


def test_sample_reads_a_saved_model(two_runs):
    path = two_runs[0][1]
    result = run(
        "sample", path.name, "-n", "4", "--temperature", "0.5", "--seed", "1", cwd=path.parent
    )
    assert result.returncode == 0, f"sample failed:\n{result.stderr}"
    lines = result.stdout.splitlines()
    assert lines[0] == "4 samples at temperature 0.5:", f"unexpected header {lines[0]!r}"
    assert len(lines) == 5, f"expected 4 samples, got:\n{result.stdout}"
    again = run(
        "sample", path.name, "-n", "4", "--temperature", "0.5", "--seed", "1", cwd=path.parent
    )
    assert again.stdout == result.stdout, "sampling twice with --seed 1 gave different names"


def test_a_progress_bar_appears_on_stderr_unless_disabled(two_runs, tmp_path):
    assert "step" not in two_runs[0][0].stderr, "--no-progress still drew a progress bar"
    result = run("train", "--steps", "20", "--hidden", "8", "--samples", "0", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "20/20" in result.stderr and "step" in result.stderr, (
        f"no progress bar on stderr:\n{result.stderr}"
    )
    assert "20/20" not in result.stdout, "the progress bar belongs on stderr, not stdout"


def test_the_rnnlib_console_script_is_installed(two_runs):
    scripts = entry_points(group="console_scripts", name="rnnlib")
    assert [ep.value for ep in scripts] == ["rnnlib.__main__:main"], f"rnnlib script: {scripts}"
    script = Path(sys.executable).parent / "rnnlib"
    assert script.exists(), f"no {script}: reinstall with pip install -e ."
    path = two_runs[0][1]
    result = run("sample", path.name, "-n", "1", cwd=path.parent, command=(str(script),))
    assert result.returncode == 0 and "1 samples" in result.stdout, result.stderr


BAD_ARGUMENTS = [
    (("train", "--steps", "-5"), "argument --steps: expected a positive integer, got -5"),
    (("train", "--steps", "many"), "argument --steps: expected a positive integer, got 'many'"),
    (("train", "--lr", "0"), "argument --lr: expected a positive number, got 0.0"),
    (("train", "--corpus", "klingon"), "argument --corpus: invalid choice: 'klingon'"),
    (("train", "--activation", "sigmoid"), "argument --activation: invalid choice: 'sigmoid'"),
    (("sample", "missing.npz"), "missing.npz: no such file"),
    (("sample", "notes.txt"), "notes.txt: not a model saved by rnnlib train --save"),
    (("sample", "model.npz", "--temperature", "-1"), "argument --temperature: expected a positive"),
    (("fly",), "invalid choice: 'fly'"),
    ((), "the following arguments are required"),
]


@pytest.mark.parametrize(
    "args, message", BAD_ARGUMENTS, ids=[" ".join(a) or "no command" for a, _ in BAD_ARGUMENTS]
)
def test_bad_arguments_fail_with_a_clear_message(args, message, tmp_path):
    (tmp_path / "notes.txt").write_text("not a model\n")
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2, f"exit code {result.returncode} for {args}:\n{result.stderr}"
    assert message in result.stderr, f"stderr should say {message!r}:\n{result.stderr}"
    assert "Traceback" not in result.stderr, f"a traceback instead of a message:\n{result.stderr}"
