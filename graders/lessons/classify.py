"""10-classify: many_to_one_forward and many_to_one_backward — cases and typical mistakes."""

from __future__ import annotations

import numpy as np

from graders.calls import Case
from graders.lessons.base import GRAD_SHAPES, Exercise, Mistake, case, onehot, parameters, sizes
from rnnlib.forward import ACTIVATIONS, activation_derivative, sigmoid


def _problem(rng: np.random.Generator, g1: str, special: str = ""):
    n_x, n_a, m = sizes(rng, 3, 2, 7)
    m = 1 if special == "m=1" else m
    T_x = 1 if special == "T=1" else int(rng.integers(3, 8))
    p = parameters(rng, n_a, n_x, 1)
    if special == "large logits":  # o ≈ 80: σ(o) rounds to 1, and log(1 - σ(o)) for y = 0 is -inf
        p["by"] = np.array([[80.0]])
    x = onehot(rng.integers(0, n_x, (m, T_x)), n_x)
    y = rng.integers(0, 2, m).astype(np.float64)
    if special != "m=1":
        y[:2] = (0.0, 1.0)  # both labels present
    a0 = rng.normal(0, 0.8, (n_a, m))
    dims = {"n_x": n_x, "n_a": n_a, "n_y": 1, "m": m, "T_x": T_x}
    return x, y, a0, p, dims


SPECIALS = (("tanh", ""), ("relu", ""), ("tanh", "m=1"), ("relu", "T=1"), ("tanh", "large logits"))


def _forward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for g1, special in SPECIALS:
        x, y, a0, p, dims = _problem(rng, g1, special)
        cases.append(case([x, y, a0, p], {"hidden_activation": g1}, dims, special))
    return cases


def _forward_cache(x, y, a0, p, g1):
    """The cache of rnnlib's forward, as plain data (what the student's backward is handed)."""
    g = ACTIVATIONS[g1]
    a = np.zeros((a0.shape[0], a0.shape[1], x.shape[2] + 1))
    a[:, :, 0] = a0
    for t in range(x.shape[2]):
        a[:, :, t + 1] = g(p["Waa"] @ a[:, :, t] + p["Wax"] @ x[:, :, t] + p["ba"])
    y_pred = sigmoid(p["Wya"] @ a[:, :, -1] + p["by"])
    return (a, x, y, y_pred, p, g1)


def _backward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for g1, special in SPECIALS[:4]:
        x, y, a0, p, dims = _problem(rng, g1, special)
        note = "; ".join(part for part in (f"hidden_activation={g1!r}", special) if part)
        cases.append(case([_forward_cache(x, y, a0, p, g1)], {}, dims, note))
    return cases


# --- many_to_one_forward mistakes ------------------------------------------------------------


def forward_first_state(x, y, a0, parameters, hidden_activation="tanh"):
    g1 = ACTIVATIONS[hidden_activation]
    a = a0
    first = None
    for t in range(x.shape[2]):
        a = g1(parameters["Waa"] @ a + parameters["Wax"] @ x[:, :, t] + parameters["ba"])
        first = a if first is None else first
    o = parameters["Wya"] @ first + parameters["by"]  # mistake: the output of a<1>, not a<T_x>
    y_pred = sigmoid(o)
    return float(np.sum(np.logaddexp(0, o) - y * o) / a0.shape[1]), y_pred, None


def forward_loss_summed(x, y, a0, parameters, hidden_activation="tanh"):
    g1 = ACTIVATIONS[hidden_activation]
    a = a0
    for t in range(x.shape[2]):
        a = g1(parameters["Waa"] @ a + parameters["Wax"] @ x[:, :, t] + parameters["ba"])
    o = parameters["Wya"] @ a + parameters["by"]
    return float(np.sum(np.logaddexp(0, o) - y * o)), sigmoid(o), None  # mistake: not / m


def forward_naive_log(x, y, a0, parameters, hidden_activation="tanh"):
    g1 = ACTIVATIONS[hidden_activation]
    a = a0
    for t in range(x.shape[2]):
        a = g1(parameters["Waa"] @ a + parameters["Wax"] @ x[:, :, t] + parameters["ba"])
    y_pred = 1 / (1 + np.exp(-(parameters["Wya"] @ a + parameters["by"])))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # mistake: log of a probability that rounds to 0 or 1 is -inf (nan after 0 · -inf)
        loss = -np.mean(y * np.log(y_pred) + (1 - y) * np.log(1 - y_pred))
    return float(loss), y_pred, None


def forward_labels_swapped(x, y, a0, parameters, hidden_activation="tanh"):
    g1 = ACTIVATIONS[hidden_activation]
    a = a0
    for t in range(x.shape[2]):
        a = g1(parameters["Waa"] @ a + parameters["Wax"] @ x[:, :, t] + parameters["ba"])
    o = parameters["Wya"] @ a + parameters["by"]
    loss = np.sum(np.logaddexp(0, o) - (1 - y) * o) / a0.shape[1]  # mistake: y and 1 - y swapped
    return float(loss), sigmoid(o), None


# --- many_to_one_backward mistakes -----------------------------------------------------------


def _backward(cache, *, transpose=True, recur=True, average=True, shift=0):
    a, x, y, y_pred, p, g1 = cache
    m, T_x = a.shape[1], a.shape[2] - 1
    do = (y_pred - y) / (m if average else 1)
    grads = {
        "dWya": do @ a[:, :, T_x].T,
        "dby": do.sum(axis=1, keepdims=True),
        "dWaa": np.zeros_like(p["Waa"]),
        "dWax": np.zeros_like(p["Wax"]),
        "dba": np.zeros_like(p["ba"]),
    }
    da = p["Wya"].T @ do
    for t in range(T_x, 0, -1):
        dz = da * activation_derivative(g1, a[:, :, t - shift])
        grads["dWaa"] += dz @ a[:, :, t - 1].T
        grads["dWax"] += dz @ x[:, :, t - 1].T
        grads["dba"] += dz.sum(axis=1, keepdims=True)
        da = (p["Waa"].T if transpose else p["Waa"]) @ dz if recur else np.zeros_like(da)
    grads["da0"] = da
    return grads


def backward_waa_not_transposed(cache):
    return _backward(cache, transpose=False)  # mistake: Waa dz instead of Waaᵀ dz


def backward_last_step_only(cache):
    return _backward(cache, recur=False)  # mistake: nothing carried back to earlier steps


def backward_not_averaged(cache):
    return _backward(cache, average=False)  # mistake: do = ŷ - y, without / m


def backward_derivative_of_previous_state(cache):
    return _backward(cache, shift=1)  # mistake: g1'(z<t>) from a<t-1> instead of a<t>


EXERCISES = (
    Exercise(
        "many_to_one_forward",
        "10-classify",
        "classify",
        _forward_cases,
        {"loss": (), "y_pred": ("1", "m")},
        (
            Mistake(
                "output_of_first_state",
                "the output comes from the last state a<T_x>, after the whole sequence, "
                "not from the first one",
                forward_first_state,
            ),
            Mistake(
                "loss_not_averaged",
                "the loss is averaged over the m sequences: divide the sum by m",
                forward_loss_summed,
            ),
            Mistake(
                "naive_log",
                "for large logits σ(o) rounds to 0 or 1 and its log is -inf: compute the loss "
                "from o as log(1 + e^o) - y·o (np.logaddexp(0, o) - y * o)",
                forward_naive_log,
            ),
            Mistake(
                "labels_swapped",
                "y = 1 is the label whose probability is ŷ: the loss is "
                "-[y log ŷ + (1 - y) log(1 - ŷ)], with y and 1 - y in that order",
                forward_labels_swapped,
            ),
        ),
    ),
    Exercise(
        "many_to_one_backward",
        "10-classify",
        "classify",
        _backward_cases,
        {**GRAD_SHAPES, "da0": ("n_a", "m")},
        (
            Mistake(
                "waa_not_transposed",
                "the gradient goes back a step through Waaᵀ (the transpose): "
                "da<t-1> = Waaᵀ (da<t> ⊙ g1'(z<t>))",
                backward_waa_not_transposed,
            ),
            Mistake(
                "last_step_only",
                "the loss is at the last step, but every earlier state leads to it: carry "
                "da<t-1> = Waaᵀ (da<t> ⊙ g1'(z<t>)) back through all the steps",
                backward_last_step_only,
            ),
            Mistake(
                "not_averaged",
                "the loss is averaged over m, so its gradient at the output is (ŷ - y) / m",
                backward_not_averaged,
            ),
            Mistake(
                "derivative_of_previous_state",
                "g1'(z<t>) is computed from the state of step t, a<t> (cache a[:, :, t]), "
                "not from a<t-1>",
                backward_derivative_of_previous_state,
            ),
        ),
        exact=True,
    ),
)
