"""Shared fixtures: small random RNN problems in the course's notation, float64."""

from __future__ import annotations

import os

# The tests multiply tiny matrices, two test processes at a time on two cores: one BLAS thread
# each, in this process and in the notebook kernels and grading children it starts (they inherit
# the environment). With OpenBLAS's default threads a busy machine runs them 10x slower.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402
from problems import random_problem  # noqa: E402, F401 - the make_problem fixture's factory
from threadpoolctl import threadpool_limits  # noqa: E402

threadpool_limits(limits=1, user_api="blas")  # in case numpy was loaded before this file

# Property tests: bounded, no per-example deadline (a busy 2-core CI box), derandomized so that a
# failure reproduces.
settings.register_profile("rnnlib", max_examples=50, deadline=None, derandomize=True)
settings.load_profile("rnnlib")


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


@pytest.fixture(scope="session")
def playwright():
    """Playwright's sync API, started once per test process: a second start in the same process
    (tests/browser's and tests/hub's browsers on one xdist worker) fails, as it runs its own
    event loop. Each user of it launches its own browser."""
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        yield pw
    finally:
        pw.stop()
