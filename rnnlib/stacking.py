"""Lesson 2, weight-matrix stacking (notebooks/02-stacking): Wa = [Waa : Wax] applied to [a<t-1> ; x<t>].

    Waa a<t-1> + Wax x<t> = [Waa : Wax] [a<t-1> ; x<t>] = Wa [a<t-1> ; x<t>]

At the sizes that motivate it (n_a = 100, n_x = 10000) Wa is 100 × 10100. The stacked input
materialises x<t> as a dense one-hot block by definition; that is why rnnlib's fast path
(rnn_cell_forward, bptt) keeps Waa and Wax apart and gathers a column of Wax instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnlib._checks import (
    HIDDEN_ACTIVATIONS,
    OUTPUT_ACTIVATIONS,
    Dims,
    as_float_array,
    check_choice,
    check_count,
    check_input,
    check_nonempty,
    check_stacked_weights,
    check_state,
    checked,
    expect_shape,
)
from rnnlib.forward import ACTIVATIONS


def check_stack_weights(Waa, Wax) -> dict[str, Any]:
    """stack_weights' contract: Waa (n_a, n_a) and Wax (n_a, n_x), finite floats."""
    dims = Dims()
    Waa = as_float_array("Waa", Waa)
    expect_shape("Waa", Waa, ("n_a", "n_a"), dims)
    Wax = as_float_array("Wax", Wax)
    expect_shape("Wax", Wax, ("n_a", "n_x"), dims)
    check_nonempty(dims)
    return {"Waa": Waa, "Wax": Wax}


@checked(check_stack_weights)
def stack_weights(Waa: np.ndarray, Wax: np.ndarray) -> np.ndarray:
    """Wa = [Waa : Wax], the two input weights side by side.

    Inputs:
    - Waa: hidden-to-hidden weights, shape (n_a, n_a)
    - Wax: input-to-hidden weights, shape (n_a, n_x)

    Returns:
    - Wa: shape (n_a, n_a + n_x)
    """
    return np.concatenate([Waa, Wax], axis=1)  # (n_a, n_a + n_x)


def check_split_weights(Wa, n_a) -> dict[str, Any]:
    """split_weights' contract: Wa (n_a, n_a + n_x) with n_x >= 1, and n_a its number of rows."""
    dims = Dims()
    Wa = check_stacked_weights(Wa, dims)
    check_count("n_a", n_a, low=1)
    if n_a != dims["n_a"]:
        raise ValueError(
            f"n_a: expected the number of rows of Wa (n_a, n_a + n_x), {dims['n_a']}, got {n_a}"
        )
    check_nonempty(dims)
    return {"Wa": Wa, "n_a": n_a}


@checked(check_split_weights)
def split_weights(Wa: np.ndarray, n_a: int) -> tuple[np.ndarray, np.ndarray]:
    """(Waa, Wax) from Wa = [Waa : Wax]: the first n_a columns, then the rest.

    Inputs:
    - Wa: stacked weights, shape (n_a, n_a + n_x)
    - n_a: number of hidden units

    Returns a tuple of:
    - Waa: shape (n_a, n_a)
    - Wax: shape (n_a, n_x)
    """
    return Wa[:, :n_a], Wa[:, n_a:]


def check_stack_inputs(a_prev, xt) -> dict[str, Any]:
    """stack_inputs' contract: a_prev (n_a, m) and a one-hot xt (n_x, m) (no n_x to read ids by)."""
    dims = Dims()
    a_prev = check_state("a_prev", a_prev, ("n_a", "m"), dims)
    xt = check_input("xt", xt, dims, ("n_x", "m"), None)
    check_nonempty(dims)
    return {"a_prev": a_prev, "xt": xt}


@checked(check_stack_inputs)
def stack_inputs(a_prev: np.ndarray, xt: np.ndarray) -> np.ndarray:
    """[a<t-1> ; x<t>], the previous state on top of the input.

    Inputs:
    - a_prev: hidden state a<t-1>, shape (n_a, m)
    - xt: input at step t, shape (n_x, m)

    Returns:
    - the stacked column, shape (n_a + n_x, m)
    """
    return np.concatenate([a_prev, np.asarray(xt, dtype=a_prev.dtype)], axis=0)  # (n_a + n_x, m)


def check_rnn_cell_forward_stacked(
    xt, a_prev, Wa, ba, Wya, by, hidden_activation, output_activation
) -> dict[str, Any]:
    """rnn_cell_forward_stacked's contract: Wa (n_a, n_a + n_x), ba (n_a, 1), Wya (n_y, n_a),
    by (n_y, 1) in Wa's dtype, the activations, a_prev (n_a, m), xt one-hot (n_x, m) or ids (m,)."""
    dims = Dims()
    Wa = check_stacked_weights(Wa, dims)
    rest = {}
    for key, value, names in (
        ("ba", ba, ("n_a", "1")),
        ("Wya", Wya, ("n_y", "n_a")),
        ("by", by, ("n_y", "1")),
    ):
        rest[key] = as_float_array(key, value, Wa.dtype)
        expect_shape(key, rest[key], names, dims)
    check_choice("hidden_activation", hidden_activation, HIDDEN_ACTIVATIONS)
    check_choice("output_activation", output_activation, OUTPUT_ACTIVATIONS)
    xt = check_input("xt", xt, dims, ("n_x", "m"), Wa.dtype)  # the data sets m first
    a_prev = check_state("a_prev", a_prev, ("n_a", "m"), dims, Wa.dtype)
    check_nonempty(dims)
    return {
        "xt": xt,
        "a_prev": a_prev,
        "Wa": Wa,
        **rest,
        "hidden_activation": hidden_activation,
        "output_activation": output_activation,
    }


@checked(check_rnn_cell_forward_stacked)
def rnn_cell_forward_stacked(
    xt: np.ndarray,
    a_prev: np.ndarray,
    Wa: np.ndarray,
    ba: np.ndarray,
    Wya: np.ndarray,
    by: np.ndarray,
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[np.ndarray, np.ndarray, tuple[Any, ...]]:
    """One step in stacked form: a<t> = g1(Wa [a<t-1> ; x<t>] + ba), ŷ<t> = g2(Wya a<t> + by).

    Inputs:
    - xt: input at step t, one-hot, shape (n_x, m)
    - a_prev: hidden state a<t-1>, shape (n_a, m)
    - Wa: stacked weights [Waa : Wax], shape (n_a, n_a + n_x)
    - ba: hidden bias, shape (n_a, 1)
    - Wya: output weights, shape (n_y, n_a)
    - by: output bias, shape (n_y, 1)
    - hidden_activation: g1, "tanh" or "relu"
    - output_activation: g2, "softmax" or "sigmoid"

    Returns the same as rnn_cell_forward:
    - a_next: shape (n_a, m)
    - yt_pred: shape (n_y, m)
    - cache: (a_next, a_prev, xt, parameters, hidden_activation), parameters in unstacked form
    """
    g1, g2 = ACTIVATIONS[hidden_activation], ACTIVATIONS[output_activation]
    a_next = g1(Wa @ stack_inputs(a_prev, xt) + ba)  # (n_a, m)
    yt_pred = g2(Wya @ a_next + by)  # (n_y, m)
    Waa, Wax = split_weights(Wa, a_prev.shape[0])
    parameters = {"Waa": Waa, "Wax": Wax, "Wya": Wya, "ba": ba, "by": by}
    cache = (a_next, a_prev, xt, parameters, hidden_activation)
    return a_next, yt_pred, cache
