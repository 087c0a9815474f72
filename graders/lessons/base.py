"""What every lesson's checks are made of: an exercise, a typical mistake, case builders and the
comparison of a result with the reference.

A typical mistake is a small function with the student's signature that makes that mistake; it is
the one source of the mistake: the grader recognises it by running it on the case (in the grading
process, never in the child) and comparing its result with the student's, and the demo, the bench
and the tests hand in its source (:func:`answer_cell`) as a student would.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import rnnlib
from graders.calls import READERS, Case, Outputs, Reader, _call

RTOL = 1e-6  # relative tolerance per entry (float64 rounding is ~1e-16)
ATOL = 1e-9  # absolute tolerance, as a fraction of the output's largest magnitude
# An exact gradient (Exercise.exact) is held to float64 rounding with room to spare: any order of
# sums and products stays below 1e-13 of the largest entry, centred differences (ε = 1e-5, the
# course's numerical_gradient) come to about 1e-10 of it, which the looser tolerance lets through.
EXACT_RTOL = 1e-10
EXACT_ATOL = 1e-12
APPROXIMATE = (
    "approximate_gradient",
    "the accuracy of finite differences, not of a backward pass: compute the gradients with the "
    "chain rule, step by step back through the forward pass (exact ones agree to about 1e-15)",
)


def approximate_message(rel: float) -> str:
    """APPROXIMATE's message, with how close the student's gradients came."""
    return f"the gradients agree with the exact ones only to about {rel:.0e}: {APPROXIMATE[1]}"


# ---------------------------------------------------------------------------------------------
# Comparing arrays
# ---------------------------------------------------------------------------------------------


def close(got: np.ndarray, ref: np.ndarray, *, exact: bool = False) -> bool:
    """Same shape and |got - ref| <= RTOL |ref| + ATOL max|ref| everywhere (EXACT_RTOL and
    EXACT_ATOL when ``exact``); ints exactly equal."""
    if got.shape != ref.shape:
        return False
    if ref.dtype.kind in "iu" or got.dtype.kind in "iu":
        return bool(np.array_equal(got, ref))
    if not np.isfinite(ref).all():
        return bool(np.array_equal(got, ref, equal_nan=True))
    if not np.isfinite(got).all():
        return False
    scale = max(float(np.max(np.abs(ref))) if ref.size else 0.0, 1e-3)
    rtol, atol = (EXACT_RTOL, EXACT_ATOL) if exact else (RTOL, ATOL)
    return bool(np.all(np.abs(got - ref) <= rtol * np.abs(ref) + atol * scale))


def all_close(outputs: Outputs, expected: Outputs, *, exact: bool = False) -> bool:
    """Every output of ``expected`` is close to the same output of ``outputs``."""
    return all(
        k in outputs and close(outputs[k], np.asarray(v, dtype=outputs[k].dtype), exact=exact)
        for k, v in expected.items()
    )


def approximately(case: Case, expected: Outputs, outputs: Outputs) -> bool:
    """The mistake APPROXIMATE: every output within the loose tolerance, some not within the
    exact one (gradients from finite differences)."""
    del case
    return all(k in outputs and close(outputs[k], v) for k, v in expected.items()) and not all(
        close(outputs[k], v, exact=True) for k, v in expected.items()
    )


def relative_gap(expected: Outputs, outputs: Outputs) -> float:
    """The largest error over the outputs, each relative to its output's largest entry."""
    gaps = [
        float(np.max(np.abs(outputs[k] - v))) / max(float(np.max(np.abs(v))), 1e-3)
        for k, v in expected.items()
        if v.size and v.dtype.kind == "f"
    ]
    return max(gaps, default=0.0)


def matches(outputs: Outputs, mutant: Outputs | None, expected: Outputs) -> bool:
    """The student's outputs equal the mutant's on every output, and the mutant is wrong here."""
    if not mutant or not any(np.any(np.asarray(v) != 0) for v in mutant.values()):
        return False  # not applicable, or all zeros: that says nothing about the mistake
    if any(k not in expected for k in mutant):
        return False
    if all(close(np.asarray(mutant[k], dtype=expected[k].dtype), expected[k]) for k in mutant):
        return False  # on this case the mistake makes no difference
    return all(close(outputs[k], np.asarray(mutant[k], dtype=expected[k].dtype)) for k in mutant)


def run(name: str, fn: Callable[..., Any], case: Case) -> Outputs | None:
    """``fn``'s outputs on ``case``, read as a student's are; None when it fails on this case."""
    outputs, _ = _call(name, fn, case)
    if "__error__" in outputs:
        return None
    outputs.pop("__mutated__", None)
    return outputs


# ---------------------------------------------------------------------------------------------
# Typical mistakes and exercises
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mistake:
    """A typical mistake: ``fn`` (the student's signature) makes it; ``message`` explains it.

    ``detect`` replaces "the outputs equal fn's" for a mistake of a whole family (for example
    gradients clipped by any factor); ``fn`` then is one member, which the tests hand in.
    """

    key: str
    message: str
    fn: Callable[..., Any]
    detect: Callable[[Case, Outputs, Outputs], bool] | None = None

    def detected(self, name: str, case: Case, expected: Outputs, outputs: Outputs) -> bool:
        """Whether the student's ``outputs`` on ``case`` show this mistake."""
        if self.detect is not None:
            return self.detect(case, expected, outputs)
        return matches(outputs, run(name, self.fn, case), expected)


def _names(code: Any) -> set[str]:
    """The global names a code object (and the functions and lambdas inside it) uses."""
    names = set(code.co_names)
    for const in code.co_consts:
        if inspect.iscode(const):
            names |= _names(const)
    return names


def _helpers(fn: Callable[..., Any], seen: dict[str, str]) -> None:
    """The sources of the module's private functions ``fn`` calls (theirs first), into ``seen``."""
    for name in sorted(_names(fn.__code__)):
        helper = fn.__globals__.get(name)
        if (
            name.startswith("_")
            and name not in seen
            and inspect.isfunction(helper)
            and helper.__module__ == fn.__module__
        ):
            seen[name] = ""  # placed before its own helpers are looked up: no cycle
            _helpers(helper, seen)
            seen[name] = textwrap.dedent(inspect.getsource(helper))
            seen[name] = seen.pop(name)  # after the helpers it calls


def answer_cell(fn: Callable[..., Any], exercise: str) -> str:
    """The source of ``fn`` as the answer cell of ``exercise``: ``def exercise(...)``, after
    ``import numpy as np`` and the lesson module's private helpers it calls. It may call the
    notebook's other exercises and imports (rnn_cell_forward, ACTIVATIONS, ...) by name. A function
    made by an adapter (a closure) has no cell of its own."""
    if fn.__closure__:
        raise ValueError(f"{fn.__qualname__} is made by an adapter: it has no answer cell")
    source = textwrap.dedent(inspect.getsource(fn))
    head = f"def {fn.__name__}("
    if not source.startswith(head):
        raise ValueError(f"{fn.__qualname__}: its source does not start with {head!r}")
    helpers: dict[str, str] = {}
    _helpers(fn, helpers)
    parts = ["import numpy as np", *helpers.values(), f"def {exercise}(" + source[len(head) :]]
    return "\n\n\n".join(part.strip("\n") for part in parts) + "\n"


@dataclass(frozen=True)
class Exercise:
    """One graded function: where it is taught, how it is tested, and its known mistakes."""

    name: str
    assignment: str  # notebooks/<assignment>/<notebook>.ipynb
    notebook: str
    cases: Callable[[np.random.Generator], list[Case]]
    shapes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # symbolic output shapes
    mistakes: tuple[Mistake, ...] = ()
    accept: tuple[Callable[..., Any], ...] = ()  # other right answers (another RNG stream)
    # gradients the chain rule gives exactly: compared at EXACT_RTOL/EXACT_ATOL, and an answer
    # only finite differences would give (within RTOL/ATOL, not the exact tolerance) is APPROXIMATE
    exact: bool = False

    @property
    def reference(self) -> Callable[..., Any]:
        """rnnlib's function of the same name (looked up when used)."""
        return getattr(rnnlib, self.name)

    @property
    def read(self) -> Reader:
        """The function's result -> named arrays (graders.calls.READERS, shared with the child)."""
        return READERS[self.name]


# ---------------------------------------------------------------------------------------------
# Case builders
# ---------------------------------------------------------------------------------------------


def sizes(rng: np.random.Generator, k: int, low: int = 2, high: int = 8) -> list[int]:
    """k distinct sizes in [low, high]: distinct sizes make a transposed result a shape error."""
    return [int(v) for v in rng.choice(np.arange(low, high + 1), size=k, replace=False)]


def parameters(rng: np.random.Generator, n_a: int, n_x: int, n_y: int) -> dict[str, np.ndarray]:
    """Weights large enough that tanh and relu differ, biases clearly non-zero."""
    return {
        "Waa": rng.normal(0, 0.6, (n_a, n_a)),
        "Wax": rng.normal(0, 0.8, (n_a, n_x)),
        "Wya": rng.normal(0, 0.8, (n_y, n_a)),
        "ba": rng.normal(0, 0.5, (n_a, 1)),
        "by": rng.normal(0, 0.5, (n_y, 1)),
    }


def onehot(ids: np.ndarray, n: int) -> np.ndarray:
    """Dense one-hot of integer ids (shape ids.shape) along a new first axis of size n."""
    return (np.arange(n).reshape((n,) + (1,) * ids.ndim) == ids[None]).astype(np.float64)


_SHOWN_OPTIONS = ("hidden_activation", "output_activation", "truncate", "temperature", "epsilon")


def case(args: list, kwargs: dict, dims: dict, note: str = "") -> Case:
    """A case: the arguments (plain data), the sizes, and a label for the feedback."""
    label = ", ".join(f"{k}={v}" for k, v in dims.items())
    options = ", ".join(f"{k}={v!r}" for k, v in kwargs.items() if k in _SHOWN_OPTIONS)
    label = "; ".join(part for part in (label, options, note) if part)
    return {"args": args, "kwargs": kwargs, "dims": dims, "label": label}


def caches(
    rng: np.random.Generator,
    n_x: int,
    n_a: int,
    m: int,
    T_x: int,
    g1: str,
    radius: float | None = None,
) -> list[tuple]:
    """rnnlib's forward pass on random inputs: the caches as plain tuples."""
    p = parameters(rng, n_a, n_x, 2)
    if radius is not None:
        p["Waa"] = rnnlib.with_spectral_radius(p["Waa"], radius)
    x = rng.normal(0, 1, (n_x, m, T_x))
    a0 = rng.normal(0, 0.8, (n_a, m))
    _, _, cs = rnnlib.rnn_forward(x, a0, p, hidden_activation=g1)
    return [
        (
            c[0].copy(),
            np.array(c[1], copy=True),
            np.array(c[2], copy=True),
            {k: v.copy() for k, v in c[3].items()},
            c[4],
        )
        for c in cs
    ]


PARAM_SHAPES = {
    "Waa": ("n_a", "n_a"),
    "Wax": ("n_a", "n_x"),
    "Wya": ("n_y", "n_a"),
    "ba": ("n_a", "1"),
    "by": ("n_y", "1"),
}
GRAD_SHAPES = {"d" + k: v for k, v in PARAM_SHAPES.items()}
CELL_SHAPES = {"a_next": ("n_a", "m"), "yt_pred": ("n_y", "m")}
