"""Correct answers to 02-stacking with np.hstack / np.vstack, np.hsplit and np.matmul."""

import numpy as np


def stack_weights(Waa, Wax):
    return np.hstack((Waa, Wax))


def split_weights(Wa, n_a):
    Waa, Wax = np.hsplit(Wa, [n_a])
    return Waa, Wax


def stack_inputs(a_prev, xt):
    return np.vstack((a_prev, xt))


def rnn_cell_forward_stacked(
    xt, a_prev, Wa, ba, Wya, by, hidden_activation="tanh", output_activation="softmax"
):
    z = np.matmul(Wa, stack_inputs(a_prev, xt)) + ba
    a_next = np.tanh(z) if hidden_activation == "tanh" else np.maximum(0, z)
    o = np.matmul(Wya, a_next) + by
    if output_activation == "softmax":
        e = np.exp(o - o.max(0, keepdims=True))
        yt_pred = e / e.sum(0, keepdims=True)
    else:
        yt_pred = 1 / (1 + np.exp(-o))
    Waa, Wax = split_weights(Wa, a_prev.shape[0])
    parameters = {"Waa": Waa, "Wax": Wax, "Wya": Wya, "ba": ba, "by": by}
    return a_next, yt_pred, (a_next, a_prev, xt, parameters, hidden_activation)
