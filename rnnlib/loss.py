"""Lesson 3, outputs and the loss (notebooks/03-loss).

    softmax(o)_i = e^(o_i - max o) / Σ_k e^(o_k - max o)              (over axis 0, never overflows)
    L = -(1/m) Σ_j Σ_t log ŷ<t>[y_j<t>, j]                            (softmax outputs, labels y)
    L = -(1/m) Σ_j Σ_t Σ_i [y log ŷ + (1 - y) log(1 - ŷ)]<t>[i, j]      (sigmoid outputs, 0/1 targets)

The loss is summed over the time steps and averaged over the m sequences of the minibatch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnlib._checks import Dims, check_labels, check_nonempty, check_probabilities, checked


def softmax(z: np.ndarray) -> np.ndarray:
    """softmax(z)_i = e^(z_i - max_k z_k) / Σ_k e^(z_k - max_k z_k), over axis 0.

    Inputs:
    - z: logits, shape (n_y, ...) (for example (n_y, m) or (n_y, m, T_x)), finite

    Returns:
    - probabilities of the same shape; every column sums to 1
    """
    e = np.exp(z - z.max(axis=0, keepdims=True))  # the largest exponent is 0: no overflow
    return e / e.sum(axis=0, keepdims=True)


def check_cross_entropy(y_pred, y) -> dict[str, Any]:
    """cross_entropy's contract: ŷ in [0, 1] of shape (n_y, m[, T_x]); y labels in [0, n_y) of
    shape (m[, T_x]) (one axis fewer: softmax), or 0/1 targets shaped like ŷ (sigmoid)."""
    dims = Dims()
    y_pred = check_probabilities(y_pred, dims)
    kind = "sigmoid" if np.ndim(y) == y_pred.ndim else "softmax"
    y = check_labels("y", y, dims, kind, time=y_pred.ndim == 3)
    check_nonempty(dims)
    return {"y_pred": y_pred, "y": y}


@checked(check_cross_entropy)
def cross_entropy(y_pred: np.ndarray, y: np.ndarray) -> float:
    """L = -(1/m) Σ_t Σ_j log ŷ<t>[y_j<t>, j] (labels), or the binary cross-entropy (0/1 targets).

    Inputs:
    - y_pred: predicted probabilities, shape (n_y, m, T_x) (or (n_y, m) for one step)
    - y: integer class labels of shape (m, T_x) (or (m,)) for softmax outputs,
      or 0/1 targets of shape (n_y, m, T_x) (or (n_y, m)) for sigmoid outputs

    Returns:
    - the loss: summed over time steps (and output units for sigmoid), averaged over m.
      Probabilities are clamped to [tiny, 1] so a confident wrong answer costs a large finite loss.
    """
    m = y_pred.shape[1]
    tiny = np.finfo(y_pred.dtype).tiny
    if y.ndim < y_pred.ndim:  # labels, one axis fewer: the probability given to the true class
        p_true = np.take_along_axis(y_pred, y[None], axis=0)  # (1, m[, T_x])
        return float(-np.log(np.maximum(p_true, tiny)).sum() / m)
    log_p = np.log(np.maximum(y_pred, tiny))
    log_not_p = np.log(np.maximum(1 - y_pred, tiny))
    return float(-(y * log_p + (1 - y) * log_not_p).sum() / m)
