"""The LSTM of lesson 7 (rnnlib/lstm.py): the forward pass against the equations written out here,
every gradient against centred differences in float64 (h = 1e-5, relative error < 1e-7), one
step, the sequence and lstm_bptt full and truncated; the gate ranges as properties; bad input;
and, where torch is installed, PyTorch's LSTMCell with the same weights."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rnnlib
from rnnlib.lstm import LSTM_PARAMETER_NAMES

pytestmark = pytest.mark.usefixtures("one_blas_thread")

H = 1e-5
BOUND = 1e-7
GATES = ("Wf", "bf", "Wi", "bi", "Wc", "bc", "Wo", "bo")


def lstm_problem(n_x=3, n_a=4, n_y=3, m=2, T_x=5, seed=0, scale=0.5):
    """Random LSTM parameters (biases nonzero), one-hot x (n_x, m, T_x), labels, a0."""
    rng = np.random.default_rng(seed)
    p = {}
    for gate in "fico":
        p["W" + gate] = rng.normal(0, scale, (n_a, n_a + n_x))
        p["b" + gate] = rng.normal(0, scale, (n_a, 1))
    p["Wy"] = rng.normal(0, scale, (n_y, n_a))
    p["by"] = rng.normal(0, scale, (n_y, 1))
    x = np.eye(n_x)[rng.integers(0, n_x, (m, T_x))].transpose(2, 0, 1)
    y = rng.integers(0, n_y, (m, T_x))
    a0 = rng.normal(0, scale, (n_a, m))
    c0 = rng.normal(0, scale, (n_a, m))
    return {"x": x, "y": y, "a0": a0, "c0": c0, "parameters": p}


# ---------------------------------------------------------------- the equations, written out


def sig(z):
    return 1 / (1 + np.exp(-z))


def reference_step(xt, a_prev, c_prev, p):
    """One LSTM step from the equations, gate by gate, with the weights split into a and x parts."""
    n_a = a_prev.shape[0]

    def pre(gate):
        W = p["W" + gate]
        return W[:, :n_a] @ a_prev + W[:, n_a:] @ xt + p["b" + gate]

    f, u, o = sig(pre("f")), sig(pre("i")), sig(pre("o"))
    c = f * c_prev + u * np.tanh(pre("c"))
    a = o * np.tanh(c)
    z = p["Wy"] @ a + p["by"]
    y = np.exp(z - z.max(axis=0)) / np.exp(z - z.max(axis=0)).sum(axis=0)
    return a, c, y


def reference_loss(x, y, a0, p, truncate=None, frozen=None):
    """Σ_t cross-entropy of step t (averaged over m); with truncate=k the loss at step t starts
    from the unperturbed states frozen[t-k-1] (a, c) where the window does not reach a<0>."""
    m, T_x = a0.shape[1], x.shape[2]
    total = 0.0
    for t in range(1, T_x + 1):
        if truncate is None or t - truncate - 1 < 0:
            start, a, c = 0, a0, np.zeros_like(a0)
        else:
            start = t - truncate - 1
            a, c = frozen[start]
        for s in range(start + 1, t + 1):
            a, c, yt = reference_step(x[:, :, s - 1], a, c, p)
        total -= sum(np.log(yt[y[j, t - 1], j]) for j in range(m))
    return total / m


def centred(f, theta):
    grad = np.zeros_like(theta)
    for i in np.ndindex(theta.shape):
        plus, minus = theta.copy(), theta.copy()
        plus[i] += H
        minus[i] -= H
        grad[i] = (f(plus) - f(minus)) / (2 * H)
    return grad


def rel(g, g_hat):
    return rnnlib.relative_error(g, g_hat)


# ---------------------------------------------------------------- forward


def test_the_cell_follows_the_equations():
    P = lstm_problem()
    xt, a_prev, c_prev, p = P["x"][:, :, 0], P["a0"], P["c0"], P["parameters"]
    a, c, y, cache = rnnlib.lstm_cell_forward(xt, a_prev, c_prev, p)
    want = reference_step(xt, a_prev, c_prev, p)
    for name, got, w in zip(("a_next", "c_next", "yt_pred"), (a, c, y), want, strict=True):
        np.testing.assert_allclose(got, w, rtol=1e-12, atol=1e-14, err_msg=name)
    assert len(cache) == 10, f"the cache has {len(cache)} entries, not 10"


def test_the_sequence_carries_a_and_c_from_step_to_step():
    P = lstm_problem(T_x=6)
    a, y, c, caches = rnnlib.lstm_forward(P["x"], P["a0"], P["parameters"])
    a_t, c_t = P["a0"], np.zeros_like(P["a0"])
    for t in range(6):
        a_t, c_t, y_t = reference_step(P["x"][:, :, t], a_t, c_t, P["parameters"])
        np.testing.assert_allclose(a[:, :, t], a_t, rtol=1e-12, atol=1e-14, err_msg=f"a<{t + 1}>")
        np.testing.assert_allclose(c[:, :, t], c_t, rtol=1e-12, atol=1e-14, err_msg=f"c<{t + 1}>")
        np.testing.assert_allclose(y[:, :, t], y_t, rtol=1e-12, atol=1e-14, err_msg=f"ŷ<{t + 1}>")
    assert len(caches) == 6


def test_token_ids_give_what_the_one_hot_gives():
    P = lstm_problem(n_x=5, T_x=4)
    ids = P["x"].argmax(axis=0)
    got = rnnlib.lstm_forward(ids, P["a0"], P["parameters"])[:3]
    want = rnnlib.lstm_forward(P["x"], P["a0"], P["parameters"])[:3]
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)


# ---------------------------------------------------------------- gradients


def test_cell_backward_matches_centred_differences():
    """L = Σ da ⊙ a<t> + Σ dc ⊙ c<t>: its gradients are what lstm_cell_backward returns."""
    P = lstm_problem(seed=1)
    xt, a_prev, c_prev, p = P["x"][:, :, 1], P["a0"], P["c0"], P["parameters"]
    rng = np.random.default_rng(7)
    da, dc = rng.standard_normal(a_prev.shape), rng.standard_normal(a_prev.shape)
    cache = rnnlib.lstm_cell_forward(xt, a_prev, c_prev, p)[3]
    got = rnnlib.lstm_cell_backward(da, dc, cache)

    def loss(xt=xt, a_prev=a_prev, c_prev=c_prev, p=p):
        a, c, _ = reference_step(xt, a_prev, c_prev, p)
        return float((da * a).sum() + (dc * c).sum())

    numeric = {
        "dxt": centred(lambda v: loss(xt=v), xt),
        "da_prev": centred(lambda v: loss(a_prev=v), a_prev),
        "dc_prev": centred(lambda v: loss(c_prev=v), c_prev),
    }
    for name in GATES:
        numeric["d" + name] = centred(lambda v, name=name: loss(p={**p, name: v}), p[name])
    assert set(got) == set(numeric), f"keys {sorted(got)}"
    for name, want in numeric.items():
        assert rel(got[name], want) < BOUND, f"{name}: relative error {rel(got[name], want):.2e}"


def test_sequence_backward_matches_centred_differences():
    """L = Σ_t da<t> ⊙ a<t> over the sequence: lstm_backward carries da and dc back through time."""
    P = lstm_problem(seed=2, T_x=6)
    x, a0, p = P["x"], P["a0"], P["parameters"]
    da = np.random.default_rng(8).standard_normal((4, 2, 6))
    caches = rnnlib.lstm_forward(x, a0, p)[3]
    got = rnnlib.lstm_backward(da, caches)

    def loss(x=x, a0=a0, p=p):
        a, c, total = a0, np.zeros_like(a0), 0.0
        for t in range(x.shape[2]):
            a, c, _ = reference_step(x[:, :, t], a, c, p)
            total += float((da[:, :, t] * a).sum())
        return total

    numeric = {"dx": centred(lambda v: loss(x=v), x), "da0": centred(lambda v: loss(a0=v), a0)}
    for name in GATES:
        numeric["d" + name] = centred(lambda v, name=name: loss(p={**p, name: v}), p[name])
    assert set(got) == set(numeric), f"keys {sorted(got)}"
    for name, want in numeric.items():
        assert rel(got[name], want) < BOUND, f"{name}: relative error {rel(got[name], want):.2e}"


@pytest.mark.parametrize("truncate", [None, 0, 1, 3, 10])
def test_lstm_bptt_matches_centred_differences(truncate):
    """Full BPTT differentiates the loss; truncated BPTT the loss with a, c held at the window's start."""
    P = lstm_problem(seed=3, T_x=6)
    x, y, a0, p = P["x"], P["y"], P["a0"], P["parameters"]
    frozen = [(a0, np.zeros_like(a0))]
    for t in range(x.shape[2]):
        frozen.append(reference_step(x[:, :, t], *frozen[-1], p)[:2])
    loss, got, a_last = rnnlib.lstm_bptt(x, y, a0, p, truncate)
    assert np.isclose(loss, reference_loss(x, y, a0, p)), "the loss is not Σ_t L<t> / m"
    np.testing.assert_allclose(a_last, frozen[-1][0], rtol=1e-12, err_msg="a_last")
    numeric = {"da0": centred(lambda v: reference_loss(x, y, v, p, truncate, frozen), a0)}
    for name in LSTM_PARAMETER_NAMES:
        numeric["d" + name] = centred(
            lambda v, name=name: reference_loss(x, y, a0, {**p, name: v}, truncate, frozen), p[name]
        )
    assert set(got) == set(numeric), f"keys {sorted(got)}"
    for name, want in numeric.items():
        err = rel(got[name], want)
        assert err < BOUND, f"{name} (truncate={truncate}): relative error {err:.2e}"


def test_truncation_longer_than_the_sequence_is_full_bptt():
    P = lstm_problem(seed=4, T_x=5)
    args = (P["x"], P["y"], P["a0"], P["parameters"])
    _, full, _ = rnnlib.lstm_bptt(*args)
    _, long, _ = rnnlib.lstm_bptt(*args, truncate=5)
    for name in full:
        np.testing.assert_allclose(long[name], full[name], rtol=1e-10, atol=1e-14, err_msg=name)


def test_backprop_norms_are_the_norms_of_the_backward_pass():
    """lstm_backprop_norms(d) = ‖∂L<T>/∂a<T-d>‖ and ‖∂L<T>/∂c<T-d>‖, by centred differences of
    L = Σ da ⊙ a<T> with respect to a state inserted at step T-d: a<T-d> with c<T-d> held, and
    c<T-d> with a<T-d> = Γo ⊙ tanh(c<T-d>) following it (the total derivative)."""
    P = lstm_problem(seed=5, T_x=5)
    x, a0, p = P["x"], P["a0"], P["parameters"]
    da = np.random.default_rng(9).standard_normal(a0.shape)
    _, _, _, caches = rnnlib.lstm_forward(x, a0, p)
    norms_a, norms_c = rnnlib.lstm_backprop_norms(da, caches)
    states = [(a0, np.zeros_like(a0))]
    for t in range(5):
        states.append(reference_step(x[:, :, t], *states[-1], p)[:2])

    def final(a, c, start):  # run steps start+1..T from (a<start>, c<start>)
        for s in range(start, 5):
            a, c, _ = reference_step(x[:, :, s], a, c, p)
        return float((da * a).sum())

    for d in range(5):
        a, c = states[5 - d]
        ga = centred(lambda v, c=c, d=d: final(v, c, 5 - d), a)
        o = caches[4 - d][7]  # Γo<T-d>: a<T-d> = Γo ⊙ tanh(c<T-d>) moves with c<T-d>
        gc = centred(lambda v, o=o, d=d: final(o * np.tanh(v), v, 5 - d), c)
        assert np.isclose(norms_a[d], np.linalg.norm(ga), rtol=1e-7), f"‖∂L/∂a<T-{d}>‖"
        assert np.isclose(norms_c[d], np.linalg.norm(gc), rtol=1e-7), f"‖∂L/∂c<T-{d}>‖"


# ---------------------------------------------------------------- properties

small = st.integers(1, 4)


@given(n_x=small, n_a=small, m=small, seed=st.integers(0, 2**16), scale=st.floats(0.1, 20))
def test_gates_are_in_0_1_the_candidate_and_a_in_minus_1_1(n_x, n_a, m, seed, scale):
    P = lstm_problem(n_x=n_x, n_a=n_a, m=m, T_x=1, seed=seed, scale=scale)
    a, c, y, cache = rnnlib.lstm_cell_forward(P["x"][:, :, 0], P["a0"], P["c0"], P["parameters"])
    _, _, _, c_prev, ft, it, cct, ot, _, _ = cache
    for name, gate in (("Γf", ft), ("Γu", it), ("Γo", ot)):
        assert np.all((gate >= 0) & (gate <= 1)), f"{name} outside [0, 1]"
    assert np.all(np.abs(cct) <= 1), "c̃ outside [-1, 1]"
    assert np.all(np.abs(a) <= np.abs(np.tanh(c)) + 1e-15), "|a<t>| > |tanh(c<t>)|"
    assert np.all(np.abs(c) <= np.abs(c_prev) + 1 + 1e-12), "|c<t>| grew by more than 1 in a step"
    np.testing.assert_allclose(y.sum(axis=0), 1, err_msg="ŷ<t> is not a distribution")


@given(seed=st.integers(0, 2**16))
def test_dc_prev_is_dc_times_the_forget_gate(seed):
    """With no gradient on a<t>, the cell state's gradient goes back only through Γf."""
    P = lstm_problem(seed=seed, T_x=1)
    cache = rnnlib.lstm_cell_forward(P["x"][:, :, 0], P["a0"], P["c0"], P["parameters"])[3]
    dc = np.random.default_rng(seed).standard_normal(P["a0"].shape)
    got = rnnlib.lstm_cell_backward(np.zeros_like(dc), dc, cache)
    np.testing.assert_allclose(got["dc_prev"], dc * cache[4], rtol=1e-14)


# ---------------------------------------------------------------- bad input


def bad_calls():
    P = lstm_problem()
    x, a0, c0, p = P["x"], P["a0"], P["c0"], P["parameters"]
    cache = rnnlib.lstm_cell_forward(x[:, :, 0], a0, c0, p)[3]
    caches = rnnlib.lstm_forward(x, a0, p)[3]
    no_wo = {k: v for k, v in p.items() if k != "Wo"}
    nan = a0.copy()
    nan[0, 0] = np.nan
    return [
        (
            "missing key",
            lambda: rnnlib.lstm_cell_forward(x[:, :, 0], a0, c0, no_wo),
            KeyError,
            "'Wo'",
        ),
        (
            "vanilla parameters",
            lambda: rnnlib.lstm_forward(x, a0, {"Waa": a0}),
            KeyError,
            "missing key 'Wf'",
        ),
        (
            "extra key",
            lambda: rnnlib.lstm_forward(x, a0, {**p, "Waa": a0}),
            ValueError,
            "unexpected keys ['Waa']",
        ),
        (
            "Wi of the wrong width",
            lambda: rnnlib.lstm_forward(x, a0, {**p, "Wi": p["Wi"][:, :-1]}),
            ValueError,
            "parameters['Wi']",
        ),
        (
            "x of the wrong n_x",
            lambda: rnnlib.lstm_forward(x[:2], a0, p),
            ValueError,
            "x: expected shape (n_x, m, T_x)",
        ),
        (
            "c_prev of the wrong m",
            lambda: rnnlib.lstm_cell_forward(x[:, :, 0], a0, c0[:, :1], p),
            ValueError,
            "c_prev",
        ),
        ("NaN in a0", lambda: rnnlib.lstm_forward(x, nan, p), ValueError, "a0: expected finite"),
        (
            "a vanilla cache",
            lambda: rnnlib.lstm_cell_backward(a0, a0, (a0, a0, x[:, :, 0], p, "tanh")),
            ValueError,
            "returned by lstm_cell_forward",
        ),
        (
            "dc_next of the wrong shape",
            lambda: rnnlib.lstm_cell_backward(a0, c0.T, cache),
            ValueError,
            "dc_next",
        ),
        (
            "empty caches",
            lambda: rnnlib.lstm_backward(np.zeros((4, 2, 0)), []),
            ValueError,
            "caches",
        ),
        (
            "da of the wrong T_x",
            lambda: rnnlib.lstm_backward(np.zeros((4, 2, 4)), caches),
            ValueError,
            "da: expected shape (n_a, m, T_x)",
        ),
        (
            "label out of range",
            lambda: rnnlib.lstm_bptt(x, P["y"] + 3, a0, p),
            ValueError,
            "label",
        ),
        (
            "negative truncate",
            lambda: rnnlib.lstm_bptt(x, P["y"], a0, p, -1),
            ValueError,
            "truncate",
        ),
    ]


BAD = bad_calls()


@pytest.mark.parametrize(("label", "call", "error", "text"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_named(label, call, error, text):
    with pytest.raises(error) as info:
        call()
    assert text in str(info.value), f"{label}: the message {info.value} does not say {text!r}"


# ---------------------------------------------------------------- PyTorch, optional


def test_the_cell_equals_pytorchs_lstmcell_forward_and_backward():
    """torch.nn.LSTMCell with the same weights (its gate order is i, f, g, o; the hidden and
    input parts of each gate are split; bias_hh = 0) gives the same a<t>, c<t> and gradients."""
    torch = pytest.importorskip("torch")
    P = lstm_problem(n_x=3, n_a=4, m=5, seed=6)
    xt, a_prev, c_prev, p = P["x"][:, :, 0], P["a0"], P["c0"], P["parameters"]
    n_a = 4
    cell = torch.nn.LSTMCell(3, n_a, dtype=torch.float64)
    order = ("i", "f", "c", "o")  # torch's i, f, g, o
    with torch.no_grad():
        cell.weight_ih.copy_(torch.from_numpy(np.vstack([p["W" + g][:, n_a:] for g in order])))
        cell.weight_hh.copy_(torch.from_numpy(np.vstack([p["W" + g][:, :n_a] for g in order])))
        cell.bias_ih.copy_(torch.from_numpy(np.vstack([p["b" + g] for g in order]).ravel()))
        cell.bias_hh.zero_()
    x_t = torch.tensor(xt.T, requires_grad=True)  # torch: (m, features)
    h_t = torch.tensor(a_prev.T, requires_grad=True)
    c_t = torch.tensor(c_prev.T, requires_grad=True)
    h, c = cell(x_t, (h_t, c_t))
    a_next, c_next, _, cache = rnnlib.lstm_cell_forward(xt, a_prev, c_prev, p)
    np.testing.assert_allclose(a_next, h.detach().numpy().T, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(c_next, c.detach().numpy().T, rtol=1e-12, atol=1e-14)
    rng = np.random.default_rng(10)
    da, dc = rng.standard_normal(a_prev.shape), rng.standard_normal(a_prev.shape)
    ((h * torch.from_numpy(da.T)).sum() + (c * torch.from_numpy(dc.T)).sum()).backward()
    got = rnnlib.lstm_cell_backward(da, dc, cache)
    want_ih = np.split(cell.weight_ih.grad.numpy(), 4)
    want_hh = np.split(cell.weight_hh.grad.numpy(), 4)
    want_b = np.split(cell.bias_ih.grad.numpy(), 4)
    for k, g in enumerate(order):
        want_W = np.hstack([want_hh[k], want_ih[k]])
        np.testing.assert_allclose(got["dW" + g], want_W, rtol=1e-10, atol=1e-13, err_msg="dW" + g)
        np.testing.assert_allclose(got["db" + g].ravel(), want_b[k], rtol=1e-10, atol=1e-13)
    for name, tensor in (("dxt", x_t), ("da_prev", h_t), ("dc_prev", c_t)):
        np.testing.assert_allclose(got[name], tensor.grad.numpy().T, rtol=1e-10, atol=1e-13)
