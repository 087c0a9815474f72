"""Correct answers to 05-training with np.subtract, one concatenated norm and rng.choice."""

import numpy as np


def sgd_step(parameters, gradients, learning_rate):
    return {k: np.subtract(v, learning_rate * gradients["d" + k]) for k, v in parameters.items()}


def clip_by_global_norm(gradients, max_norm):
    names = ("dWaa", "dWax", "dWya", "dba", "dby")
    norm = np.linalg.norm(np.concatenate([gradients[k].ravel() for k in names]))
    scale = min(1.0, max_norm / norm) if norm > 0 else 1.0
    return {k: g * scale if k in names else g for k, g in gradients.items()}


def sample(
    parameters, start_id, length, temperature=1.0, seed=0, stop_id=None, hidden_activation="tanh"
):
    p = parameters
    n_x = p["Wax"].shape[1]
    rng = np.random.default_rng(seed)
    a = np.zeros((p["Waa"].shape[0], 1))
    x = np.zeros((n_x, 1))
    x[start_id] = 1  # the input as a one-hot column
    out = []
    while len(out) < length:
        z = p["Waa"] @ a + p["Wax"] @ x + p["ba"]
        a = np.tanh(z) if hidden_activation == "tanh" else np.maximum(z, 0)
        o = (p["Wya"] @ a + p["by"]).ravel() / temperature
        probs = np.exp(o - o.max())
        token = int(rng.choice(len(probs), p=probs / probs.sum()))
        if token == stop_id:
            break
        out.append(token)
        x = np.zeros((n_x, 1))
        x[token] = 1
    return out
