"""Mutant of cross_entropy (03-loss): the loss averaged over time steps instead of summed."""

import numpy as np

EXPECTED_MISTAKE = "averaged over time steps instead of summed"


def cross_entropy(y_pred, y):
    m = y_pred.shape[1]
    T_x = y_pred.shape[2] if y_pred.ndim == 3 else 1
    if y.ndim < y_pred.ndim:  # labels (one axis fewer), not 0/1 targets
        p_true = np.take_along_axis(y_pred, y[None], axis=0)
        return float(-np.log(p_true).sum() / (m * T_x))  # mistake: / T_x
    terms = y * np.log(y_pred) + (1 - y) * np.log(1 - y_pred)
    return float(-terms.sum() / (m * T_x))
