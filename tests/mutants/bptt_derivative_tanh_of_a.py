"""Mutant of rnn_cell_backward (04-bptt): the tanh derivative written as 1 - tanh(a)²."""

import numpy as np

EXPECTED_MISTAKE = "1 - tanh(a)²"


def rnn_cell_backward(da_next, cache):
    a_next, a_prev, xt, parameters, hidden_activation = cache
    if hidden_activation == "tanh":
        dz = da_next * (1 - np.tanh(a_next) ** 2)  # mistake: a_next is already tanh(z)
    else:
        dz = da_next * (a_next > 0)
    return {
        "dxt": parameters["Wax"].T @ dz,
        "da_prev": parameters["Waa"].T @ dz,
        "dWax": dz @ xt.T,
        "dWaa": dz @ a_prev.T,
        "dba": dz.sum(axis=1, keepdims=True),
    }
