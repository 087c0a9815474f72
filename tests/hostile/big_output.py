"""50 MB of output on one line, then a correct softmax."""

import numpy as np

print("x" * 50_000_000)


def softmax(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)
