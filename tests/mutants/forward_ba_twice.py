"""Mutant of rnn_forward (01-forward): the hidden bias ba added twice."""

import numpy as np

from rnnlib.forward import ACTIVATIONS

EXPECTED_MISTAKE = "the bias ba is added twice"


def rnn_forward(x, a0, parameters, hidden_activation="tanh", output_activation="softmax"):
    g1, g2 = ACTIVATIONS[hidden_activation], ACTIVATIONS[output_activation]
    Waa, Wax, Wya, ba = parameters["Waa"], parameters["Wax"], parameters["Wya"], parameters["ba"]
    n_x, m, T_x = x.shape
    a = np.zeros((a0.shape[0], m, T_x))
    y_pred = np.zeros((Wya.shape[0], m, T_x))
    caches = []
    a_next = a0
    for t in range(T_x):
        a_prev = a_next
        a_next = g1(Waa @ a_prev + ba + Wax @ x[:, :, t] + ba)  # mistake: ba twice
        a[:, :, t] = a_next
        y_pred[:, :, t] = g2(Wya @ a_next + parameters["by"])
        caches.append((a_next, a_prev, x[:, :, t], parameters, hidden_activation))
    return a, y_pred, caches
