"""Correct answers to 06-vanishing: the deltas collected and the norms taken at once."""

import numpy as np


def backprop_norms(da_next, caches):
    deltas = [da_next]
    for a_next, _, _, parameters, g1 in caches[:0:-1]:  # every step but the first, last first
        g1_prime = 1 - a_next**2 if g1 == "tanh" else np.heaviside(a_next, 0)
        deltas.append(np.einsum("ba,bm->am", parameters["Waa"], deltas[-1] * g1_prime))
    return np.sqrt(np.einsum("dam,dam->d", np.array(deltas), np.array(deltas)))
