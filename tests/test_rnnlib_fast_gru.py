"""The GRU's fast path, rnnlib.engine_gated (issue 14): the textbook gru_bptt's numbers, on token ids.

rnnlib.gru_bptt hands token ids to engine_gated.gru_bptt (Γr and Γu stacked into one product per
step, the candidate's on Γr ⊙ a<t-1>, a column gather for every gate's input part, one output
layer over all steps) and one-hot input to the textbook loop of rnnlib/gru.py. These tests pin
that both give the same loss, gradients and last state (float64, to rounding), full and
truncated, that float32 stays float32 and close, and that the character model trains on the
fast path. Nothing here is timed: the speed is measured by `python -m rnnlib.bench`.
"""

from __future__ import annotations

import numpy as np
import pytest

import rnnlib
from rnnlib import engine_gated
from rnnlib.gru import GRU_GRADIENT_NAMES

textbook_gru_bptt = rnnlib.gru_bptt.__wrapped__  # the lesson's loop, without the contract

pytestmark = pytest.mark.usefixtures("one_blas_thread")

GRADIENTS = (*GRU_GRADIENT_NAMES, "da0")
SIZES = [  # (n_x, n_a, n_y, m, T_x)
    (6, 5, 4, 3, 7),
    (1, 2, 2, 1, 1),
    (11, 8, 11, 4, 12),
    (3, 16, 5, 2, 5),
]


def problem(n_x, n_a, n_y, m, T_x, seed=0, scale=0.5):
    """Token ids x (m, T_x), labels y, a0 and random GRU parameters, float64."""
    rng = np.random.default_rng(seed)
    parameters = {}
    for gate in "ruc":
        parameters["W" + gate] = rng.normal(0, scale, (n_a, n_a + n_x))
        parameters["b" + gate] = rng.normal(0, scale, (n_a, 1))
    parameters["Wy"] = rng.normal(0, scale, (n_y, n_a))
    parameters["by"] = rng.normal(0, scale, (n_y, 1))
    x = rng.integers(0, n_x, (m, T_x))
    y = rng.integers(0, n_y, (m, T_x))
    a0 = rng.normal(0, scale, (n_a, m))
    return x, y, a0, parameters


def one_hot(ids, n_x):
    """The dense one-hot input (n_x, m, T_x) of token ids (m, T_x)."""
    return np.moveaxis(np.eye(n_x)[ids], -1, 0)


def relative(a, b):
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)


@pytest.mark.parametrize("truncate", [None, 0, 1, 3])
@pytest.mark.parametrize(
    "sizes", SIZES, ids=lambda s: "n_x={},n_a={},n_y={},m={},T_x={}".format(*s)
)
@pytest.mark.parametrize("ids", [True, False], ids=["token ids", "one-hot"])
def test_fast_gru_agrees_with_the_textbook_gru_bptt(sizes, truncate, ids):
    x, y, a0, p = problem(*sizes, seed=sum(sizes))
    n_x = sizes[0]
    loss, grads, a_last = textbook_gru_bptt(one_hot(x, n_x), y, a0, p, truncate)
    fast_loss, fast, fast_last = engine_gated.gru_bptt(
        x if ids else one_hot(x, n_x), y, a0, p, truncate
    )
    assert list(fast) == list(grads), f"gradient names {list(fast)}, textbook {list(grads)}"
    assert abs(fast_loss - loss) <= 1e-10 * abs(loss), f"loss {fast_loss}, textbook {loss}"
    for name in GRADIENTS:
        assert fast[name].shape == grads[name].shape, f"{name}: shape {fast[name].shape}"
        assert relative(fast[name], grads[name]) < 1e-10, (
            f"{name}: relative difference {relative(fast[name], grads[name]):.1e} from the textbook"
        )
    assert relative(fast_last, a_last) < 1e-10, "a_last differs from the textbook's"


@pytest.mark.parametrize("truncate", [None, 0, 2])
def test_a_truncation_longer_than_the_sequence_is_full_bptt(truncate):
    """truncate >= T_x walks every loss back to a<0>: the full gradients, da0 included."""
    x, y, a0, p = problem(4, 3, 4, 2, 5, seed=5)
    full = engine_gated.gru_bptt(x, y, a0, p, None)
    for k in (5, 10):
        loss, grads, _ = engine_gated.gru_bptt(x, y, a0, p, k)
        for name in GRADIENTS:
            assert relative(grads[name], full[1][name]) < 1e-12, (
                f"truncate={k} on T_x=5: {name} differs from full BPTT's"
            )
    if truncate is not None:  # a short window holds a<0> constant for the late losses
        short = engine_gated.gru_bptt(x, y, a0, p, truncate)[1]
        assert relative(short["da0"], full[1]["da0"]) > 1e-6, f"truncate={truncate}: da0 is full"


@pytest.mark.parametrize("truncate", [None, 2])
def test_rnnlib_gru_bptt_sends_token_ids_to_the_fast_path_and_one_hot_to_the_textbook(truncate):
    x, y, a0, p = problem(5, 4, 5, 3, 6, seed=3)
    on_ids = rnnlib.gru_bptt(x, y, a0, p, truncate)
    on_one_hot = rnnlib.gru_bptt(one_hot(x, 5), y, a0, p, truncate)
    for got, want, path in (
        (on_ids, engine_gated.gru_bptt(x, y, a0, p, truncate), "engine_gated.gru_bptt"),
        (on_one_hot, textbook_gru_bptt(one_hot(x, 5), y, a0, p, truncate), "the textbook"),
    ):
        assert got[0] == want[0], f"rnnlib.gru_bptt did not compute what {path} computes"
        for name in GRADIENTS:
            assert np.array_equal(got[1][name], want[1][name]), f"{name}: not from {path}"


@pytest.mark.parametrize("truncate", [None, 1])
def test_float32_stays_float32_and_agrees_with_float64(truncate):
    x, y, a0, p = problem(7, 6, 7, 4, 9, seed=11)
    loss64, grads64, _ = rnnlib.gru_bptt(x, y, a0, p, truncate)
    p32 = {k: v.astype(np.float32) for k, v in p.items()}
    loss, grads, a_last = rnnlib.gru_bptt(x, y, a0.astype(np.float32), p32, truncate)
    assert a_last.dtype == np.float32, f"a_last is {a_last.dtype}"
    assert np.isclose(loss, loss64, rtol=1e-5), f"float32 loss {loss}, float64 {loss64}"
    for name in GRADIENTS:
        assert grads[name].dtype == np.float32, f"{name} is {grads[name].dtype}"
        err = relative(grads[name], grads64[name])
        assert err < 1e-5, f"{name}: float32 vs float64 relative error {err:.1e}"


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_the_character_model_trains_a_gated_cell_on_the_fast_path(cell, monkeypatch):
    """train_char_model(cell=...) passes token ids, so the textbook cell never runs in training;
    the same spy sees it run when the textbook loop gets one-hot input."""
    module = getattr(rnnlib, cell)
    name = f"{cell}_cell_forward"
    original = getattr(module, name)
    calls = []

    def spy(*args):
        calls.append(1)
        return original.__wrapped__(*args)

    spy.__wrapped__ = spy  # the textbook loop calls cell_forward.__wrapped__, looked up per call
    monkeypatch.setattr(module, name, spy)
    rnnlib.train_char_model(steps=2, n_a=8, m=4, T_x=6, cell=cell)
    assert not calls, f"training the {cell} ran the textbook cell {len(calls)} times"
    init = rnnlib.initialize_lstm_parameters if cell == "lstm" else rnnlib.initialize_gru_parameters
    x, y = np.zeros((2, 3), dtype=int), np.zeros((2, 3), dtype=int)
    getattr(rnnlib, f"{cell}_bptt")(one_hot(x, 4), y, np.zeros((5, 2)), init(5, 4, 4))
    assert len(calls) == 3, f"the spy saw {len(calls)} textbook steps of 3 on one-hot input"
