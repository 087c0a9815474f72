"""Benchmark (not a test): grade a generated class and print notebook-submissions per minute.

    python -m graders bench --students 30 --jobs 2 [--assignments 01-forward 03-loss] [--cold]

The class mixes the demo's submissions (solutions, blanks, typical mistakes) over every
notebook; the release is made first and is not timed. ``--cold`` grades the same class a second
time with every kernel started cold (no zygote, graders/zygote.py) and prints the speed-up, a
baseline measured in the same run on the same machine.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from graders import classroom, course


def main(
    students: int = 30,
    jobs: int = 2,
    assignments: list[str] | None = None,
    cold: bool = False,
    dask: bool = False,
) -> int:
    """Build, grade with ``jobs`` workers, print the rate. Returns an exit status. ``dask``:
    grade on Dask clusters of 1 and 2 worker processes instead (graders/cluster.py)."""
    if dask:
        from graders import cluster

        return cluster.scaling(students, assignments)
    names = assignments or list(course.assignments(course.NOTEBOOKS))
    folder = Path(tempfile.mkdtemp(prefix="rnn-bench-"))
    try:
        root, submitted = classroom.benchmark_class(folder, students, names)
        warm = _grade(folder / "warm", root, submitted, jobs, zygote=True)
        line = f"({students} students x {len(names)} notebooks) with --jobs {jobs}"
        print(
            f"graded {warm[0]} notebook-submissions {line} in {warm[1]:.1f} s: {warm[2]:.1f} per minute"
        )
        if cold:
            base = _grade(folder / "cold", root, submitted, jobs, zygote=False)
            print(
                f"cold kernels (no zygote): {base[1]:.1f} s, {base[2]:.1f} per minute; "
                f"the zygote grades {warm[2] / base[2]:.2f}x as fast"
            )
        return 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _grade(
    out: Path, root: Path, submitted: Path, jobs: int, zygote: bool
) -> tuple[int, float, float]:
    """Grade the class once; returns (rows, seconds, rows per minute)."""
    from graders import autograde

    start = time.perf_counter()
    results = autograde.autograde(submitted, out=out, jobs=jobs, root=root, zygote=zygote)
    elapsed = time.perf_counter() - start
    bad = [r for r in results if r.status.startswith("needs review")]
    if bad:
        print(f"{len(bad)} needed review (a benchmark class should have none): {bad[0].status}")
    return len(results), elapsed, 60 * len(results) / elapsed
