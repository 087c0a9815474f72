"""Any correct answer earns full marks, in any numpy form: the files of tests/alternatives/ answer
every exercise in at least two forms other than rnnlib's (einsum, np.moveaxis, x[..., t], np.dot,
np.matmul, loops, rng.choice or np.random.seed), and each passes the hidden checks in-process and
earns full marks end to end through `autograde` (the notebook's visible tests included).

The hidden tests hand the functions plain ndarrays (one-hot inputs as dense one-hot arrays), so an
answer that indexes, slices, transposes or loops over them works as it would in the notebook.
"""

from __future__ import annotations

import ast
import csv
import importlib.util
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest

from graders import autograde, checks, classroom, course, release

ROOT = Path(__file__).resolve().parents[1]
ALTERNATIVES = sorted((ROOT / "tests" / "alternatives").glob("*.py"))
SEEDS = (0, 1, 2)


def answers_of(path: Path) -> dict[str, str]:
    """exercise -> answer cell (the file's imports and that function's source) of an alternative."""
    text = path.read_text()
    tree = ast.parse(text)
    imports = [
        ast.get_source_segment(text, n)
        for n in tree.body
        if isinstance(n, (ast.Import, ast.ImportFrom))
    ]
    return {
        node.name: "\n".join([*imports, "", "", ast.get_source_segment(text, node)])
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name in checks.EXERCISES
    }


def assignment_of(path: Path) -> str:
    assignments = {checks.EXERCISES[name].assignment for name in answers_of(path)}
    assert len(assignments) == 1, f"{path.name} answers exercises of {sorted(assignments)}"
    return assignments.pop()


def namespace_of(path: Path) -> dict:
    """The file's functions, run as a notebook runs them (one namespace, calling each other)."""
    spec = importlib.util.spec_from_file_location(f"alternative_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return vars(module)


def test_every_exercise_has_two_alternative_correct_answers():
    count = {name: 0 for name in checks.EXERCISES}
    for path in ALTERNATIVES:
        for name in answers_of(path):
            count[name] += 1
    short = {name: n for name, n in count.items() if n < 2}
    assert not short, f"exercises with fewer than two alternative answers: {short}"


def test_each_alternative_answers_its_whole_notebook():
    for path in ALTERNATIVES:
        assignment = assignment_of(path)
        expected = {n for n, ex in checks.EXERCISES.items() if ex.assignment == assignment}
        assert set(answers_of(path)) == expected, (
            f"{path.name} answers {sorted(answers_of(path))}, its notebook asks for {sorted(expected)}"
        )


PAIRS = [(p, name) for p in ALTERNATIVES for name in answers_of(p)]


@pytest.mark.parametrize("path, name", PAIRS, ids=[f"{p.stem}-{n}" for p, n in PAIRS])
def test_an_alternative_correct_answer_passes_the_hidden_checks(path: Path, name: str):
    fn = namespace_of(path)[name]
    for seed in SEEDS:
        cases = checks.make_cases(name, np.random.default_rng(seed))
        v = checks.check(name, cases, [checks.call(name, fn, case) for case in cases])
        assert v.passed, f"{path.name}'s correct {name} fails (seed {seed}): {v.message}"


@pytest.fixture(scope="module")
def graded_alternatives(tmp_path_factory):
    """Two students per notebook, each handing in one form of every answer; graded once."""
    base = tmp_path_factory.mktemp("alternatives")
    root, submitted = base / "course", base / "submitted"
    by_assignment: dict[str, list[Path]] = {}
    for path in ALTERNATIVES:
        by_assignment.setdefault(assignment_of(path), []).append(path)
    problems = release.release(sorted(by_assignment), root=str(root))
    assert not problems, f"release failed: {problems}"
    students = {}
    for assignment, paths in by_assignment.items():
        for notebook in course.assignments()[assignment]:
            release_nb = course.read_notebook(root / "release" / assignment / f"{notebook}.ipynb")
            for i, path in enumerate(paths):
                student = f"form{i}"
                students[student, assignment] = path.name
                out = submitted / student / assignment / f"{notebook}.ipynb"
                out.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(classroom.make_submission(release_nb, answers_of(path)), out)
    autograde.autograde(submitted, out=base / "out", jobs=2, root=root, progress=False)
    with open(base / "out" / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    yield rows, students
    shutil.rmtree(base, ignore_errors=True)


def test_every_alternative_earns_full_marks_end_to_end(graded_alternatives):
    rows, students = graded_alternatives
    graded = {(r["student"], r["assignment"]) for r in rows}
    assert graded >= set(students), f"not graded: {sorted(set(students) - graded)}"
    for row in rows:
        form = students[row["student"], row["assignment"]]
        assert row["status"] == "ok", f"{form} in {row['assignment']}: status {row['status']!r}"
        assert float(row["max_score"]) > 0 and row["score"] == row["max_score"], (
            f"{form} ({row['assignment']}/{row['notebook']}) "
            f"is correct but scored {row['score']}/{row['max_score']}"
        )
