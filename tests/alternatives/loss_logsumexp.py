"""Correct answers to 03-loss by log-sum-exp, fancy indexing and np.moveaxis."""

import numpy as np


def softmax(z):
    shifted = z - np.max(z, axis=0)
    log_p = shifted - np.log(np.sum(np.exp(shifted), axis=0))
    return np.exp(log_p)


def cross_entropy(y_pred, y):
    m = y_pred.shape[1]
    tiny = np.finfo(np.float64).tiny  # a zero probability costs a large, finite loss
    if y.ndim == y_pred.ndim - 1:  # labels: one axis fewer than y_pred (the docstring)
        probs = np.moveaxis(y_pred, 0, -1)  # (m[, T_x], n_y)
        p_true = np.take_along_axis(probs, y[..., None], axis=-1)
        return float(-np.sum(np.log(np.clip(p_true, tiny, 1))) / m)
    p = np.maximum(y_pred, tiny)
    return float(-np.sum(y * np.log(p) + (1 - y) * np.log(np.maximum(1 - y_pred, tiny))) / m)
