"""Correct answers to 01-forward with np.dot, np.matmul and explicit loops over the examples."""

import numpy as np


def rnn_cell_forward(xt, a_prev, parameters, hidden_activation="tanh", output_activation="softmax"):
    Waa, Wax, Wya = parameters["Waa"], parameters["Wax"], parameters["Wya"]
    m = a_prev.shape[1]
    a_next = np.zeros((Waa.shape[0], m))
    yt_pred = np.zeros((Wya.shape[0], m))
    for j in range(m):  # one example (column) at a time
        z = np.dot(Waa, a_prev[:, j]) + np.matmul(Wax, xt[:, j]) + parameters["ba"][:, 0]
        a_next[:, j] = np.tanh(z) if hidden_activation == "tanh" else z * (z > 0)
        o = np.dot(Wya, a_next[:, j]) + parameters["by"][:, 0]
        if output_activation == "softmax":
            e = np.exp(o - np.max(o))
            yt_pred[:, j] = e / np.sum(e)
        else:
            yt_pred[:, j] = 1 / (1 + np.exp(-o))
    return a_next, yt_pred, (a_next, a_prev, xt, parameters, hidden_activation)


def rnn_forward(x, a0, parameters, hidden_activation="tanh", output_activation="softmax"):
    n_x, m, T_x = x.shape
    a = np.zeros((a0.shape[0], m, T_x))
    y_pred = np.zeros((parameters["Wya"].shape[0], m, T_x))
    caches = []
    a_prev = a0
    for t in range(T_x):
        a_prev, y_pred[:, :, t], cache = rnn_cell_forward(
            x[:, :, t], a_prev, parameters, hidden_activation, output_activation
        )
        a[:, :, t] = a_prev
        caches.append(cache)
    return a, y_pred, caches
