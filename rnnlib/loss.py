"""Lesson 3, outputs and the loss (notebooks/03-loss).

    softmax(o)_i = e^(o_i - max o) / Σ_k e^(o_k - max o)              (over axis 0, never overflows)
    L = -(1/m) Σ_j Σ_t log ŷ<t>[y_j<t>, j]                            (softmax outputs, labels y)
    L = -(1/m) Σ_j Σ_t Σ_i [y log ŷ + (1 - y) log(1 - ŷ)]<t>[i, j]      (sigmoid outputs, 0/1 targets)

The loss is summed over the time steps and averaged over the m sequences of the minibatch.
"""

from __future__ import annotations

import numpy as np

from rnnlib._checks import checked


def softmax(z: np.ndarray) -> np.ndarray:
    """softmax(z)_i = e^(z_i - max_k z_k) / Σ_k e^(z_k - max_k z_k), over axis 0.

    Inputs:
    - z: logits, shape (n_y, ...) (for example (n_y, m) or (n_y, m, T_x)), finite

    Returns:
    - probabilities of the same shape; every column sums to 1
    """
    e = np.exp(z - z.max(axis=0, keepdims=True))  # the largest exponent is 0: no overflow
    return e / e.sum(axis=0, keepdims=True)


@checked
def cross_entropy(y_pred: np.ndarray, y: np.ndarray) -> float:
    """L = -(1/m) Σ_t Σ_j log ŷ<t>[y_j<t>, j] (labels), or the binary cross-entropy (0/1 targets).

    Inputs:
    - y_pred: predicted probabilities, shape (n_y, m, T_x) (or (n_y, m) for one step)
    - y: integer class labels of shape (m, T_x) (or (m,)) for softmax outputs,
      or 0/1 targets of shape (n_y, m, T_x) (or (n_y, m)) for sigmoid outputs

    Returns:
    - the loss: summed over time steps (and output units for sigmoid), averaged over m.
      Probabilities are clamped to [tiny, 1] so a confident wrong answer costs a large finite loss.
    """
    m = y_pred.shape[1]
    tiny = np.finfo(y_pred.dtype).tiny
    if y.dtype.kind in "iu":  # softmax outputs: the probability given to the true class
        p_true = np.take_along_axis(y_pred, y[None], axis=0)  # (1, m[, T_x])
        return float(-np.log(np.maximum(p_true, tiny)).sum() / m)
    log_p = np.log(np.maximum(y_pred, tiny))
    log_not_p = np.log(np.maximum(1 - y_pred, tiny))
    return float(-(y * log_p + (1 - y) * log_not_p).sum() / m)


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
