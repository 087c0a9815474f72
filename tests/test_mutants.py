"""Every typical mistake graders/lessons/ registers is recognised and named, and a notebook that
makes it still earns partial credit.

- Called on the hidden cases, each mistake's function (the student's signature) fails and the
  verdict names the mistake by its key, with one of that key's messages: no registered mistake is
  shadowed by another or unable to happen on the cases the grader draws.
- Handed in as a student would (its answer cell, graders.lessons.answer_cell) in place of the
  solution, in the namespace of the notebook's other answer cells, it fails its exercise with that
  name, and every exercise of the notebook that does not call it still passes.
"""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path

import numpy as np
import pytest

import rnnlib
from graders import checks
from graders.lessons import answer_cell

ROOT = Path(__file__).resolve().parents[1]
SEEDS = (0, 1, 2)  # fixed: the same cases on every run
REGISTERED = [
    (name, i, mistake)
    for name, ex in checks.EXERCISES.items()
    for i, mistake in enumerate(ex.mistakes)
]
IDS = [f"{name}-{mistake.key}-{i}" for name, i, mistake in REGISTERED]
HANDED_IN = [(name, i, m) for name, i, m in REGISTERED if not m.fn.__closure__]


def _sync_tool():
    spec = importlib.util.spec_from_file_location("notebooks_tool", ROOT / "tools" / "notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SYNC = _sync_tool()


def notebook_namespace(assignment: str, answers: dict[str, str] | None = None) -> dict:
    """The globals of a notebook of ``assignment`` after all its answer cells ran (``answers``
    replacing some of them)."""
    names = [n for n, ex in checks.EXERCISES.items() if ex.assignment == assignment]
    namespace: dict = {}
    for name in names:  # the lesson module's building blocks (imports of the notebook)
        namespace.update(vars(inspect.getmodule(inspect.unwrap(getattr(rnnlib, name)))))
    for name in names:
        source = (answers or {}).get(name) or SYNC.solution_source(name)
        exec(compile(source, f"<answer {name}>", "exec"), namespace)
    return namespace


def verdict(name: str, fn, seed: int) -> checks.Verdict:
    cases = checks.make_cases(name, np.random.default_rng(seed))
    return checks.check(name, cases, [checks.call(name, fn, case) for case in cases])


def test_every_exercise_has_registered_mistakes_and_a_handed_in_one_per_notebook():
    empty = [name for name, ex in checks.EXERCISES.items() if not ex.mistakes]
    assert not empty, f"exercises without a typical mistake: {empty}"
    notebooks = {checks.EXERCISES[name].assignment for name, _, _ in HANDED_IN}
    expected = {ex.assignment for ex in checks.EXERCISES.values()}
    assert notebooks == expected, f"notebooks without a mistake to hand in: {expected - notebooks}"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the naive softmax overflows, by design
@pytest.mark.parametrize("name, index, mistake", REGISTERED, ids=IDS)
def test_a_registered_mistake_is_detected_and_named_by_its_key(name, index, mistake):
    messages = {m.message for m in checks.EXERCISES[name].mistakes if m.key == mistake.key}
    verdicts = [verdict(name, mistake.fn, seed) for seed in SEEDS]
    assert not any(v.passed for v in verdicts), (
        f"{name}'s mistake {mistake.key} passes the hidden checks on some seeds"
    )
    named = [v for v in verdicts if v.mistake == mistake.key]
    assert named, (
        f"{name}'s mistake {mistake.key} is never named: the feedback says "
        f"{[v.mistake for v in verdicts]} ({verdicts[0].message!r})"
    )
    assert all(any(msg in v.message for msg in messages) for v in named), (
        f"{name}'s mistake {mistake.key} is named with another message: {named[0].message!r}"
    )


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(
    "name, index, mistake", HANDED_IN, ids=[f"{n}-{m.key}-{i}" for n, i, m in HANDED_IN]
)
def test_a_handed_in_mistake_fails_its_exercise_and_leaves_the_rest_passing(name, index, mistake):
    assignment = checks.EXERCISES[name].assignment
    namespace = notebook_namespace(assignment, {name: answer_cell(mistake.fn, name)})
    others = [n for n, ex in checks.EXERCISES.items() if ex.assignment == assignment]
    results = {n: [verdict(n, namespace[n], seed) for seed in SEEDS] for n in others}
    mine = results[name]
    assert not all(v.passed for v in mine), f"{name} with {mistake.key} passes"
    assert any(v.mistake == mistake.key for v in mine), (
        f"{name} with {mistake.key} handed in is named {[v.mistake for v in mine]}"
    )

    def calls(caller: str, callee: str, seen: tuple[str, ...] = ()) -> bool:
        """Whether ``caller``'s answer calls ``callee``, directly or through another exercise."""
        source = SYNC.solution_source(caller)
        return callee in source or any(
            n in source and calls(n, callee, (*seen, caller))
            for n in others
            if n not in (caller, callee, *seen)
        )

    for other, verdicts in results.items():
        calls_it = other != name and calls(other, name)
        if other != name and not calls_it:
            failed = next((v for v in verdicts if not v.passed), None)
            assert failed is None, (
                f"{mistake.key} in {name} makes {other}, which does not call it, fail: "
                f"{failed.message}"
            )


def test_an_answer_cell_is_the_mistake_named_for_its_exercise_with_its_helpers():
    from graders.lessons import bptt, forward, loss

    cell = answer_cell(loss.loss_mean_over_time, "cross_entropy")
    namespace: dict = {}
    exec(compile(cell, "<cell>", "exec"), namespace)
    assert "cross_entropy" in namespace and "loss_mean_over_time" not in namespace, (
        f"the answer cell defines {sorted(k for k in namespace if not k.startswith('__'))}"
    )
    assert "_terms" in namespace, "the answer cell lacks the private helper the mistake calls"
    with pytest.raises(ValueError, match="adapter"):
        answer_cell(forward.unrolled(forward.ba_missing), "rnn_forward")
    with pytest.raises(ValueError, match="adapter"):
        answer_cell(bptt.through_time(bptt.derivative_none), "rnn_backward")
