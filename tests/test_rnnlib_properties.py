"""Property tests (hypothesis): identities that must hold for every size, seed and activation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import rnnlib

pytestmark = pytest.mark.usefixtures("one_blas_thread")

sizes = st.integers(min_value=1, max_value=5)
steps = st.integers(min_value=1, max_value=5)
seeds = st.integers(min_value=0, max_value=2**16)
hiddens = st.sampled_from(["tanh", "relu"])
outputs = st.sampled_from(["softmax", "sigmoid"])
truncations = st.one_of(st.none(), st.integers(min_value=0, max_value=6))


def one_hot(ids, n_x):
    """The dense one-hot form of token ids (m,) -> (n_x, m), (m, T_x) -> (n_x, m, T_x)."""
    return np.moveaxis(np.eye(n_x)[ids], -1, 0)


def assert_same(got, expected, what):
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14, err_msg=what)


@given(
    n_x=sizes,
    n_a=sizes,
    n_y=sizes,
    m=sizes,
    seed=seeds,
    hidden=hiddens,
    output=outputs,
    ids=st.booleans(),
)
def test_stacked_cell_equals_unstacked_cell(
    make_problem, n_x, n_a, n_y, m, seed, hidden, output, ids
):
    problem = make_problem(n_x, n_a, n_y, m, 1, seed, output, ids=ids)
    xt = problem["x"][:, 0] if ids else problem["x"][:, :, 0]  # token ids (m,) or one-hot
    a_prev, p = problem["a0"], problem["parameters"]
    Wa = rnnlib.stack_weights(p["Waa"], p["Wax"])
    assert Wa.shape == (n_a, n_a + n_x), f"Wa has shape {Wa.shape}"
    a_s, y_s, cache_s = rnnlib.rnn_cell_forward_stacked(
        xt, a_prev, Wa, p["ba"], p["Wya"], p["by"], hidden, output
    )
    a_u, y_u, cache_u = rnnlib.rnn_cell_forward(xt, a_prev, p, hidden, output)
    assert_same(a_s, a_u, "a_next: stacked and unstacked cells differ")
    assert_same(y_s, y_u, "yt_pred: stacked and unstacked cells differ")
    for name in rnnlib.PARAMETER_NAMES:
        assert_same(cache_s[3][name], p[name], f"the stacked cell's cache holds a different {name}")


@given(n_x=sizes, n_a=sizes, m=sizes, seed=seeds)
def test_split_weights_undoes_stack_weights(make_problem, n_x, n_a, m, seed):
    p = make_problem(n_x, n_a, 2, m, 1, seed)["parameters"]
    Waa, Wax = rnnlib.split_weights(rnnlib.stack_weights(p["Waa"], p["Wax"]), n_a)
    np.testing.assert_array_equal(Waa, p["Waa"], err_msg="split_weights gave a different Waa")
    np.testing.assert_array_equal(Wax, p["Wax"], err_msg="split_weights gave a different Wax")


@given(n_x=sizes, n_a=sizes, n_y=sizes, m=sizes, seed=seeds, hidden=hiddens, output=outputs)
def test_token_ids_equal_one_hot_for_one_cell_forward_and_backward(
    make_problem, n_x, n_a, n_y, m, seed, hidden, output
):
    problem = make_problem(n_x, n_a, n_y, m, 1, seed, output, ids=True)
    ids, a_prev, p = problem["x"][:, 0], problem["a0"], problem["parameters"]  # ids (m,)
    a_i, y_i, cache_i = rnnlib.rnn_cell_forward(ids, a_prev, p, hidden, output)
    a_h, y_h, cache_h = rnnlib.rnn_cell_forward(one_hot(ids, n_x), a_prev, p, hidden, output)
    assert_same(a_i, a_h, "rnn_cell_forward a_next: token ids differ from one-hot")
    assert_same(y_i, y_h, "rnn_cell_forward yt_pred: token ids differ from one-hot")
    da_next = np.random.default_rng(seed).normal(size=(n_a, m))
    g_i = rnnlib.rnn_cell_backward(da_next, cache_i)
    g_h = rnnlib.rnn_cell_backward(da_next, cache_h)
    for name in g_h:
        assert_same(g_i[name], g_h[name], f"rnn_cell_backward {name}: token ids differ")


@given(n_x=sizes, n_a=sizes, n_y=sizes, m=sizes, T_x=steps, seed=seeds, hidden=hiddens)
def test_token_ids_equal_one_hot_for_the_sequence_forward_and_backward(
    make_problem, n_x, n_a, n_y, m, T_x, seed, hidden
):
    problem = make_problem(n_x, n_a, n_y, m, T_x, seed, ids=True)
    ids, a0, p = problem["x"], problem["a0"], problem["parameters"]
    a_i, y_i, caches_i = rnnlib.rnn_forward(ids, a0, p, hidden)
    a_h, y_h, caches_h = rnnlib.rnn_forward(one_hot(ids, n_x), a0, p, hidden)
    assert_same(a_i, a_h, "rnn_forward a: token ids differ from one-hot")
    assert_same(y_i, y_h, "rnn_forward y_pred: token ids differ from one-hot")
    da = np.random.default_rng(seed).normal(size=(n_a, m, T_x))
    g_i = rnnlib.rnn_backward(da, caches_i)
    g_h = rnnlib.rnn_backward(da, caches_h)
    for name in g_h:
        assert_same(g_i[name], g_h[name], f"rnn_backward {name}: token ids differ")


@given(
    n_x=sizes,
    n_a=sizes,
    n_y=st.integers(2, 5),
    m=sizes,
    T_x=steps,
    seed=seeds,
    hidden=hiddens,
    output=outputs,
    truncate=truncations,
)
def test_token_ids_equal_one_hot_for_bptt(
    make_problem, n_x, n_a, n_y, m, T_x, seed, hidden, output, truncate
):
    problem = make_problem(n_x, n_a, n_y, m, T_x, seed, output, ids=True)
    ids, y, a0, p = problem["x"], problem["y"], problem["a0"], problem["parameters"]
    loss_i, g_i, last_i = rnnlib.bptt(ids, y, a0, p, truncate, hidden, output)
    loss_h, g_h, last_h = rnnlib.bptt(one_hot(ids, n_x), y, a0, p, truncate, hidden, output)
    assert abs(loss_i - loss_h) <= 1e-12 * abs(loss_h), f"loss {loss_i} (ids) vs {loss_h}"
    assert_same(last_i, last_h, "bptt a_last: token ids differ from one-hot")
    assert set(g_i) == set(g_h), f"gradient names differ: {sorted(g_i)} vs {sorted(g_h)}"
    for name in g_h:
        assert_same(g_i[name], g_h[name], f"bptt {name}: token ids differ from one-hot")


logits = arrays(
    np.float64,
    st.tuples(st.integers(1, 6), st.integers(1, 4)),
    elements=st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False),
)


@given(z=logits)
def test_softmax_columns_are_probability_distributions(z):
    p = rnnlib.softmax(z)
    assert p.shape == z.shape, f"softmax changed the shape {z.shape} to {p.shape}"
    assert np.isfinite(p).all(), f"softmax produced NaN or inf for logits {z.tolist()}"
    assert (p >= 0).all(), f"softmax produced a negative probability for {z.tolist()}"
    np.testing.assert_allclose(p.sum(axis=0), 1.0, rtol=1e-12, err_msg="columns must sum to 1")


@given(z=logits, shift=st.floats(-1e4, 1e4))
def test_softmax_is_unchanged_by_adding_a_constant_to_a_column(z, shift):
    shifts = shift * np.linspace(-1, 1, z.shape[1])  # a different constant per column
    np.testing.assert_allclose(
        rnnlib.softmax(z + shifts),
        rnnlib.softmax(z),
        atol=1e-9,
        err_msg=f"softmax(z + c) != softmax(z) for per-column constants {shifts}",
    )
