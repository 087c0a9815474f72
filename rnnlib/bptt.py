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

from rnnlib import engine
from rnnlib._checks import (
    HIDDEN_ACTIVATIONS,
    OUTPUT_ACTIVATIONS,
    PARAMETER_NAMES,
    Dims,
    check_cache,
    check_caches,
    check_choice,
    check_input,
    check_labels,
    check_nonempty,
    check_parameters,
    check_probabilities,
    check_state,
    check_truncate,
    checked,
    parameters_dtype,
)
from rnnlib.engine import input_term, output_loss
from rnnlib.forward import ACTIVATIONS, activation_derivative, rnn_forward


def check_rnn_cell_backward(da_next, cache) -> dict[str, Any]:
    """rnn_cell_backward's contract: the cache of rnn_cell_forward, then da_next (n_a, m)."""
    dims = Dims()
    dtype = check_cache(cache, dims)
    da_next = check_state("da_next", da_next, ("n_a", "m"), dims, dtype)
    check_nonempty(dims)
    return {"da_next": da_next, "cache": cache}


@checked(check_rnn_cell_backward)
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


def check_rnn_backward(da, caches) -> dict[str, Any]:
    """rnn_backward's contract: the caches of rnn_forward, then da (n_a, m, T_x)."""
    dims = Dims()
    dtype = check_caches(caches, dims)
    da = check_state("da", da, ("n_a", "m", "T_x"), dims, dtype)
    check_nonempty(dims)
    return {"da": da, "caches": caches}


@checked(check_rnn_backward)
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


def check_output_layer_backward(y_pred, y, a, parameters) -> dict[str, Any]:
    """output_layer_backward's contract: ŷ in [0, 1] (n_y, m, T_x); labels (m, T_x) (softmax) or
    0/1 targets shaped like ŷ (sigmoid); the states a (n_a, m, T_x); the parameters."""
    dims = Dims()
    parameters = check_parameters(parameters, dims)
    dtype = parameters_dtype(parameters)
    y_pred = check_probabilities(y_pred, dims)
    if y_pred.ndim != 3:
        raise ValueError(f"y_pred: expected shape (n_y, m, T_x), got shape {y_pred.shape}")
    kind = "sigmoid" if np.ndim(y) == y_pred.ndim else "softmax"
    y = check_labels("y", y, dims, kind, time=True)
    a = check_state("a", a, ("n_a", "m", "T_x"), dims, dtype)
    check_nonempty(dims)
    return {"y_pred": y_pred.astype(dtype, copy=False), "y": y, "a": a, "parameters": parameters}


@checked(check_output_layer_backward)
def output_layer_backward(
    y_pred: np.ndarray, y: np.ndarray, a: np.ndarray, parameters: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """The output layer's gradients: do<t> = (ŷ<t> - y<t>) / m, dWya = Σ_t do<t> a<t>ᵀ, da<t> = Wyaᵀ do<t>.

    Inputs:
    - y_pred: the predictions ŷ of rnn_forward, shape (n_y, m, T_x)
    - y: labels of shape (m, T_x) (softmax; y<t> is then their one-hot columns), or 0/1 targets
      of shape (n_y, m, T_x) (sigmoid)
    - a: the hidden states a<1>, ..., a<T_x> of rnn_forward, shape (n_a, m, T_x)
    - parameters: dict with Wya (n_y, n_a) (and the other parameters)

    Returns a dict of:
    - dWya: shape (n_y, n_a); dby: shape (n_y, 1), both summed over the steps
    - da: the upstream gradient on every hidden state, da[:, :, t] = Wyaᵀ do<t>, shape (n_a, m, T_x)
    """
    n_y, m, T_x = y_pred.shape
    Wya = parameters["Wya"]
    dWya, dby = np.zeros_like(Wya), np.zeros_like(parameters["by"])
    da = np.zeros((Wya.shape[1], m, T_x), dtype=Wya.dtype)
    for t in range(T_x):
        if y.ndim == y_pred.ndim:  # sigmoid: the 0/1 targets themselves
            target = y[:, :, t]
        else:  # softmax: the one-hot columns of the labels
            target = np.zeros((n_y, m))
            target[y[:, t], np.arange(m)] = 1
        do = (y_pred[:, :, t] - target) / m  # (n_y, m)
        dWya += do @ a[:, :, t].T  # shared by every step: sum over time
        dby += do.sum(axis=1, keepdims=True)
        da[:, :, t] = Wya.T @ do  # (n_a, m)
    return {"dWya": dWya, "dby": dby, "da": da}


def check_rnn_backward_truncated(da, caches, truncate) -> dict[str, Any]:
    """rnn_backward_truncated's contract: rnn_backward's, and truncate an integer >= 0."""
    checked_args = check_rnn_backward(da, caches)
    if truncate is None:
        raise ValueError("truncate: expected an integer >= 0 (for full BPTT call rnn_backward)")
    check_truncate(truncate)
    return {**checked_args, "truncate": truncate}


@checked(check_rnn_backward_truncated)
def rnn_backward_truncated(
    da: np.ndarray, caches: list[tuple[Any, ...]], truncate: int
) -> dict[str, np.ndarray]:
    """Truncated BPTT: each step's upstream gradient da<t> walked back through a<t>, ..., a<t-k> only.

    Like rnn_backward, but the gradient that step t's output sends into a<t> is carried back on its
    own through k + 1 states, a<t>, a<t-1>, ..., a<t-k> (k = truncate), and stops there: a<t-k-1>
    counts as a constant. Only a walk that gets back past a<1> adds into da0.

    Inputs:
    - da: upstream gradient on every hidden state (from the outputs), shape (n_a, m, T_x)
    - caches: the caches of rnn_forward, one per step
    - truncate: k >= 0, how many states before its own each step's gradient reaches

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
    for t in range(T_x):  # the loss of each step, walked back on its own
        da_walk = da[:, :, t]  # ∂L<t>/∂a<s>, starting at s = t
        for s in range(t, t - truncate - 1, -1):  # k + 1 states: a<t>, ..., a<t-k>
            if s < 0:  # the walk got back to a<0>
                gradients["da0"] += da_walk
                break
            step = rnn_cell_backward(da_walk, caches[s])
            gradients["dx"][:, :, s] += step["dxt"]
            gradients["dWax"] += step["dWax"]
            gradients["dWaa"] += step["dWaa"]
            gradients["dba"] += step["dba"]
            da_walk = step["da_prev"]
    return gradients


def check_bptt(
    x, y, a0, parameters, truncate, hidden_activation, output_activation, **options
) -> dict[str, Any]:
    """bptt's contract (and gradient_check's, whose extra ``options`` pass unchecked): the
    parameters, the activations, a0 (n_a, m), x one-hot (n_x, m, T_x) or token ids (m, T_x) (kept
    as ids: rnnlib.bptt sends them to the engine), y as the output activation needs, truncate."""
    dims = Dims()
    parameters = check_parameters(parameters, dims)
    dtype = parameters_dtype(parameters)
    check_choice("hidden_activation", hidden_activation, HIDDEN_ACTIVATIONS)
    check_choice("output_activation", output_activation, OUTPUT_ACTIVATIONS)
    # the data sets m and T_x first: a state of the wrong shape is then the one blamed
    x = check_input("x", x, dims, ("n_x", "m", "T_x"), dtype, wrap_ids=False)
    a0 = check_state("a0", a0, ("n_a", "m"), dims, dtype)
    y = check_labels("y", y, dims, output_activation, time=True)
    check_truncate(truncate)
    check_nonempty(dims)
    return {
        "x": x,
        "y": y,
        "a0": a0,
        "parameters": parameters,
        "truncate": truncate,
        "hidden_activation": hidden_activation,
        "output_activation": output_activation,
        **options,
    }


@checked(check_bptt, token_ids=engine.bptt)
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

    Put the pieces together: the forward pass (rnn_forward) and the loss (what cross_entropy
    gives for its predictions), the output layer's gradients (output_layer_backward), then the
    recurrence on the hidden states (rnn_backward, or rnn_backward_truncated when truncate is a
    number).

    Inputs:
    - x: one-hot inputs, shape (n_x, m, T_x)
    - y: labels of shape (m, T_x) (softmax), or 0/1 targets of shape (n_y, m, T_x) (sigmoid)
    - a0: initial hidden state a<0>, shape (n_a, m)
    - parameters: dict with Waa (n_a, n_a), Wax (n_a, n_x), Wya (n_y, n_a), ba (n_a, 1), by (n_y, 1)
    - truncate: None for full BPTT, or k: the loss at step t reaches a<t>, ..., a<t-k> only
    - hidden_activation: g1, "tanh" or "relu"; output_activation: g2, "softmax" or "sigmoid"

    Returns a tuple of:
    - loss: float
    - gradients: dict with dWaa, dWax, dWya, dba, dby (shapes of the parameters) and da0 (n_a, m)
    - a_last: the last hidden state a<T_x>, shape (n_a, m), to carry into the next batch
    """
    m = a0.shape[1]
    a, y_pred, caches = rnn_forward(x, a0, parameters, hidden_activation, output_activation)
    # the loss: cross_entropy(y_pred, y) is the same number, but a true class whose ŷ rounds to 0
    # (logits far apart) costs it only -log(tiny); from the logits it stays exact
    o = np.einsum("ya,amt->ymt", parameters["Wya"], a) + parameters["by"][:, :, None]  # logits
    if output_activation == "softmax":  # Σ -log ŷ of the true class, by log-sum-exp
        log_p = o - o.max(axis=0) - np.log(np.exp(o - o.max(axis=0)).sum(axis=0))
        loss = -np.take_along_axis(log_p, y[None], axis=0).sum() / m
    else:  # -[y log σ(o) + (1 - y) log(1 - σ(o))] = log(1 + e^o) - y o
        loss = (np.logaddexp(0, o) - y * o).sum() / m
    output = output_layer_backward(y_pred, y, a, parameters)  # dWya, dby and da
    if truncate is None:
        hidden = rnn_backward(output["da"], caches)  # dWaa, dWax, dba, da0 (and dx)
    else:
        hidden = rnn_backward_truncated(output["da"], caches, truncate)
    gradients = {
        "dWaa": hidden["dWaa"],
        "dWax": hidden["dWax"],
        "dWya": output["dWya"],
        "dba": hidden["dba"],
        "dby": output["dby"],
        "da0": hidden["da0"],
    }
    return float(loss), gradients, a[:, :, -1].copy()


def _surrogate_loss(x, y, a0, parameters, truncate, frozen, hidden_activation, output_activation):
    """The loss whose exact gradient truncated BPTT computes: a<t-k-1> is held at its value ``frozen``.

    With truncate=None it is the true loss. ``frozen[i]`` is the unperturbed a<i>, i = 0..T_x.
    """
    g1 = ACTIVATIONS[hidden_activation]
    Waa, Wax, Wya, ba, by = (parameters[k] for k in PARAMETER_NAMES)
    Z_in = np.moveaxis(input_term(Wax, x), 1, 0) + ba  # (T_x, n_a, m)
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


@checked(check_bptt)
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
        for z_in in np.moveaxis(input_term(parameters["Wax"], x), 1, 0) + parameters["ba"]:
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
