"""The feedback a student gets back shows the figures their notebook drew.

The reference solution of 01-forward and 03-loss is graded end to end (release, a submission of
the solutions, autograde as root in its sandboxes); its feedback pages must carry, as <img> PNGs,
as many figures as the instructor's notebook draws in the cells that are run while grading (up
to the last test cell), each within the output limit and through the page's sanitizer.
"""

from __future__ import annotations

import base64
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from graders import autograde, classroom, course, release

ASSIGNMENTS = {"01-forward": "forward", "03-loss": "loss"}
IMG = re.compile(r'<img [^>]*src="data:image/png;base64,([A-Za-z0-9+/=\s]+)"')


def expected_figures(assignment: str, notebook: str) -> int:
    """Figures the instructor's (executed) notebook shows in the cells graded: up to the last test."""
    nb = course.read_notebook(course.NOTEBOOKS / assignment / f"{notebook}.ipynb")
    last = course.last_test_index(nb)
    return sum(
        "image/png" in out.get("data", {})
        for cell in nb.cells[: last + 1]
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    )


def grade_solutions(base: Path, assignments: dict[str, str], zygote: bool) -> Path:
    """Release ``assignments``, submit their solutions as student 'solution', autograde; returns
    the folder of the feedback pages."""
    root, submitted = base / "course", base / "submitted"
    problems = release.release(list(assignments), root=str(root))
    assert not problems, f"release failed: {problems}"
    for assignment, notebook in assignments.items():
        release_nb = course.read_notebook(root / "release" / assignment / f"{notebook}.ipynb")
        source = course.read_notebook(course.NOTEBOOKS / assignment / f"{notebook}.ipynb")
        path = submitted / "solution" / assignment / f"{notebook}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(classroom.make_submission(release_nb, course.solution_answers(source)), path)
    results = autograde.autograde(
        submitted, out=base / "out", jobs=2, root=root, progress=False, zygote=zygote
    )
    assert all(r.score == r.max_score for r in results), [(r.notebook, r.status) for r in results]
    return base / "out" / "feedback" / "solution"


@pytest.fixture(scope="module")
def feedback(tmp_path_factory):
    base = tmp_path_factory.mktemp("figures")
    yield grade_solutions(base, ASSIGNMENTS, zygote=True)
    shutil.rmtree(base, ignore_errors=True)


def _images(page: Path) -> list[bytes]:
    assert page.is_file(), f"no feedback page at {page}"
    return [base64.b64decode(m) for m in IMG.findall(page.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("assignment", list(ASSIGNMENTS))
def test_expected_figures_are_counted_from_the_instructors_notebook(assignment):
    assert expected_figures(assignment, ASSIGNMENTS[assignment]) >= 2, (
        f"{assignment} should draw figures before its last test, or this test shows nothing"
    )


@pytest.mark.parametrize("assignment", list(ASSIGNMENTS))
def test_the_feedback_shows_the_reference_solutions_figures_as_images(feedback, assignment):
    notebook = ASSIGNMENTS[assignment]
    images = _images(feedback / assignment / f"{notebook}.html")
    expected = expected_figures(assignment, notebook)
    assert len(images) == expected, (
        f"{assignment}: the feedback shows {len(images)} figures as <img>, the notebook draws "
        f"{expected} in the cells graded (is the grading kernel's matplotlib backend inline?)"
    )
    for png in images:
        assert png.startswith(b"\x89PNG\r\n\x1a\n"), "an <img> that is not a PNG"
        assert len(base64.b64encode(png)) <= course.MAX_OUTPUT_BYTES, (
            f"a {len(png):,}-byte figure is over the per-cell output limit"
        )


def test_a_cold_kernel_shows_the_figures_too(tmp_path):
    """Without the zygote (graders/zygote.py) every kernel starts from scratch: same figures."""
    pages = grade_solutions(tmp_path, {"03-loss": "loss"}, zygote=False)
    images = _images(pages / "03-loss" / "loss.html")
    expected = expected_figures("03-loss", "loss")
    assert len(images) == expected, f"a cold kernel's feedback shows {len(images)} of {expected}"
