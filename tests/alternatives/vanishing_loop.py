"""Correct answers to 06-vanishing with a loop that goes backwards in time and np.dot."""

import numpy as np


def backprop_norms(da_next, caches):
    T_x = len(caches)
    norms = np.zeros(T_x)
    delta = da_next
    for t in range(T_x - 1, -1, -1):
        norms[T_x - 1 - t] = np.sqrt(np.sum(delta**2))
        a_next, _, _, parameters, g1 = caches[t]
        derivative = 1 - a_next * a_next if g1 == "tanh" else (a_next > 0).astype(float)
        delta = np.dot(parameters["Waa"].T, delta * derivative)
    return norms
