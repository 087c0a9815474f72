"""Correct answers to 07-lstm with the gate weights split into their a and x parts, np.einsum and
np.moveaxis."""

import numpy as np


def lstm_cell_forward(xt, a_prev, c_prev, parameters):
    n_a = a_prev.shape[0]

    def pre(gate):
        W = parameters["W" + gate]
        return (
            np.einsum("ij,jm->im", W[:, :n_a], a_prev)
            + np.einsum("ij,jm->im", W[:, n_a:], xt)
            + parameters["b" + gate]
        )

    ft = 0.5 * (1 + np.tanh(0.5 * pre("f")))  # σ(z) = (1 + tanh(z/2)) / 2
    it = 0.5 * (1 + np.tanh(0.5 * pre("i")))
    ot = 0.5 * (1 + np.tanh(0.5 * pre("o")))
    cct = np.tanh(pre("c"))
    c_next = ft * c_prev + it * cct
    a_next = ot * np.tanh(c_next)
    z = np.einsum("ij,jm->im", parameters["Wy"], a_next) + parameters["by"]
    e = np.exp(z - z.max(axis=0, keepdims=True))
    yt_pred = e / e.sum(axis=0, keepdims=True)
    return (
        a_next,
        c_next,
        yt_pred,
        (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters),
    )


def lstm_forward(x, a0, parameters):
    a_t, c_t = a0, np.zeros_like(a0)
    a, y, c, caches = [], [], [], []
    for xt in np.moveaxis(x, 2, 0):
        a_t, c_t, y_t, cache = lstm_cell_forward(xt, a_t, c_t, parameters)
        a.append(a_t)
        y.append(y_t)
        c.append(c_t)
        caches.append(cache)
    return np.stack(a, axis=-1), np.stack(y, axis=-1), np.stack(c, axis=-1), caches


def lstm_cell_backward(da_next, dc_next, cache):
    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters = cache
    n_a = a_prev.shape[0]
    tc = np.tanh(c_next)
    dc = dc_next + np.einsum("im,im->im", da_next, ot * (1 - tc * tc))
    deltas = {
        "f": dc * c_prev * ft * (1 - ft),
        "i": dc * cct * it * (1 - it),
        "c": dc * it * (1 - cct * cct),
        "o": da_next * tc * ot * (1 - ot),
    }
    out = {"da_prev": 0, "dxt": 0, "dc_prev": dc * ft}
    for gate, d in deltas.items():
        W = parameters["W" + gate]
        out["da_prev"] = out["da_prev"] + np.einsum("ji,jm->im", W[:, :n_a], d)
        out["dxt"] = out["dxt"] + np.einsum("ji,jm->im", W[:, n_a:], d)
        out["dW" + gate] = np.hstack(
            [np.einsum("im,jm->ij", d, a_prev), np.einsum("im,jm->ij", d, xt)]
        )
        out["db" + gate] = np.einsum("im->i", d)[:, None]
    return out


def lstm_backward(da, caches):
    n_a, m, T_x = da.shape
    names = ["dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo"]
    grads = dict.fromkeys(names, 0)
    dx = []
    da_t, dc_t = np.zeros((n_a, m)), np.zeros((n_a, m))
    for t in range(T_x - 1, -1, -1):
        step = lstm_cell_backward(da[..., t] + da_t, dc_t, caches[t])
        dx.append(step["dxt"])
        for k in names:
            grads[k] = grads[k] + step[k]
        da_t, dc_t = step["da_prev"], step["dc_prev"]
    return {"dx": np.stack(dx[::-1], axis=-1), "da0": da_t, **grads}
