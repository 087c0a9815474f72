"""Generate the student versions (nbgrader generate_assignment) and prove they leak nothing.

The check reads every file of the release and looks for any line of a solution region (between
BEGIN/END SOLUTION in the source notebooks), of a hidden-test region, or of the body of an rnnlib
function under grade, and for the region markers themselves. A line that the source notebook
also shows students elsewhere (a visible test, the prose) is public and not counted.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import shutil
from pathlib import Path

from graders import course

MIN_LINE = 12  # shorter lines ("return a", "m = 1") are too common to prove a leak
MARKERS = (course.SOLUTION_BEGIN, course.SOLUTION_END, course.HIDDEN_BEGIN, course.HIDDEN_END)


def _regions(source: str, begin: str, end: str) -> tuple[list[str], list[str]]:
    """(lines inside begin/end regions, lines outside), stripped."""
    inside, outside = course.regions(source, begin, end)
    return [line.strip() for line in inside], [line.strip() for line in outside]


def reference_body_lines(name: str) -> list[str]:
    """The lines of rnnlib's ``name`` after its docstring (empty if rnnlib has no such function)."""
    import ast

    import rnnlib

    fn = getattr(rnnlib, name, None)
    if fn is None:
        return []
    fn = inspect.unwrap(fn)
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):
        return []
    import textwrap

    tree = ast.parse(textwrap.dedent(source)).body[0]
    body = tree.body
    start = (
        body[1]
        if len(body) > 1
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        else body[0]
    )
    lines = textwrap.dedent(source).splitlines()
    return [line.strip() for line in lines[start.lineno - 1 : tree.end_lineno]]


def secrets_of(source_nb) -> tuple[set[str], set[str]]:
    """(solution lines, hidden-test lines) of a source notebook, without its public lines."""
    solution, hidden, public = set(), set(), set()
    for cell in source_nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        src = cell.source
        if cell.cell_type == "code" and meta.get("solution"):
            inside, outside = _regions(src, course.SOLUTION_BEGIN, course.SOLUTION_END)
            solution.update(inside)
            public.update(outside)
            solution.update(reference_body_lines(meta.get("grade_id", "")))
        elif cell.cell_type == "code" and meta.get("grade"):
            inside, outside = _regions(src, course.HIDDEN_BEGIN, course.HIDDEN_END)
            hidden.update(inside)
            public.update(outside)
        else:
            public.update(line.strip() for line in src.splitlines())

    def keep(line: str) -> bool:
        return len(line) >= MIN_LINE and line not in public and not line.startswith("#")

    return {x for x in solution if keep(x)}, {x for x in hidden if keep(x)}


def _texts(path: Path) -> list[tuple[str, str]]:
    """(where, text) pieces of a release file: each cell's source and outputs for a notebook."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix != ".ipynb":
        return [(str(path), raw)]
    try:
        nb = json.loads(raw)
    except ValueError:
        return [(str(path), raw)]
    pieces = []
    for i, cell in enumerate(nb.get("cells", [])):
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else src
        label = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or f"cell {i}"
        pieces.append((f"{path}:{label}", src + "\n" + json.dumps(cell.get("outputs", []))))
    pieces.append((f"{path}:metadata", json.dumps(nb.get("metadata", {}))))
    return pieces


def verify_release(release_dir: Path, source_dir: Path, assignments: list[str]) -> list[str]:
    """Every leak found in the release of ``assignments``, as 'file:cell: what' lines."""
    problems = []
    for assignment in assignments:
        solution: set[str] = set()
        hidden: set[str] = set()
        for src in sorted((source_dir / assignment).glob("*.ipynb")):
            s, h = secrets_of(course.read_notebook(src))
            solution |= s
            hidden |= h
        folder = release_dir / assignment
        if not folder.is_dir():
            problems.append(f"{folder}: no release was generated")
            continue
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            for where, text in _texts(path):
                lines = {line.strip() for line in text.replace("\\n", "\n").splitlines()}
                lines |= {line.strip().strip('",') for line in lines}
                for marker in MARKERS:
                    if marker in text:
                        problems.append(f"{where}: contains the marker {marker!r}")
                for line in sorted(solution & lines):
                    problems.append(f"{where}: solution code: {line[:80]!r}")
                for line in sorted(hidden & lines):
                    problems.append(f"{where}: hidden-test text: {line[:80]!r}")
    return problems


class UnknownAssignmentError(ValueError):
    """An assignment asked for is not a folder of notebooks in the course's source."""


def check_known(assignments: list[str], known: list[str]) -> None:
    """Raise UnknownAssignmentError naming the unknown ones and listing the known ones."""
    unknown = [a for a in assignments if a not in known]
    if unknown:
        which = ", ".join(repr(a) for a in unknown)
        raise UnknownAssignmentError(
            f"unknown assignment{'s' if len(unknown) > 1 else ''} {which}; "
            f"the course's assignments are: {', '.join(known) or '(none)'}"
        )


def release(
    assignments: list[str] | None = None,
    root: str | None = None,
    db: str | None = None,
    source: str | None = None,
) -> list[str]:
    """nbgrader generate_assignment for each assignment (all by default), with the assignment's
    Validate limits (graders.course.validate_config) and the course's one-page summary
    (notebooks/SUMMARY.md) beside its notebook, then verify_release.

    Returns the problems found (empty when the release is clean); a failed generation is one.
    Raises UnknownAssignmentError, before any work, for an assignment the source does not have.
    """
    import os
    import sys

    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    course.read_alembic_head_in_process()
    config = course.make_config(root=root, source=source, url=db)
    source_dir = Path(config.CourseDirectory.source_directory)
    names = assignments or list(course.assignments(source_dir))
    check_known(names, list(course.assignments(source_dir)))
    Path(config.CourseDirectory.root).mkdir(parents=True, exist_ok=True)
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    problems = []
    for name in names:
        with contextlib.redirect_stderr(io.StringIO()):
            result = api.generate_assignment(name, force=True, create=True)
        if not result.get("success"):
            tail = (result.get("error") or result.get("log") or "").strip().splitlines()[-1:]
            problems.append(f"{name}: nbgrader generate_assignment failed: {' '.join(tail)}")
            continue
        folder = Path(config.CourseDirectory.root) / "release" / name
        (folder / course.VALIDATE_CONFIG).write_text(course.validate_config(name), encoding="utf-8")
        if course.SUMMARY.is_file():  # the one-page summary, beside every assignment
            shutil.copyfile(course.SUMMARY, folder / course.SUMMARY.name)
    root_path = Path(config.CourseDirectory.root)
    (root_path / "exchange").mkdir(parents=True, exist_ok=True)
    problems += verify_release(root_path / "release", source_dir, names)
    problems += release_edition(root_path, source_dir, names)
    return problems


def release_edition(root: Path, source_dir: Path, released: list[str]) -> list[str]:
    """Build the student edition of rnnlib (graders/edition.py) with the released assignments
    and every later one open, and check that no open exercise's function kept its code."""
    from graders import edition

    open_assignments = edition.later_assignments(released, source_dir)
    dest = edition.build_edition(root / edition.FOLDER, open_assignments, source_dir)
    return edition.emptied(dest, open_assignments, source_dir)
