"""Grading on a Dask cluster: each student's assignment is one task, graded in the same sandboxes.

    python -m graders autograde SUBMISSIONS --scheduler tcp://HOST:8786   # an existing cluster
    python -m graders autograde SUBMISSIONS --cluster local:2             # a LocalCluster here

The grading process stays the one that reads the submissions, writes grades.csv, results.json
and the gradebook; the cluster's workers only grade. A worker grades exactly as a process of the
local pool does (graders/autograde.py's ``grade_task``: its own staging course, uids, kernel
jail and outside-check sandbox), set up by its first task. Each worker takes a number of its own
(a lock file in the run's staging folder), which gives it its staging folder and its uids.

What a worker needs: this course package installed (``pip install -e ".[course]"``, the same
version as the grader's), bubblewrap, root (for the sandboxes' uids and namespaces), and the
grading run's folders at the same paths: the staging folder the grader makes (the template
gradebook, the source notebooks' copy and the matplotlib cache), the submissions and the output
folder — one machine, or a shared filesystem (as on a SLURM cluster with ``dask-jobqueue``).
The case secret travels in the task's setup record; the notebooks are read from the source
folder. A worker that dies mid-task has its task run again on another worker by the scheduler;
the grader keeps one result per task, so the submission is in the CSV once.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SLOT_LOCKS = "slots"  # in the run's staging folder: one lock file per worker number


def grade_on_worker(setup: Any, task: Any) -> list:
    """The task a Dask worker runs: set this worker up for ``setup``'s run (once), grade ``task``."""
    from graders import autograde

    worker = autograde._worker
    if worker is None or worker.setup.paths.base != setup.paths.base:
        if worker is not None:  # a worker kept from an earlier run
            autograde.stop_worker()
        slot, lock = _claim_slot(Path(setup.paths.base))
        autograde.init_worker(setup, None, slot=slot).slot_lock = lock
    return autograde.grade_task(task)


def _claim_slot(base: Path) -> tuple[int, int]:
    """The lowest worker number no live worker of this run holds, and the descriptor of its lock
    (an exclusive lock file each, to be held open for the life of the process)."""
    from graders import sandbox

    folder = base / SLOT_LOCKS
    folder.mkdir(exist_ok=True)
    for slot in range(sandbox.UID_BLOCK // 2 - 1):
        fd = os.open(folder / f"{slot}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return slot, fd  # kept open: the number is this worker's until it ends
    raise RuntimeError(f"every worker number of this run is taken ({folder})")


def client_for(where: str):
    """A dask.distributed Client: ``local:N`` starts a LocalCluster of N one-thread worker
    processes on this machine; anything else is a scheduler address (``tcp://HOST:8786``)."""
    from distributed import Client, LocalCluster

    if where.startswith("local:"):
        try:
            n = int(where.split(":", 1)[1])
        except ValueError:
            n = 0
        if n < 1:
            raise ValueError(f"--cluster: expected local:N with N ≥ 1 workers, got {where!r}")
        cluster = LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None
        )
        return Client(cluster)
    return Client(where, timeout=30)


def run(setup: Any, tasks: list, where: str, done: Any) -> None:
    """Grade ``tasks`` on the cluster at ``where``, calling ``done(task, rows)`` as each one
    finishes. A task whose worker died is rescheduled by Dask itself."""
    from distributed import as_completed

    from graders import autograde

    client = client_for(where)
    try:
        futures = {
            client.submit(
                grade_on_worker,
                setup,
                task,
                key=f"grade-{i}-{task.student}-{task.assignment}",
                pure=False,
            ): task
            for i, task in enumerate(tasks)
        }
        for future in as_completed(futures):
            task = futures[future]
            try:
                rows = future.result()
            except Exception as exc:  # noqa: BLE001 - a lost task is a row, not a lost batch
                reason = f"the grader failed on the cluster ({type(exc).__name__}: {exc})"
                rows = autograde.unreadable_rows(task, setup.paths.source, reason)
            done(task, rows)
    finally:
        cluster = getattr(client, "cluster", None)
        client.close()
        if cluster is not None:
            cluster.close()


@contextlib.contextmanager
def processes(folder: Path, workers: int, timeout: float = 120) -> Iterator[str]:
    """A Dask scheduler and ``workers`` separate ``dask worker`` processes on this machine (one
    thread each, no nanny: a killed worker stays dead), all stopped on exit; yields the
    scheduler's address once every worker has joined."""
    import json
    import subprocess
    import sys
    import time

    from distributed import Client

    bindir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"}
    sched = Path(folder) / "scheduler.json"
    sched.unlink(missing_ok=True)

    def start(*args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [str(bindir / "dask"), *args, "--scheduler-file", str(sched), "--no-dashboard"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    procs = [start("scheduler", "--port", "0")]
    try:
        deadline = time.monotonic() + timeout
        while not sched.exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Dask scheduler did not start in {timeout} s")
            time.sleep(0.1)
        procs += [
            start("worker", "--nthreads", "1", "--no-nanny", "--name", f"w{i}")
            for i in range(workers)
        ]
        address = json.loads(sched.read_text())["address"]
        with Client(address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=timeout)
        yield address
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def scaling(students: int = 12, assignments: list[str] | None = None, workers=(1, 2)) -> int:
    """Grade one generated class on Dask clusters of ``workers`` separate ``dask worker``
    processes (:func:`processes`); print each rate and the efficiency against the first
    (rate / (workers x the first's rate per worker))."""
    import shutil
    import tempfile
    import time

    from graders import autograde, classroom, course

    names = assignments or list(course.assignments(course.NOTEBOOKS))
    folder = Path(tempfile.mkdtemp(prefix="rnn-dask-bench-"))
    rates: dict[int, float] = {}
    try:
        root, submitted = classroom.benchmark_class(folder, students, names)
        for n in workers:
            with processes(folder, n) as address:
                start = time.perf_counter()
                results = autograde.autograde(
                    submitted, out=folder / f"out-{n}", root=root, cluster=address, progress=False
                )
                elapsed = time.perf_counter() - start
            rates[n] = 60 * len(results) / elapsed
            first = workers[0]
            efficiency = rates[n] / (n / first * rates[first])
            print(
                f"{n} Dask worker(s): {len(results)} notebook-submissions in {elapsed:.1f} s, "
                f"{rates[n]:.1f} per minute, efficiency {efficiency:.0%} against {first}"
            )
        return 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)
