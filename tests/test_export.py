"""Grades into the LMS: Canvas's gradebook import, and a CSV per exercise."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from graders import export

ROSTER = [
    {"Student": "Lovelace, Ada", "ID": "101", "SIS User ID": "u1", "SIS Login ID": "ada",
     "Section": "A"},
    {"Student": "Turing, Alan", "ID": "102", "SIS User ID": "u2", "SIS Login ID": "alan",
     "Section": "A"},
    {"Student": "Hopper, Grace", "ID": "103", "SIS User ID": "u3", "SIS Login ID": "grace",
     "Section": "B"},
]  # fmt: skip
POINTS = {"01-forward": 8.0, "03-loss": 5.0}


def _result(student: str, assignment: str, score: float, notebook: str = "nb") -> dict:
    exercise = {"name": "softmax", "score": score, "points": 5.0, "reason": "r"}
    return {
        "student": student,
        "assignment": assignment,
        "notebook": notebook,
        "score": score,
        "exercises": [exercise],
    }


RESULTS = [
    _result("ada", "01-forward", 8),
    _result("ada", "03-loss", 2),
    _result("alan", "03-loss", 5),
    _result("zed", "03-loss", 1),  # graded, not on the roster
]


def test_canvas_header_and_points_possible_row_are_canvas_own():
    rows, _ = export.canvas_rows(RESULTS, ROSTER, POINTS)
    assert rows[0] == [*export.CANVAS_IDENTITY, "01-forward", "03-loss"], rows[0]
    assert rows[1] == ["Points Possible", "", "", "", "", "8", "5"], rows[1]


def test_every_roster_student_has_a_row_with_their_scores():
    rows, _ = export.canvas_rows(RESULTS, ROSTER, POINTS)
    body = {r[3]: r for r in rows[2:]}
    assert list(body) == ["ada", "alan", "grace"], "one row per roster student, in roster order"
    assert body["ada"][:5] == ["Lovelace, Ada", "101", "u1", "ada", "A"], body["ada"]
    assert body["ada"][5:] == ["8", "2"] and body["alan"][5:] == ["", "5"], body
    assert body["grace"][5:] == ["", ""], "no submission is an empty cell, not a zero"


@pytest.mark.parametrize(
    ("who", "words"),
    [("grace", "handed nothing in"), ("zed", "not on the roster")],
    ids=["on roster, no submission", "graded, not on roster"],
)
def test_a_student_missing_on_either_side_is_reported(who, words):
    _, report = export.canvas_rows(RESULTS, ROSTER, POINTS)
    assert any(line.startswith(who) and words in line for line in report), report


def test_notebooks_of_one_assignment_add_up():
    results = [_result("ada", "03-loss", 2, "a"), _result("ada", "03-loss", 1.5, "b")]
    rows, _ = export.canvas_rows(results, ROSTER[:1], POINTS)
    assert rows[2][5:] == ["", "3.5"], rows[2]


def test_a_roster_without_canvas_columns_is_refused_by_name():
    with pytest.raises(ValueError, match="'SIS Login ID'"):
        export.canvas_rows(RESULTS, [{"Student": "x", "ID": "1"}], POINTS)


def test_the_exercise_csv_has_one_row_per_exercise():
    rows = export.exercise_rows(RESULTS)
    assert rows[0] == list(export.EXERCISE_COLUMNS)
    assert len(rows) == 1 + len(RESULTS), rows
    assert rows[1] == ["ada", "01-forward", "nb", "softmax", "8", "5", "r"], rows[1]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "graders", "export", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_command_writes_the_canvas_file_and_fails_on_a_lost_grade(tmp_path):
    (tmp_path / "results.json").write_text(json.dumps(RESULTS))
    roster = tmp_path / "roster.csv"
    with open(roster, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(ROSTER[0]))
        writer.writeheader()
        writer.writerow({"Student": "Points Possible"})  # Canvas's own export has this row
        writer.writerows(ROSTER)
    run = _cli("--roster", str(roster), "--results", str(tmp_path))
    assert run.returncode == 1, f"a graded student missing from the roster must fail: {run}"
    assert "zed" in run.stderr and "not on the roster" in run.stderr, run.stderr
    with open(tmp_path / "canvas.csv", newline="") as f:
        rows = list(csv.reader(f))
    points = export.points_possible()
    assert rows[1][5:] == [f"{points[a]:g}" for a in sorted(points)], rows[1]
    assert [r[3] for r in rows[2:]] == ["ada", "alan", "grace"], rows


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--format", "canvas"], "--roster"),
        (["--format", "exercises", "--results", "/no/such/folder"], "results.json does not exist"),
    ],
)
def test_the_command_says_what_is_missing(args, words, tmp_path):
    (tmp_path / "results.json").write_text("[]")
    if "--results" not in args:
        args = [*args, "--results", str(tmp_path)]
    run = _cli(*args)
    assert run.returncode == 2 and words in run.stderr, run
