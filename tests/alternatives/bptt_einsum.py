"""Correct answers to 04-bptt with einsum, np.moveaxis, the output layer over every step at once
and the truncation windows of all loss steps walked back together."""

import numpy as np


def rnn_cell_backward(da_next, cache):
    a_next, a_prev, xt, parameters, hidden_activation = cache
    dz = da_next * (1 - np.square(a_next) if hidden_activation == "tanh" else np.sign(a_next))
    return {
        "dxt": np.einsum("ax,am->xm", parameters["Wax"], dz),
        "da_prev": np.einsum("ab,am->bm", parameters["Waa"], dz),
        "dWax": np.einsum("am,xm->ax", dz, xt),
        "dWaa": np.einsum("am,bm->ab", dz, a_prev),
        "dba": np.einsum("am->a", dz)[:, None],
    }


def rnn_backward(da, caches):
    n_a, m, T_x = da.shape
    Waa, Wax = caches[0][3]["Waa"], caches[0][3]["Wax"]
    dz = np.zeros((T_x, n_a, m))
    carried = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        a_next, _, _, _, g1 = caches[t]
        dz[t] = (da[:, :, t] + carried) * (1 - a_next**2 if g1 == "tanh" else a_next > 0)
        carried = np.matmul(Waa.T, dz[t])
    a_prev = np.stack([c[1] for c in caches])  # (T_x, n_a, m)
    xs = np.stack([c[2] for c in caches])  # (T_x, n_x, m)
    return {
        "dx": np.moveaxis(np.matmul(Wax.T, dz), 0, -1),
        "da0": carried,
        "dWax": np.einsum("tam,txm->ax", dz, xs),
        "dWaa": np.einsum("tam,tbm->ab", dz, a_prev),
        "dba": dz.sum(axis=(0, 2))[:, None],
    }


def numerical_gradient(f, theta, epsilon=1e-5, entries=None):
    work = np.array(theta, dtype=np.float64)
    indices = range(theta.size) if entries is None else entries
    grad = np.zeros(len(indices))
    view = work.reshape(-1)
    for n, i in enumerate(indices):
        keep = view[i]
        view[i] = keep + epsilon
        up = f(work)
        view[i] = keep - epsilon
        down = f(work)
        view[i] = keep
        grad[n] = (up - down) / epsilon / 2
    return grad.reshape(theta.shape) if entries is None else grad


def rnn_backward_truncated(da, caches, truncate):
    # all the walks at once: carry[t] is step t's gradient on the current state, zero outside
    # step t's window of truncate + 1 states
    A = np.stack([c[0] for c in caches], axis=-1)  # a<1>, ..., a<T_x>
    A_prev = np.stack([c[1] for c in caches], axis=-1)
    X = np.stack([c[2] for c in caches], axis=-1)
    Waa, Wax = caches[0][3]["Waa"], caches[0][3]["Wax"]
    deriv = 1 - A**2 if caches[0][4] == "tanh" else (A > 0) * 1.0
    n_a, m, T_x = da.shape
    carry = np.zeros((T_x, n_a, m))
    origins = np.arange(T_x)
    dZ = np.zeros((n_a, m, T_x))
    for s in reversed(range(T_x)):
        carry[s] = da[..., s]
        carry[(origins < s) | (origins - s > truncate)] = 0
        dz = carry * deriv[..., s]
        dZ[..., s] = dz.sum(axis=0)
        carry = np.einsum("ba,tbm->tam", Waa, dz)
    return {
        "dx": np.einsum("ax,amt->xmt", Wax, dZ),
        "da0": carry[origins + 1 <= truncate].sum(axis=0),
        "dWax": np.einsum("amt,xmt->ax", dZ, X),
        "dWaa": np.einsum("amt,bmt->ab", dZ, A_prev),
        "dba": dZ.sum(axis=(1, 2))[:, None],
    }


def output_layer_backward(y_pred, y, a, parameters):
    n_y = y_pred.shape[0]
    target = y if y.ndim == 3 else np.moveaxis(np.eye(n_y)[y], -1, 0)  # (n_y, m, T_x)
    dO = (y_pred - target) / y_pred.shape[1]
    return {
        "dWya": np.einsum("ymt,amt->ya", dO, a),
        "dby": dO.sum(axis=(1, 2))[:, None],
        "da": np.einsum("ya,ymt->amt", parameters["Wya"], dO),
    }


def bptt(
    x, y, a0, parameters, truncate=None, hidden_activation="tanh", output_activation="softmax"
):
    Waa, Wax, Wya = parameters["Waa"], parameters["Wax"], parameters["Wya"]
    n_a, m = a0.shape
    T_x = x.shape[2]
    A = np.zeros((n_a, m, T_x + 1))  # A[..., t] = a<t>
    A[..., 0] = a0
    for t in range(T_x):
        z = np.matmul(Waa, A[..., t]) + np.matmul(Wax, x[..., t]) + parameters["ba"]
        A[..., t + 1] = np.tanh(z) if hidden_activation == "tanh" else np.maximum(z, 0)
    O = np.einsum("ya,amt->ymt", Wya, A[..., 1:]) + parameters["by"][..., None]
    if output_activation == "softmax":
        P = np.exp(O - O.max(axis=0))
        P /= P.sum(axis=0)
        target = np.moveaxis(np.eye(Wya.shape[0])[y], -1, 0)  # one-hot (n_y, m, T_x)
        loss = -np.sum(np.log(np.sum(P * target, axis=0))) / m
    else:
        P = 1 / (1 + np.exp(-O))
        target = y
        loss = -np.sum(target * np.log(P) + (1 - target) * np.log(1 - P)) / m
    dO = (P - target) / m
    dA = np.einsum("ya,ymt->amt", Wya, dO)  # ∂L<t>/∂a<t>
    k = T_x if truncate is None else truncate
    deriv = 1 - A[..., 1:] ** 2 if hidden_activation == "tanh" else (A[..., 1:] > 0) * 1.0
    carry = np.zeros((T_x, n_a, m))  # carry[t]: the gradient of L<t> reaching the current state
    dZ = np.zeros((n_a, m, T_x))
    for s in reversed(range(T_x)):
        carry[s] = dA[..., s]
        origins = np.arange(T_x)
        live = (origins >= s) & (origins - s <= k)
        carry[~live] = 0
        dz = carry * deriv[..., s]
        dZ[..., s] = dz.sum(axis=0)
        carry = np.einsum("ba,tbm->tam", Waa, dz)
    reach_a0 = np.arange(T_x) + 1 <= k
    da0 = carry[reach_a0].sum(axis=0)
    gradients = {
        "dWaa": np.einsum("amt,bmt->ab", dZ, A[..., :-1]),
        "dWax": np.einsum("amt,xmt->ax", dZ, x),
        "dWya": np.einsum("ymt,amt->ya", dO, A[..., 1:]),
        "dba": dZ.sum(axis=(1, 2))[:, None],
        "dby": dO.sum(axis=(1, 2))[:, None],
        "da0": da0,
    }
    return float(loss), gradients, A[..., -1]
