"""The benchmark's gated-cell blocks (rnnlib/bench.py, GATED_CELLS; issue 14): for the LSTM and the
GRU, ``rnnlib CELL`` (token ids: the fast path, the block's baseline), ``CELL textbook`` (one-hot:
the lesson's loop) and, with torch, a PyTorch row checked against rnnlib before it is timed
(nn.LSTM; for the GRU a hand-written autograd loop of the formulation rnnlib/gru.py teaches).
Without torch the PyTorch rows are skipped. Nothing here is timed."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import rnnlib
from rnnlib import bench

pytestmark = pytest.mark.usefixtures("one_blas_thread")

CELLS = {"lstm": ("LSTM", "PyTorch nn.LSTM"), "gru": ("GRU", "PyTorch loop")}


@pytest.mark.parametrize("key", CELLS)
def test_each_gated_block_has_its_fast_and_textbook_rows_without_torch(key, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    monkeypatch.setitem(bench.WORKLOADS, "tiny", (7, 4, 3, 5))
    results = bench.run(repeats=1, workloads=("tiny",), dtypes=("float64",))
    cell, _ = CELLS[key]
    rows = results[0][key]["seconds"]
    assert list(rows) == [f"rnnlib {cell}", f"{cell} textbook"], f"{key} rows: {list(rows)}"
    assert set(results[0][key]["min"]) == set(rows), results[0][key]
    out = capsys.readouterr().out
    for row in rows:
        assert f"tiny     float64  {row}" in out, f"the table has no line for {row!r}:\n{out}"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("key", CELLS)
def test_the_rows_time_the_fast_path_on_ids_and_the_textbook_on_one_hot(key, dtype):
    """The two rnnlib rows compute one loss and gradients (to rounding), by two paths."""
    calls = bench.gated_calls(key, bench.make_problem(9, 5, 3, 4, dtype))
    cell, _ = CELLS[key]
    fast, textbook = calls[f"rnnlib {cell}"](), calls[f"{cell} textbook"]()
    tol = 1e-10 if dtype == np.float64 else 1e-4
    assert np.isclose(fast[0], textbook[0], rtol=tol), f"loss {fast[0]} vs textbook {textbook[0]}"
    for name, grad in textbook[1].items():
        err = rnnlib.relative_error(fast[1][name], grad)
        assert err < tol, f"{key} {name}: the fast row and the textbook row differ by {err:.1e}"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("key", CELLS)
def test_the_pytorch_row_computes_rnnlibs_math(key, dtype):
    """Each PyTorch row is checked against rnnlib before it is timed (it raises if they differ)."""
    pytest.importorskip("torch")
    calls = bench.gated_calls(key, bench.make_problem(11, 6, 3, 4, dtype))
    _, torch_name = CELLS[key]
    assert torch_name in calls, f"no {torch_name!r} row for the {key}: {list(calls)}"


def test_the_gru_torch_loop_agrees_with_rnnlib_gru_bptt_and_the_check_would_see_otherwise(
    monkeypatch,
):
    """The hand-written PyTorch GRU equals rnnlib.gru_bptt's loss and every gradient; with a
    wrong rnnlib gradient (dWc scaled) the same check refuses to time it."""
    pytest.importorskip("torch")
    problem = bench.make_gru_problem(bench.make_problem(11, 6, 3, 4, np.float64))
    loss, grads, _ = rnnlib.gru_bptt(
        problem["x"], problem["y"], problem["a0"], problem["parameters"]
    )
    torch_loop = bench.torch_gru_call(problem)
    got = torch_loop()
    assert abs(got[0].item() - loss) < 1e-10 * abs(loss), f"loss {got[0].item()} vs {loss}"
    n_a = problem["a0"].shape[0]
    dWca = got[2].detach().numpy()
    assert rnnlib.relative_error(dWca, grads["dWc"][:, :n_a]) < 1e-10, "dWc's a<t-1> part differs"

    def wrong_call(p):
        def call():
            loss, grads, a_last = rnnlib.gru_bptt(p["x"], p["y"], p["a0"], p["parameters"])
            return loss, {**grads, "dWc": 1.01 * grads["dWc"]}, a_last

        return call

    monkeypatch.setattr(bench, "gru_call", wrong_call)
    with pytest.raises(
        AssertionError, match="PyTorch loop \\(GRU\\) disagrees with rnnlib.gru_bptt"
    ):
        bench.torch_gru_call(problem)
