"""Hidden checks: randomised cases, a strict reading of the student's results, and feedback that
names the mistake.

One table, :data:`EXERCISES`, holds the course's 16 graded functions. For each exercise:

- ``make_cases(name, rng)`` draws fresh cases (shapes and values from ``rng``): plain data only
  (dicts, lists, tuples, numpy arrays, str, int, float, None), so a case can cross a process
  boundary (see :mod:`graders.wire`);
- ``call(name, fn, case)`` runs the student's ``fn`` on a case and reads its result strictly into a
  dict of named float64 / int64 arrays (or ``{"__error__": message}``); it never raises for an
  Exception of the student's code and never trusts an object it did not check. It lives in
  :mod:`graders.calls` (re-exported here), the only part of the checks the child process gets;
- ``compare(name, case, outputs)`` checks those outputs against rnnlib (types, then shapes, then
  values with a tolerance relative to scale) and, when they are wrong, tries the known mistakes
  and names the one that matches, in the student's terms.

The grading process uses them across a process boundary::

    cases = make_cases(name, rng)                        # parent
    outputs = [call(name, fn, case) for case in cases]   # isolated child (needs no reference)
    verdict = check(name, cases, outputs)                # parent: Verdict(passed, message)

and in a notebook's hidden test cell, :func:`run_hidden_checks` does all three in the kernel.

Contract across the boundary: ``outputs`` is ``{output name: float64/int64 ndarray}`` (plus
``"__mutated__": argument name`` when an input was changed in place), or
``{"__error__": message}``; compare() re-checks all of it, so a forged dict never passes.
call() uses no reference implementation, so the child runs with graders/calls.py and not this
module (its mutants compute right answers too), next to an rnnlib whose exercises under grade raise
(graders/stubs.py). The student's function gets plain ndarrays only: a dense one-hot array where the
exercise takes one-hot input, integer ids only where its docstring promises them (labels ``y``,
``start_id``), so any correct numpy form of the answer passes.
sample() is compared exactly: draws from ``np.random.default_rng(seed)`` (``rng.choice(n, p=p)``
or ``rng.random()`` against the cumulative sum) or from ``np.random.seed(seed)`` both count.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import rnnlib
from graders.calls import (
    AFTER,
    GRADS,
    PARAMS,
    READERS,
    Case,
    Outputs,
    Reader,
    _call,
    _changed,
    _test_function,
    bounded,
    mutated_argument,
)
from graders.calls import call as call  # re-exported: checks.call is the public name
from rnnlib.forward import relu, sigmoid
from rnnlib.loss import softmax

RTOL = 1e-6  # relative tolerance per entry (float64 rounding is ~1e-16)
ATOL = 1e-9  # absolute tolerance, as a fraction of the output's largest magnitude


@dataclass(frozen=True)
class Verdict:
    """The result of checking one case (or all cases) of an exercise."""

    passed: bool
    message: str
    mistake: str | None = None  # key of the recognised mistake, None if not recognised


# ---------------------------------------------------------------------------------------------
# Case generators (run in the grading process; rnnlib builds caches for the backward exercises)
# ---------------------------------------------------------------------------------------------


def _sizes(rng: np.random.Generator, k: int, low: int = 2, high: int = 8) -> list[int]:
    """k distinct sizes in [low, high]: distinct sizes make a transposed result a shape error."""
    return [int(v) for v in rng.choice(np.arange(low, high + 1), size=k, replace=False)]


def _parameters(rng: np.random.Generator, n_a: int, n_x: int, n_y: int) -> dict[str, np.ndarray]:
    """Weights large enough that tanh and relu differ, biases clearly non-zero."""
    return {
        "Waa": rng.normal(0, 0.6, (n_a, n_a)),
        "Wax": rng.normal(0, 0.8, (n_a, n_x)),
        "Wya": rng.normal(0, 0.8, (n_y, n_a)),
        "ba": rng.normal(0, 0.5, (n_a, 1)),
        "by": rng.normal(0, 0.5, (n_y, 1)),
    }


def _onehot(ids: np.ndarray, n: int) -> np.ndarray:
    """Dense one-hot of integer ids (shape ids.shape) along a new first axis of size n."""
    return (np.arange(n).reshape((n,) + (1,) * ids.ndim) == ids[None]).astype(np.float64)


_SHOWN_OPTIONS = ("hidden_activation", "output_activation", "truncate", "temperature", "epsilon")


def _case(args: list, kwargs: dict, dims: dict, note: str = "") -> Case:
    label = ", ".join(f"{k}={v}" for k, v in dims.items())
    options = ", ".join(f"{k}={v!r}" for k, v in kwargs.items() if k in _SHOWN_OPTIONS)
    label = "; ".join(part for part in (label, options, note) if part)
    return {
        "args": args,
        "kwargs": kwargs,
        "dims": dims,
        "label": label,
    }


# (hidden_activation, output_activation, special) for the forward family; None = the default
_FORWARD_VARIANTS = [
    (None, None, ""),
    ("relu", None, ""),
    (None, "sigmoid", ""),
    ("relu", "sigmoid", "m=1"),
    ("tanh", "softmax", "repeated"),
    (None, None, "square"),
    ("relu", "softmax", "T=1"),
]


def _forward_cases(rng: np.random.Generator, kind: str) -> list[Case]:
    """Cases for rnn_cell_forward ("cell"), rnn_forward ("seq"), rnn_cell_forward_stacked."""
    cases = []
    for g1, g2, special in _FORWARD_VARIANTS:
        if special == "T=1" and kind != "seq":
            continue
        n_x, n_a, n_y, m, T_x = _sizes(rng, 5)
        if special == "m=1":
            m = 1
        if special == "square":
            n_x = n_a  # so Waa and Wax can be confused without a shape error
        if special == "T=1":
            T_x = 1
        kwargs = {k: v for k, v in (("hidden_activation", g1), ("output_activation", g2)) if v}
        p = _parameters(rng, n_a, n_x, n_y)
        # x is one-hot, as the docstrings say: a dense (n_x, m, T_x) array of 0s and 1s
        high = 2 if special == "repeated" else n_x  # "repeated": a few tokens, used again and again
        x = _onehot(rng.integers(0, high, (m, T_x)), n_x)
        note = "x one-hot, a few tokens repeated" if special == "repeated" else ""
        a0 = rng.normal(0, 0.8, (n_a, m))
        if kind == "seq":
            dims = {"n_x": n_x, "n_a": n_a, "n_y": n_y, "m": m, "T_x": T_x}
            cases.append(_case([x, a0, p], kwargs, dims, note))
            continue
        xt = x[..., 0]  # (n_x, m)
        dims = {"n_x": n_x, "n_a": n_a, "n_y": n_y, "m": m}
        if kind == "cell":
            cases.append(_case([xt, a0, p], kwargs, dims, note))
        else:
            Wa = np.concatenate([p["Waa"], p["Wax"]], axis=1)
            cases.append(_case([xt, a0, Wa, p["ba"], p["Wya"], p["by"]], kwargs, dims))
    return cases


def _stack_weights_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n_a, n_x in (_sizes(rng, 2), _sizes(rng, 2), (1, int(rng.integers(2, 6)))):
        Waa, Wax = rng.normal(0, 1, (n_a, n_a)), rng.normal(0, 1, (n_a, n_x))
        cases.append(_case([Waa, Wax], {}, {"n_a": n_a, "n_x": n_x}))
    return cases


def _split_weights_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n_a, n_x in (_sizes(rng, 2), _sizes(rng, 2), (int(rng.integers(2, 6)), 1)):
        Wa = rng.normal(0, 1, (n_a, n_a + n_x))
        cases.append(_case([Wa, n_a], {}, {"n_a": n_a, "n_x": n_x}))
    return cases


def _stack_inputs_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n_a, n_x, m in (_sizes(rng, 3), _sizes(rng, 3), (*_sizes(rng, 2), 1)):
        a_prev = rng.normal(0, 1, (n_a, m))
        xt = _onehot(rng.integers(0, n_x, m), n_x) if m > 1 else rng.normal(0, 1, (n_x, m))
        cases.append(_case([a_prev, xt], {}, {"n_a": n_a, "n_x": n_x, "m": m}))
    return cases


def _softmax_cases(rng: np.random.Generator) -> list[Case]:
    n_y, m, T_x = _sizes(rng, 3)
    return [
        _case([rng.normal(0, 2, (n_y, m))], {}, {"n_y": n_y, "m": m}),
        _case([rng.normal(0, 2, (n_y, m, T_x))], {}, {"n_y": n_y, "m": m, "T_x": T_x}),
        _case([rng.normal(0, 1, (n_y, 1))], {}, {"n_y": n_y, "m": 1}),
        _case([rng.uniform(-1e4, 1e4, (n_y, m))], {}, {"n_y": n_y, "m": m}, "logits up to ±1e4"),
    ]


def _cross_entropy_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for note in ("labels", "labels, one step", "labels, m=1", "0/1 targets"):
        n_y, m, T_x = _sizes(rng, 3)
        m = 1 if note.endswith("m=1") else m
        shape = (n_y, m) if note.endswith("one step") else (n_y, m, T_x)
        if note == "0/1 targets":
            y_pred = sigmoid(rng.normal(0, 1.5, shape))
            y = (rng.random(shape) < 0.5).astype(np.float64)
        else:
            y_pred = softmax(rng.normal(0, 1.5, shape))
            y = rng.integers(0, n_y, shape[1:])
        dims = {"n_y": n_y, "m": m} if len(shape) == 2 else {"n_y": n_y, "m": m, "T_x": T_x}
        cases.append(_case([y_pred, y], {}, dims, note))
    return cases


def _caches(
    rng: np.random.Generator,
    n_x: int,
    n_a: int,
    m: int,
    T_x: int,
    g1: str,
    radius: float | None = None,
) -> tuple[list[tuple], dict]:
    """rnnlib's forward pass on random inputs: the caches as plain tuples, and the parameters."""
    p = _parameters(rng, n_a, n_x, 2)
    if radius is not None:
        p["Waa"] = rnnlib.with_spectral_radius(p["Waa"], radius)
    x = rng.normal(0, 1, (n_x, m, T_x))
    a0 = rng.normal(0, 0.8, (n_a, m))
    _, _, caches = rnnlib.rnn_forward(x, a0, p, hidden_activation=g1)
    plain = [
        (
            c[0].copy(),
            np.array(c[1], copy=True),
            np.array(c[2], copy=True),
            {k: v.copy() for k, v in c[3].items()},
            c[4],
        )
        for c in caches
    ]
    return plain, p


def _cell_backward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for g1, m1 in (("tanh", False), ("relu", False), ("tanh", True), ("relu", True)):
        n_x, n_a, m = _sizes(rng, 3)
        m = 1 if m1 else m
        caches, _ = _caches(rng, n_x, n_a, m, 1, g1)
        da_next = rng.normal(0, 1, (n_a, m))
        dims = {"n_x": n_x, "n_a": n_a, "m": m}
        cases.append(_case([da_next, caches[0]], {}, dims, f"hidden_activation={g1!r}"))
    return cases


def _rnn_backward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for g1, special in (("tanh", ""), ("relu", ""), ("tanh", "m=1"), ("tanh", "T=1")):
        n_x, n_a, m, T_x = _sizes(rng, 4)
        m = 1 if special == "m=1" else m
        T_x = 1 if special == "T=1" else T_x
        caches, _ = _caches(rng, n_x, n_a, m, T_x, g1)
        da = rng.normal(0, 1, (n_a, m, T_x))
        dims = {"n_x": n_x, "n_a": n_a, "m": m, "T_x": T_x}
        cases.append(_case([da, caches], {}, dims, f"hidden_activation={g1!r}"))
    return cases


def _numerical_gradient_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    a, b, c, d = _sizes(rng, 4, 2, 6)
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
        args: list = [spec, theta]
        kwargs: dict = {}
        if epsilon is not None:
            kwargs["epsilon"] = epsilon
        if entries:
            kwargs["entries"] = rng.choice(n, size=max(1, n // 2), replace=False)
        note = f"theta shape {shape}" + (", some entries" if entries else "")
        cases.append(_case(args, kwargs, {}, note))
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
        n_x, n_a, n_y, m, T_x = _sizes(rng, 5)
        m = 1 if special == "m=1" else m
        T_x = 1 if special == "T=1" else max(T_x, 4)
        p = _parameters(rng, n_a, n_x, n_y)
        high = 2 if special == "repeated" else n_x
        x = _onehot(rng.integers(0, high, (m, T_x)), n_x)  # one-hot (n_x, m, T_x)
        if kwargs.get("output_activation") == "sigmoid":
            y = (rng.random((n_y, m, T_x)) < 0.5).astype(np.float64)
        else:
            y = rng.integers(0, n_y, (m, T_x))
        a0 = rng.normal(0, 0.5, (n_a, m))
        dims = {"n_x": n_x, "n_a": n_a, "n_y": n_y, "m": m, "T_x": T_x}
        note = "x one-hot, a few tokens repeated" if special == "repeated" else ""
        cases.append(_case([x, y, a0, p], kwargs, dims, note))
    return cases


def _gradients(rng: np.random.Generator, p: dict, scale: float) -> dict[str, np.ndarray]:
    return {"d" + k: rng.normal(0, scale, v.shape) for k, v in p.items()}


def _sgd_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for lr in (0.1, float(rng.uniform(0.01, 0.5)), 1.0):
        n_x, n_a, n_y = _sizes(rng, 3)
        p = _parameters(rng, n_a, n_x, n_y)
        dims = {"n_x": n_x, "n_a": n_a, "n_y": n_y}
        cases.append(_case([p, _gradients(rng, p, 1.0), lr], {}, dims, f"learning_rate={lr:.3g}"))
    return cases


def _clip_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for note in ("norm above max_norm", "norm below max_norm", "with da0, norm above max_norm"):
        n_x, n_a, n_y, m = _sizes(rng, 4)
        g = _gradients(rng, _parameters(rng, n_a, n_x, n_y), float(rng.uniform(0.5, 3)))
        if "da0" in note:
            g["da0"] = rng.normal(0, 5, (n_a, m))
        norm = float(np.sqrt(sum(np.sum(g[k] ** 2) for k in GRADS)))
        c = norm * (0.3 if "above" in note else 2.0)
        cases.append(_case([g, c], {}, {"n_x": n_x, "n_a": n_a, "n_y": n_y}, note))
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
        n, n_a = _sizes(rng, 2, 4, 9)
        p = _parameters(rng, n_a, n, n)
        p["Wya"] *= 2.5  # a peaked distribution, so temperature matters
        start, length = int(rng.integers(0, n)), int(rng.integers(6, 12))
        kwargs = {**kwargs, "seed": int(rng.integers(0, 2**31))}
        if "stop_id" in kwargs:  # stop at a token that the sample really draws
            free = rnnlib.sample(
                p, start, length, **{k: v for k, v in kwargs.items() if k != "stop_id"}
            )
            kwargs["stop_id"] = int(free[len(free) // 2])
        cases.append(_case([p, start, length], kwargs, {"n_x": n, "n_a": n_a}))
    return cases


def _backprop_norms_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for g1, radius, special in (
        ("tanh", 0.7, ""),
        ("tanh", 1.5, ""),
        ("relu", 1.2, ""),
        ("relu", 0.9, "m=1"),
        ("tanh", 1.0, "T=1"),
    ):
        n_x, n_a, m = _sizes(rng, 3, 3, 8)
        m = 1 if special == "m=1" else m
        T_x = 1 if special == "T=1" else int(rng.integers(4, 9))
        caches, _ = _caches(rng, n_x, n_a, m, T_x, g1, radius)
        da_next = rng.normal(0, 1, (n_a, m))
        dims = {"n_a": n_a, "m": m, "T_x": T_x}
        note = f"hidden_activation={g1!r}, spectral radius of Waa {radius}"
        cases.append(_case([da_next, caches], {}, dims, note))
    return cases


# ---------------------------------------------------------------------------------------------
# Reference outputs (rnnlib) and comparison
# ---------------------------------------------------------------------------------------------


def _expected(name: str, case: Case) -> Outputs:
    """rnnlib's outputs for ``case``, read with the same reader as the student's."""
    ex = EXERCISES[name]
    args, kwargs = copy.deepcopy(case["args"]), copy.deepcopy(case["kwargs"])
    if name == "numerical_gradient":
        args[0] = _test_function(args[0])
    return ex.read(ex.reference(*args, **kwargs), case, name)


def _close(got: np.ndarray, ref: np.ndarray) -> bool:
    """Same shape and |got - ref| <= RTOL |ref| + ATOL max|ref| everywhere; ints exactly equal."""
    if got.shape != ref.shape:
        return False
    if ref.dtype.kind in "iu" or got.dtype.kind in "iu":
        return bool(np.array_equal(got, ref))
    if not np.isfinite(ref).all():
        return bool(np.array_equal(got, ref, equal_nan=True))
    if not np.isfinite(got).all():
        return False
    scale = max(float(np.max(np.abs(ref))) if ref.size else 0.0, 1e-3)
    return bool(np.all(np.abs(got - ref) <= RTOL * np.abs(ref) + ATOL * scale))


def _all_close(outputs: Outputs, expected: Outputs) -> bool:
    return all(
        _close(outputs[k], np.asarray(v, dtype=outputs[k].dtype)) for k, v in expected.items()
    )


def _symbolic(symbols: tuple[str, ...], dims: dict) -> str:
    values = []
    for s in symbols:
        values.append(sum(dims.get(p.strip(), 0) for p in s.split("+")) if s != "1" else 1)
    return f"({', '.join(symbols)}) = {tuple(values)}"


def _shape_message(
    key: str, got: tuple, ref: tuple, symbols: tuple[str, ...] | None, dims: dict
) -> str:
    expected = _symbolic(symbols, dims) if symbols else str(ref)
    text = f"{key} has shape {got}, expected {expected}"
    if len(got) != len(ref):
        return f"{text}: {len(got)} axes instead of {len(ref)}"
    if sorted(got) == sorted(ref):
        return f"{text}: axes swapped (transposed)?"
    wrong = [i for i in range(len(ref)) if got[i] != ref[i]]
    axis = wrong[0]
    what = f"{symbols[axis]} = {ref[axis]}" if symbols else str(ref[axis])
    return f"{text}: axis {axis} should be {what}"


def _value_message(key: str, got: np.ndarray, ref: np.ndarray) -> str:
    if not np.isfinite(got).all() and np.isfinite(ref).all():
        return f"{key} contains NaN or inf where the expected values are finite"
    if ref.dtype.kind in "iu":
        diff = np.flatnonzero(got.reshape(-1) != ref.reshape(-1))
        return f"{key} differs from the expected values, first at position {int(diff[0])}"
    err = np.abs(got - ref)
    worst = np.unravel_index(int(np.argmax(err)), ref.shape) if ref.ndim else ()
    rel = float(err.max() / max(float(np.max(np.abs(ref))), 1e-300))
    where = f" (worst at index {tuple(int(i) for i in worst)})" if ref.ndim else ""
    return (
        f"{key} has wrong values: largest error {float(err.max()):.3g}{where}, "
        f"{rel:.2g} relative to its largest entry"
    )


def _structure_error(name: str, outputs: Any, expected: Outputs) -> str | None:
    """Why ``outputs`` (possibly from an untrusted process) is not a dict of the right arrays."""
    if type(outputs) is not dict:
        return f"{name}: no result (the grader got a {type(outputs).__name__})"
    if "__error__" in outputs:
        error = outputs["__error__"]
        # the text may come from the student's process: short, no long numbers (no inputs)
        return bounded(error) if type(error) is str else f"{name}: failed"
    for key, ref in expected.items():
        got = outputs.get(key)
        if type(got) is not np.ndarray or got.dtype != ref.dtype:
            return f"{name}: output {key} is missing or of the wrong type"
    return None


def compare(name: str, case: Case, outputs: Outputs) -> Verdict:
    """Check the outputs of the student's function on ``case`` against rnnlib.

    Args:
        name: the exercise; case: one case of make_cases; outputs: what call() returned

    Returns:
        Verdict(passed, message, mistake): the message names the first wrong output and, where
        one of the known mistakes reproduces the student's outputs, that mistake.
    """
    ex = EXERCISES[name]
    expected = _expected(name, case)
    error = _structure_error(name, outputs, expected)
    if error is not None:
        return Verdict(False, error)
    wrong = [k for k in expected if not _close(outputs[k], expected[k])]
    if wrong and any(_all_close(outputs, alt(case)) for alt in ex.accept):
        wrong = []
    if not wrong:
        mutated = outputs.get("__mutated__")
        if mutated is not None:
            return Verdict(
                False,
                f"{name} changed its argument {str(mutated)[:80]} in place: "
                "compute new arrays and leave the inputs unchanged",
                "mutated_input",
            )
        return Verdict(True, "ok")
    for mistake in ex.mistakes:
        try:
            with np.errstate(all="ignore"):  # a mutant may overflow: no warnings in the notebook
                matched = mistake.detect(case, expected, outputs)
        except Exception:  # noqa: BLE001 - a mistake that cannot happen on this case
            matched = False
        if matched:
            return Verdict(False, mistake.message, mistake.key)
    key = wrong[0]
    got, ref = outputs[key], expected[key]
    if got.shape != ref.shape:
        return Verdict(
            False, _shape_message(key, got.shape, ref.shape, ex.shapes.get(key), case["dims"])
        )
    return Verdict(False, _value_message(key, got, ref))


def judge_mutation(name: str, cases: list[Case], outputs: Any) -> Any:
    """The outside check's outputs with the in-place-mutation verdict made here, in the grading
    process: whatever "__mutated__" the child claims is dropped, and each case's arguments as the
    child's call left them (graders.calls.call_for_parent, under AFTER) are compared with
    ``cases``, the inputs this process sent. A result without its arguments is a failure.
    Anything not a list of dicts is returned as it is (check() rejects it)."""
    if type(outputs) is not list or len(outputs) != len(cases):
        return outputs
    judged: list[Any] = []
    for case, out in zip(cases, outputs, strict=True):
        if type(out) is not dict:
            judged.append(out)
            continue
        after = out.get(AFTER)
        out = {k: v for k, v in out.items() if k not in ("__mutated__", AFTER)}
        if "__error__" not in out:
            if type(after) is not dict:
                out = {"__error__": f"{name}: the outside check got no arguments back to compare"}
            else:
                mutated = mutated_argument(name, case, after.get("args"))
                if mutated is None and _changed(case["kwargs"], after.get("kwargs")):
                    mutated = "a keyword argument"
                if mutated is not None:
                    out["__mutated__"] = mutated
        judged.append(out)
    return judged


def check(name: str, cases: list[Case], outputs: list[Outputs]) -> Verdict:
    """The verdict over all cases: passed if every case passed, else the most telling failure.

    A failure whose mistake was recognised is preferred over an unrecognised one; the message
    starts with the case's shapes and options.
    """
    if type(outputs) is not list or len(outputs) != len(cases):
        return Verdict(False, f"{name}: the grader got no result for some hidden tests")
    failures = []
    for case, out in zip(cases, outputs, strict=True):
        verdict = compare(name, case, out)
        if not verdict.passed:
            failures.append((case, verdict))
    if not failures:
        return Verdict(True, f"{name}: passed {len(cases)} hidden tests")
    case, verdict = _most_telling(failures)
    return Verdict(False, _case_message(name, case, verdict), verdict.mistake)


def _most_telling(failures: list[tuple[Case, Verdict]]) -> tuple[Case, Verdict]:
    for case, verdict in failures:
        if verdict.mistake is not None:
            return case, verdict
    return failures[0]


def _case_message(name: str, case: Case, verdict: Verdict) -> str:
    return f"{name}, hidden test with {case['label']}: {verdict.message}"


def run_hidden_checks(name: str, fn: Callable[..., Any], seed: int | None = None) -> None:
    """In-kernel hidden test: fresh random cases against rnnlib; AssertionError on a failure.

    Args:
        name: the exercise (a key of EXERCISES)
        fn: the student's function
        seed: None draws fresh randomness from os.urandom (a fixed seed reproduces the cases)

    Raises:
        AssertionError whose message names the case's shapes/options and the mistake.
    """
    if seed is None:
        seed = int.from_bytes(os.urandom(8), "little")
    cases = make_cases(name, np.random.default_rng(seed))
    failures = []
    for case in cases:
        outputs, exc = _call(name, fn, case)
        verdict = compare(name, case, outputs)
        if not verdict.passed:
            failures.append((case, verdict, exc))
    if failures:
        case, verdict = _most_telling([(c, v) for c, v, _ in failures])
        exc = next(e for c, v, e in failures if c is case)
        raise AssertionError(_case_message(name, case, verdict)) from exc


def make_cases(name: str, rng: np.random.Generator) -> list[Case]:
    """Randomised cases for exercise ``name``: shapes and values drawn from ``rng``.

    Returns:
        list of cases, each {"args": [...], "kwargs": {...}, "dims": {...}, "label": str};
        plain data only (the arguments are the plain ndarrays the student's function gets).
    """
    return EXERCISES[name].cases(rng)


# ---------------------------------------------------------------------------------------------
# Known mistakes: small mutant implementations, each computing what a typical error returns
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mistake:
    """A typical mistake: ``detect(case, expected, outputs)`` says whether the outputs show it."""

    key: str
    message: str
    detect: Callable[[Case, Outputs, Outputs], bool]


def _matches(outputs: Outputs, mutant: Outputs | None, expected: Outputs) -> bool:
    """The student's outputs equal the mutant's on every key it returns, and it is not right."""
    if not mutant or not any(np.any(np.asarray(v) != 0) for v in mutant.values()):
        return False  # not applicable, or all zeros: that says nothing about the mistake
    if all(_close(np.asarray(mutant[k], dtype=expected[k].dtype), expected[k]) for k in mutant):
        return False  # on this case the mistake makes no difference
    return all(_close(outputs[k], np.asarray(mutant[k], dtype=expected[k].dtype)) for k in mutant)


def _mutant(key: str, message: str, fn: Callable[[Case], Outputs | None]) -> Mistake:
    return Mistake(key, message, lambda case, exp, out: _matches(out, fn(case), exp))


_G1 = {"tanh": np.tanh, "relu": relu, "identity": lambda z: z}


def _g2(kind: str, o: np.ndarray) -> np.ndarray:
    if kind == "softmax":
        return softmax(o)
    if kind == "sigmoid":
        return sigmoid(o)
    if kind == "softmax_axis1":
        return softmax(o.T).T
    if kind == "softmax_all":
        e = np.exp(o - o.max())
        return e / e.sum()
    return o  # identity


def _forward_inputs(name: str, case: Case) -> tuple:
    """(x dense (n_x, m, T_x), a0, parameters, g1, g2) of a forward-family case."""
    args, kw = case["args"], case["kwargs"]
    g1, g2 = kw.get("hidden_activation", "tanh"), kw.get("output_activation", "softmax")
    x = args[0]
    if name == "rnn_cell_forward_stacked":
        Wa, ba, Wya, by = args[2:6]
        n_a = Wa.shape[0]
        p = {"Waa": Wa[:, :n_a], "Wax": Wa[:, n_a:], "Wya": Wya, "ba": ba, "by": by}
    else:
        p = args[2]
    if name != "rnn_forward":
        x = x[:, :, None]
    return x, args[1], p, g1, g2


def _forward_variant(name: str, case: Case, **flags: Any) -> Outputs | None:
    """The forward pass of a forward-family case, with one mistake switched on by ``flags``."""
    x, a0, p, g1, g2 = _forward_inputs(name, case)
    Waa, Wax, Wya, ba, by = (p[k] for k in PARAMS)
    n_a, n_x = Wax.shape
    G1 = _G1[flags.get("g1", g1)]
    g2 = flags.get("g2", g2)
    A, Y = [], []
    a_prev = a0
    for t in range(x.shape[2]):
        xt = x[:, :, t]
        if flags.get("swap"):
            if n_a != n_x:
                return None
            z = Wax @ a_prev + Waa @ xt
        elif flags.get("stack_reversed"):
            Wa = np.concatenate([Waa, Wax], axis=1)
            z = Wa @ np.concatenate([xt, a_prev], axis=0)
        else:
            Wx = Wax.T if flags.get("transpose_wax") else Wax
            if Wx.shape[1] != n_x:
                return None
            z = (Waa.T if flags.get("transpose_waa") else Waa) @ a_prev + Wx @ xt
        a_next = G1(z + flags.get("ba_times", 1) * ba)
        y = _g2(
            g2,
            Wya @ (a_prev if flags.get("y_from_prev") else a_next) + flags.get("by_times", 1) * by,
        )
        A.append(a_prev if flags.get("state_shift") else a_next)
        Y.append(y)
        a_prev = a0 if flags.get("no_carry") else a_next
    A, Y = np.stack(A, axis=2), np.stack(Y, axis=2)
    if name == "rnn_forward":
        return {"a": A, "y_pred": Y}
    return {"a_next": A[:, :, 0], "yt_pred": Y[:, :, 0]}


def _forward_mistakes(name: str) -> tuple[Mistake, ...]:
    def variant(
        key: str, message: str, when: Callable[[str, str], bool] | None = None, **flags: Any
    ) -> Mistake:
        def fn(case: Case) -> Outputs | None:
            kw = case["kwargs"]
            g1, g2 = kw.get("hidden_activation", "tanh"), kw.get("output_activation", "softmax")
            if when is not None and not when(g1, g2):
                return None
            return _forward_variant(name, case, **flags)

        return _mutant(key, message, fn)

    softmax_asked = lambda g1, g2: g2 == "softmax"  # noqa: E731
    mistakes = [
        variant(
            "waa_wax_swapped",
            "Waa and Wax are swapped: a<t-1> is multiplied by Waa "
            "(n_a, n_a) and x<t> by Wax (n_a, n_x)",
            swap=True,
        ),
        variant(
            "waa_transposed",
            "Waa is transposed: the recurrence is Waa @ a_prev, not Waa.T @ a_prev",
            transpose_waa=True,
        ),
        variant(
            "wax_transposed", "Wax is transposed: the input term is Wax @ xt", transpose_wax=True
        ),
        variant(
            "ba_missing",
            "the bias ba is missing: a<t> = g1(Waa a<t-1> + Wax x<t> + ba)",
            ba_times=0,
        ),
        variant(
            "ba_twice",
            "the bias ba is added twice: a<t> = g1(Waa a<t-1> + Wax x<t> + ba)",
            ba_times=2,
        ),
        variant("by_missing", "the bias by is missing: ŷ<t> = g2(Wya a<t> + by)", by_times=0),
        variant("by_twice", "the bias by is added twice: ŷ<t> = g2(Wya a<t> + by)", by_times=2),
        variant(
            "tanh_for_relu",
            "tanh is used where hidden_activation='relu' asks for ReLU: "
            "apply the activation the argument names",
            lambda g1, g2: g1 == "relu",
            g1="tanh",
        ),
        variant(
            "relu_for_tanh",
            "ReLU is used where hidden_activation='tanh' asks for tanh: "
            "apply the activation the argument names",
            lambda g1, g2: g1 == "tanh",
            g1="relu",
        ),
        variant(
            "no_hidden_activation",
            "no activation is applied to the hidden state: a<t> = g1(Waa a<t-1> + Wax x<t> + ba)",
            g1="identity",
        ),
        variant(
            "sigmoid_for_softmax",
            "sigmoid is used where output_activation='softmax' asks for softmax",
            softmax_asked,
            g2="sigmoid",
        ),
        variant(
            "softmax_for_sigmoid",
            "softmax is used where output_activation='sigmoid' asks for sigmoid",
            lambda g1, g2: g2 == "sigmoid",
            g2="softmax",
        ),
        variant(
            "softmax_wrong_axis",
            "softmax is taken over the wrong axis: normalise over "
            "axis 0 (the n_y classes of each example), not over the m examples",
            softmax_asked,
            g2="softmax_axis1",
        ),
        variant(
            "softmax_all_entries",
            "softmax divides by the sum of all entries: each column "
            "(one example) must sum to 1 on its own (axis=0)",
            softmax_asked,
            g2="softmax_all",
        ),
        variant(
            "no_output_activation",
            "no output activation: ŷ<t> = g2(Wya a<t> + by), not the logits",
            g2="identity",
        ),
        variant(
            "y_from_a_prev",
            "ŷ<t> is computed from the old state a<t-1>: use the new state a<t> (a_next)",
            y_from_prev=True,
        ),
    ]
    if name == "rnn_forward":
        mistakes += [
            variant(
                "state_off_by_one",
                "off-by-one in the time index: a[:, :, t] holds a<t-1> "
                "(the state before step t); store a_next, the state after step t",
                state_shift=True,
            ),
            variant(
                "state_not_carried",
                "the hidden state is not carried from step to step: "
                "each step must start from the previous step's a_next, not from a0",
                no_carry=True,
            ),
        ]
    if name == "rnn_cell_forward_stacked":
        mistakes.append(
            variant(
                "stack_inputs_reversed",
                "Wa is applied to [x<t> ; a<t-1>]: the stacked input must "
                "be [a<t-1> ; x<t>] to match Wa = [Waa : Wax]",
                stack_reversed=True,
            )
        )
    return tuple(mistakes)


# stacking ------------------------------------------------------------------------------------

_STACK_MISTAKES = (
    _mutant(
        "stack_order_reversed",
        "the blocks are in the wrong order: Wa = [Waa : Wax], Waa's n_a columns first",
        lambda c: {"Wa": np.concatenate(c["args"][::-1], axis=1)},
    ),
)


def _split_at(k: Callable[[Case], int], swap: bool = False) -> Callable[[Case], Outputs]:
    """A mutant split_weights that splits Wa at column k(case), its results swapped or not."""

    def fn(case: Case) -> Outputs:
        Wa = case["args"][0]
        first, second = Wa[:, : k(case)], Wa[:, k(case) :]
        return {"Waa": second, "Wax": first} if swap else {"Waa": first, "Wax": second}

    return fn


_SPLIT_OFF_BY_ONE = "the split is off by one column: Waa = Wa[:, :n_a], Wax = Wa[:, n_a:]"
_SPLIT_MISTAKES = (
    _mutant(
        "split_swapped",
        "the two results are swapped: return (Waa, Wax), Waa first",
        _split_at(lambda c: c["args"][1], swap=True),
    ),
    _mutant(
        "split_at_n_x",
        "split at column n_x instead of n_a: Waa is the first n_a columns of Wa, Wax the rest",
        _split_at(lambda c: c["dims"]["n_x"]),
    ),
    _mutant("split_off_by_one", _SPLIT_OFF_BY_ONE, _split_at(lambda c: c["args"][1] + 1)),
    _mutant("split_off_by_one", _SPLIT_OFF_BY_ONE, _split_at(lambda c: c["args"][1] - 1)),
)

_STACK_INPUT_MISTAKES = (
    _mutant(
        "stack_inputs_reversed",
        "the blocks are in the wrong order: the stacked input is "
        "[a<t-1> ; x<t>], the previous state on top",
        lambda c: {"stacked": np.concatenate(c["args"][::-1], axis=0)},
    ),
)

# loss ----------------------------------------------------------------------------------------


def _softmax_variant(z: np.ndarray, kind: str) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        if kind == "naive":
            e = np.exp(z)
            return e / e.sum(axis=0, keepdims=True)
        if kind == "axis_last":
            e = np.exp(z - z.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)
        if kind == "axis1":
            e = np.exp(z - z.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        if kind == "all":
            e = np.exp(z - z.max())
            return e / e.sum()
        return sigmoid(z)


def _softmax_mutant(kind: str) -> Callable[[Case], Outputs]:
    return lambda c: {"softmax": _softmax_variant(c["args"][0], kind)}


_SOFTMAX_MISTAKES = (
    _mutant(
        "softmax_overflow",
        "softmax overflows for large logits (e^z is inf beyond z ≈ 709, "
        "inf/inf is NaN): subtract each column's maximum before exp",
        _softmax_mutant("naive"),
    ),
    _mutant(
        "softmax_wrong_axis",
        "softmax is taken over the wrong axis: normalise over axis 0, the n_y classes",
        _softmax_mutant("axis1"),
    ),
    _mutant(
        "softmax_wrong_axis",
        "softmax is taken over the wrong axis: normalise over axis 0, the n_y classes",
        _softmax_mutant("axis_last"),
    ),
    _mutant(
        "softmax_all_entries",
        "softmax divides by the sum of all entries: each column must "
        "sum to 1 on its own (sum over axis=0 with keepdims=True)",
        _softmax_mutant("all"),
    ),
    _mutant(
        "sigmoid_for_softmax",
        "this is the sigmoid, not softmax: softmax(z)_i = e^z_i / Σ_k e^z_k over axis 0",
        _softmax_mutant("sigmoid"),
    ),
)


def _cross_entropy_variant(case: Case, kind: str) -> Outputs | None:
    y_pred, y = case["args"]
    m = y_pred.shape[1]
    T = y_pred.shape[2] if y_pred.ndim == 3 else 1
    if y.dtype.kind == "f":  # 0/1 targets
        if kind == "no_negative_term":
            return {"loss": -np.sum(y * np.log(y_pred)) / m}
        terms = -(y * np.log(y_pred) + (1 - y) * np.log(1 - y_pred))
    else:
        p_true = np.take_along_axis(y_pred, y[None], axis=0)[0]  # (m[, T_x])
        terms = -np.log(p_true)
        if kind == "all_classes":
            return {"loss": -np.sum(np.log(y_pred)) / m}
        if kind == "swapped_index":  # ŷ[j, y_j]: example and class indices exchanged
            if y_pred.ndim != 2 or y.max() >= m or m > y_pred.shape[0]:
                return None
            return {"loss": -np.sum(np.log(y_pred[np.arange(m), y])) / m}
    total = float(np.sum(terms))
    return {
        "loss": {
            "mean_time": total / (m * T),
            "no_mean": total,
            "sign": -total / m,
            "mean_all": total / terms.size,
        }.get(kind)
    }


def _ce_mutant(key: str, message: str, kind: str) -> Mistake:
    def fn(case: Case) -> Outputs | None:
        out = _cross_entropy_variant(case, kind)
        return None if out is None or out["loss"] is None else out

    return _mutant(key, message, fn)


_CROSS_ENTROPY_MISTAKES = (
    _ce_mutant(
        "loss_mean_over_time",
        "the loss is averaged over time steps instead of summed: "
        "L = -(1/m) Σ_t Σ_j log ŷ<t>[y_j<t>, j]",
        "mean_time",
    ),
    _ce_mutant(
        "loss_missing_1_over_m",
        "the 1/m is missing: the loss is summed over time and averaged over the m examples",
        "no_mean",
    ),
    _ce_mutant("loss_sign", "the sign is wrong: the loss is minus the log-likelihood", "sign"),
    _ce_mutant(
        "loss_mean_all",
        "the loss is averaged over every entry: sum over time steps "
        "(and output units), divide by m only",
        "mean_all",
    ),
    _ce_mutant(
        "loss_all_classes",
        "log ŷ is summed over every class: take only the probability of the true class y",
        "all_classes",
    ),
    _ce_mutant(
        "loss_wrong_class",
        "the log of the wrong entry is taken: the true class of "
        "example j is ŷ[y[j], j] (class first, then example)",
        "swapped_index",
    ),
    _ce_mutant(
        "bce_missing_term",
        "the (1 − y) log(1 − ŷ) term of the binary cross-entropy is missing",
        "no_negative_term",
    ),
)

# backpropagation -----------------------------------------------------------------------------


def _derivative(kind: str, g1: str, a_next: np.ndarray, a_prev: np.ndarray) -> np.ndarray:
    """g1'(z) as a mistake computes it (kind "right": the correct one, from a = g1(z))."""
    right = 1 - a_next**2 if g1 == "tanh" else (a_next > 0).astype(np.float64)
    return {
        "right": right,
        "tanh_of_a": 1 - np.tanh(a_next) ** 2,
        "one_minus_a": 1 - a_next,
        "none": np.ones_like(a_next),
        "at_a_prev": 1 - a_prev**2 if g1 == "tanh" else (a_prev > 0).astype(np.float64),
        "other": (a_next > 0).astype(np.float64) if g1 == "tanh" else 1 - a_next**2,
    }[kind]


_DERIVATIVE_MISTAKES = (
    (
        "tanh_of_a",
        "the tanh derivative is written as 1 - tanh(a)²: a_next is already tanh(z), "
        "so g1'(z) = 1 - a_next²",
        "tanh",
    ),
    (
        "one_minus_a",
        "the tanh derivative is written as 1 - a: it is 1 - a² (a_next squared)",
        "tanh",
    ),
    ("none", "the activation's derivative g1'(z) is missing from dz = da ⊙ g1'(z)", None),
    ("at_a_prev", "g1'(z) is evaluated at a<t-1>: use this step's state a_next = a<t>", None),
    (
        "other",
        "the derivative of the wrong activation is used: tanh' = 1 - a², "
        "relu' = [a > 0], as hidden_activation says",
        None,
    ),
)


def _cell_backward_variant(da_next: np.ndarray, cache: tuple, **flags: Any) -> Outputs:
    a_next, a_prev, xt, p, g1 = cache
    dz = da_next * _derivative(flags.get("deriv", "right"), g1, a_next, a_prev)  # (n_a, m)
    dba = {
        "sum1": dz.sum(axis=1, keepdims=True),
        "none": dz,
        "sum0": dz.sum(axis=0, keepdims=True),
    }[flags.get("dba", "sum1")]
    return {
        "dxt": p["Wax"].T @ dz,
        "da_prev": (p["Waa"] if flags.get("waa_not_transposed") else p["Waa"].T) @ dz,
        "dWax": dz @ np.asarray(xt).T,
        "dWaa": dz @ (a_next if flags.get("dwaa_a_next") else a_prev).T,
        "dba": dba,
    }


def _uses(case: Case, g1: str | None) -> bool:
    """The case's hidden activation is g1 (None: any)."""
    cache = case["args"][1][0] if type(case["args"][1]) is list else case["args"][1]
    return g1 is None or cache[4] == g1


def _cell_backward_mistakes() -> tuple[Mistake, ...]:
    def variant(
        key: str, message: str, keys: tuple[str, ...] | None, g1: str | None = None, **flags: Any
    ) -> Mistake:
        def fn(case: Case) -> Outputs | None:
            if not _uses(case, g1):
                return None
            out = _cell_backward_variant(*case["args"], **flags)
            return {k: out[k] for k in keys} if keys else out

        return _mutant(key, message, fn)

    return (
        *(
            variant("derivative_" + kind, msg, None, g1, deriv=kind)
            for kind, msg, g1 in _DERIVATIVE_MISTAKES
        ),
        variant(
            "waa_not_transposed",
            "da_prev must be Waaᵀ dz (the transpose of Waa)",
            ("da_prev",),
            waa_not_transposed=True,
        ),
        variant(
            "dba_not_summed",
            "dba must be summed over the m examples: dz.sum(axis=1, keepdims=True), shape (n_a, 1)",
            ("dba",),
            dba="none",
        ),
        variant(
            "dba_wrong_axis",
            "dba is summed over the wrong axis: sum dz over the examples (axis=1, keepdims=True)",
            ("dba",),
            dba="sum0",
        ),
        variant(
            "dwaa_uses_a_next",
            "dWaa = dz a<t-1>ᵀ uses a_next: use a_prev, the state that Waa multiplied",
            ("dWaa",),
            dwaa_a_next=True,
        ),
    )


def _rnn_backward_variant(case: Case, **flags: Any) -> Outputs:
    da, caches = case["args"]
    n_a, m, T_x = da.shape
    n_x = caches[0][3]["Wax"].shape[1]
    out = {
        "dx": np.zeros((n_x, m, T_x)),
        "da0": np.zeros((n_a, m)),
        "dWax": 0.0,
        "dWaa": 0.0,
        "dba": 0.0,
    }
    carried = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        cache = {"reversed": caches[T_x - 1 - t], "shifted": caches[t - 1]}.get(
            flags.get("caches"), caches[t]
        )
        step = _cell_backward_variant(
            da[:, :, t] + (0 if flags.get("no_carry") else carried), cache, **flags
        )
        out["dx"][:, :, t] = step["dxt"]
        keep = {"first": t == 0, "last": t == T_x - 1}.get(flags.get("only"), True)
        for k in ("dWax", "dWaa", "dba"):
            if flags.get("only") is None:
                out[k] = out[k] + step[k]
            elif keep:
                out[k] = step[k]
        carried = step["da_prev"]
    out["da0"] = carried
    return out


def _rnn_backward_mistakes() -> tuple[Mistake, ...]:
    def variant(
        key: str, message: str, keys: tuple[str, ...] | None, g1: str | None = None, **flags: Any
    ) -> Mistake:
        def fn(case: Case) -> Outputs | None:
            if not _uses(case, g1):
                return None
            out = _rnn_backward_variant(case, **flags)
            return {k: out[k] for k in keys} if keys else out

        return _mutant(key, message, fn)

    shared = ("dWax", "dWaa", "dba")
    return (
        variant(
            "not_carried",
            "the gradient from a<t+1> is not carried into a<t>: step t gets "
            "da[:, :, t] + da_prev (the da_prev of step t+1)",
            None,
            no_carry=True,
        ),
        variant(
            "not_summed_over_time",
            "the gradients of the shared weights are not summed over "
            "time steps: add (+=) each step's dWax, dWaa, dba",
            shared,
            only="first",
        ),
        variant(
            "not_summed_over_time",
            "the gradients of the shared weights are not summed over "
            "time steps: add (+=) each step's dWax, dWaa, dba",
            shared,
            only="last",
        ),
        variant(
            "time_index",
            "off-by-one in the time index: step t must use caches[t], the cache of that step",
            None,
            caches="reversed",
        ),
        variant(
            "time_index",
            "off-by-one in the time index: step t must use caches[t], not caches[t - 1]",
            None,
            caches="shifted",
        ),
        *(
            variant("derivative_" + kind, msg, None, g1, deriv=kind)
            for kind, msg, g1 in _DERIVATIVE_MISTAKES
        ),
        variant(
            "waa_not_transposed",
            "da_prev must be Waaᵀ dz (the transpose of Waa)",
            ("dx", "da0", *shared),
            waa_not_transposed=True,
        ),
    )


# numerical gradient --------------------------------------------------------------------------


def _numerical_variant(case: Case, kind: str) -> Outputs:
    spec, theta = case["args"]
    eps = case["kwargs"].get("epsilon", 1e-5)
    entries = case["kwargs"].get("entries")
    f = _test_function(spec)
    idx = np.arange(theta.size) if entries is None else np.asarray(entries)
    work = theta.astype(np.float64).copy()
    grad = np.empty(len(idx))
    for i, flat in enumerate(idx):
        base = work.flat[flat]
        if kind in ("forward", "backward"):
            f0 = f(work)
            work.flat[flat] = base + (eps if kind == "forward" else -eps)
            grad[i] = (f(work) - f0) / (eps if kind == "forward" else -eps)
            work.flat[flat] = base
            continue
        work.flat[flat] = base + eps
        f_plus = f(work)
        work.flat[flat] = base - eps
        f_minus = f(work)
        grad[i] = (f_plus - f_minus) / (eps if kind == "divisor_eps" else 2 * eps)
        if kind != "not_restored":
            work.flat[flat] = base
    return {"grad": grad.reshape(theta.shape) if entries is None else grad}


_NUMERICAL_MISTAKES = (
    _mutant(
        "forward_differences",
        "uses one-sided (forward) differences (f(θ+ε) − f(θ))/ε: use "
        "centred differences (f(θ+ε) − f(θ−ε)) / 2ε",
        lambda c: _numerical_variant(c, "forward"),
    ),
    _mutant(
        "forward_differences",
        "uses one-sided differences (f(θ) − f(θ−ε))/ε: use centred "
        "differences (f(θ+ε) − f(θ−ε)) / 2ε",
        lambda c: _numerical_variant(c, "backward"),
    ),
    _mutant(
        "wrong_divisor",
        "divides by ε instead of 2ε: the two points θ+ε and θ−ε are 2ε apart",
        lambda c: _numerical_variant(c, "divisor_eps"),
    ),
    _mutant(
        "theta_not_restored",
        "θ is not restored after each entry: put θ_i back before moving to the next entry",
        lambda c: _numerical_variant(c, "not_restored"),
    ),
)

# bptt ----------------------------------------------------------------------------------------


def _bptt_variant(case: Case, **flags: Any) -> Outputs:
    """Step-by-step BPTT (full or truncated) with one mistake switched on by ``flags``."""
    x, y, a0, p = case["args"]
    kw = case["kwargs"]
    g1, g2 = kw.get("hidden_activation", "tanh"), kw.get("output_activation", "softmax")
    truncate = flags.get("truncate", kw.get("truncate"))
    if truncate is not None and flags.get("truncate_shift"):
        truncate = truncate + flags["truncate_shift"]
    Waa, Wax, Wya, ba, by = (p[k] for k in PARAMS)
    n_a, m = a0.shape
    T_x = x.shape[2]
    A, a = [], a0
    for t in range(T_x):
        a = _G1[g1](Waa @ a + Wax @ x[:, :, t] + ba)
        A.append(a)
    A_prev = [a0, *A[:-1]]
    loss, dA, dWya, dby = 0.0, [], 0.0, 0.0
    for t in range(T_x):
        o = Wya @ A[t] + by
        if g2 == "softmax":
            yhat = softmax(o)
            loss -= np.sum(np.log(yhat[y[:, t], np.arange(m)]))
            target = _onehot(y[:, t], o.shape[0])
        else:
            yhat = sigmoid(o)
            target = y[:, :, t]
            loss -= np.sum(target * np.log(yhat) + (1 - target) * np.log(1 - yhat))
        do = (yhat - target) / m * (m if flags.get("grad_times_m") else 1)
        dWya = dWya + do @ A[t].T
        dby = dby + do.sum(axis=1, keepdims=True)
        dA.append(Wya.T @ do)
    window = T_x if truncate is None else truncate
    if flags.get("no_carry"):
        window = 0
    deriv = [_derivative(flags.get("deriv", "right"), g1, A[t], A_prev[t]) for t in range(T_x)]
    dZ = [np.zeros((n_a, m)) for _ in range(T_x)]
    da0 = np.zeros((n_a, m))
    for t in range(T_x):  # each step's loss goes back through at most `window` steps
        delta = dA[t]
        for s in range(t, max(t - window, 0) - 1, -1):
            dz = delta * deriv[s]
            dZ[s] += dz
            if s - 1 < t - window:
                break
            delta = Waa.T @ dz
            if s == 0:
                da0 += delta
    steps = {"first": [0], "last": [T_x - 1]}.get(flags.get("only"), range(T_x))
    grads = {
        "dWaa": sum(dZ[t] @ A_prev[t].T for t in steps),
        "dWax": sum(dZ[t] @ x[:, :, t].T for t in steps),
        "dWya": dWya,
        "dba": sum(dZ[t].sum(axis=1, keepdims=True) for t in steps),
        "dby": dby,
        "da0": da0,
    }
    out = {"loss": np.array(loss / m), **grads, "a_last": A[flags.get("a_last_index", -1)]}
    keys = flags.get("keys")
    return {k: out[k] for k in keys} if keys else out


def _bptt_mutant(
    key: str,
    message: str,
    keys: tuple[str, ...] | None = None,
    when: Callable[[Case], bool] | None = None,
    **flags: Any,
) -> Mistake:
    def fn(case: Case) -> Outputs | None:
        if when is not None and not when(case):
            return None
        return _bptt_variant(case, keys=keys, **flags)

    return _mutant(key, message, fn)


def _loss_mutant(key: str, message: str, factor: Callable[[Case], float]) -> Mistake:
    def fn(case: Case) -> Outputs:
        return {"loss": _bptt_variant(case, keys=("loss",))["loss"] * factor(case)}

    return _mutant(key, message, fn)


def _clipped(case: Case, expected: Outputs, outputs: Outputs) -> bool:
    """The gradients are the exact ones clipped: scaled by one factor < 1, or clipped by value."""
    if not _close(outputs["loss"], expected["loss"]):
        return False
    ref = np.concatenate([expected[k].ravel() for k in GRADS])
    got = np.concatenate([outputs[k].ravel() for k in GRADS])
    factor = float(got @ ref / (ref @ ref))
    if 0 < factor < 1 - 1e-6 and _close(got, factor * ref):
        return True
    c = float(np.max(np.abs(got)))
    return 0 < c < float(np.max(np.abs(ref))) * (1 - 1e-6) and _close(got, np.clip(ref, -c, c))


def _truncated(case: Case) -> bool:
    return case["kwargs"].get("truncate") is not None


_SHARED = ("dWaa", "dWax", "dba")
_BPTT_MISTAKES = (
    Mistake(
        "gradients_clipped",
        "the gradients were clipped before being returned (or before "
        "the gradient check): bptt must return the exact gradients; clip only in the "
        "training step",
        _clipped,
    ),
    _loss_mutant(
        "loss_mean_over_time",
        "the loss is averaged over time steps instead of summed",
        lambda c: 1 / c["dims"]["T_x"],
    ),
    _loss_mutant(
        "loss_missing_1_over_m",
        "the loss is missing the 1/m: average over the m sequences",
        lambda c: c["dims"]["m"],
    ),
    _bptt_mutant(
        "gradients_missing_1_over_m",
        "the gradients are m times too large: dL/do<t> = (ŷ<t> − y<t>) / m",
        (*GRADS, "da0"),
        grad_times_m=True,
    ),
    _bptt_mutant(
        "not_carried",
        "the gradient from a<t+1> is not carried into a<t>: the delta "
        "of step t includes Waaᵀ dz<t+1>",
        ("dWaa", "dWax", "dba", "da0"),
        no_carry=True,
    ),
    _bptt_mutant(
        "not_summed_over_time",
        "the gradients of the shared weights are not summed "
        "over time steps: add each step's contribution",
        _SHARED,
        only="first",
    ),
    _bptt_mutant(
        "not_summed_over_time",
        "the gradients of the shared weights are not summed "
        "over time steps: add each step's contribution",
        _SHARED,
        only="last",
    ),
    _bptt_mutant(
        "truncate_ignored",
        "truncate=k is ignored: with truncation the loss at step t reaches only a<t>, ..., a<t-k>",
        ("dWaa", "dWax", "dba", "da0"),
        when=_truncated,
        truncate=None,
    ),
    _bptt_mutant(
        "truncate_off_by_one",
        "the truncation window is off by one: the loss at step t "
        "reaches a<t>, ..., a<t-k> (k+1 states)",
        ("dWaa", "dWax", "dba", "da0"),
        when=_truncated,
        truncate_shift=1,
    ),
    *(
        _bptt_mutant(
            "derivative_" + kind,
            msg,
            ("dWaa", "dWax", "dba", "da0"),
            when=lambda c, g=g1: g is None or c["kwargs"].get("hidden_activation", "tanh") == g,
            deriv=kind,
        )
        for kind, msg, g1 in _DERIVATIVE_MISTAKES
    ),
    _bptt_mutant(
        "a_last_off_by_one",
        "a_last must be the last hidden state a<T_x> (a[:, :, -1])",
        ("a_last",),
        when=lambda c: c["dims"]["T_x"] > 1,
        a_last_index=-2,
    ),
)

# training ------------------------------------------------------------------------------------


def _sgd_mutant(key: str, message: str, update: Callable[[np.ndarray, np.ndarray, float], Any]):
    def fn(case: Case) -> Outputs:
        p, g, lr = case["args"]
        return {k: update(p[k], g["d" + k], lr) for k in PARAMS}

    return _mutant(key, message, fn)


_SGD_MISTAKES = (
    _sgd_mutant(
        "sgd_adds",
        "the gradient is added: gradient descent subtracts, θ ← θ − η dθ",
        lambda w, d, lr: w + lr * d,
    ),
    _sgd_mutant(
        "sgd_no_learning_rate",
        "the learning rate is not applied: θ ← θ − η dθ",
        lambda w, d, lr: w - d,
    ),
    _sgd_mutant(
        "sgd_divides",
        "the gradient is divided by the learning rate: θ ← θ − η dθ",
        lambda w, d, lr: w - d / lr,
    ),
)


def _clip_variant(case: Case, kind: str) -> Outputs:
    g, c = case["args"]
    if kind == "per_parameter":
        return {k: v * min(1.0, c / np.linalg.norm(v)) if k in GRADS else v for k, v in g.items()}
    if kind == "by_value":
        return {k: np.clip(v, -c, c) if k in GRADS else v for k, v in g.items()}
    keys = tuple(g) if kind == "all_keys" else GRADS
    norm = float(np.sqrt(sum(np.sum(g[k] ** 2) for k in keys)))
    factor = {"always": c / norm, "squared": min(1.0, c / norm**2)}.get(kind, min(1.0, c / norm))
    return {k: v * factor if k in keys else v for k, v in g.items()}


_CLIP_MISTAKES = (
    _mutant(
        "clip_per_parameter",
        "each gradient is clipped by its own norm: compute one global "
        "norm over all five gradients together",
        lambda c: _clip_variant(c, "per_parameter"),
    ),
    _mutant(
        "clip_by_value",
        "the gradients are clipped element-wise: clipping by global norm "
        "scales every gradient by min(1, max_norm / ‖g‖)",
        lambda c: _clip_variant(c, "by_value"),
    ),
    _mutant(
        "clip_always_scales",
        "gradients whose norm is already below max_norm are scaled "
        "too: the factor is min(1, max_norm / ‖g‖)",
        lambda c: _clip_variant(c, "always"),
    ),
    _mutant(
        "clip_squared_norm",
        "the squared norm is used: ‖g‖ = sqrt(Σ g²)",
        lambda c: _clip_variant(c, "squared"),
    ),
    _mutant(
        "clip_includes_other_keys",
        "entries other than the five parameter gradients (like "
        "da0) are counted or scaled: only dWaa, dWax, dWya, dba, dby take part",
        lambda c: _clip_variant(c, "all_keys"),
    ),
)


def _sample_variant(case: Case, **flags: Any) -> Outputs:
    p, start, length = case["args"]
    kw = case["kwargs"]
    tau = kw.get("temperature", 1.0)
    tau = {"ignore": 1.0, "multiply": 1 / tau}.get(flags.get("temperature"), tau)
    seed = kw.get("seed", 0)
    legacy = np.random.RandomState(seed) if flags.get("legacy") else None  # np.random.seed(seed)
    rng = np.random.default_rng(seed)
    g1 = _G1[kw.get("hidden_activation", "tanh")]
    stop = kw.get("stop_id")
    a = np.zeros((p["Waa"].shape[0], 1))
    token, drawn = start, [start] if flags.get("include_start") else []
    for _ in range(length):
        a_in = np.zeros_like(a) if flags.get("reset") else a
        a = g1(
            p["Waa"] @ a_in + p["Wax"][:, [start if flags.get("no_feedback") else token]] + p["ba"]
        )
        prob = softmax((p["Wya"] @ a + p["by"]) / tau).ravel()
        if flags.get("argmax"):
            token = int(np.argmax(prob))
        else:
            u = (legacy.random_sample() if legacy else rng.random()) * prob.sum()
            token = int(min(np.searchsorted(np.cumsum(prob), u, side="right"), len(prob) - 1))
        if token == stop and not flags.get("include_stop"):
            break
        drawn.append(token)
        if token == stop:
            break
    return {"ids": np.array(drawn[: length + 1], dtype=np.int64)}


def _sample_mutant(key: str, message: str, **flags: Any) -> Mistake:
    """The mistake, with the draws from default_rng(seed) or from np.random.seed(seed)."""

    def detect(case: Case, expected: Outputs, outputs: Outputs) -> bool:
        return any(
            _matches(outputs, _sample_variant(case, legacy=legacy, **flags), expected)
            for legacy in (False, True)
        )

    return Mistake(key, message, detect)


_SAMPLE_MISTAKES = (
    _sample_mutant(
        "temperature_ignored",
        "the temperature is ignored: draw from softmax(o / temperature)",
        temperature="ignore",
    ),
    _sample_mutant(
        "temperature_multiplied",
        "the logits are multiplied by the temperature: divide them, softmax(o / temperature)",
        temperature="multiply",
    ),
    _sample_mutant(
        "no_feedback",
        "the drawn token is not fed back: the next input is the token just drawn, not start_id",
        no_feedback=True,
    ),
    _sample_mutant(
        "state_reset",
        "the hidden state is reset at every step: carry a<t> to the next step",
        reset=True,
    ),
    _sample_mutant(
        "argmax_not_sampled",
        "the most likely token is taken (argmax): draw from the "
        "distribution with the seeded generator",
        argmax=True,
    ),
    _sample_mutant(
        "start_included",
        "start_id is included in the result: return only the drawn tokens",
        include_start=True,
    ),
    _sample_mutant(
        "stop_included",
        "stop_id is included in the result: stop before appending it",
        include_stop=True,
    ),
)


def _norms_variant(case: Case, **flags: Any) -> Outputs:
    da_next, caches = case["args"]
    T_x = len(caches)
    norms, delta = [], da_next
    for a_next, a_prev, _xt, p, g1 in reversed(caches):
        if not flags.get("after"):
            norms.append(np.linalg.norm(delta))
        dz = delta * _derivative(flags.get("deriv", "right"), g1, a_next, a_prev)
        delta = (p["Waa"] if flags.get("waa_not_transposed") else p["Waa"].T) @ dz
        if flags.get("after"):
            norms.append(np.linalg.norm(delta))
    out = np.array(norms[:T_x])
    return {"norms": out[::-1] if flags.get("reversed") else out}


def _norms_mutant(key: str, message: str, g1: str | None = None, **flags: Any) -> Mistake:
    def fn(case: Case) -> Outputs | None:
        return _norms_variant(case, **flags) if _uses(case, g1) else None

    return _mutant(key, message, fn)


_NORMS_MISTAKES = (
    _norms_mutant(
        "norms_reversed",
        "the norms are in the wrong order: norms[d] is for distance "
        "d = T − t, so norms[0] is the last step's ‖da_next‖",
        reversed=True,
    ),
    _norms_mutant(
        "norms_off_by_one",
        "off by one: norms[0] is the norm of da_next itself "
        "(distance 0), recorded before the first step back",
        after=True,
    ),
    _norms_mutant(
        "waa_not_transposed",
        "the step back is Waaᵀ (da ⊙ g1'(z)): use the transpose of Waa",
        waa_not_transposed=True,
    ),
    *(
        _norms_mutant("derivative_" + kind, msg, g1, deriv=kind)
        for kind, msg, g1 in _DERIVATIVE_MISTAKES
    ),
)

# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exercise:
    """One graded function: where it is taught, how it is tested, and its known mistakes."""

    name: str
    assignment: str  # notebooks/<assignment>/<notebook>.ipynb
    notebook: str
    cases: Callable[[np.random.Generator], list[Case]]
    shapes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # symbolic output shapes
    mistakes: tuple[Mistake, ...] = ()
    accept: tuple[Callable[[Case], Outputs], ...] = ()  # other right answers (another RNG stream)

    @property
    def reference(self) -> Callable[..., Any]:
        """rnnlib's function of the same name (looked up when used)."""
        return getattr(rnnlib, self.name)

    @property
    def read(self) -> Reader:
        """The function's result -> named arrays (graders.calls.READERS, shared with the child)."""
        return READERS[self.name]


_CELL_SHAPES = {"a_next": ("n_a", "m"), "yt_pred": ("n_y", "m")}
_PARAM_SHAPES = {
    "Waa": ("n_a", "n_a"),
    "Wax": ("n_a", "n_x"),
    "Wya": ("n_y", "n_a"),
    "ba": ("n_a", "1"),
    "by": ("n_y", "1"),
}
_GRAD_SHAPES = {"d" + k: v for k, v in _PARAM_SHAPES.items()}

EXERCISES: dict[str, Exercise] = {
    ex.name: ex
    for ex in (
        Exercise(
            "rnn_cell_forward",
            "01-forward",
            "forward",
            lambda rng: _forward_cases(rng, "cell"),
            _CELL_SHAPES,
            _forward_mistakes("rnn_cell_forward"),
        ),
        Exercise(
            "rnn_forward",
            "01-forward",
            "forward",
            lambda rng: _forward_cases(rng, "seq"),
            {"a": ("n_a", "m", "T_x"), "y_pred": ("n_y", "m", "T_x")},
            _forward_mistakes("rnn_forward"),
        ),
        Exercise(
            "stack_weights",
            "02-stacking",
            "stacking",
            _stack_weights_cases,
            {"Wa": ("n_a", "n_a + n_x")},
            _STACK_MISTAKES,
        ),
        Exercise(
            "split_weights",
            "02-stacking",
            "stacking",
            _split_weights_cases,
            {"Waa": ("n_a", "n_a"), "Wax": ("n_a", "n_x")},
            _SPLIT_MISTAKES,
        ),
        Exercise(
            "stack_inputs",
            "02-stacking",
            "stacking",
            _stack_inputs_cases,
            {"stacked": ("n_a + n_x", "m")},
            _STACK_INPUT_MISTAKES,
        ),
        Exercise(
            "rnn_cell_forward_stacked",
            "02-stacking",
            "stacking",
            lambda rng: _forward_cases(rng, "stacked"),
            _CELL_SHAPES,
            _forward_mistakes("rnn_cell_forward_stacked"),
        ),
        Exercise(
            "softmax",
            "03-loss",
            "loss",
            _softmax_cases,
            {},
            _SOFTMAX_MISTAKES,
        ),
        Exercise(
            "cross_entropy",
            "03-loss",
            "loss",
            _cross_entropy_cases,
            {},
            _CROSS_ENTROPY_MISTAKES,
        ),
        Exercise(
            "rnn_cell_backward",
            "04-bptt",
            "bptt",
            _cell_backward_cases,
            {"dxt": ("n_x", "m"), "da_prev": ("n_a", "m"), **_GRAD_SHAPES},
            _cell_backward_mistakes(),
        ),
        Exercise(
            "rnn_backward",
            "04-bptt",
            "bptt",
            _rnn_backward_cases,
            {"dx": ("n_x", "m", "T_x"), "da0": ("n_a", "m"), **_GRAD_SHAPES},
            _rnn_backward_mistakes(),
        ),
        Exercise(
            "numerical_gradient",
            "04-bptt",
            "bptt",
            _numerical_gradient_cases,
            {},
            _NUMERICAL_MISTAKES,
        ),
        Exercise(
            "bptt",
            "04-bptt",
            "bptt",
            _bptt_cases,
            {**_GRAD_SHAPES, "da0": ("n_a", "m"), "a_last": ("n_a", "m")},
            _BPTT_MISTAKES,
        ),
        Exercise(
            "sgd_step",
            "05-training",
            "training",
            _sgd_cases,
            _PARAM_SHAPES,
            _SGD_MISTAKES,
        ),
        Exercise(
            "clip_by_global_norm",
            "05-training",
            "training",
            _clip_cases,
            _GRAD_SHAPES,
            _CLIP_MISTAKES,
        ),
        Exercise(
            "sample",
            "05-training",
            "training",
            _sample_cases,
            {},
            _SAMPLE_MISTAKES,
            accept=(lambda case: _sample_variant(case, legacy=True),),
        ),
        Exercise(
            "backprop_norms",
            "06-vanishing",
            "vanishing",
            _backprop_norms_cases,
            {"norms": ("T_x",)},
            _NORMS_MISTAKES,
        ),
    )
}
