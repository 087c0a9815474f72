"""Lesson 6, vanishing and exploding gradients (notebooks/06-vanishing).

    ∂L<T>/∂a<t-1> = Waaᵀ (∂L<T>/∂a<t> ⊙ g1'(z<t>))    so    ‖∂L<T>/∂a<t>‖ ≈ ρ^(T-t) ‖∂L<T>/∂a<T>‖

where ρ is the typical gain of one step (at most the spectral radius of Waa times max|g1'|).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnlib._checks import Dims, check_caches, check_nonempty, check_state, checked
from rnnlib.forward import activation_derivative


def check_backprop_norms(da_next, caches) -> dict[str, Any]:
    """backprop_norms' contract: the caches of rnn_forward, then da_next (n_a, m)."""
    dims = Dims()
    dtype = check_caches(caches, dims)
    da_next = check_state("da_next", da_next, ("n_a", "m"), dims, dtype)
    check_nonempty(dims)
    return {"da_next": da_next, "caches": caches}


@checked(check_backprop_norms)
def backprop_norms(da_next: np.ndarray, caches: list[tuple[Any, ...]]) -> np.ndarray:
    """‖∂L<T>/∂a<t>‖ for t = T_x, ..., 1, when the only loss is at the last step.

    Inputs:
    - da_next: ∂L<T>/∂a<T>, the gradient entering the last hidden state, shape (n_a, m)
    - caches: the caches of rnn_forward, one per step

    Returns:
    - norms: shape (T_x,); norms[d] is the Frobenius norm of ∂L<T>/∂a<T-d>, d = T - t the distance
    """
    norms = np.empty(len(caches))
    delta = da_next  # ∂L<T>/∂a<t>, (n_a, m)
    for d, (a_next, _a_prev, _xt, parameters, hidden_activation) in enumerate(reversed(caches)):
        norms[d] = np.linalg.norm(delta)
        delta = parameters["Waa"].T @ (delta * activation_derivative(hidden_activation, a_next))
    return norms


def with_spectral_radius(W: np.ndarray, radius: float) -> np.ndarray:
    """W · ρ / max|λ(W)|: the same matrix rescaled so its spectral radius is ``radius``.

    Inputs:
    - W: a square matrix, shape (n_a, n_a); radius: the wanted spectral radius ρ > 0

    Returns:
    - the rescaled matrix, shape (n_a, n_a)
    """
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W: expected a square matrix (n_a, n_a), got shape {W.shape}")
    if not radius > 0:
        raise ValueError(f"radius: expected a positive number, got {radius!r}")
    current = np.max(np.abs(np.linalg.eigvals(W)))
    if current == 0:
        raise ValueError("W: its spectral radius is 0 (nilpotent or zero), it cannot be rescaled")
    return W * (radius / current)
