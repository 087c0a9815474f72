"""The fast paths of lstm_bptt and gru_bptt: the textbook's loss and gradients (rnnlib/lstm.py,
rnnlib/gru.py), at speed.

What rnnlib/engine.py does for the vanilla cell, for the gated cells:

- the gates stacked into one weight matrix, one product per step with its a<t-1> part:
  LSTM: W = [Wf; Wi; Wc; Wo] of shape (4 n_a, n_a + n_x), Wa a<t-1> with Wa = W[:, :n_a];
  GRU: W = [Wr; Wu; Wc] of shape (3 n_a, n_a + n_x); Γr and Γu share one product
  [Wr; Wu][:, :n_a] a<t-1>, and the candidate, which needs Γr first, one more,
  Wc[:, :n_a] (Γr ⊙ a<t-1>) (the original formulation of rnnlib/gru.py, reset before the product);
- the input part W[:, n_a:] x<t> of every gate, the GRU's candidate included, computed for every
  step before the loop: a column gather for token ids; dW's input part is one scatter-add;
- the output layer once over all T_x·m columns (engine.output_layer);
- time-major states, A[:, t] = a<t> of shape (n_a, m), so that each shared weight's sum over time
  is one product.

Used by rnnlib.lstm_bptt and rnnlib.gru_bptt on token ids (and so by the character model);
tests/test_rnnlib_fast_lstm.py and tests/test_rnnlib_fast_gru.py check them against the textbook
functions. Arguments are not checked here: rnnlib.lstm_bptt and rnnlib.gru_bptt do.
"""

from __future__ import annotations

import numpy as np

from rnnlib.engine import input_weight_gradient, output_layer

GATES = "fico"  # the stacking order of the LSTM's W: forget, update (Wi), candidate, output
GRU_GATES = "ruc"  # the stacking order of the GRU's W: reset, update, candidate


def _input_parts(Wx: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Every step's input part of the stacked pre-activations, Wx x<t> + b, at once: a column
    gather for token ids x (m, T_x), a product for one-hot x (n_x, m, T_x). Shape (T_x, k n_a, m),
    each step contiguous."""
    Z = Wx[:, x.T] if x.ndim == 2 else np.tensordot(Wx, x, axes=1).transpose(0, 2, 1)
    return np.ascontiguousarray((Z + b[:, :, None]).transpose(1, 0, 2))


def _output_layer(A: np.ndarray, parameters: dict[str, np.ndarray], y: np.ndarray):
    """The softmax output layer over every step at once (engine.output_layer) on the states
    A[:, 1:] = a<1>..a<T_x> of shape (n_a, T_x, m): loss, dWy, dby and ∂L/∂a<t> (n_a, T_x, m)."""
    n_a, T_x, m = A.shape[0], A.shape[1] - 1, A.shape[2]
    H = A[:, 1:].reshape(n_a, T_x * m)  # columns ordered (t, j)
    loss, dWy, dby, dH = output_layer(
        H, parameters["Wy"], parameters["by"], y.T.reshape(T_x * m), m
    )
    return loss, dWy, dby, dH.reshape(n_a, T_x, m)


def _per_gate(gates: str, dW: np.ndarray, db: np.ndarray, n_a: int) -> dict[str, np.ndarray]:
    """The stacked gradients (k n_a, ...) split back into dW<g>, db<g> for each gate g, in order."""
    out: dict[str, np.ndarray] = {}
    for k, g in enumerate(gates):
        out["dW" + g], out["db" + g] = dW[k * n_a : (k + 1) * n_a], db[k * n_a : (k + 1) * n_a]
    return out


def _sigmoid_tanh(Z: np.ndarray, n_a: int) -> np.ndarray:
    """σ on the rows of Γf, Γu, Γo and tanh on those of c̃, of stacked pre-activations (4 n_a, m)."""
    G = Z.copy()  # σ(z) = (1 + tanh(z/2)) / 2: rnnlib.forward.sigmoid's values, one tanh pass
    G[: 2 * n_a] *= 0.5
    G[3 * n_a :] *= 0.5
    np.tanh(G, out=G)
    G[: 2 * n_a] += 1
    G[: 2 * n_a] *= 0.5
    G[3 * n_a :] += 1
    G[3 * n_a :] *= 0.5
    return G


def _step_backward(da, dc_next, G, c, c_prev, n_a):
    """One step back: the stacked dz (4 n_a, m) of the gates' pre-activations and dc<t-1>."""
    f, i, cc, o = G[:n_a], G[n_a : 2 * n_a], G[2 * n_a : 3 * n_a], G[3 * n_a :]
    tanh_c = np.tanh(c)
    dc = dc_next + da * o * (1 - tanh_c**2)  # total ∂L/∂c<t>
    dz = np.empty_like(G)
    dz[:n_a] = dc * c_prev * f * (1 - f)
    dz[n_a : 2 * n_a] = dc * cc * i * (1 - i)
    dz[2 * n_a : 3 * n_a] = dc * i * (1 - cc**2)
    dz[3 * n_a :] = da * tanh_c * o * (1 - o)
    return dz, dc * f


def lstm_bptt(
    x: np.ndarray,
    y: np.ndarray,
    a0: np.ndarray,
    parameters: dict[str, np.ndarray],
    truncate: int | None = None,
) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    """The loss L = Σ_t L<t> (cross-entropy, averaged over m) and its exact gradients through the
    LSTM, by (truncated) BPTT, fast; c<0> = 0. Arguments are not checked (rnnlib.lstm_bptt does).

    Inputs:
    - x: token ids of shape (m, T_x), or one-hot inputs of shape (n_x, m, T_x)
    - y: labels, shape (m, T_x)
    - a0: initial hidden state a<0>, shape (n_a, m)
    - parameters: Wf, Wi, Wc, Wo (n_a, n_a + n_x), bf, bi, bc, bo (n_a, 1), Wy (n_y, n_a), by (n_y, 1)
    - truncate: None for full BPTT, or k: the loss at step t reaches a<t>, c<t>, ..., a<t-k>, c<t-k>

    Returns a tuple of:
    - loss: float
    - gradients: dict with the ten d-names (shapes of the parameters) and da0 (n_a, m)
    - a_last: the last hidden state a<T_x>, shape (n_a, m)
    """
    n_a, m = a0.shape
    T_x = x.shape[-1]
    W = np.concatenate([parameters["W" + g] for g in GATES])  # (4 n_a, n_a + n_x)
    b = np.concatenate([parameters["b" + g] for g in GATES])  # (4 n_a, 1)
    Wa, Wx = W[:, :n_a], W[:, n_a:]
    n_x = Wx.shape[1]
    Z = _input_parts(Wx, b, x)  # Z[t]: step t+1's input part and bias, (4 n_a, m)
    A = np.empty((n_a, T_x + 1, m), dtype=W.dtype)  # A[:, t] = a<t>
    C = np.empty_like(A)  # C[:, t] = c<t>
    A[:, 0], C[:, 0] = a0, 0
    for t in range(T_x):
        Z[t] += Wa @ A[:, t]  # the stacked pre-activations of step t+1
        G = Z[t] = _sigmoid_tanh(Z[t], n_a)  # now the gates, kept for the backward pass
        C[:, t + 1] = G[:n_a] * C[:, t] + G[n_a : 2 * n_a] * G[2 * n_a : 3 * n_a]
        A[:, t + 1] = G[3 * n_a :] * np.tanh(C[:, t + 1])
    gates = Z  # Γf, Γu, c̃, Γo for every step, gates[t] of shape (4 n_a, m)
    loss, dWy, dby, dH = _output_layer(A, parameters, y)  # dH[:, t] = ∂L/∂a<t+1> via ŷ
    dZ = np.zeros((4 * n_a, T_x, m), dtype=W.dtype)
    da0 = np.zeros_like(A[:, 0])
    if truncate is None:
        da_next, dc_next = np.zeros_like(da0), np.zeros_like(da0)
        for s in reversed(range(T_x)):
            dz, dc_next = _step_backward(
                dH[:, s] + da_next, dc_next, gates[s], C[:, s + 1], C[:, s], n_a
            )
            dZ[:, s] = dz
            da_next = Wa.T @ dz
        da0 = da_next
    else:
        for t in range(T_x):  # each step's loss walks back on its own through at most k steps
            da, dc_next = dH[:, t], np.zeros_like(da0)
            for s in range(t, max(t - truncate, 0) - 1, -1):
                dz, dc_next = _step_backward(da, dc_next, gates[s], C[:, s + 1], C[:, s], n_a)
                dZ[:, s] += dz
                if s == t - truncate:  # a<s-1>, c<s-1> are outside the window: constants
                    break
                da = Wa.T @ dz
                if s == 0:
                    da0 += da
    dZ = dZ.reshape(4 * n_a, T_x * m)  # columns ordered (t, j)
    A_prev = A[:, :-1].reshape(n_a, T_x * m)
    dW = np.empty_like(W)
    dW[:, :n_a] = dZ @ A_prev.T  # Σ_t dz<t> a<t-1>ᵀ
    dW[:, n_a:] = input_weight_gradient(dZ, x, n_x)  # Σ_t dz<t> x<t>ᵀ
    db = dZ.sum(axis=1, keepdims=True)
    gradients = _per_gate(GATES, dW, db, n_a) | {"dWy": dWy, "dby": dby, "da0": da0}
    return loss, gradients, A[:, -1].copy()


def _gru_dz(da, G, a_prev, Wca, n_a):
    """One GRU step back: the stacked dz (3 n_a, m) of the pre-activations of Γr, Γu, ã<t>, and
    ∂L/∂(Γr ⊙ a<t-1>) = Wc[:, :n_a]ᵀ dz_c, given da = ∂L/∂a<t>."""
    r, u, cc = G[:n_a], G[n_a : 2 * n_a], G[2 * n_a :]
    dz = np.empty_like(G)
    dz[2 * n_a :] = da * u * (1 - cc**2)  # through the candidate's tanh
    dz[n_a : 2 * n_a] = da * (cc - a_prev) * u * (1 - u)
    dra = Wca.T @ dz[2 * n_a :]
    dz[:n_a] = dra * a_prev * r * (1 - r)
    return dz, dra


def _gru_da_prev(da, dz, dra, G, Wrua, n_a):
    """∂L/∂a<t-1>: through (1 - Γu), through Γr ⊙ a<t-1>, and through Γr's and Γu's inputs."""
    r, u = G[:n_a], G[n_a : 2 * n_a]
    return da * (1 - u) + dra * r + Wrua.T @ dz[: 2 * n_a]


def gru_bptt(
    x: np.ndarray,
    y: np.ndarray,
    a0: np.ndarray,
    parameters: dict[str, np.ndarray],
    truncate: int | None = None,
) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    """The loss L = Σ_t L<t> (cross-entropy, averaged over m) and its exact gradients through the
    GRU (reset gate before the product, as rnnlib/gru.py), by (truncated) BPTT, fast. Arguments
    are not checked (rnnlib.gru_bptt does).

    Inputs:
    - x: token ids of shape (m, T_x), or one-hot inputs of shape (n_x, m, T_x)
    - y: labels, shape (m, T_x)
    - a0: initial hidden state a<0>, shape (n_a, m)
    - parameters: Wr, Wu, Wc (n_a, n_a + n_x), br, bu, bc (n_a, 1), Wy (n_y, n_a), by (n_y, 1)
    - truncate: None for full BPTT, or k: the loss at step t reaches a<t>, ..., a<t-k>

    Returns a tuple of:
    - loss: float
    - gradients: dict with the eight d-names (shapes of the parameters) and da0 (n_a, m)
    - a_last: the last hidden state a<T_x>, shape (n_a, m)
    """
    n_a, m = a0.shape
    T_x = x.shape[-1]
    W = np.concatenate([parameters["W" + g] for g in GRU_GATES])  # (3 n_a, n_a + n_x)
    b = np.concatenate([parameters["b" + g] for g in GRU_GATES])  # (3 n_a, 1)
    Wrua = np.ascontiguousarray(W[: 2 * n_a, :n_a])  # Γr's and Γu's a<t-1> part, one product
    Wca = np.ascontiguousarray(W[2 * n_a :, :n_a])  # the candidate's, on Γr ⊙ a<t-1>
    Wx = W[:, n_a:]
    n_x = Wx.shape[1]
    Z = _input_parts(Wx, b, x)  # Z[t]: step t+1's input part and bias, (3 n_a, m)
    A = np.empty((n_a, T_x + 1, m), dtype=W.dtype)  # A[:, t] = a<t>
    RA = np.empty((n_a, T_x, m), dtype=W.dtype)  # RA[:, t] = Γr ⊙ a<t>, the candidate's input
    A[:, 0] = a0
    for t in range(T_x):
        a_prev, z = A[:, t], Z[t]
        ru = z[: 2 * n_a]
        ru += Wrua @ a_prev
        ru *= 0.5  # σ(z) = (1 + tanh(z/2)) / 2: rnnlib.forward.sigmoid's values, one tanh pass
        np.tanh(ru, out=ru)
        ru += 1
        ru *= 0.5
        RA[:, t] = z[:n_a] * a_prev
        cc = z[2 * n_a :]
        cc += Wca @ RA[:, t]
        np.tanh(cc, out=cc)
        u = z[n_a : 2 * n_a]
        A[:, t + 1] = u * cc + (1 - u) * a_prev
    gates = Z  # Γr, Γu, ã<t> for every step, gates[t] of shape (3 n_a, m)
    loss, dWy, dby, dH = _output_layer(A, parameters, y)  # dH[:, t] = ∂L/∂a<t+1> via ŷ
    dZ = np.zeros((3 * n_a, T_x, m), dtype=W.dtype)
    da0 = np.zeros_like(A[:, 0])
    if truncate is None:
        da_next = np.zeros_like(da0)
        for s in reversed(range(T_x)):
            da = dH[:, s] + da_next
            dz, dra = _gru_dz(da, gates[s], A[:, s], Wca, n_a)
            dZ[:, s] = dz
            da_next = _gru_da_prev(da, dz, dra, gates[s], Wrua, n_a)
        da0 = da_next
    else:
        for t in range(T_x):  # each step's loss walks back on its own through at most k steps
            da = dH[:, t]
            for s in range(t, max(t - truncate, 0) - 1, -1):
                dz, dra = _gru_dz(da, gates[s], A[:, s], Wca, n_a)
                dZ[:, s] += dz
                if s == t - truncate:  # a<s-1> is outside the window: a constant
                    break
                da = _gru_da_prev(da, dz, dra, gates[s], Wrua, n_a)
                if s == 0:
                    da0 += da
    dZ = dZ.reshape(3 * n_a, T_x * m)  # columns ordered (t, j)
    dW = np.empty_like(W)
    dW[: 2 * n_a, :n_a] = dZ[: 2 * n_a] @ A[:, :-1].reshape(n_a, T_x * m).T  # Σ_t dz<t> a<t-1>ᵀ
    dW[2 * n_a :, :n_a] = dZ[2 * n_a :] @ RA.reshape(n_a, T_x * m).T  # Σ_t dz_c<t> (Γr ⊙ a<t-1>)ᵀ
    dW[:, n_a:] = input_weight_gradient(dZ, x, n_x)  # Σ_t dz<t> x<t>ᵀ
    db = dZ.sum(axis=1, keepdims=True)
    gradients = _per_gate(GRU_GATES, dW, db, n_a) | {"dWy": dWy, "dby": dby, "da0": da0}
    return loss, gradients, A[:, -1].copy()
