"""05-training: sgd_step, clip_by_global_norm, sample — cases and typical mistakes."""

from __future__ import annotations

import numpy as np

import rnnlib
from graders.calls import GRADS, Case
from graders.lessons.base import (
    GRAD_SHAPES,
    PARAM_SHAPES,
    Exercise,
    Mistake,
    case,
    parameters,
    sizes,
)
from rnnlib.forward import ACTIVATIONS


def _gradients(rng: np.random.Generator, p: dict, scale: float) -> dict[str, np.ndarray]:
    return {"d" + k: rng.normal(0, scale, v.shape) for k, v in p.items()}


def _sgd_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for lr in (0.1, float(rng.uniform(0.01, 0.5)), 1.0):
        n_x, n_a, n_y = sizes(rng, 3)
        p = parameters(rng, n_a, n_x, n_y)
        dims = {"n_x": n_x, "n_a": n_a, "n_y": n_y}
        cases.append(case([p, _gradients(rng, p, 1.0), lr], {}, dims, f"learning_rate={lr:.3g}"))
    return cases


def _clip_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for note in ("norm above max_norm", "norm below max_norm", "with da0, norm above max_norm"):
        n_x, n_a, n_y, m = sizes(rng, 4)
        g = _gradients(rng, parameters(rng, n_a, n_x, n_y), float(rng.uniform(0.5, 3)))
        if "da0" in note:
            g["da0"] = rng.normal(0, 5, (n_a, m))
        norm = float(np.sqrt(sum(np.sum(g[k] ** 2) for k in GRADS)))
        c = norm * (0.3 if "above" in note else 2.0)
        cases.append(case([g, c], {}, {"n_x": n_x, "n_a": n_a, "n_y": n_y}, note))
    return cases


def _sample_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    variants = [
        {},
        {"temperature": 0.5},
        {"temperature": 2.0, "hidden_activation": "relu"},
        {"temperature": 0.8, "stop_id": None},
    ]
    for kwargs in variants:
        n, n_a = sizes(rng, 2, 4, 9)
        p = parameters(rng, n_a, n, n)
        p["Wya"] *= 2.5  # a peaked distribution, so temperature matters
        start, length = int(rng.integers(0, n)), int(rng.integers(6, 12))
        kwargs = {**kwargs, "seed": int(rng.integers(0, 2**31))}
        if "stop_id" in kwargs:  # stop at a token that the sample really draws
            free = rnnlib.sample(
                p, start, length, **{k: v for k, v in kwargs.items() if k != "stop_id"}
            )
            kwargs["stop_id"] = int(free[len(free) // 2])
        cases.append(case([p, start, length], kwargs, {"n_x": n, "n_a": n_a}))
    return cases


# --- sgd_step mistakes ----------------------------------------------------------------------------


def sgd_adds(
    parameters: dict[str, np.ndarray], gradients: dict[str, np.ndarray], learning_rate: float
) -> dict[str, np.ndarray]:
    return {k: parameters[k] + learning_rate * gradients["d" + k] for k in parameters}  # mistake


def sgd_no_learning_rate(
    parameters: dict[str, np.ndarray], gradients: dict[str, np.ndarray], learning_rate: float
) -> dict[str, np.ndarray]:
    return {k: parameters[k] - gradients["d" + k] for k in parameters}  # mistake: no η


def sgd_divides(
    parameters: dict[str, np.ndarray], gradients: dict[str, np.ndarray], learning_rate: float
) -> dict[str, np.ndarray]:
    return {k: parameters[k] - gradients["d" + k] / learning_rate for k in parameters}  # mistake


# --- clip_by_global_norm mistakes -------------------------------------------------------------


def clip_per_parameter(gradients: dict[str, np.ndarray], max_norm: float) -> dict[str, np.ndarray]:
    names = ("dWaa", "dWax", "dWya", "dba", "dby")
    return {
        k: g * min(1.0, max_norm / np.linalg.norm(g)) if k in names else g  # mistake: each own
        for k, g in gradients.items()
    }


def clip_by_value(gradients: dict[str, np.ndarray], max_norm: float) -> dict[str, np.ndarray]:
    names = ("dWaa", "dWax", "dWya", "dba", "dby")
    return {k: np.clip(g, -max_norm, max_norm) if k in names else g for k, g in gradients.items()}


def clip_always_scales(gradients: dict[str, np.ndarray], max_norm: float) -> dict[str, np.ndarray]:
    names = ("dWaa", "dWax", "dWya", "dba", "dby")
    norm = np.sqrt(sum(np.sum(gradients[k] ** 2) for k in names))
    return {k: g * max_norm / norm if k in names else g for k, g in gradients.items()}  # no min


def clip_squared_norm(gradients: dict[str, np.ndarray], max_norm: float) -> dict[str, np.ndarray]:
    names = ("dWaa", "dWax", "dWya", "dba", "dby")
    squared = sum(np.sum(gradients[k] ** 2) for k in names)  # mistake: no square root
    return {k: g * min(1.0, max_norm / squared) if k in names else g for k, g in gradients.items()}


def clip_includes_other_keys(
    gradients: dict[str, np.ndarray], max_norm: float
) -> dict[str, np.ndarray]:
    norm = np.sqrt(sum(np.sum(g**2) for g in gradients.values()))  # mistake: da0 counted too
    return {k: g * min(1.0, max_norm / norm) for k, g in gradients.items()}


# --- sample mistakes ----------------------------------------------------------------------------


def _draw(rng, p):
    """The token drawn from p with one rng.random(), against the cumulative sum."""
    return int(min(np.searchsorted(np.cumsum(p), rng.random() * p.sum(), side="right"), len(p) - 1))


def temperature_ignored(
    parameters: dict[str, np.ndarray],
    start_id: int,
    length: int,
    temperature: float = 1.0,
    seed: int = 0,
    stop_id: int | None = None,
    hidden_activation: str = "tanh",
) -> list[int]:
    p, g1, rng = parameters, ACTIVATIONS[hidden_activation], np.random.default_rng(seed)
    a, token, drawn = np.zeros((p["Waa"].shape[0], 1)), start_id, []
    for _ in range(length):
        a = g1(p["Waa"] @ a + p["Wax"][:, [token]] + p["ba"])
        o = p["Wya"] @ a + p["by"]  # mistake: not divided by the temperature
        e = np.exp(o - o.max()).ravel()
        token = _draw(rng, e / e.sum())
        if token == stop_id:
            break
        drawn.append(token)
    return drawn


def temperature_multiplied(
    parameters: dict[str, np.ndarray],
    start_id: int,
    length: int,
    temperature: float = 1.0,
    seed: int = 0,
    stop_id: int | None = None,
    hidden_activation: str = "tanh",
) -> list[int]:
    p, g1, rng = parameters, ACTIVATIONS[hidden_activation], np.random.default_rng(seed)
    a, token, drawn = np.zeros((p["Waa"].shape[0], 1)), start_id, []
    for _ in range(length):
        a = g1(p["Waa"] @ a + p["Wax"][:, [token]] + p["ba"])
        o = (p["Wya"] @ a + p["by"]) * temperature  # mistake: multiplied
        e = np.exp(o - o.max()).ravel()
        token = _draw(rng, e / e.sum())
        if token == stop_id:
            break
        drawn.append(token)
    return drawn


def no_feedback(
    parameters: dict[str, np.ndarray],
    start_id: int,
    length: int,
    temperature: float = 1.0,
    seed: int = 0,
    stop_id: int | None = None,
    hidden_activation: str = "tanh",
) -> list[int]:
    p, g1, rng = parameters, ACTIVATIONS[hidden_activation], np.random.default_rng(seed)
    a, drawn = np.zeros((p["Waa"].shape[0], 1)), []
    for _ in range(length):
        a = g1(p["Waa"] @ a + p["Wax"][:, [start_id]] + p["ba"])  # mistake: always start_id
        o = (p["Wya"] @ a + p["by"]) / temperature
        e = np.exp(o - o.max()).ravel()
        token = _draw(rng, e / e.sum())
        if token == stop_id:
            break
        drawn.append(token)
    return drawn


def state_reset(
    parameters: dict[str, np.ndarray],
    start_id: int,
    length: int,
    temperature: float = 1.0,
    seed: int = 0,
    stop_id: int | None = None,
    hidden_activation: str = "tanh",
) -> list[int]:
    p, g1, rng = parameters, ACTIVATIONS[hidden_activation], np.random.default_rng(seed)
    a0, token, drawn = np.zeros((p["Waa"].shape[0], 1)), start_id, []
    for _ in range(length):
        a = g1(p["Waa"] @ a0 + p["Wax"][:, [token]] + p["ba"])  # mistake: from a<0> every step
        o = (p["Wya"] @ a + p["by"]) / temperature
        e = np.exp(o - o.max()).ravel()
        token = _draw(rng, e / e.sum())
        if token == stop_id:
            break
        drawn.append(token)
    return drawn


def argmax_not_sampled(
    parameters: dict[str, np.ndarray],
    start_id: int,
    length: int,
    temperature: float = 1.0,
    seed: int = 0,
    stop_id: int | None = None,
    hidden_activation: str = "tanh",
) -> list[int]:
    p, g1 = parameters, ACTIVATIONS[hidden_activation]
    a, token, drawn = np.zeros((p["Waa"].shape[0], 1)), start_id, []
    for _ in range(length):
        a = g1(p["Waa"] @ a + p["Wax"][:, [token]] + p["ba"])
        token = int(np.argmax(p["Wya"] @ a + p["by"]))  # mistake: the most likely token
        if token == stop_id:
            break
        drawn.append(token)
    return drawn


def start_included(
    parameters: dict[str, np.ndarray],
    start_id: int,
    length: int,
    temperature: float = 1.0,
    seed: int = 0,
    stop_id: int | None = None,
    hidden_activation: str = "tanh",
) -> list[int]:
    p, g1, rng = parameters, ACTIVATIONS[hidden_activation], np.random.default_rng(seed)
    a, token, drawn = np.zeros((p["Waa"].shape[0], 1)), start_id, [start_id]  # mistake
    for _ in range(length):
        a = g1(p["Waa"] @ a + p["Wax"][:, [token]] + p["ba"])
        o = (p["Wya"] @ a + p["by"]) / temperature
        e = np.exp(o - o.max()).ravel()
        token = _draw(rng, e / e.sum())
        if token == stop_id:
            break
        drawn.append(token)
    return drawn[: length + 1]


def stop_included(
    parameters: dict[str, np.ndarray],
    start_id: int,
    length: int,
    temperature: float = 1.0,
    seed: int = 0,
    stop_id: int | None = None,
    hidden_activation: str = "tanh",
) -> list[int]:
    p, g1, rng = parameters, ACTIVATIONS[hidden_activation], np.random.default_rng(seed)
    a, token, drawn = np.zeros((p["Waa"].shape[0], 1)), start_id, []
    for _ in range(length):
        a = g1(p["Waa"] @ a + p["Wax"][:, [token]] + p["ba"])
        o = (p["Wya"] @ a + p["by"]) / temperature
        e = np.exp(o - o.max()).ravel()
        token = _draw(rng, e / e.sum())
        drawn.append(token)  # mistake: appended before the stop test
        if token == stop_id:
            break
    return drawn


def sample_legacy_seed(
    parameters: dict[str, np.ndarray],
    start_id: int,
    length: int,
    temperature: float = 1.0,
    seed: int = 0,
    stop_id: int | None = None,
    hidden_activation: str = "tanh",
) -> list[int]:
    """A right answer drawing from np.random.seed(seed)'s generator (accepted too)."""
    p, g1, rng = parameters, ACTIVATIONS[hidden_activation], np.random.RandomState(seed)
    a, token, drawn = np.zeros((p["Waa"].shape[0], 1)), start_id, []
    for _ in range(length):
        a = g1(p["Waa"] @ a + p["Wax"][:, [token]] + p["ba"])
        o = (p["Wya"] @ a + p["by"]) / temperature
        e = np.exp(o - o.max()).ravel()
        prob = e / e.sum()
        u = rng.random_sample() * prob.sum()
        token = int(min(np.searchsorted(np.cumsum(prob), u, side="right"), len(prob) - 1))
        if token == stop_id:
            break
        drawn.append(token)
    return drawn


EXERCISES = (
    Exercise(
        "sgd_step",
        "05-training",
        "training",
        _sgd_cases,
        PARAM_SHAPES,
        (
            Mistake(
                "sgd_adds",
                "the gradient is added: gradient descent subtracts, θ ← θ − η dθ",
                sgd_adds,
            ),
            Mistake(
                "sgd_no_learning_rate",
                "the learning rate is not applied: θ ← θ − η dθ",
                sgd_no_learning_rate,
            ),
            Mistake(
                "sgd_divides",
                "the gradient is divided by the learning rate: θ ← θ − η dθ",
                sgd_divides,
            ),
        ),
    ),
    Exercise(
        "clip_by_global_norm",
        "05-training",
        "training",
        _clip_cases,
        GRAD_SHAPES,
        (
            Mistake(
                "clip_per_parameter",
                "each gradient is clipped by its own norm: compute one global "
                "norm over all five gradients together",
                clip_per_parameter,
            ),
            Mistake(
                "clip_by_value",
                "the gradients are clipped element-wise: clipping by global norm "
                "scales every gradient by min(1, max_norm / ‖g‖)",
                clip_by_value,
            ),
            Mistake(
                "clip_always_scales",
                "gradients whose norm is already below max_norm are scaled "
                "too: the factor is min(1, max_norm / ‖g‖)",
                clip_always_scales,
            ),
            Mistake(
                "clip_squared_norm",
                "the squared norm is used: ‖g‖ = sqrt(Σ g²)",
                clip_squared_norm,
            ),
            Mistake(
                "clip_includes_other_keys",
                "entries other than the five parameter gradients (like "
                "da0) are counted or scaled: only dWaa, dWax, dWya, dba, dby take part",
                clip_includes_other_keys,
            ),
        ),
    ),
    Exercise(
        "sample",
        "05-training",
        "training",
        _sample_cases,
        {},
        (
            Mistake(
                "temperature_ignored",
                "the temperature is ignored: draw from softmax(o / temperature)",
                temperature_ignored,
            ),
            Mistake(
                "temperature_multiplied",
                "the logits are multiplied by the temperature: divide them, "
                "softmax(o / temperature)",
                temperature_multiplied,
            ),
            Mistake(
                "no_feedback",
                "the drawn token is not fed back: the next input is the token just drawn, "
                "not start_id",
                no_feedback,
            ),
            Mistake(
                "state_reset",
                "the hidden state is reset at every step: carry a<t> to the next step",
                state_reset,
            ),
            Mistake(
                "argmax_not_sampled",
                "the most likely token is taken (argmax): draw from the "
                "distribution with the seeded generator",
                argmax_not_sampled,
            ),
            Mistake(
                "start_included",
                "start_id is included in the result: return only the drawn tokens",
                start_included,
            ),
            Mistake(
                "stop_included",
                "stop_id is included in the result: stop before appending it",
                stop_included,
            ),
        ),
        accept=(sample_legacy_seed,),
    ),
)
