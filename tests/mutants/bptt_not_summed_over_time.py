"""Mutant of rnn_backward (04-bptt): the shared weights' gradients assigned, not summed."""

import numpy as np

EXPECTED_MISTAKE = "not summed over time steps"


def rnn_backward(da, caches):
    n_a, m, T_x = da.shape
    parameters = caches[0][3]
    gradients = {"dx": np.zeros((parameters["Wax"].shape[1], m, T_x))}
    da_prevt = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        a_next, a_prev, xt, _, hidden_activation = caches[t]
        dz = (da[:, :, t] + da_prevt) * (
            1 - a_next**2 if hidden_activation == "tanh" else a_next > 0
        )
        gradients["dx"][:, :, t] = parameters["Wax"].T @ dz
        gradients["dWax"] = dz @ xt.T  # mistake: = instead of +=
        gradients["dWaa"] = dz @ a_prev.T
        gradients["dba"] = dz.sum(axis=1, keepdims=True)
        da_prevt = parameters["Waa"].T @ dz
    gradients["da0"] = da_prevt
    return gradients
