"""Correct answers to 10-classify with a loop over the examples, np.dot and x[..., t]."""

import numpy as np


def many_to_one_forward(x, y, a0, parameters, hidden_activation="tanh"):
    n_a, m = a0.shape
    T_x = x.shape[-1]
    a = np.zeros((n_a, m, T_x + 1))
    a[..., 0] = a0
    for t in range(T_x):
        z = np.dot(parameters["Waa"], a[..., t]) + np.dot(parameters["Wax"], x[..., t])
        z = z + parameters["ba"]
        a[..., t + 1] = np.tanh(z) if hidden_activation == "tanh" else z * (z > 0)
    y_pred = np.zeros((1, m))
    loss = 0.0
    for j in range(m):
        o = float(np.dot(parameters["Wya"][0], a[:, j, T_x]) + parameters["by"][0, 0])
        y_pred[0, j] = 1 / (1 + np.exp(-o)) if o >= 0 else np.exp(o) / (1 + np.exp(o))
        loss += np.logaddexp(0.0, o) - y[j] * o
    return loss / m, y_pred, (a, x, y, y_pred, parameters, hidden_activation)


def many_to_one_backward(cache):
    a, x, y, y_pred, parameters, hidden_activation = cache
    n_a, m, steps = a.shape
    T_x = steps - 1
    do = np.array([[(y_pred[0, j] - y[j]) / m for j in range(m)]])
    dWaa = np.zeros((n_a, n_a))
    dWax = np.zeros_like(parameters["Wax"])
    dba = np.zeros((n_a, 1))
    da = np.dot(parameters["Wya"].T, do)
    t = T_x
    while t >= 1:
        if hidden_activation == "tanh":
            dz = da * (1 - a[..., t] * a[..., t])
        else:
            dz = da * (a[..., t] > 0)
        dWaa = dWaa + np.dot(dz, a[..., t - 1].T)
        dWax = dWax + np.dot(dz, x[..., t - 1].T)
        dba = dba + np.sum(dz, axis=1).reshape(n_a, 1)
        da = np.dot(parameters["Waa"].T, dz)
        t -= 1
    return {
        "dWaa": dWaa,
        "dWax": dWax,
        "dWya": np.dot(do, a[..., T_x].T),
        "dba": dba,
        "dby": np.sum(do, axis=1, keepdims=True),
        "da0": da,
    }
