"""Mutant of sample (05-training): the temperature is ignored."""

import numpy as np

from rnnlib.forward import relu
from rnnlib.loss import softmax

EXPECTED_MISTAKE = "the temperature is ignored"


def sample(
    parameters, start_id, length, temperature=1.0, seed=0, stop_id=None, hidden_activation="tanh"
):
    Waa, Wax, Wya, ba, by = (parameters[k] for k in ("Waa", "Wax", "Wya", "ba", "by"))
    g1 = np.tanh if hidden_activation == "tanh" else relu
    rng = np.random.default_rng(seed)
    a = np.zeros((Waa.shape[0], 1))
    token, drawn = start_id, []
    for _ in range(length):
        a = g1(Waa @ a + Wax[:, [token]] + ba)
        p = softmax(Wya @ a + by).ravel()  # mistake: no / temperature
        token = int(rng.choice(len(p), p=p))
        if token == stop_id:
            break
        drawn.append(token)
    return drawn
