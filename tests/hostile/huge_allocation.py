"""Tries to allocate 200 GB before defining the function."""

import numpy as np

hog = np.ones((160_000, 160_000))


def softmax(z):
    return z
