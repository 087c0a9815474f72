"""Mutant of rnn_forward (01-forward): a[:, :, t] stores a<t-1> instead of a<t>."""

import numpy as np

from rnnlib.forward import ACTIVATIONS

EXPECTED_MISTAKE = "off-by-one in the time index"


def rnn_forward(x, a0, parameters, hidden_activation="tanh", output_activation="softmax"):
    g1, g2 = ACTIVATIONS[hidden_activation], ACTIVATIONS[output_activation]
    Waa, Wax, Wya = parameters["Waa"], parameters["Wax"], parameters["Wya"]
    n_x, m, T_x = x.shape
    a = np.zeros((a0.shape[0], m, T_x))
    y_pred = np.zeros((Wya.shape[0], m, T_x))
    caches = []
    a_prev = a0
    for t in range(T_x):
        a_next = g1(Waa @ a_prev + Wax @ x[:, :, t] + parameters["ba"])
        a[:, :, t] = a_prev  # mistake: the state before the step
        y_pred[:, :, t] = g2(Wya @ a_next + parameters["by"])
        caches.append((a_next, a_prev, x[:, :, t], parameters, hidden_activation))
        a_prev = a_next
    return a, y_pred, caches
