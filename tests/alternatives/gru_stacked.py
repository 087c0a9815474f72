"""Correct answers to 08-gru with the two gates as one stacked matrix [Wr; Wu], np.dot and
x[..., t]."""

import numpy as np


def gru_cell_forward(xt, a_prev, parameters):
    W = np.vstack([parameters["Wr"], parameters["Wu"]])
    b = np.vstack([parameters["br"], parameters["bu"]])
    rt, ut = np.split(1 / (1 + np.exp(-(np.dot(W, np.vstack([a_prev, xt])) + b))), 2)
    cct = np.tanh(np.dot(parameters["Wc"], np.vstack([rt * a_prev, xt])) + parameters["bc"])
    a_next = (1 - ut) * a_prev + ut * cct
    logits = np.dot(parameters["Wy"], a_next) + parameters["by"]
    yt_pred = np.exp(logits - np.max(logits, axis=0))
    yt_pred /= np.sum(yt_pred, axis=0)
    return a_next, yt_pred, (a_next, a_prev, rt, ut, cct, xt, parameters)


def gru_forward(x, a0, parameters):
    n_a, m = a0.shape
    T_x = x.shape[-1]
    a = np.empty((n_a, m, T_x))
    y = np.empty((parameters["Wy"].shape[0], m, T_x))
    caches = []
    state = a0
    for t in range(T_x):
        a[..., t], y[..., t], cache = gru_cell_forward(x[..., t], state, parameters)
        state = a[..., t]
        caches.append(cache)
    return a, y, caches


def gru_cell_backward(da_next, cache):
    a_next, a_prev, rt, ut, cct, xt, parameters = cache
    n_a = a_prev.shape[0]
    dc = da_next * ut * (1 - cct**2)
    dreset = np.dot(parameters["Wc"].T, dc)
    dz = np.vstack(
        [dreset[:n_a] * a_prev * rt * (1 - rt), da_next * (cct - a_prev) * ut * (1 - ut)]
    )
    W = np.vstack([parameters["Wr"], parameters["Wu"]])
    dconcat = np.dot(W.T, dz)
    dWr, dWu = np.split(np.dot(dz, np.vstack([a_prev, xt]).T), 2)
    dbr, dbu = np.split(np.sum(dz, axis=1, keepdims=True), 2)
    return {
        "dxt": dreset[n_a:] + dconcat[n_a:],
        "da_prev": da_next * (1 - ut) + dreset[:n_a] * rt + dconcat[:n_a],
        "dWr": dWr,
        "dbr": dbr,
        "dWu": dWu,
        "dbu": dbu,
        "dWc": np.dot(dc, np.vstack([rt * a_prev, xt]).T),
        "dbc": np.sum(dc, axis=1, keepdims=True),
    }


def gru_backward(da, caches):
    n_a, m, T_x = da.shape
    n_x = caches[0][5].shape[0]
    grads = {"dx": np.zeros((n_x, m, T_x))}
    for g in "ruc":
        grads["dW" + g] = np.zeros((n_a, n_a + n_x))
        grads["db" + g] = np.zeros((n_a, 1))
    da_t = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        step = gru_cell_backward(da[..., t] + da_t, caches[t])
        grads["dx"][..., t] = step["dxt"]
        for g in "ruc":
            grads["dW" + g] += step["dW" + g]
            grads["db" + g] += step["db" + g]
        da_t = step["da_prev"]
    grads["da0"] = da_t
    return grads
