"""A real PostgreSQL gradebook: the same grades as SQLite, and two graders at once lose nothing.

The module starts its own PostgreSQL server (Debian's ``postgresql`` package: ``initdb`` and
``pg_ctl`` on a temporary folder and a free port, as the ``postgres`` user) and stops it at the
end. A small 03-loss class is graded into SQLite once and into PostgreSQL by two graders at the
same moment (two ``python -m graders autograde`` processes, half of the class each, the same
``--db``).
"""

from __future__ import annotations

import csv
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from graders import autograde, classroom, course, release

ASSIGNMENT, NOTEBOOK = "03-loss", "loss"
BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
WRONG_SOFTMAX = "import numpy as np\n\ndef softmax(z):\n    return np.exp(z)\n"

pytestmark = pytest.mark.skipif(
    not BIN or os.geteuid() != 0 or shutil.which("bwrap") is None,
    reason="needs PostgreSQL (apt-get install postgresql), bubblewrap and root",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """A PostgreSQL server of this module's own; yields its URL."""
    import tempfile

    # not under pytest's folder: the postgres user must be able to reach it
    folder = Path(tempfile.mkdtemp(prefix="rnn-postgres-"))
    data = folder / "data"
    shutil.chown(folder, "postgres")
    as_postgres = ["runuser", "-u", "postgres", "--"]
    bin_dir = Path(BIN[-1])
    subprocess.run(
        [
            *as_postgres,
            bin_dir / "initdb",
            "-D",
            data,
            "--auth=trust",
            "-U",
            "grader",
            "-E",
            "UTF8",
        ],
        check=True,
        capture_output=True,
    )
    port = _free_port()
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"
    ctl = [*as_postgres, bin_dir / "pg_ctl", "-D", data, "-l", folder / "log", "-o", options]
    subprocess.run([*ctl, "-w", "start"], check=True, capture_output=True)
    try:
        yield f"postgresql://grader@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*ctl, "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def classes(tmp_path_factory):
    """Two halves of one class: each an honest student, a blank and a wrong softmax."""
    base = tmp_path_factory.mktemp("class")
    root = base / "release-course"
    assert not release.release([ASSIGNMENT], root=str(root))
    release_nb = course.read_notebook(root / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    solution = course.solution_answers(
        course.read_notebook(course.NOTEBOOKS / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    )
    halves = {}
    for half in ("a", "b"):
        folder = base / f"submitted-{half}"
        for student, answers in {
            f"honest_{half}": solution,
            f"blank_{half}": {},
            f"wrong_{half}": {**solution, "softmax": WRONG_SOFTMAX},
        }.items():
            path = folder / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
            path.parent.mkdir(parents=True)
            path.write_text(json.dumps(classroom.make_submission(release_nb, answers)))
        halves[half] = folder
    return base, halves


def _grade(args: list[str], root: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "RNN_GRADE_ROOT": str(root)}
    return subprocess.Popen(
        [sys.executable, "-m", "graders", "autograde", *args, "--out", str(out), "--jobs", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _scores_in(url: str) -> dict[tuple[str, str], float]:
    """(student, exercise) -> the score the gradebook gives (manual over auto, as formgrader)."""
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(course.db_url(Path("."), url), course.COURSE_ID) as gb:
        for student in gb.students:
            sub = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student.id)
            for grade in sub.grades:
                scores[(student.id, grade.name)] = grade.score
    return scores


@pytest.fixture(scope="module")
def graded(server, classes):
    base, halves = classes
    (base / "sqlite").mkdir()
    sqlite = f"sqlite:///{base / 'sqlite' / 'gradebook.db'}"
    one = [
        _grade([str(halves[h]), "--db", sqlite], base / f"sq-{h}", base / f"sq-out-{h}")
        for h in "ab"
    ]
    for proc in one:  # one after the other into SQLite: the reference
        out, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0, out
    both = [
        _grade([str(halves[h]), "--db", server], base / f"pg-{h}", base / f"pg-out-{h}")
        for h in "ab"
    ]
    logs = [proc.communicate(timeout=600)[0] for proc in both]  # at the same time
    return {
        "sqlite": sqlite,
        "postgres": server,
        "logs": logs,
        "codes": [p.returncode for p in both],
        "base": base,
    }


def test_two_graders_at_once_both_finish(graded):
    assert graded["codes"] == [0, 0], "\n\n".join(graded["logs"])


def test_postgres_holds_the_same_grades_as_sqlite(graded):
    in_sqlite = _scores_in(graded["sqlite"])
    in_postgres = _scores_in(graded["postgres"])
    assert len(in_sqlite) == 6 * 2, f"expected 6 students x 2 graded tests: {in_sqlite}"
    assert in_postgres == in_sqlite, (
        f"PostgreSQL and SQLite disagree: {set(in_postgres.items()) ^ set(in_sqlite.items())}"
    )


def test_the_gradebook_agrees_with_each_graders_csv(graded):
    base = graded["base"]
    totals: dict[str, float] = {}
    for (student, _), score in _scores_in(graded["postgres"]).items():
        totals[student] = totals.get(student, 0.0) + score
    for half in "ab":
        with open(base / f"pg-out-{half}" / "grades.csv", newline="") as f:
            for row in csv.DictReader(f):
                assert float(row["score"]) == totals[row["student"]], (row, totals)


def test_no_grade_is_lost_or_duplicated(graded):
    import sqlalchemy

    engine = sqlalchemy.create_engine(course.db_url(Path("."), graded["postgres"]))
    with engine.connect() as conn:
        students = conn.execute(sqlalchemy.text("SELECT count(*) FROM student")).scalar()
        subs = conn.execute(
            sqlalchemy.text(
                "SELECT student_id, count(*) FROM submitted_assignment GROUP BY student_id"
            )
        ).all()
        assignments = conn.execute(sqlalchemy.text("SELECT count(*) FROM assignment")).scalar()
    engine.dispose()
    assert students == 6, f"{students} students in the gradebook, not 6"
    assert assignments == 1, f"the assignment was made {assignments} times"
    assert sorted(n for _, n in subs) == [1] * 6, f"submissions per student: {subs}"


def test_a_plain_postgresql_url_uses_psycopg():
    assert course.db_url(Path("."), "postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert autograde  # the grader is importable with the driver installed
