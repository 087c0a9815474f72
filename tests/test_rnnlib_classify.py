"""Many-to-one with a sigmoid output: the forward, its BPTT checked numerically, the data, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import rnnlib
from rnnlib.classify import (
    N_CHARS,
    PAD,
    code_and_prose_lines,
    encode_lines,
    many_to_one_backward,
    many_to_one_forward,
    predict,
    train_classifier,
)

pytestmark = pytest.mark.usefixtures("one_blas_thread")
N_X, N_A, M, T_X = 5, 4, 3, 6


def problem(seed=0, T_x=T_X, activation="tanh"):
    rng = np.random.default_rng(seed)
    parameters = rnnlib.initialize_parameters(N_A, N_X, 1, seed=seed, scale=0.7)
    parameters["ba"] = rng.standard_normal((N_A, 1)) * 0.3
    parameters["by"] = rng.standard_normal((1, 1))
    ids = rng.integers(0, N_X, size=(M, T_x))
    x = np.zeros((N_X, M, T_x))
    x[ids, np.arange(M)[:, None], np.arange(T_x)] = 1
    y = rng.integers(0, 2, size=M)
    a0 = rng.standard_normal((N_A, M)) * 0.5
    return x, ids, y, a0, parameters


def loss_from_the_equations(x, y, a0, parameters, activation="tanh"):
    """L = -(1/m) Σ_j [y log σ(o) + (1 - y) log(1 - σ(o))], o = Wya a<T_x> + by, written out."""
    g1 = np.tanh if activation == "tanh" else (lambda z: np.maximum(z, 0))
    a = a0
    for t in range(x.shape[2]):
        a = g1(parameters["Waa"] @ a + parameters["Wax"] @ x[:, :, t] + parameters["ba"])
    p = 1 / (1 + np.exp(-(parameters["Wya"] @ a + parameters["by"]).ravel()))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_forward_is_the_binary_cross_entropy_of_the_last_step(seed, activation):
    x, _, y, a0, parameters = problem(seed)
    loss, y_pred, _ = many_to_one_forward(x, y, a0, parameters, activation)
    assert y_pred.shape == (1, M), f"ŷ should be (1, m), got {y_pred.shape}"
    expected = loss_from_the_equations(x, y, a0, parameters, activation)
    assert np.isclose(loss, expected, rtol=1e-12), f"loss {loss} != {expected}"


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_backward_matches_centred_differences(seed, activation):
    x, _, y, a0, parameters = problem(seed)
    _, _, cache = many_to_one_forward(x, y, a0, parameters, activation)
    gradients = many_to_one_backward(cache)
    h = 1e-5
    for name in (*rnnlib.PARAMETER_NAMES, "a0"):
        value = a0 if name == "a0" else parameters[name]
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            shifted = []
            for sign in (1, -1):
                v = value.copy()
                v[index] += sign * h
                p = parameters if name == "a0" else {**parameters, name: v}
                shifted.append(
                    loss_from_the_equations(x, y, v if name == "a0" else a0, p, activation)
                )
            numeric[index] = (shifted[0] - shifted[1]) / (2 * h)
        error = rnnlib.relative_error(gradients["d" + name], numeric)
        assert error < 1e-7, f"d{name}: relative error {error:.2e} against centred differences"


def test_earlier_steps_get_gradient_through_the_recurrence_only():
    """The loss is at the last step, yet Wax's gradient has a share from every step's input: the
    gradient reaches step t through Waaᵀ. With Waa = 0 only the last input's column moves."""
    x, ids, y, a0, parameters = problem(0)
    _, _, cache = many_to_one_forward(ids, y, a0, parameters)
    first_only = np.zeros_like(ids)  # only step 1 differs between two inputs
    first_only[:, 0] = ids[:, 0]
    assert np.abs(many_to_one_backward(cache)["da0"]).sum() > 0, "no gradient reaches a<0>"
    cut = {**parameters, "Waa": np.zeros_like(parameters["Waa"])}
    _, _, cache = many_to_one_forward(ids, y, a0, cut)
    g = many_to_one_backward(cache)
    assert np.all(g["da0"] == 0), "with Waa = 0 nothing flows back past the last step"
    unused = np.setdiff1d(np.arange(N_X), ids[:, -1])
    assert np.all(g["dWax"][:, unused] == 0), "a column not used at the last step moved"


def test_token_ids_give_what_one_hot_gives():
    x, ids, y, a0, parameters = problem(3)
    loss, y_pred, cache = many_to_one_forward(x, y, a0, parameters)
    loss_ids, y_pred_ids, cache_ids = many_to_one_forward(ids, y, a0, parameters)
    assert np.isclose(loss, loss_ids) and np.allclose(y_pred, y_pred_ids)
    g, g_ids = many_to_one_backward(cache), many_to_one_backward(cache_ids)
    for name in g:
        np.testing.assert_allclose(g_ids[name], g[name], rtol=1e-12, atol=1e-15, err_msg=name)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"y": np.array([0, 2, 1])}, r"y: expected labels 0 or 1 \(one per sequence\), got 2"),
        ({"y": np.array([0.5, 1, 0])}, r"y: expected labels 0 or 1 .*got 0.5"),
        ({"y": np.array([-1, 1, 0])}, r"y: expected labels 0 or 1 .*got -1"),
        ({"y": np.array([0, 1])}, r"y: expected shape \(m,\) = \(3,\).*got \(2,\)"),
        ({"x": np.zeros((N_X, M, 0))}, r"x: expected T_x >= 1, got an empty axis \(T_x = 0\)"),
    ],
    ids=["label-2", "label-half", "label-negative", "labels-short", "length-0"],
)
def test_bad_input_names_the_argument_what_it_got_and_expected(change, message):
    x, _, y, a0, parameters = problem(0)
    args = {"x": x, "y": y, "a0": a0, "parameters": parameters, **change}
    with pytest.raises(ValueError, match=message):
        many_to_one_forward(**args)


def test_more_than_one_output_is_refused():
    x, _, y, a0, _ = problem(0)
    parameters = rnnlib.initialize_parameters(N_A, N_X, 2)
    with pytest.raises(ValueError, match=r"parameters: .* expected n_y = 1, got Wya of shape"):
        many_to_one_forward(x, y, a0, parameters)


def test_lines_are_labelled_balanced_and_split_by_module():
    data = code_and_prose_lines(per_class=500)
    assert len(data.train_lines) == 1000 and data.train_labels.mean() == 0.5
    assert len(data.test_lines) == 100 and data.test_labels.mean() == 0.5
    assert not set(data.train_lines) & set(data.test_lines) - {""}, "a line on both sides"
    code = [l for l, y in zip(data.train_lines, data.train_labels, strict=True) if y == 0]
    assert sum(("(" in l or "=" in l or ":" in l) for l in code) > 0.8 * len(code), "code lines?"
    again = code_and_prose_lines(per_class=500)
    assert again.train_lines == data.train_lines, "the same seed drew other lines"


def test_encode_lines_left_pads_so_the_last_character_is_the_last_step():
    ids = encode_lines(["ab", "abcdef"], T_x=4)
    assert ids.shape == (2, 4) and ids[0, 0] == PAD and ids[0, 1] == PAD
    assert ids[0, -1] == ids[1, 1], "'b' should have one id"
    assert ids.max() < N_CHARS


def test_classifier_beats_the_trivial_baseline_on_held_out_lines():
    data = code_and_prose_lines(per_class=2000)
    parameters, losses = train_classifier(encode_lines(data.train_lines), data.train_labels)
    accuracy = np.mean(
        (predict(parameters, encode_lines(data.test_lines)) > 0.5) == data.test_labels
    )
    assert np.mean(losses[-30:]) < np.mean(losses[:30]), "training did not lower the loss"
    assert accuracy > 0.65, f"held-out accuracy {accuracy:.2f}; the majority label gives 0.5"
