"""02-stacking: stack_weights, split_weights, stack_inputs, rnn_cell_forward_stacked — cases and
typical mistakes. The stacked cell inherits every mistake of 01-forward's cell (:func:`stacked`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from graders.calls import Case
from graders.lessons.base import CELL_SHAPES, Exercise, Mistake, case, onehot, sizes
from graders.lessons.forward import CELL_MISTAKES, forward_cases
from rnnlib.forward import ACTIVATIONS


def _stack_weights_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    square = int(rng.integers(2, 6))  # n_a = n_x: where blocks stacked on the wrong axis still fit
    for n_a, n_x in (sizes(rng, 2), sizes(rng, 2), (1, int(rng.integers(2, 6))), (square, square)):
        Waa, Wax = rng.normal(0, 1, (n_a, n_a)), rng.normal(0, 1, (n_a, n_x))
        cases.append(case([Waa, Wax], {}, {"n_a": n_a, "n_x": n_x}))
    return cases


def _split_weights_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n_a, n_x in (sizes(rng, 2), sizes(rng, 2), (int(rng.integers(2, 6)), 1)):
        Wa = rng.normal(0, 1, (n_a, n_a + n_x))
        cases.append(case([Wa, n_a], {}, {"n_a": n_a, "n_x": n_x}))
    return cases


def _stack_inputs_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    square = int(rng.integers(2, 6))  # n_a = n_x = m: where stacking side by side still fits
    for n_a, n_x, m in (sizes(rng, 3), sizes(rng, 3), (*sizes(rng, 2), 1), (square,) * 3):
        a_prev = rng.normal(0, 1, (n_a, m))
        xt = onehot(rng.integers(0, n_x, m), n_x) if m > 1 else rng.normal(0, 1, (n_x, m))
        cases.append(case([a_prev, xt], {}, {"n_a": n_a, "n_x": n_x, "m": m}))
    return cases


# --- mistakes ---------------------------------------------------------------------------------


def stack_order_reversed(Waa: np.ndarray, Wax: np.ndarray) -> np.ndarray:
    return np.concatenate([Wax, Waa], axis=1)  # mistake: Wax first


def stack_on_axis_0(Waa: np.ndarray, Wax: np.ndarray) -> np.ndarray:
    return np.concatenate([Waa, Wax], axis=0)  # mistake: one above the other


def inputs_side_by_side(a_prev: np.ndarray, xt: np.ndarray) -> np.ndarray:
    return np.concatenate([a_prev, xt], axis=1)  # mistake: along the examples' axis


def split_swapped(Wa: np.ndarray, n_a: int) -> tuple[np.ndarray, np.ndarray]:
    return Wa[:, n_a:], Wa[:, :n_a]  # mistake: (Wax, Waa)


def split_at_n_x(Wa: np.ndarray, n_a: int) -> tuple[np.ndarray, np.ndarray]:
    n_x = Wa.shape[1] - n_a
    return Wa[:, :n_x], Wa[:, n_x:]  # mistake: n_x where n_a belongs


def split_one_column_late(Wa: np.ndarray, n_a: int) -> tuple[np.ndarray, np.ndarray]:
    return Wa[:, : n_a + 1], Wa[:, n_a + 1 :]  # mistake: one column too many in Waa


def split_one_column_early(Wa: np.ndarray, n_a: int) -> tuple[np.ndarray, np.ndarray]:
    return Wa[:, : n_a - 1], Wa[:, n_a - 1 :]  # mistake: one column too few in Waa


def inputs_reversed(a_prev: np.ndarray, xt: np.ndarray) -> np.ndarray:
    return np.concatenate([xt, a_prev], axis=0)  # mistake: x<t> on top


def stack_inputs_reversed(
    xt: np.ndarray,
    a_prev: np.ndarray,
    Wa: np.ndarray,
    ba: np.ndarray,
    Wya: np.ndarray,
    by: np.ndarray,
    hidden_activation: str = "tanh",
    output_activation: str = "softmax",
) -> tuple[np.ndarray, np.ndarray, tuple]:
    g1, g2 = ACTIVATIONS[hidden_activation], ACTIVATIONS[output_activation]
    a_next = g1(Wa @ np.concatenate([xt, a_prev], axis=0) + ba)  # mistake: [x<t> ; a<t-1>]
    n_a = a_prev.shape[0]
    p = {"Waa": Wa[:, :n_a], "Wax": Wa[:, n_a:], "Wya": Wya, "ba": ba, "by": by}
    return a_next, g2(Wya @ a_next + by), (a_next, a_prev, xt, p, hidden_activation)


def stacked(cell: Callable[..., Any]) -> Callable[..., Any]:
    """rnn_cell_forward_stacked written right around ``cell``: it inherits the cell's mistake."""

    def rnn_cell_forward_stacked(
        xt, a_prev, Wa, ba, Wya, by, hidden_activation="tanh", output_activation="softmax"
    ):
        n_a = a_prev.shape[0]
        p = {"Waa": Wa[:, :n_a], "Wax": Wa[:, n_a:], "Wya": Wya, "ba": ba, "by": by}
        return cell(xt, a_prev, p, hidden_activation, output_activation)

    return rnn_cell_forward_stacked


_SPLIT_OFF_BY_ONE = "the split is off by one column: Waa = Wa[:, :n_a], Wax = Wa[:, n_a:]"

EXERCISES = (
    Exercise(
        "stack_weights",
        "02-stacking",
        "stacking",
        _stack_weights_cases,
        {"Wa": ("n_a", "n_a + n_x")},
        (
            Mistake(
                "stack_order_reversed",
                "the blocks are in the wrong order: Wa = [Waa : Wax], Waa's n_a columns first",
                stack_order_reversed,
            ),
            Mistake(
                "stack_on_axis_0",
                "the blocks are stacked one above the other (axis 0): Wa = [Waa : Wax] puts "
                "them side by side, np.concatenate([Waa, Wax], axis=1), shape (n_a, n_a + n_x)",
                stack_on_axis_0,
            ),
        ),
    ),
    Exercise(
        "split_weights",
        "02-stacking",
        "stacking",
        _split_weights_cases,
        {"Waa": ("n_a", "n_a"), "Wax": ("n_a", "n_x")},
        (
            Mistake(
                "split_swapped",
                "the two results are swapped: return (Waa, Wax), Waa first",
                split_swapped,
            ),
            Mistake(
                "split_at_n_x",
                "split at column n_x instead of n_a: Waa is the first n_a columns of Wa, "
                "Wax the rest",
                split_at_n_x,
            ),
            Mistake("split_off_by_one", _SPLIT_OFF_BY_ONE, split_one_column_late),
            Mistake("split_off_by_one", _SPLIT_OFF_BY_ONE, split_one_column_early),
        ),
    ),
    Exercise(
        "stack_inputs",
        "02-stacking",
        "stacking",
        _stack_inputs_cases,
        {"stacked": ("n_a + n_x", "m")},
        (
            Mistake(
                "stack_inputs_reversed",
                "the blocks are in the wrong order: the stacked input is "
                "[a<t-1> ; x<t>], the previous state on top",
                inputs_reversed,
            ),
            Mistake(
                "inputs_side_by_side",
                "a<t-1> and x<t> are put side by side (axis 1, the examples' axis): stack them "
                "one above the other, np.concatenate([a_prev, xt], axis=0), shape (n_a + n_x, m)",
                inputs_side_by_side,
            ),
        ),
    ),
    Exercise(
        "rnn_cell_forward_stacked",
        "02-stacking",
        "stacking",
        lambda rng: forward_cases(rng, "stacked"),
        CELL_SHAPES,
        (
            *(Mistake(fn.__name__, message, stacked(fn)) for fn, message in CELL_MISTAKES),
            Mistake(
                "stack_inputs_reversed",
                "Wa is applied to [x<t> ; a<t-1>]: the stacked input must "
                "be [a<t-1> ; x<t>] to match Wa = [Waa : Wax]",
                stack_inputs_reversed,
            ),
        ),
    ),
)
