"""Correct answers to 05-training with loops, copies and np.random.seed's legacy generator."""

import numpy as np


def sgd_step(parameters, gradients, learning_rate):
    new = {}
    for name in ("Waa", "Wax", "Wya", "ba", "by"):
        w = parameters[name].copy()
        w -= learning_rate * gradients["d" + name]
        new[name] = w
    return new


def clip_by_global_norm(gradients, max_norm):
    total = 0.0
    for name in ("dWaa", "dWax", "dWya", "dba", "dby"):
        total += float(np.sum(gradients[name] * gradients[name]))
    norm = total**0.5
    clipped = dict(gradients)
    if norm > max_norm:
        for name in ("dWaa", "dWax", "dWya", "dba", "dby"):
            clipped[name] = gradients[name] * (max_norm / norm)
    return clipped


def sample(
    parameters, start_id, length, temperature=1.0, seed=0, stop_id=None, hidden_activation="tanh"
):
    np.random.seed(seed)  # noqa: NPY002 - the legacy generator is accepted too
    Waa, Wax, Wya = parameters["Waa"], parameters["Wax"], parameters["Wya"]
    a = np.zeros((Waa.shape[0], 1))
    token, drawn = start_id, []
    for _ in range(length):
        z = np.dot(Waa, a) + Wax[:, token : token + 1] + parameters["ba"]
        a = np.tanh(z) if hidden_activation == "tanh" else np.maximum(z, 0)
        logits = (np.dot(Wya, a) + parameters["by"])[:, 0] / temperature
        p = np.exp(logits - np.max(logits))
        cdf = np.cumsum(p / p.sum())
        u = np.random.random()  # noqa: NPY002
        token = int(min(np.searchsorted(cdf, u, side="right"), len(p) - 1))
        if token == stop_id:
            break
        drawn.append(token)
    return drawn
