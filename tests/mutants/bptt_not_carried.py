"""Mutant of rnn_backward (04-bptt): the gradient from a<t+1> is not carried into a<t>."""

import numpy as np

EXPECTED_MISTAKE = "not carried into a<t>"


def rnn_backward(da, caches):
    n_a, m, T_x = da.shape
    parameters = caches[0][3]
    gradients = {
        "dx": np.zeros((parameters["Wax"].shape[1], m, T_x)),
        "da0": np.zeros((n_a, m)),
        "dWax": np.zeros_like(parameters["Wax"]),
        "dWaa": np.zeros_like(parameters["Waa"]),
        "dba": np.zeros_like(parameters["ba"]),
    }
    for t in reversed(range(T_x)):
        step = rnn_cell_backward(da[:, :, t], caches[t])  # mistake: da_prev of step t+1 dropped
        gradients["dx"][:, :, t] = step["dxt"]
        gradients["dWax"] += step["dWax"]
        gradients["dWaa"] += step["dWaa"]
        gradients["dba"] += step["dba"]
        gradients["da0"] = step["da_prev"]
    return gradients


def rnn_cell_backward(da_next, cache):
    a_next, a_prev, xt, parameters, hidden_activation = cache
    dz = da_next * (1 - a_next**2 if hidden_activation == "tanh" else a_next > 0)
    return {
        "dxt": parameters["Wax"].T @ dz,
        "da_prev": parameters["Waa"].T @ dz,
        "dWax": dz @ xt.T,
        "dWaa": dz @ a_prev.T,
        "dba": dz.sum(axis=1, keepdims=True),
    }
