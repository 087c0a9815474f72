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
    """All six assignments released into a temporary course root; the release must be clean."""
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
