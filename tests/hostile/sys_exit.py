"""sys.exit() before the function is defined."""

import sys

sys.exit()


def softmax(z):
    return z
