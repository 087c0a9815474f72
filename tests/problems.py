"""Random RNN problems the tests share (a module of its own: tests/browser has a conftest too,
so ``from conftest import ...`` may find the wrong one)."""

from __future__ import annotations

import numpy as np


def random_problem(
    n_x=3, n_a=4, n_y=3, m=2, T_x=5, seed=0, output_activation="softmax", scale=0.5, ids=False
):
    """x, y, a0 and parameters with random (nonzero) weights and biases.

    x is one-hot (n_x, m, T_x), or token ids (m, T_x) when ``ids``; y holds labels (m, T_x) for
    softmax and 0/1 targets (n_y, m, T_x) for sigmoid.
    """
    rng = np.random.default_rng(seed)
    parameters = {
        "Waa": rng.normal(0, scale, (n_a, n_a)),
        "Wax": rng.normal(0, scale, (n_a, n_x)),
        "Wya": rng.normal(0, scale, (n_y, n_a)),
        "ba": rng.normal(0, scale, (n_a, 1)),
        "by": rng.normal(0, scale, (n_y, 1)),
    }
    tokens = rng.integers(0, n_x, (m, T_x))
    x = tokens if ids else np.eye(n_x)[tokens].transpose(2, 0, 1)  # (n_x, m, T_x)
    if output_activation == "softmax":
        y = rng.integers(0, n_y, (m, T_x))
    else:
        y = rng.integers(0, 2, (n_y, m, T_x)).astype(np.float64)
    a0 = rng.normal(0, scale, (n_a, m))
    return {"x": x, "y": y, "a0": a0, "parameters": parameters}
