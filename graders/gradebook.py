"""The course gradebook: nbgrader's, at any SQLAlchemy URL, shared by graders who run at once.

Two instructors may autograde into one gradebook at the same moment (a PostgreSQL server, or one
SQLite file on a shared disk). nbgrader's Gradebook looks a row up and then adds it, so two
writers can both find a student missing and both add them; every write here is made under
:func:`lock`, one writer at a time per gradebook: a PostgreSQL advisory lock held for the whole
write, or an exclusive file lock beside an SQLite file.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

from graders import course


@contextlib.contextmanager
def lock(url: str) -> Iterator[None]:
    """Hold the gradebook at ``url`` for one writer (other writers wait; readers do not)."""
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(path.name + ".lock"), "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
        return
    if url.startswith("postgresql"):
        import sqlalchemy

        key = int.from_bytes(hashlib.sha256(b"rnn-grade gradebook").digest()[:8], "big") >> 1
        engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
        try:
            with engine.connect() as conn:
                conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:k)"), {"k": key})
                try:
                    yield
                finally:
                    conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        finally:
            engine.dispose()
        return
    yield  # another database: nbgrader's own transactions only


def ensure_assignments(config, names: list[str]) -> None:
    """Make sure the gradebook at ``config`` knows these assignments (generate them if not)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    url = config.CourseDirectory.db_url
    with lock(url):  # a second grader starting now waits, then finds them there
        missing = _missing_assignments(url, config.CourseDirectory.course_id, names)
        if not missing:
            return
        api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
        for name in missing:
            with contextlib.redirect_stderr(io.StringIO()):
                result = api.generate_assignment(name, force=True, create=True)
            if not result.get("success"):
                raise RuntimeError(
                    f"nbgrader generate_assignment {name} failed:\n{result.get('log', '')[-2000:]}"
                )


def _missing_assignments(url: str, course_id: str, names: list[str]) -> list[str]:
    from nbgrader.api import Gradebook, MissingEntry

    missing = []
    with Gradebook(url, course_id) as gb:  # closed before nbgrader opens its own
        for name in names:
            try:
                gb.find_assignment(name)
            except MissingEntry:
                missing.append(name)
    return missing


def record(url: str, results: list) -> None:
    """Write the final grades into the course gradebook so formgrader shows what the CSV says.

    nbgrader's in-kernel score is the auto score; an exercise the outside check overrules gets a
    manual score of 0 and the reason as the comment on its answer cell; a submission that needs
    review is flagged for manual grading.
    """
    from nbgrader.api import Gradebook, MissingEntry

    with lock(url), Gradebook(url, course.COURSE_ID) as gb:
        for res in results:
            gb.update_or_create_student(res.student)
            try:
                gb.find_submission(res.assignment, res.student)
            except MissingEntry:
                gb.add_submission(res.assignment, res.student)
            for ex in res.exercises:
                try:
                    grade = gb.find_grade(
                        f"test_{ex.name}", res.notebook, res.assignment, res.student
                    )
                except MissingEntry:
                    continue
                grade.auto_score = ex.in_kernel
                overruled = ex.score != float(ex.in_kernel or 0.0)
                grade.manual_score = ex.score if overruled or ex.in_kernel is None else None
                grade.needs_manual_grade = bool(res.problems)
                with contextlib.suppress(MissingEntry):
                    comment = gb.find_comment(ex.name, res.notebook, res.assignment, res.student)
                    comment.manual_comment = (ex.reason or "Outside check passed.")[:4000]
            gb.db.commit()
