"""Correct answers to 08-gru with the weights split into their a and x parts, np.einsum and
np.moveaxis."""

import numpy as np


def gru_cell_forward(xt, a_prev, parameters):
    n_a = a_prev.shape[0]

    def pre(gate, a):
        W = parameters["W" + gate]
        return (
            np.einsum("ij,jm->im", W[:, :n_a], a)
            + np.einsum("ij,jm->im", W[:, n_a:], xt)
            + parameters["b" + gate]
        )

    rt = 0.5 * (1 + np.tanh(0.5 * pre("r", a_prev)))
    ut = 0.5 * (1 + np.tanh(0.5 * pre("u", a_prev)))
    cct = np.tanh(pre("c", rt * a_prev))
    a_next = a_prev + ut * (cct - a_prev)
    z = np.einsum("ij,jm->im", parameters["Wy"], a_next) + parameters["by"]
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return a_next, e / e.sum(axis=0, keepdims=True), (a_next, a_prev, rt, ut, cct, xt, parameters)


def gru_forward(x, a0, parameters):
    a_t, a, y, caches = a0, [], [], []
    for xt in np.moveaxis(x, 2, 0):
        a_t, y_t, cache = gru_cell_forward(xt, a_t, parameters)
        a.append(a_t)
        y.append(y_t)
        caches.append(cache)
    return np.stack(a, axis=-1), np.stack(y, axis=-1), caches


def gru_cell_backward(da_next, cache):
    a_next, a_prev, rt, ut, cct, xt, parameters = cache
    n_a = a_prev.shape[0]
    Wr, Wu, Wc = parameters["Wr"], parameters["Wu"], parameters["Wc"]
    dc = da_next * ut * (1 - cct * cct)
    du = da_next * (cct - a_prev) * ut * (1 - ut)
    d_reset_a = np.einsum("ji,jm->im", Wc[:, :n_a], dc)  # ∂L/∂(Γr ⊙ a<t-1>)
    dr = d_reset_a * a_prev * rt * (1 - rt)
    da_prev = (
        da_next * (1 - ut)
        + d_reset_a * rt
        + np.einsum("ji,jm->im", Wr[:, :n_a], dr)
        + np.einsum("ji,jm->im", Wu[:, :n_a], du)
    )
    dxt = sum(np.einsum("ji,jm->im", W[:, n_a:], d) for W, d in ((Wc, dc), (Wr, dr), (Wu, du)))
    out = {"dxt": dxt, "da_prev": da_prev}
    for gate, d, a in (("r", dr, a_prev), ("u", du, a_prev), ("c", dc, rt * a_prev)):
        out["dW" + gate] = np.hstack([np.einsum("im,jm->ij", d, a), np.einsum("im,jm->ij", d, xt)])
        out["db" + gate] = np.einsum("im->i", d)[:, None]
    return out


def gru_backward(da, caches):
    n_a, m, T_x = da.shape
    names = ["dWr", "dbr", "dWu", "dbu", "dWc", "dbc"]
    grads = dict.fromkeys(names, 0)
    dx = []
    da_t = np.zeros((n_a, m))
    for t in range(T_x - 1, -1, -1):
        step = gru_cell_backward(da[..., t] + da_t, caches[t])
        dx.append(step["dxt"])
        for k in names:
            grads[k] = grads[k] + step[k]
        da_t = step["da_prev"]
    return {"dx": np.stack(dx[::-1], axis=-1), "da0": da_t, **grads}
