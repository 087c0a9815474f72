"""Mutant of cross_entropy (03-loss): summed over the examples, not averaged."""

import numpy as np

EXPECTED_MISTAKE = "the 1/m is missing"


def cross_entropy(y_pred, y):
    if y.ndim < y_pred.ndim:  # labels (one axis fewer), not 0/1 targets
        p_true = np.take_along_axis(y_pred, y[None], axis=0)
        return float(-np.log(p_true).sum())  # mistake: no / m
    return float(-(y * np.log(y_pred) + (1 - y) * np.log(1 - y_pred)).sum())
