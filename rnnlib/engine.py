"""The fast path of bptt: the same loss and gradients as the textbook bptt (rnnlib/bptt.py), at speed.

Three things make it fast, and notebook 4's appendix shows each:

- token ids instead of one-hot inputs: Wax x<t> is a column gather Wax[:, ids<t>], and
  dWax = Σ_t dz<t> x<t>ᵀ one scatter-add of dz's columns; no one-hot matrix is ever built;
- the output layer once over all T_x·m columns (one big matrix product instead of T_x small
  ones), and with many classes softmax_output_layer folds by, the softmax shift, the normalisation
  and dby into its three products;
- the states time-major, A[:, t] = a<t> of shape (n_a, m), so that a<1>..a<T_x> side by side are
  one (n_a, T_x m) matrix without a copy, and each shared weight's sum over time is one product.

Used by rnnlib.bptt on token ids, the character model (rnnlib/charmodel.py) and the benchmark
(rnnlib/bench.py); tests/test_rnnlib_fast.py checks it against the textbook functions. The
functions here do not check their arguments: rnnlib.bptt does, then calls :func:`bptt`.
"""

from __future__ import annotations

import numpy as np

from rnnlib.forward import ACTIVATIONS, activation_derivative

PARAMETER_NAMES = ("Waa", "Wax", "Wya", "ba", "by")


def input_term(Wax: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Wax x<t> for every step, time-major: a column gather for token ids, one product for one-hot.

    Inputs:
    - Wax: shape (n_a, n_x)
    - x: token ids of shape (m, T_x), or one-hot inputs of shape (n_x, m, T_x)

    Returns:
    - Wax x<t> for t = 1..T_x, shape (n_a, T_x, m)
    """
    if x.ndim == 2:  # token ids: column ids[j, t] of Wax for example j at step t
        return Wax[:, x.T]
    return np.tensordot(Wax, x, axes=1).transpose(0, 2, 1)


def output_loss(o: np.ndarray, y: np.ndarray, m: int, output_activation: str = "softmax"):
    """The loss from logits and its gradient dL/do, computed stably: dL/do = (ŷ - y) / m.

    Inputs:
    - o: logits for N = m·T_x columns, shape (n_y, N); overwritten with dL/do (it is not needed after)
    - y: labels of shape (N,) for softmax, or 0/1 targets of shape (n_y, N) for sigmoid
    - m: the minibatch size, to average over
    - output_activation: "softmax" or "sigmoid"

    Returns a tuple of:
    - loss: float, -(1/m) Σ log ŷ[true], via log-sum-exp (finite for any finite logits)
    - do: dL/do, shape (n_y, N) (the same array as o)
    """
    if output_activation == "softmax":
        cols = np.arange(o.shape[1])
        o_max = o.max(axis=0)  # (N,)
        o_true = o[y, cols]  # (N,) logit of the true class
        o -= o_max
        np.exp(o, out=o)  # e^(o - max) in place: the largest is 1, no overflow
        total = o.sum(axis=0)  # (N,)
        loss = float((np.log(total) + o_max - o_true).sum() / m)  # log-sum-exp minus the true logit
        o *= 1 / (m * total)  # ŷ / m
        o[y, cols] -= 1 / m
        return loss, o
    # sigmoid: -[y log σ(o) + (1 - y) log(1 - σ(o))] = log(1 + e^o) - y o
    loss = float((np.logaddexp(0, o) - y * o).sum() / m)
    do = (np.exp(-np.logaddexp(0, -o)) - y) / m
    return loss, do


def output_layer(
    H: np.ndarray,
    Wya: np.ndarray,
    by: np.ndarray,
    y: np.ndarray,
    m: int,
    output_activation: str = "softmax",
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """The output layer O = Wya H + by on all N = T_x·m columns at once: the loss and its gradients.

    With dO = (ŷ - y) / m:  dWya = dO Hᵀ,  dby = Σ_columns dO,  dH = Wyaᵀ dO (the gradient on a<t>).
    When the logits (n_y, N) are the larger matrix (n_y > n_a, as at the seed's 10,000 words),
    softmax goes through softmax_output_layer, which folds the passes over them into the
    products; otherwise the plain passes of output_loss over the small logits are cheaper.

    Inputs:
    - H: the hidden states a<t> side by side, shape (n_a, N)
    - Wya: shape (n_y, n_a); by: shape (n_y, 1)
    - y: labels of shape (N,) for softmax, or 0/1 targets of shape (n_y, N) for sigmoid
    - m: the minibatch size, to average over
    - output_activation: "softmax" or "sigmoid"

    Returns a tuple of:
    - loss: float; dWya: shape (n_y, n_a); dby: shape (n_y, 1); dH: shape (n_a, N)
    """
    if output_activation == "softmax" and Wya.shape[0] > Wya.shape[1]:  # logits larger than H
        return softmax_output_layer(H, Wya, by, y, m)
    loss, dO = output_loss(Wya @ H + by, y, m, output_activation)  # dO = (ŷ - y) / m, (n_y, N)
    return loss, dO @ H.T, dO.sum(axis=1, keepdims=True), Wya.T @ dO


def softmax_output_layer(
    H: np.ndarray, Wya: np.ndarray, by: np.ndarray, y: np.ndarray, m: int
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """output_layer for softmax in three matrix products and one exp over the (n_y, N) logits.

    E = e^(O - o_y), shifted by each column's true-class logit o_y inside the forward product;
    S = Σ_i E (a column sum, from the backward product); s = 1 / (m S);
    L = Σ_columns log S / m;  dH = (Wyaᵀ E) s - Wya[y]ᵀ / m;  [dWya dby] = (E - Y S) ([H; 1] s)ᵀ,
    Y the one-hot labels (never built: N entries of E are changed). Each big product is made one
    row or column larger instead of a separate pass over the logits for + by, the shift, the column
    sums, the normalisation ŷ = E / S or dby. Where O - o_y would overflow e^, the columns are
    redone with the usual shift by the column's maximum, so any finite logits work.

    Inputs and returns as output_layer (softmax): H (n_a, N), Wya (n_y, n_a), by (n_y, 1),
    labels y (N,), m. Returns loss, dWya (n_y, n_a), dby (n_y, 1), dH (n_a, N).
    """
    n_y, n_a = Wya.shape
    N = H.shape[1]
    cols = np.arange(N)
    Wya_y = Wya[y]  # row y_j of Wya for every column j, (N, n_a)
    o_true = np.einsum("ij,ji->i", Wya_y, H) + by[y, 0]  # o_y for every column, (N,)
    W1 = np.empty((n_y, n_a + 2), dtype=Wya.dtype)  # [Wya by 1]
    W1[:, :n_a], W1[:, n_a], W1[:, n_a + 1] = Wya, by[:, 0], 1
    H1 = np.empty((n_a + 2, N), dtype=H.dtype)  # [H; 1; -o_y]
    H1[:n_a], H1[n_a], H1[n_a + 1] = H, 1, -o_true
    with np.errstate(over="ignore", invalid="ignore"):  # overflowing columns are redone below
        E = W1 @ H1  # O - o_y, (n_y, N)
        np.exp(E, out=E)
        W1[:, n_a] = 1  # now [Wya 1 1]: its first n_a + 1 columns give [Wyaᵀ E; S]
        G = W1[:, : n_a + 1].T @ E  # (n_a + 1, N)
    S = G[n_a]  # Σ_i E, (N,)
    shift = np.zeros(N, dtype=E.dtype)  # the shift used, minus o_y (0 where it was o_y itself)
    # S >= 1 (the true class gives e^0), unless e^ overflowed (inf or NaN) or o_y was rounded
    redo = ~((S >= 0.5) & (S <= np.sqrt(np.finfo(E.dtype).max)))
    if redo.any():
        O = Wya @ H[:, redo] + by  # these columns' logits, shifted by their maximum instead
        o_max = O.max(axis=0)
        E[:, redo] = np.exp(O - o_max)
        G[:, redo] = W1[:, : n_a + 1].T @ E[:, redo]
        shift[redo] = o_max - o_true[redo]
    s = 1 / (m * S)  # (N,)
    loss = float((np.log(S) + shift).sum() / m)  # log Σ_i e^(o_i) - o_y, summed over the columns
    dH = G[:n_a]  # Wyaᵀ (ŷ - Y) / m = (Wyaᵀ E) s - Wya[y]ᵀ / m, in place, (n_a, N)
    dH *= s
    Wya_y /= m
    dH -= Wya_y.T
    E[y, cols] -= S  # E - Y S, so that (E - Y S) s = (ŷ - Y) / m
    H1[:n_a] *= s
    H1[n_a] = s  # [H; 1] s
    dWb_T = H1[: n_a + 1] @ E.T  # [dWya dby]ᵀ, (n_a + 1, n_y): float64 BLAS is faster this way
    return loss, dWb_T[:n_a].T, dWb_T[n_a:].T, dH


def input_weight_gradient(dZ: np.ndarray, x: np.ndarray, n_x: int) -> np.ndarray:
    """dWax = Σ_t dz<t> x<t>ᵀ: a scatter-add of dz columns for token ids, one product for one-hot x.

    Inputs:
    - dZ: dz<1>..dz<T_x> as columns ordered (t, j), shape (n_a, T_x m)
    - x: token ids of shape (m, T_x), or one-hot inputs of shape (n_x, m, T_x)
    - n_x: the vocabulary size

    Returns:
    - dWax, shape (n_a, n_x), in dZ's dtype
    """
    n_a = dZ.shape[0]
    if x.ndim == 2:  # dWax[i, ids[j, t]] += dz<t>[i, j], summing repeated ids
        m, T_x = x.shape
        dWax = np.zeros((n_a, n_x), dtype=dZ.dtype)
        ids = x.T.reshape(T_x * m)  # in the (t, j) order of dZ's columns
        flat = np.arange(n_a)[:, None] * n_x + ids  # flat index of dWax[i, ids], (n_a, T_x m)
        np.add.at(dWax.reshape(-1), flat.reshape(-1), dZ.reshape(-1))  # unbuffered scatter-add
        return dWax
    T_x, m = x.shape[2], x.shape[1]
    return np.tensordot(dZ.reshape(n_a, T_x, m), x, axes=([1, 2], [2, 1])).astype(dZ.dtype)


def bptt(
    x: np.ndarray,
    y: np.ndarray,
    a0: np.ndarray,
    parameters: dict[str, np.ndarray],
    truncate: int | None = None,
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    """The loss L = Σ_t L<t> (averaged over m) and its exact gradients, by (truncated) BPTT, fast.

    The output layer runs once over all steps (one matrix product instead of T_x), and the
    shared weights' gradients are summed over time in one product each; only the recurrence
    a<t-1> → a<t> is a loop. Arguments are not checked (rnnlib.bptt checks them).

    Inputs:
    - x: token ids of shape (m, T_x), or one-hot inputs of shape (n_x, m, T_x)
    - y: labels of shape (m, T_x) (softmax), or 0/1 targets of shape (n_y, m, T_x) (sigmoid)
    - a0: initial hidden state, shape (n_a, m)
    - parameters: dict with Waa (n_a, n_a), Wax (n_a, n_x), Wya (n_y, n_a), ba (n_a, 1), by (n_y, 1)
    - truncate: None for full BPTT, or k: the loss at step t reaches a<t>, ..., a<t-k> only
    - hidden_activation: "tanh" or "relu"; output_activation: "softmax" or "sigmoid"

    Returns a tuple of:
    - loss: float
    - gradients: dict with dWaa, dWax, dWya, dba, dby (shapes of the parameters) and da0 (n_a, m)
    - a_last: the last hidden state a<T_x>, shape (n_a, m), to carry into the next batch
    """
    Waa, Wax, Wya, ba, by = (parameters[k] for k in PARAMETER_NAMES)
    g1 = ACTIVATIONS[hidden_activation]
    n_a, m = a0.shape
    T_x = x.shape[-1]
    ids = x.ndim == 2
    # forward: the recurrence; Wax x<t> is the column gather Wax[:, ids<t>] for token ids
    A = np.empty((n_a, T_x + 1, m), dtype=Waa.dtype)  # A[:, t] = a<t>
    A[:, 0] = a0
    for t in range(T_x):
        Wax_xt = Wax[:, x[:, t]] if ids else Wax @ x[:, :, t]  # (n_a, m)
        A[:, t + 1] = g1(Waa @ A[:, t] + Wax_xt + ba)  # (n_a, m)
    H = A[:, 1:].reshape(n_a, T_x * m)  # a<1>..a<T_x> as columns, ordered (t, j)
    if output_activation == "softmax":
        targets = y.T.reshape(T_x * m)  # labels in the same (t, j) order
    else:
        targets = y.transpose(0, 2, 1).reshape(-1, T_x * m)
    # the output layer on every step at once: the loss, dWya, dby, and ∂L/∂a<t> from ŷ<t>
    loss, dWya, dby, dH = output_layer(H, Wya, by, targets, m, output_activation)
    # backward: the recurrence dz<t> = (da<t> + Waaᵀ dz<t+1>) ⊙ g1'(z<t>), full or truncated,
    # then each shared weight's sum over time in one product. It is written out here, not in a
    # helper of its own: a helper taking any upstream gradient would compute backprop_norms
    # (06-vanishing) and rnn_backward, and so could not be kept in the student edition of a
    # release that opens them, where this bptt (04-bptt, closed) must still run.
    dA = dH.reshape(n_a, T_x, m)  # ∂L/∂a<t> from ŷ<t>, time-major (n_a, T_x, m)
    if truncate is None:
        dZ, delta = dA, np.zeros_like(A[:, 0])  # delta: ∂L/∂a<t> from the steps after t
        for t in reversed(range(T_x)):
            dz = dZ[:, t]  # ∂L/∂a<t+1> from ŷ<t+1>, turned into dz<t+1> in place:
            dz += delta
            dz *= activation_derivative(hidden_activation, A[:, t + 1])  # g1'(z) from a = g1(z)
            delta = Waa.T @ dz  # ∂L/∂a<t>
        da0 = delta
    else:  # the loss at step t reaches a<t>, ..., a<t-k> and stops: a<t-k-1> is a constant
        dZ, da0 = np.zeros_like(dA), np.zeros_like(A[:, 0])
        dgdz = activation_derivative(hidden_activation, A[:, 1:])  # g1'(z<t>), (n_a, T_x, m)
        for t in range(T_x):  # each step's loss walks back at most truncate steps
            delta = dA[:, t]
            for s in range(t, max(t - truncate, 0) - 1, -1):
                dz = delta * dgdz[:, s]
                dZ[:, s] += dz
                if s - 1 < t - truncate:  # the state before step s is outside the window
                    break
                delta = Waa.T @ dz
                if s == 0:
                    da0 += delta
    dZ = dZ.reshape(n_a, T_x * m)  # dz<1>..dz<T_x> as columns, ordered (t, j)
    A_prev = A[:, :-1].reshape(n_a, T_x * m)  # a<0>..a<T_x-1>, the same order
    gradients = {
        "dWaa": dZ @ A_prev.T,  # Σ_t dz<t> a<t-1>ᵀ
        "dWax": input_weight_gradient(dZ, x, Wax.shape[1]),  # Σ_t dz<t> x<t>ᵀ
        "dWya": dWya,
        "dba": dZ.sum(axis=1, keepdims=True),  # Σ_t dz<t>
        "dby": dby,
        "da0": da0,
    }
    return loss, gradients, A[:, -1].copy()
