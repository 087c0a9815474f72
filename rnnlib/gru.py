"""Lesson 8, the GRU (notebooks/08-gru): the gated recurrent unit on the stacked input.

The original formulation (Cho et al., 2014), the reset gate applied to a<t-1> *before* the product:

    concat = [a<t-1> ; x<t>]
    Γr = σ(Wr concat + br)                       reset gate
    Γu = σ(Wu concat + bu)                       update gate
    ã<t> = tanh(Wc [Γr ⊙ a<t-1> ; x<t>] + bc)     candidate
    a<t> = Γu ⊙ ã<t> + (1 - Γu) ⊙ a<t-1>
    ŷ<t> = softmax(Wy a<t> + by)

PyTorch's GRUCell applies the reset gate after the product, r ⊙ (W_hn h + b_hn), and writes
h' = (1 - z) ⊙ n + z ⊙ h: another cell, so the tests compare this one with an autograd
implementation of these equations instead. Shapes: x (n_x, m, T_x), a (n_a, m, T_x);
Wr, Wu, Wc (n_a, n_a + n_x), br, bu, bc (n_a, 1), Wy (n_y, n_a), by (n_y, 1).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnlib import engine_gated
from rnnlib._checks import (
    Dims,
    check_input,
    check_labels,
    check_nonempty,
    check_state,
    check_truncate,
    checked,
    first_of_caches,
)
from rnnlib.forward import sigmoid
from rnnlib.loss import softmax
from rnnlib.lstm import _dense_input, check_gate_parameters

GRU_PARAMETER_NAMES = ("Wr", "br", "Wu", "bu", "Wc", "bc", "Wy", "by")
GRU_GRADIENT_NAMES = tuple("d" + name for name in GRU_PARAMETER_NAMES)
_GRU_SHAPES = {
    **{w: ("n_a", "n_a + n_x") for w in ("Wr", "Wu", "Wc")},
    **{b: ("n_a", "1") for b in ("br", "bu", "bc")},
    "Wy": ("n_y", "n_a"),
    "by": ("n_y", "1"),
}


def check_gru_cell_forward(xt, a_prev, parameters) -> dict[str, Any]:
    """gru_cell_forward's contract: the parameters, xt (n_x, m) one-hot or ids (m,), a_prev (n_a, m)."""
    dims = Dims()
    parameters = check_gate_parameters(parameters, dims, GRU_PARAMETER_NAMES, _GRU_SHAPES)
    dtype = parameters["Wr"].dtype
    xt = _dense_input("xt", xt, dims, ("n_x", "m"), dtype)
    a_prev = check_state("a_prev", a_prev, ("n_a", "m"), dims, dtype)
    check_nonempty(dims)
    return {"xt": xt, "a_prev": a_prev, "parameters": parameters}


def check_gru_forward(x, a0, parameters) -> dict[str, Any]:
    """gru_forward's contract: the parameters, x (n_x, m, T_x) one-hot or ids (m, T_x), a0 (n_a, m)."""
    dims = Dims()
    parameters = check_gate_parameters(parameters, dims, GRU_PARAMETER_NAMES, _GRU_SHAPES)
    dtype = parameters["Wr"].dtype
    x = _dense_input("x", x, dims, ("n_x", "m", "T_x"), dtype)
    a0 = check_state("a0", a0, ("n_a", "m"), dims, dtype)
    check_nonempty(dims)
    return {"x": x, "a0": a0, "parameters": parameters}


def _check_gru_cache(cache: Any, dims: Dims, name: str) -> Any:
    if not (isinstance(cache, tuple) and len(cache) == 7):
        got = f"{type(cache).__name__}" + (
            f" of length {len(cache)}" if isinstance(cache, (tuple, list)) else ""
        )
        raise ValueError(
            f"{name}: expected the tuple (a_next, a_prev, rt, ut, cct, xt, parameters) "
            f"returned by gru_cell_forward, got {got}"
        )
    a_next = np.asarray(cache[0])
    if a_next.ndim != 2:
        raise ValueError(f"{name}: expected a_next of shape (n_a, m) first, got {a_next.shape}")
    dims["n_a"], dims["m"] = a_next.shape
    dims.sources["n_a"] = dims.sources["m"] = name
    return a_next.dtype


def check_gru_cell_backward(da_next, cache) -> dict[str, Any]:
    """gru_cell_backward's contract: the cache of gru_cell_forward, then da_next (n_a, m)."""
    dims = Dims()
    dtype = _check_gru_cache(cache, dims, "cache")
    da_next = check_state("da_next", da_next, ("n_a", "m"), dims, dtype)
    check_nonempty(dims)
    return {"da_next": da_next, "cache": cache}


def check_gru_backward(da, caches) -> dict[str, Any]:
    """gru_backward's contract: the caches of gru_forward, then da (n_a, m, T_x)."""
    dims = Dims()
    dtype = _check_gru_cache(first_of_caches(caches, dims, "gru_forward"), dims, "caches")
    da = check_state("da", da, ("n_a", "m", "T_x"), dims, dtype)
    check_nonempty(dims)
    return {"da": da, "caches": caches}


@checked(check_gru_cell_forward)
def gru_cell_forward(
    xt: np.ndarray, a_prev: np.ndarray, parameters: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, tuple[Any, ...]]:
    """One step: ã<t> = tanh(Wc [Γr ⊙ a<t-1> ; x<t>] + bc), a<t> = Γu ⊙ ã<t> + (1 - Γu) ⊙ a<t-1>.

    Inputs:
    - xt: input at step t, shape (n_x, m): any real values (one-hot vectors in the lessons)
    - a_prev: hidden state a<t-1>, shape (n_a, m)
    - parameters: dict with Wr, Wu, Wc (n_a, n_a + n_x), br, bu, bc (n_a, 1),
      Wy (n_y, n_a), by (n_y, 1)

    Returns a tuple of:
    - a_next: hidden state a<t>, shape (n_a, m)
    - yt_pred: prediction ŷ<t> = softmax(Wy a<t> + by), shape (n_y, m)
    - cache: (a_next, a_prev, rt, ut, cct, xt, parameters), what gru_cell_backward needs
      (rt, ut, cct: Γr, Γu, ã<t>, each (n_a, m))
    """
    concat = np.concatenate([a_prev, xt], axis=0)  # (n_a + n_x, m)
    rt = sigmoid(parameters["Wr"] @ concat + parameters["br"])  # reset gate Γr
    ut = sigmoid(parameters["Wu"] @ concat + parameters["bu"])  # update gate Γu
    reset = np.concatenate([rt * a_prev, xt], axis=0)  # [Γr ⊙ a<t-1> ; x<t>]
    cct = np.tanh(parameters["Wc"] @ reset + parameters["bc"])  # candidate ã<t>
    a_next = ut * cct + (1 - ut) * a_prev  # (n_a, m)
    yt_pred = softmax(parameters["Wy"] @ a_next + parameters["by"])  # (n_y, m)
    cache = (a_next, a_prev, rt, ut, cct, xt, parameters)
    return a_next, yt_pred, cache


@checked(check_gru_forward)
def gru_forward(
    x: np.ndarray, a0: np.ndarray, parameters: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, list[tuple[Any, ...]]]:
    """The unrolled GRU from a<0> = a0: gru_cell_forward at t = 1..T_x.

    Inputs:
    - x: inputs for every step, shape (n_x, m, T_x): any real values (one-hot in the lessons)
    - a0: initial hidden state a<0>, shape (n_a, m)
    - parameters: dict with Wr, Wu, Wc (n_a, n_a + n_x), br, bu, bc (n_a, 1),
      Wy (n_y, n_a), by (n_y, 1)

    Returns a tuple of:
    - a: hidden states a<1>..a<T_x>, shape (n_a, m, T_x)
    - y: predictions ŷ<1>..ŷ<T_x>, shape (n_y, m, T_x)
    - caches: list of the T_x caches of gru_cell_forward, in time order
    """
    n_x, m, T_x = x.shape
    n_a = a0.shape[0]
    n_y = parameters["Wy"].shape[0]
    a = np.zeros((n_a, m, T_x), dtype=a0.dtype)
    y = np.zeros((n_y, m, T_x), dtype=a0.dtype)
    caches = []
    a_next = a0
    for t in range(T_x):
        a_next, yt_pred, cache = gru_cell_forward(x[:, :, t], a_next, parameters)
        a[:, :, t] = a_next
        y[:, :, t] = yt_pred
        caches.append(cache)
    return a, y, caches


@checked(check_gru_cell_backward)
def gru_cell_backward(da_next: np.ndarray, cache: tuple[Any, ...]) -> dict[str, np.ndarray]:
    """Gradients through one GRU step, given ∂L/∂a<t>.

    dã = da_next ⊙ Γu ⊙ (1 - ã²) and dΓu = da_next ⊙ (ã - a<t-1>) ⊙ Γu(1 - Γu) on the
    pre-activations; Wcᵀ dã splits into d(Γr ⊙ a<t-1>) (first n_a rows) and a part of dx<t>;
    dΓr = d(Γr ⊙ a<t-1>) ⊙ a<t-1> ⊙ Γr(1 - Γr). a<t-1> is reached four ways: directly through
    (1 - Γu), through Γr ⊙ a<t-1>, and through the stacked inputs of Γr and Γu.

    Inputs:
    - da_next: gradient of the loss with respect to a<t>, shape (n_a, m)
    - cache: the cache of gru_cell_forward

    Returns a dict of:
    - dxt: gradient with respect to x<t>, shape (n_x, m)
    - da_prev: gradient with respect to a<t-1>, shape (n_a, m)
    - dWr, dWu, dWc: shape (n_a, n_a + n_x); dbr, dbu, dbc: shape (n_a, 1)
    """
    a_next, a_prev, rt, ut, cct, xt, parameters = cache
    n_a = a_prev.shape[0]
    dcct = da_next * ut * (1 - cct**2)  # through the candidate's tanh
    dut = da_next * (cct - a_prev) * ut * (1 - ut)
    concat = np.concatenate([a_prev, xt], axis=0)
    reset = np.concatenate([rt * a_prev, xt], axis=0)
    dreset = parameters["Wc"].T @ dcct  # (n_a + n_x, m)
    drt = dreset[:n_a] * a_prev * rt * (1 - rt)
    dconcat = parameters["Wr"].T @ drt + parameters["Wu"].T @ dut  # (n_a + n_x, m)
    return {
        "dxt": dreset[n_a:] + dconcat[n_a:],
        "da_prev": da_next * (1 - ut) + dreset[:n_a] * rt + dconcat[:n_a],
        "dWr": drt @ concat.T,
        "dbr": drt.sum(axis=1, keepdims=True),
        "dWu": dut @ concat.T,
        "dbu": dut.sum(axis=1, keepdims=True),
        "dWc": dcct @ reset.T,
        "dbc": dcct.sum(axis=1, keepdims=True),
    }


@checked(check_gru_backward)
def gru_backward(da: np.ndarray, caches: list[tuple[Any, ...]]) -> dict[str, np.ndarray]:
    """BPTT through the GRU: gru_cell_backward(da<t> + ∂L/∂a<t> from step t+1) at t = T_x..1,
    the gate gradients summed over time.

    Inputs:
    - da: upstream gradient on every hidden state (from the outputs), shape (n_a, m, T_x)
    - caches: the caches of gru_forward, one per step

    Returns a dict of:
    - dx: gradient with respect to the inputs, shape (n_x, m, T_x)
    - da0: gradient with respect to a<0>, shape (n_a, m)
    - dWr, dWu, dWc: shape (n_a, n_a + n_x); dbr, dbu, dbc: shape (n_a, 1)
    """
    n_a, m, T_x = da.shape
    n_x = caches[0][5].shape[0]
    gradients = {"dx": np.zeros((n_x, m, T_x), dtype=da.dtype)}
    for name in ("Wr", "br", "Wu", "bu", "Wc", "bc"):
        gradients["d" + name] = np.zeros_like(caches[0][6][name])
    da_prevt = np.zeros((n_a, m), dtype=da.dtype)  # ∂L/∂a<t> coming back from step t+1
    for t in reversed(range(T_x)):
        step = gru_cell_backward(da[:, :, t] + da_prevt, caches[t])
        gradients["dx"][:, :, t] = step["dxt"]
        for name in ("dWr", "dbr", "dWu", "dbu", "dWc", "dbc"):
            gradients[name] += step[name]  # shared weights: sum over time
        da_prevt = step["da_prev"]
    gradients["da0"] = da_prevt
    return {k: gradients[k] for k in ("dx", "da0", "dWr", "dbr", "dWu", "dbu", "dWc", "dbc")}


def initialize_gru_parameters(n_a: int, n_x: int, n_y: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Gate weights ~ N(0, 1/(n_a + n_x)), Wy ~ N(0, 1/n_a), biases 0.

    Returns:
    - parameters: dict with Wr, Wu, Wc (n_a, n_a + n_x), br, bu, bc (n_a, 1), Wy (n_y, n_a),
      by (n_y, 1), float64
    """
    rng = np.random.default_rng(seed)
    parameters: dict[str, np.ndarray] = {}
    for gate in "ruc":
        parameters["W" + gate] = rng.normal(0, 1 / np.sqrt(n_a + n_x), (n_a, n_a + n_x))
        parameters["b" + gate] = np.zeros((n_a, 1))
    parameters["Wy"] = rng.normal(0, 1 / np.sqrt(n_a), (n_y, n_a))
    parameters["by"] = np.zeros((n_y, 1))
    return {k: parameters[k] for k in GRU_PARAMETER_NAMES}


def check_gru_bptt(x, y, a0, parameters, truncate) -> dict[str, Any]:
    """gru_bptt's contract: the parameters, x (n_x, m, T_x) one-hot or ids (m, T_x) (kept as ids:
    rnnlib.gru_bptt sends them to the fast path, rnnlib.engine_gated), a0 (n_a, m),
    labels y (m, T_x) in [0, n_y), truncate None or an integer >= 0."""
    dims = Dims()
    parameters = check_gate_parameters(parameters, dims, GRU_PARAMETER_NAMES, _GRU_SHAPES)
    dtype = parameters["Wr"].dtype
    x = check_input("x", x, dims, ("n_x", "m", "T_x"), dtype, wrap_ids=False)
    a0 = check_state("a0", a0, ("n_a", "m"), dims, dtype)
    y = check_labels("y", y, dims, "softmax", time=True)
    check_truncate(truncate)
    check_nonempty(dims)
    return {"x": x, "y": y, "a0": a0, "parameters": parameters, "truncate": truncate}


@checked(check_gru_bptt, token_ids=engine_gated.gru_bptt)
def gru_bptt(
    x: np.ndarray,
    y: np.ndarray,
    a0: np.ndarray,
    parameters: dict[str, np.ndarray],
    truncate: int | None = None,
) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    """The loss L = Σ_t L<t> (cross-entropy, averaged over m) and its exact gradients, by
    (truncated) BPTT through the GRU; with truncate=k the loss at step t is walked back on its
    own through at most k earlier steps (a<t-k-1> held constant).

    Inputs:
    - x: one-hot inputs, shape (n_x, m, T_x), or token ids (m, T_x)
    - y: labels, shape (m, T_x)
    - a0: initial hidden state a<0>, shape (n_a, m)
    - parameters: the GRU's eight parameters (see gru_cell_forward)
    - truncate: None for full BPTT, or k: the loss at step t reaches a<t>, ..., a<t-k>

    Returns a tuple of:
    - loss: float
    - gradients: dict with the eight d-names (shapes of the parameters) and da0 (n_a, m)
    - a_last: the last hidden state a<T_x>, shape (n_a, m)
    """
    cell, backward = gru_cell_forward.__wrapped__, gru_cell_backward.__wrapped__  # checked once
    n_a, m = a0.shape
    T_x = x.shape[2]
    a = np.zeros((n_a, m, T_x), dtype=a0.dtype)
    y_pred = np.zeros((parameters["Wy"].shape[0], m, T_x), dtype=a0.dtype)
    caches = []
    a_t = a0
    for t in range(T_x):
        a_t, y_pred[:, :, t], cache = cell(x[:, :, t], a_t, parameters)
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
    gate_names = ("dWr", "dbr", "dWu", "dbu", "dWc", "dbc")
    gradients = {name: np.zeros_like(parameters[name[1:]]) for name in gate_names}
    da0 = np.zeros_like(a0)
    walks = [(T_x - 1, None)] if truncate is None else [(t, t - truncate) for t in range(T_x)]
    for last, stop in walks:
        da_next = np.zeros_like(a0)
        for s in range(last, -1, -1):
            upstream = da[:, :, s] if truncate is None or s == last else 0
            step = backward(upstream + da_next, caches[s])
            for name in gate_names:
                gradients[name] += step[name]
            if s == stop:  # a<s-1> is outside the window: a constant
                break
            da_next = step["da_prev"]
        else:
            da0 += da_next
    gradients.update(dWy=dWy, dby=dby, da0=da0)
    return float(loss), {k: gradients[k] for k in (*GRU_GRADIENT_NAMES, "da0")}, a_t.copy()
