"""Mutant of backprop_norms (06-vanishing): the activation's derivative left out."""

import numpy as np

EXPECTED_MISTAKE = "derivative g1'(z) is missing"


def backprop_norms(da_next, caches):
    norms = np.empty(len(caches))
    delta = da_next
    for d, (_a_next, _a_prev, _xt, parameters, _g1) in enumerate(reversed(caches)):
        norms[d] = np.linalg.norm(delta)
        delta = parameters["Waa"].T @ delta  # mistake: no g1'(z)
    return norms
