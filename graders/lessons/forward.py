"""01-forward: rnn_cell_forward and rnn_forward — cases and typical mistakes.

Each mistake of the cell is written once, with rnn_cell_forward's signature; rnn_forward and
rnn_cell_forward_stacked (02-stacking) inherit it through :func:`unrolled` and
:func:`graders.lessons.stacking.stacked`, as a student's unrolled network inherits the mistake of
the cell it calls. The two mistakes of the loop over time have rnn_forward's signature.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from graders.calls import Case
from graders.lessons.base import CELL_SHAPES, Exercise, Mistake, case, onehot, parameters, sizes
from rnnlib.forward import ACTIVATIONS

# (hidden_activation, output_activation, special) for the forward family; None = the default
_VARIANTS = [
    (None, None, ""),
    ("relu", None, ""),
    (None, "sigmoid", ""),
    ("relu", "sigmoid", "m=1"),
    ("tanh", "softmax", "repeated"),
    (None, None, "square"),
    ("relu", "softmax", "T=1"),
]


def forward_cases(rng: np.random.Generator, kind: str) -> list[Case]:
    """Cases for rnn_cell_forward ("cell"), rnn_forward ("seq"), rnn_cell_forward_stacked."""
    cases = []
    for g1, g2, special in _VARIANTS:
        if special == "T=1" and kind != "seq":
            continue
        n_x, n_a, n_y, m, T_x = sizes(rng, 5)
        if special == "m=1":
            m = 1
        if special == "square":
            n_x = n_a  # so Waa and Wax can be confused without a shape error
        if special == "T=1":
            T_x = 1
        kwargs = {k: v for k, v in (("hidden_activation", g1), ("output_activation", g2)) if v}
        p = parameters(rng, n_a, n_x, n_y)
        # x is one-hot, as the docstrings say: a dense (n_x, m, T_x) array of 0s and 1s
        high = 2 if special == "repeated" else n_x  # "repeated": a few tokens, used again and again
        x = onehot(rng.integers(0, high, (m, T_x)), n_x)
        note = "x one-hot, a few tokens repeated" if special == "repeated" else ""
        a0 = rng.normal(0, 0.8, (n_a, m))
        if kind == "seq":
            dims = {"n_x": n_x, "n_a": n_a, "n_y": n_y, "m": m, "T_x": T_x}
            cases.append(case([x, a0, p], kwargs, dims, note))
            continue
        xt = x[..., 0]  # (n_x, m)
        dims = {"n_x": n_x, "n_a": n_a, "n_y": n_y, "m": m}
        if kind == "cell":
            cases.append(case([xt, a0, p], kwargs, dims, note))
        else:
            Wa = np.concatenate([p["Waa"], p["Wax"]], axis=1)
            cases.append(case([xt, a0, Wa, p["ba"], p["Wya"], p["by"]], kwargs, dims, note))
    return cases


# --- mistakes of one step (rnn_cell_forward's signature) --------------------------------------


def waa_wax_swapped(
    xt: np.ndarray,
    a_prev: np.ndarray,
    parameters: dict[str, np.ndarray],
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[np.ndarray, np.ndarray, tuple]:
    p, g1, g2 = parameters, ACTIVATIONS[hidden_activation], ACTIVATIONS[output_activation]
    a_next = g1(p["Wax"] @ a_prev + p["Waa"] @ xt + p["ba"])  # mistake: Wax with a, Waa with x
    return a_next, g2(p["Wya"] @ a_next + p["by"]), (a_next, a_prev, xt, p, hidden_activation)


def waa_transposed(
    xt: np.ndarray,
    a_prev: np.ndarray,
    parameters: dict[str, np.ndarray],
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[np.ndarray, np.ndarray, tuple]:
    p, g1, g2 = parameters, ACTIVATIONS[hidden_activation], ACTIVATIONS[output_activation]
    a_next = g1(p["Waa"].T @ a_prev + p["Wax"] @ xt + p["ba"])  # mistake: Waa.T
    return a_next, g2(p["Wya"] @ a_next + p["by"]), (a_next, a_prev, xt, p, hidden_activation)


def wax_transposed(
    xt: np.ndarray,
    a_prev: np.ndarray,
    parameters: dict[str, np.ndarray],
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[np.ndarray, np.ndarray, tuple]:
    p, g1, g2 = parameters, ACTIVATIONS[hidden_activation], ACTIVATIONS[output_activation]
    a_next = g1(p["Waa"] @ a_prev + p["Wax"].T @ xt + p["ba"])  # mistake: Wax.T
    return a_next, g2(p["Wya"] @ a_next + p["by"]), (a_next, a_prev, xt, p, hidden_activation)


def ba_missing(
    xt: np.ndarray,
    a_prev: np.ndarray,
    parameters: dict[str, np.ndarray],
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[np.ndarray, np.ndarray, tuple]:
    p, g1, g2 = parameters, ACTIVATIONS[hidden_activation], ACTIVATIONS[output_activation]
    a_next = g1(p["Waa"] @ a_prev + p["Wax"] @ xt)  # mistake: no + ba
    return a_next, g2(p["Wya"] @ a_next + p["by"]), (a_next, a_prev, xt, p, hidden_activation)


def ba_twice(
    xt: np.ndarray,
    a_prev: np.ndarray,
    parameters: dict[str, np.ndarray],
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[np.ndarray, np.ndarray, tuple]:
    p, g1, g2 = parameters, ACTIVATIONS[hidden_activation], ACTIVATIONS[output_activation]
    a_next = g1(p["Waa"] @ a_prev + p["ba"] + p["Wax"] @ xt + p["ba"])  # mistake: ba twice
    return a_next, g2(p["Wya"] @ a_next + p["by"]), (a_next, a_prev, xt, p, hidden_activation)


def by_missing(
    xt: np.ndarray,
    a_prev: np.ndarray,
    parameters: dict[str, np.ndarray],
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[np.ndarray, np.ndarray, tuple]:
    p, g1, g2 = parameters, ACTIVATIONS[hidden_activation], ACTIVATIONS[output_activation]
    a_next = g1(p["Waa"] @ a_prev + p["Wax"] @ xt + p["ba"])
    return a_next, g2(p["Wya"] @ a_next), (a_next, a_prev, xt, p, hidden_activation)  # no by


def by_twice(
    xt: np.ndarray,
    a_prev: np.ndarray,
    parameters: dict[str, np.ndarray],
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[np.ndarray, np.ndarray, tuple]:
    p, g1, g2 = parameters, ACTIVATIONS[hidden_activation], ACTIVATIONS[output_activation]
    a_next = g1(p["Waa"] @ a_prev + p["Wax"] @ xt + p["ba"])
    yt_pred = g2(p["Wya"] @ a_next + 2 * p["by"])  # mistake: by twice
    return a_next, yt_pred, (a_next, a_prev, xt, p, hidden_activation)


def tanh_for_relu(
    xt: np.ndarray,
    a_prev: np.ndarray,
    parameters: dict[str, np.ndarray],
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[np.ndarray, np.ndarray, tuple]:
    p, g2 = parameters, ACTIVATIONS[output_activation]
    a_next = np.tanh(p["Waa"] @ a_prev + p["Wax"] @ xt + p["ba"])  # mistake: always tanh
    return a_next, g2(p["Wya"] @ a_next + p["by"]), (a_next, a_prev, xt, p, hidden_activation)


def relu_for_tanh(
    xt: np.ndarray,
    a_prev: np.ndarray,
    parameters: dict[str, np.ndarray],
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[np.ndarray, np.ndarray, tuple]:
    p, g2 = parameters, ACTIVATIONS[output_activation]
    a_next = np.maximum(p["Waa"] @ a_prev + p["Wax"] @ xt + p["ba"], 0)  # mistake: always relu
    return a_next, g2(p["Wya"] @ a_next + p["by"]), (a_next, a_prev, xt, p, hidden_activation)


def no_hidden_activation(
    xt: np.ndarray,
    a_prev: np.ndarray,
    parameters: dict[str, np.ndarray],
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[np.ndarray, np.ndarray, tuple]:
    p, g2 = parameters, ACTIVATIONS[output_activation]
    a_next = p["Waa"] @ a_prev + p["Wax"] @ xt + p["ba"]  # mistake: no g1
    return a_next, g2(p["Wya"] @ a_next + p["by"]), (a_next, a_prev, xt, p, hidden_activation)


def sigmoid_for_softmax(
    xt: np.ndarray,
    a_prev: np.ndarray,
    parameters: dict[str, np.ndarray],
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[np.ndarray, np.ndarray, tuple]:
    p, g1 = parameters, ACTIVATIONS[hidden_activation]
    a_next = g1(p["Waa"] @ a_prev + p["Wax"] @ xt + p["ba"])
    yt_pred = 1 / (1 + np.exp(-(p["Wya"] @ a_next + p["by"])))  # mistake: always sigmoid
    return a_next, yt_pred, (a_next, a_prev, xt, p, hidden_activation)


def softmax_for_sigmoid(
    xt: np.ndarray,
    a_prev: np.ndarray,
    parameters: dict[str, np.ndarray],
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[np.ndarray, np.ndarray, tuple]:
    p, g1 = parameters, ACTIVATIONS[hidden_activation]
    a_next = g1(p["Waa"] @ a_prev + p["Wax"] @ xt + p["ba"])
    e = np.exp(p["Wya"] @ a_next + p["by"])  # mistake: always softmax
    return a_next, e / e.sum(axis=0), (a_next, a_prev, xt, p, hidden_activation)


def softmax_wrong_axis(
    xt: np.ndarray,
    a_prev: np.ndarray,
    parameters: dict[str, np.ndarray],
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[np.ndarray, np.ndarray, tuple]:
    p, g1 = parameters, ACTIVATIONS[hidden_activation]
    a_next = g1(p["Waa"] @ a_prev + p["Wax"] @ xt + p["ba"])
    e = np.exp(p["Wya"] @ a_next + p["by"])
    yt_pred = e / e.sum(axis=1, keepdims=True)  # mistake: over the examples
    if output_activation == "sigmoid":
        yt_pred = 1 / (1 + np.exp(-(p["Wya"] @ a_next + p["by"])))
    return a_next, yt_pred, (a_next, a_prev, xt, p, hidden_activation)


def softmax_all_entries(
    xt: np.ndarray,
    a_prev: np.ndarray,
    parameters: dict[str, np.ndarray],
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[np.ndarray, np.ndarray, tuple]:
    p, g1 = parameters, ACTIVATIONS[hidden_activation]
    a_next = g1(p["Waa"] @ a_prev + p["Wax"] @ xt + p["ba"])
    e = np.exp(p["Wya"] @ a_next + p["by"])
    yt_pred = e / e.sum()  # mistake: the sum of every entry
    if output_activation == "sigmoid":
        yt_pred = 1 / (1 + np.exp(-(p["Wya"] @ a_next + p["by"])))
    return a_next, yt_pred, (a_next, a_prev, xt, p, hidden_activation)


def no_output_activation(
    xt: np.ndarray,
    a_prev: np.ndarray,
    parameters: dict[str, np.ndarray],
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[np.ndarray, np.ndarray, tuple]:
    p, g1 = parameters, ACTIVATIONS[hidden_activation]
    a_next = g1(p["Waa"] @ a_prev + p["Wax"] @ xt + p["ba"])
    return a_next, p["Wya"] @ a_next + p["by"], (a_next, a_prev, xt, p, hidden_activation)


def y_from_a_prev(
    xt: np.ndarray,
    a_prev: np.ndarray,
    parameters: dict[str, np.ndarray],
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[np.ndarray, np.ndarray, tuple]:
    p, g1, g2 = parameters, ACTIVATIONS[hidden_activation], ACTIVATIONS[output_activation]
    a_next = g1(p["Waa"] @ a_prev + p["Wax"] @ xt + p["ba"])
    yt_pred = g2(p["Wya"] @ a_prev + p["by"])  # mistake: the old state
    return a_next, yt_pred, (a_next, a_prev, xt, p, hidden_activation)


CELL_MISTAKES = (
    (
        waa_wax_swapped,
        "Waa and Wax are swapped: a<t-1> is multiplied by Waa (n_a, n_a) and x<t> by Wax (n_a, n_x)",
    ),
    (waa_transposed, "Waa is transposed: the recurrence is Waa @ a_prev, not Waa.T @ a_prev"),
    (wax_transposed, "Wax is transposed: the input term is Wax @ xt"),
    (ba_missing, "the bias ba is missing: a<t> = g1(Waa a<t-1> + Wax x<t> + ba)"),
    (ba_twice, "the bias ba is added twice: a<t> = g1(Waa a<t-1> + Wax x<t> + ba)"),
    (by_missing, "the bias by is missing: ŷ<t> = g2(Wya a<t> + by)"),
    (by_twice, "the bias by is added twice: ŷ<t> = g2(Wya a<t> + by)"),
    (
        tanh_for_relu,
        "tanh is used where hidden_activation='relu' asks for ReLU: "
        "apply the activation the argument names",
    ),
    (
        relu_for_tanh,
        "ReLU is used where hidden_activation='tanh' asks for tanh: "
        "apply the activation the argument names",
    ),
    (
        no_hidden_activation,
        "no activation is applied to the hidden state: a<t> = g1(Waa a<t-1> + Wax x<t> + ba)",
    ),
    (sigmoid_for_softmax, "sigmoid is used where output_activation='softmax' asks for softmax"),
    (softmax_for_sigmoid, "softmax is used where output_activation='sigmoid' asks for sigmoid"),
    (
        softmax_wrong_axis,
        "softmax is taken over the wrong axis: normalise over "
        "axis 0 (the n_y classes of each example), not over the m examples",
    ),
    (
        softmax_all_entries,
        "softmax divides by the sum of all entries: each column "
        "(one example) must sum to 1 on its own (axis=0)",
    ),
    (no_output_activation, "no output activation: ŷ<t> = g2(Wya a<t> + by), not the logits"),
    (
        y_from_a_prev,
        "ŷ<t> is computed from the old state a<t-1>: use the new state a<t> (a_next)",
    ),
)


# --- mistakes of the loop over time (rnn_forward's signature) ----------------------------------


def unrolled(cell: Callable[..., Any]) -> Callable[..., Any]:
    """rnn_forward written right around ``cell``: it inherits the cell's mistake."""

    def rnn_forward(x, a0, parameters, hidden_activation="tanh", output_activation="softmax"):
        a, y_pred, caches, a_next = [], [], [], a0
        for t in range(x.shape[2]):
            a_next, yt_pred, cache = cell(
                x[:, :, t], a_next, parameters, hidden_activation, output_activation
            )
            a.append(a_next)
            y_pred.append(yt_pred)
            caches.append(cache)
        return np.stack(a, axis=2), np.stack(y_pred, axis=2), caches

    return rnn_forward


def _cell(xt, a_prev, p, hidden_activation, output_activation):
    a_next = ACTIVATIONS[hidden_activation](p["Waa"] @ a_prev + p["Wax"] @ xt + p["ba"])
    yt_pred = ACTIVATIONS[output_activation](p["Wya"] @ a_next + p["by"])
    return a_next, yt_pred, (a_next, a_prev, xt, p, hidden_activation)


rnn_cell_forward = _cell  # what the loop mistakes call: the notebook's own, right, cell


def state_off_by_one(
    x: np.ndarray,
    a0: np.ndarray,
    parameters: dict[str, np.ndarray],
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[np.ndarray, np.ndarray, list[tuple]]:
    n_x, m, T_x = x.shape
    a = np.zeros((a0.shape[0], m, T_x))
    y_pred = np.zeros((parameters["Wya"].shape[0], m, T_x))
    caches, a_prev = [], a0
    for t in range(T_x):
        a_next, y_pred[:, :, t], cache = rnn_cell_forward(
            x[:, :, t], a_prev, parameters, hidden_activation, output_activation
        )
        a[:, :, t] = a_prev  # mistake: the state before the step
        caches.append(cache)
        a_prev = a_next
    return a, y_pred, caches


def state_not_carried(
    x: np.ndarray,
    a0: np.ndarray,
    parameters: dict[str, np.ndarray],
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[np.ndarray, np.ndarray, list[tuple]]:
    n_x, m, T_x = x.shape
    a = np.zeros((a0.shape[0], m, T_x))
    y_pred = np.zeros((parameters["Wya"].shape[0], m, T_x))
    caches = []
    for t in range(T_x):
        a[:, :, t], y_pred[:, :, t], cache = rnn_cell_forward(
            x[:, :, t], a0, parameters, hidden_activation, output_activation
        )  # mistake: every step starts from a0
        caches.append(cache)
    return a, y_pred, caches


def _cell_mistakes() -> tuple[Mistake, ...]:
    return tuple(Mistake(fn.__name__, message, fn) for fn, message in CELL_MISTAKES)


def _forward_mistakes() -> tuple[Mistake, ...]:
    inherited = tuple(Mistake(fn.__name__, msg, unrolled(fn)) for fn, msg in CELL_MISTAKES)
    return (
        *inherited,
        Mistake(
            "state_off_by_one",
            "off-by-one in the time index: a[:, :, t] holds a<t-1> "
            "(the state before step t); store a_next, the state after step t",
            state_off_by_one,
        ),
        Mistake(
            "state_not_carried",
            "the hidden state is not carried from step to step: "
            "each step must start from the previous step's a_next, not from a0",
            state_not_carried,
        ),
    )


EXERCISES = (
    Exercise(
        "rnn_cell_forward",
        "01-forward",
        "forward",
        lambda rng: forward_cases(rng, "cell"),
        CELL_SHAPES,
        _cell_mistakes(),
    ),
    Exercise(
        "rnn_forward",
        "01-forward",
        "forward",
        lambda rng: forward_cases(rng, "seq"),
        {"a": ("n_a", "m", "T_x"), "y_pred": ("n_y", "m", "T_x")},
        _forward_mistakes(),
    ),
)
