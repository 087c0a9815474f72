"""The command line: ``python -m rnnlib train`` / ``sample`` and the ``rnnlib`` console script."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
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
    (("train", "--seed", "-1"), "argument --seed: expected an integer >= 0, got -1"),
    (("sample", "model.npz", "--seed", "x"), "argument --seed: expected an integer >= 0, got 'x'"),
    (("sample", "folder"), "folder is a folder, not a model saved by rnnlib train --save"),
    (("sample", "other.npz"), "other.npz: not a model saved by rnnlib train --save"),
    (("train", "--level", "word"), "argument --level: word needs --corpus docstrings, got"),
    (("fly",), "invalid choice: 'fly'"),
    ((), "the following arguments are required"),
]


@pytest.mark.parametrize(
    "args, message", BAD_ARGUMENTS, ids=[" ".join(a) or "no command" for a, _ in BAD_ARGUMENTS]
)
def test_bad_arguments_fail_with_a_clear_message(args, message, tmp_path):
    (tmp_path / "notes.txt").write_text("not a model\n")
    (tmp_path / "folder").mkdir()
    np.savez(tmp_path / "other.npz", weights=np.zeros(3))
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2, f"exit code {result.returncode} for {args}:\n{result.stderr}"
    assert message in result.stderr, f"stderr should say {message!r}:\n{result.stderr}"
    assert "Traceback" not in result.stderr, f"a traceback instead of a message:\n{result.stderr}"


# ------------------------------------------------------------------ a finished run is never lost

UNWRITABLE_SAVES = [
    (".", ". is a folder; give a file name, e.g. --save model.npz"),
    ("./", "./ is a folder; give a file name"),
    ("..", ".. is a folder; give a file name"),
    ("folder", "folder is a folder; give a file name, e.g. --save folder/model.npz"),
    ("no/such/dir/x.npz", "no/such/dir/x.npz: the folder no/such/dir does not exist"),
    ("taken", "taken.npz is a folder; give another file name"),
]


@pytest.mark.parametrize("save, message", UNWRITABLE_SAVES, ids=[s for s, _ in UNWRITABLE_SAVES])
def test_an_unwritable_save_path_is_refused_before_training(save, message, tmp_path):
    (tmp_path / "folder").mkdir()
    (tmp_path / "taken.npz").mkdir()
    result = run("train", "--steps", "100000", "--save", save, "--no-progress", cwd=tmp_path)
    assert result.returncode == 2, f"exit code {result.returncode} for --save {save}"
    assert f"argument --save: {message}" in result.stderr, (
        f"stderr should say {message!r}:\n{result.stderr}"
    )
    assert "Traceback" not in result.stderr, f"a traceback instead of a message:\n{result.stderr}"
    assert "after" not in result.stdout, (
        f"it trained before refusing --save {save}:\n{result.stdout}"
    )


@pytest.mark.parametrize("save", ["model", "model.npz", "sub/model"])
def test_save_prints_the_file_it_wrote_and_sample_finds_it_by_either_name(save, tmp_path):
    (tmp_path / "sub").mkdir()
    written = save if save.endswith(".npz") else save + ".npz"
    result = run("train", "--steps", "2", "--save", save, "--no-progress", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"saved to {written}\n" in result.stdout, f"should name {written}:\n{result.stdout}"
    assert (tmp_path / written).is_file(), f"no {written} in {sorted(tmp_path.rglob('*'))}"
    for name in (save, written):
        again = run("sample", name, "-n", "1", cwd=tmp_path)
        assert again.returncode == 0, f"sample {name} failed:\n{again.stderr}"


def test_a_save_that_fails_after_training_keeps_the_model_and_says_where(
    tmp_path, monkeypatch, capsys
):
    from rnnlib import __main__ as cli
    from rnnlib.charmodel import CharModel

    real_save = CharModel.save
    target = tmp_path / "model.npz"

    def failing_save(self, path):
        if Path(path) == target:
            raise OSError(28, "No space left on device")
        return real_save(self, path)

    monkeypatch.setattr(CharModel, "save", failing_save)
    monkeypatch.setattr(cli.tempfile, "tempdir", str(tmp_path / "safe"))
    (tmp_path / "safe").mkdir()
    status = cli.main(["train", "--steps", "3", "--save", str(target), "--no-progress"])
    err = capsys.readouterr().err
    assert status == 1, f"a failed save must exit 1, got {status}"
    kept = sorted((tmp_path / "safe").glob("rnnlib-model-*.npz"))
    assert len(kept) == 1, f"no model kept in the temporary folder: {kept}"
    assert f"could not write {target} (No space left on device)" in err, err
    assert f"the model is saved in {kept[0]} instead" in err, err
    assert len(CharModel.load(kept[0]).losses) == 3, "the kept model is not the trained one"


# ------------------------------------------------------------------ training output reads right


@pytest.fixture(scope="module")
def run_with_progress(tmp_path_factory):
    """A short run with its progress bar, stdout and stderr in one stream, in order."""
    folder = tmp_path_factory.mktemp("progress")
    result = subprocess.run(
        [sys.executable, "-m", "rnnlib", "train", "--steps", "50", "--samples", "0"],
        cwd=folder,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout
    return result.stdout


def test_corpus_vocabulary_and_the_meaning_of_the_loss_come_before_training(run_with_progress):
    out = run_with_progress
    first_bar = out.find("0/50")
    assert first_bar > 0, f"no progress bar in:\n{out}"
    for fragment in (
        "corpus 'names': ",
        "vocabulary 27",
        "loss: the cross-entropy summed over the T_x = 25 characters of a window, "
        "averaged over the m = 32 windows of a batch",
        "perplexity = exp(loss / T_x), per character",
    ):
        at = out.find(fragment)
        assert 0 <= at < first_bar, f"{fragment!r} should be printed before training:\n{out}"


def test_the_progress_bars_last_figure_is_the_final_figure(run_with_progress):
    import re

    bar = re.findall(r"loss=([0-9.]+), perplexity=([0-9.]+)", run_with_progress)
    final = re.search(
        r"after 50 steps: loss ([0-9.]+), perplexity ([0-9.]+) \(the mean of the last 20 training"
        r" batches, as on the progress bar\)",
        run_with_progress,
    )
    assert bar and final, f"no progress-bar figure or no final figure in:\n{run_with_progress}"
    assert bar[-1] == final.groups(), (
        f"the bar ends at {bar[-1]}, the final line says {final.groups()}"
    )


def _sampled(folder, model, seed):
    result = run(
        "sample", model, "-n", "8", "--temperature", "1.5", "--seed", str(seed), cwd=folder
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[1:]


@pytest.mark.parametrize("seed", [1, 2, 5])
def test_another_seed_does_not_repeat_seed_0s_samples_shifted(two_runs, seed):
    path = two_runs[0][1]
    base, other = _sampled(path.parent, path.name, 0), _sampled(path.parent, path.name, seed)
    assert other[: 8 - seed] != base[seed:], (
        f"--seed {seed} repeats --seed 0's samples shifted by {seed}: {other} vs {base}"
    )


# ------------------------------------------------------------------ help that helps


def _options():
    from rnnlib.__main__ import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # argparse keeps them only here
    return [
        (name, action)
        for name, sub in commands.items()
        for action in sub._actions
        if not isinstance(action, argparse._HelpAction)
    ]


@pytest.mark.parametrize(
    "command, action",
    _options(),
    ids=[f"{c} {a.option_strings or a.metavar}" for c, a in _options()],
)
def test_every_option_says_what_it_means_and_its_default(command, action):
    text = (action.help or "") % {**vars(action), "default": action.default}
    meaning = text.split("(default")[0].strip()
    assert len(meaning) >= 10, f"{command} {action.option_strings}: help {text!r} says too little"
    assert "default" in text, f"{command} {action.option_strings}: help {text!r} gives no default"


HELPS = {
    "rnnlib": ("rnnlib", ()),
    "rnnlib train": ("rnnlib", ("train",)),
    "rnnlib sample": ("rnnlib", ("sample",)),
    "rnnlib.bench": ("rnnlib.bench", ()),
}


@pytest.mark.parametrize("module, args", HELPS.values(), ids=HELPS.keys())
def test_help_has_no_raw_restructuredtext(module, args):
    result = run(*args, "--help", cwd=ROOT, command=(sys.executable, "-m", module))
    assert result.returncode == 0, result.stderr
    for markup in ("``", ":meth:", ":func:", ":class:", ".. "):
        assert markup not in result.stdout, f"raw markup {markup!r} in --help:\n{result.stdout}"


def test_training_runs_on_one_blas_thread(monkeypatch, capsys):
    """The model's matrices are small: BLAS threads only wait on each other (10x slower when
    the two cores are busy), so train limits BLAS to one thread."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from rnnlib import __main__ as cli

    seen = []
    real = cli.train_char_model

    def spy(*args, **kwargs):
        seen.extend(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
        return real(*args, **kwargs)

    monkeypatch.setattr(cli, "train_char_model", spy)
    with threadpool_limits(limits=2, user_api="blas"):  # the tests' own limit is 1 (conftest.py)
        assert cli.main(["train", "--steps", "2", "--samples", "0", "--no-progress"]) == 0
    capsys.readouterr()
    assert seen and set(seen) == {1}, f"BLAS ran with {seen} threads while training"


def test_a_folder_that_cannot_be_written_is_refused_before_training(tmp_path, monkeypatch):
    """As root every folder is writable, so the failure to write is simulated where it is tried."""
    from rnnlib import __main__ as cli

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cli.tempfile, "mkstemp", refuse)
    with pytest.raises(ValueError) as excinfo:
        cli.save_target(str(tmp_path / "model"))
    expected = (
        f"{tmp_path / 'model.npz'}: cannot write in the folder {tmp_path} (Permission denied)"
    )
    assert str(excinfo.value) == expected, f"message {excinfo.value}, expected {expected}"
