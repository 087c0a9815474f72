"""04-bptt: rnn_cell_backward, rnn_backward, numerical_gradient, rnn_backward_truncated,
output_layer_backward, bptt — cases and typical mistakes.

Each mistake of one step back is written once, with rnn_cell_backward's signature; rnn_backward,
bptt and backprop_norms (06-vanishing) inherit it through :func:`through_time`,
:func:`bptt_through` and :func:`graders.lessons.vanishing.norms_through`, as a student's loop
inherits the mistake of the step it calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from graders.calls import GRADS, Case, Outputs
from graders.lessons.base import (
    GRAD_SHAPES,
    Exercise,
    Mistake,
    caches,
    case,
    close,
    onehot,
    parameters,
    sizes,
)
from rnnlib.forward import ACTIVATIONS, activation_derivative


def _cell_backward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for g1, m1 in (("tanh", False), ("relu", False), ("tanh", True), ("relu", True)):
        n_x, n_a, m = sizes(rng, 3)
        m = 1 if m1 else m
        cs = caches(rng, n_x, n_a, m, 1, g1)
        da_next = rng.normal(0, 1, (n_a, m))
        dims = {"n_x": n_x, "n_a": n_a, "m": m}
        cases.append(case([da_next, cs[0]], {}, dims, f"hidden_activation={g1!r}"))
    return cases


def _rnn_backward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for g1, special in (("tanh", ""), ("relu", ""), ("tanh", "m=1"), ("tanh", "T=1")):
        n_x, n_a, m, T_x = sizes(rng, 4)
        m = 1 if special == "m=1" else m
        T_x = 1 if special == "T=1" else T_x
        cs = caches(rng, n_x, n_a, m, T_x, g1)
        da = rng.normal(0, 1, (n_a, m, T_x))
        dims = {"n_x": n_x, "n_a": n_a, "m": m, "T_x": T_x}
        cases.append(case([da, cs], {}, dims, f"hidden_activation={g1!r}"))
    return cases


def _numerical_gradient_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    a, b, c, d = sizes(rng, 4, 2, 6)
    for shape, epsilon, entries in (
        ((a, b), None, False),
        ((c,), 1e-3, False),
        ((d, a), 1e-2, True),
        ((b, c, 2), 1e-4, True),
    ):
        n = int(np.prod(shape))
        spec = {
            "c": rng.normal(0, 1, n),
            "A": rng.normal(0, 1, (n, n)) / np.sqrt(n),
            "d": rng.normal(0, 0.5, n),
        }
        theta = rng.normal(0, 1, shape)
        kwargs: dict = {}
        if epsilon is not None:
            kwargs["epsilon"] = epsilon
        if entries:
            kwargs["entries"] = rng.choice(n, size=max(1, n // 2), replace=False)
        note = f"theta shape {shape}" + (", some entries" if entries else "")
        cases.append(case([spec, theta], kwargs, {}, note))
    return cases


def _truncated_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for g1, k, special in (
        ("tanh", 0, ""),
        ("relu", 1, ""),
        ("tanh", 2, ""),
        ("tanh", 1, "m=1"),
        ("relu", None, "k=T-1"),
        ("tanh", None, "k>T"),
    ):
        n_x, n_a, m, T_x = sizes(rng, 4)
        T_x = max(T_x, 4)
        m = 1 if special == "m=1" else m
        if k is None:
            k = T_x - 1 if special == "k=T-1" else T_x + 2
        cs = caches(rng, n_x, n_a, m, T_x, g1)
        da = rng.normal(0, 1, (n_a, m, T_x))
        dims = {"n_x": n_x, "n_a": n_a, "m": m, "T_x": T_x}
        cases.append(case([da, cs, k], {}, dims, f"hidden_activation={g1!r}, truncate={k}"))
    return cases


def _output_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for g2, special in (("softmax", ""), ("sigmoid", ""), ("softmax", "m=1"), ("softmax", "T=1")):
        n_a, n_y, m, T_x = sizes(rng, 4)
        m = 1 if special == "m=1" else m
        T_x = 1 if special == "T=1" else T_x
        p = parameters(rng, n_a, 3, n_y)
        a = np.tanh(rng.normal(0, 1, (n_a, m, T_x)))
        o = np.einsum("ya,amt->ymt", p["Wya"], a) + p["by"][:, :, None]
        y_pred = ACTIVATIONS[g2](o)
        if g2 == "sigmoid":
            y = (rng.random((n_y, m, T_x)) < 0.5).astype(np.float64)
        else:
            y = rng.integers(0, n_y, (m, T_x))
        dims = {"n_a": n_a, "n_y": n_y, "m": m, "T_x": T_x}
        cases.append(case([y_pred, y, a, p], {}, dims, f"{g2} outputs"))
    return cases


def _bptt_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    variants = [
        ({}, ""),
        ({"hidden_activation": "relu"}, ""),
        ({"output_activation": "sigmoid"}, ""),
        ({"truncate": 2}, ""),
        ({"truncate": 0}, "m=1"),
        ({}, "repeated"),
        ({}, "T=1"),
    ]
    for kwargs, special in variants:
        n_x, n_a, n_y, m, T_x = sizes(rng, 5)
        m = 1 if special == "m=1" else m
        T_x = 1 if special == "T=1" else max(T_x, 4)
        p = parameters(rng, n_a, n_x, n_y)
        high = 2 if special == "repeated" else n_x
        x = onehot(rng.integers(0, high, (m, T_x)), n_x)  # one-hot (n_x, m, T_x)
        if kwargs.get("output_activation") == "sigmoid":
            y = (rng.random((n_y, m, T_x)) < 0.5).astype(np.float64)
        else:
            y = rng.integers(0, n_y, (m, T_x))
        a0 = rng.normal(0, 0.5, (n_a, m))
        dims = {"n_x": n_x, "n_a": n_a, "n_y": n_y, "m": m, "T_x": T_x}
        note = "x one-hot, a few tokens repeated" if special == "repeated" else ""
        cases.append(case([x, y, a0, p], kwargs, dims, note))
    return cases


# --- mistakes of one step back (rnn_cell_backward's signature) ---------------------------------


def _step_back(dz, cache):
    """The right gradients of one step, given dz = da_next ⊙ g1'(z)."""
    a_next, a_prev, xt, p, _ = cache
    return {
        "dxt": p["Wax"].T @ dz,
        "da_prev": p["Waa"].T @ dz,
        "dWax": dz @ xt.T,
        "dWaa": dz @ a_prev.T,
        "dba": dz.sum(axis=1, keepdims=True),
    }


def rnn_cell_backward(da_next: np.ndarray, cache: tuple) -> dict[str, np.ndarray]:
    """The right step back (what the inherited mistakes of the loops call, as a notebook does)."""
    return _step_back(da_next * activation_derivative(cache[4], cache[0]), cache)


def derivative_tanh_of_a(da_next: np.ndarray, cache: tuple) -> dict[str, np.ndarray]:
    a_next, g1 = cache[0], cache[4]
    g1_prime = 1 - np.tanh(a_next) ** 2 if g1 == "tanh" else (a_next > 0) * 1.0  # tanh twice
    return _step_back(da_next * g1_prime, cache)


def derivative_one_minus_a(da_next: np.ndarray, cache: tuple) -> dict[str, np.ndarray]:
    a_next, g1 = cache[0], cache[4]
    g1_prime = 1 - a_next if g1 == "tanh" else (a_next > 0) * 1.0  # mistake: 1 - a, not 1 - a²
    return _step_back(da_next * g1_prime, cache)


def derivative_none(da_next: np.ndarray, cache: tuple) -> dict[str, np.ndarray]:
    return _step_back(da_next, cache)  # mistake: dz = da_next, no g1'(z)


def derivative_at_a_prev(da_next: np.ndarray, cache: tuple) -> dict[str, np.ndarray]:
    return _step_back(da_next * activation_derivative(cache[4], cache[1]), cache)  # a<t-1>


def derivative_other(da_next: np.ndarray, cache: tuple) -> dict[str, np.ndarray]:
    other = "relu" if cache[4] == "tanh" else "tanh"  # mistake: the other activation's
    return _step_back(da_next * activation_derivative(other, cache[0]), cache)


def waa_not_transposed(da_next: np.ndarray, cache: tuple) -> dict[str, np.ndarray]:
    dz = da_next * activation_derivative(cache[4], cache[0])
    return {**_step_back(dz, cache), "da_prev": cache[3]["Waa"] @ dz}  # mistake: Waa, not Waaᵀ


def dba_not_summed(da_next: np.ndarray, cache: tuple) -> dict[str, np.ndarray]:
    dz = da_next * activation_derivative(cache[4], cache[0])
    return {**_step_back(dz, cache), "dba": dz}  # mistake: (n_a, m), not summed


def dba_wrong_axis(da_next: np.ndarray, cache: tuple) -> dict[str, np.ndarray]:
    dz = da_next * activation_derivative(cache[4], cache[0])
    return {**_step_back(dz, cache), "dba": dz.sum(axis=0, keepdims=True)}  # mistake: axis 0


def dwaa_uses_a_next(da_next: np.ndarray, cache: tuple) -> dict[str, np.ndarray]:
    dz = da_next * activation_derivative(cache[4], cache[0])
    return {**_step_back(dz, cache), "dWaa": dz @ cache[0].T}  # mistake: a_next, not a_prev


STEP_MISTAKES = (
    (
        derivative_tanh_of_a,
        "the tanh derivative is written as 1 - tanh(a)²: a_next is already tanh(z), "
        "so g1'(z) = 1 - a_next²",
    ),
    (
        derivative_one_minus_a,
        "the tanh derivative is written as 1 - a: it is 1 - a² (a_next squared)",
    ),
    (derivative_none, "the activation's derivative g1'(z) is missing from dz = da ⊙ g1'(z)"),
    (
        derivative_at_a_prev,
        "g1'(z) is evaluated at a<t-1>: use this step's state a_next = a<t>",
    ),
    (
        derivative_other,
        "the derivative of the wrong activation is used: tanh' = 1 - a², "
        "relu' = [a > 0], as hidden_activation says",
    ),
)
WAA_NOT_TRANSPOSED = (waa_not_transposed, "da_prev must be Waaᵀ dz (the transpose of Waa)")


# --- mistakes of the loop back in time (rnn_backward's signature) ------------------------------


def through_time(cell_backward: Callable[..., Any]) -> Callable[..., Any]:
    """rnn_backward written right around ``cell_backward``: it inherits the step's mistake."""

    def rnn_backward(da, caches):
        n_a, m, T_x = da.shape
        dx, total, carried = [None] * T_x, {"dWax": 0, "dWaa": 0, "dba": 0}, np.zeros((n_a, m))
        for t in reversed(range(T_x)):
            step = cell_backward(da[:, :, t] + carried, caches[t])
            dx[t] = step["dxt"]
            total = {k: total[k] + step[k] for k in total}
            carried = step["da_prev"]
        return {"dx": np.stack(dx, axis=2), "da0": carried, **total}

    return rnn_backward


def _rnn_backward(da, caches, *, carry=True, keep=None, order=None):
    """rnn_backward with one of the loop's mistakes (the private helper of the ones below)."""
    n_a, m, T_x = da.shape
    dx, total, carried = [None] * T_x, {"dWax": 0, "dWaa": 0, "dba": 0}, np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        cache = caches[order(t, T_x)] if order else caches[t]
        step = rnn_cell_backward(da[:, :, t] + (carried if carry else 0), cache)
        dx[t] = step["dxt"]
        if keep is None:
            total = {k: total[k] + step[k] for k in total}
        elif keep == t or keep == t - T_x:
            total = {k: step[k] for k in total}
        carried = step["da_prev"]
    return {"dx": np.stack(dx, axis=2), "da0": carried, **total}


def backward_not_carried(da: np.ndarray, caches: list[tuple]) -> dict[str, np.ndarray]:
    return _rnn_backward(da, caches, carry=False)  # mistake: da[:, :, t] only


def backward_kept_first_step(da: np.ndarray, caches: list[tuple]) -> dict[str, np.ndarray]:
    return _rnn_backward(da, caches, keep=0)  # mistake: dW = step's dW (the loop ends at t = 0)


def backward_kept_last_step(da: np.ndarray, caches: list[tuple]) -> dict[str, np.ndarray]:
    return _rnn_backward(da, caches, keep=-1)  # mistake: dW = step's dW of the last step only


def backward_caches_reversed(da: np.ndarray, caches: list[tuple]) -> dict[str, np.ndarray]:
    return _rnn_backward(da, caches, order=lambda t, T: T - 1 - t)  # mistake: caches[T-1-t]


def backward_caches_shifted(da: np.ndarray, caches: list[tuple]) -> dict[str, np.ndarray]:
    return _rnn_backward(da, caches, order=lambda t, T: t - 1)  # mistake: caches[t - 1]


_NOT_SUMMED = (
    "the gradients of the shared weights are not summed over "
    "time steps: add (+=) each step's dWax, dWaa, dba"
)

# --- numerical_gradient mistakes ----------------------------------------------------------------


def forward_differences(
    f: "Callable[[np.ndarray], float]",  # noqa: UP037 - a string: the cell may lack Callable
    theta: np.ndarray,
    epsilon: float = 1e-5,
    entries: np.ndarray | None = None,
) -> np.ndarray:
    idx = np.arange(theta.size) if entries is None else np.asarray(entries)
    grad = np.empty(len(idx))
    for i, flat in enumerate(idx):
        shifted = theta.copy()
        shifted.flat[flat] += epsilon
        grad[i] = (f(shifted) - f(theta)) / epsilon  # mistake: one-sided
    return grad.reshape(theta.shape) if entries is None else grad


def backward_differences(
    f: "Callable[[np.ndarray], float]",  # noqa: UP037 - a string: the cell may lack Callable
    theta: np.ndarray,
    epsilon: float = 1e-5,
    entries: np.ndarray | None = None,
) -> np.ndarray:
    idx = np.arange(theta.size) if entries is None else np.asarray(entries)
    grad = np.empty(len(idx))
    for i, flat in enumerate(idx):
        shifted = theta.copy()
        shifted.flat[flat] -= epsilon
        grad[i] = (f(theta) - f(shifted)) / epsilon  # mistake: one-sided
    return grad.reshape(theta.shape) if entries is None else grad


def wrong_divisor(
    f: "Callable[[np.ndarray], float]",  # noqa: UP037 - a string: the cell may lack Callable
    theta: np.ndarray,
    epsilon: float = 1e-5,
    entries: np.ndarray | None = None,
) -> np.ndarray:
    idx = np.arange(theta.size) if entries is None else np.asarray(entries)
    grad = np.empty(len(idx))
    for i, flat in enumerate(idx):
        plus, minus = theta.copy(), theta.copy()
        plus.flat[flat] += epsilon
        minus.flat[flat] -= epsilon
        grad[i] = (f(plus) - f(minus)) / epsilon  # mistake: ε, not 2ε
    return grad.reshape(theta.shape) if entries is None else grad


def theta_not_restored(
    f: "Callable[[np.ndarray], float]",  # noqa: UP037 - a string: the cell may lack Callable
    theta: np.ndarray,
    epsilon: float = 1e-5,
    entries: np.ndarray | None = None,
) -> np.ndarray:
    idx = np.arange(theta.size) if entries is None else np.asarray(entries)
    work = theta.astype(np.float64)
    grad = np.empty(len(idx))
    for i, flat in enumerate(idx):
        base = work.flat[flat]
        work.flat[flat] = base + epsilon
        f_plus = f(work)
        work.flat[flat] = base - epsilon
        grad[i] = (f_plus - f(work)) / (2 * epsilon)  # mistake: θ_i left at θ_i − ε
    return grad.reshape(theta.shape) if entries is None else grad


# --- bptt mistakes ------------------------------------------------------------------------------


# --- mistakes of truncation (rnn_backward_truncated's signature) -------------------------------


def _truncated(da, caches, k, *, reach=None, keep_dropped=False):
    """Truncated BPTT walked as the notebook says; ``reach``: states reached (default k + 1);
    ``keep_dropped``: the gradient that leaves the window is added into da0 all the same."""
    n_a, m, T_x = da.shape
    p = caches[0][3]
    out = {
        "dx": np.zeros((p["Wax"].shape[1], m, T_x)),
        "da0": np.zeros((n_a, m)),
        "dWax": np.zeros_like(p["Wax"]),
        "dWaa": np.zeros_like(p["Waa"]),
        "dba": np.zeros_like(p["ba"]),
    }
    reach = k + 1 if reach is None else reach
    for t in range(T_x):
        delta, reached_a0 = da[:, :, t], False
        for s in range(t, t - reach, -1):
            if s < 0:
                reached_a0 = True
                break
            step = rnn_cell_backward(delta, caches[s])
            out["dx"][:, :, s] += step["dxt"]
            for q in ("dWax", "dWaa", "dba"):
                out[q] += step[q]
            delta = step["da_prev"]
        if reached_a0 or keep_dropped:
            out["da0"] += delta
    return out


def truncated_one_state_too_many(
    da: np.ndarray, caches: list[tuple], truncate: int
) -> dict[str, np.ndarray]:
    return _truncated(da, caches, truncate, reach=truncate + 2)  # mistake: k + 2 states


def truncated_one_state_too_few(
    da: np.ndarray, caches: list[tuple], truncate: int
) -> dict[str, np.ndarray]:
    return _truncated(da, caches, truncate, reach=truncate)  # mistake: k states, its own included


def truncated_ignored(da: np.ndarray, caches: list[tuple], truncate: int) -> dict[str, np.ndarray]:
    return _truncated(da, caches, len(caches))  # mistake: full BPTT


def truncated_leak_into_da0(
    da: np.ndarray, caches: list[tuple], truncate: int
) -> dict[str, np.ndarray]:
    return _truncated(da, caches, truncate, keep_dropped=True)  # mistake: the cut gradient kept


# --- mistakes of the output layer (output_layer_backward's signature) ---------------------------


def _output(y_pred, y, a, p, *, divide=True, subtract=True, steps=None):
    """The output layer's gradients; ``steps``: only those steps count in dWya and dby."""
    n_y, m, T_x = y_pred.shape
    if y.ndim == y_pred.ndim:
        target = y
    else:
        target = np.moveaxis(np.eye(n_y)[y], -1, 0)  # (n_y, m, T_x)
    do = y_pred - target if subtract else y_pred.copy()
    if divide:
        do = do / m
    kept = range(T_x) if steps is None else steps
    dWya = sum(do[:, :, t] @ a[:, :, t].T for t in kept)
    dby = sum(do[:, :, t].sum(axis=1, keepdims=True) for t in kept)
    da = np.einsum("ya,ymt->amt", p["Wya"], do)
    return {"dWya": dWya, "dby": dby, "da": da}


def output_missing_1_over_m(
    y_pred: np.ndarray, y: np.ndarray, a: np.ndarray, parameters: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    return _output(y_pred, y, a, parameters, divide=False)  # mistake: do = ŷ - y


def output_targets_not_subtracted(
    y_pred: np.ndarray, y: np.ndarray, a: np.ndarray, parameters: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    return _output(y_pred, y, a, parameters, subtract=False)  # mistake: do = ŷ / m


def output_kept_last_step(
    y_pred: np.ndarray, y: np.ndarray, a: np.ndarray, parameters: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    return _output(y_pred, y, a, parameters, steps=[y_pred.shape[2] - 1])  # mistake: no sum


def output_kept_first_step(
    y_pred: np.ndarray, y: np.ndarray, a: np.ndarray, parameters: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    return _output(y_pred, y, a, parameters, steps=[0])  # mistake: no sum over time


def bptt_through(cell_backward: Callable[..., Any]) -> Callable[..., Any]:
    """bptt written right (the textbook's loops, truncation walked step by step) around
    ``cell_backward``: it inherits the step's mistake."""

    def bptt(
        x, y, a0, parameters, truncate=None, hidden_activation="tanh", output_activation="softmax"
    ):
        return _bptt(x, y, a0, parameters, truncate, hidden_activation, output_activation,
                     cell_backward)  # fmt: skip

    return bptt


def _bptt(x, y, a0, p, truncate, g1, g2, cell_backward=rnn_cell_backward, keep=None):
    """The textbook's bptt (``keep``: only that state's step counts in the shared weights)."""
    m, T_x = a0.shape[1], x.shape[2]
    A = [a0]  # A[t] = a<t>
    for t in range(T_x):
        A.append(ACTIVATIONS[g1](p["Waa"] @ A[t] + p["Wax"] @ x[:, :, t] + p["ba"]))
    loss, dWya, dby, da0 = 0.0, 0.0, 0.0, np.zeros_like(a0)
    shared = [{"dWax": 0, "dWaa": 0, "dba": 0} for _ in range(T_x)]
    k = T_x if truncate is None else truncate
    for t in range(T_x):
        yhat = ACTIVATIONS[g2](p["Wya"] @ A[t + 1] + p["by"])
        target = np.eye(yhat.shape[0])[:, y[:, t]] if g2 == "softmax" else y[:, :, t]
        if g2 == "softmax":
            loss -= np.sum(np.log(yhat[y[:, t], np.arange(m)])) / m
        else:
            loss -= np.sum(target * np.log(yhat) + (1 - target) * np.log(1 - yhat)) / m
        do = (yhat - target) / m
        dWya, dby = dWya + do @ A[t + 1].T, dby + do.sum(axis=1, keepdims=True)
        delta = p["Wya"].T @ do  # ∂L<t>/∂a<t>, walked back through at most k + 1 states
        for s in range(t, t - k - 1, -1):
            if s < 0:
                da0 += delta
                break
            step = cell_backward(delta, (A[s + 1], A[s], x[:, :, s], p, g1))
            shared[s] = {q: shared[s][q] + step[q] for q in shared[s]}
            delta = step["da_prev"]
    steps = range(T_x) if keep is None else [range(T_x)[keep]]
    grads = {q: sum(shared[s][q] for s in steps) for q in ("dWaa", "dWax", "dba")}
    return float(loss), {**grads, "dWya": dWya, "dby": dby, "da0": da0}, A[-1]


def gradients_clipped(
    x: np.ndarray,
    y: np.ndarray,
    a0: np.ndarray,
    parameters: dict[str, np.ndarray],
    truncate: int | None = None,
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    loss, g, a_last = _bptt(x, y, a0, parameters, truncate, hidden_activation, output_activation)
    return loss, {k: np.clip(v, -0.05, 0.05) for k, v in g.items()}, a_last  # mistake: clipped


def _clipped(case: Case, expected: Outputs, outputs: Outputs) -> bool:
    """The gradients are the exact ones clipped: scaled by one factor < 1, or clipped by value."""
    if not close(outputs["loss"], expected["loss"]):
        return False
    ref = np.concatenate([expected[k].ravel() for k in GRADS])
    got = np.concatenate([outputs[k].ravel() for k in GRADS])
    factor = float(got @ ref / (ref @ ref))
    if 0 < factor < 1 - 1e-6 and close(got, factor * ref):
        return True
    c = float(np.max(np.abs(got)))
    return 0 < c < float(np.max(np.abs(ref))) * (1 - 1e-6) and close(got, np.clip(ref, -c, c))


def bptt_loss_mean_over_time(
    x: np.ndarray,
    y: np.ndarray,
    a0: np.ndarray,
    parameters: dict[str, np.ndarray],
    truncate: int | None = None,
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    loss, g, a_last = _bptt(x, y, a0, parameters, truncate, hidden_activation, output_activation)
    return loss / x.shape[2], g, a_last  # mistake: the loss averaged over time


def bptt_loss_missing_1_over_m(
    x: np.ndarray,
    y: np.ndarray,
    a0: np.ndarray,
    parameters: dict[str, np.ndarray],
    truncate: int | None = None,
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    loss, g, a_last = _bptt(x, y, a0, parameters, truncate, hidden_activation, output_activation)
    return loss * a0.shape[1], g, a_last  # mistake: the loss not divided by m


def gradients_missing_1_over_m(
    x: np.ndarray,
    y: np.ndarray,
    a0: np.ndarray,
    parameters: dict[str, np.ndarray],
    truncate: int | None = None,
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    loss, g, a_last = _bptt(x, y, a0, parameters, truncate, hidden_activation, output_activation)
    return loss, {k: v * a0.shape[1] for k, v in g.items()}, a_last  # mistake: do not / m


def bptt_not_carried(
    x: np.ndarray,
    y: np.ndarray,
    a0: np.ndarray,
    parameters: dict[str, np.ndarray],
    truncate: int | None = None,
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    return _bptt(x, y, a0, parameters, 0, hidden_activation, output_activation)  # no Waaᵀ dz


def bptt_kept_first_step(
    x: np.ndarray,
    y: np.ndarray,
    a0: np.ndarray,
    parameters: dict[str, np.ndarray],
    truncate: int | None = None,
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    return _bptt(x, y, a0, parameters, truncate, hidden_activation, output_activation, keep=0)


def bptt_kept_last_step(
    x: np.ndarray,
    y: np.ndarray,
    a0: np.ndarray,
    parameters: dict[str, np.ndarray],
    truncate: int | None = None,
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    return _bptt(x, y, a0, parameters, truncate, hidden_activation, output_activation, keep=-1)


def truncate_ignored(
    x: np.ndarray,
    y: np.ndarray,
    a0: np.ndarray,
    parameters: dict[str, np.ndarray],
    truncate: int | None = None,
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    return _bptt(x, y, a0, parameters, None, hidden_activation, output_activation)  # full BPTT


def truncate_off_by_one(
    x: np.ndarray,
    y: np.ndarray,
    a0: np.ndarray,
    parameters: dict[str, np.ndarray],
    truncate: int | None = None,
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    k = None if truncate is None else truncate + 1  # mistake: k + 2 states reached
    return _bptt(x, y, a0, parameters, k, hidden_activation, output_activation)


def a_last_off_by_one(
    x: np.ndarray,
    y: np.ndarray,
    a0: np.ndarray,
    parameters: dict[str, np.ndarray],
    truncate: int | None = None,
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    loss, g, _ = _bptt(x, y, a0, parameters, truncate, hidden_activation, output_activation)
    if x.shape[2] == 1:
        return loss, g, a0
    _, _, a_before = _bptt(x[:, :, :-1], y[..., :-1], a0, parameters, truncate,
                           hidden_activation, output_activation)  # fmt: skip
    return loss, g, a_before  # mistake: a<T_x - 1>


_BPTT_NOT_SUMMED = (
    "the gradients of the shared weights are not summed "
    "over time steps: add each step's contribution"
)

EXERCISES = (
    Exercise(
        "rnn_cell_backward",
        "04-bptt",
        "bptt",
        _cell_backward_cases,
        {"dxt": ("n_x", "m"), "da_prev": ("n_a", "m"), **GRAD_SHAPES},
        (
            *(Mistake(fn.__name__, message, fn) for fn, message in STEP_MISTAKES),
            Mistake("waa_not_transposed", WAA_NOT_TRANSPOSED[1], waa_not_transposed),
            Mistake(
                "dba_not_summed",
                "dba must be summed over the m examples: dz.sum(axis=1, keepdims=True), "
                "shape (n_a, 1)",
                dba_not_summed,
            ),
            Mistake(
                "dba_wrong_axis",
                "dba is summed over the wrong axis: sum dz over the examples "
                "(axis=1, keepdims=True)",
                dba_wrong_axis,
            ),
            Mistake(
                "dwaa_uses_a_next",
                "dWaa = dz a<t-1>ᵀ uses a_next: use a_prev, the state that Waa multiplied",
                dwaa_uses_a_next,
            ),
        ),
        exact=True,
    ),
    Exercise(
        "rnn_backward",
        "04-bptt",
        "bptt",
        _rnn_backward_cases,
        {"dx": ("n_x", "m", "T_x"), "da0": ("n_a", "m"), **GRAD_SHAPES},
        (
            Mistake(
                "not_carried",
                "the gradient from a<t+1> is not carried into a<t>: step t gets "
                "da[:, :, t] + da_prev (the da_prev of step t+1)",
                backward_not_carried,
            ),
            Mistake("not_summed_over_time", _NOT_SUMMED, backward_kept_first_step),
            Mistake("not_summed_over_time", _NOT_SUMMED, backward_kept_last_step),
            Mistake(
                "time_index",
                "off-by-one in the time index: step t must use caches[t], the cache of that step",
                backward_caches_reversed,
            ),
            Mistake(
                "time_index",
                "off-by-one in the time index: step t must use caches[t], not caches[t - 1]",
                backward_caches_shifted,
            ),
            *(Mistake(fn.__name__, msg, through_time(fn)) for fn, msg in STEP_MISTAKES),
            Mistake("waa_not_transposed", WAA_NOT_TRANSPOSED[1], through_time(waa_not_transposed)),
        ),
        exact=True,
    ),
    Exercise(
        "numerical_gradient",
        "04-bptt",
        "bptt",
        _numerical_gradient_cases,
        {},
        (
            Mistake(
                "forward_differences",
                "uses one-sided (forward) differences (f(θ+ε) − f(θ))/ε: use "
                "centred differences (f(θ+ε) − f(θ−ε)) / 2ε",
                forward_differences,
            ),
            Mistake(
                "forward_differences",
                "uses one-sided differences (f(θ) − f(θ−ε))/ε: use centred "
                "differences (f(θ+ε) − f(θ−ε)) / 2ε",
                backward_differences,
            ),
            Mistake(
                "wrong_divisor",
                "divides by ε instead of 2ε: the two points θ+ε and θ−ε are 2ε apart",
                wrong_divisor,
            ),
            Mistake(
                "theta_not_restored",
                "θ is not restored after each entry: put θ_i back before moving to the next entry",
                theta_not_restored,
            ),
        ),
    ),
    Exercise(
        "rnn_backward_truncated",
        "04-bptt",
        "bptt",
        _truncated_cases,
        {"dx": ("n_x", "m", "T_x"), "da0": ("n_a", "m"), **GRAD_SHAPES},
        (
            Mistake(
                "truncate_off_by_one",
                "the truncation window is one state too long: the gradient of step t reaches "
                "a<t>, ..., a<t-k> (k + 1 states) and stops",
                truncated_one_state_too_many,
            ),
            Mistake(
                "truncate_off_by_one",
                "the truncation window is one state too short: the gradient of step t reaches "
                "its own state and the k before it, a<t>, ..., a<t-k> (k + 1 states)",
                truncated_one_state_too_few,
            ),
            Mistake(
                "truncate_ignored",
                "truncate is ignored: this is full BPTT; each step's gradient must stop after "
                "a<t-k>",
                truncated_ignored,
            ),
            Mistake(
                "truncate_leaks_into_da0",
                "the gradient cut off at the window's edge is added into da0: only a walk that "
                "gets back to a<0> adds into da0",
                truncated_leak_into_da0,
            ),
        ),
        exact=True,
    ),
    Exercise(
        "output_layer_backward",
        "04-bptt",
        "bptt",
        _output_cases,
        {"dWya": ("n_y", "n_a"), "dby": ("n_y", "1"), "da": ("n_a", "m", "T_x")},
        (
            Mistake(
                "output_missing_1_over_m",
                "the gradients are m times too large: do<t> = (ŷ<t> − y<t>) / m, because the "
                "loss averages over the m sequences",
                output_missing_1_over_m,
            ),
            Mistake(
                "output_targets_not_subtracted",
                "the targets are not subtracted: do<t> = (ŷ<t> − y<t>) / m, with y<t> the one-hot "
                "labels (softmax) or the 0/1 targets (sigmoid)",
                output_targets_not_subtracted,
            ),
            Mistake(
                "not_summed_over_time",
                "dWya and dby are not summed over time steps: Wya and by are shared by every step, "
                "add each step's do<t> a<t>ᵀ and do<t>",
                output_kept_last_step,
            ),
            Mistake(
                "not_summed_over_time",
                "dWya and dby are not summed over time steps: add every step's contribution",
                output_kept_first_step,
            ),
        ),
        exact=True,
    ),
    Exercise(
        "bptt",
        "04-bptt",
        "bptt",
        _bptt_cases,
        {**GRAD_SHAPES, "da0": ("n_a", "m"), "a_last": ("n_a", "m")},
        (
            Mistake(
                "gradients_clipped",
                "the gradients were clipped before being returned (or before "
                "the gradient check): bptt must return the exact gradients; clip only in the "
                "training step",
                gradients_clipped,
                detect=_clipped,
            ),
            Mistake(
                "loss_mean_over_time",
                "the loss is averaged over time steps instead of summed",
                bptt_loss_mean_over_time,
            ),
            Mistake(
                "loss_missing_1_over_m",
                "the loss is missing the 1/m: average over the m sequences",
                bptt_loss_missing_1_over_m,
            ),
            Mistake(
                "gradients_missing_1_over_m",
                "the gradients are m times too large: dL/do<t> = (ŷ<t> − y<t>) / m",
                gradients_missing_1_over_m,
            ),
            Mistake(
                "not_carried",
                "the gradient from a<t+1> is not carried into a<t>: the delta "
                "of step t includes Waaᵀ dz<t+1>",
                bptt_not_carried,
            ),
            Mistake("not_summed_over_time", _BPTT_NOT_SUMMED, bptt_kept_first_step),
            Mistake("not_summed_over_time", _BPTT_NOT_SUMMED, bptt_kept_last_step),
            Mistake(
                "truncate_ignored",
                "truncate=k is ignored: with truncation the loss at step t reaches only "
                "a<t>, ..., a<t-k>",
                truncate_ignored,
            ),
            Mistake(
                "truncate_off_by_one",
                "the truncation window is off by one: the loss at step t "
                "reaches a<t>, ..., a<t-k> (k+1 states)",
                truncate_off_by_one,
            ),
            *(Mistake(fn.__name__, msg, bptt_through(fn)) for fn, msg in STEP_MISTAKES),
            Mistake(
                "a_last_off_by_one",
                "a_last must be the last hidden state a<T_x> (a[:, :, -1])",
                a_last_off_by_one,
            ),
        ),
        exact=True,
    ),
)
