"""Mutant of rnn_forward (01-forward): softmax normalised over the examples (axis 1)."""

import numpy as np

from rnnlib.forward import relu, sigmoid

EXPECTED_MISTAKE = "softmax is taken over the wrong axis"


def rnn_forward(x, a0, parameters, hidden_activation="tanh", output_activation="softmax"):
    g1 = np.tanh if hidden_activation == "tanh" else relu
    Waa, Wax, Wya = parameters["Waa"], parameters["Wax"], parameters["Wya"]
    n_x, m, T_x = x.shape
    a = np.zeros((a0.shape[0], m, T_x))
    y_pred = np.zeros((Wya.shape[0], m, T_x))
    caches = []
    a_next = a0
    for t in range(T_x):
        a_prev = a_next
        a_next = g1(Waa @ a_prev + Wax @ x[:, :, t] + parameters["ba"])
        o = Wya @ a_next + parameters["by"]
        if output_activation == "softmax":
            e = np.exp(o - o.max(axis=1, keepdims=True))
            y_pred[:, :, t] = e / e.sum(axis=1, keepdims=True)  # mistake: axis=1
        else:
            y_pred[:, :, t] = sigmoid(o)
        a[:, :, t] = a_next
        caches.append((a_next, a_prev, x[:, :, t], parameters, hidden_activation))
    return a, y_pred, caches
