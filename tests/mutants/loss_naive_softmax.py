"""Mutant of softmax (03-loss): the naive form, which overflows for large logits."""

import numpy as np

EXPECTED_MISTAKE = "softmax overflows for large logits"


def softmax(z):
    e = np.exp(z)  # mistake: no max subtracted
    return e / e.sum(axis=0, keepdims=True)
