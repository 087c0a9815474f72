"""Mutant of numerical_gradient (04-bptt): one-sided (forward) differences."""

import numpy as np

EXPECTED_MISTAKE = "forward) differences"


def numerical_gradient(f, theta, epsilon=1e-5, entries=None):
    entries = np.arange(theta.size) if entries is None else np.asarray(entries)
    grad = np.empty(len(entries))
    f0 = f(theta)
    for i, flat in enumerate(entries):
        shifted = theta.copy()
        shifted.flat[flat] += epsilon
        grad[i] = (f(shifted) - f0) / epsilon  # mistake: one-sided
    return grad.reshape(theta.shape) if len(entries) == theta.size else grad
