"""Lesson 4, backpropagation through time (notebooks/04-bptt).

With z<t> = Waa a<t-1> + Wax x<t> + ba and a<t> = g1(z<t>), the delta carried backwards is

    dz<t> = (∂L/∂a<t> from ŷ<t>  +  Waaᵀ dz<t+1>) ⊙ g1'(z<t>)

and because Waa, Wax, ba are shared by every step their gradients are sums over time:

    dWaa = Σ_t dz<t> a<t-1>ᵀ     dWax = Σ_t dz<t> x<t>ᵀ     dba = Σ_t dz<t>
    dWya = Σ_t (ŷ<t> - y<t>) a<t>ᵀ / m                      dby = Σ_t (ŷ<t> - y<t>) / m

In the literature's notation U = Wax, W = Waa, V = Wya and s = a.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from rnnlib._checks import PARAMETER_NAMES, OneHot, checked
from rnnlib.forward import ACTIVATIONS, activation_derivative, input_term, rnn_forward
from rnnlib.loss import cross_entropy, output_layer, output_loss


@checked
def rnn_cell_backward(da_next: np.ndarray, cache: tuple[Any, ...]) -> dict[str, np.ndarray]:
    """Gradients through one hidden step a<t> = g1(Waa a<t-1> + Wax x<t> + ba), given ∂L/∂a<t>.

    Inputs:
    - da_next: gradient of the loss with respect to a_next = a<t>, shape (n_a, m)
    - cache: the cache of rnn_cell_forward, (a_next, a_prev, xt, parameters, hidden_activation)

    Returns a dict of:
    - dxt: gradient with respect to x<t>, shape (n_x, m)
    - da_prev: gradient with respect to a<t-1>, shape (n_a, m)
    - dWax: shape (n_a, n_x); dWaa: shape (n_a, n_a); dba: shape (n_a, 1)
    """
    a_next, a_prev, xt, parameters, hidden_activation = cache
    dz = da_next * activation_derivative(hidden_activation, a_next)  # (n_a, m)
    return {
        "dxt": parameters["Wax"].T @ dz,  # (n_x, m)
        "da_prev": parameters["Waa"].T @ dz,  # (n_a, m)
        "dWax": dz @ xt.T,  # (n_a, n_x)
        "dWaa": dz @ a_prev.T,  # (n_a, n_a)
        "dba": dz.sum(axis=1, keepdims=True),  # (n_a, 1)
    }


@checked
def rnn_backward(da: np.ndarray, caches: list[tuple[Any, ...]]) -> dict[str, np.ndarray]:
    """Full BPTT through the hidden states: dz<t> = (da<t> + Waaᵀ dz<t+1>) ⊙ g1'(z<t>), summed over t.

    Inputs:
    - da: upstream gradient on every hidden state (from the outputs), shape (n_a, m, T_x);
      the gradient flowing back from a<t+1> is added inside
    - caches: the caches of rnn_forward, one per step

    Returns a dict of:
    - dx: gradient with respect to the inputs, shape (n_x, m, T_x)
    - da0: gradient with respect to a<0>, shape (n_a, m)
    - dWax: shape (n_a, n_x); dWaa: shape (n_a, n_a); dba: shape (n_a, 1)
    """
    n_a, m, T_x = da.shape
    parameters = caches[0][3]
    n_x = parameters["Wax"].shape[1]
    gradients = {
        "dx": np.zeros((n_x, m, T_x), dtype=da.dtype),
        "da0": np.zeros((n_a, m), dtype=da.dtype),
        "dWax": np.zeros_like(parameters["Wax"]),
        "dWaa": np.zeros_like(parameters["Waa"]),
        "dba": np.zeros_like(parameters["ba"]),
    }
    da_prevt = np.zeros((n_a, m), dtype=da.dtype)  # ∂L/∂a<t> coming back from step t+1
    for t in reversed(range(T_x)):
        step = rnn_cell_backward(da[:, :, t] + da_prevt, caches[t])
        gradients["dx"][:, :, t] = step["dxt"]
        gradients["dWax"] += step["dWax"]  # shared weights: sum over time
        gradients["dWaa"] += step["dWaa"]
        gradients["dba"] += step["dba"]
        da_prevt = step["da_prev"]
    gradients["da0"] = da_prevt
    return gradients


def backward_through_time(dA, A, Waa, hidden_activation, truncate):
    """dz<t> = (da<t> + Waaᵀ dz<t+1>) ⊙ g1'(z<t>) for every step, and da0: full or truncated BPTT.

    Inputs:
    - dA: the gradient from the outputs on a<1>..a<T_x>, time-major, shape (n_a, T_x, m)
      (overwritten: full BPTT returns dZ in this same array)
    - A: the states a<0>..a<T_x> of the forward pass, A[:, t] = a<t>, shape (n_a, T_x + 1, m)
    - Waa: shape (n_a, n_a); hidden_activation: "tanh" or "relu"
    - truncate: None, or k: the loss at step t reaches a<t>, ..., a<t-k> and stops there
      (a<t-k-1> is a constant)

    Returns a tuple of:
    - dZ: dz<1>..dz<T_x>, shape (n_a, T_x, m)
    - da0: the gradient on a<0>, shape (n_a, m)
    """
    T_x = dA.shape[1]
    if truncate is None:
        delta = np.zeros_like(A[:, 0])  # ∂L/∂a<t> from the steps after t
        for t in reversed(range(T_x)):
            dz = dA[:, t]  # ∂L/∂a<t+1> from ŷ<t+1>, turned into dz<t+1> in place:
            dz += delta
            dz *= activation_derivative(hidden_activation, A[:, t + 1])  # g1'(z) from a = g1(z)
            delta = Waa.T @ dz  # ∂L/∂a<t>
        return dA, delta
    dZ = np.zeros_like(dA)
    da0 = np.zeros_like(A[:, 0])
    dgdz = activation_derivative(hidden_activation, A[:, 1:])  # g1'(z<t>) from a<t>, (n_a, T_x, m)
    for t in range(T_x):  # each step's loss walks back at most truncate steps
        delta = dA[:, t]
        for s in range(t, max(t - truncate, 0) - 1, -1):
            dz = delta * dgdz[:, s]
            dZ[:, s] += dz
            if s - 1 < t - truncate:  # the state before step s is outside the window: a constant
                break
            delta = Waa.T @ dz
            if s == 0:
                da0 += delta
    return dZ, da0


@checked
def bptt(
    x: np.ndarray,
    y: np.ndarray,
    a0: np.ndarray,
    parameters: dict[str, np.ndarray],
    truncate: int | None = None,
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    """The loss L = Σ_t L<t> (averaged over m) and its exact gradients, by (truncated) BPTT.

    The output layer runs once over all steps (one matrix product instead of T_x), and the
    shared weights' gradients are summed over time in one product each; only the recurrence
    a<t-1> → a<t> is a loop. The states are kept time-major, A[:, t] = a<t> of shape (n_a, m),
    so that a<1>..a<T_x> side by side are one (n_a, T_x m) matrix without a copy.

    Inputs:
    - x: inputs, one-hot of shape (n_x, m, T_x), or token ids of shape (m, T_x)
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
    T_x = x.shape[2]
    # forward: the recurrence (Wax x<t> is a column gather for token ids)
    A = np.empty((n_a, T_x + 1, m), dtype=Waa.dtype)  # A[:, t] = a<t>
    A[:, 0] = a0
    for t in range(T_x):
        A[:, t + 1] = g1(Waa @ A[:, t] + Wax @ x[:, :, t] + ba)  # (n_a, m)
    H = A[:, 1:].reshape(n_a, T_x * m)  # a<1>..a<T_x> as columns, ordered (t, j)
    if output_activation == "softmax":
        targets = y.T.reshape(T_x * m)  # labels in the same (t, j) order
    else:
        targets = y.transpose(0, 2, 1).reshape(-1, T_x * m)
    # the output layer on every step at once: the loss, dWya, dby, and ∂L/∂a<t> from ŷ<t>
    loss, dWya, dby, dH = output_layer(H, Wya, by, targets, m, output_activation)
    # backward: the recurrence, then each shared weight's sum over time in one product
    dZ, da0 = backward_through_time(dH.reshape(n_a, T_x, m), A, Waa, hidden_activation, truncate)
    dZ = dZ.reshape(n_a, T_x * m)  # dz<1>..dz<T_x> as columns, ordered (t, j)
    A_prev = A[:, :-1].reshape(n_a, T_x * m)  # a<0>..a<T_x-1>, the same order
    gradients = {
        "dWaa": dZ @ A_prev.T,  # Σ_t dz<t> a<t-1>ᵀ
        "dWax": input_weight_gradient(dZ, x, Wax),  # Σ_t dz<t> x<t>ᵀ
        "dWya": dWya,
        "dba": dZ.sum(axis=1, keepdims=True),  # Σ_t dz<t>
        "dby": dby,
        "da0": da0,
    }
    return loss, gradients, A[:, -1].copy()


def input_weight_gradient(dZ: np.ndarray, x: np.ndarray | OneHot, Wax: np.ndarray) -> np.ndarray:
    """dWax = Σ_t dz<t> x<t>ᵀ: a scatter-add of dz columns for token ids, one product for one-hot x.

    dZ: dz<1>..dz<T_x> as columns ordered (t, j), shape (n_a, T_x m); x: one-hot (n_x, m, T_x) or
    OneHot of ids (m, T_x); Wax: (n_a, n_x). Returns dWax, shape (n_a, n_x).
    """
    n_a, n_x = Wax.shape
    T_x, m = x.shape[2], x.shape[1]
    if isinstance(x, OneHot):  # dWax[i, ids[j, t]] += dz<t>[i, j], summing repeated ids
        dWax = np.zeros((n_a, n_x), dtype=Wax.dtype)
        ids = x.ids.T.reshape(T_x * m)  # in the (t, j) order of dZ's columns
        flat = np.arange(n_a)[:, None] * n_x + ids  # flat index of dWax[i, ids], (n_a, T_x m)
        np.add.at(dWax.reshape(-1), flat.reshape(-1), dZ.reshape(-1))  # unbuffered scatter-add
        return dWax
    return np.tensordot(dZ.reshape(n_a, T_x, m), x, axes=([1, 2], [2, 1]))


@checked
def bptt_stepwise(
    x: np.ndarray,
    y: np.ndarray,
    a0: np.ndarray,
    parameters: dict[str, np.ndarray],
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    """Full BPTT written step by step, as the textbook derives it: the reference bptt must match.

    Same inputs and results as bptt with truncate=None; rnn_forward, cross_entropy and
    rnn_backward do the work, and the output layer runs once per step.
    """
    a, y_pred, caches = rnn_forward(x, a0, parameters, hidden_activation, output_activation)
    loss = cross_entropy(y_pred, y)
    m = a0.shape[1]
    if output_activation == "softmax":
        dO = y_pred.copy()
        np.subtract.at(dO, (y, np.arange(m)[:, None], np.arange(y.shape[1])), 1.0)  # ŷ - one-hot
        dO /= m
    else:
        dO = (y_pred - y) / m
    dWya = np.zeros_like(parameters["Wya"])
    dby = np.zeros_like(parameters["by"])
    da = np.zeros_like(a)
    for t in range(a.shape[2]):
        dWya += dO[:, :, t] @ a[:, :, t].T
        dby += dO[:, :, t].sum(axis=1, keepdims=True)
        da[:, :, t] = parameters["Wya"].T @ dO[:, :, t]
    hidden = rnn_backward(da, caches)
    gradients = {
        "dWaa": hidden["dWaa"],
        "dWax": hidden["dWax"],
        "dWya": dWya,
        "dba": hidden["dba"],
        "dby": dby,
        "da0": hidden["da0"],
    }
    return loss, gradients, a[:, :, -1]


def _surrogate_loss(x, y, a0, parameters, truncate, frozen, hidden_activation, output_activation):
    """The loss whose exact gradient truncated BPTT computes: a<t-k-1> is held at its value ``frozen``.

    With truncate=None it is the true loss. ``frozen[i]`` is the unperturbed a<i>, i = 0..T_x.
    """
    g1 = ACTIVATIONS[hidden_activation]
    Waa, Wax, Wya, ba, by = (parameters[k] for k in PARAMETER_NAMES)
    Z_in = np.moveaxis(input_term(Wax, x), 2, 0) + ba  # (T_x, n_a, m)
    T_x, m = Z_in.shape[0], a0.shape[1]
    total = 0.0
    steps = [(T_x - 1, 0, a0)] if truncate is None else []
    if truncate is not None:
        for t in range(T_x):
            start = (
                t - truncate
            )  # first state of the window (-1 is a<0>); the one before is a constant
            steps.append((t, 0, a0) if start < 0 else (t, start, frozen[start]))
    for t_end, t_start, a_t in steps:
        logits = []
        for s in range(t_start, t_end + 1):
            a_t = g1(Waa @ a_t + Z_in[s])
            logits.append(Wya @ a_t + by)
        if truncate is not None:
            logits = logits[-1:]  # only the loss at step t_end uses this window
            ts = [t_end]
        else:
            ts = list(range(T_x))
        O = np.concatenate(logits, axis=1)  # (n_y, len(ts) m)
        if output_activation == "softmax":
            targets = y[:, ts].T.reshape(-1)
        else:
            targets = y[:, :, ts].transpose(0, 2, 1).reshape(y.shape[0], -1)
        total += output_loss(O, targets, m, output_activation)[0]
    return total


def numerical_gradient(
    f: Callable[[np.ndarray], float],
    theta: np.ndarray,
    epsilon: float = 1e-5,
    entries: np.ndarray | None = None,
) -> np.ndarray:
    """Centred differences: ĝ_i = (f(θ + ε e_i) - f(θ - ε e_i)) / 2ε, error O(ε²).

    Inputs:
    - f: a scalar function of an array shaped like theta
    - theta: the point θ, any shape (use float64: ε = 1e-5 is far below float32's precision)
    - epsilon: the step ε
    - entries: flat indices of the entries to differentiate (None: all of them)

    Returns:
    - ĝ: shape theta.shape, or (len(entries),) when entries is given; theta itself is unchanged
    """
    entries = np.arange(theta.size) if entries is None else np.asarray(entries)
    grad = np.empty(len(entries))
    for i, flat in enumerate(entries):
        shifted = theta.copy()
        shifted.flat[flat] = theta.flat[flat] + epsilon
        f_plus = f(shifted)
        shifted.flat[flat] = theta.flat[flat] - epsilon
        f_minus = f(shifted)
        grad[i] = (f_plus - f_minus) / (2 * epsilon)
    return grad.reshape(theta.shape) if len(entries) == theta.size else grad


def relative_error(g: np.ndarray, g_hat: np.ndarray) -> float:
    """‖g - ĝ‖ / max(‖g‖ + ‖ĝ‖, 1e-12): near 1e-10 when both agree in float64, near 1 when not."""
    g, g_hat = np.ravel(g), np.ravel(g_hat)
    return float(np.linalg.norm(g - g_hat) / max(np.linalg.norm(g) + np.linalg.norm(g_hat), 1e-12))


@checked
def gradient_check(
    x: np.ndarray,
    y: np.ndarray,
    a0: np.ndarray,
    parameters: dict[str, np.ndarray],
    truncate: int | None = None,
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
    epsilon: float = 1e-5,
    num_checks: int | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """relative_error(g, ĝ) for each of bptt's gradients g against centred differences ĝ.

    For truncated BPTT the differentiated loss is the surrogate that holds a<t-k-1> constant,
    whose exact gradient truncated BPTT computes. Use float64.

    Inputs: as bptt, plus
    - epsilon: the step ε of numerical_gradient
    - num_checks: entries checked per parameter (None: all of them)
    - seed: which entries are checked, when num_checks is set

    Returns:
    - dict from gradient name (dWaa, dWax, dWya, dba, dby, da0) to relative error
    """
    _, gradients, _ = bptt(x, y, a0, parameters, truncate, hidden_activation, output_activation)
    frozen = None  # the unperturbed states a<0>..a<T_x>, held constant outside the window
    if truncate is not None:
        g1 = ACTIVATIONS[hidden_activation]
        a_t, frozen = a0, [a0]
        for z_in in np.moveaxis(input_term(parameters["Wax"], x), 2, 0) + parameters["ba"]:
            a_t = g1(parameters["Waa"] @ a_t + z_in)
            frozen.append(a_t)

    def loss(name: str, value: np.ndarray) -> float:
        start = value if name == "a0" else a0
        params = parameters if name == "a0" else {**parameters, name: value}
        return _surrogate_loss(
            x, y, start, params, truncate, frozen, hidden_activation, output_activation
        )

    rng = np.random.default_rng(seed)
    errors = {}
    for name in (*PARAMETER_NAMES, "a0"):
        value = a0 if name == "a0" else parameters[name]
        n = value.size
        entries = (
            None
            if num_checks is None or num_checks >= n
            else rng.choice(n, num_checks, replace=False)
        )
        numeric = numerical_gradient(lambda v, name=name: loss(name, v), value, epsilon, entries)
        analytic = (
            gradients["d" + name] if entries is None else gradients["d" + name].reshape(-1)[entries]
        )
        errors["d" + name] = relative_error(analytic, numeric)
    return errors
