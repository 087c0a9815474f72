"""Lesson 3, outputs and the loss (notebooks/03-loss).

    softmax(o)_i = e^(o_i - max o) / Σ_k e^(o_k - max o)              (over axis 0, never overflows)
    L = -(1/m) Σ_j Σ_t log ŷ<t>[y_j<t>, j]                            (softmax outputs, labels y)
    L = -(1/m) Σ_j Σ_t Σ_i [y log ŷ + (1 - y) log(1 - ŷ)]<t>[i, j]      (sigmoid outputs, 0/1 targets)

The loss is summed over the time steps and averaged over the m sequences of the minibatch.
"""

from __future__ import annotations

import numpy as np

from rnnlib._checks import checked


def softmax(z: np.ndarray) -> np.ndarray:
    """softmax(z)_i = e^(z_i - max_k z_k) / Σ_k e^(z_k - max_k z_k), over axis 0.

    Inputs:
    - z: logits, shape (n_y, ...) (for example (n_y, m) or (n_y, m, T_x)), finite

    Returns:
    - probabilities of the same shape; every column sums to 1
    """
    e = np.exp(z - z.max(axis=0, keepdims=True))  # the largest exponent is 0: no overflow
    return e / e.sum(axis=0, keepdims=True)


@checked
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
    if y.dtype.kind in "iu":  # softmax outputs: the probability given to the true class
        p_true = np.take_along_axis(y_pred, y[None], axis=0)  # (1, m[, T_x])
        return float(-np.log(np.maximum(p_true, tiny)).sum() / m)
    log_p = np.log(np.maximum(y_pred, tiny))
    log_not_p = np.log(np.maximum(1 - y_pred, tiny))
    return float(-(y * log_p + (1 - y) * log_not_p).sum() / m)


def output_loss(o: np.ndarray, y: np.ndarray, m: int, output_activation: str = "softmax"):
    """The loss from logits and its gradient dL/do, computed stably: dL/do = (ŷ - y) / m.

    Inputs:
    - o: logits for N = m·T_x columns, shape (n_y, N); overwritten with dL/do (it is not needed after)
    - y: labels of shape (N,) for softmax, or 0/1 targets of shape (n_y, N) for sigmoid
    - m: the minibatch size, to average over
    - output_activation: "softmax" or "sigmoid"

    Returns a tuple of:
    - loss: float, -(1/m) Σ log ŷ[true], via log-sum-exp (finite for any finite logits)
    - do: dL/do, shape (n_y, N) (the same array as o)
    """
    if output_activation == "softmax":
        cols = np.arange(o.shape[1])
        o_max = o.max(axis=0)  # (N,)
        o_true = o[y, cols]  # (N,) logit of the true class
        o -= o_max
        np.exp(o, out=o)  # e^(o - max) in place: the largest is 1, no overflow
        total = o.sum(axis=0)  # (N,)
        loss = float((np.log(total) + o_max - o_true).sum() / m)  # log-sum-exp minus the true logit
        o *= 1 / (m * total)  # ŷ / m
        o[y, cols] -= 1 / m
        return loss, o
    # sigmoid: -[y log σ(o) + (1 - y) log(1 - σ(o))] = log(1 + e^o) - y o
    loss = float((np.logaddexp(0, o) - y * o).sum() / m)
    do = (np.exp(-np.logaddexp(0, -o)) - y) / m
    return loss, do
