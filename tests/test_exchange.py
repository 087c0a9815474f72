"""The instructor's loop through nbgrader's exchange, for two students, with nbgrader's own commands.

release to the exchange -> alice and bob fetch, answer and submit -> the instructor collects ->
`python -m graders autograde` on the collected submitted/ layout -> feedback released -> each
student fetches their feedback. A temporary course (its own exchange folder and course id) whose
source is the repo's notebooks/; nothing outside the temporary folder is touched.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

import rnnlib

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import notebooks  # noqa: E402  (tools/notebooks.py)

COURSE_ID = "rnn-course"
NOTEBOOKS = ROOT / "notebooks"
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
BIN = Path(sys.executable).parent


def first_assignment() -> tuple[str, list[str]]:
    """The course's first assignment folder and its notebooks (the loop needs only one)."""
    folders = sorted(p for p in NOTEBOOKS.glob("*") if p.is_dir() and any(p.glob("*.ipynb")))
    assert folders, f"no course notebooks in {NOTEBOOKS}"
    return folders[0].name, sorted(p.stem for p in folders[0].glob("*.ipynb"))


class Person:
    """Someone at a terminal: their own HOME, working folder and Jupyter config."""

    def __init__(self, name: str, home: Path, cwd: Path | None = None):
        self.name = name
        self.home = home
        self.cwd = cwd or home
        for path in (home, self.cwd, home / ".jupyter"):
            path.mkdir(parents=True, exist_ok=True)

    def env(self) -> dict:
        env = dict(os.environ)
        env.update(
            HOME=str(self.home),
            USER=self.name,
            JUPYTER_CONFIG_DIR=str(self.home / ".jupyter"),
            JUPYTER_DATA_DIR=str(self.home / ".local" / "share" / "jupyter"),
            JUPYTER_RUNTIME_DIR=str(self.home / ".local" / "share" / "jupyter" / "runtime"),
            IPYTHONDIR=str(self.home / ".ipython"),
            PATH=os.pathsep.join([str(BIN), env.get("PATH", "")]),
        )
        return env

    def run(self, *args: str, timeout: float = 300) -> str:
        done = subprocess.run(
            [str(a) for a in args],
            cwd=self.cwd,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, (
            f"{self.name}: `{' '.join(map(str, args))}` exited with {done.returncode}:\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
        return done.stdout + done.stderr


def answer(path: Path, leave_unanswered: set[str]) -> list[str]:
    """Type the reference answer into each answer cell of ``path`` except those named; return all names."""
    nb = nbformat.read(path, as_version=4)
    names = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("solution"):
            continue
        name = meta["grade_id"]
        names.append(name)
        if name in leave_unanswered:
            continue
        assert name in rnnlib.__all__, f"{path.name}: answer cell {name} is not an rnnlib function"
        text = notebooks.solution_source(name)
        cell.source = "\n".join(line for line in text.splitlines() if line.strip() not in MARKERS)
    nbformat.write(nb, path)
    return names


@pytest.fixture()
def course(tmp_path):
    """A course with its own exchange folder: the instructor, alice and bob."""
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)
    root = tmp_path / "course"
    root.mkdir()
    # the course's own configuration (graders/course.py), rooted here, with its exchange folder
    (root / "nbgrader_config.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from graders.course import apply_config  # noqa: E402\n"
        "c = get_config()  # noqa: F821\n"
        f"apply_config(c, root={str(root)!r})\n"
        f"c.Exchange.root = {str(exchange)!r}\n"
    )
    return {
        "root": root,
        "exchange": exchange,
        "instructor": Person("instructor", tmp_path / "home" / "instructor", cwd=root),
        "students": [Person(name, tmp_path / "home" / name) for name in ("alice", "bob")],
    }


def test_two_students_get_their_grades_and_feedback_through_the_exchange(course):
    import graders.__main__  # noqa: F401 - a failure to import is a failure of the product

    assignment, notebooks = first_assignment()
    root, exchange = course["root"], course["exchange"]
    teacher, students = course["instructor"], course["students"]
    nbgrader = BIN / "nbgrader"
    exchange_args = [f"--Exchange.root={exchange}", f"--course={COURSE_ID}"]

    # the instructor generates the student version (verified) and releases it to the exchange
    teacher.run(sys.executable, "-m", "graders", "--root", root, "release", assignment)
    teacher.run(nbgrader, "release_assignment", assignment)
    outbound = exchange / COURSE_ID / "outbound" / assignment
    assert sorted(p.stem for p in outbound.glob("*.ipynb")) == notebooks, (
        f"the exchange's outbound/{assignment} holds {sorted(os.listdir(outbound))}, expected {notebooks}"
    )

    # alice answers everything; bob leaves the last exercise of the first notebook unanswered
    # (earlier exercises are building blocks of later ones: leaving the last one out costs only it)
    def fetch_answer_submit(student: Person) -> list[str]:
        student.run(nbgrader, "fetch_assignment", assignment, *exchange_args)
        names, skipped = [], []
        for nb in notebooks:
            path = student.cwd / assignment / f"{nb}.ipynb"
            assert path.is_file(), (
                f"{student.name} fetched no {assignment}/{nb}.ipynb: {os.listdir(student.cwd)}"
            )
            first = nbformat.read(path, as_version=4)
            stubs = [
                c.metadata["nbgrader"]["grade_id"]
                for c in first.cells
                if c.get("metadata", {}).get("nbgrader", {}).get("solution")
            ]
            skip = set(stubs[-1:]) if student.name == "bob" and not names else set()
            names += answer(path, skip)
            skipped += sorted(skip)
        student.run(nbgrader, "submit", assignment, f"--student={student.name}", *exchange_args)
        return skipped

    with ThreadPoolExecutor(2) as pool:
        unanswered = list(pool.map(fetch_answer_submit, students))[1]
    inbound = sorted(p.name.split("+")[0] for p in (exchange / COURSE_ID / "inbound").iterdir())
    assert inbound == ["alice", "bob"], f"the exchange's inbound holds submissions from {inbound}"

    # the instructor collects into submitted/<student>/<assignment>/ and grades with graders
    teacher.run(nbgrader, "collect", assignment)
    submitted = root / "submitted"
    for student in students:
        for nb in notebooks:
            path = submitted / student.name / assignment / f"{nb}.ipynb"
            assert path.is_file(), f"collect did not put {path.relative_to(root)} in place"
    before = {p: p.read_bytes() for p in submitted.rglob("*") if p.is_file()}
    teacher.run(
        sys.executable, "-m", "graders", "--root", root, "autograde", submitted, "--out", root
    )
    after = {p: p.read_bytes() for p in submitted.rglob("*") if p.is_file()}
    assert before == after, "python -m graders autograde modified files under submitted/"

    with open(root / "grades.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    scores = {}
    for row in rows:
        assert row["assignment"] == assignment and row["status"] == "ok", f"grades.csv row {row}"
        got = scores.setdefault(row["student"], [0.0, 0.0])
        got[0] += float(row["score"])
        got[1] += float(row["max_score"])
    assert set(scores) == {"alice", "bob"}, (
        f"grades.csv grades {sorted(scores)}, expected alice and bob"
    )
    alice, bob = scores["alice"], scores["bob"]
    assert alice[1] > 0 and alice[0] == alice[1], (
        f"alice answered everything right: {alice[0]}/{alice[1]}"
    )
    assert 0 < bob[0] < bob[1], (
        f"bob left {unanswered} unanswered: expected partial credit, got {bob[0]}/{bob[1]}"
    )

    # feedback: graders wrote it where nbgrader's release_feedback looks; the students fetch it
    written = {}
    for student in students:
        for nb in notebooks:
            html = root / "feedback" / student.name / assignment / f"{nb}.html"
            assert html.is_file(), f"no feedback at {html.relative_to(root)}"
            written[student.name, nb] = html.read_bytes()
        text = "\n".join(written[student.name, nb].decode(errors="replace") for nb in notebooks)
        assert "BEGIN HIDDEN TESTS" not in text and "run_hidden_checks" not in text, (
            f"{student.name}'s feedback shows the hidden tests"
        )
        if student.name == "bob":
            assert unanswered[0] in text and "NotImplementedError" in text, (
                f"bob's feedback does not say that {unanswered[0]} was left unanswered"
            )
    lacking = [
        f"feedback/{student.name}/{assignment}/{name}"
        for student in students
        for name in ("timestamp.txt", "submission_secret.txt")
        if not (root / "feedback" / student.name / assignment / name).is_file()
    ]
    assert not lacking, (
        "python -m graders autograde did not copy timestamp.txt and submission_secret.txt from "
        f"submitted/ beside its feedback, which nbgrader release_feedback needs: {lacking}"
    )
    teacher.run(nbgrader, "release_feedback", assignment)

    def fetch_feedback(student: Person) -> Path:
        student.run(
            nbgrader, "fetch_feedback", assignment, f"--student={student.name}", *exchange_args
        )
        return student.cwd / assignment / "feedback"

    with ThreadPoolExecutor(2) as pool:
        folders = list(pool.map(fetch_feedback, students))
    for student, folder in zip(students, folders, strict=True):
        pages = sorted(folder.glob("*/*.html"))
        fetched = [str(p.relative_to(folder)) for p in pages]
        assert [p.stem for p in pages] == notebooks, (
            f"{student.name} fetched feedback {fetched}, expected {notebooks}"
        )
        for page in pages:
            assert page.read_bytes() == written[student.name, page.stem], (
                f"{student.name} fetched {page.name}, but not the feedback graded for them"
            )
