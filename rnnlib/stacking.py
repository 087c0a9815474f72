"""Lesson 2, weight-matrix stacking (notebooks/02-stacking): Wa = [Waa : Wax] applied to [a<t-1> ; x<t>].

    Waa a<t-1> + Wax x<t> = [Waa : Wax] [a<t-1> ; x<t>] = Wa [a<t-1> ; x<t>]

At the sizes that motivate it (n_a = 100, n_x = 10000) Wa is 100 × 10100. The stacked input
materialises x<t> as a dense one-hot block by definition; that is why rnnlib's fast path
(rnn_cell_forward, bptt) keeps Waa and Wax apart and gathers a column of Wax instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnlib._checks import checked
from rnnlib.forward import ACTIVATIONS


@checked
def stack_weights(Waa: np.ndarray, Wax: np.ndarray) -> np.ndarray:
    """Wa = [Waa : Wax], the two input weights side by side.

    Inputs:
    - Waa: hidden-to-hidden weights, shape (n_a, n_a)
    - Wax: input-to-hidden weights, shape (n_a, n_x)

    Returns:
    - Wa: shape (n_a, n_a + n_x)
    """
    return np.concatenate([Waa, Wax], axis=1)  # (n_a, n_a + n_x)


@checked
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


@checked
def stack_inputs(a_prev: np.ndarray, xt: np.ndarray) -> np.ndarray:
    """[a<t-1> ; x<t>], the previous state on top of the input.

    Inputs:
    - a_prev: hidden state a<t-1>, shape (n_a, m)
    - xt: input at step t, shape (n_x, m)

    Returns:
    - the stacked column, shape (n_a + n_x, m)
    """
    return np.concatenate([a_prev, np.asarray(xt, dtype=a_prev.dtype)], axis=0)  # (n_a + n_x, m)


@checked
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
    - xt: input at step t, one-hot of shape (n_x, m), or token ids of shape (m,)
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
