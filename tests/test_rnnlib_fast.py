"""The fast path, rnnlib.engine (issue 5): exact, lean in memory, never a one-hot matrix on token ids.

engine.bptt batches the output layer over all steps and, when the logits outnumber the states,
folds its passes over them into three matrix products (softmax_output_layer). rnnlib.bptt hands
it token ids. These tests pin what that must not change, on both paths: it agrees with the
textbook bptt of rnnlib/bptt.py (float64, to rounding) and with centred differences, with a
log-sum-exp written here, and with itself in float32;
extreme logits take its fallback path and stay exact; its memory stays at one logits matrix; and
the benchmark's PyTorch baselines compute the same math. Nothing here is timed:
`python -m rnnlib.bench` measures speed.
"""

from __future__ import annotations

import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

import rnnlib
from rnnlib import engine
from rnnlib._checks import OneHot
from rnnlib.bptt import bptt as checked_textbook_bptt
from rnnlib.engine import softmax_output_layer

textbook_bptt = checked_textbook_bptt.__wrapped__  # the notebook's answer, without the contract

pytestmark = pytest.mark.usefixtures("one_blas_thread")

GRADIENTS = ("dWaa", "dWax", "dWya", "dba", "dby", "da0")


def problem(n_x=6, n_a=5, n_y=4, m=3, T_x=7, seed=0, output="softmax", scale=0.5, dtype=None):
    """Token ids x (m, T_x), targets y, a0 and random parameters (float64 unless ``dtype``)."""
    rng = np.random.default_rng(seed)
    parameters = {
        "Waa": rng.normal(0, scale, (n_a, n_a)),
        "Wax": rng.normal(0, scale, (n_a, n_x)),
        "Wya": rng.normal(0, scale, (n_y, n_a)),
        "ba": rng.normal(0, scale, (n_a, 1)),
        "by": rng.normal(0, scale, (n_y, 1)),
    }
    x = rng.integers(0, n_x, (m, T_x))
    if output == "softmax":
        y = rng.integers(0, n_y, (m, T_x))
    else:
        y = rng.integers(0, 2, (n_y, m, T_x)).astype(float)
    a0 = rng.normal(0, scale, (n_a, m))
    if dtype is not None:
        parameters = {k: v.astype(dtype) for k, v in parameters.items()}
        a0 = a0.astype(dtype)
    return x, y, a0, parameters


def one_hot(ids, n_x):
    """The dense one-hot input (n_x, m, T_x) of token ids (m, T_x)."""
    return np.moveaxis(np.eye(n_x)[ids], -1, 0)


def log_sum_exp_loss(x, y, a0, p):
    """The softmax loss from the equations: Σ_t Σ_j (log Σ_i e^(o_i) - o_y) / m, in float64."""
    a, total = a0.astype(np.float64), 0.0
    p = {k: v.astype(np.float64) for k, v in p.items()}
    for t in range(x.shape[1]):
        a = np.tanh(p["Waa"] @ a + p["Wax"][:, x[:, t]] + p["ba"])
        o = p["Wya"] @ a + p["by"]
        top = o.max(axis=0)
        lse = top + np.log(np.exp(o - top).sum(axis=0))
        total += (lse - o[y[:, t], np.arange(o.shape[1])]).sum()
    return total / a0.shape[1]


# n_a = 5: with n_y = 9 the logits outnumber the states and softmax takes the folded path
# (softmax_output_layer); with n_y = 4 the plain one (output_loss on the logits).
PATHS = pytest.mark.parametrize("n_y", [9, 4], ids=["folded output layer", "plain output layer"])


@PATHS
@pytest.mark.parametrize("hidden", ["tanh", "relu"])
@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
@pytest.mark.parametrize("ids", [True, False], ids=["token ids", "one-hot"])
@pytest.mark.parametrize("truncate", [None, 0, 2, 7])
def test_engine_agrees_with_the_textbook_bptt(hidden, output, ids, n_y, truncate):
    x, y, a0, p = problem(n_y=n_y, output=output, seed=3)
    got = engine.bptt(x if ids else one_hot(x, 6), y, a0, p, truncate, hidden, output)
    want = textbook_bptt(one_hot(x, 6), y, a0, p, truncate, hidden, output)
    assert np.isclose(got[0], want[0], rtol=1e-12), f"loss {got[0]} != textbook {want[0]}"
    for name in GRADIENTS:
        err = rnnlib.relative_error(got[1][name], want[1][name])
        assert err < 1e-12, f"{name}: relative error {err:.1e} against the textbook bptt"
        assert got[1][name].shape == want[1][name].shape, f"{name}: shape {got[1][name].shape}"
    np.testing.assert_allclose(got[2], want[2], rtol=1e-12, err_msg="a_last differs")


def test_rnnlib_bptt_sends_token_ids_to_the_engine_and_one_hot_to_the_textbook():
    x, y, a0, p = problem(n_y=9, seed=3)
    on_ids, on_one_hot = rnnlib.bptt(x, y, a0, p), rnnlib.bptt(one_hot(x, 6), y, a0, p)
    for got, want, path in (
        (on_ids, engine.bptt(x, y, a0, p), "the engine"),
        (on_one_hot, textbook_bptt(one_hot(x, 6), y, a0, p), "the textbook bptt"),
    ):
        assert got[0] == want[0], f"rnnlib.bptt did not compute what {path} computes"
        for name in GRADIENTS:
            assert np.array_equal(got[1][name], want[1][name]), f"{name}: not from {path}"


@PATHS
@pytest.mark.parametrize("truncate", [None, 0, 2])
@pytest.mark.parametrize("hidden", ["tanh", "relu"])
@pytest.mark.parametrize("ids", [True, False], ids=["token ids", "one-hot"])
def test_bptt_gradients_match_centred_differences(truncate, hidden, ids, n_y):
    x, y, a0, p = problem(n_y=n_y, seed=2)
    errors = rnnlib.gradient_check(x if ids else one_hot(x, 6), y, a0, p, truncate, hidden)
    worst = max(errors, key=errors.get)
    assert errors[worst] < 1e-7, f"{worst}: relative error {errors[worst]:.1e} (all: {errors})"


@pytest.mark.parametrize(
    "scale", [0.5, 50.0, 1e4, 1e9], ids=["usual", "some overflow", "all overflow", "huge"]
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_extreme_logits_keep_the_loss_and_gradients_exact(scale, dtype):
    """Large logits make e^(o - o_y) overflow, so those columns are redone shifted by their max."""
    x, y, a0, p = problem(n_y=9, seed=1, dtype=dtype)
    p["Wya"] *= scale / 0.5
    p["by"] *= scale / 0.5
    loss, grads, _ = rnnlib.bptt(x, y, a0, p)
    assert np.isfinite(loss), f"loss {loss} for logits of size {scale}"
    expected = log_sum_exp_loss(x, y, a0, p)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    assert np.isclose(loss, expected, rtol=tol), f"loss {loss}, from the equations {expected}"
    _, grads_s, _ = textbook_bptt(one_hot(x, 6).astype(dtype), y, a0, p)
    for name in GRADIENTS:
        assert np.isfinite(grads[name]).all(), f"{name} not finite for logits of size {scale}"
        assert grads[name].dtype == dtype, f"{name} is {grads[name].dtype}, expected {dtype}"
        err = rnnlib.relative_error(grads[name], grads_s[name])
        assert err < 100 * np.finfo(dtype).eps, f"{name}: relative error {err:.1e} vs the textbook"


def test_fallback_columns_mix_with_the_fast_ones():
    """One column with a huge wrong logit takes the fallback; the others keep the fast shift."""
    rng = np.random.default_rng(0)
    n_a, n_y, N, m = 3, 5, 6, 2
    H = rng.normal(size=(n_a, N))
    Wya, by = rng.normal(size=(n_y, n_a)), rng.normal(size=(n_y, 1))
    y = rng.integers(0, n_y, N)
    H[:, 2] *= 0  # column 2: logits = by ...
    by[(y[2] + 1) % n_y] = 1e3  # ... with a wrong class 1000 above the rest: e^(o - o_y) = inf
    loss, dWya, dby, dH = softmax_output_layer(H, Wya, by, y, m)
    O = Wya @ H + by
    P = rnnlib.softmax(O)
    expected = (np.log(np.exp(O - O.max(0)).sum(0)) + O.max(0) - O[y, np.arange(N)]).sum() / m
    dO = (P - np.eye(n_y)[:, y]) / m
    assert np.isclose(loss, expected, rtol=1e-12), f"loss {loss}, expected {expected}"
    for name, got, want in (
        ("dWya", dWya, dO @ H.T),
        ("dby", dby, dO.sum(1, keepdims=True)),
        ("dH", dH, Wya.T @ dO),
    ):
        assert rnnlib.relative_error(got, want) < 1e-13, f"{name} differs from (ŷ - Y)/m"


@pytest.mark.parametrize("truncate", [None, 0, 2])
@pytest.mark.parametrize("hidden", ["tanh", "relu"])
def test_float32_stays_float32_and_agrees_with_float64(truncate, hidden):
    x, y, a0, p = problem(seed=4)
    p32 = {k: v.astype(np.float32) for k, v in p.items()}
    loss, grads, a_last = rnnlib.bptt(x, y, a0.astype(np.float32), p32, truncate, hidden)
    loss64, grads64, _ = rnnlib.bptt(x, y, a0, p, truncate, hidden)
    assert a_last.dtype == np.float32, f"a_last is {a_last.dtype}"
    assert np.isclose(loss, loss64, rtol=1e-5), f"float32 loss {loss}, float64 {loss64}"
    for name in GRADIENTS:
        assert grads[name].dtype == np.float32, f"{name} is {grads[name].dtype}"
        err = rnnlib.relative_error(grads[name], grads64[name])
        assert err < 1e-5, f"{name}: float32 vs float64 relative error {err:.1e}"


def test_token_ids_never_become_a_dense_one_hot(monkeypatch):
    """OneHot refuses to be turned into an array, and bptt and gradient_check still work."""

    def refuse(*args, **kwargs):
        raise AssertionError("a dense one-hot matrix was built from token ids")

    monkeypatch.setattr(OneHot, "__array__", refuse)
    x, y, a0, p = problem(seed=5)
    for truncate in (None, 1):
        rnnlib.bptt(x, y, a0, p, truncate)
    errors = rnnlib.gradient_check(x, y, a0, p, truncate=1, num_checks=3)
    assert max(errors.values()) < 1e-7, f"gradient check on token ids: {errors}"


def peak_bytes(fn):
    """The peak of the bytes allocated (numpy included) while fn() runs."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_token_id_memory_is_far_below_one_step_of_one_hot():
    """A vocabulary of 200,000: one step's one-hot x<t> alone would be 25.6 MB; bptt's whole
    peak stays below twice dWax (6.4 MB), the one large array it must return."""
    n_x, n_a, m = 200_000, 4, 16
    x, y, a0, p = problem(n_x=n_x, n_a=n_a, n_y=3, m=m, T_x=10, seed=6)
    one_step_one_hot = n_x * m * 8
    peak = peak_bytes(lambda: rnnlib.bptt(x, y, a0, p))
    assert peak < 2 * p["Wax"].nbytes < one_step_one_hot, (
        f"bptt on token ids peaked at {peak / 1e6:.1f} MB; dWax is {p['Wax'].nbytes / 1e6:.1f} MB"
    )


def test_only_one_logits_matrix_is_alive_at_a_time():
    """At a large n_y the logits (n_y, m T_x) dominate: bptt holds one such matrix, not ŷ besides
    the logits or a copy per step, and the states it keeps for backward are n_a (T_x + 1) m."""
    n_y, n_a, m, T_x = 50_000, 8, 4, 10
    x, y, a0, p = problem(n_x=20, n_a=n_a, n_y=n_y, m=m, T_x=T_x, seed=7)
    logits = n_y * m * T_x * 8
    peak = peak_bytes(lambda: rnnlib.bptt(x, y, a0, p))
    allowed = logits + 3 * p["Wya"].nbytes + 100_000  # [Wya by 1] and [dWya dby], small arrays
    assert peak < allowed, (
        f"bptt peaked at {peak / 1e6:.1f} MB; one logits matrix is {logits / 1e6:.1f} MB, "
        f"allowed {allowed / 1e6:.1f} MB"
    )


def test_import_rnnlib_loads_neither_the_benchmark_nor_torch():
    code = "import sys, rnnlib; print('rnnlib.bench' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"], f"(bench, torch) imported: {out.stdout}"


@pytest.mark.parametrize("cpu", [False, True], ids=["wall time", "CPU time"])
def test_benchmark_runs_without_torch(monkeypatch, capsys, cpu):
    """The benchmark's table on a tiny workload, with torch hidden: one line says it is skipped."""
    from rnnlib import bench

    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    monkeypatch.setitem(bench.WORKLOADS, "tiny", (7, 4, 3, 5))
    results = bench.run(repeats=1, workloads=("tiny",), dtypes=("float64",), cpu=cpu)
    out = capsys.readouterr().out
    assert out.count("torch is not installed") == 1, out
    assert set(results[0]["seconds"]) == {"rnnlib.bptt", "textbook loop", "floor"}, results
    assert "peak memory" in out, out


def test_benchmark_pytorch_versions_compute_the_same_math():
    """The PyTorch baselines are checked against rnnlib.bptt before they are timed."""
    pytest.importorskip("torch")
    from rnnlib import bench

    for dtype in (np.float64, np.float32):
        calls = bench.torch_calls(bench.make_problem(11, 6, 3, 4, dtype))  # raises if they differ
        assert set(calls) == {"PyTorch loop", "PyTorch nn.RNN"}
