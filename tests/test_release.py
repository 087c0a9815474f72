"""The student versions as nbgrader makes them: they run, fail only where work is missing, and
`nbgrader validate` tells a finished notebook from an unfinished one.

Each notebook is executed twice here (source and release) by nbgrader's own Validator, the code
behind `nbgrader validate` and the Validate button.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from nbgrader.validator import Validator
from test_notebooks import COURSE

from graders import course, release

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    """All the assignments released into a temporary course root; the release must be clean."""
    root = tmp_path_factory.mktemp("course")
    problems = release.release(root=str(root))
    assert problems == [], f"the release leaks or failed: {problems}"
    return root / "release"


@pytest.mark.parametrize("rel", list(COURSE))
def test_source_notebook_passes_nbgrader_validate(rel):
    results = Validator().validate(str(ROOT / "notebooks" / rel))
    assert results == {}, f"nbgrader validate fails on the source {rel}: {results}"


@pytest.mark.parametrize("rel", list(COURSE))
def test_student_version_fails_only_with_not_implemented_error(released, rel):
    student = released / rel
    assert student.is_file(), f"no student version {student}"
    nb = course.read_notebook(student)
    for cell in nb.cells:
        assert "### BEGIN SOLUTION" not in cell.source, f"{rel}: a solution survived the release"
        assert "BEGIN HIDDEN TESTS" not in cell.source, f"{rel}: hidden tests survived the release"
    # validate_all: every code cell that errors counts as failed, not only the graded ones
    results = Validator(validate_all=True).validate(str(student))
    failed = results.get("failed", [])
    if not COURSE[rel]:  # a lesson without exercises runs as released
        assert not failed, f"{rel} has no exercises, yet its release fails: {failed[:1]}"
        return
    assert failed, f"nbgrader validate passes the unanswered {rel}: its tests check nothing"
    for cell in failed:
        error = cell["raw_error"]
        assert "NotImplementedError" in error, (
            f"{rel}: the unanswered release fails with something other than the exercises' "
            f"NotImplementedError in:\n{cell['source'][:300]}\n---\n{error[-800:]}"
        )
    failed_sources = {cell["source"] for cell in failed}
    graded = [
        c.source.strip() for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")
    ]
    missing = [s.splitlines()[0] for s in graded if s not in failed_sources]
    assert not missing, f"{rel}: test cells that pass although nothing is answered: {missing}"


def test_release_writes_the_student_edition_of_rnnlib(released):
    from graders import edition

    dest = released.parent / edition.FOLDER
    assert (dest / "pyproject.toml").is_file() and (dest / "rnnlib" / "_edition.py").is_file(), (
        f"release did not write the student edition to {dest}"
    )
    # every assignment was released: every exercise is open and none kept its answer
    assert edition.emptied(dest, list(course.assignments())) == []


@pytest.mark.parametrize("rel", list(COURSE))
def test_student_version_keeps_the_test_cells_collapsed(released, rel):
    nb = course.read_notebook(released / rel)
    graded = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")]
    assert graded or not COURSE[rel], f"{rel}: no test cells in the release"
    for cell in graded:
        assert cell.metadata.get("jupyter", {}).get("source_hidden") is True, (
            f"{rel}: the release shows test cell {cell.source.splitlines()[0]!r} expanded"
        )


@pytest.mark.parametrize("rel", list(COURSE))
def test_release_ships_the_validate_limit_that_fits_its_notebook(released, rel):
    """The Validate button loads nbgrader_config.py from the folder JupyterLab runs in, as
    nbgrader's validate handler does; the release ships one per assignment with its limit."""
    import os

    from nbgrader.apps import NbGrader
    from nbgrader.preprocessors import Execute

    assignment = rel.split("/")[0]
    folder = released / assignment
    assert (folder / course.VALIDATE_CONFIG).is_file(), f"{assignment}: no {course.VALIDATE_CONFIG}"
    here = os.getcwd()
    os.chdir(folder)
    try:
        app = NbGrader()
        app.config_file_paths.append([os.getcwd()])
        app.load_config_file()
    finally:
        os.chdir(here)
    timeout = Execute(config=app.config).timeout
    wanted = course.VALIDATE_TIMEOUTS.get(assignment, course.VALIDATE_TIMEOUT_DEFAULT)
    assert timeout == wanted, (
        f"{assignment}: the Validate button would allow {timeout} s per cell, "
        f"graders.course says {wanted}"
    )
    assert timeout > 30, f"{assignment}: {timeout} s is no more than nbgrader's default of 30 s"


def test_the_summary_page_is_released_and_is_no_assignment(released):
    assert course.SUMMARY.is_file(), f"{course.SUMMARY} is missing"
    assert course.SUMMARY.name not in course.assignments(), "SUMMARY.md taken for an assignment"
    assert all(p.parent.name != "notebooks" for p in notebooks_sources()), (
        "tools/notebooks.py would build SUMMARY.md as a notebook"
    )
    for assignment in course.assignments():
        shipped = released / assignment / course.SUMMARY.name
        assert shipped.is_file(), f"{assignment}: the release lacks {course.SUMMARY.name}"
        assert shipped.read_text() == course.SUMMARY.read_text(), f"{assignment}: a stale summary"


def notebooks_sources():
    import importlib.util

    spec = importlib.util.spec_from_file_location("notebooks_tool", ROOT / "tools" / "notebooks.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool.course_sources()
