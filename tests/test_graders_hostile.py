"""Hostile and broken submissions: no false pass, the batch goes on, SUBMISSIONS is untouched,
and the CSV and the feedback say what happened.

One class of 03-loss submissions (tests/hostile/*.py as the softmax answer; cross_entropy keeps
its solution) is graded once, with --jobs 2, by a session fixture; each test reads its row.
"""

from __future__ import annotations

import csv
import hashlib
import html
import json
import os
import secrets
import shutil
from pathlib import Path

import nbformat
import pytest

from graders import autograde, classroom, course, release, results

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "hostile"
ASSIGNMENT, NOTEBOOK = "03-loss", "loss"
MARK = secrets.token_hex(4)
SNIPPETS = sorted(p.stem for p in HOSTILE.glob("*.py"))
POINTS = {"softmax": 2.0, "cross_entropy": 3.0}
# The jail's mount namespace and own uid need root (CI and these machines run as root).
needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="the jail hides paths only when run as root"
)


def _tree_hash(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        + oct(p.stat().st_mode)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _write(submitted: Path, student: str, nb) -> None:
    path = submitted / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def _snippet(name: str) -> str:
    return (HOSTILE / f"{name}.py").read_text().replace("@REPO@", str(ROOT)).replace("@MARK@", MARK)


def build_class(base: Path) -> tuple[Path, Path, Path]:
    """Release 03-loss into base/course and write the hostile class to base/submitted."""
    root, submitted, out = base / "course", base / "submitted", base / "out"
    problems = release.release([ASSIGNMENT], root=str(root))
    assert not problems, f"release failed: {problems}"
    release_nb = course.read_notebook(root / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    source_nb = course.read_notebook(course.NOTEBOOKS / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    solution = course.solution_answers(source_nb)
    wrong = "import numpy as np\n\ndef softmax(z):\n    return np.exp(z) / np.exp(z).sum(axis=1)"
    _write(submitted, "zed_solution", classroom.make_submission(release_nb, solution))
    for name in SNIPPETS:
        _write(
            submitted,
            name,
            classroom.make_submission(release_nb, {**solution, "softmax": _snippet(name)}),
        )
    edited = classroom.make_submission(release_nb, {**solution, "softmax": wrong})
    for cell in edited.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_softmax":
            cell.source = "print('all good')"
    _write(submitted, "edited_test_cell", edited)
    deleted = classroom.make_submission(release_nb, {**solution, "softmax": wrong})
    deleted.cells = [
        c for c in deleted.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "test_softmax"
    ]
    _write(submitted, "deleted_test_cell", deleted)
    skipped = classroom.make_submission(release_nb, {**solution, "softmax": wrong})
    for cell in skipped.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_softmax":
            cell.metadata["tags"] = ["skip-execution"]
    _write(submitted, "skip_tag_on_test", skipped)
    looping = classroom.make_submission(release_nb, solution)
    looping.cells.append(nbformat.v4.new_code_cell("while True:\n    pass"))
    _write(submitted, "loop_after_last_test", looping)
    bad = submitted / "invalid_json" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    bad.parent.mkdir(parents=True)
    bad.write_text('{"cells": [ this is not json')
    return root, submitted, out


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """Grade the hostile class once; returns (rows by student, results by student, paths)."""
    base = tmp_path_factory.mktemp("hostile")
    root, submitted, out = build_class(base)
    before = _tree_hash(submitted)
    results = autograde.autograde(submitted, out=out, jobs=2, root=root, timeout=10, progress=False)
    after = _tree_hash(submitted)
    with open(out / "grades.csv", newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    by_student = {r.student: r for r in results}
    yield {
        "rows": rows,
        "results": by_student,
        "out": out,
        "before": before,
        "after": after,
        "submitted": submitted,
        "root": root,
    }
    for leftover in (ROOT / f"pwned-{MARK}.txt", ROOT / "rnnlib" / f"pwned-{MARK}.py"):
        if leftover.exists():
            leftover.unlink()
    shutil.rmtree(base, ignore_errors=True)


def _feedback(graded, student: str) -> str:
    path = graded["out"] / "feedback" / student / ASSIGNMENT / f"{NOTEBOOK}.html"
    assert path.is_file(), f"no feedback for {student} at {path}"
    return html.unescape(path.read_text())


def _exercise(graded, student: str, name: str) -> results.ExerciseResult:
    res = graded["results"][student]
    return next(e for e in res.exercises if e.name == name)


def _assert_no_false_pass(graded, student: str) -> None:
    row = graded["rows"][student]
    assert float(_exercise(graded, student, "softmax").score) == 0.0, (
        f"{student}: softmax scored {_exercise(graded, student, 'softmax').score}, row {row}"
    )
    assert float(row["score"]) <= POINTS["cross_entropy"], (
        f"{student}: more than cross_entropy's points: {row}"
    )


def test_the_honest_student_in_the_same_batch_gets_full_marks(graded):
    row = graded["rows"]["zed_solution"]
    assert (row["score"], row["max_score"], row["status"]) == ("5", "5", "ok"), row


def test_every_submission_has_a_row_and_feedback(graded):
    expected = {
        *SNIPPETS,
        "zed_solution",
        "edited_test_cell",
        "deleted_test_cell",
        "invalid_json",
        "skip_tag_on_test",
        "loop_after_last_test",
    }
    assert set(graded["rows"]) == expected, f"rows for {sorted(graded['rows'])}"
    for student in expected:
        _feedback(graded, student)


def test_nothing_under_submissions_changes(graded):
    assert graded["before"] == graded["after"], "files under SUBMISSIONS were created or modified"


def test_infinite_loop_is_interrupted_and_needs_review(graded):
    _assert_no_false_pass(graded, "infinite_loop")
    row = graded["rows"]["infinite_loop"]
    assert row["status"].startswith("needs review") and "limit" in row["status"], row
    assert "limit" in _feedback(graded, "infinite_loop")


def test_loop_swallowing_keyboard_interrupt_is_killed_and_needs_review(graded):
    _assert_no_false_pass(graded, "swallow_interrupt")
    row = graded["rows"]["swallow_interrupt"]
    assert row["status"].startswith("needs review"), row
    assert "kernel" in row["status"], row


def test_sys_exit_stops_only_its_cell(graded):
    _assert_no_false_pass(graded, "sys_exit")
    assert _exercise(graded, "sys_exit", "cross_entropy").score == POINTS["cross_entropy"]
    assert "SystemExit" in _feedback(graded, "sys_exit")


@pytest.mark.parametrize("student", ["os_exit", "kill_kernel"])
def test_a_dead_kernel_needs_review_never_an_honest_zero(graded, student):
    _assert_no_false_pass(graded, student)
    row = graded["rows"][student]
    assert row["status"].startswith("needs review") and "kernel" in row["status"], row
    assert "kernel" in _feedback(graded, student), (
        f"{student}: the feedback does not say the kernel died"
    )


@pytest.mark.parametrize("student", ["patch_numpy", "input_transformer"])
def test_defeating_the_in_kernel_tests_scores_nothing_and_is_reported(graded, student):
    _assert_no_false_pass(graded, student)
    row = graded["rows"][student]
    assert row["status"].startswith("failed") and "static check" in row["status"], row
    text = _feedback(graded, student)
    assert "static check" in text, (
        f"{student}: the feedback does not say what the static check found"
    )
    assert "Outside check of softmax" in text.replace("`", "").replace("<code>", "").replace(
        "</code>", ""
    ), f"{student}: the feedback lacks the outside check's verdict"


def test_patching_numpy_voids_the_whole_notebook(graded):
    # the patch is tampering with what every test cell relies on: no exercise of it counts
    results = graded["results"]["patch_numpy"]
    assert all(e.score == 0.0 for e in results.exercises), [
        (e.name, e.score) for e in results.exercises
    ]
    assert not _exercise(graded, "patch_numpy", "softmax").outside_passed
    status = graded["rows"]["patch_numpy"]["status"]
    assert "patches np.allclose" in status, status


def test_importing_the_reference_from_rnnlib_scores_nothing(graded):
    _assert_no_false_pass(graded, "import_rnnlib")
    row = graded["rows"]["import_rnnlib"]
    assert row["status"].startswith("failed") and "rnnlib" in row["status"], row
    assert "imports the reference softmax from rnnlib" in _feedback(graded, "import_rnnlib")


def test_always_equal_object_scores_nothing(graded):
    _assert_no_false_pass(graded, "always_equal")
    assert "softmax" in _exercise(graded, "always_equal", "softmax").outside_message


def test_edited_test_cell_is_restored_and_reported(graded):
    _assert_no_false_pass(graded, "edited_test_cell")
    row = graded["rows"]["edited_test_cell"]
    assert "test_softmax was edited" in row["status"], row
    assert "test_softmax was edited" in _feedback(graded, "edited_test_cell")


def test_deleted_test_cell_is_put_back_and_reported(graded):
    _assert_no_false_pass(graded, "deleted_test_cell")
    assert _exercise(graded, "deleted_test_cell", "softmax").in_kernel == 0.0, (
        "the test cell was not put back"
    )
    assert "test_softmax was deleted" in graded["rows"]["deleted_test_cell"]["status"]


def test_a_skip_execution_tag_on_a_test_cell_is_ignored(graded):
    _assert_no_false_pass(graded, "skip_tag_on_test")
    assert _exercise(graded, "skip_tag_on_test", "softmax").in_kernel == 0.0, (
        "the tagged test cell did not run: its wrong answer was not caught in the kernel"
    )


def test_cells_after_the_last_test_are_not_run_and_the_feedback_says_so(graded):
    row = graded["rows"]["loop_after_last_test"]
    assert (row["score"], row["status"]) == ("5", "ok"), (
        f"an endless loop after the last test should neither run nor cost points: {row}"
    )
    assert "were not run while grading" in _feedback(graded, "loop_after_last_test")


def test_invalid_json_needs_review_with_zero(graded):
    row = graded["rows"]["invalid_json"]
    assert row["score"] == "0" and row["status"].startswith("needs review"), row
    assert "not a valid notebook" in row["status"], row


def test_fifty_megabytes_of_output_are_cut(graded):
    out = graded["out"] / "feedback" / "big_output" / ASSIGNMENT / f"{NOTEBOOK}.html"
    assert out.stat().st_size < 5_000_000, f"feedback is {out.stat().st_size:,} bytes"
    assert "output truncated" in out.read_text()
    graded_nb = graded["root"] / "autograded" / "big_output" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    assert graded_nb.stat().st_size < 5_000_000, (
        f"autograded notebook is {graded_nb.stat().st_size:,} bytes"
    )
    assert graded["rows"]["big_output"]["score"] == "5", (
        "a correct answer that prints a lot still counts"
    )


def test_huge_allocation_fails_cleanly(graded):
    _assert_no_false_pass(graded, "huge_allocation")
    assert "MemoryError" in _feedback(graded, "huge_allocation")


@needs_root
def test_source_notebooks_gradebook_and_classmates_are_out_of_reach(graded):
    text = _feedback(graded, "read_secrets")
    assert "MISSING" in text, "the probe did not run"
    assert "FOUND:" not in text, (
        "the student's code read a protected file: " + text[text.find("FOUND:") :][:300]
    )
    for secret in ("BEGIN HIDDEN TESTS", "run_hidden_checks", "BEGIN SOLUTION", "SQLite format 3"):
        assert secret not in text, f"feedback shows {secret!r}"


@needs_root
def test_writing_outside_its_folder_is_denied(graded):
    text = _feedback(graded, "write_outside")
    assert "DENIED" in text, "the probe did not run"
    # /tmp, /run/lock and HOME are the jail's own throwaway tmpfs: writes there vanish with it
    throwaway = ("WROTE: /tmp/", "WROTE: /run/lock/")
    wrote = [
        line for line in text.splitlines() if "WROTE:" in line and not line.startswith(throwaway)
    ]
    assert not wrote, f"the student's code wrote outside its jail: {wrote[:3]}"
    for path in (
        ROOT / f"pwned-{MARK}.txt",
        ROOT / "rnnlib" / f"pwned-{MARK}.py",
        Path(f"/tmp/pwned-{MARK}.txt"),
        Path(f"/run/lock/pwned-{MARK}.txt"),
        Path(os.path.expanduser(f"~/pwned-{MARK}.txt")),
    ):
        assert not path.exists(), f"{path} was written"


@pytest.mark.parametrize("student", ["zed_solution", "patch_numpy"])
def test_feedback_hides_hidden_tests_and_their_tracebacks(graded, student):
    text = _feedback(graded, student)
    assert "run_hidden_checks" not in text and "BEGIN HIDDEN TESTS" not in text
    assert "graders/checks.py" not in text, "a traceback quotes the hidden checks"


def test_gradebook_agrees_with_the_csv(graded):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{graded['root'] / 'gradebook.db'}", course.COURSE_ID) as gb:
        for student in ("zed_solution", "patch_numpy", "import_rnnlib"):
            sub = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student)
            assert float(sub.score) == float(graded["rows"][student]["score"]), (
                f"{student}: gradebook {sub.score}, CSV {graded['rows'][student]['score']}"
            )
        comment = gb.find_comment("softmax", NOTEBOOK, ASSIGNMENT, "patch_numpy")
        assert comment.manual_comment and "static check" in comment.manual_comment


def test_results_json_matches_the_csv(graded):
    details = json.loads((graded["out"] / "results.json").read_text())
    assert {d["student"]: d["status"] for d in details} == {
        s: r["status"] for s, r in graded["rows"].items()
    }
