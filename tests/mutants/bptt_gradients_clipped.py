"""Mutant of bptt (04-bptt): the gradients are clipped (global norm 0.1) before being returned."""

import numpy as np

from rnnlib.forward import relu, sigmoid
from rnnlib.loss import softmax

EXPECTED_MISTAKE = "the gradients were clipped"


def bptt(
    x, y, a0, parameters, truncate=None, hidden_activation="tanh", output_activation="softmax"
):
    Waa, Wax, Wya, ba, by = (parameters[k] for k in ("Waa", "Wax", "Wya", "ba", "by"))
    x = np.asarray(x)  # one-hot (n_x, m, T_x)
    n_a, m = a0.shape
    T_x = x.shape[2]
    g1 = np.tanh if hidden_activation == "tanh" else relu
    a, a_prev, loss, dO = [], a0, 0.0, []
    for t in range(T_x):
        a_prev = g1(Waa @ a_prev + Wax @ x[:, :, t] + ba)
        a.append(a_prev)
        o = Wya @ a_prev + by
        if output_activation == "softmax":
            p = softmax(o)
            loss -= np.log(p[y[:, t], np.arange(m)]).sum() / m
            p[y[:, t], np.arange(m)] -= 1
        else:
            p = sigmoid(o)
            loss -= (y[:, :, t] * np.log(p) + (1 - y[:, :, t]) * np.log(1 - p)).sum() / m
            p = p - y[:, :, t]
        dO.append(p / m)
    g = {
        k: np.zeros_like(v)
        for k, v in (("dWaa", Waa), ("dWax", Wax), ("dWya", Wya), ("dba", ba), ("dby", by))
    }
    g["da0"] = np.zeros_like(a0)
    for t in range(T_x):  # the loss at step t, back through the window of truncated BPTT
        g["dWya"] += dO[t] @ a[t].T
        g["dby"] += dO[t].sum(axis=1, keepdims=True)
        delta = Wya.T @ dO[t]
        first = 0 if truncate is None else max(t - truncate, 0)
        for s in range(t, first - 1, -1):
            dz = delta * (1 - a[s] ** 2 if hidden_activation == "tanh" else a[s] > 0)
            g["dWaa"] += dz @ (a[s - 1] if s > 0 else a0).T
            g["dWax"] += dz @ x[:, :, s].T
            g["dba"] += dz.sum(axis=1, keepdims=True)
            delta = Waa.T @ dz
            if s == 0 and (truncate is None or t - truncate <= -1):
                g["da0"] += delta
    norm = np.sqrt(sum(np.sum(g[k] ** 2) for k in ("dWaa", "dWax", "dWya", "dba", "dby")))
    for k in ("dWaa", "dWax", "dWya", "dba", "dby"):  # mistake: clipping belongs to training
        g[k] = g[k] * min(1.0, 0.1 / norm)
    return float(loss), g, a[-1]
