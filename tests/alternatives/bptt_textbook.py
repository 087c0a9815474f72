"""Correct answers to 04-bptt as the notebook derives them, step by step, with x[..., t] slices."""

import numpy as np


def rnn_cell_backward(da_next, cache):
    a_next, a_prev, xt, parameters, hidden_activation = cache
    g1_prime = 1 - a_next**2 if hidden_activation == "tanh" else (a_next > 0) * 1.0
    dz = da_next * g1_prime
    return {
        "dxt": np.dot(parameters["Wax"].T, dz),
        "da_prev": np.dot(parameters["Waa"].T, dz),
        "dWax": np.dot(dz, xt.T),
        "dWaa": np.dot(dz, a_prev.T),
        "dba": np.sum(dz, axis=1, keepdims=True),
    }


def rnn_backward(da, caches):
    T_x = da.shape[-1]
    dx, dWax, dWaa, dba = [], 0, 0, 0
    carried = np.zeros_like(da[..., 0])
    for t in range(T_x - 1, -1, -1):
        step = rnn_cell_backward(da[..., t] + carried, caches[t])
        dx.insert(0, step["dxt"])
        dWax = dWax + step["dWax"]
        dWaa = dWaa + step["dWaa"]
        dba = dba + step["dba"]
        carried = step["da_prev"]
    return {"dx": np.stack(dx, axis=-1), "da0": carried, "dWax": dWax, "dWaa": dWaa, "dba": dba}


def numerical_gradient(f, theta, epsilon=1e-5, entries=None):
    flat = np.arange(theta.size) if entries is None else np.asarray(entries)
    grad = []
    for i in flat:
        index = np.unravel_index(i, theta.shape)
        plus, minus = theta.astype(float), theta.astype(float)
        plus[index] += epsilon
        minus[index] -= epsilon
        grad.append((f(plus) - f(minus)) / (2 * epsilon))
    grad = np.array(grad)
    return grad.reshape(theta.shape) if entries is None else grad


def rnn_backward_truncated(da, caches, truncate):
    # one walk per step's loss, with np.dot and x[..., t] slices, recursively
    T_x = da.shape[-1]
    out = {"dx": np.zeros((caches[0][2].shape[0],) + da.shape[1:]), "da0": 0 * da[..., 0]}
    out.update(dWax=0, dWaa=0, dba=0)

    def walk(delta, s, left):
        if left == 0:  # the window is used up: the state before it is a constant
            return
        if s < 0:
            out["da0"] = out["da0"] + delta
            return
        step = rnn_cell_backward(delta, caches[s])
        out["dx"][..., s] += step["dxt"]
        for key in ("dWax", "dWaa", "dba"):
            out[key] = out[key] + step[key]
        walk(step["da_prev"], s - 1, left - 1)

    for t in range(T_x):
        walk(da[..., t], t, truncate + 1)
    return out


def output_layer_backward(y_pred, y, a, parameters):
    n_y, m, T_x = y_pred.shape
    dWya, dby, da = 0, 0, []
    for t in range(T_x):
        if y.ndim == 3:
            target = y[..., t]
        else:
            target = (np.arange(n_y)[:, None] == y[:, t][None, :]) * 1.0
        do = np.dot(1.0 / m, y_pred[..., t] - target)
        dWya = dWya + np.dot(do, a[..., t].T)
        dby = dby + np.sum(do, axis=1, keepdims=True)
        da.append(np.dot(parameters["Wya"].T, do))
    return {"dWya": dWya, "dby": dby, "da": np.stack(da, axis=-1)}


def bptt(
    x, y, a0, parameters, truncate=None, hidden_activation="tanh", output_activation="softmax"
):
    Waa, Wax, Wya = parameters["Waa"], parameters["Wax"], parameters["Wya"]
    ba, by = parameters["ba"], parameters["by"]
    n_a, m = a0.shape
    T_x = x.shape[-1]
    a = [a0]  # a[t + 1] = a<t+1>
    for t in range(T_x):
        z = Waa @ a[t] + Wax @ x[..., t] + ba
        a.append(np.tanh(z) if hidden_activation == "tanh" else np.maximum(z, 0))
    loss = 0.0
    grads = {k: np.zeros_like(v) for k, v in (("dWaa", Waa), ("dWax", Wax), ("dba", ba))}
    dWya, dby, da0 = np.zeros_like(Wya), np.zeros_like(by), np.zeros_like(a0)
    k = T_x if truncate is None else truncate
    for t in range(T_x):
        o = Wya @ a[t + 1] + by
        if output_activation == "softmax":
            e = np.exp(o - o.max(axis=0))
            p = e / e.sum(axis=0)
            loss -= np.log(p[y[:, t], np.arange(m)]).sum() / m
            do = p.copy()
            do[y[:, t], np.arange(m)] -= 1
        else:
            p = 1 / (1 + np.exp(-o))
            loss -= (y[..., t] * np.log(p) + (1 - y[..., t]) * np.log(1 - p)).sum() / m
            do = p - y[..., t]
        do /= m
        dWya += do @ a[t + 1].T
        dby += do.sum(axis=1, keepdims=True)
        delta = Wya.T @ do  # ∂L<t>/∂a<t>, then walked back at most k steps
        for s in range(t, t - k - 1, -1):
            if s < 0:
                da0 += delta
                break
            g1_prime = 1 - a[s + 1] ** 2 if hidden_activation == "tanh" else a[s + 1] > 0
            dz = delta * g1_prime
            grads["dWaa"] += dz @ a[s].T
            grads["dWax"] += dz @ x[..., s].T
            grads["dba"] += dz.sum(axis=1, keepdims=True)
            delta = Waa.T @ dz
    return loss, {**grads, "dWya": dWya, "dby": dby, "da0": da0}, a[-1]
