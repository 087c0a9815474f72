"""The batch always finishes and always writes grades.csv; everything it reads is bounded.

One class of 03-loss submissions is graded once (--jobs 2) by a module fixture: an honest solution
beside submissions the grader must refuse or stop, each with its own 'needs review' row: folder
names that are not UTF-8 or have odd characters, a student folder symlinked to a classmate's,
notebooks that are symlinks or a FIFO, a thousand sleeping cells (a small per-notebook limit), a
3 MB code cell, 3000 cells. The results the child hands back are read only from regular files.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import stat
import subprocess
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import nbformat
import numpy as np
import pytest

from graders import autograde, classroom, course, gradebook, release, wire

ASSIGNMENT, NOTEBOOK = "03-loss", "loss"
NOTEBOOK_LIMIT = 30  # seconds per notebook in the fixture's batch (the honest one needs a few)
BATCH_LIMIT = 300  # the whole batch: far below the 500 s the sleeping cells ask for

# student folder name (bytes: not all are UTF-8) -> (name in the CSV, words its status must hold)
ODD_NAMES: dict[bytes, tuple[str, str]] = {
    b"\xff\xfestudent": ("\\xff\\xfestudent", "UTF-8"),
    b"-leading_dash": ("-leading_dash", "characters"),
    b"new\nline": ("new\\nline", "characters"),
    b'quo"te': ('quo"te', "characters"),
    b"...": ("...", "characters"),
}
# students whose submission the grader must not run: name -> words its status must hold
HOSTILE: dict[str, str] = {
    "symlinked_student": "symlink",
    "notebook_to_passwd": "symlink",
    "notebook_to_source": "symlink",
    "fifo_notebook": "not a regular file",
    "sleeping_cells": f"{NOTEBOOK_LIMIT} s wall-clock limit",
    "three_megabyte_cell": "bytes, more than the",
    "three_thousand_cells": "cells, more than the 2,000",
    **{shown: words for shown, words in ODD_NAMES.values()},
}
needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="the per-notebook limit kills the kernel's own uid (root only)"
)


def _tree(folder: Path) -> dict[str, str]:
    """Every entry under ``folder`` (links not followed, FIFOs not opened): its kind and content."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(os.fsencode(folder), followlinks=False):
        for name in [*dirnames, *filenames]:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                what = "link:" + os.fsdecode(os.readlink(path))
            elif stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    what = hashlib.sha256(f.read()).hexdigest()
            else:
                what = "other"
            found[os.fsdecode(path)] = f"{what} {oct(st.st_mode)} {st.st_mtime_ns}"
    return found


def _write(folder: Path, nb: nbformat.NotebookNode) -> None:
    path = folder / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def build_class(base: Path) -> tuple[Path, Path, Path]:
    """Release 03-loss into base/course and write the class to base/submitted."""
    root, submitted, out = base / "course", base / "submitted", base / "out"
    problems = release.release([ASSIGNMENT], root=str(root))
    assert not problems, f"release failed: {problems}"
    release_nb = course.read_notebook(root / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    source = course.NOTEBOOKS / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    solution = course.solution_answers(course.read_notebook(source))

    def honest() -> nbformat.NotebookNode:
        return classroom.make_submission(release_nb, solution)

    _write(submitted / "zed_solution", honest())
    for raw in ODD_NAMES:
        _write(Path(os.fsdecode(os.path.join(os.fsencode(submitted), raw))), honest())
    (submitted / "symlinked_student").symlink_to(submitted / "zed_solution")
    for student, target in (("notebook_to_passwd", "/etc/passwd"), ("notebook_to_source", source)):
        (submitted / student / ASSIGNMENT).mkdir(parents=True)
        (submitted / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb").symlink_to(target)
    (submitted / "fifo_notebook" / ASSIGNMENT).mkdir(parents=True)
    os.mkfifo(submitted / "fifo_notebook" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    sleeping = honest()
    sleepers = [nbformat.v4.new_code_cell("import time\ntime.sleep(0.5)") for _ in range(1000)]
    sleeping.cells[1:1] = sleepers  # before the tests: RunUpToLastTest runs them all
    _write(submitted / "sleeping_cells", sleeping)
    big = honest()
    big.cells.insert(1, nbformat.v4.new_code_cell("x = 1\n" * (2**19)))  # 3 MB
    _write(submitted / "three_megabyte_cell", big)
    many = honest()
    many.cells.extend(nbformat.v4.new_code_cell("pass") for _ in range(3000))
    _write(submitted / "three_thousand_cells", many)
    return root, submitted, out


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("batch")
    root, submitted, out = build_class(base)
    before = _tree(submitted)
    started = time.monotonic()
    results = autograde.autograde(
        submitted,
        out=out,
        jobs=2,
        root=root,
        timeout=10,
        progress=False,
        notebook_timeout=NOTEBOOK_LIMIT,
    )
    elapsed = time.monotonic() - started
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return {
        "rows": {r["student"]: r for r in rows},
        "all_rows": rows,
        "results": results,
        "elapsed": elapsed,
        "before": before,
        "after": _tree(submitted),
        "out": out,
        "root": root,
    }


def test_the_batch_finishes_within_its_bounds(graded: dict[str, Any]) -> None:
    assert graded["elapsed"] < BATCH_LIMIT, (
        f"the batch took {graded['elapsed']:.0f} s: a notebook held a worker past its limit"
    )


def test_every_submission_has_exactly_one_row(graded: dict[str, Any]) -> None:
    students = [r["student"] for r in graded["all_rows"]]
    expected = {"zed_solution", *HOSTILE}
    assert set(students) == expected, (
        f"missing rows: {sorted(expected - set(students))}, unexpected: "
        f"{sorted(set(students) - expected)}"
    )
    assert len(students) == len(set(students)), f"duplicate rows: {students}"


def test_the_honest_student_gets_full_marks(graded: dict[str, Any]) -> None:
    row = graded["rows"]["zed_solution"]
    assert (row["score"], row["max_score"], row["status"]) == ("5", "5", "ok"), row


@pytest.mark.parametrize("student", sorted(HOSTILE))
def test_each_hostile_submission_needs_review_and_scores_nothing(
    graded: dict[str, Any], student: str
) -> None:
    row = graded["rows"].get(student)
    assert row is not None, f"no row for {student!r}"
    assert row["status"].startswith("needs review"), f"{student!r}: not flagged for review: {row}"
    assert HOSTILE[student] in row["status"], (
        f"{student!r}: the status does not name the problem ({HOSTILE[student]!r}): {row}"
    )
    assert float(row["score"]) == 0.0, f"{student!r} scored what it did not earn: {row}"


def test_results_json_agrees_with_the_csv(graded: dict[str, Any]) -> None:
    details = json.loads((graded["out"] / "results.json").read_text(encoding="utf-8"))
    assert {d["student"]: d["status"] for d in details} == {
        s: r["status"] for s, r in graded["rows"].items()
    }, "results.json and grades.csv disagree"


def test_nothing_under_submissions_changes(graded: dict[str, Any]) -> None:
    before, after = graded["before"], graded["after"]
    changed = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    assert not changed, f"entries under SUBMISSIONS created, removed or modified: {changed[:5]}"


def test_the_gradebook_holds_the_honest_grade(graded: dict[str, Any]) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{graded['root'] / 'gradebook.db'}", course.COURSE_ID) as gb:
        sub = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, "zed_solution")
        assert float(sub.score) == 5.0, f"gradebook score {sub.score}, CSV 5"
        ids = {s.id for s in gb.students}
    odd = [s for s in ids if autograde.name_problem(s)]
    assert not odd, f"names nbgrader should not get went to the gradebook: {odd}"


def test_a_gradebook_failure_still_writes_the_csv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a class that runs no kernel: one submission that cannot be graded at all
    folder = os.path.join(os.fsencode(tmp_path), b"submitted", b"\xff\xfestudent", b"03-loss")
    os.makedirs(folder)
    Path(os.fsdecode(folder), f"{NOTEBOOK}.ipynb").write_text("{}")
    submitted = tmp_path / "submitted"

    def broken(url: str, results: list) -> None:
        raise RuntimeError("the gradebook is locked")

    monkeypatch.setattr(gradebook, "record", broken)
    with pytest.raises(autograde.GradebookError, match="grades.csv"):
        autograde.autograde(
            submitted, out=tmp_path / "out", root=tmp_path / "course", progress=False
        )
    rows = list(csv.DictReader(open(tmp_path / "out" / "grades.csv", encoding="utf-8")))
    assert [r["student"] for r in rows] == ["\\xff\\xfestudent"], rows
    assert (tmp_path / "out" / "results.json").is_file(), "no results.json"


# ------------------------------------------------------------------------------------------
# Cheap checks of the pieces
# ------------------------------------------------------------------------------------------


def _within(seconds: float, fn: Any, *args: Any) -> Any:
    """fn(*args) in a thread; fails (instead of hanging the suite) if it takes longer."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{fn.__name__} was still running after {seconds} s (hung)"
    return box


def _unblock(fifo: Path) -> None:
    # a writer that opens the FIFO lets a reader stuck in open() go on (and the test end);
    # with no reader waiting (the reader did not block) the open fails, which is fine
    with contextlib.suppress(OSError), open(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK), "wb"):
        pass


@pytest.fixture
def dump(tmp_path: Path) -> Path:
    path = tmp_path / "elsewhere" / "real.npz"
    path.parent.mkdir()
    wire.dump([{"value": np.ones(3)}], path)
    return path


@pytest.mark.parametrize("kind", ["fifo", "symlink", "directory"])
def test_wire_load_refuses_what_is_not_a_regular_file(tmp_path: Path, dump: Path, kind: str):
    path = tmp_path / "out_softmax.npz"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink":
        path.symlink_to(dump)
    else:
        path.mkdir()
    try:
        box = _within(5, wire.load, path)
    finally:
        if kind == "fifo":
            with_reader = threading.Thread(target=_unblock, args=(path,), daemon=True)
            with_reader.start()
    assert "value" not in box, f"wire.load read a {kind} as a result: {box['value']}"
    assert isinstance(box.get("error"), wire.WireError), (
        f"a {kind} should raise WireError, got {box.get('error')!r}"
    )


def test_wire_load_refuses_a_file_over_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.npz"
    path.write_bytes(b"PK\x03\x04" + b"\0" * 4000)
    with pytest.raises(wire.WireError, match="limit"):
        wire.read_regular(path, 1000)


def test_wire_load_still_reads_a_dump(dump: Path) -> None:
    loaded = wire.load(dump)
    assert loaded[0]["value"].tolist() == [1.0, 1.0, 1.0], loaded


@pytest.mark.parametrize("kind", ["fifo", "symlink"])
def test_finish_child_does_not_follow_or_hang_on_its_results(
    tmp_path: Path, dump: Path, kind: str
) -> None:
    work = tmp_path / "child"
    work.mkdir()
    if kind == "fifo":
        os.mkfifo(work / "cells.json")
        os.mkfifo(work / "out_softmax.npz")
    else:
        bad = tmp_path / "cells.json"
        bad.write_text(json.dumps([{"cell": "x", "error": "planted"}]))
        (work / "cells.json").symlink_to(bad)
        (work / "out_softmax.npz").symlink_to(dump)
    proc = subprocess.Popen(["true"], stderr=subprocess.PIPE)
    worker = autograde.Worker(
        setup=SimpleNamespace(limits=SimpleNamespace(child_timeout=5)),
        slot=0,
        root=tmp_path,
        api=None,
        exporter=None,
        kernel_uid=None,
        child_uid=None,
    )
    box = _within(10, worker._finish_child, proc, work, ["softmax"], {"softmax": []}, 0.0)
    assert "error" not in box, f"_finish_child raised {box.get('error')!r}"
    outside = box["value"]
    assert outside["cell_errors"] == [], f"cells.json was read through a {kind}: {outside}"
    verdict = outside["verdicts"]["softmax"]
    assert not verdict.passed and "regular file" in verdict.message, (
        f"out_softmax.npz as a {kind}: {verdict}"
    )


def _notebook(cells: list[str]) -> bytes:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    return nbformat.writes(nb).encode()


@pytest.mark.parametrize(
    ("cells", "words"),
    [
        (["x = 1\n" * 2**19], "bytes, more than the"),
        (["pass"] * 3000, "3,000 cells"),
        (["pass"] * 10, None),
    ],
    ids=["3 MB cell", "3000 cells", "small"],
)
def test_a_notebook_over_the_limits_is_refused_before_nbformat_sees_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cells: list[str], words: str | None
) -> None:
    path = tmp_path / "loss.ipynb"
    path.write_bytes(_notebook(cells))
    parsed: list[int] = []
    reads = nbformat.reads

    def counting_reads(*args: Any, **kwargs: Any) -> Any:
        parsed.append(1)
        return reads(*args, **kwargs)

    monkeypatch.setattr(autograde.nbformat, "reads", counting_reads)
    problem, nb, _ = autograde._read_notebook(path)
    if words is None:
        assert problem is None and nb is not None, f"a small notebook was refused: {problem}"
        assert parsed, "the small notebook was not read by nbformat"
    else:
        assert problem and words in problem and nb is None, f"expected {words!r}: {problem!r}"
        assert not parsed, "the oversized notebook was handed to nbformat before it was refused"


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("alice", True),
        ("jean-luc.picard", True),
        ("zoë_2", True),
        ("-rf", False),
        ("..", False),
        (".hidden", False),
        ("a b", False),
        ("new\nline", False),
        ("quo'te", False),
        (os.fsdecode(b"\xff\xfe"), False),
        ("x" * 200, False),
    ],
)
def test_folder_names_given_to_nbgrader(name: str, ok: bool) -> None:
    problem = autograde.name_problem(name)
    assert (problem is None) == ok, f"{name!r}: {problem}"
    assert autograde.shown(name).isprintable(), f"{name!r} is shown as {autograde.shown(name)!r}"
