"""Grading on a real Dask cluster: a scheduler and two ``dask worker`` processes started here.

A small 03-loss class is graded through ``python -m graders autograde --scheduler ADDRESS``;
one student's notebook is slow, and the worker grading it is killed mid-task (SIGKILL, no nanny
to bring it back): the scheduler gives the task to the other worker, and every student is in
grades.csv exactly once, with the scores the local pool gives.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from graders import classroom, course, release

distributed = pytest.importorskip("distributed")

ASSIGNMENT, NOTEBOOK = "03-loss", "loss"
WRONG_SOFTMAX = "import numpy as np\n\ndef softmax(z):\n    return np.exp(z)\n"
# slow in the kernel only (the outside check's child, which re-runs the cell, has a shorter limit
# per cell): long enough for the test to kill the worker while it runs
SLOW = "import os, time\n\nif os.environ.get('NBGRADER_EXECUTION'):\n    time.sleep(12)\n"

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("bwrap") is None,
    reason="the sandboxes need root and bubblewrap",
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A Dask scheduler and two one-thread workers without nannies (graders.cluster.processes)."""
    from graders import cluster as dask_cluster

    with dask_cluster.processes(tmp_path_factory.mktemp("dask"), 2) as address:
        client = distributed.Client(address, timeout=60)
        try:
            yield {"client": client, "address": address}
        finally:
            client.close()


@pytest.fixture(scope="module")
def graded(cluster, tmp_path_factory):
    base = tmp_path_factory.mktemp("class")
    root = base / "course"
    assert not release.release([ASSIGNMENT], root=str(root))
    release_nb = course.read_notebook(root / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    solution = course.solution_answers(
        course.read_notebook(course.NOTEBOOKS / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    )
    students = {
        "honest": solution,
        "blank": {},
        "wrong": {**solution, "softmax": WRONG_SOFTMAX},
        "slow": {**solution, "softmax": SLOW + solution["softmax"]},
    }
    submitted = base / "submitted"
    for student, answers in students.items():
        path = submitted / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(classroom.make_submission(release_nb, answers)))
    env = {**os.environ, "RNN_GRADE_ROOT": str(root)}
    command = [sys.executable, "-m", "graders", "autograde", str(submitted)]
    command += ["--out", str(base / "out"), "--scheduler", cluster["address"]]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    killed = _kill_the_worker_grading(cluster["client"], "slow", proc)
    out, _ = proc.communicate(timeout=600)
    with open(base / "out" / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    details = json.loads((base / "out" / "results.json").read_text())
    return {
        "rows": rows,
        "details": {d["student"]: d for d in details},
        "killed": killed,
        "code": proc.returncode,
        "log": out.decode(),
    }


def _kill_the_worker_grading(client, student: str, grader: subprocess.Popen) -> str | None:
    """SIGKILL the worker whose task grades ``student`` once it is running; its address."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and grader.poll() is None:
        for worker, keys in client.processing().items():
            if any(f"-{student}-" in str(k) for k in keys):
                time.sleep(3)  # well inside the task: its kernel is running the slow cell
                pids = client.run(os.getpid, workers=[worker])
                os.kill(pids[worker], signal.SIGKILL)
                return worker
        time.sleep(0.2)
    return None


def test_a_worker_was_killed_while_grading(graded):
    assert graded["killed"], f"the slow task was never seen running: {graded['log']}"
    assert graded["code"] == 0, graded["log"]


def test_every_student_is_graded_exactly_once(graded):
    students = sorted(r["student"] for r in graded["rows"])
    assert students == ["blank", "honest", "slow", "wrong"], students


@pytest.mark.parametrize(
    ("student", "score"), [("honest", 5), ("blank", 0), ("wrong", 3), ("slow", 5)]
)
def test_the_cluster_gives_the_local_pools_scores(graded, student, score):
    row = next(r for r in graded["rows"] if r["student"] == student)
    reasons = [
        (e["name"], e["score"], e["reason"]) for e in graded["details"][student]["exercises"]
    ]
    assert float(row["score"]) == score, (row, reasons)
