"""Correct answers to 03-loss with loops over the examples and time steps."""

import numpy as np


def softmax(z):
    out = np.empty_like(z, dtype=float)
    columns = z.reshape(z.shape[0], -1)
    flat = out.reshape(z.shape[0], -1)
    for j in range(columns.shape[1]):
        e = np.exp(columns[:, j] - columns[:, j].max())
        flat[:, j] = e / e.sum()
    return out


def cross_entropy(y_pred, y):
    m = y_pred.shape[1]
    tiny = np.finfo(np.float64).tiny  # a zero probability costs a large, finite loss
    total = 0.0
    if y.ndim == y_pred.ndim - 1:  # labels: one axis fewer than y_pred (the docstring)
        labels = y.reshape(m, -1)
        probs = y_pred.reshape(y_pred.shape[0], m, -1)
        for j in range(m):
            for t in range(labels.shape[1]):
                total -= np.log(max(probs[labels[j, t], j, t], tiny))
    else:
        chosen = np.where(y == 1, y_pred, 1 - y_pred)  # the probability given to the target
        total = -np.sum(np.log(np.maximum(chosen, tiny)))
    return float(total / m)
