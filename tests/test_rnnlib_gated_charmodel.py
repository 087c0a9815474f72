"""The character model with the gated cells of lessons 7 and 8 (train_char_model(cell=...),
python -m rnnlib train --cell): it learns, is reproducible, and saves and loads its cell."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import rnnlib

pytestmark = pytest.mark.usefixtures("one_blas_thread")


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_a_gated_model_learns_and_is_reproducible(cell):
    first = rnnlib.train_char_model(steps=60, n_a=16, m=16, cell=cell, seed=2)
    second = rnnlib.train_char_model(steps=60, n_a=16, m=16, cell=cell, seed=2)
    assert first.cell == cell
    assert first.losses == second.losses, "the same seed gave another run"
    start, end = np.mean(first.losses[:10]), np.mean(first.losses[-10:])
    assert end < start, f"{cell}: the loss did not fall in 60 steps ({start:.2f} -> {end:.2f})"
    names = {"lstm": rnnlib.lstm.LSTM_PARAMETER_NAMES, "gru": rnnlib.gru.GRU_PARAMETER_NAMES}
    assert set(first.parameters) == set(names[cell]), sorted(first.parameters)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_save_and_load_keep_the_cell_and_the_samples(cell, tmp_path):
    model = rnnlib.train_char_model(steps=5, n_a=8, m=4, cell=cell)
    loaded = rnnlib.CharModel.load(model.save(tmp_path / "model"))
    assert loaded.cell == cell
    assert loaded.sample(seed=3) == model.sample(seed=3), "the loaded model samples otherwise"


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_float32_training_stays_float32(cell):
    model = rnnlib.train_char_model(steps=3, n_a=8, m=4, cell=cell, dtype=np.float32)
    dtypes = {v.dtype for v in model.parameters.values()}
    assert dtypes == {np.dtype(np.float32)}, dtypes


def test_an_unknown_cell_is_named():
    with pytest.raises(ValueError, match="cell: expected one of"):
        rnnlib.train_char_model(steps=1, cell="transformer")


def test_the_command_line_trains_a_gru(tmp_path):
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "rnnlib",
            "train",
            "--cell",
            "gru",
            "--steps",
            "5",
            "--hidden",
            "8",
            "--no-progress",
            "--samples",
            "1",
            "--save",
            str(tmp_path / "g.npz"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "cell: gru" in run.stdout, run.stdout
    assert rnnlib.CharModel.load(tmp_path / "g.npz").cell == "gru"
