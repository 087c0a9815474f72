"""Correct answers to 10-classify with np.einsum, np.moveaxis and a list of states."""

import numpy as np


def many_to_one_forward(x, y, a0, parameters, hidden_activation="tanh"):
    g1 = np.tanh if hidden_activation == "tanh" else (lambda z: np.maximum(z, 0.0))
    xs = np.moveaxis(np.asarray(x, dtype=float), 2, 0)  # (T_x, n_x, m)
    states = [a0]
    for xt in xs:
        z = np.einsum("ij,jm->im", parameters["Waa"], states[-1])
        states.append(g1(z + np.einsum("ij,jm->im", parameters["Wax"], xt) + parameters["ba"]))
    a = np.stack(states, axis=2)
    o = np.einsum("ij,jm->im", parameters["Wya"], a[..., -1]) + parameters["by"]
    y_pred = 1.0 / (1.0 + np.exp(-o))
    y = np.asarray(y, dtype=float).reshape(1, -1)
    per_sequence = np.maximum(o, 0) + np.log1p(np.exp(-np.abs(o))) - y * o
    loss = float(per_sequence.mean())
    return loss, y_pred, (a, x, y, y_pred, parameters, hidden_activation)


def many_to_one_backward(cache):
    a, x, y, y_pred, parameters, hidden_activation = cache
    m, T_x = a.shape[1], a.shape[2] - 1
    do = (y_pred - np.reshape(y, (1, -1))) / m
    grads = {
        "dWya": np.einsum("im,jm->ij", do, a[..., -1]),
        "dby": do.sum(axis=1, keepdims=True),
        "dWaa": np.zeros_like(parameters["Waa"]),
        "dWax": np.zeros_like(parameters["Wax"]),
        "dba": np.zeros_like(parameters["ba"]),
    }
    da = np.einsum("ji,jm->im", parameters["Wya"], do)
    for t in reversed(range(1, T_x + 1)):
        a_t = a[..., t]
        slope = 1 - a_t**2 if hidden_activation == "tanh" else (a_t > 0).astype(float)
        dz = da * slope
        grads["dWaa"] += np.einsum("im,jm->ij", dz, a[..., t - 1])
        grads["dWax"] += np.einsum("im,jm->ij", dz, x[..., t - 1])
        grads["dba"] += dz.sum(axis=1, keepdims=True)
        da = np.einsum("ji,jm->im", parameters["Waa"], dz)
    grads["da0"] = da
    return grads
