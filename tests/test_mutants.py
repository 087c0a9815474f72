"""Each mutant in tests/mutants/ (one typical mistake) fails its hidden checks, the feedback names
the mistake, and the rest of its notebook still passes: a submission made of it earns partial credit.

A mutant is run the way a notebook runs it: the notebook's solution cells (generated from rnnlib
by tools/notebooks.py) are executed into one namespace, then the mutant's source replaces the
functions it defines, so an exercise that calls another (rnn_cell_forward_stacked calls
stack_inputs) sees the mutant, as it would in the student's notebook.
"""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path

import numpy as np
import pytest

import rnnlib
from graders import checks

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = sorted((ROOT / "tests" / "mutants").glob("*.py"))
SEEDS = (0, 1, 2)  # fixed: the same cases on every run


def _sync_tool():
    spec = importlib.util.spec_from_file_location("notebooks_tool", ROOT / "tools" / "notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def notebook_namespace(assignment: str, mutant_source: str | None = None) -> dict:
    """The globals of a notebook of ``assignment`` after all its answer cells ran."""
    names = [n for n, ex in checks.EXERCISES.items() if ex.assignment == assignment]
    namespace: dict = {}
    for name in names:  # the lesson module's building blocks (imports of the notebook)
        namespace.update(vars(inspect.getmodule(inspect.unwrap(getattr(rnnlib, name)))))
    sync = _sync_tool()
    for name in names:
        exec(sync.solution_source(name), namespace)
    if mutant_source is not None:
        exec(compile(mutant_source, "<mutant>", "exec"), namespace)
    return namespace


def verdict(name: str, fn, seed: int) -> checks.Verdict:
    cases = checks.make_cases(name, np.random.default_rng(seed))
    return checks.check(name, cases, [checks.call(name, fn, case) for case in cases])


def mutant_info(path: Path) -> tuple[str, str, list[str]]:
    """(assignment, EXPECTED_MISTAKE, exercises the file defines) of a mutant file."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # importable on its own
    defined = [
        n
        for n in checks.EXERCISES
        if inspect.isfunction(getattr(module, n, None))
        and getattr(module, n).__module__ == module.__name__
    ]
    assert defined, f"{path.name} defines no exercise function"
    assignments = {checks.EXERCISES[n].assignment for n in defined}
    assert len(assignments) == 1, f"{path.name} mixes notebooks {assignments}"
    return assignments.pop(), module.EXPECTED_MISTAKE, defined


def test_there_are_enough_mutants_across_all_notebooks():
    assignments = {mutant_info(p)[0] for p in MUTANTS}
    assert len(MUTANTS) >= 14, f"only {len(MUTANTS)} mutants"
    expected = {ex.assignment for ex in checks.EXERCISES.values()}
    assert assignments == expected, f"notebooks without a mutant: {expected - assignments}"


def test_solution_notebook_namespace_passes_everything():
    for assignment in sorted({ex.assignment for ex in checks.EXERCISES.values()}):
        namespace = notebook_namespace(assignment)
        for name, ex in checks.EXERCISES.items():
            if ex.assignment == assignment:
                v = verdict(name, namespace[name], 0)
                assert v.passed, f"the solution of {name} fails: {v.message}"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the naive softmax overflows, by design
@pytest.mark.parametrize("path", MUTANTS, ids=lambda p: p.stem)
def test_mutant_fails_names_its_mistake_and_earns_partial_credit(path: Path):
    assignment, expected, defined = mutant_info(path)
    namespace = notebook_namespace(assignment, path.read_text())
    names = [n for n, ex in checks.EXERCISES.items() if ex.assignment == assignment]
    results = {n: [verdict(n, namespace[n], seed) for seed in SEEDS] for n in names}
    failed = {
        n: next(v for v in vs if not v.passed)
        for n, vs in results.items()
        if not all(v.passed for v in vs)
    }
    assert any(n in failed for n in defined), f"{path.name}: no exercise fails its hidden checks"
    for name, v in failed.items():
        assert expected in v.message, (
            f"{path.name}: {name} failed with {v.message!r}; expected the feedback to name "
            f"{expected!r}"
        )
    if len(names) > 1:
        assert len(failed) < len(names), f"{path.name}: every exercise of {assignment} fails"
