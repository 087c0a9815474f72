"""graders.stubs and graders.calls: the child's folder holds no reference, and the solutions still pass.

For every assignment, the folder built by build_stub holds graders' child modules without
checks.py, imports alone in a fresh ``python -I -S``, has an rnnlib whose graded functions and their
EQUIVALENTS raise, and still lets the notebook's own solutions score full marks through
graders/child.py (run here without the jail, on a spec built as autograde.Worker._start_child does).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from graders import autograde, calls, checks, course, sandbox, wire
from graders.child import BOOTSTRAP
from graders.stubs import BUILDING_BLOCKS, EQUIVALENTS, build_stub, stubbed

RNNLIB = Path(__file__).resolve().parents[1] / "rnnlib"
ASSIGNMENTS = {
    a: (
        next(ex.notebook for ex in checks.EXERCISES.values() if ex.assignment == a),
        [n for n, ex in checks.EXERCISES.items() if ex.assignment == a],
    )
    for a in sorted({ex.assignment for ex in checks.EXERCISES.values()})
}
# Run in the child's interpreter: the stub (and numpy's site folders) first on the path.
PRELUDE = "import sys\nsys.path[:0] = sys.argv[1].split(':')\n"
IMPORTS = """
import importlib.util, json
from graders import calls, child, wire
import rnnlib
print(json.dumps({
    "files": {m.__name__: m.__file__ for m in (calls, child, wire, rnnlib)},
    "absent": [n for n in ("graders.checks", "graders.stubs", "graders.autograde")
               if importlib.util.find_spec(n) is None],
}))
"""
CALL_EACH = """
import importlib, inspect, json, pkgutil
import rnnlib
names = json.loads(sys.argv[2])
found = {}
for info in pkgutil.iter_modules(rnnlib.__path__):
    if info.name != "__main__":
        module = importlib.import_module("rnnlib." + info.name)
        found.update({n: module.__dict__[n] for n in names if inspect.isfunction(module.__dict__.get(n))
                      and module.__dict__[n].__module__ == module.__name__})
report = {}
for name in names:
    if name not in found:
        report[name] = ["missing", "", ""]
        continue
    fn = inspect.unwrap(found[name])
    required = [p for p in inspect.signature(fn).parameters.values()
                if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    try:
        fn(*[None] * len(required))
        outcome = ["returned", ""]
    except Exception as exc:
        outcome = [type(exc).__name__, str(exc)]
    report[name] = [*outcome, inspect.getsourcefile(fn)]
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def stub_of(tmp_path_factory):
    """assignment -> the child's folder for its exercises, built once per module."""
    built: dict[str, Path] = {}

    def get(assignment: str) -> Path:
        if assignment not in built:
            built[assignment] = tmp_path_factory.mktemp("stub") / assignment
            build_stub(built[assignment], ASSIGNMENTS[assignment][1])
        return built[assignment]

    return get


def _child_python(code: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``python -I -S -c code *args`` with the child's clean environment, as the grader runs it."""
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, *args],
        cwd=cwd,
        env=sandbox.clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def _in_child(stub: Path, code: str, *args: str, cwd: Path) -> dict:
    """Run ``code`` as the child's interpreter does (python -I -S, the stub first on the path)."""
    path = ":".join([str(stub), *autograde._site_dirs()])
    proc = _child_python(PRELUDE + code, path, *args, cwd=cwd)
    assert proc.returncode == 0, f"the child's interpreter failed:\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout)


def test_the_tables_cover_every_exercise_and_name_rnnlib_functions():
    assert set(calls.READERS) == set(checks.EXERCISES), "calls.READERS and checks.EXERCISES differ"
    assert set(EQUIVALENTS) == set(checks.EXERCISES), "EQUIVALENTS and checks.EXERCISES differ"
    defined = {
        node.name
        for py in RNNLIB.glob("*.py")
        for node in ast.parse(py.read_text(encoding="utf-8")).body
        if isinstance(node, ast.FunctionDef)
    }
    for exercise, others in EQUIVALENTS.items():
        assert exercise in defined, f"{exercise} is not a top-level function of rnnlib"
        assert exercise not in others, f"EQUIVALENTS[{exercise!r}] lists {exercise} itself"
        missing = [n for n in others if n not in defined]
        assert not missing, f"EQUIVALENTS[{exercise!r}]: no top-level rnnlib function {missing}"


def test_calls_holds_no_reference_or_mistake():
    leaked = [
        n
        for n in ("EXERCISES", "make_cases", "compare", "check", "_expected", "lessons", "Mistake")
        if hasattr(calls, n)
    ]
    assert not leaked, f"graders.calls (the child's copy) holds {leaked}"
    assert "checks" not in calls.__dict__, "graders.calls imports graders.checks"
    assert not any(
        isinstance(v, type(calls)) and v.__name__.startswith("graders.lessons")
        for v in vars(calls).values()
    ), "graders.calls imports graders.lessons (the typical mistakes compute right answers too)"


def test_stubbed_names_each_function_after_the_exercise_it_answers():
    why = stubbed(["rnn_backward", "bptt", "rnn_cell_backward"])
    assert why["bptt"] == "bptt" and why["rnn_backward"] == "rnn_backward", why
    assert why["input_weight_gradient"] == "bptt" and why["backprop_norms"] == "rnn_backward", why
    assert set(stubbed([])) == set(), "nothing graded, nothing stubbed"


def _rnnlib_functions_called(fn) -> set[str]:
    """The rnnlib functions ``fn`` calls by name, and those they call, transitively."""
    import inspect
    import textwrap

    seen, todo = set(), [inspect.unwrap(fn)]
    while todo:
        f = todo.pop()
        func = ast.parse(textwrap.dedent(inspect.getsource(f))).body[0]
        func.decorator_list = []  # the contract checks the arguments; it computes nothing
        for node in ast.walk(func):
            target = f.__globals__.get(node.id) if isinstance(node, ast.Name) else None
            if (
                inspect.isfunction(target)
                and target.__module__.startswith("rnnlib")
                and target.__name__ != f.__name__
                and (target.__module__, target.__name__) not in seen
            ):
                seen.add((target.__module__, target.__name__))
                todo.append(inspect.unwrap(target))
    return {name for _, name in seen}


def test_every_helper_of_either_bptt_is_stubbed_or_a_building_block():
    """While bptt is graded, nothing in rnnlib that computes part of its answer can be called:
    not the engine's bptt, nor any function the textbook or the engine bptt calls."""
    from graders.lessons import EXERCISES
    from rnnlib import engine
    from rnnlib.bptt import bptt as textbook

    helpers = _rnnlib_functions_called(textbook) | _rnnlib_functions_called(engine.bptt)
    assert "input_weight_gradient" in helpers and "output_layer" in helpers, helpers
    # the textbook bptt puts together the other exercises of 04-bptt (graded, so stubbed, with
    # it) and the forward pass and loss of lessons 1 and 3, which the notebook tells it to call
    graded_with_it = {name for name, ex in EXERCISES.items() if ex.assignment == "04-bptt"}
    taught_to_call = {"rnn_forward", "rnn_cell_forward", "cross_entropy"}
    callable_while_graded = sorted(
        helpers - set(stubbed(graded_with_it)) - set(BUILDING_BLOCKS) - taught_to_call
    )
    assert not callable_while_graded, (
        f"rnnlib's bptt calls {callable_while_graded}, which stay callable while bptt is graded"
    )


@pytest.mark.parametrize(
    "exercise",
    ["lstm_cell_forward", "lstm_forward", "lstm_cell_backward", "lstm_backward"]
    + ["gru_cell_forward", "gru_forward", "gru_cell_backward", "gru_backward"],
)
def test_every_function_of_the_gated_fast_paths_is_stubbed_while_a_gated_cell_is_graded(exercise):
    """rnnlib/engine_gated.py runs the LSTM's and GRU's steps in its own code (not by calling the
    exercises): none of it may be callable while one of them is graded."""
    import rnnlib.engine_gated as engine_gated

    tree = ast.parse(Path(engine_gated.__file__).read_text())
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    callable_while_graded = sorted(defined - set(stubbed([exercise])))
    assert not callable_while_graded, (
        f"while {exercise} is graded, rnnlib.engine_gated's {callable_while_graded} stay callable"
    )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_stub_holds_only_the_child_modules(assignment, stub_of):
    stub = stub_of(assignment)
    graders = sorted(p.name for p in (stub / "graders").iterdir())
    assert graders == ["__init__.py", "calls.py", "child.py", "wire.py"], (
        f"{assignment}: the child's graders folder holds {graders}"
    )
    assert not list(stub.rglob("checks.py")), f"{assignment}: checks.py is in the child's folder"
    assert not list(stub.rglob("__pycache__")), f"{assignment}: caches copied into the stub"
    real = sorted(p.name for p in RNNLIB.glob("*.py"))
    assert sorted(p.name for p in (stub / "rnnlib").glob("*.py")) == real, (
        f"{assignment}: the stub rnnlib is not a whole copy of rnnlib"
    )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_stub_imports_without_the_real_course(assignment, stub_of, tmp_path):
    stub = stub_of(assignment)
    out = _in_child(stub, IMPORTS, cwd=tmp_path)
    outside = {m: f for m, f in out["files"].items() if not f.startswith(str(stub))}
    assert not outside, (
        f"{assignment}: the child imported modules from outside its folder: {outside}"
    )
    assert out["absent"] == ["graders.checks", "graders.stubs", "graders.autograde"], (
        f"{assignment}: the child can import more of graders than calls, child, wire: {out}"
    )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_graded_functions_and_their_equivalents_raise(assignment, stub_of, tmp_path):
    stub = stub_of(assignment)
    why = stubbed(ASSIGNMENTS[assignment][1])
    report = _in_child(stub, CALL_EACH, json.dumps(sorted(why)), cwd=tmp_path)
    for name, (kind, message, source) in report.items():
        assert kind == "RuntimeError", (
            f"{assignment}: rnnlib.{name} did not raise: {kind} {message}"
        )
        wanted = f"rnnlib.{name} is not available while {why[name]} is graded"
        assert wanted in message, f"{assignment}: rnnlib.{name} raised {message!r}"
        assert source.startswith(str(stub)), f"{assignment}: rnnlib.{name} came from {source}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_helper_of_the_solutions_is_stubbed(assignment):
    notebook, names = ASSIGNMENTS[assignment]
    nb = course.read_notebook(course.NOTEBOOKS / assignment / f"{notebook}.ipynb")
    used, defined = set(), set()
    for source in course.solution_answers(nb).values():
        tree = ast.parse(source)
        defined |= {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        used |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        used |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    clash = sorted((used - defined) & set(stubbed(names)))
    assert not clash, f"{assignment}: its solutions call {clash}, which the stub makes raise"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solutions_pass_through_the_child(assignment, stub_of, tmp_path):
    notebook, names = ASSIGNMENTS[assignment]
    nb = course.read_notebook(course.NOTEBOOKS / assignment / f"{notebook}.ipynb")
    cases = {}
    for name in names:  # as autograde.Worker._start_child writes them
        cases[name] = checks.make_cases(name, np.random.default_rng(7))
        wire.dump(cases[name], tmp_path / f"cases_{name}.npz")
    spec = autograde.child_spec(names, autograde.child_cells(nb, set(names)))
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    path = ":".join([str(stub_of(assignment)), *autograde._site_dirs()])
    proc = _child_python(BOOTSTRAP, str(tmp_path / "spec.json"), path, cwd=tmp_path)
    assert proc.returncode == 0, f"{assignment}: the child failed:\n{proc.stderr[-3000:]}"
    # other cells keep only call-free assignments, so a name they use may be missing: no matter
    errors = [
        c
        for c in json.loads((tmp_path / "cells.json").read_text())
        if c["error"] and (c["cell"].startswith("answer cell") or "is not available" in c["error"])
    ]
    assert not errors, f"{assignment}: the solution's cells raised in the child: {errors}"
    for name in names:
        verdict = checks.check(name, cases[name], wire.load(tmp_path / f"out_{name}.npz"))
        assert verdict.passed, f"{assignment}: the solution of {name} fails: {verdict.message}"
