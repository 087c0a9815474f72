"""06-vanishing: backprop_norms — cases and typical mistakes (those of one step back are 04-bptt's
rnn_cell_backward mistakes, inherited through :func:`norms_through`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from graders.calls import Case
from graders.lessons.base import Exercise, Mistake, caches, case, sizes
from graders.lessons.bptt import STEP_MISTAKES, WAA_NOT_TRANSPOSED
from rnnlib.forward import activation_derivative


def _backprop_norms_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for g1, radius, special in (
        ("tanh", 0.7, ""),
        ("tanh", 1.5, ""),
        ("relu", 1.2, ""),
        ("relu", 0.9, "m=1"),
        ("tanh", 1.0, "T=1"),
    ):
        n_x, n_a, m = sizes(rng, 3, 3, 8)
        m = 1 if special == "m=1" else m
        T_x = 1 if special == "T=1" else int(rng.integers(4, 9))
        cs = caches(rng, n_x, n_a, m, T_x, g1, radius)
        da_next = rng.normal(0, 1, (n_a, m))
        dims = {"n_a": n_a, "m": m, "T_x": T_x}
        note = f"hidden_activation={g1!r}, spectral radius of Waa {radius}"
        cases.append(case([da_next, cs], {}, dims, note))
    return cases


def norms_through(cell_backward: Callable[..., Any]) -> Callable[..., Any]:
    """backprop_norms written right around ``cell_backward``: it inherits the step's mistake."""

    def backprop_norms(da_next, caches):
        norms, delta = [], da_next
        for cache in reversed(caches):
            norms.append(np.linalg.norm(delta))
            delta = cell_backward(delta, cache)["da_prev"]
        return np.array(norms)

    return backprop_norms


def norms_reversed(da_next: np.ndarray, caches: list[tuple]) -> np.ndarray:
    norms, delta = [], da_next
    for a_next, _a_prev, _xt, parameters, hidden_activation in reversed(caches):
        norms.append(np.linalg.norm(delta))
        delta = parameters["Waa"].T @ (delta * activation_derivative(hidden_activation, a_next))
    return np.array(norms[::-1])  # mistake: in time order, not by distance


def norms_off_by_one(da_next: np.ndarray, caches: list[tuple]) -> np.ndarray:
    norms, delta = [], da_next
    for a_next, _a_prev, _xt, parameters, hidden_activation in reversed(caches):
        delta = parameters["Waa"].T @ (delta * activation_derivative(hidden_activation, a_next))
        norms.append(np.linalg.norm(delta))  # mistake: recorded after the step back
    return np.array(norms)


EXERCISES = (
    Exercise(
        "backprop_norms",
        "06-vanishing",
        "vanishing",
        _backprop_norms_cases,
        {"norms": ("T_x",)},
        (
            Mistake(
                "norms_reversed",
                "the norms are in the wrong order: norms[d] is for distance "
                "d = T − t, so norms[0] is the last step's ‖da_next‖",
                norms_reversed,
            ),
            Mistake(
                "norms_off_by_one",
                "off by one: norms[0] is the norm of da_next itself "
                "(distance 0), recorded before the first step back",
                norms_off_by_one,
            ),
            Mistake(
                "waa_not_transposed",
                "the step back is Waaᵀ (da ⊙ g1'(z)): use the transpose of Waa",
                norms_through(WAA_NOT_TRANSPOSED[0]),
            ),
            *(Mistake(fn.__name__, msg, norms_through(fn)) for fn, msg in STEP_MISTAKES),
        ),
        exact=True,
    ),
)
