"""Mutant of rnn_forward (01-forward): Waa and Wax swapped in the recurrence."""

import numpy as np

from rnnlib.forward import ACTIVATIONS

EXPECTED_MISTAKE = "Waa and Wax are swapped"


def rnn_forward(x, a0, parameters, hidden_activation="tanh", output_activation="softmax"):
    g1, g2 = ACTIVATIONS[hidden_activation], ACTIVATIONS[output_activation]
    Waa, Wax, Wya = parameters["Waa"], parameters["Wax"], parameters["Wya"]
    n_x, m, T_x = x.shape
    a = np.zeros((a0.shape[0], m, T_x))
    y_pred = np.zeros((Wya.shape[0], m, T_x))
    caches = []
    a_next = a0
    for t in range(T_x):
        a_prev = a_next
        a_next = g1(Wax @ a_prev + Waa @ x[:, :, t] + parameters["ba"])  # mistake: swapped
        a[:, :, t] = a_next
        y_pred[:, :, t] = g2(Wya @ a_next + parameters["by"])
        caches.append((a_next, a_prev, x[:, :, t], parameters, hidden_activation))
    return a, y_pred, caches
