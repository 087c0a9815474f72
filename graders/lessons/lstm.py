"""07-lstm: lstm_cell_forward, lstm_forward, lstm_cell_backward, lstm_backward — cases and typical
mistakes. The sequence functions inherit the mistakes of the cell they are written around
(:func:`forward_through`, :func:`backward_through`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import rnnlib
from graders.calls import Case
from graders.lessons.base import Exercise, Mistake, case, onehot, sizes
from rnnlib import lstm_cell_backward, lstm_cell_forward
from rnnlib.forward import sigmoid
from rnnlib.loss import softmax

GATE_SHAPES = {
    **{"dW" + g: ("n_a", "n_a + n_x") for g in "fico"},
    **{"db" + g: ("n_a", "1") for g in "fico"},
}


def lstm_parameters(rng: np.random.Generator, n_a: int, n_x: int, n_y: int) -> dict:
    """Gate weights and biases large enough that every gate matters, biases clearly non-zero."""
    p = {}
    for gate in "fico":
        p["W" + gate] = rng.normal(0, 0.7, (n_a, n_a + n_x))
        p["b" + gate] = rng.normal(0, 0.5, (n_a, 1))
    p["Wy"] = rng.normal(0, 0.8, (n_y, n_a))
    p["by"] = rng.normal(0, 0.5, (n_y, 1))
    return {k: p[k] for k in rnnlib.lstm.LSTM_PARAMETER_NAMES}


def _inputs(rng: np.random.Generator, n_x: int, m: int, T_x: int | None, dense: bool):
    shape = (m,) if T_x is None else (m, T_x)
    if dense:
        return rng.normal(0, 1, (n_x, *shape))
    return onehot(rng.integers(0, n_x, shape), n_x)


def _draws(rng: np.random.Generator) -> list[tuple[int, int, int, int, bool, str]]:
    """(n_x, n_a, n_y, m, dense inputs, note): distinct sizes, then the edge cases m = 1, n_a = 1
    and n_x = 1; real-valued (dense) inputs in three of the five, one-hot in the others."""
    out = []
    for special, dense in (
        ("", True),
        ("", False),
        ("m=1", True),
        ("n_a=1", False),
        ("n_x=1", True),
    ):
        n_x, n_a, n_y, m = sizes(rng, 4, 2, 9)
        m = 1 if special == "m=1" else m
        n_a = 1 if special == "n_a=1" else n_a
        n_x = 1 if special == "n_x=1" else n_x
        out.append((n_x, n_a, n_y, m, dense, special))
    return out


def _cell_forward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n_x, n_a, n_y, m, dense, note in _draws(rng):
        p = lstm_parameters(rng, n_a, n_x, n_y)
        xt = _inputs(rng, n_x, m, None, dense)
        a_prev, c_prev = rng.normal(0, 0.8, (n_a, m)), rng.normal(0, 1.5, (n_a, m))
        dims = {"n_x": n_x, "n_a": n_a, "n_y": n_y, "m": m}
        cases.append(case([xt, a_prev, c_prev, p], {}, dims, note))
    return cases


def _forward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for (n_x, n_a, n_y, m, dense, note), T_x in zip(_draws(rng), (5, 7, 4, 1, 3), strict=True):
        p = lstm_parameters(rng, n_a, n_x, n_y)
        x = _inputs(rng, n_x, m, T_x, dense)
        a0 = rng.normal(0, 0.8, (n_a, m))
        dims = {"n_x": n_x, "n_a": n_a, "n_y": n_y, "m": m, "T_x": T_x}
        cases.append(case([x, a0, p], {}, dims, note + ("; T_x=1" if T_x == 1 else "")))
    return cases


def _plain(cache: tuple) -> tuple:
    """A cache of rnnlib's LSTM as a plain tuple of fresh arrays (and the parameter dict)."""
    *arrays, parameters = cache
    return (*(np.array(a, copy=True) for a in arrays), {k: v.copy() for k, v in parameters.items()})


def _lstm_caches(rng, n_x, n_a, n_y, m, T_x, dense) -> list[tuple]:
    p = lstm_parameters(rng, n_a, n_x, n_y)
    x = _inputs(rng, n_x, m, T_x, dense)
    a0 = rng.normal(0, 0.8, (n_a, m))
    _, _, _, cs = rnnlib.lstm_forward(x, a0, p)
    return [_plain(c) for c in cs]


def _cell_backward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n_x, n_a, n_y, m, dense, note in _draws(rng):
        p = lstm_parameters(rng, n_a, n_x, n_y)
        xt = _inputs(rng, n_x, m, None, dense)
        a_prev, c_prev = rng.normal(0, 0.8, (n_a, m)), rng.normal(0, 1.5, (n_a, m))
        cache = _plain(rnnlib.lstm_cell_forward(xt, a_prev, c_prev, p)[3])
        da_next, dc_next = rng.normal(0, 1, (n_a, m)), rng.normal(0, 1, (n_a, m))
        dims = {"n_x": n_x, "n_a": n_a, "m": m}
        cases.append(case([da_next, dc_next, cache], {}, dims, note))
    return cases


def _backward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for (n_x, n_a, n_y, m, dense, note), T_x in zip(_draws(rng), (5, 6, 4, 1, 3), strict=True):
        cs = _lstm_caches(rng, n_x, n_a, n_y, m, T_x, dense)
        da = rng.normal(0, 1, (n_a, m, T_x))
        dims = {"n_x": n_x, "n_a": n_a, "m": m, "T_x": T_x}
        cases.append(case([da, cs], {}, dims, note + ("; T_x=1" if T_x == 1 else "")))
    return cases


# --- mistakes of the cell forward --------------------------------------------------------------


def _gates(xt, a_prev, parameters):
    concat = np.concatenate([a_prev, xt], axis=0)
    ft = sigmoid(parameters["Wf"] @ concat + parameters["bf"])
    it = sigmoid(parameters["Wi"] @ concat + parameters["bi"])
    cct = np.tanh(parameters["Wc"] @ concat + parameters["bc"])
    ot = sigmoid(parameters["Wo"] @ concat + parameters["bo"])
    return ft, it, cct, ot


def _finish(a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters):
    yt_pred = softmax(parameters["Wy"] @ a_next + parameters["by"])
    cache = (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)
    return a_next, c_next, yt_pred, cache


def cell_gates_swapped(xt, a_prev, c_prev, parameters):
    ft, it, cct, ot = _gates(xt, a_prev, parameters)
    c_next = it * c_prev + ft * cct  # mistake: Γu on the old cell, Γf on the candidate
    a_next = ot * np.tanh(c_next)
    return _finish(a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)


def cell_c_not_carried(xt, a_prev, c_prev, parameters):
    ft, it, cct, ot = _gates(xt, a_prev, parameters)
    c_next = it * cct  # mistake: the old cell state Γf ⊙ c<t-1> left out
    a_next = ot * np.tanh(c_next)
    return _finish(a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)


def cell_tanh_forgotten(xt, a_prev, c_prev, parameters):
    ft, it, cct, ot = _gates(xt, a_prev, parameters)
    c_next = ft * c_prev + it * cct
    a_next = ot * c_next  # mistake: Γo ⊙ c<t>, without tanh
    return _finish(a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)


def cell_concat_reversed(xt, a_prev, c_prev, parameters):
    ft, it, cct, ot = _gates(a_prev, xt, parameters)  # mistake: [x<t> ; a<t-1>]
    c_next = ft * c_prev + it * cct
    a_next = ot * np.tanh(c_next)
    return _finish(a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)


def cell_candidate_sigmoid(xt, a_prev, c_prev, parameters):
    ft, it, _, ot = _gates(xt, a_prev, parameters)
    concat = np.concatenate([a_prev, xt], axis=0)
    cct = sigmoid(parameters["Wc"] @ concat + parameters["bc"])  # mistake: σ for the candidate
    c_next = ft * c_prev + it * cct
    a_next = ot * np.tanh(c_next)
    return _finish(a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)


CELL_FORWARD_MISTAKES: tuple[tuple[Callable[..., Any], str, str], ...] = (
    (
        cell_gates_swapped,
        "gates_swapped",
        "the forget and update gates are swapped: c<t> = Γf ⊙ c<t-1> + Γu ⊙ c̃<t> "
        "(Γf = σ(Wf concat + bf) keeps the old cell, Γu = σ(Wi concat + bi) lets the candidate in)",
    ),
    (
        cell_c_not_carried,
        "c_not_carried",
        "the old cell state is not carried: c<t> = Γf ⊙ c<t-1> + Γu ⊙ c̃<t>, with c_prev",
    ),
    (
        cell_tanh_forgotten,
        "tanh_c_forgotten",
        "a<t> = Γo ⊙ tanh(c<t>): the cell state is squashed by tanh before the output gate",
    ),
    (
        cell_concat_reversed,
        "concat_reversed",
        "the stacked input is [a<t-1> ; x<t>], the previous state on top (the gate weights' "
        "first n_a columns multiply a<t-1>)",
    ),
    (
        cell_candidate_sigmoid,
        "candidate_sigmoid",
        "the candidate is c̃<t> = tanh(Wc concat + bc), not a sigmoid: it must be able to be "
        "negative",
    ),
)


def forward_through(cell: Callable[..., Any]) -> Callable[..., Any]:
    """lstm_forward written right around ``cell``: it inherits the cell's mistake."""

    def lstm_forward(x, a0, parameters):
        a_t, c_t, a, y, c, caches = a0, np.zeros_like(a0), [], [], [], []
        for t in range(x.shape[2]):
            a_t, c_t, y_t, cache = cell(x[:, :, t], a_t, c_t, parameters)
            a.append(a_t)
            c.append(c_t)
            y.append(y_t)
            caches.append(cache)
        return np.stack(a, axis=2), np.stack(y, axis=2), np.stack(c, axis=2), caches

    return lstm_forward


def forward_c_reset(x, a0, parameters):
    n_a, m, T_x = a0.shape[0], a0.shape[1], x.shape[2]
    a = np.zeros((n_a, m, T_x))
    c = np.zeros((n_a, m, T_x))
    y = np.zeros((parameters["Wy"].shape[0], m, T_x))
    caches = []
    a_next = a0
    for t in range(T_x):
        # mistake: c<t-1> = 0 at every step instead of the c_next of the step before
        a_next, c_next, yt, cache = lstm_cell_forward(
            x[:, :, t], a_next, np.zeros_like(a0), parameters
        )
        a[:, :, t], c[:, :, t], y[:, :, t] = a_next, c_next, yt
        caches.append(cache)
    return a, y, c, caches


def forward_a_reset(x, a0, parameters):
    n_a, m, T_x = a0.shape[0], a0.shape[1], x.shape[2]
    a = np.zeros((n_a, m, T_x))
    c = np.zeros((n_a, m, T_x))
    y = np.zeros((parameters["Wy"].shape[0], m, T_x))
    caches = []
    c_next = np.zeros_like(a0)
    for t in range(T_x):
        # mistake: a<t-1> = a0 at every step instead of the a_next of the step before
        a_next, c_next, yt, cache = lstm_cell_forward(x[:, :, t], a0, c_next, parameters)
        a[:, :, t], c[:, :, t], y[:, :, t] = a_next, c_next, yt
        caches.append(cache)
    return a, y, c, caches


# --- mistakes of the cell backward -------------------------------------------------------------


def _backward(da_next, dc_next, cache, *, mistake: str = ""):
    """lstm_cell_backward with one mistake switched on (the mistakes below name it)."""
    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters = cache
    n_a = a_next.shape[0]
    tanh_c = np.tanh(c_next)
    through_a = da_next * ot * (1 - tanh_c**2)
    if mistake == "tanh_derivative_forgotten":
        through_a = da_next * ot
    dc = dc_next + through_a
    if mistake == "dc_next_dropped":
        dc = through_a

    def dsig(g):
        if mistake == "sigmoid_derivative_wrong":
            return 1 - g**2
        if mistake == "sigmoid_derivative_twice":
            return sigmoid(g) * (1 - sigmoid(g))
        return g * (1 - g)

    dot = da_next * tanh_c * dsig(ot)
    dcct = dc * it * (1 - cct**2)
    dit = dc * cct * dsig(it)
    dft = dc * c_prev * dsig(ft)
    if mistake == "gates_swapped":
        dit, dft = dc * c_prev * dsig(it), dc * cct * dsig(ft)
    concat = np.concatenate([a_prev, xt], axis=0)
    dconcat = (
        parameters["Wf"].T @ dft
        + parameters["Wi"].T @ dit
        + parameters["Wc"].T @ dcct
        + parameters["Wo"].T @ dot
    )
    dc_prev = dc * ft
    if mistake == "dc_not_through_forget":
        dc_prev = dc
    if mistake == "dc_prev_from_dc_next":
        dc_prev = dc_next * ft
    return {
        "dxt": dconcat[n_a:],
        "da_prev": dconcat[:n_a],
        "dc_prev": dc_prev,
        "dWf": dft @ concat.T,
        "dbf": dft.sum(axis=1, keepdims=True),
        "dWi": dit @ concat.T,
        "dbi": dit.sum(axis=1, keepdims=True),
        "dWc": dcct @ concat.T,
        "dbc": dcct.sum(axis=1, keepdims=True),
        "dWo": dot @ concat.T,
        "dbo": dot.sum(axis=1, keepdims=True),
    }


def backward_dc_not_through_forget(da_next, dc_next, cache):
    return _backward(da_next, dc_next, cache, mistake="dc_not_through_forget")


def backward_dc_prev_from_dc_next(da_next, dc_next, cache):
    return _backward(da_next, dc_next, cache, mistake="dc_prev_from_dc_next")


def backward_dc_next_dropped(da_next, dc_next, cache):
    return _backward(da_next, dc_next, cache, mistake="dc_next_dropped")


def backward_sigmoid_derivative_wrong(da_next, dc_next, cache):
    return _backward(da_next, dc_next, cache, mistake="sigmoid_derivative_wrong")


def backward_sigmoid_derivative_twice(da_next, dc_next, cache):
    return _backward(da_next, dc_next, cache, mistake="sigmoid_derivative_twice")


def backward_tanh_derivative_forgotten(da_next, dc_next, cache):
    return _backward(da_next, dc_next, cache, mistake="tanh_derivative_forgotten")


def backward_gates_swapped(da_next, dc_next, cache):
    return _backward(da_next, dc_next, cache, mistake="gates_swapped")


_SIGMOID = (
    "the sigmoid's derivative is wrong: for a gate Γ = σ(z), dΓ/dz = Γ ⊙ (1 − Γ), written with "
    "the gate's value from the cache (not 1 − Γ², which is tanh's, nor σ applied to Γ again)"
)

CELL_BACKWARD_MISTAKES: tuple[tuple[Callable[..., Any], str, str], ...] = (
    (
        backward_dc_not_through_forget,
        "dc_not_through_forget",
        "dc_prev is not carried back through the forget gate: ∂L/∂c<t-1> = dc ⊙ Γf",
    ),
    (
        backward_dc_prev_from_dc_next,
        "dc_prev_from_dc_next",
        "dc_prev = dc ⊙ Γf with the total dc = dc_next + da_next ⊙ Γo ⊙ (1 − tanh²(c<t>)), "
        "not dc_next alone",
    ),
    (
        backward_dc_next_dropped,
        "dc_next_dropped",
        "the gradient dc_next from step t+1 is left out: the total gradient on c<t> is "
        "dc = dc_next + da_next ⊙ Γo ⊙ (1 − tanh²(c<t>))",
    ),
    (backward_sigmoid_derivative_wrong, "sigmoid_derivative_wrong", _SIGMOID),
    (backward_sigmoid_derivative_twice, "sigmoid_derivative_wrong", _SIGMOID),
    (
        backward_tanh_derivative_forgotten,
        "tanh_derivative_forgotten",
        "from a<t> = Γo ⊙ tanh(c<t>) the gradient on c<t> is da_next ⊙ Γo ⊙ (1 − tanh²(c<t>)): "
        "the derivative of tanh is missing",
    ),
    (
        backward_gates_swapped,
        "gates_swapped",
        "the forget and update gates' gradients are swapped: dΓf multiplies c<t-1>, "
        "dΓu multiplies c̃<t>",
    ),
)


def backward_through(cell_backward: Callable[..., Any]) -> Callable[..., Any]:
    """lstm_backward written right around ``cell_backward``: it inherits the step's mistake."""

    def lstm_backward(da, caches):
        n_a, m, T_x = da.shape
        names = ("dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo")
        grads = {k: np.zeros_like(caches[0][9][k[1:]]) for k in names}
        dx = np.zeros((caches[0][8].shape[0], m, T_x))
        da_prevt, dc_prevt = np.zeros((n_a, m)), np.zeros((n_a, m))
        for t in reversed(range(T_x)):
            step = cell_backward(da[:, :, t] + da_prevt, dc_prevt, caches[t])
            dx[:, :, t] = step["dxt"]
            for k in names:
                grads[k] = grads[k] + step[k]
            da_prevt, dc_prevt = step["da_prev"], step["dc_prev"]
        return {"dx": dx, "da0": da_prevt, **grads}

    return lstm_backward


def _sequence_backward(da, caches, *, mistake: str = ""):
    n_a, m, T_x = da.shape
    names = ("dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo")
    grads = {k: np.zeros_like(caches[0][9][k[1:]]) for k in names}
    dx = np.zeros((caches[0][8].shape[0], m, T_x))
    da_prevt, dc_prevt = np.zeros((n_a, m)), np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        upstream = da[:, :, t] if mistake == "da_not_carried" else da[:, :, t] + da_prevt
        dc_in = np.zeros((n_a, m)) if mistake == "dc_not_carried" else dc_prevt
        step = lstm_cell_backward(upstream, dc_in, caches[t])
        dx[:, :, t] = step["dxt"]
        for k in names:
            grads[k] = step[k] if mistake == "not_summed" else grads[k] + step[k]
        da_prevt, dc_prevt = step["da_prev"], step["dc_prev"]
    return {"dx": dx, "da0": da_prevt, **grads}


def backward_dc_not_carried(da, caches):
    return _sequence_backward(da, caches, mistake="dc_not_carried")


def backward_da_not_carried(da, caches):
    return _sequence_backward(da, caches, mistake="da_not_carried")


def backward_not_summed(da, caches):
    return _sequence_backward(da, caches, mistake="not_summed")


EXERCISES = (
    Exercise(
        "lstm_cell_forward",
        "07-lstm",
        "lstm",
        _cell_forward_cases,
        {"a_next": ("n_a", "m"), "c_next": ("n_a", "m"), "yt_pred": ("n_y", "m")},
        tuple(Mistake(key, message, fn) for fn, key, message in CELL_FORWARD_MISTAKES),
    ),
    Exercise(
        "lstm_forward",
        "07-lstm",
        "lstm",
        _forward_cases,
        {"a": ("n_a", "m", "T_x"), "y": ("n_y", "m", "T_x"), "c": ("n_a", "m", "T_x")},
        (
            Mistake(
                "c_not_carried",
                "the cell state is not carried from step to step: pass each step's c_next "
                "as the next step's c_prev (c<0> = 0 only at the start)",
                forward_c_reset,
            ),
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
        "lstm_cell_backward",
        "07-lstm",
        "lstm",
        _cell_backward_cases,
        {"dxt": ("n_x", "m"), "da_prev": ("n_a", "m"), "dc_prev": ("n_a", "m"), **GATE_SHAPES},
        tuple(Mistake(key, message, fn) for fn, key, message in CELL_BACKWARD_MISTAKES),
        exact=True,
    ),
    Exercise(
        "lstm_backward",
        "07-lstm",
        "lstm",
        _backward_cases,
        {"dx": ("n_x", "m", "T_x"), "da0": ("n_a", "m"), **GATE_SHAPES},
        (
            Mistake(
                "dc_not_carried",
                "the cell state's gradient is not carried back: pass each step's dc_prev as "
                "dc_next of the step before (zero only at the last step)",
                backward_dc_not_carried,
            ),
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
            *(  # dropping dc_next, or dc_prev from dc_next alone, is over a sequence the
                # same as not carrying dc back at all (dc_not_carried names it)
                Mistake(key, message, backward_through(fn))
                for fn, key, message in CELL_BACKWARD_MISTAKES
                if key not in ("dc_prev_from_dc_next", "dc_next_dropped")
            ),
        ),
        exact=True,
    ),
)
