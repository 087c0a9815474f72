"""Lesson 1, forward propagation (notebooks/01-forward): one RNN cell, then the unrolled sequence.

    a<t> = g1(Waa a<t-1> + Wax x<t> + ba)        g1 = tanh or relu
    ŷ<t> = g2(Wya a<t> + by)                     g2 = softmax or sigmoid

Shapes: x (n_x, m, T_x), a (n_a, m, T_x), ŷ (n_y, m, T_x); the minibatch is axis 1, time the last.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnlib._checks import (
    HIDDEN_ACTIVATIONS,
    OUTPUT_ACTIVATIONS,
    Dims,
    check_choice,
    check_input,
    check_nonempty,
    check_parameters,
    check_state,
    checked,
    parameters_dtype,
)
from rnnlib.loss import softmax


def tanh(z: np.ndarray) -> np.ndarray:
    """g(z) = tanh(z), element-wise."""
    return np.tanh(z)


def relu(z: np.ndarray) -> np.ndarray:
    """g(z) = max(z, 0), element-wise."""
    return np.maximum(z, 0)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1 / (1 + e^-z), element-wise, written as exp(-log(1 + e^-z)) so it never overflows."""
    return np.exp(-np.logaddexp(0, -z))


ACTIVATIONS = {"tanh": tanh, "relu": relu, "softmax": softmax, "sigmoid": sigmoid}


def activation_derivative(name: str, a: np.ndarray) -> np.ndarray:
    """g'(z) written with the activation's output a = g(z): 1 - a² for tanh, [a > 0] for relu."""
    if name == "tanh":
        return 1 - a**2
    if name == "relu":
        return (a > 0).astype(a.dtype)
    raise ValueError(f"hidden_activation: expected one of ('tanh', 'relu'), got {name!r}")


def check_rnn_cell_forward(
    xt, a_prev, parameters, hidden_activation, output_activation, *, names=("n_x", "m")
) -> dict[str, Any]:
    """rnn_cell_forward's contract: the parameters, the activations, xt one-hot (n_x, m) or token
    ids (m,) (wrapped as a OneHot), then a_prev (n_a, m): the data sets m, so a state of the wrong
    shape is the one blamed. Also rnn_forward's, for a sequence. The token ids are rnnlib's own
    extension (notebook 2); the exercises' docstrings and tests use one-hot inputs only."""
    dims = Dims()
    parameters = check_parameters(parameters, dims)
    dtype = parameters_dtype(parameters)
    check_choice("hidden_activation", hidden_activation, HIDDEN_ACTIVATIONS)
    check_choice("output_activation", output_activation, OUTPUT_ACTIVATIONS)
    state, inputs = ("a_prev", "xt") if len(names) == 2 else ("a0", "x")
    xt = check_input(inputs, xt, dims, names, dtype)
    a_prev = check_state(state, a_prev, ("n_a", "m"), dims, dtype)
    check_nonempty(dims)
    return {
        inputs: xt,
        state: a_prev,
        "parameters": parameters,
        "hidden_activation": hidden_activation,
        "output_activation": output_activation,
    }


def check_rnn_forward(x, a0, parameters, hidden_activation, output_activation) -> dict[str, Any]:
    """rnn_forward's contract: as rnn_cell_forward's, with a0 (n_a, m) and x (n_x, m, T_x) or ids."""
    return check_rnn_cell_forward(
        x, a0, parameters, hidden_activation, output_activation, names=("n_x", "m", "T_x")
    )


@checked(check_rnn_cell_forward)
def rnn_cell_forward(
    xt: np.ndarray,
    a_prev: np.ndarray,
    parameters: dict[str, np.ndarray],
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[np.ndarray, np.ndarray, tuple[Any, ...]]:
    """One step: a<t> = g1(Waa a<t-1> + Wax x<t> + ba), ŷ<t> = g2(Wya a<t> + by).

    Inputs:
    - xt: input at step t, one-hot, shape (n_x, m)
    - a_prev: hidden state a<t-1>, shape (n_a, m)
    - parameters: dict with Waa (n_a, n_a), Wax (n_a, n_x), Wya (n_y, n_a), ba (n_a, 1), by (n_y, 1)
    - hidden_activation: g1, "tanh" or "relu"
    - output_activation: g2, "softmax" or "sigmoid"

    Returns a tuple of:
    - a_next: hidden state a<t>, shape (n_a, m)
    - yt_pred: prediction ŷ<t>, shape (n_y, m)
    - cache: (a_next, a_prev, xt, parameters, hidden_activation), what rnn_cell_backward needs
    """
    Waa, Wax, Wya = parameters["Waa"], parameters["Wax"], parameters["Wya"]
    ba, by = parameters["ba"], parameters["by"]
    g1, g2 = ACTIVATIONS[hidden_activation], ACTIVATIONS[output_activation]
    a_next = g1(Waa @ a_prev + Wax @ xt + ba)  # (n_a, m)
    yt_pred = g2(Wya @ a_next + by)  # (n_y, m)
    cache = (a_next, a_prev, xt, parameters, hidden_activation)
    return a_next, yt_pred, cache


@checked(check_rnn_forward)
def rnn_forward(
    x: np.ndarray,
    a0: np.ndarray,
    parameters: dict[str, np.ndarray],
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[np.ndarray, np.ndarray, list[tuple[Any, ...]]]:
    """The unrolled network: a<t> = g1(Waa a<t-1> + Wax x<t> + ba), ŷ<t> = g2(Wya a<t> + by), t = 1..T_x.

    Inputs:
    - x: inputs for every step, one-hot, shape (n_x, m, T_x)
    - a0: initial hidden state a<0>, shape (n_a, m)
    - parameters: dict with Waa (n_a, n_a), Wax (n_a, n_x), Wya (n_y, n_a), ba (n_a, 1), by (n_y, 1)
    - hidden_activation: g1, "tanh" or "relu"
    - output_activation: g2, "softmax" or "sigmoid"

    Returns a tuple of:
    - a: hidden states a<1>..a<T_x>, shape (n_a, m, T_x)
    - y_pred: predictions ŷ<1>..ŷ<T_x>, shape (n_y, m, T_x)
    - caches: list of the T_x caches of rnn_cell_forward, in time order
    """
    n_x, m, T_x = x.shape
    n_a = a0.shape[0]
    n_y = parameters["Wya"].shape[0]
    dtype = np.result_type(a0, parameters["Waa"])
    a = np.zeros((n_a, m, T_x), dtype=dtype)
    y_pred = np.zeros((n_y, m, T_x), dtype=dtype)
    caches = []
    a_next = a0
    for t in range(T_x):
        a_next, yt_pred, cache = rnn_cell_forward(
            x[:, :, t], a_next, parameters, hidden_activation, output_activation
        )
        a[:, :, t] = a_next
        y_pred[:, :, t] = yt_pred
        caches.append(cache)
    return a, y_pred, caches
