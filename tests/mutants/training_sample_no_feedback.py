"""Mutant of sample (05-training): the drawn token is not fed back as the next input."""

import numpy as np

from rnnlib.forward import relu
from rnnlib.loss import softmax

EXPECTED_MISTAKE = "the drawn token is not fed back"


def sample(
    parameters, start_id, length, temperature=1.0, seed=0, stop_id=None, hidden_activation="tanh"
):
    Waa, Wax, Wya, ba, by = (parameters[k] for k in ("Waa", "Wax", "Wya", "ba", "by"))
    g1 = np.tanh if hidden_activation == "tanh" else relu
    rng = np.random.default_rng(seed)
    a = np.zeros((Waa.shape[0], 1))
    drawn = []
    for _ in range(length):
        a = g1(Waa @ a + Wax[:, [start_id]] + ba)  # mistake: always the start token
        p = softmax((Wya @ a + by) / temperature).ravel()
        token = int(rng.choice(len(p), p=p))
        if token == stop_id:
            break
        drawn.append(token)
    return drawn
