"""Hidden checks: randomised cases, a strict reading of the student's results, and feedback that
names the mistake.

One table, :data:`EXERCISES`, holds the course's graded functions; it is gathered from
graders/lessons/, one module per lesson (mirroring rnnlib), where each exercise's cases and typical
mistakes are (a mistake is a small function with the student's signature). For each exercise:

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
module (the lessons' mistakes compute right answers too), next to an rnnlib whose exercises under grade raise
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
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from graders.calls import (
    AFTER,
    GRADS,
    PARAMS,
    Case,
    Outputs,
    _call,
    _changed,
    _test_function,
    bounded,
    mutated_argument,
)
from graders.calls import call as call  # re-exported: checks.call is the public name
from graders.lessons import EXERCISES, Exercise, Mistake, answer_cell
from graders.lessons.base import (
    APPROXIMATE,
    ATOL,
    RTOL,
    all_close,
    approximate_message,
    approximately,
    close,
    relative_gap,
    run,
)

__all__ = [
    "ATOL",
    "EXERCISES",
    "GRADS",
    "PARAMS",
    "RTOL",
    "Exercise",
    "Mistake",
    "Verdict",
    "answer_cell",
    "call",
    "check",
    "compare",
    "judge_mutation",
    "make_cases",
    "run_hidden_checks",
]


@dataclass(frozen=True)
class Verdict:
    """The result of checking one case (or all cases) of an exercise."""

    passed: bool
    message: str
    mistake: str | None = None  # key of the recognised mistake, None if not recognised
    matches: tuple[tuple[str, str], ...] = ()  # (key, message) of every mistake that matched


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


def _accepted(name: str, alt: Callable[..., Any], case: Case, outputs: Outputs) -> bool:
    """``outputs`` are those of ``alt``, another right answer (another RNG stream), on ``case``."""
    other = run(name, alt, case)
    return other is not None and all_close(outputs, other, exact=EXERCISES[name].exact)


def _shows(mistake: Mistake, name: str, case: Case, expected: Outputs, outputs: Outputs) -> bool:
    """Whether the student's outputs on ``case`` show ``mistake`` (False where it cannot happen)."""
    try:
        with np.errstate(all="ignore"):  # a mutant may overflow: no warnings in the notebook
            return mistake.detected(name, case, expected, outputs)
    except Exception:  # noqa: BLE001 - a mistake that cannot happen on this case
        return False


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
    wrong = [k for k in expected if not close(outputs[k], expected[k], exact=ex.exact)]
    if wrong and any(_accepted(name, alt, case, outputs) for alt in ex.accept):
        wrong = []
    if wrong and ex.exact and approximately(case, expected, outputs):
        gap = approximate_message(relative_gap(expected, outputs))
        return Verdict(False, gap, APPROXIMATE[0])
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
    matched = [m for m in ex.mistakes if _shows(m, name, case, expected, outputs)]
    if matched:
        pairs = tuple(dict.fromkeys((m.key, m.message) for m in matched))
        return Verdict(False, matched[0].message, matched[0].key, pairs)
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
    """The failure to report: the mistake that explains the most failing cases (two mistakes
    can look alike on some cases: the one that also explains the others is meant), on the first
    case it explains; with none recognised, the first failure."""
    recognised = [
        (case, verdict if verdict.matches else replace(verdict, matches=_own(verdict)))
        for case, verdict in failures
        if verdict.mistake is not None
    ]
    if not recognised:
        return failures[0]
    keys = dict.fromkeys(key for _, verdict in recognised for key, _ in verdict.matches)

    def explained(key: str) -> int:
        return sum(any(k == key for k, _ in verdict.matches) for _, verdict in recognised)

    best = max(keys, key=explained)  # the first of the keys that explain the most cases
    for case, verdict in recognised:
        for key, message in verdict.matches:
            if key == best:
                return case, Verdict(False, message, key, verdict.matches)
    return recognised[0]


def _own(verdict: Verdict) -> tuple[tuple[str, str], ...]:
    """A verdict's one recognised mistake (an input changed in place) as its matches."""
    return ((str(verdict.mistake), verdict.message),)


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
