"""Correct answers to 07-lstm with the four gates as one stacked matrix [Wf; Wi; Wc; Wo], np.dot
and x[..., t]."""

import numpy as np


def lstm_cell_forward(xt, a_prev, c_prev, parameters):
    W = np.vstack([parameters["Wf"], parameters["Wi"], parameters["Wc"], parameters["Wo"]])
    b = np.vstack([parameters["bf"], parameters["bi"], parameters["bc"], parameters["bo"]])
    z = np.dot(W, np.vstack([a_prev, xt])) + b  # (4 n_a, m)
    ft, it, cct, ot = np.split(z, 4)
    ft, it, ot = (1 / (1 + np.exp(-g)) for g in (ft, it, ot))
    cct = np.tanh(cct)
    c_next = c_prev * ft + cct * it
    a_next = np.tanh(c_next) * ot
    logits = np.dot(parameters["Wy"], a_next) + parameters["by"]
    yt_pred = np.exp(logits - np.max(logits, axis=0))
    yt_pred /= np.sum(yt_pred, axis=0)
    return (
        a_next,
        c_next,
        yt_pred,
        (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters),
    )


def lstm_forward(x, a0, parameters):
    n_a, m = a0.shape
    T_x = x.shape[-1]
    n_y = parameters["Wy"].shape[0]
    a, c, y = np.empty((n_a, m, T_x)), np.empty((n_a, m, T_x)), np.empty((n_y, m, T_x))
    caches = []
    state = (a0, np.zeros((n_a, m)))
    for t in range(T_x):
        a[..., t], c[..., t], y[..., t], cache = lstm_cell_forward(x[..., t], *state, parameters)
        state = (a[..., t], c[..., t])
        caches.append(cache)
    return a, y, c, caches


def lstm_cell_backward(da_next, dc_next, cache):
    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters = cache
    n_a = a_prev.shape[0]
    dc = dc_next + da_next * ot * (1 - np.tanh(c_next) ** 2)
    dz = np.vstack(
        [
            dc * c_prev * ft * (1 - ft),
            dc * cct * it * (1 - it),
            dc * it * (1 - cct**2),
            da_next * np.tanh(c_next) * ot * (1 - ot),
        ]
    )
    W = np.vstack([parameters["Wf"], parameters["Wi"], parameters["Wc"], parameters["Wo"]])
    dconcat = np.dot(W.T, dz)
    dW = np.split(np.dot(dz, np.vstack([a_prev, xt]).T), 4)
    db = np.split(np.sum(dz, axis=1, keepdims=True), 4)
    out = {"dxt": dconcat[n_a:], "da_prev": dconcat[:n_a], "dc_prev": dc * ft}
    for k, gate in enumerate("fico"):
        out["dW" + gate], out["db" + gate] = dW[k], db[k]
    return out


def lstm_backward(da, caches):
    n_a, m, T_x = da.shape
    n_x = caches[0][8].shape[0]
    grads = {"dx": np.zeros((n_x, m, T_x)), "da0": np.zeros((n_a, m))}
    for g in "fico":
        grads["dW" + g] = np.zeros((n_a, n_a + n_x))
        grads["db" + g] = np.zeros((n_a, 1))
    da_t = np.zeros((n_a, m))
    dc_t = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        step = lstm_cell_backward(da[..., t] + da_t, dc_t, caches[t])
        grads["dx"][..., t] = step["dxt"]
        for g in "fico":
            grads["dW" + g] += step["dW" + g]
            grads["db" + g] += step["db" + g]
        da_t, dc_t = step["da_prev"], step["dc_prev"]
    grads["da0"] = da_t
    return grads
