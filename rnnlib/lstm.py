"""Lesson 7, the LSTM (notebooks/07-lstm): a gated cell on the stacked input [a<t-1> ; x<t>].

    concat = [a<t-1> ; x<t>]                       (n_a + n_x, m)
    Γf = σ(Wf concat + bf)   Γu = σ(Wi concat + bi)   Γo = σ(Wo concat + bo)
    c̃<t> = tanh(Wc concat + bc)
    c<t> = Γf ⊙ c<t-1> + Γu ⊙ c̃<t>
    a<t> = Γo ⊙ tanh(c<t>)
    ŷ<t> = softmax(Wy a<t> + by)

Shapes: x (n_x, m, T_x), a and c (n_a, m, T_x), ŷ (n_y, m, T_x); Wf, Wi, Wc, Wo (n_a, n_a + n_x),
bf, bi, bc, bo (n_a, 1), Wy (n_y, n_a), by (n_y, 1). The update gate Γu has the weights Wi, bi
(the "input gate" of the literature). Backwards, the cell state's gradient goes from c<t> to
c<t-1> through one product with Γf, with no weight matrix and no squashing derivative on the way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnlib import engine_gated
from rnnlib._checks import (
    Dims,
    OneHot,
    check_input,
    check_labels,
    check_nonempty,
    check_parameters,
    check_state,
    check_truncate,
    checked,
    first_of_caches,
)
from rnnlib.forward import sigmoid
from rnnlib.loss import softmax

LSTM_PARAMETER_NAMES = ("Wf", "bf", "Wi", "bi", "Wc", "bc", "Wo", "bo", "Wy", "by")
LSTM_GRADIENT_NAMES = tuple("d" + name for name in LSTM_PARAMETER_NAMES)
_LSTM_SHAPES = {
    **{w: ("n_a", "n_a + n_x") for w in ("Wf", "Wi", "Wc", "Wo")},
    **{b: ("n_a", "1") for b in ("bf", "bi", "bc", "bo")},
    "Wy": ("n_y", "n_a"),
    "by": ("n_y", "1"),
}


# ---------------------------------------------------------------- contracts


def check_lstm_parameters(parameters: Any, dims: Dims, name: str = "parameters") -> dict:
    """The LSTM's parameter dict: exactly the ten keys, consistent shapes, finite floats of one
    dtype; learns n_a, n_x (from the gate weights' n_a + n_x columns) and n_y."""
    return check_gate_parameters(parameters, dims, LSTM_PARAMETER_NAMES, _LSTM_SHAPES, name)


def check_gate_parameters(
    parameters: Any, dims: Dims, names: tuple[str, ...], shapes: dict, name: str = "parameters"
) -> dict:
    """A gated cell's parameter dict: exactly the keys ``names`` with the symbolic ``shapes``,
    finite floats of one dtype; learns n_a, n_x (from the n_a + n_x columns) and n_y."""
    checked_params = check_parameters(parameters, dims, name, names, shapes)
    n_x = dims["n_a + n_x"] - dims["n_a"]
    first = names[0]
    if n_x < 1:
        raise ValueError(
            f"{name}[{first!r}]: expected shape (n_a, n_a + n_x) with n_x >= 1, "
            f"got {checked_params[first].shape}"
        )
    dims["n_x"] = n_x
    dims.sources["n_x"] = f"{name}[{first!r}] (n_a + n_x columns)"
    dtype = np.result_type(*checked_params.values())
    return {k: v.astype(dtype, copy=False) for k, v in checked_params.items()}


def _dense_input(name: str, value: Any, dims: Dims, names: tuple[str, ...], dtype: Any):
    """One-hot input of shape ``names`` (floats or integers), or token ids made one-hot: the
    stacked input needs the dense block."""
    value = check_input(name, value, dims, names, dtype)
    return np.asarray(value, dtype=dtype) if isinstance(value, OneHot) else value


def check_lstm_cell_forward(xt, a_prev, c_prev, parameters) -> dict[str, Any]:
    """lstm_cell_forward's contract: the parameters, xt (n_x, m) one-hot or ids (m,), then a_prev
    and c_prev (n_a, m)."""
    dims = Dims()
    parameters = check_lstm_parameters(parameters, dims)
    dtype = parameters["Wf"].dtype
    xt = _dense_input("xt", xt, dims, ("n_x", "m"), dtype)
    a_prev = check_state("a_prev", a_prev, ("n_a", "m"), dims, dtype)
    c_prev = check_state("c_prev", c_prev, ("n_a", "m"), dims, dtype)
    check_nonempty(dims)
    return {"xt": xt, "a_prev": a_prev, "c_prev": c_prev, "parameters": parameters}


def check_lstm_forward(x, a0, parameters) -> dict[str, Any]:
    """lstm_forward's contract: the parameters, x (n_x, m, T_x) one-hot or ids (m, T_x), a0 (n_a, m)."""
    dims = Dims()
    parameters = check_lstm_parameters(parameters, dims)
    dtype = parameters["Wf"].dtype
    x = _dense_input("x", x, dims, ("n_x", "m", "T_x"), dtype)
    a0 = check_state("a0", a0, ("n_a", "m"), dims, dtype)
    check_nonempty(dims)
    return {"x": x, "a0": a0, "parameters": parameters}


def _check_lstm_cache(cache: Any, dims: Dims, name: str) -> Any:
    if not (isinstance(cache, tuple) and len(cache) == 10):
        got = f"{type(cache).__name__}" + (
            f" of length {len(cache)}" if isinstance(cache, (tuple, list)) else ""
        )
        raise ValueError(
            f"{name}: expected the tuple (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, "
            f"parameters) returned by lstm_cell_forward, got {got}"
        )
    a_next = np.asarray(cache[0])
    if a_next.ndim != 2:
        raise ValueError(f"{name}: expected a_next of shape (n_a, m) first, got {a_next.shape}")
    dims["n_a"], dims["m"] = a_next.shape
    dims.sources["n_a"] = dims.sources["m"] = name
    return a_next.dtype


def check_lstm_cell_backward(da_next, dc_next, cache) -> dict[str, Any]:
    """lstm_cell_backward's contract: the cache of lstm_cell_forward, then da_next and dc_next
    (n_a, m)."""
    dims = Dims()
    dtype = _check_lstm_cache(cache, dims, "cache")
    da_next = check_state("da_next", da_next, ("n_a", "m"), dims, dtype)
    dc_next = check_state("dc_next", dc_next, ("n_a", "m"), dims, dtype)
    check_nonempty(dims)
    return {"da_next": da_next, "dc_next": dc_next, "cache": cache}


def _check_lstm_caches(caches: Any, dims: Dims) -> Any:
    return _check_lstm_cache(first_of_caches(caches, dims, "lstm_forward"), dims, "caches")


def check_lstm_backward(da, caches) -> dict[str, Any]:
    """lstm_backward's contract: the caches of lstm_forward, then da (n_a, m, T_x)."""
    dims = Dims()
    dtype = _check_lstm_caches(caches, dims)
    da = check_state("da", da, ("n_a", "m", "T_x"), dims, dtype)
    check_nonempty(dims)
    return {"da": da, "caches": caches}


def check_lstm_bptt(x, y, a0, parameters, truncate) -> dict[str, Any]:
    """lstm_bptt's contract: the parameters, x (n_x, m, T_x) one-hot or ids (m, T_x) (kept as ids:
    rnnlib.lstm_bptt sends them to the fast path, rnnlib.engine_gated), a0 (n_a, m),
    labels y (m, T_x) in [0, n_y), truncate None or an integer >= 0."""
    dims = Dims()
    parameters = check_lstm_parameters(parameters, dims)
    dtype = parameters["Wf"].dtype
    x = check_input("x", x, dims, ("n_x", "m", "T_x"), dtype, wrap_ids=False)
    a0 = check_state("a0", a0, ("n_a", "m"), dims, dtype)
    y = check_labels("y", y, dims, "softmax", time=True)
    check_truncate(truncate)
    check_nonempty(dims)
    return {"x": x, "y": y, "a0": a0, "parameters": parameters, "truncate": truncate}


def check_lstm_backprop_norms(da_next, caches) -> dict[str, Any]:
    """lstm_backprop_norms' contract: the caches of lstm_forward, then da_next (n_a, m)."""
    dims = Dims()
    dtype = _check_lstm_caches(caches, dims)
    da_next = check_state("da_next", da_next, ("n_a", "m"), dims, dtype)
    check_nonempty(dims)
    return {"da_next": da_next, "caches": caches}


# ---------------------------------------------------------------- the lesson's functions


@checked(check_lstm_cell_forward)
def lstm_cell_forward(
    xt: np.ndarray, a_prev: np.ndarray, c_prev: np.ndarray, parameters: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[Any, ...]]:
    """One step: c<t> = Γf ⊙ c<t-1> + Γu ⊙ c̃<t>, a<t> = Γo ⊙ tanh(c<t>), ŷ<t> = softmax(Wy a<t> + by).

    Inputs:
    - xt: input at step t, shape (n_x, m): any real values (one-hot vectors in the lessons)
    - a_prev: hidden state a<t-1>, shape (n_a, m)
    - c_prev: cell state c<t-1>, shape (n_a, m)
    - parameters: dict with Wf, Wi, Wc, Wo (n_a, n_a + n_x), bf, bi, bc, bo (n_a, 1),
      Wy (n_y, n_a), by (n_y, 1)

    Returns a tuple of:
    - a_next: hidden state a<t>, shape (n_a, m)
    - c_next: cell state c<t>, shape (n_a, m)
    - yt_pred: prediction ŷ<t>, shape (n_y, m)
    - cache: (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters), what
      lstm_cell_backward needs (ft, it, cct, ot: Γf, Γu, c̃<t>, Γo, each (n_a, m))
    """
    concat = np.concatenate([a_prev, xt], axis=0)  # (n_a + n_x, m)
    ft = sigmoid(parameters["Wf"] @ concat + parameters["bf"])  # forget gate Γf
    it = sigmoid(parameters["Wi"] @ concat + parameters["bi"])  # update gate Γu
    cct = np.tanh(parameters["Wc"] @ concat + parameters["bc"])  # candidate c̃<t>
    c_next = ft * c_prev + it * cct  # (n_a, m)
    ot = sigmoid(parameters["Wo"] @ concat + parameters["bo"])  # output gate Γo
    a_next = ot * np.tanh(c_next)  # (n_a, m)
    yt_pred = softmax(parameters["Wy"] @ a_next + parameters["by"])  # (n_y, m)
    cache = (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)
    return a_next, c_next, yt_pred, cache


@checked(check_lstm_forward)
def lstm_forward(
    x: np.ndarray, a0: np.ndarray, parameters: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[Any, ...]]]:
    """The unrolled LSTM from a<0> = a0 and c<0> = 0: lstm_cell_forward at t = 1..T_x.

    Inputs:
    - x: inputs for every step, shape (n_x, m, T_x): any real values (one-hot in the lessons)
    - a0: initial hidden state a<0>, shape (n_a, m); the cell state starts at c<0> = 0
    - parameters: dict with Wf, Wi, Wc, Wo (n_a, n_a + n_x), bf, bi, bc, bo (n_a, 1),
      Wy (n_y, n_a), by (n_y, 1)

    Returns a tuple of:
    - a: hidden states a<1>..a<T_x>, shape (n_a, m, T_x)
    - y: predictions ŷ<1>..ŷ<T_x>, shape (n_y, m, T_x)
    - c: cell states c<1>..c<T_x>, shape (n_a, m, T_x)
    - caches: list of the T_x caches of lstm_cell_forward, in time order
    """
    n_x, m, T_x = x.shape
    n_a = a0.shape[0]
    n_y = parameters["Wy"].shape[0]
    a = np.zeros((n_a, m, T_x), dtype=a0.dtype)
    c = np.zeros((n_a, m, T_x), dtype=a0.dtype)
    y = np.zeros((n_y, m, T_x), dtype=a0.dtype)
    caches = []
    a_next, c_next = a0, np.zeros_like(a0)
    for t in range(T_x):
        a_next, c_next, yt_pred, cache = lstm_cell_forward(x[:, :, t], a_next, c_next, parameters)
        a[:, :, t] = a_next
        c[:, :, t] = c_next
        y[:, :, t] = yt_pred
        caches.append(cache)
    return a, y, c, caches


@checked(check_lstm_cell_backward)
def lstm_cell_backward(
    da_next: np.ndarray, dc_next: np.ndarray, cache: tuple[Any, ...]
) -> dict[str, np.ndarray]:
    """Gradients through one LSTM step, given ∂L/∂a<t> and ∂L/∂c<t> from the steps after it.

    The total gradient on c<t> is dc = dc_next + da_next ⊙ Γo ⊙ (1 - tanh²(c<t>)); then
    dΓo = da_next ⊙ tanh(c<t>) ⊙ Γo(1 - Γo), dc̃ = dc ⊙ Γu ⊙ (1 - c̃²), dΓu = dc ⊙ c̃ ⊙ Γu(1 - Γu),
    dΓf = dc ⊙ c<t-1> ⊙ Γf(1 - Γf), and dc<t-1> = dc ⊙ Γf.

    Inputs:
    - da_next: gradient of the loss with respect to a<t>, shape (n_a, m)
    - dc_next: gradient of the loss with respect to c<t> from step t+1, shape (n_a, m)
    - cache: the cache of lstm_cell_forward

    Returns a dict of:
    - dxt: gradient with respect to x<t>, shape (n_x, m)
    - da_prev: gradient with respect to a<t-1>, shape (n_a, m)
    - dc_prev: gradient with respect to c<t-1>, shape (n_a, m)
    - dWf, dWi, dWc, dWo: shape (n_a, n_a + n_x); dbf, dbi, dbc, dbo: shape (n_a, 1)
    """
    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters = cache
    n_a = a_next.shape[0]
    tanh_c = np.tanh(c_next)
    dc = dc_next + da_next * ot * (1 - tanh_c**2)  # total ∂L/∂c<t>
    dot = da_next * tanh_c * ot * (1 - ot)  # through Γo's pre-activation
    dcct = dc * it * (1 - cct**2)
    dit = dc * cct * it * (1 - it)
    dft = dc * c_prev * ft * (1 - ft)
    concat = np.concatenate([a_prev, xt], axis=0)  # (n_a + n_x, m)
    dconcat = (
        parameters["Wf"].T @ dft
        + parameters["Wi"].T @ dit
        + parameters["Wc"].T @ dcct
        + parameters["Wo"].T @ dot
    )  # (n_a + n_x, m)
    gradients = {
        "dxt": dconcat[n_a:],
        "da_prev": dconcat[:n_a],
        "dc_prev": dc * ft,
        "dWf": dft @ concat.T,
        "dbf": dft.sum(axis=1, keepdims=True),
        "dWi": dit @ concat.T,
        "dbi": dit.sum(axis=1, keepdims=True),
        "dWc": dcct @ concat.T,
        "dbc": dcct.sum(axis=1, keepdims=True),
        "dWo": dot @ concat.T,
        "dbo": dot.sum(axis=1, keepdims=True),
    }
    return gradients


@checked(check_lstm_backward)
def lstm_backward(da: np.ndarray, caches: list[tuple[Any, ...]]) -> dict[str, np.ndarray]:
    """BPTT through the LSTM: at each step t = T_x..1, lstm_cell_backward(da<t> + ∂L/∂a<t> from
    step t+1, ∂L/∂c<t> from step t+1), the gate gradients summed over time.

    Inputs:
    - da: upstream gradient on every hidden state (from the outputs), shape (n_a, m, T_x)
    - caches: the caches of lstm_forward, one per step

    Returns a dict of:
    - dx: gradient with respect to the inputs, shape (n_x, m, T_x)
    - da0: gradient with respect to a<0>, shape (n_a, m)
    - dWf, dWi, dWc, dWo: shape (n_a, n_a + n_x); dbf, dbi, dbc, dbo: shape (n_a, 1)
    """
    n_a, m, T_x = da.shape
    n_x = caches[0][8].shape[0]
    gradients = {
        "dx": np.zeros((n_x, m, T_x), dtype=da.dtype),
        "da0": np.zeros((n_a, m), dtype=da.dtype),
    }
    for name in ("Wf", "bf", "Wi", "bi", "Wc", "bc", "Wo", "bo"):
        gradients["d" + name] = np.zeros_like(caches[0][9][name])
    da_prevt = np.zeros((n_a, m), dtype=da.dtype)  # ∂L/∂a<t> coming back from step t+1
    dc_prevt = np.zeros((n_a, m), dtype=da.dtype)  # ∂L/∂c<t> coming back from step t+1
    for t in reversed(range(T_x)):
        step = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, caches[t])
        gradients["dx"][:, :, t] = step["dxt"]
        for name in ("dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo"):
            gradients[name] += step[name]  # shared weights: sum over time
        da_prevt, dc_prevt = step["da_prev"], step["dc_prev"]
    gradients["da0"] = da_prevt
    return gradients


# ---------------------------------------------------------------- training and measuring


def initialize_lstm_parameters(
    n_a: int, n_x: int, n_y: int, seed: int = 0, forget_bias: float = 1.0
) -> dict[str, np.ndarray]:
    """Gate weights ~ N(0, 1/(n_a + n_x)), Wy ~ N(0, 1/n_a), biases 0 except bf = forget_bias.

    A positive forget bias starts Γf near σ(1) ≈ 0.73, so the cell keeps its state from the start.

    Returns:
    - parameters: dict with Wf, Wi, Wc, Wo (n_a, n_a + n_x), bf, bi, bc, bo (n_a, 1),
      Wy (n_y, n_a), by (n_y, 1), float64
    """
    rng = np.random.default_rng(seed)
    scale = 1 / np.sqrt(n_a + n_x)
    parameters: dict[str, np.ndarray] = {}
    for gate in "fico":
        parameters["W" + gate] = rng.normal(0, scale, (n_a, n_a + n_x))
        parameters["b" + gate] = np.zeros((n_a, 1))
    parameters["bf"] += forget_bias
    parameters["Wy"] = rng.normal(0, 1 / np.sqrt(n_a), (n_y, n_a))
    parameters["by"] = np.zeros((n_y, 1))
    return {k: parameters[k] for k in LSTM_PARAMETER_NAMES}


@checked(check_lstm_bptt, token_ids=engine_gated.lstm_bptt)
def lstm_bptt(
    x: np.ndarray,
    y: np.ndarray,
    a0: np.ndarray,
    parameters: dict[str, np.ndarray],
    truncate: int | None = None,
) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    """The loss L = Σ_t L<t> (cross-entropy, averaged over m) and its exact gradients, by
    (truncated) BPTT through the LSTM; with truncate=k the loss at step t is walked back on its
    own through at most k earlier steps (a<t-k-1> and c<t-k-1> held constant).

    Inputs:
    - x: one-hot inputs, shape (n_x, m, T_x), or token ids (m, T_x)
    - y: labels, shape (m, T_x)
    - a0: initial hidden state a<0>, shape (n_a, m); c<0> = 0
    - parameters: the LSTM's ten parameters (see lstm_cell_forward)
    - truncate: None for full BPTT, or k: the loss at step t reaches a<t>, c<t>, ..., a<t-k>, c<t-k>

    Returns a tuple of:
    - loss: float
    - gradients: dict with the ten d-names (shapes of the parameters) and da0 (n_a, m)
    - a_last: the last hidden state a<T_x>, shape (n_a, m)
    """
    cell, backward = lstm_cell_forward.__wrapped__, lstm_cell_backward.__wrapped__  # checked once
    n_a, m = a0.shape
    T_x = x.shape[2]
    a = np.zeros((n_a, m, T_x), dtype=a0.dtype)
    y_pred = np.zeros((parameters["Wy"].shape[0], m, T_x), dtype=a0.dtype)
    caches = []
    a_t, c_t = a0, np.zeros_like(a0)
    for t in range(T_x):
        a_t, c_t, y_pred[:, :, t], cache = cell(x[:, :, t], a_t, c_t, parameters)
        a[:, :, t] = a_t
        caches.append(cache)
    cols = np.arange(m)
    loss = 0.0
    dWy, dby = np.zeros_like(parameters["Wy"]), np.zeros_like(parameters["by"])
    da = np.zeros_like(a)  # ∂L<t>/∂a<t> from step t's output
    for t in range(T_x):
        p = y_pred[:, :, t]
        loss -= np.log(p[y[:, t], cols]).sum() / m
        do = p.copy()
        do[y[:, t], cols] -= 1
        do /= m
        dWy += do @ a[:, :, t].T
        dby += do.sum(axis=1, keepdims=True)
        da[:, :, t] = parameters["Wy"].T @ do
    gate_names = ("dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo")
    gradients = {name: np.zeros_like(parameters[name[1:]]) for name in gate_names}
    da0 = np.zeros_like(a0)
    walks = [(T_x - 1, None)] if truncate is None else [(t, t - truncate) for t in range(T_x)]
    for last, stop in walks:
        da_next, dc_next = np.zeros_like(a0), np.zeros_like(a0)
        for s in range(last, -1, -1):
            upstream = da[:, :, s] if truncate is None or s == last else 0
            step = backward(upstream + da_next, dc_next, caches[s])
            for name in gate_names:
                gradients[name] += step[name]
            if s == stop:  # a<s-1>, c<s-1> are outside the window: constants
                break
            da_next, dc_next = step["da_prev"], step["dc_prev"]
        else:
            da0 += da_next
    gradients = {**{k: gradients[k] for k in gate_names}, "dWy": dWy, "dby": dby, "da0": da0}
    gradients = {k: gradients[k] for k in (*LSTM_GRADIENT_NAMES, "da0")}
    return float(loss), gradients, a[:, :, -1].copy()


@checked(check_lstm_backprop_norms)
def lstm_backprop_norms(
    da_next: np.ndarray, caches: list[tuple[Any, ...]]
) -> tuple[np.ndarray, np.ndarray]:
    """‖∂L<T>/∂a<T-d>‖ and ‖∂L<T>/∂c<T-d>‖ for d = 0..T_x-1, when the only loss is at the last step.

    ∂L<T>/∂c<t> is the total gradient on c<t>: through c<t+1> (a product with Γf) and through a<t>.

    Inputs:
    - da_next: ∂L<T>/∂a<T>, the gradient entering the last hidden state, shape (n_a, m)
    - caches: the caches of lstm_forward, one per step

    Returns a tuple of:
    - norms_a: shape (T_x,); norms_a[d] is the Frobenius norm of ∂L<T>/∂a<T-d>
    - norms_c: shape (T_x,); norms_c[d] is the Frobenius norm of ∂L<T>/∂c<T-d>
    """
    norms_a, norms_c = np.empty(len(caches)), np.empty(len(caches))
    da, dc = da_next, np.zeros_like(da_next)  # dc: the part of ∂L/∂c<t> that comes from c<t+1>
    for d, cache in enumerate(reversed(caches)):
        ot, c_next = cache[7], cache[1]
        norms_a[d] = np.linalg.norm(da)
        norms_c[d] = np.linalg.norm(dc + da * ot * (1 - np.tanh(c_next) ** 2))
        step = lstm_cell_backward.__wrapped__(da, dc, cache)
        da, dc = step["da_prev"], step["dc_prev"]
    return norms_a, norms_c
