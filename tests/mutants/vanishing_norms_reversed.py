"""Mutant of backprop_norms (06-vanishing): the norms listed from the first step, not the last."""

import numpy as np

EXPECTED_MISTAKE = "the norms are in the wrong order"


def backprop_norms(da_next, caches):
    norms = []
    delta = da_next
    for a_next, _a_prev, _xt, parameters, hidden_activation in reversed(caches):
        norms.append(np.linalg.norm(delta))
        g1_prime = 1 - a_next**2 if hidden_activation == "tanh" else (a_next > 0)
        delta = parameters["Waa"].T @ (delta * g1_prime)
    return np.array(norms[::-1])  # mistake: reversed
