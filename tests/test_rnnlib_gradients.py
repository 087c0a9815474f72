"""Every gradient of rnnlib checked numerically, in float64, with centred differences (h = 1e-5).

Two independent checks for bptt: rnnlib.gradient_check, and centred differences of a forward
loss written here from the equations (plain loops, no rnnlib code), so a bug shared by bptt and
rnnlib's own checker cannot hide. The single-step and sequence backward passes are checked
against centred differences of rnnlib's forward functions, which are themselves compared with
the equations below.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import rnnlib

pytestmark = pytest.mark.usefixtures("one_blas_thread")

H = 1e-5  # the centred-difference step
BOUND = 1e-7  # the largest relative error accepted in float64
KINK_MARGIN = 1e-3  # ReLU problems keep every pre-activation this far from 0

GRADIENT_NAMES = ("dWaa", "dWax", "dWya", "dba", "dby", "da0")


# ---------------------------------------------------------------- the equations, written out


def g1(name, z):
    return np.tanh(z) if name == "tanh" else np.maximum(z, 0.0)


def reference_states(x, a0, p, hidden):
    """a<0>, a<1>, ..., a<T_x> and the pre-activations z<1..T_x>, one step at a time."""
    states, pre = [a0], []
    for t in range(x.shape[2]):
        z = p["Waa"] @ states[-1] + p["Wax"] @ x[:, :, t] + p["ba"]
        pre.append(z)
        states.append(g1(hidden, z))
    return states, pre


def reference_step_loss(a_t, y_t, p, output):
    """L<t> summed over the minibatch (not yet averaged) for the state a<t>."""
    o = p["Wya"] @ a_t + p["by"]  # (n_y, m)
    if output == "softmax":
        log_p = o - o.max(axis=0) - np.log(np.exp(o - o.max(axis=0)).sum(axis=0))
        return -sum(log_p[y_t[j], j] for j in range(o.shape[1]))
    s = 1 / (1 + np.exp(-o))
    return -np.sum(y_t * np.log(s) + (1 - y_t) * np.log(1 - s))


def reference_loss(x, y, a0, p, hidden, output, truncate=None, frozen=None):
    """The loss bptt differentiates: full, or with a<t-k-1> held at its value in ``frozen``.

    Steps are numbered from 1: the loss at step t sees a<t>, ..., a<t-k> move and a<t-k-1> fixed.
    """
    m, T_x = a0.shape[1], x.shape[2]
    total = 0.0
    for t in range(1, T_x + 1):
        if truncate is None or t - truncate - 1 < 0:
            start, a = 0, a0  # the window reaches a<0>, which moves when a0 is perturbed
        else:
            start = t - truncate - 1
            a = frozen[start]  # a<t-k-1>: a constant, its unperturbed value
        for s in range(start + 1, t + 1):
            a = g1(hidden, p["Waa"] @ a + p["Wax"] @ x[:, :, s - 1] + p["ba"])
        y_t = y[:, t - 1] if output == "softmax" else y[:, :, t - 1]
        total += reference_step_loss(a, y_t, p, output)
    return total / m


def centred_differences(f, theta):
    """(f(θ + h e_i) - f(θ - h e_i)) / 2h for every entry i; f gets a fresh array each time."""
    grad = np.zeros_like(theta)
    for i in np.ndindex(theta.shape):
        plus, minus = theta.copy(), theta.copy()
        plus[i] += H
        minus[i] -= H
        grad[i] = (f(plus) - f(minus)) / (2 * H)
    return grad


def rel_error(g, g_hat):
    """‖g - ĝ‖ / max(‖g‖ + ‖ĝ‖, 1e-8): the floor keeps two (near-)zero gradients from failing."""
    return np.linalg.norm(g - g_hat) / max(np.linalg.norm(g) + np.linalg.norm(g_hat), 1e-8)


def kink_free_problem(make_problem, hidden, **kwargs):
    """A random problem; for ReLU the first seed whose pre-activations all keep |z| > 1e-3."""
    for seed in range(50):
        problem = make_problem(seed=seed, **kwargs)
        x = problem["x"]
        _, pre = reference_states(x, problem["a0"], problem["parameters"], hidden)
        if hidden == "tanh" or min(np.abs(z).min() for z in pre) > KINK_MARGIN:
            return problem
    raise AssertionError(f"no seed in 0..49 keeps ReLU pre-activations {KINK_MARGIN} from 0")


# ------------------------------------------------------------------- the forward pass first


@pytest.mark.parametrize("hidden", ["tanh", "relu"])
@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
def test_rnn_forward_matches_the_equations(make_problem, hidden, output):
    problem = make_problem(T_x=4, output_activation=output)
    x, a0, p = problem["x"], problem["a0"], problem["parameters"]
    a, y_pred, caches = rnnlib.rnn_forward(x, a0, p, hidden, output)
    states, _ = reference_states(x, a0, p, hidden)
    assert len(caches) == 4, f"rnn_forward returned {len(caches)} caches for T_x = 4"
    for t in range(4):
        np.testing.assert_allclose(
            a[:, :, t], states[t + 1], rtol=1e-12, err_msg=f"a<{t + 1}> differs"
        )
        o = p["Wya"] @ states[t + 1] + p["by"]
        if output == "softmax":
            expected = np.exp(o) / np.exp(o).sum(axis=0)
        else:
            expected = 1 / (1 + np.exp(-o))
        np.testing.assert_allclose(
            y_pred[:, :, t], expected, rtol=1e-12, err_msg=f"ŷ<{t + 1}> differs"
        )


@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
def test_bptt_loss_matches_the_equations(make_problem, output):
    problem = make_problem(T_x=5, output_activation=output)
    loss, _, a_last = rnnlib.bptt(**problem, output_activation=output)
    args = (problem["x"], problem["y"], problem["a0"], problem["parameters"], "tanh", output)
    expected = reference_loss(*args)
    assert loss == pytest.approx(expected, rel=1e-12), f"bptt loss {loss}, equations {expected}"
    states, _ = reference_states(problem["x"], problem["a0"], problem["parameters"], "tanh")
    np.testing.assert_allclose(a_last, states[-1], rtol=1e-12, err_msg="a_last is not a<T_x>")


# ------------------------------------------------------------------------------- bptt


TRUNCATIONS = [None, 0, 1, 3, 5, 6, 9]  # with T_x = 6: full, short windows, T_x - 1, T_x, beyond


@pytest.mark.parametrize("truncate", TRUNCATIONS, ids=lambda k: f"truncate={k}")
@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
@pytest.mark.parametrize("hidden", ["tanh", "relu"])
def test_bptt_gradients_match_centred_differences(make_problem, hidden, output, truncate):
    problem = kink_free_problem(make_problem, hidden, T_x=6, output_activation=output)
    x, y, a0, p = problem["x"], problem["y"], problem["a0"], problem["parameters"]
    _, gradients, _ = rnnlib.bptt(x, y, a0, p, truncate, hidden, output)
    frozen, _ = reference_states(x, a0, p, hidden)  # unperturbed a<0..T_x>

    def loss(name, value):
        params = {**p, name: value} if name != "a0" else p
        start = value if name == "a0" else a0
        return reference_loss(x, y, start, params, hidden, output, truncate, frozen)

    for name in GRADIENT_NAMES:
        value = a0 if name == "da0" else p[name[1:]]
        numeric = centred_differences(lambda v, name=name: loss(name[1:], v), value)
        error = rel_error(gradients[name], numeric)
        assert error < BOUND, f"{name}: relative error {error:.2e} against the equations"

    errors = rnnlib.gradient_check(x, y, a0, p, truncate, hidden, output)
    assert set(errors) == set(GRADIENT_NAMES), f"gradient_check returned {sorted(errors)}"
    worst = max(errors, key=errors.get)
    assert errors[worst] < BOUND, f"rnnlib.gradient_check: {worst} relative error {errors[worst]}"


@pytest.mark.parametrize("truncate", [None, 2])
def test_bptt_gradients_with_token_ids_match_centred_differences(make_problem, truncate):
    problem = make_problem(T_x=5, ids=True)
    errors = rnnlib.gradient_check(**problem, truncate=truncate)
    worst = max(errors, key=errors.get)
    assert errors[worst] < BOUND, f"token ids: {worst} relative error {errors[worst]:.2e}"


def bptt_from_the_lesson_functions(x, y, a0, parameters, hidden_activation, output_activation):
    """Full BPTT composed of the exercises before it: rnn_forward, cross_entropy, a per-step
    output layer do<t> = (ŷ<t> - y<t>) / m, and rnn_backward on da<t> = Wyaᵀ do<t>."""
    a, y_pred, caches = rnnlib.rnn_forward(x, a0, parameters, hidden_activation, output_activation)
    loss = rnnlib.cross_entropy(y_pred, y)
    m, T_x = a0.shape[1], a.shape[2]
    if output_activation == "softmax":
        targets = np.moveaxis(np.eye(parameters["Wya"].shape[0])[y], -1, 0)  # one-hot (n_y, m, T_x)
    else:
        targets = y
    dO = (y_pred - targets) / m
    da = np.stack([parameters["Wya"].T @ dO[:, :, t] for t in range(T_x)], axis=2)
    hidden = rnnlib.rnn_backward(da, caches)
    gradients = {
        "dWaa": hidden["dWaa"],
        "dWax": hidden["dWax"],
        "dWya": sum(dO[:, :, t] @ a[:, :, t].T for t in range(T_x)),
        "dba": hidden["dba"],
        "dby": dO.sum(axis=(1, 2))[:, None],
        "da0": hidden["da0"],
    }
    return loss, gradients, a[:, :, -1]


@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
@pytest.mark.parametrize("hidden", ["tanh", "relu"])
def test_bptt_agrees_with_the_lesson_functions_composed(make_problem, hidden, output):
    problem = kink_free_problem(make_problem, hidden, T_x=7, m=3, output_activation=output)
    loss, gradients, a_last = rnnlib.bptt(
        **problem, hidden_activation=hidden, output_activation=output
    )
    loss_s, gradients_s, a_last_s = bptt_from_the_lesson_functions(
        **problem, hidden_activation=hidden, output_activation=output
    )
    assert loss == pytest.approx(loss_s, rel=1e-12), f"loss {loss} vs composed {loss_s}"
    np.testing.assert_allclose(a_last, a_last_s, rtol=1e-12, err_msg="a_last differs")
    for name in GRADIENT_NAMES:
        np.testing.assert_allclose(
            gradients[name],
            gradients_s[name],
            rtol=1e-10,
            atol=1e-14,
            err_msg=f"{name}: bptt and the composed lesson functions disagree",
        )


@pytest.mark.parametrize("truncate", [6, 7, 20])
def test_truncated_bptt_equals_full_when_the_window_covers_the_sequence(make_problem, truncate):
    problem = make_problem(T_x=6)
    _, full, _ = rnnlib.bptt(**problem)
    _, cut, _ = rnnlib.bptt(**problem, truncate=truncate)
    for name in GRADIENT_NAMES:
        np.testing.assert_allclose(
            cut[name],
            full[name],
            rtol=1e-12,
            atol=1e-15,
            err_msg=f"{name}: truncate={truncate} >= T_x = 6 should be full BPTT",
        )


@pytest.mark.parametrize("truncate", [0, 1, 2, 3, 4])
def test_truncated_bptt_differs_from_full_for_short_windows(make_problem, truncate):
    problem = make_problem(T_x=6)
    _, full, _ = rnnlib.bptt(**problem)
    _, cut, _ = rnnlib.bptt(**problem, truncate=truncate)
    for name in ("dWaa", "dWax", "dba", "da0"):
        change = rel_error(cut[name], full[name])
        assert change > 1e-6, f"{name}: truncate={truncate} < T_x - 1 = 5 left it unchanged"
    for name in ("dWya", "dby"):  # the output layer never looks back in time
        np.testing.assert_allclose(cut[name], full[name], rtol=1e-12, err_msg=name)


def test_truncate_of_T_x_minus_1_cuts_only_the_last_loss_from_a0(make_problem):
    problem = make_problem(T_x=6)
    _, full, _ = rnnlib.bptt(**problem)
    _, cut, _ = rnnlib.bptt(**problem, truncate=5)
    for name in ("dWaa", "dWax", "dWya", "dba", "dby"):
        np.testing.assert_allclose(cut[name], full[name], rtol=1e-12, err_msg=name)
    assert rel_error(cut["da0"], full["da0"]) > 1e-6, (
        "truncate = T_x - 1: the loss at step T_x should not reach a<0>, so da0 must change"
    )


@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
def test_truncate_zero_reaches_only_one_step(make_problem, output):
    """With k = 0 each dz<t> is the output's gradient on a<t> through g1', nothing carried back."""
    problem = make_problem(T_x=5, output_activation=output)
    x, y, a0, p = problem["x"], problem["y"], problem["a0"], problem["parameters"]
    _, cut, _ = rnnlib.bptt(x, y, a0, p, truncate=0, output_activation=output)
    a, y_pred, caches = rnnlib.rnn_forward(x, a0, p, "tanh", output)
    m = a0.shape[1]
    if output == "softmax":
        target = np.eye(p["Wya"].shape[0])[y].transpose(2, 0, 1)  # (n_y, m, T_x)
    else:
        target = y
    expected = {name: np.zeros_like(p[name[1:]]) for name in ("dWaa", "dWax", "dba")}
    for t in range(5):
        da_t = p["Wya"].T @ (y_pred[:, :, t] - target[:, :, t]) / m  # from ŷ<t> only
        step = rnnlib.rnn_cell_backward(da_t, caches[t])
        for name in expected:
            expected[name] += step[name]
    for name in expected:
        np.testing.assert_allclose(cut[name], expected[name], rtol=1e-10, err_msg=name)
    assert not cut["da0"].any(), "truncate=0: a<0> is outside every window, da0 must be 0"


# ----------------------------------------------------------- one step and the whole sequence


@pytest.mark.parametrize("hidden", ["tanh", "relu"])
def test_rnn_cell_backward_matches_centred_differences(make_problem, hidden):
    problem = kink_free_problem(make_problem, hidden, T_x=1, m=3)
    xt, a_prev, p = problem["x"][:, :, 0], problem["a0"], problem["parameters"]
    da_next = np.random.default_rng(1).normal(size=a_prev.shape)  # a random upstream gradient
    _, _, cache = rnnlib.rnn_cell_forward(xt, a_prev, p, hidden)
    gradients = rnnlib.rnn_cell_backward(da_next, cache)

    def loss(xt, a_prev, p):  # L = Σ da_next ⊙ a_next, so ∂L/∂a_next = da_next
        return float(np.sum(da_next * rnnlib.rnn_cell_forward(xt, a_prev, p, hidden)[0]))

    numeric = {
        "dxt": centred_differences(lambda v: loss(v, a_prev, p), xt),
        "da_prev": centred_differences(lambda v: loss(xt, v, p), a_prev),
    }
    for name in ("Wax", "Waa", "ba"):
        numeric["d" + name] = centred_differences(
            lambda v, n=name: loss(xt, a_prev, {**p, n: v}), p[name]
        )
    assert set(gradients) == set(numeric), f"rnn_cell_backward returned {sorted(gradients)}"
    for name, expected in numeric.items():
        error = rel_error(gradients[name], expected)
        assert error < BOUND, f"rnn_cell_backward {name} ({hidden}): relative error {error:.2e}"


@pytest.mark.parametrize("hidden", ["tanh", "relu"])
def test_rnn_backward_matches_centred_differences(make_problem, hidden):
    problem = kink_free_problem(make_problem, hidden, T_x=4)
    x, a0, p = problem["x"], problem["a0"], problem["parameters"]
    da = np.random.default_rng(2).normal(size=(a0.shape[0], a0.shape[1], 4))
    _, _, caches = rnnlib.rnn_forward(x, a0, p, hidden)
    gradients = rnnlib.rnn_backward(da, caches)

    def loss(x, a0, p):  # L = Σ_t Σ da<t> ⊙ a<t>: da is the upstream gradient on every state
        return float(np.sum(da * rnnlib.rnn_forward(x, a0, p, hidden)[0]))

    numeric = {
        "dx": centred_differences(lambda v: loss(v, a0, p), x),
        "da0": centred_differences(lambda v: loss(x, v, p), a0),
    }
    for name in ("Wax", "Waa", "ba"):
        numeric["d" + name] = centred_differences(
            lambda v, n=name: loss(x, a0, {**p, n: v}), p[name]
        )
    assert set(gradients) == set(numeric), f"rnn_backward returned {sorted(gradients)}"
    for name, expected in numeric.items():
        error = rel_error(gradients[name], expected)
        assert error < BOUND, f"rnn_backward {name} ({hidden}): relative error {error:.2e}"


# ------------------------------------------------------------------ the checker itself


def test_numerical_gradient_of_a_known_function_leaves_theta_unchanged():
    theta = np.random.default_rng(3).normal(size=(3, 4))
    before = theta.copy()
    estimate = rnnlib.numerical_gradient(lambda v: float(np.sum(np.sin(v) * v)), theta)
    exact = np.cos(theta) * theta + np.sin(theta)
    assert rel_error(estimate, exact) < BOUND, "numerical_gradient of Σ θ sin θ is wrong"
    np.testing.assert_array_equal(theta, before, err_msg="numerical_gradient changed theta")
    subset = rnnlib.numerical_gradient(lambda v: float(np.sum(v**2)), theta, entries=[0, 5])
    np.testing.assert_allclose(
        subset,
        2 * theta.ravel()[[0, 5]],
        rtol=1e-8,
        err_msg="entries=[0, 5] should give those two partials",
    )


def test_relative_error_is_zero_for_equal_and_one_for_opposite_gradients():
    g = np.array([1.0, -2.0, 3.0])
    assert rnnlib.relative_error(g, g) == 0.0, "equal gradients should have relative error 0"
    assert rnnlib.relative_error(g, -g) == pytest.approx(1.0), "g vs -g should give 1"
    assert rnnlib.relative_error(np.zeros(3), np.zeros(3)) == 0.0, "two zero gradients: 0"


def test_gradient_check_reports_a_wrong_gradient(make_problem, monkeypatch):
    bptt_module = importlib.import_module("rnnlib.bptt")
    honest = bptt_module.bptt

    def off_by_one_percent(*args, **kwargs):
        loss, gradients, a_last = honest(*args, **kwargs)
        return loss, {**gradients, "dWaa": gradients["dWaa"] * 1.01}, a_last

    monkeypatch.setattr(bptt_module, "bptt", off_by_one_percent)
    errors = rnnlib.gradient_check(**make_problem(T_x=4))
    assert errors["dWaa"] > 1e-3, f"a 1% error in dWaa was reported as {errors['dWaa']:.2e}"
    others = {k: v for k, v in errors.items() if k != "dWaa"}
    assert max(others.values()) < BOUND, f"only dWaa was broken, got {others}"


def test_gradient_check_on_a_random_subset_of_entries(make_problem):
    errors = rnnlib.gradient_check(**make_problem(n_x=6, n_a=5, T_x=4), num_checks=4, seed=1)
    worst = max(errors, key=errors.get)
    assert errors[worst] < BOUND, f"num_checks=4: {worst} relative error {errors[worst]:.2e}"


@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
def test_output_layer_backward_matches_centred_differences(make_problem, output):
    """dWya, dby and da: the derivatives of the loss with the hidden states a held as inputs."""
    problem = make_problem(T_x=4, output_activation=output)
    x, y, a0, p = problem["x"], problem["y"], problem["a0"], problem["parameters"]
    a, y_pred, _ = rnnlib.rnn_forward(x, a0, p, "tanh", output)
    gradients = rnnlib.output_layer_backward(y_pred, y, a, p)
    m, T_x = a0.shape[1], a.shape[2]

    def loss(a, p):  # Σ_t L<t> / m from the states, written from the equations
        y_t = (lambda t: y[:, t]) if output == "softmax" else (lambda t: y[:, :, t])
        return sum(reference_step_loss(a[:, :, t], y_t(t), p, output) for t in range(T_x)) / m

    numeric = {
        "dWya": centred_differences(lambda v: loss(a, {**p, "Wya": v}), p["Wya"]),
        "dby": centred_differences(lambda v: loss(a, {**p, "by": v}), p["by"]),
        "da": centred_differences(lambda v: loss(v, p), a),
    }
    assert set(gradients) == set(numeric), f"output_layer_backward returned {sorted(gradients)}"
    for name, expected in numeric.items():
        error = rel_error(gradients[name], expected)
        assert error < BOUND, f"output_layer_backward {name} ({output}): relative error {error:.2e}"


@pytest.mark.parametrize("truncate", [0, 1, 2, 3])
@pytest.mark.parametrize("hidden", ["tanh", "relu"])
def test_rnn_backward_truncated_matches_centred_differences_of_the_surrogate(
    make_problem, hidden, truncate
):
    """Step t's upstream gradient da<t> reaches a<t>, ..., a<t-k> (k + 1 states, the course's
    numbering from 1); a<t-k-1> is held at its value: centred differences of that surrogate."""
    problem = kink_free_problem(make_problem, hidden, T_x=5)
    x, a0, p = problem["x"], problem["a0"], problem["parameters"]
    da = np.random.default_rng(3).normal(size=(a0.shape[0], a0.shape[1], 5))
    states, _ = reference_states(x, a0, p, hidden)  # the unperturbed a<0>, ..., a<T_x>
    gradients = rnnlib.rnn_backward_truncated(da, rnnlib.rnn_forward(x, a0, p, hidden)[2], truncate)

    def surrogate(x, a0, p):  # Σ_t da<t> ⊙ a<t>, each a<t> recomputed from its window only
        total = 0.0
        for t in range(1, 6):
            start = t - truncate - 1
            a = a0 if start < 0 else states[start]  # a<t-k-1>: a constant (a<0> moves with a0)
            for s in range(max(start, 0) + 1, t + 1):
                a = g1(hidden, p["Waa"] @ a + p["Wax"] @ x[:, :, s - 1] + p["ba"])
            total += float(np.sum(da[:, :, t - 1] * a))
        return total

    numeric = {
        "dx": centred_differences(lambda v: surrogate(v, a0, p), x),
        "da0": centred_differences(lambda v: surrogate(x, v, p), a0),
    }
    for name in ("Wax", "Waa", "ba"):
        numeric["d" + name] = centred_differences(
            lambda v, n=name: surrogate(x, a0, {**p, n: v}), p[name]
        )
    for name, expected in numeric.items():
        error = rel_error(gradients[name], expected)
        assert error < BOUND, (
            f"rnn_backward_truncated {name} ({hidden}, truncate={truncate}): "
            f"relative error {error:.2e}"
        )
