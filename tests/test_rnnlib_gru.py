"""The GRU of lesson 8 (rnnlib/gru.py), the original formulation (reset gate before the product):
the forward pass against the equations written out here, every gradient against centred
differences in float64 (h = 1e-5, relative error < 1e-7), one step and the sequence; the gate
ranges as properties; bad input; and, where torch is installed, torch's autograd on the same
equations (torch.nn.GRUCell is the other formulation, so it is not the reference)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rnnlib

pytestmark = pytest.mark.usefixtures("one_blas_thread")

H = 1e-5
BOUND = 1e-7
GATES = ("Wr", "br", "Wu", "bu", "Wc", "bc")


def gru_problem(n_x=3, n_a=4, n_y=3, m=2, T_x=5, seed=0, scale=0.5):
    rng = np.random.default_rng(seed)
    p = {}
    for gate in "ruc":
        p["W" + gate] = rng.normal(0, scale, (n_a, n_a + n_x))
        p["b" + gate] = rng.normal(0, scale, (n_a, 1))
    p["Wy"] = rng.normal(0, scale, (n_y, n_a))
    p["by"] = rng.normal(0, scale, (n_y, 1))
    x = np.eye(n_x)[rng.integers(0, n_x, (m, T_x))].transpose(2, 0, 1)
    a0 = rng.normal(0, scale, (n_a, m))
    return {"x": x, "a0": a0, "parameters": p}


def sig(z):
    return 1 / (1 + np.exp(-z))


def reference_step(xt, a_prev, p):
    """One GRU step from the equations, the weights split into their a and x parts."""
    n_a = a_prev.shape[0]

    def pre(gate, a):
        W = p["W" + gate]
        return W[:, :n_a] @ a + W[:, n_a:] @ xt + p["b" + gate]

    r, u = sig(pre("r", a_prev)), sig(pre("u", a_prev))
    candidate = np.tanh(pre("c", r * a_prev))
    a = u * candidate + (1 - u) * a_prev
    z = p["Wy"] @ a + p["by"]
    return a, np.exp(z - z.max(axis=0)) / np.exp(z - z.max(axis=0)).sum(axis=0)


def centred(f, theta):
    grad = np.zeros_like(theta)
    for i in np.ndindex(theta.shape):
        plus, minus = theta.copy(), theta.copy()
        plus[i] += H
        minus[i] -= H
        grad[i] = (f(plus) - f(minus)) / (2 * H)
    return grad


def test_the_cell_and_the_sequence_follow_the_equations():
    P = gru_problem(T_x=6)
    a, y, caches = rnnlib.gru_forward(P["x"], P["a0"], P["parameters"])
    a_t = P["a0"]
    for t in range(6):
        a_t, y_t = reference_step(P["x"][:, :, t], a_t, P["parameters"])
        np.testing.assert_allclose(a[:, :, t], a_t, rtol=1e-12, atol=1e-14, err_msg=f"a<{t + 1}>")
        np.testing.assert_allclose(y[:, :, t], y_t, rtol=1e-12, atol=1e-14, err_msg=f"ŷ<{t + 1}>")
    assert len(caches) == 6 and len(caches[0]) == 7


def test_cell_backward_matches_centred_differences():
    P = gru_problem(seed=1)
    xt, a_prev, p = P["x"][:, :, 1], P["a0"], P["parameters"]
    da = np.random.default_rng(7).standard_normal(a_prev.shape)
    got = rnnlib.gru_cell_backward(da, rnnlib.gru_cell_forward(xt, a_prev, p)[2])

    def loss(xt=xt, a_prev=a_prev, p=p):
        return float((da * reference_step(xt, a_prev, p)[0]).sum())

    numeric = {
        "dxt": centred(lambda v: loss(xt=v), xt),
        "da_prev": centred(lambda v: loss(a_prev=v), a_prev),
    }
    for name in GATES:
        numeric["d" + name] = centred(lambda v, name=name: loss(p={**p, name: v}), p[name])
    assert set(got) == set(numeric), f"keys {sorted(got)}"
    for name, want in numeric.items():
        err = rnnlib.relative_error(got[name], want)
        assert err < BOUND, f"{name}: relative error {err:.2e}"


def test_sequence_backward_matches_centred_differences():
    P = gru_problem(seed=2, T_x=6)
    x, a0, p = P["x"], P["a0"], P["parameters"]
    da = np.random.default_rng(8).standard_normal((4, 2, 6))
    got = rnnlib.gru_backward(da, rnnlib.gru_forward(x, a0, p)[2])

    def loss(x=x, a0=a0, p=p):
        a, total = a0, 0.0
        for t in range(x.shape[2]):
            a = reference_step(x[:, :, t], a, p)[0]
            total += float((da[:, :, t] * a).sum())
        return total

    numeric = {"dx": centred(lambda v: loss(x=v), x), "da0": centred(lambda v: loss(a0=v), a0)}
    for name in GATES:
        numeric["d" + name] = centred(lambda v, name=name: loss(p={**p, name: v}), p[name])
    assert set(got) == set(numeric), f"keys {sorted(got)}"
    for name, want in numeric.items():
        err = rnnlib.relative_error(got[name], want)
        assert err < BOUND, f"{name}: relative error {err:.2e}"


def reference_loss(x, y, a0, p, truncate=None, frozen=None):
    """Σ_t cross-entropy of step t (averaged over m); with truncate=k the loss at step t starts
    from the unperturbed state frozen[t-k-1] where the window does not reach a<0>."""
    m, T_x = a0.shape[1], x.shape[2]
    total = 0.0
    for t in range(1, T_x + 1):
        if truncate is None or t - truncate - 1 < 0:
            start, a = 0, a0
        else:
            start = t - truncate - 1
            a = frozen[start]
        for s in range(start + 1, t + 1):
            a, yt = reference_step(x[:, :, s - 1], a, p)
        total -= sum(np.log(yt[y[j, t - 1], j]) for j in range(m))
    return total / m


@pytest.mark.parametrize("truncate", [None, 0, 2, 10])
def test_gru_bptt_matches_centred_differences(truncate):
    P = gru_problem(seed=3, T_x=6)
    x, a0, p = P["x"], P["a0"], P["parameters"]
    y = np.random.default_rng(12).integers(0, 3, (2, 6))
    frozen = [a0]
    for t in range(6):
        frozen.append(reference_step(x[:, :, t], frozen[-1], p)[0])
    loss, got, a_last = rnnlib.gru_bptt(x, y, a0, p, truncate)
    assert np.isclose(loss, reference_loss(x, y, a0, p)), "the loss is not Σ_t L<t> / m"
    np.testing.assert_allclose(a_last, frozen[-1], rtol=1e-12, err_msg="a_last")
    numeric = {"da0": centred(lambda v: reference_loss(x, y, v, p, truncate, frozen), a0)}
    for name in p:
        numeric["d" + name] = centred(
            lambda v, name=name: reference_loss(x, y, a0, {**p, name: v}, truncate, frozen), p[name]
        )
    assert set(got) == set(numeric), f"keys {sorted(got)}"
    for name, want in numeric.items():
        err = rnnlib.relative_error(got[name], want)
        assert err < BOUND, f"{name} (truncate={truncate}): relative error {err:.2e}"


small = st.integers(1, 4)


@given(n_x=small, n_a=small, m=small, seed=st.integers(0, 2**16), scale=st.floats(0.1, 20))
def test_gates_in_0_1_and_the_state_a_convex_mix(n_x, n_a, m, seed, scale):
    P = gru_problem(n_x=n_x, n_a=n_a, m=m, T_x=1, seed=seed, scale=scale)
    a_prev = np.tanh(P["a0"])  # a state the GRU can reach: in (-1, 1)
    a, y, cache = rnnlib.gru_cell_forward(P["x"][:, :, 0], a_prev, P["parameters"])
    _, _, rt, ut, cct, _, _ = cache
    for name, gate in (("Γr", rt), ("Γu", ut)):
        assert np.all((gate >= 0) & (gate <= 1)), f"{name} outside [0, 1]"
    assert np.all(np.abs(cct) <= 1), "ã outside [-1, 1]"
    low, high = np.minimum(a_prev, cct), np.maximum(a_prev, cct)
    assert np.all((a >= low - 1e-12) & (a <= high + 1e-12)), "a<t> is not between a<t-1> and ã<t>"
    np.testing.assert_allclose(y.sum(axis=0), 1, err_msg="ŷ<t> is not a distribution")


def bad_calls():
    P = gru_problem()
    x, a0, p = P["x"], P["a0"], P["parameters"]
    caches = rnnlib.gru_forward(x, a0, p)[2]
    lstm = rnnlib.initialize_lstm_parameters(4, 3, 3)
    return [
        ("LSTM parameters", lambda: rnnlib.gru_forward(x, a0, lstm), KeyError, "missing key 'Wr'"),
        (
            "Wc of the wrong width",
            lambda: rnnlib.gru_forward(x, a0, {**p, "Wc": p["Wc"][:, 1:]}),
            ValueError,
            "parameters['Wc']",
        ),
        (
            "a_prev of the wrong n_a",
            lambda: rnnlib.gru_cell_forward(x[:, :, 0], a0[:3], p),
            ValueError,
            "a_prev",
        ),
        (
            "an LSTM cache",
            lambda: rnnlib.gru_cell_backward(
                a0, rnnlib.lstm_cell_forward(x[:, :, 0], a0, a0, lstm)[3]
            ),
            ValueError,
            "returned by gru_cell_forward",
        ),
        (
            "da of the wrong T_x",
            lambda: rnnlib.gru_backward(np.zeros((4, 2, 3)), caches),
            ValueError,
            "da: expected shape (n_a, m, T_x)",
        ),
    ]


BAD = bad_calls()


@pytest.mark.parametrize(("label", "call", "error", "text"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_named(label, call, error, text):
    with pytest.raises(error) as info:
        call()
    assert text in str(info.value), f"{label}: the message {info.value} does not say {text!r}"


def test_the_sequence_equals_torch_autograd_on_the_same_equations():
    """The formulation taught (reset before the product) in torch, differentiated by autograd."""
    torch = pytest.importorskip("torch")
    P = gru_problem(n_x=3, n_a=4, m=5, T_x=4, seed=6)
    x, a0, p = P["x"], P["a0"], P["parameters"]
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in p.items()}
    tx = torch.tensor(x, requires_grad=True)
    ta0 = torch.tensor(a0, requires_grad=True)
    da = np.random.default_rng(11).standard_normal((4, 5, 4))
    a_t, total = ta0, 0
    for t in range(4):
        xt = tx[:, :, t]
        concat = torch.cat([a_t, xt])
        r = torch.sigmoid(tp["Wr"] @ concat + tp["br"])
        u = torch.sigmoid(tp["Wu"] @ concat + tp["bu"])
        cand = torch.tanh(tp["Wc"] @ torch.cat([r * a_t, xt]) + tp["bc"])
        a_t = u * cand + (1 - u) * a_t
        total = total + (a_t * torch.from_numpy(da[:, :, t])).sum()
    total.backward()
    got = rnnlib.gru_backward(da, rnnlib.gru_forward(x, a0, p)[2])
    want = {"dx": tx.grad, "da0": ta0.grad, **{"d" + k: tp[k].grad for k in GATES}}
    for name, w in want.items():
        np.testing.assert_allclose(got[name], w.numpy(), rtol=1e-10, atol=1e-13, err_msg=name)
