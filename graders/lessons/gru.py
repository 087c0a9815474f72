"""08-gru: gru_cell_forward, gru_forward, gru_cell_backward, gru_backward — cases and typical
mistakes. The sequence functions inherit the mistakes of the cell they are written around."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import rnnlib
from graders.calls import Case
from graders.lessons.base import APPROXIMATE, Exercise, Mistake, approximately, case
from graders.lessons.lstm import _draws, _inputs
from rnnlib import gru_cell_backward, gru_cell_forward
from rnnlib.forward import sigmoid
from rnnlib.loss import softmax

GATE_SHAPES = {
    **{"dW" + g: ("n_a", "n_a + n_x") for g in "ruc"},
    **{"db" + g: ("n_a", "1") for g in "ruc"},
}


def gru_parameters(rng: np.random.Generator, n_a: int, n_x: int, n_y: int) -> dict:
    p = {}
    for gate in "ruc":
        p["W" + gate] = rng.normal(0, 0.8, (n_a, n_a + n_x))
        p["b" + gate] = rng.normal(0, 0.5, (n_a, 1))
    p["Wy"] = rng.normal(0, 0.8, (n_y, n_a))
    p["by"] = rng.normal(0, 0.5, (n_y, 1))
    return {k: p[k] for k in rnnlib.gru.GRU_PARAMETER_NAMES}


def _plain(cache: tuple) -> tuple:
    *arrays, parameters = cache
    return (*(np.array(a, copy=True) for a in arrays), {k: v.copy() for k, v in parameters.items()})


def _cell_forward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n_x, n_a, n_y, m, dense, note in _draws(rng):
        p = gru_parameters(rng, n_a, n_x, n_y)
        xt = _inputs(rng, n_x, m, None, dense)
        a_prev = rng.normal(0, 0.8, (n_a, m))
        cases.append(case([xt, a_prev, p], {}, {"n_x": n_x, "n_a": n_a, "n_y": n_y, "m": m}, note))
    return cases


def _forward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for (n_x, n_a, n_y, m, dense, note), T_x in zip(_draws(rng), (5, 7, 4, 1, 3), strict=True):
        p = gru_parameters(rng, n_a, n_x, n_y)
        x = _inputs(rng, n_x, m, T_x, dense)
        a0 = rng.normal(0, 0.8, (n_a, m))
        dims = {"n_x": n_x, "n_a": n_a, "n_y": n_y, "m": m, "T_x": T_x}
        cases.append(case([x, a0, p], {}, dims, note + ("; T_x=1" if T_x == 1 else "")))
    return cases


def _cell_backward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n_x, n_a, n_y, m, dense, note in _draws(rng):
        p = gru_parameters(rng, n_a, n_x, n_y)
        xt = _inputs(rng, n_x, m, None, dense)
        a_prev = rng.normal(0, 0.8, (n_a, m))
        cache = _plain(rnnlib.gru_cell_forward(xt, a_prev, p)[2])
        da_next = rng.normal(0, 1, (n_a, m))
        cases.append(case([da_next, cache], {}, {"n_x": n_x, "n_a": n_a, "m": m}, note))
    return cases


def _backward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for (n_x, n_a, n_y, m, dense, note), T_x in zip(_draws(rng), (5, 6, 4, 1, 3), strict=True):
        p = gru_parameters(rng, n_a, n_x, n_y)
        x = _inputs(rng, n_x, m, T_x, dense)
        a0 = rng.normal(0, 0.8, (n_a, m))
        cs = [_plain(c) for c in rnnlib.gru_forward(x, a0, p)[2]]
        da = rng.normal(0, 1, (n_a, m, T_x))
        dims = {"n_x": n_x, "n_a": n_a, "m": m, "T_x": T_x}
        cases.append(case([da, cs], {}, dims, note + ("; T_x=1" if T_x == 1 else "")))
    return cases


# --- mistakes of the cell forward --------------------------------------------------------------


def _cell(xt, a_prev, parameters, *, mistake: str = ""):
    n_a = a_prev.shape[0]
    concat = np.concatenate([xt, a_prev] if mistake == "concat_reversed" else [a_prev, xt], axis=0)
    if mistake == "gates_swapped":
        rt = sigmoid(parameters["Wu"] @ concat + parameters["bu"])
        ut = sigmoid(parameters["Wr"] @ concat + parameters["br"])
    else:
        rt = sigmoid(parameters["Wr"] @ concat + parameters["br"])
        ut = sigmoid(parameters["Wu"] @ concat + parameters["bu"])
    Wc = parameters["Wc"]
    if mistake == "reset_after_product":
        cct = np.tanh(rt * (Wc[:, :n_a] @ a_prev) + Wc[:, n_a:] @ xt + parameters["bc"])
    elif mistake == "reset_forgotten":
        cct = np.tanh(Wc @ np.concatenate([a_prev, xt], axis=0) + parameters["bc"])
    elif mistake == "concat_reversed":
        cct = np.tanh(Wc @ np.concatenate([xt, rt * a_prev], axis=0) + parameters["bc"])
    else:
        cct = np.tanh(Wc @ np.concatenate([rt * a_prev, xt], axis=0) + parameters["bc"])
    if mistake == "update_reversed":
        a_next = (1 - ut) * cct + ut * a_prev
    else:
        a_next = ut * cct + (1 - ut) * a_prev
    yt_pred = softmax(parameters["Wy"] @ a_next + parameters["by"])
    return a_next, yt_pred, (a_next, a_prev, rt, ut, cct, xt, parameters)


def cell_reset_after_product(xt, a_prev, parameters):
    return _cell(xt, a_prev, parameters, mistake="reset_after_product")


def cell_reset_forgotten(xt, a_prev, parameters):
    return _cell(xt, a_prev, parameters, mistake="reset_forgotten")


def cell_update_reversed(xt, a_prev, parameters):
    return _cell(xt, a_prev, parameters, mistake="update_reversed")


def cell_gates_swapped(xt, a_prev, parameters):
    return _cell(xt, a_prev, parameters, mistake="gates_swapped")


def cell_concat_reversed(xt, a_prev, parameters):
    return _cell(xt, a_prev, parameters, mistake="concat_reversed")


CELL_FORWARD_MISTAKES: tuple[tuple[Callable[..., Any], str, str], ...] = (
    (
        cell_reset_after_product,
        "reset_after_product",
        "this lesson's GRU resets a<t-1> before the product: ã<t> = tanh(Wc [Γr ⊙ a<t-1> ; x<t>] "
        "+ bc) (Γr ⊙ (Wc a<t-1>) is PyTorch's variant, another cell)",
    ),
    (
        cell_reset_forgotten,
        "reset_forgotten",
        "the reset gate is not used: the candidate sees [Γr ⊙ a<t-1> ; x<t>]",
    ),
    (
        cell_update_reversed,
        "update_reversed",
        "the update gate weighs the candidate: a<t> = Γu ⊙ ã<t> + (1 − Γu) ⊙ a<t-1>",
    ),
    (
        cell_gates_swapped,
        "gates_swapped",
        "the reset and update gates are swapped: Γr = σ(Wr concat + br), Γu = σ(Wu concat + bu)",
    ),
    (
        cell_concat_reversed,
        "concat_reversed",
        "the stacked input is [a<t-1> ; x<t>], the previous state on top",
    ),
)


def forward_through(cell: Callable[..., Any]) -> Callable[..., Any]:
    """gru_forward written right around ``cell``: it inherits the cell's mistake."""

    def gru_forward(x, a0, parameters):
        a_t, a, y, caches = a0, [], [], []
        for t in range(x.shape[2]):
            a_t, y_t, cache = cell(x[:, :, t], a_t, parameters)
            a.append(a_t)
            y.append(y_t)
            caches.append(cache)
        return np.stack(a, axis=2), np.stack(y, axis=2), caches

    return gru_forward


def forward_a_reset(x, a0, parameters):
    a, y, caches = [], [], []
    for t in range(x.shape[2]):
        a_next, yt, cache = gru_cell_forward(x[:, :, t], a0, parameters)  # mistake: a0 every step
        a.append(a_next)
        y.append(yt)
        caches.append(cache)
    return np.stack(a, axis=2), np.stack(y, axis=2), caches


# --- mistakes of the cell backward -------------------------------------------------------------


def _backward(da_next, cache, *, mistake: str = ""):
    a_next, a_prev, rt, ut, cct, xt, parameters = cache
    n_a = a_prev.shape[0]

    def dsig(g):
        return 1 - g**2 if mistake == "sigmoid_derivative_wrong" else g * (1 - g)

    dcct = da_next * ut * (1 - cct**2)
    diff = a_prev - cct if mistake == "update_sign" else cct - a_prev
    dut = da_next * diff * dsig(ut)
    concat = np.concatenate([a_prev, xt], axis=0)
    reset = np.concatenate([rt * a_prev, xt], axis=0)
    dreset = parameters["Wc"].T @ dcct
    drt = dreset[:n_a] * a_prev * dsig(rt)
    dconcat = parameters["Wr"].T @ drt + parameters["Wu"].T @ dut
    direct = 0 if mistake == "direct_path_forgotten" else da_next * (1 - ut)
    through_reset = 0 if mistake == "reset_path_forgotten" else dreset[:n_a] * rt
    return {
        "dxt": dreset[n_a:] + dconcat[n_a:],
        "da_prev": direct + through_reset + dconcat[:n_a],
        "dWr": drt @ concat.T,
        "dbr": drt.sum(axis=1, keepdims=True),
        "dWu": dut @ concat.T,
        "dbu": dut.sum(axis=1, keepdims=True),
        "dWc": dcct @ (concat if mistake == "dwc_on_concat" else reset).T,
        "dbc": dcct.sum(axis=1, keepdims=True),
    }


def backward_sigmoid_derivative_wrong(da_next, cache):
    return _backward(da_next, cache, mistake="sigmoid_derivative_wrong")


def backward_update_sign(da_next, cache):
    return _backward(da_next, cache, mistake="update_sign")


def backward_direct_path_forgotten(da_next, cache):
    return _backward(da_next, cache, mistake="direct_path_forgotten")


def backward_reset_path_forgotten(da_next, cache):
    return _backward(da_next, cache, mistake="reset_path_forgotten")


def backward_dwc_on_concat(da_next, cache):
    return _backward(da_next, cache, mistake="dwc_on_concat")


CELL_BACKWARD_MISTAKES: tuple[tuple[Callable[..., Any], str, str], ...] = (
    (
        backward_sigmoid_derivative_wrong,
        "sigmoid_derivative_wrong",
        "the sigmoid's derivative is wrong: for a gate Γ = σ(z), dΓ/dz = Γ ⊙ (1 − Γ)",
    ),
    (
        backward_update_sign,
        "update_sign",
        "the update gate's gradient has the wrong sign: ∂a<t>/∂Γu = ã<t> − a<t-1>",
    ),
    (
        backward_direct_path_forgotten,
        "direct_path_forgotten",
        "da_prev misses the direct path a<t> = … + (1 − Γu) ⊙ a<t-1>: add da_next ⊙ (1 − Γu)",
    ),
    (
        backward_reset_path_forgotten,
        "reset_path_forgotten",
        "da_prev misses the path through Γr ⊙ a<t-1>: add (Wcᵀ dã)[:n_a] ⊙ Γr",
    ),
    (
        backward_dwc_on_concat,
        "dwc_on_concat",
        "dWc = dã [Γr ⊙ a<t-1> ; x<t>]ᵀ: the candidate's input is the reset one, not concat",
    ),
)


def backward_through(cell_backward: Callable[..., Any]) -> Callable[..., Any]:
    """gru_backward written right around ``cell_backward``: it inherits the step's mistake."""

    def gru_backward(da, caches):
        n_a, m, T_x = da.shape
        names = ("dWr", "dbr", "dWu", "dbu", "dWc", "dbc")
        grads = {k: np.zeros_like(caches[0][6][k[1:]]) for k in names}
        dx = np.zeros((caches[0][5].shape[0], m, T_x))
        da_prevt = np.zeros((n_a, m))
        for t in reversed(range(T_x)):
            step = cell_backward(da[:, :, t] + da_prevt, caches[t])
            dx[:, :, t] = step["dxt"]
            for k in names:
                grads[k] = grads[k] + step[k]
            da_prevt = step["da_prev"]
        return {"dx": dx, "da0": da_prevt, **grads}

    return gru_backward


def _sequence_backward(da, caches, *, mistake: str = ""):
    n_a, m, T_x = da.shape
    names = ("dWr", "dbr", "dWu", "dbu", "dWc", "dbc")
    grads = {k: np.zeros_like(caches[0][6][k[1:]]) for k in names}
    dx = np.zeros((caches[0][5].shape[0], m, T_x))
    da_prevt = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        upstream = da[:, :, t] if mistake == "da_not_carried" else da[:, :, t] + da_prevt
        step = gru_cell_backward(upstream, caches[t])
        dx[:, :, t] = step["dxt"]
        for k in names:
            grads[k] = step[k] if mistake == "not_summed" else grads[k] + step[k]
        da_prevt = step["da_prev"]
    return {"dx": dx, "da0": da_prevt, **grads}


def backward_da_not_carried(da, caches):
    return _sequence_backward(da, caches, mistake="da_not_carried")


def backward_not_summed(da, caches):
    return _sequence_backward(da, caches, mistake="not_summed")


def backward_by_differences(da_next, cache):
    """The mistake: gradients from centred differences of the forward pass, not the chain rule
    (with the numerical_gradient notebook 8 imports for its gradient checks)."""
    from rnnlib import numerical_gradient

    a_next, a_prev, rt, ut, cct, xt, parameters = cache

    def loss(xt, a_prev, parameters):  # L = Σ da_next ⊙ a_next, whose gradients are asked for
        return float(np.sum(da_next * gru_cell_forward(xt, a_prev, parameters)[0]))

    grads = {
        "dxt": numerical_gradient(lambda v: loss(v, a_prev, parameters), xt),
        "da_prev": numerical_gradient(lambda v: loss(xt, v, parameters), a_prev),
    }
    for name in ("Wr", "br", "Wu", "bu", "Wc", "bc"):
        grads["d" + name] = numerical_gradient(
            lambda v, name=name: loss(xt, a_prev, {**parameters, name: v}), parameters[name]
        )
    return grads


EXERCISES = (
    Exercise(
        "gru_cell_forward",
        "08-gru",
        "gru",
        _cell_forward_cases,
        {"a_next": ("n_a", "m"), "yt_pred": ("n_y", "m")},
        tuple(Mistake(key, message, fn) for fn, key, message in CELL_FORWARD_MISTAKES),
    ),
    Exercise(
        "gru_forward",
        "08-gru",
        "gru",
        _forward_cases,
        {"a": ("n_a", "m", "T_x"), "y": ("n_y", "m", "T_x")},
        (
            Mistake(
                "a_not_carried",
                "the hidden state is not carried from step to step: pass each step's a_next "
                "as the next step's a_prev (a0 only at the start)",
                forward_a_reset,
            ),
            *(
                Mistake(key, message, forward_through(fn))
                for fn, key, message in CELL_FORWARD_MISTAKES
            ),
        ),
    ),
    Exercise(
        "gru_cell_backward",
        "08-gru",
        "gru",
        _cell_backward_cases,
        {"dxt": ("n_x", "m"), "da_prev": ("n_a", "m"), **GATE_SHAPES},
        (
            *(Mistake(key, message, fn) for fn, key, message in CELL_BACKWARD_MISTAKES),
            Mistake(*APPROXIMATE, backward_by_differences, detect=approximately),
        ),
        exact=True,
    ),
    Exercise(
        "gru_backward",
        "08-gru",
        "gru",
        _backward_cases,
        {"dx": ("n_x", "m", "T_x"), "da0": ("n_a", "m"), **GATE_SHAPES},
        (
            Mistake(
                "da_not_carried",
                "the gradient from a<t+1> is not added: the step's da_next is "
                "da[:, :, t] + the da_prev of step t+1",
                backward_da_not_carried,
            ),
            Mistake(
                "not_summed",
                "the gate weights are shared by every step: their gradients are sums over "
                "time (+=), not the last step's",
                backward_not_summed,
            ),
            *(
                Mistake(key, message, backward_through(fn))
                for fn, key, message in CELL_BACKWARD_MISTAKES
            ),
        ),
        exact=True,
    ),
)
