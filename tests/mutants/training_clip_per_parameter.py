"""Mutant of clip_by_global_norm (05-training): each gradient clipped by its own norm."""

import numpy as np

EXPECTED_MISTAKE = "clipped by its own norm"


def clip_by_global_norm(gradients, max_norm):
    clipped = dict(gradients)
    for k in ("dWaa", "dWax", "dWya", "dba", "dby"):
        norm = np.linalg.norm(gradients[k])  # mistake: one norm per parameter
        clipped[k] = gradients[k] * min(1.0, max_norm / norm)
    return clipped
