"""Grades out of the course: a file the LMS gradebook imports as it is, and a per-exercise CSV.

    python -m graders export --format canvas --roster ROSTER.csv [--results DIR] [-o FILE]
    python -m graders export --format exercises [--results DIR] [-o FILE]

Both read ``results.json``, which ``python -m graders autograde`` writes beside grades.csv.

**Canvas** imports a gradebook CSV whose first five columns identify the student (``Student``,
``ID``, ``SIS User ID``, ``SIS Login ID``, ``Section``, as its own export has them) and whose
further columns are assignments, one per column, with a ``Points Possible`` row under the header.
The roster is Canvas's own gradebook export (or any CSV with those five columns); a student is
matched by the roster column ``--match`` (default ``SIS Login ID``) against the nbgrader student
id. Every roster student gets a row; a score is left empty where they handed nothing in, and
each graded student the roster lacks is reported (their grades would not reach the LMS).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from graders import course

CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
EXERCISE_COLUMNS = ("student", "assignment", "notebook", "exercise", "score", "max_score", "reason")


def points_possible(source: Path | None = None) -> dict[str, float]:
    """Assignment -> its points, summed over its notebooks' exercises (source notebooks)."""
    source = Path(source or course.NOTEBOOKS)
    points: dict[str, float] = {}
    for assignment, notebooks in course.assignments(source).items():
        total = 0.0
        for name in notebooks:
            nb = course.read_notebook(source / assignment / f"{name}.ipynb")
            total += sum(e.points for e in course.exercises_of(nb))
        points[assignment] = total
    return points


def assignment_scores(results: Iterable[Mapping]) -> dict[str, dict[str, float]]:
    """Student -> assignment -> score (its notebooks' scores summed)."""
    scores: dict[str, dict[str, float]] = {}
    for r in results:
        per = scores.setdefault(str(r["student"]), {})
        per[r["assignment"]] = per.get(r["assignment"], 0.0) + float(r["score"])
    return scores


def canvas_rows(
    results: Iterable[Mapping],
    roster: list[Mapping[str, str]],
    points: Mapping[str, float],
    match: str = "SIS Login ID",
) -> tuple[list[list[str]], list[str]]:
    """(the CSV's rows, header first; what to report): the Canvas gradebook import."""
    missing_columns = [c for c in (*CANVAS_IDENTITY, match) if roster and c not in roster[0]]
    if missing_columns:
        raise ValueError(
            f"roster: expected Canvas's columns {', '.join(CANVAS_IDENTITY)} (and {match!r} to "
            f"match students by); it has no {', '.join(repr(c) for c in missing_columns)}"
        )
    scores = assignment_scores(results)
    assignments = sorted(points)
    rows = [[*CANVAS_IDENTITY, *assignments]]
    rows.append(["Points Possible", "", "", "", "", *(f"{points[a]:g}" for a in assignments)])
    report = []
    on_roster = set()
    for person in roster:
        key = person[match].strip()
        on_roster.add(key)
        mine = scores.get(key, {})
        cells = [f"{mine[a]:g}" if a in mine else "" for a in assignments]
        rows.append([person[c] for c in CANVAS_IDENTITY] + cells)
        if not mine:
            report.append(f"{key} ({person['Student']}) is on the roster but handed nothing in")
    for student in sorted(set(scores) - on_roster):
        report.append(
            f"{student} was graded but is not on the roster (no {match} {student!r}): "
            "their grades are not in the file"
        )
    return rows, report


def exercise_rows(results: Iterable[Mapping]) -> list[list[str]]:
    """One row per student, notebook and exercise: score, maximum and the grader's reason."""
    rows = [list(EXERCISE_COLUMNS)]
    for r in sorted(results, key=lambda r: (r["student"], r["assignment"], r["notebook"])):
        for ex in r.get("exercises", []):
            rows.append(
                [
                    r["student"],
                    r["assignment"],
                    r["notebook"],
                    ex["name"],
                    f"{float(ex['score']):g}",
                    f"{float(ex['points']):g}",
                    ex.get("reason", ""),
                ]
            )
    return rows


def read_results(folder: Path) -> list[dict]:
    """``folder``/results.json, as autograde wrote it."""
    path = Path(folder) / "results.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist: run `python -m graders autograde SUBMISSIONS` first "
            "(it writes results.json beside grades.csv), or name its folder with --results"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def read_roster(path: Path) -> list[dict[str, str]]:
    """The roster's rows (Canvas's export may carry a 'Points Possible' row: it is skipped)."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    return [r for r in rows if (r.get("Student") or "").strip() != "Points Possible"]


def write_rows(path: Path, rows: list[list[str]]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
