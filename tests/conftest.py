"""Shared fixtures: small random RNN problems in the course's notation, float64."""

from __future__ import annotations

import os

# The tests multiply tiny matrices, two test processes at a time on two cores: one BLAS thread
# each, in this process and in the notebook kernels and grading children it starts (they inherit
# the environment). With OpenBLAS's default threads a busy machine runs them 10x slower.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

threadpool_limits(limits=1, user_api="blas")  # in case numpy was loaded before this file

# Property tests: bounded, no per-example deadline (a busy 2-core CI box), derandomized so that a
# failure reproduces.
settings.register_profile("rnnlib", max_examples=50, deadline=None, derandomize=True)
settings.load_profile("rnnlib")


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


@pytest.fixture(scope="session")  # session-scoped: usable from hypothesis tests
def make_problem():
    """A factory of random problems: ``make_problem(T_x=6, output_activation="sigmoid")``."""
    return random_problem


@pytest.fixture(scope="module")
def one_blas_thread():
    """BLAS on one thread for a module: these matrices are tiny, and on a busy 2-core machine
    OpenBLAS's threads wait on each other (a test's run time varies 10x without this)."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield
