"""A demo class, graded end to end: ``python -m graders demo``.

It releases the course into a temporary course root, then writes submissions from the student
versions the way students would: one student pastes the solutions, one hands in the blank
release, several make one typical mistake each (the lessons' own typical mistakes, graders/lessons/), and two
cheat (patching numpy's comparisons; importing the reference from rnnlib). Then it autogrades
them and prints the table. Everything it needs is here: it runs on a fresh clone.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from graders import classroom, course


def main(jobs: int = 2, keep: str | None = None) -> int:
    """Release, build the class, autograde, print the table. Returns an exit status."""
    from graders import autograde, release

    folder = Path(keep).resolve() if keep else Path(tempfile.mkdtemp(prefix="rnn-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    root, submitted, out = folder / "course", folder / "submitted", folder / "out"
    try:
        print(f"demo class in {folder}")
        problems = release.release(root=str(root))
        if problems:
            print("release failed:\n  " + "\n  ".join(problems), file=sys.stderr)
            return 1
        print(f"1. released the student versions to {root / 'release'}")
        print("   (verified: no solution code and no hidden tests in them)")
        about = classroom.build_class(root / "release", course.NOTEBOOKS, submitted)
        print(f"2. wrote {len(about)} students' submissions to {submitted}:")
        for student, what in about.items():
            print(f"     {student:24s} {what}")
        print(f"3. autograding with --jobs {jobs} ...")
        results = autograde.autograde(submitted, out=out, jobs=jobs, root=root)
        print(autograde.score_table(results, width=60))
        print(f"\n4. grades: {out / 'grades.csv'}; feedback: {out / 'feedback'}")
        print(f"   gradebook (formgrader): {root / 'gradebook.db'}")
        if not keep:
            print(
                "   (a temporary folder, deleted now: `python -m graders demo --keep DIR` keeps it)"
            )
        return 0
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
