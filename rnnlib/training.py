"""Lesson 5, training (notebooks/05-training): initialisation, SGD, gradient clipping, sampling.

    θ ← θ - η dθ                        (SGD step)
    g ← g · min(1, c / ‖g‖)             (clip by global norm)
    g ← min(max(g, -c), c)              (clip element-wise)
    x<t+1> ~ softmax(o<t> / τ)          (sampling at temperature τ)
    perplexity = exp(L / T_x)           (L summed over T_x steps)

The global norm ‖g‖ is taken over all five parameter gradients together.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnlib._checks import (
    GRADIENT_NAMES,
    HIDDEN_ACTIVATIONS,
    PARAMETER_NAMES,
    Dims,
    check_choice,
    check_count,
    check_gradients,
    check_nonempty,
    check_parameters,
    check_positive,
    check_token_id,
    checked,
)
from rnnlib.forward import ACTIVATIONS
from rnnlib.loss import softmax


def initialize_parameters(
    n_a: int, n_x: int, n_y: int, seed: int = 0, scale: float = 0.01, dtype: type = np.float64
) -> dict[str, np.ndarray]:
    """Small Gaussian weights (N(0, scale²)) and zero biases, reproducible from ``seed``.

    Inputs:
    - n_a, n_x, n_y: hidden, input and output sizes
    - seed: the random seed; scale: the weights' standard deviation; dtype: float64 or float32

    Returns:
    - parameters: Waa (n_a, n_a), Wax (n_a, n_x), Wya (n_y, n_a), ba (n_a, 1), by (n_y, 1)
    """
    for name, value in (("n_a", n_a), ("n_x", n_x), ("n_y", n_y)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise ValueError(f"dtype: expected float64 or float32, got {np.dtype(dtype)}")
    rng = np.random.default_rng(seed)
    return {
        "Waa": (rng.standard_normal((n_a, n_a)) * scale).astype(dtype),
        "Wax": (rng.standard_normal((n_a, n_x)) * scale).astype(dtype),
        "Wya": (rng.standard_normal((n_y, n_a)) * scale).astype(dtype),
        "ba": np.zeros((n_a, 1), dtype=dtype),
        "by": np.zeros((n_y, 1), dtype=dtype),
    }


def check_sgd_step(parameters, gradients, learning_rate) -> dict[str, Any]:
    """sgd_step's contract: the parameters, gradients of the same shapes, η > 0."""
    dims = Dims()
    parameters = check_parameters(parameters, dims)
    gradients = check_gradients(gradients, parameters)
    learning_rate = check_positive("learning_rate", learning_rate)
    check_nonempty(dims)
    return {"parameters": parameters, "gradients": gradients, "learning_rate": learning_rate}


@checked(check_sgd_step)
def sgd_step(
    parameters: dict[str, np.ndarray], gradients: dict[str, np.ndarray], learning_rate: float
) -> dict[str, np.ndarray]:
    """θ ← θ - η dθ for each of the five parameters; returns new arrays, the inputs are unchanged.

    Inputs:
    - parameters: dict with Waa, Wax, Wya, ba, by
    - gradients: dict with dWaa, dWax, dWya, dba, dby of the same shapes
    - learning_rate: η > 0

    Returns:
    - the updated parameters, a new dict
    """
    return {
        name: parameters[name] - learning_rate * gradients["d" + name] for name in PARAMETER_NAMES
    }


def check_clip_by_global_norm(gradients, max_norm) -> dict[str, Any]:
    """clip_by_global_norm's contract: the five parameter gradients, c > 0."""
    return {
        "gradients": check_gradients(gradients),
        "max_norm": check_positive("max_norm", max_norm),
    }


@checked(check_clip_by_global_norm)
def clip_by_global_norm(gradients: dict[str, np.ndarray], max_norm: float) -> dict[str, np.ndarray]:
    """g ← g · min(1, c / ‖g‖), ‖g‖ the norm of all five parameter gradients taken together.

    Inputs:
    - gradients: dict with dWaa, dWax, dWya, dba, dby (other entries, like da0, pass unchanged)
    - max_norm: c > 0

    Returns:
    - a new dict; the direction of the gradient is kept, only its length is capped
    """
    norm = float(np.sqrt(sum(np.sum(gradients[k] ** 2) for k in GRADIENT_NAMES)))
    factor = float(min(1.0, max_norm / norm)) if norm > 0 else 1.0  # a float keeps float32 g
    return {k: (g * factor if k in GRADIENT_NAMES else g) for k, g in gradients.items()}


def check_clip_by_value(gradients, max_value) -> dict[str, Any]:
    """clip_by_value's contract: the five parameter gradients, c > 0."""
    return {
        "gradients": check_gradients(gradients),
        "max_value": check_positive("max_value", max_value),
    }


@checked(check_clip_by_value)
def clip_by_value(gradients: dict[str, np.ndarray], max_value: float) -> dict[str, np.ndarray]:
    """g ← min(max(g, -c), c) element-wise, for each of the five parameter gradients.

    Inputs:
    - gradients: dict with dWaa, dWax, dWya, dba, dby (other entries pass unchanged)
    - max_value: c > 0

    Returns:
    - a new dict; unlike global-norm clipping this can change the gradient's direction
    """
    return {
        k: (np.clip(g, -max_value, max_value) if k in GRADIENT_NAMES else g)
        for k, g in gradients.items()
    }


def check_sample(
    parameters, start_id, length, temperature, seed, stop_id, hidden_activation
) -> dict[str, Any]:
    """sample's contract: the parameters with n_x = n_y (outputs are fed back as inputs), the
    activation, τ > 0, start_id and stop_id (or None) token ids, length >= 0."""
    dims = Dims()
    parameters = check_parameters(parameters, dims)
    check_choice("hidden_activation", hidden_activation, HIDDEN_ACTIVATIONS)
    temperature = check_positive("temperature", temperature)
    if dims["n_x"] != dims["n_y"]:
        raise ValueError(
            "parameters: sampling feeds outputs back as inputs, so n_x must equal n_y; "
            f"got n_x = {dims['n_x']} and n_y = {dims['n_y']}"
        )
    check_token_id("start_id", start_id, dims)
    if stop_id is not None:
        check_token_id("stop_id", stop_id, dims)
    check_count("length", length)
    check_nonempty(dims)
    return {
        "parameters": parameters,
        "start_id": start_id,
        "length": length,
        "temperature": temperature,
        "seed": seed,
        "stop_id": stop_id,
        "hidden_activation": hidden_activation,
    }


@checked(check_sample)
def sample(
    parameters: dict[str, np.ndarray],
    start_id: int,
    length: int,
    temperature: float = 1.0,
    seed: int = 0,
    stop_id: int | None = None,
    hidden_activation: str = "tanh",
) -> list[int]:
    """Draw x<t+1> ~ softmax(o<t> / τ) and feed it back as the next input, from a<0> = 0.

    Inputs:
    - parameters: a trained model (n_x = n_y, the vocabulary size)
    - start_id: the first input token
    - length: the most tokens to draw
    - temperature: τ > 0; below 1 sharpens the distribution, above 1 flattens it
    - seed: the random seed (the same seed gives the same sample)
    - stop_id: stop after drawing this token (it is not included)
    - hidden_activation: "tanh" or "relu"

    Returns:
    - the drawn token ids, a list of at most ``length`` ints
    """
    Waa, Wax, Wya, ba, by = (parameters[k] for k in PARAMETER_NAMES)
    g1 = ACTIVATIONS[hidden_activation]
    rng = np.random.default_rng(seed)
    a = np.zeros((Waa.shape[0], 1), dtype=Waa.dtype)  # a<0> = 0
    token, drawn = start_id, []
    for _ in range(length):
        a = g1(Waa @ a + Wax[:, [token]] + ba)  # (n_a, 1); Wax x<t> is a column of Wax
        p = softmax((Wya @ a + by) / temperature).ravel()  # (n_y,)
        token = int(
            min(np.searchsorted(np.cumsum(p), rng.random() * p.sum(), side="right"), len(p) - 1)
        )
        if token == stop_id:
            break
        drawn.append(token)
    return drawn


def perplexity(loss: float, T_x: int) -> float:
    """exp(L / T_x): the effective number of equally likely next tokens (n_y for a uniform guess).

    Inputs:
    - loss: the loss summed over T_x steps and averaged over m
    - T_x: the number of steps

    Returns:
    - the perplexity, a float ≥ 1
    """
    return float(np.exp(loss / T_x))
