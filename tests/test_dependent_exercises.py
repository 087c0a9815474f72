"""An exercise whose visible test calls the student's own earlier function is graded on its own.

The visible test of ``lstm_cell_backward`` builds its cache with the student's
``lstm_cell_forward``: when that one is wrong, the backward's visible test fails however right the
backward is. The outside check draws its cases from the course's own functions, so it is the
whole evidence then: the backward keeps its points, the feedback says why, and no person has to
review it. A visible test that fails for any other reason while the outside check passes still
needs review.

Unit tests read ``course.exercises_of`` on small notebooks; the end-to-end ones grade a class of
07-lstm submissions with autograde.autograde (see ``graded``).
"""

from __future__ import annotations

import html
import json
import re
import shutil

import nbformat
import pytest

from graders import autograde, classroom, course, lessons, release
from graders.lessons import answer_cell

ASSIGNMENT, NOTEBOOK = "07-lstm", "lstm"

# ------------------------------------------------------------------------------------------
# Unit: which earlier exercises a visible test calls
# ------------------------------------------------------------------------------------------


def _exercise_cells(name: str, test: str) -> list[nbformat.NotebookNode]:
    answer = nbformat.v4.new_code_cell(f"def {name}():\n    pass")
    answer.metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": name}
    check = nbformat.v4.new_code_cell(test)
    check.metadata["nbgrader"] = {"grade": True, "grade_id": f"test_{name}", "points": 1}
    return [answer, check]


USES = [
    ("a call", "assert second(first()) == 1", ("first",)),
    ("no call", "assert second() == 1", ()),
    (
        "a call inside the hidden tests",
        f"assert second()\n{course.HIDDEN_BEGIN}\nfirst()\n{course.HIDDEN_END}",
        (),
    ),
    ("rnnlib's function of that name", "import rnnlib\nassert second(rnnlib.first())", ()),
    ("the name in a docstring and a comment", '"""first: ..."""\nsecond()  # first()', ()),
    ("the name without a call", "assert callable(first) and second()", ()),
    ("a cell that is not Python", "%%bash\nfirst(", ()),
]


@pytest.mark.parametrize("test, uses", [u[1:] for u in USES], ids=[u[0] for u in USES])
def test_an_exercise_uses_the_earlier_exercises_its_visible_test_calls(test, uses):
    nb = nbformat.v4.new_notebook(
        cells=_exercise_cells("first", "assert first() is None") + _exercise_cells("second", test)
    )
    found = {e.name: e.uses for e in course.exercises_of(nb)}
    assert found == {"first": (), "second": uses}, f"visible test {test!r}: uses {found}"


def test_a_later_exercise_is_not_a_dependency():
    nb = nbformat.v4.new_notebook(
        cells=_exercise_cells("first", "assert second() is None") + _exercise_cells("second", "")
    )
    found = {e.name: e.uses for e in course.exercises_of(nb)}
    assert found == {"first": (), "second": ()}, f"a later exercise counted as used: {found}"


def test_the_lstm_backward_exercises_use_the_forward_ones():
    nb = course.read_notebook(course.NOTEBOOKS / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    found = {e.name: e.uses for e in course.exercises_of(nb)}
    assert found["lstm_cell_backward"] == ("lstm_cell_forward",), found
    assert found["lstm_backward"] == ("lstm_forward",), found


# ------------------------------------------------------------------------------------------
# End to end: a class of 07-lstm
# ------------------------------------------------------------------------------------------

# correct everywhere except in the kernel, where it raises: what the course cannot explain
KERNEL_ONLY = """
import sys

def lstm_cell_backward(da_next, dc_next, cache):
    if any("ipykernel" in arg for arg in sys.argv):
        raise RuntimeError("only in the kernel")
    return _right(da_next, dc_next, cache)
"""


def _answers(solution: dict[str, str]) -> dict[str, dict[str, str]]:
    wrong_cell = answer_cell(lessons.lstm.cell_tanh_forgotten, "lstm_cell_forward")
    right = solution["lstm_cell_backward"].replace("def lstm_cell_backward(", "def _right(", 1)
    return {
        "honest": solution,
        "wrong_cell_forward": {**solution, "lstm_cell_forward": wrong_cell},
        "blank_cell_forward": {
            **solution,
            "lstm_cell_forward": "def lstm_cell_forward(xt, a_prev, c_prev, parameters):\n"
            "    raise NotImplementedError()",
        },
        "kernel_only_failure": {**solution, "lstm_cell_backward": right + "\n" + KERNEL_ONLY},
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("dependent")
    root = base / "course"
    problems = release.release([ASSIGNMENT], root=str(root))
    assert not problems, f"release failed: {problems}"
    release_nb = course.read_notebook(root / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    solution = course.solution_answers(
        course.read_notebook(course.NOTEBOOKS / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    )
    submitted = base / "submitted"
    for student, answers in _answers(solution).items():
        path = submitted / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(classroom.make_submission(release_nb, answers), path)
    out = base / "out"
    autograde.autograde(submitted, out=out, jobs=2, root=root, progress=False)
    rows = {row["student"]: row for row in json.loads((out / "results.json").read_text())}
    for student, row in rows.items():
        page = out / "feedback" / student / ASSIGNMENT / f"{NOTEBOOK}.html"
        row["feedback_text"] = html.unescape(page.read_text(encoding="utf-8"))
    yield rows
    shutil.rmtree(base, ignore_errors=True)


def _exercise(row: dict, name: str) -> dict:
    return next(e for e in row["exercises"] if e["name"] == name)


def test_the_honest_control_gets_full_marks(graded):
    row = graded["honest"]
    assert row["status"] == "ok" and row["score"] == row["max_score"], row


@pytest.mark.parametrize("student", ["wrong_cell_forward", "blank_cell_forward"])
def test_a_right_backward_keeps_its_points_when_the_forward_it_is_tested_with_is_wrong(
    graded, student
):
    row = graded[student]
    forward, backward = _exercise(row, "lstm_cell_forward"), _exercise(row, "lstm_cell_backward")
    assert forward["score"] == 0, f"{student}: the wrong forward earned marks: {forward}"
    assert backward["in_kernel"] == 0, (
        f"{student}: the backward's visible test should fail with this forward: {backward}"
    )
    assert backward["score"] == backward["points"], (
        f"{student}: the right backward lost its points: {backward}"
    )
    assert not row["status"].startswith("needs review"), (
        f"{student}: a failure the grader can explain is sent for review: {row['status']}"
    )


@pytest.mark.parametrize("student", ["wrong_cell_forward", "blank_cell_forward"])
def test_the_feedback_says_why_the_backward_kept_its_points(graded, student):
    text = " ".join(re.sub(r"<[^>]+>", "", graded[student]["feedback_text"]).split())
    for said in (
        "its visible test failed because it calls your lstm_cell_forward, which the outside "
        "check found wrong; lstm_cell_backward keeps its points",  # below the test cell
        "passed (its visible test failed: it calls your wrong lstm_cell_forward)",  # the table
    ):
        assert said in text, f"{student}: the feedback does not say {said!r}"


def test_a_visible_test_failing_for_no_reason_the_grader_knows_still_needs_review(graded):
    row = graded["kernel_only_failure"]
    backward = _exercise(row, "lstm_cell_backward")
    assert backward["in_kernel"] == 0, f"the kernel-only failure passed in the kernel: {backward}"
    assert row["status"].startswith("needs review"), (
        f"an unexplained disagreement of the two checks is not sent for review: {row}"
    )
    assert backward["score"] == 0, f"the unexplained disagreement scored: {backward}"
