"""Contracts where the function is: each public rnnlib function's input checks are declared beside
it (``check_<name>`` in its own module), and the checked function gives what its bare body gives —
the body the notebook shows as the answer — on every valid input.

Valid inputs are numpy arrays as the docstrings describe them, in float64 or float32, with one-hot
inputs and 0/1 targets also as integer arrays. Token ids are rnnlib's extension beyond the bare
equations (the contract wraps them, or rnnlib.bptt hands them to rnnlib.engine): there the checked
function on ids must equal the bare body on the same inputs one-hot.
"""

from __future__ import annotations

import copy
import inspect

import numpy as np
import pytest
from problems import random_problem

import rnnlib
from rnnlib import _checks

pytestmark = pytest.mark.usefixtures("one_blas_thread")

CHECKED = sorted(
    name
    for name in rnnlib.__all__
    if inspect.isfunction(getattr(rnnlib, name)) and hasattr(getattr(rnnlib, name), "contract")
)


def one_hot(ids: np.ndarray, n_x: int) -> np.ndarray:
    """(n_x, *ids.shape) one-hot columns of token ids."""
    return np.moveaxis(np.eye(n_x)[ids], -1, 0)


def as_dtype(problem: dict, dtype) -> dict:
    """The problem with its parameters and a0 in ``dtype`` (x and y untouched)."""
    p = {k: v.astype(dtype) for k, v in problem["parameters"].items()}
    return {**problem, "parameters": p, "a0": problem["a0"].astype(dtype)}


def cases() -> list[tuple[str, str, tuple, dict]]:
    """(function, label, args, kwargs) of valid calls: every checked function, several forms."""
    out = []
    for dtype in (np.float64, np.float32):
        tag = np.dtype(dtype).name
        P = as_dtype(random_problem(n_x=3, n_a=4, n_y=3, m=2, T_x=5, seed=1), dtype)
        S = as_dtype(random_problem(seed=2, output_activation="sigmoid"), dtype)
        x, y, a0, params = P["x"], P["y"], P["a0"], P["parameters"]
        x_int = x.astype(np.int64)  # the same one-hot input as integers
        out += [
            ("rnn_cell_forward", f"{tag}", (x[:, :, 0], a0, params), {}),
            ("rnn_cell_forward", f"{tag} int one-hot", (x_int[:, :, 0], a0, params), {}),
            (
                "rnn_cell_forward",
                f"{tag} relu sigmoid",
                (x[:, :, 0], a0, params, "relu", "sigmoid"),
                {},
            ),
            ("rnn_forward", f"{tag}", (x, a0, params), {}),
            (
                "rnn_forward",
                f"{tag} int one-hot",
                (x_int, a0, params),
                {"hidden_activation": "relu"},
            ),
            ("stack_weights", f"{tag}", (params["Waa"], params["Wax"]), {}),
            ("split_weights", f"{tag}", (np.hstack([params["Waa"], params["Wax"]]), 4), {}),
            ("stack_inputs", f"{tag}", (a0, x[:, :, 1]), {}),
            ("stack_inputs", f"{tag} int one-hot", (a0, x_int[:, :, 1]), {}),
            (
                "rnn_cell_forward_stacked",
                f"{tag}",
                (
                    x[:, :, 0],
                    a0,
                    np.hstack([params["Waa"], params["Wax"]]),
                    params["ba"],
                    params["Wya"],
                    params["by"],
                ),
                {},
            ),
            ("bptt", f"{tag}", (x, y, a0, params), {}),
            ("bptt", f"{tag} int one-hot, truncate=2", (x_int, y, a0, params, 2), {}),
            ("bptt", f"{tag} truncate=0 relu", (x, y, a0, params, 0, "relu"), {}),
            (
                "bptt",
                f"{tag} sigmoid, int 0/1 targets",
                (S["x"], S["y"].astype(np.int64), S["a0"], S["parameters"]),
                {"output_activation": "sigmoid"},
            ),
        ]
        if dtype == np.float64:  # gradient_check is for float64 ("Use float64.")
            out.append(
                ("gradient_check", tag, (x_int, y, a0, params), {"truncate": 1, "num_checks": 2})
            )
        a, y_pred, caches = rnnlib.rnn_forward(x, a0, params)
        S_a, s_pred, _ = rnnlib.rnn_forward(S["x"], S["a0"], S["parameters"], "tanh", "sigmoid")
        rng = np.random.default_rng(3)
        da = rng.standard_normal(a.shape).astype(dtype)
        out += [
            ("cross_entropy", f"{tag} labels", (y_pred, y), {}),
            ("cross_entropy", f"{tag} labels, one step", (y_pred[:, :, 0], y[:, 0]), {}),
            ("cross_entropy", f"{tag} 0/1 float targets", (s_pred, S["y"]), {}),
            ("cross_entropy", f"{tag} 0/1 integer targets", (s_pred, S["y"].astype(np.int64)), {}),
            ("rnn_cell_backward", f"{tag}", (da[:, :, 0], caches[0]), {}),
            ("rnn_backward", f"{tag}", (da, caches), {}),
            ("rnn_backward_truncated", f"{tag} truncate=0", (da, caches, 0), {}),
            ("rnn_backward_truncated", f"{tag} truncate=2", (da, caches, np.int64(2)), {}),
            ("output_layer_backward", f"{tag} labels", (y_pred, y, a, params), {}),
            (
                "output_layer_backward",
                f"{tag} 0/1 integer targets",
                (s_pred, S["y"].astype(np.int64), S_a, S["parameters"]),
                {},
            ),
            ("backprop_norms", f"{tag}", (da[:, :, -1], caches), {}),
        ]
        one_output = {**params, "Wya": params["Wya"][:1], "by": params["by"][:1]}
        labels = np.array([1, 0])
        _, _, m2o_cache = rnnlib.many_to_one_forward(x, labels, a0, one_output)
        out += [
            ("many_to_one_forward", f"{tag}", (x, labels, a0, one_output), {}),
            (
                "many_to_one_forward",
                f"{tag} relu, float labels",
                (x, labels.astype(float), a0, one_output),
                {"hidden_activation": "relu"},
            ),
            ("many_to_one_backward", f"{tag}", (m2o_cache,), {}),
        ]
        _, grads, _ = rnnlib.bptt(x, y, a0, params)
        out += [
            ("sgd_step", f"{tag}", (params, grads, 0.1), {}),
            ("clip_by_global_norm", f"{tag}", (grads, 0.01), {}),
            ("clip_by_value", f"{tag}", (grads, 0.01), {}),
            ("sample", f"{tag}", (params, 1, 6), {"temperature": 0.7, "seed": 3}),
            ("sample", f"{tag} numpy ints", (params, np.int64(1), np.int64(6)), {"stop_id": 2}),
        ]
    return out + lstm_cases()


def lstm_cases() -> list[tuple[str, str, tuple, dict]]:
    """Valid calls of lesson 7's checked functions (rnnlib/lstm.py), float64 and float32."""
    out = []
    for dtype in (np.float64, np.float32):
        tag = np.dtype(dtype).name
        p = {k: v.astype(dtype) for k, v in rnnlib.initialize_lstm_parameters(4, 3, 3).items()}
        P = random_problem(n_x=3, n_a=4, n_y=3, m=2, T_x=5, seed=5)
        x, y, a0 = P["x"], P["y"], P["a0"].astype(dtype)
        x_int = x.astype(np.int64)
        _, _, _, caches = rnnlib.lstm_forward(x, a0, p)
        da = np.random.default_rng(6).standard_normal((4, 2, 5)).astype(dtype)
        out += [
            ("lstm_cell_forward", tag, (x[:, :, 0], a0, a0, p), {}),
            ("lstm_cell_forward", f"{tag} int one-hot", (x_int[:, :, 0], a0, a0, p), {}),
            ("lstm_forward", tag, (x, a0, p), {}),
            ("lstm_cell_backward", tag, (da[:, :, 0], da[:, :, 1], caches[0]), {}),
            ("lstm_backward", tag, (da, caches), {}),
            ("lstm_bptt", tag, (x, y, a0, p), {}),
            ("lstm_bptt", f"{tag} int one-hot, truncate=2", (x_int, y, a0, p, 2), {}),
            ("lstm_backprop_norms", tag, (da[:, :, -1], caches), {}),
        ]
        g = {k: v.astype(dtype) for k, v in rnnlib.initialize_gru_parameters(4, 3, 3).items()}
        _, _, gru_caches = rnnlib.gru_forward(x, a0, g)
        out += [  # lesson 8, the GRU
            ("gru_cell_forward", tag, (x[:, :, 0], a0, g), {}),
            ("gru_cell_forward", f"{tag} int one-hot", (x_int[:, :, 0], a0, g), {}),
            ("gru_forward", tag, (x, a0, g), {}),
            ("gru_cell_backward", tag, (da[:, :, 0], gru_caches[0]), {}),
            ("gru_backward", tag, (da, gru_caches), {}),
            ("gru_bptt", tag, (x, y, a0, g), {}),
            ("gru_bptt", f"{tag} int one-hot, truncate=1", (x_int, y, a0, g, 1), {}),
        ]
    return out


CASES = cases()


def assert_same(got, want, rtol: float, where: str = "result") -> None:
    """``got`` equals ``want`` in structure, shape and value (to ``rtol``)."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), f"{where}: keys {got} vs {want}"
        for k in want:
            assert_same(got[k], want[k], rtol, f"{where}[{k!r}]")
    elif isinstance(want, (tuple, list)) and not isinstance(want, str):
        assert len(got) == len(want), f"{where}: {len(got)} items, the bare body gives {len(want)}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same(g, w, rtol, f"{where}[{i}]")
    elif isinstance(want, (np.ndarray, float, int, np.number)):
        got, want = np.asarray(got), np.asarray(want)
        assert got.shape == want.shape, f"{where}: shape {got.shape}, the bare body {want.shape}"
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol, err_msg=where)
    else:  # strings (activation names in caches), None
        assert got == want, f"{where}: {got!r} vs {want!r}"


def test_every_checked_function_has_cases():
    assert set(CHECKED) == {name for name, *_ in CASES}, (
        f"checked functions without cases: {set(CHECKED) - {n for n, *_ in CASES}}"
    )


@pytest.mark.parametrize(
    ("name", "label", "args", "kwargs"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES]
)
def test_the_checked_function_gives_what_its_bare_body_gives(name, label, args, kwargs):
    checked_fn = getattr(rnnlib, name)
    bare = inspect.unwrap(checked_fn)
    want = bare(*copy.deepcopy(args), **copy.deepcopy(kwargs))
    got = checked_fn(*copy.deepcopy(args), **copy.deepcopy(kwargs))
    float32 = "float32" in label  # the contract casts inputs to the parameters' dtype
    assert_same(got, want, rtol=2e-5 if float32 else 1e-12, where=f"{name} ({label})")


def test_integer_0_1_targets_are_targets_for_rnnlib_and_the_notebook_alike():
    """The case that first showed the two apart: 8.83 from rnnlib, ValueError from the bare copy."""
    y_pred = np.array([[[0.9, 0.2], [0.3, 0.6]]])  # (n_y, m, T_x) = (1, 2, 2)
    y = np.array([[[1, 0], [0, 1]]])
    expected = -(np.log(0.9) + np.log(0.8) + np.log(0.7) + np.log(0.6)) / 2
    assert np.isclose(rnnlib.cross_entropy(y_pred, y), expected)
    assert np.isclose(inspect.unwrap(rnnlib.cross_entropy)(y_pred, y), expected)


@pytest.mark.parametrize("name", ["rnn_cell_forward", "rnn_forward", "bptt"])
def test_token_ids_give_what_the_bare_body_gives_on_the_one_hot(name):
    P = random_problem(n_x=5, seed=4, ids=True)
    ids, y, a0, params = P["x"], P["y"], P["a0"], P["parameters"]
    args = {
        "rnn_cell_forward": lambda x: (x[..., 0] if x.ndim == 3 else x[:, 0], a0, params),
        "rnn_forward": lambda x: (x, a0, params),
        "bptt": lambda x: (x, y, a0, params),
    }[name]
    got = getattr(rnnlib, name)(*args(ids))
    want = inspect.unwrap(getattr(rnnlib, name))(*args(one_hot(ids, 5)))
    if name != "bptt":  # the caches hold the input as given: ids (a OneHot) or one-hot
        got, want = got[:2], want[:2]
    assert_same(got, want, rtol=1e-12, where=f"{name} on token ids")


@pytest.mark.parametrize("name", CHECKED)
def test_each_contract_is_declared_beside_its_function(name):
    fn = getattr(rnnlib, name)
    module = inspect.getmodule(inspect.unwrap(fn))
    assert fn.contract.__module__ == module.__name__, (
        f"{name}'s contract lives in {fn.contract.__module__}, not beside it in {module.__name__}"
    )
    assert fn.contract.__name__ in (f"check_{name}", "check_bptt"), (
        f"{name}'s contract is named {fn.contract.__name__}, not check_{name}"
    )


def test_the_shared_module_holds_pieces_not_a_validator_by_argument_name():
    assert not hasattr(_checks, "validate_arguments"), "rnnlib._checks still validates by name"
    names = {n for n in vars(_checks) if n.startswith("_") and n.endswith("_SHAPES")}
    assert not names, f"rnnlib._checks still maps argument names to shapes: {names}"
