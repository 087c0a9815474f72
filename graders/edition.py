"""The student edition of rnnlib: the package students install, without the answers still open.

This repository's rnnlib is the reference implementation of every exercise; a student who has
it can read each answer. :func:`build_edition` writes an installable copy of it
(``pip install course/student-edition``) in which each function that answers an open exercise,
and each function that computes the same thing (graders/stubs.py's EQUIVALENTS), has lost its
body. In its place the function calls the student's own definition of that name, from the
notebook they are working in (``__main__``, the kernel's namespace), so the lessons' demos run
on their own code; without one it raises NotImplementedError naming the notebook to write it in.
The exercises of the assignments before the open ones keep their reference code: a later lesson
imports them (``from rnnlib import rnn_forward`` in 03-loss).

    python -m graders release 03-loss      # 03-loss and every later assignment are open
"""

from __future__ import annotations

import ast
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

from graders import course, stubs

FOLDER = "student-edition"  # beside release/ in the course root

DELEGATE = '''"""What the student edition's open exercises call instead of the reference answer."""

import sys


def own(name: str, exercise: str, notebook: str):
    """The student's own ``exercise``, defined in the notebook being run (``__main__``), when
    rnnlib's ``name`` is that exercise; otherwise (``name`` computes what the exercise does)
    a NotImplementedError that says so."""
    if name != exercise:
        raise NotImplementedError(
            f"rnnlib.{name} computes what the exercise {exercise} of {notebook} does, so this "
            "student edition of rnnlib does not have it yet."
        )
    fn = getattr(sys.modules.get("__main__"), name, None)
    if callable(fn) and getattr(fn, "__module__", None) == "__main__":
        return fn
    raise NotImplementedError(
        f"rnnlib.{name} is an exercise of {notebook}: this student edition of rnnlib has no "
        f"answer for it. Write {name} in that notebook and run its cell first."
    )
'''

PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "rnnlib"
version = "{version}+student"
description = "The student edition of rnnlib: open exercises are yours to write."
requires-python = ">=3.10"
dependencies = {dependencies}

[tool.setuptools]
packages = ["rnnlib"]
"""


def open_exercises(open_assignments: Iterable[str], source: Path | None = None) -> dict[str, str]:
    """Exercise name -> the notebook it is written in (``03-loss/loss.ipynb``), for the
    exercises of ``open_assignments``."""
    source = Path(source or course.NOTEBOOKS)
    found: dict[str, str] = {}
    for assignment in open_assignments:
        for name in course.assignments(source).get(assignment, []):
            nb = course.read_notebook(source / assignment / f"{name}.ipynb")
            for ex in course.exercises_of(nb):
                found.setdefault(ex.name, f"{assignment}/{name}.ipynb")
    return found


def later_assignments(first: Iterable[str], source: Path | None = None) -> list[str]:
    """``first`` and every assignment after the earliest of them, in course order."""
    names = list(course.assignments(source or course.NOTEBOOKS))
    first = [a for a in first if a in names]
    if not first:
        return []
    return names[min(names.index(a) for a in first) :]


def delegate_functions(source: str, answers: Mapping[str, tuple[str, str]]) -> str:
    """``source`` with each top-level function named in ``answers`` (name -> the exercise it
    answers and that exercise's notebook) replaced by its signature, its docstring and a call of
    ``_edition.own`` (its arguments passed on as they came)."""
    tree = ast.parse(source)
    lines = source.splitlines()
    for node in sorted(tree.body, key=lambda n: -n.lineno):
        if not isinstance(node, ast.FunctionDef) or node.name not in answers:
            continue
        body = node.body
        has_doc = isinstance(body[0], ast.Expr) and isinstance(
            getattr(body[0], "value", None), ast.Constant
        )
        first = body[1].lineno - 1 if has_doc and len(body) > 1 else body[0].lineno - 1
        if has_doc and len(body) == 1:
            first = body[0].end_lineno
        indent = " " * body[0].col_offset
        exercise, notebook = answers[node.name]
        call = f"own({node.name!r}, {exercise!r}, {notebook!r})({_arguments(node.args)})"
        lines[first : node.end_lineno] = [
            f"{indent}from rnnlib._edition import own",
            "",
            f"{indent}return {call}",
        ]
    return "\n".join(lines) + "\n"


def _arguments(args: ast.arguments) -> str:
    """The call that passes a function's own parameters on, e.g. ``x, a0, *rest, k=k, **kw``."""
    out = [a.arg for a in (*args.posonlyargs, *args.args)]
    if args.vararg:
        out.append(f"*{args.vararg.arg}")
    out += [f"{a.arg}={a.arg}" for a in args.kwonlyargs]
    if args.kwarg:
        out.append(f"**{args.kwarg.arg}")
    return ", ".join(out)


def build_edition(dest: Path, open_assignments: Iterable[str], source: Path | None = None) -> Path:
    """Write the student edition to ``dest`` (replacing it): ``pyproject.toml`` and ``rnnlib/``.

    Open: the exercises of ``open_assignments`` and their EQUIVALENTS. Returns ``dest``."""
    import importlib.metadata

    import rnnlib

    notebooks = open_exercises(open_assignments, source)
    why = stubs.stubbed(notebooks)  # each function to empty -> the exercise it answers
    where = {fn: (exercise, notebooks[exercise]) for fn, exercise in why.items()}
    dest = Path(dest)
    shutil.rmtree(dest, ignore_errors=True)
    real = Path(rnnlib.__file__).resolve().parent
    shutil.copytree(real, dest / "rnnlib", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for py in sorted((dest / "rnnlib").glob("*.py")):
        text = py.read_text(encoding="utf-8")
        new = delegate_functions(text, where)
        if new != text:
            py.write_text(new, encoding="utf-8")
    (dest / "rnnlib" / "_edition.py").write_text(DELEGATE, encoding="utf-8")
    dist = importlib.metadata.distribution("rnnlib")
    deps = [r for r in dist.requires or [] if "extra ==" not in r]
    (dest / "pyproject.toml").write_text(
        PYPROJECT.format(version=dist.version, dependencies=repr(deps).replace("'", '"'))
    )
    return dest


def emptied(dest: Path, open_assignments: Iterable[str], source: Path | None = None) -> list[str]:
    """Each function of the edition at ``dest`` that should have lost its body and has not, as
    'file: function' lines (empty when every open answer is gone)."""
    why = stubs.stubbed(open_exercises(open_assignments, source))
    problems = []
    for py in sorted((Path(dest) / "rnnlib").glob("*.py")):
        for node in ast.parse(py.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.FunctionDef) or node.name not in why:
                continue
            body = [
                n
                for n in node.body
                if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))
            ]
            delegates = (
                len(body) == 2
                and isinstance(body[0], ast.ImportFrom)
                and isinstance(body[1], ast.Return)
                and isinstance(body[1].value, ast.Call)
                and isinstance(body[1].value.func, ast.Call)
                and getattr(body[1].value.func.func, "id", None) == "own"
            )
            if not delegates:
                problems.append(f"{py}: {node.name} keeps code of its own")
    return problems
