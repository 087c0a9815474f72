"""03-loss: softmax and cross_entropy — cases and typical mistakes."""

from __future__ import annotations

import numpy as np

from graders.calls import Case
from graders.lessons.base import Exercise, Mistake, case, sizes
from rnnlib.forward import sigmoid
from rnnlib.loss import softmax as _softmax


def _softmax_cases(rng: np.random.Generator) -> list[Case]:
    n_y, m, T_x = sizes(rng, 3)
    return [
        case([rng.normal(0, 2, (n_y, m))], {}, {"n_y": n_y, "m": m}),
        case([rng.normal(0, 2, (n_y, m, T_x))], {}, {"n_y": n_y, "m": m, "T_x": T_x}),
        case([rng.normal(0, 1, (n_y, 1))], {}, {"n_y": n_y, "m": 1}),
        case([rng.uniform(-1e4, 1e4, (n_y, m))], {}, {"n_y": n_y, "m": m}, "logits up to ±1e4"),
    ]


def _cross_entropy_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    notes = ("labels", "labels, one step", "labels, m=1", "0/1 targets", "labels, one step, m<n_y")
    for note in notes:
        n_y, m, T_x = sizes(rng, 3)
        m = 1 if note.endswith("m=1") else m
        if note.endswith("m<n_y"):  # labels below m too: ŷ[j, y_j] (indices swapped) runs
            m, n_y = sorted((m, n_y))
        shape = (n_y, m) if "one step" in note else (n_y, m, T_x)
        if note == "0/1 targets":
            y_pred = sigmoid(rng.normal(0, 1.5, shape))
            y = (rng.random(shape) < 0.5).astype(np.float64)
        else:
            y_pred = _softmax(rng.normal(0, 1.5, shape))
            y = rng.integers(0, m if note.endswith("m<n_y") else n_y, shape[1:])
        dims = {"n_y": n_y, "m": m} if len(shape) == 2 else {"n_y": n_y, "m": m, "T_x": T_x}
        cases.append(case([y_pred, y], {}, dims, note))
    return cases


# --- softmax mistakes -------------------------------------------------------------------------


def softmax_overflow(z: np.ndarray) -> np.ndarray:
    e = np.exp(z)  # mistake: no max subtracted, e^z overflows
    return e / e.sum(axis=0, keepdims=True)


def softmax_over_axis_1(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)  # mistake: over the examples


def softmax_over_last_axis(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)  # mistake: over the last axis


def softmax_all_entries(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()  # mistake: the sum of every entry


def sigmoid_for_softmax(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))  # mistake: the sigmoid


# --- cross_entropy mistakes -------------------------------------------------------------------


def _terms(y_pred, y):
    """-log of the probability of each target (labels) or the binary terms (0/1 targets)."""
    if y.dtype.kind in "iu":
        return -np.log(np.take_along_axis(y_pred, y[None], axis=0))
    return -(y * np.log(y_pred) + (1 - y) * np.log(1 - y_pred))


def loss_mean_over_time(y_pred: np.ndarray, y: np.ndarray) -> float:
    m = y_pred.shape[1]
    T_x = y_pred.shape[2] if y_pred.ndim == 3 else 1
    return float(_terms(y_pred, y).sum() / (m * T_x))  # mistake: averaged over time too


def loss_missing_1_over_m(y_pred: np.ndarray, y: np.ndarray) -> float:
    return float(_terms(y_pred, y).sum())  # mistake: no / m


def loss_sign(y_pred: np.ndarray, y: np.ndarray) -> float:
    return float(-_terms(y_pred, y).sum() / y_pred.shape[1])  # mistake: the log-likelihood


def loss_mean_all(y_pred: np.ndarray, y: np.ndarray) -> float:
    return float(_terms(y_pred, y).mean())  # mistake: averaged over every entry


def loss_all_classes(y_pred: np.ndarray, y: np.ndarray) -> float:
    if y.dtype.kind == "f":
        return float(_terms(y_pred, y).sum() / y_pred.shape[1])
    return float(-np.log(y_pred).sum() / y_pred.shape[1])  # mistake: every class, not the true one


def loss_wrong_class(y_pred: np.ndarray, y: np.ndarray) -> float:
    m = y_pred.shape[1]
    if y.dtype.kind == "f":
        return float(_terms(y_pred, y).sum() / m)
    return float(-np.log(y_pred[np.arange(m), y]).sum() / m)  # mistake: ŷ[j, y_j]


def bce_missing_term(y_pred: np.ndarray, y: np.ndarray) -> float:
    if y.dtype.kind in "iu":
        return float(_terms(y_pred, y).sum() / y_pred.shape[1])
    return float(-np.sum(y * np.log(y_pred)) / y_pred.shape[1])  # mistake: no (1 - y) term


_WRONG_AXIS = "softmax is taken over the wrong axis: normalise over axis 0, the n_y classes"

EXERCISES = (
    Exercise(
        "softmax",
        "03-loss",
        "loss",
        _softmax_cases,
        {},
        (
            Mistake(
                "softmax_overflow",
                "softmax overflows for large logits (e^z is inf beyond z ≈ 709, "
                "inf/inf is NaN): subtract each column's maximum before exp",
                softmax_overflow,
            ),
            Mistake("softmax_wrong_axis", _WRONG_AXIS, softmax_over_axis_1),
            Mistake("softmax_wrong_axis", _WRONG_AXIS, softmax_over_last_axis),
            Mistake(
                "softmax_all_entries",
                "softmax divides by the sum of all entries: each column must "
                "sum to 1 on its own (sum over axis=0 with keepdims=True)",
                softmax_all_entries,
            ),
            Mistake(
                "sigmoid_for_softmax",
                "this is the sigmoid, not softmax: softmax(z)_i = e^z_i / Σ_k e^z_k over axis 0",
                sigmoid_for_softmax,
            ),
        ),
    ),
    Exercise(
        "cross_entropy",
        "03-loss",
        "loss",
        _cross_entropy_cases,
        {},
        (
            Mistake(
                "loss_mean_over_time",
                "the loss is averaged over time steps instead of summed: "
                "L = -(1/m) Σ_t Σ_j log ŷ<t>[y_j<t>, j]",
                loss_mean_over_time,
            ),
            Mistake(
                "loss_missing_1_over_m",
                "the 1/m is missing: the loss is summed over time and averaged over the m examples",
                loss_missing_1_over_m,
            ),
            Mistake(
                "loss_sign",
                "the sign is wrong: the loss is minus the log-likelihood",
                loss_sign,
            ),
            Mistake(
                "loss_mean_all",
                "the loss is averaged over every entry: sum over time steps "
                "(and output units), divide by m only",
                loss_mean_all,
            ),
            Mistake(
                "loss_all_classes",
                "log ŷ is summed over every class: take only the probability of the true class y",
                loss_all_classes,
            ),
            Mistake(
                "loss_wrong_class",
                "the log of the wrong entry is taken: the true class of "
                "example j is ŷ[y[j], j] (class first, then example)",
                loss_wrong_class,
            ),
            Mistake(
                "bce_missing_term",
                "the (1 − y) log(1 − ŷ) term of the binary cross-entropy is missing",
                bce_missing_term,
            ),
        ),
    ),
)
