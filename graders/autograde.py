"""Autograde a class: nbgrader in the student's (jailed) kernel, then a check outside it.

For every student × assignment (see :func:`autograde`):

1. nbgrader autogrades a copy of the submission in a private staging course (the kernel runs in
   the jail of graders/sandbox.py); SUBMISSIONS is only ever read;
2. the student's cells are read (graders/static.py) and re-run in an isolated child process
   (graders/child.py) that calls each exercise on cases drawn here with graders.checks.make_cases;
   its results come back through graders.wire and are compared here against rnnlib;
3. an exercise keeps its in-kernel score only when the outside check agrees; otherwise it scores 0
   and the reason goes to the CSV, the feedback and the gradebook (as a manual score and comment).
"""

from __future__ import annotations

import contextlib
import csv
import functools
import hashlib
import inspect
import io
import json
import logging
import multiprocessing as mp
import os
import re
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import numpy as np

from graders import (
    course,
    feedback,
    gradebook,
    jail,
    policy,
    sandbox,
    sanitize,
    static,
    stubs,
    wire,
)
from graders import progress as progress_report
from graders.child import BOOTSTRAP
from graders.preprocessors import strip_hidden
from graders.results import ExerciseResult, NotebookResult, result_dict

MAX_SUBMISSION_BYTES = 64 * 2**20
# Checked on the notebook's JSON before nbformat, the static checks or the highlighter see it.
MAX_CELLS = 2000
MAX_CELL_SOURCE_BYTES = 2**20  # one cell's source
MAX_CELL_OUTPUT_BYTES = 5 * 2**20  # one cell's stored outputs and attachments
NOTEBOOK_TIMEOUT = 300  # wall-clock seconds for the student's kernel to run one notebook
# wall-clock seconds for the whole outside check of one notebook: the kernel's bound, so that a
# notebook whose definitions the kernel ran in time is not failed by the outside check alone
CHILD_TIMEOUT = NOTEBOOK_TIMEOUT
PER_CALL_SECONDS = 10  # one call of a student's function on a hidden case (they are small)
CSV_COLUMNS = ("student", "assignment", "notebook", "score", "max_score", "status")
_TIMEOUT_ERRORS = ("CellTimeoutError", "TimeoutError")


@dataclass
class RunPaths:
    """Where a grading run reads and writes."""

    base: str  # private staging folder of this run
    source: str  # the source notebooks (assignment folders)
    template_db: str  # a gradebook holding the assignments, copied into each worker
    root: str  # the course root (gradebook, autograded/)
    out: str  # where grades.csv and feedback/ go


@dataclass
class Limits:
    """How long a submission may run (seconds)."""

    timeout: int  # one cell in the student's kernel (and in the outside check's child)
    notebook_timeout: int = NOTEBOOK_TIMEOUT  # one notebook in the kernel, wall clock
    child_timeout: int = CHILD_TIMEOUT  # the whole outside check of one notebook


@dataclass
class Isolation:
    """How the jails are made (graders/policy.py decides what each one holds)."""

    use_uids: bool  # the jails run under uids of their own
    child_packages: list[str]  # the package folders the child may import (numpy's)
    uid_base: int = sandbox.UID_BASE  # this run's block of uids (see sandbox.run_uid_base)
    seed: dict[str, str] = field(default_factory=dict)  # files put in each kernel's HOME
    zygote: bool = True  # kernels fork from a warm zygote (False: each starts cold)


@dataclass
class Setup:
    """What every grading worker needs to know (plain data: it crosses into worker processes)."""

    paths: RunPaths
    limits: Limits
    isolation: Isolation
    secret: str  # salts the outside check's random cases (stable per course, unknown to students)


# ------------------------------------------------------------------------------------------
# Finding the submissions
# ------------------------------------------------------------------------------------------


@dataclass
class Task:
    """One student's submission of one assignment."""

    student: str
    assignment: str
    folder: str
    problem: str = ""  # why it cannot be graded at all (a 'needs review' row, no kernel runs)


# A student or assignment folder name the grader passes to nbgrader, the gradebook and the paths of
# its staging course: letters, digits and ._@+- only, not starting with a dot or a dash.
_SAFE_NAME = re.compile(r"[^\W_][\w.@+-]*|_[\w.@+-]*")
MAX_NAME_LENGTH = 100


def shown(name: str | bytes) -> str:
    """A folder name as it can be shown and written anywhere (CSV, JSON, HTML): bytes that are not
    UTF-8 as \\xNN, control characters escaped."""
    if isinstance(name, bytes):
        name = os.fsdecode(name)
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if text.isprintable():
        return text
    return repr(text)[1:-1]


def name_problem(name: str) -> str | None:
    """Why a student or assignment folder name cannot be graded as is, or None."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid UTF-8"
    if len(name) > MAX_NAME_LENGTH:
        return f"is longer than {MAX_NAME_LENGTH} characters"
    if not _SAFE_NAME.fullmatch(name):
        return "has characters other than letters, digits and ._@+- (or starts with - or .)"
    return None


def discover(submissions: Path, known: dict[str, list[str]]) -> list[Task]:
    """The <student>/<assignment>/ folders under ``submissions`` whose assignment is known.

    A student or assignment folder that cannot be graded safely (a symlink, a name that is not
    UTF-8 or has odd characters) becomes a Task with a ``problem``, which the batch reports as its
    own 'needs review' row; the rest of the class is graded as usual. Hidden folders (.name) are
    skipped, except names made only of dots and spaces, which look like a path trick.
    """
    tasks = []
    for student in sorted(submissions.iterdir(), key=lambda p: os.fsencode(p.name)):
        name = student.name
        if name.startswith(".") and name.strip(". "):
            continue
        who = shown(name)
        if student.is_symlink():
            tasks.append(Task(who, "?", str(student), f"the student folder {who!r} is a symlink"))
            continue
        if not student.is_dir():
            continue
        bad = name_problem(name)
        if bad:  # a row per assignment it holds (none of it is read), or one row if none
            problem = f"the student folder name {bad}"
            held = [f.name for f in student.iterdir() if f.name in known and not f.is_symlink()]
            for assignment in sorted(held) or ["?"]:
                tasks.append(Task(who, assignment, str(student), problem))
            continue
        for folder in sorted(student.iterdir(), key=lambda p: os.fsencode(p.name)):
            if folder.name in known and folder.is_symlink():
                problem = f"the assignment folder {folder.name} is a symlink"
                tasks.append(Task(name, folder.name, str(folder), problem))
            elif folder.name in known and not folder.is_dir():
                problem = f"{folder.name} is not a folder"
                tasks.append(Task(name, folder.name, str(folder), problem))
            elif folder.name in known:
                tasks.append(Task(name, folder.name, str(folder)))
            else:
                print(
                    f"autograde: skipping {shown(str(folder))}: no assignment "
                    f"{shown(folder.name)!r} in the course",
                    file=sys.stderr,
                )
    return tasks


class NothingToGradeError(ValueError):
    """The submissions folder holds no <student>/<assignment>/ folder of a known assignment."""


def layout_report(submissions: Path, known: dict[str, list[str]]) -> str:
    """Why ``submissions`` has nothing to grade: the layout expected and what is there instead."""
    expected = (
        f"expected <student>/<assignment>/<notebook>.ipynb, <assignment> one of "
        f"{', '.join(known) or '(none: the course has no assignments)'}"
    )
    found = sorted(
        str(p.relative_to(submissions))
        for depth in ("*.ipynb", "*/*.ipynb", "*/*/*.ipynb")
        for p in submissions.glob(depth)
    )
    if not any(submissions.iterdir()):
        what = "found an empty folder"
    elif not found:
        what = "found no .ipynb file in its first three levels"
    else:
        more = f" and {len(found) - 5} more" if len(found) > 5 else ""
        what = f"found {', '.join(found[:5])}{more}"
        if any(Path(f).parts[0] in known for f in found if len(Path(f).parts) == 2):
            what += " (<assignment>/<notebook>.ipynb: a release or source folder, not submissions)"
    return f"nothing to grade in {submissions}: {expected}; {what}"


def unreadable_rows(task: Task, source: str, reason: str) -> list[NotebookResult]:
    """A 'needs review' row per notebook of the task's assignment (one row if it is unknown)."""
    names = course.assignments(source).get(task.assignment, ["?"])
    status = f"needs review: {reason}"[:500]
    rows = []
    for n in names:
        max_score = 0.0
        with contextlib.suppress(Exception):  # the row is what matters, its maximum is a nicety
            nb = course.read_notebook(Path(source) / task.assignment / f"{n}.ipynb")
            max_score = sum(e.points for e in course.exercises_of(nb))
        row = NotebookResult(task.student, task.assignment, n, 0.0, max_score, status)
        row.problems.append(reason[:500])
        rows.append(row)
    return rows


# ------------------------------------------------------------------------------------------
# The worker: one process grades one submission at a time in its own staging course
# ------------------------------------------------------------------------------------------


def _quiet() -> None:
    warnings.filterwarnings("ignore")
    logging.getLogger("sqlalchemy").setLevel(logging.CRITICAL)


# this process's worker: a process pool's initializer (init_worker) sets it, as a pool needs
_worker: Worker | None = None


@dataclass
class Worker:
    """One grading worker's state and its stages: a process of the pool (or the one thread a Dask
    worker grades in) grades one submission at a time in its own staging course. Each stage is a
    method; what it reads of the run is here, nothing in module globals but :data:`_worker`."""

    setup: Setup
    slot: int  # this worker's number: its staging folder w<slot> and its uids
    root: Path  # its staging course (a copy of the template gradebook)
    api: Any  # nbgrader's NbGraderAPI on that course
    exporter: Any  # the feedback page's HTML exporter (graders/feedback.py), reused
    kernel_uid: int | None  # the uids its jails run under (None: no uids of their own)
    child_uid: int | None
    stubs: dict = field(default_factory=dict)  # the stub packages made, by exercise set
    sources: dict = field(default_factory=dict)  # the source notebooks read
    references: dict = field(default_factory=dict)  # rnnlib's and the course's solution texts
    zygote: Any = None  # the zygote process its kernels fork from
    zygote_starts: int = 0
    scratch: int | None = None  # the thread whose mount namespace has the children's tmpfs
    slot_lock: int | None = None  # a Dask worker's lock on its number (graders/cluster.py)

    def _ensure_scratch(self) -> None:
        """The outside check's children write to a size-limited tmpfs, not the real disk: mount it
        once in the mount namespace of the thread that grades (a pool's worker process, or the one
        thread a Dask worker runs its tasks in), before it starts a child or a zygote."""
        me = threading.get_ident()
        if self.scratch == me:
            return
        if jail.scratch_tmpfs(str(self.root / "child"), sandbox.CHILD_SCRATCH_BYTES):
            self.scratch = me

    def _ensure_zygote(self) -> None:
        """This worker's kernels fork from a zygote that has the imports done (graders/zygote.py).
        Start it before the worker's first kernel, or again if it died; if it cannot start, kernels
        start cold."""
        setup = self.setup
        zygote = self.zygote
        if zygote is not None and zygote.poll() is None:
            return
        os.environ.pop(sandbox.ZYGOTE_ENV, None)
        if (
            not setup.isolation.zygote or self.zygote_starts >= 3
        ):  # off, or it keeps failing: start cold
            return
        self.zygote_starts += 1
        folder = self.root / "zygote"
        # PATH: autograde() put this interpreter's folder first already; clean_env keeps it
        env = sandbox.clean_env(
            {
                "MPLCONFIGDIR": str(Path(setup.paths.base) / "matplotlib"),
                "MPLBACKEND": KERNEL_MPLBACKEND,
            }
        )
        self.zygote = zygote = sandbox.start_zygote(folder, env)
        if zygote is not None:
            os.environ[sandbox.ZYGOTE_ENV] = str(folder / "kernels.sock")

    def stop(self) -> None:
        """End this worker's zygote (a pool's workers end theirs by dying: PR_SET_PDEATHSIG)."""
        zygote = self.zygote
        if zygote is not None:
            zygote.kill()
            zygote.wait()
        os.environ.pop(sandbox.ZYGOTE_ENV, None)
        if self.scratch == threading.get_ident():
            jail.release_scratch(str(self.root / "child"))

    def grade(self, task: Task) -> list[NotebookResult]:
        """Grade one student's assignment in this worker. A failure of the grader itself becomes a
        'needs review' row per notebook instead of stopping the batch."""
        if task.problem:  # nothing of it is read or run
            return unreadable_rows(task, self.setup.paths.source, task.problem)
        try:
            return self._grade(task)
        except Exception as exc:  # noqa: BLE001 - one broken submission must not stop the class
            reason = f"the grader failed on this submission ({type(exc).__name__}: {exc})"
            return unreadable_rows(task, self.setup.paths.source, reason)
        finally:
            for d in ("submitted", "autograded"):
                shutil.rmtree(self.root / d / task.student, ignore_errors=True)

    def _grade(self, task: Task) -> list[NotebookResult]:
        """Grade one student's assignment: nbgrader, the outside check, feedback."""
        self._ensure_scratch()
        setup = self.setup
        root: Path = self.root
        source_nbs = course.assignments(setup.paths.source)[task.assignment]
        sub_dir = root / "submitted" / task.student / task.assignment
        auto_dir = root / "autograded" / task.student / task.assignment
        for d in (root / "submitted" / task.student, root / "autograded" / task.student):
            shutil.rmtree(d, ignore_errors=True)
        sub_dir.mkdir(parents=True)
        results: dict[str, NotebookResult] = {}
        valid: dict[str, nbformat.NotebookNode] = {}
        folder = Path(task.folder)
        for name in source_nbs:
            src_nb = self._source_notebook(task.assignment, name)
            max_score = sum(e.points for e in course.exercises_of(src_nb))
            res = results[name] = NotebookResult(
                task.student, task.assignment, name, 0.0, max_score, ""
            )
            path = folder / f"{name}.ipynb"
            problem = _readable(path)
            if problem is None:
                problem, nb, data = _read_notebook(path)
                if nb is not None:
                    valid[name] = nb
                    # the bytes checked, not the path again: nbgrader reads what was checked
                    (sub_dir / f"{name}.ipynb").write_bytes(data)
            if problem:
                res.problems.append(problem)
        stamp = folder / "timestamp.txt"
        with contextlib.suppress(OSError, wire.WireError):
            (sub_dir / "timestamp.txt").write_bytes(wire.read_regular(stamp, 10_000))
        children = {name: self._start_child(task, name, nb) for name, nb in valid.items()}
        log, overran = "", False
        if valid:
            log, overran = self._run_nbgrader(task, auto_dir, len(valid))
        outside = {name: self._finish_child(*child) for name, child in children.items()}
        if overran:
            limit = self.setup.limits.notebook_timeout
            for name in valid:
                results[name].problems.append(
                    f"the notebook ran over its {limit} s wall-clock limit: its kernel was stopped"
                )
        for name, res in results.items():
            nb = valid.get(name)
            self._combine(res, nb, outside.get(name), log, auto_dir / f"{name}.ipynb")
            res.feedback = self._write_feedback(res, nb, auto_dir / f"{name}.ipynb")
            self._publish_autograded(res, auto_dir / f"{name}.ipynb")
        # nbgrader release_feedback reads these two beside the feedback (the exchange's submission ids)
        for extra in ("timestamp.txt", "submission_secret.txt"):
            try:
                data = wire.read_regular(folder / extra, 10_000)
            except (OSError, wire.WireError):
                continue
            dest = Path(setup.paths.out) / "feedback" / task.student / task.assignment / extra
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
        for d in (root / "submitted" / task.student, root / "autograded" / task.student):
            shutil.rmtree(d, ignore_errors=True)
        return [results[n] for n in source_nbs]

    def _source_notebook(self, assignment: str, notebook: str) -> nbformat.NotebookNode:
        """The course's source notebook, read once per worker (callers only read it)."""
        key = (assignment, notebook)
        if key not in self.sources:
            path = Path(self.setup.paths.source) / assignment / f"{notebook}.ipynb"
            self.sources[key] = course.read_notebook(path)
        return self.sources[key]

    def _run_nbgrader(self, task: Task, auto_dir: Path, notebooks: int = 1) -> tuple[str, bool]:
        """nbgrader autograde of this submission in the staging course: (its log on failure, whether
        the kernel was stopped for running over the wall-clock limit of ``notebooks`` notebooks)."""
        ipc = self.root / "ipc"  # the kernel's sockets: its only way in or out
        shutil.rmtree(ipc, ignore_errors=True)
        ipc.mkdir(mode=0o700)
        if self.kernel_uid is not None:
            os.chown(ipc, self.kernel_uid, self.kernel_uid)
        config = sandbox.jail_config(
            self.root / "kernel-jail.json",
            uid=self.kernel_uid,
            # no folder of the real disk is writable: the kernel works in its private, size-limited
            # /tmp (its outputs reach nbgrader over the sockets, not through files)
            keep={"ipc": str(ipc)},
            chdir="/tmp",
            limits=sandbox.KERNEL_LIMITS,
            net=True,
            env=sandbox.clean_env(
                {
                    "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
                    "NBGRADER_EXECUTION": "autograde",
                    "MPLBACKEND": KERNEL_MPLBACKEND,
                }
            ),
            quiet=True,
            seed=self.setup.isolation.seed,
        )
        os.environ[sandbox.JAIL_ENV] = str(config)
        os.environ[sandbox.IPC_ENV] = str(ipc)
        self._ensure_zygote()
        limit = self.setup.limits.notebook_timeout * max(1, notebooks)
        done, overran = threading.Event(), threading.Event()

        def watchdog() -> None:
            # per-cell limits do not bound a notebook of many slow cells: past the notebook's limit
            # kill the kernel's uid (nbclient then reports a dead kernel and nbgrader returns), and
            # keep killing until it does, in case something starts again
            if done.wait(limit):
                return
            overran.set()
            while not done.is_set():
                sandbox.kill_uid(self.kernel_uid)
                done.wait(0.5)

        # without uids of its own (not root) the kernel cannot be told apart: only the cell limit holds
        guard = threading.Thread(target=watchdog, daemon=True) if self.kernel_uid else None
        if guard is not None:
            guard.start()
        try:
            with (
                contextlib.redirect_stderr(io.StringIO()),
                contextlib.redirect_stdout(io.StringIO()),
            ):
                result = self.api.autograde(task.assignment, task.student, force=True, create=True)
        finally:
            done.set()
            if guard is not None:
                guard.join()
            os.environ.pop(sandbox.JAIL_ENV, None)
            os.environ.pop(sandbox.IPC_ENV, None)
            sandbox.kill_uid(self.kernel_uid)
        if os.environ.get("RNN_GRADE_DEBUG"):  # a folder: keep nbgrader's log of every submission
            Path(os.environ["RNN_GRADE_DEBUG"], f"{task.student}-{task.assignment}.log").write_text(
                (result.get("log") or "") + "\n" + (result.get("error") or "")
            )
        if result.get("success"):
            return "", overran.is_set()
        return (result.get("log") or "") + "\n" + (result.get("error") or ""), overran.is_set()

    def _stub_dir(self, assignment: str, notebook: str, graded: list[str]) -> Path:
        """The child's folder for this notebook (graders/stubs.py), built once per worker."""
        key = f"{assignment}-{notebook}"
        if key not in self.stubs:
            stub = self.root / "stub" / key
            stubs.build_stub(stub, graded)
            self.stubs[key] = stub
        return self.stubs[key]

    def _seed(self, submission: str, *parts: str) -> int:
        """The seed of one exercise's hidden cases: the course's secret (students never see it) and
        ``submission``, the static.code_digest of the code the child runs, so that the same
        submission is graded on the same cases twice and an edited one on fresh cases; a student
        who collects the inputs from one grading cannot hard-code them into the next."""
        key = "\x00".join((self.setup.secret, submission, *parts))
        return int(hashlib.sha256(key.encode()).hexdigest()[:16], 16)

    def _start_child(self, task: Task, notebook: str, nb: nbformat.NotebookNode):
        """Draw the cases, write them with graders.wire and start the jailed child (not waiting)."""
        from graders import checks, wire

        setup = self.setup
        src = self._source_notebook(task.assignment, notebook)
        names = [e.name for e in course.exercises_of(src) if e.name in checks.EXERCISES]
        work = self.root / "child" / f"{task.assignment}-{notebook}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        cells = child_cells(nb, set(names))
        # keyed by the code the child runs, not by who handed it in (see _seed)
        submission = static.code_digest([source for _, source in cells])
        cases = {}
        for name in names:
            rng = np.random.default_rng(self._seed(submission, task.assignment, notebook, name))
            cases[name] = checks.make_cases(name, rng)
            wire.dump(cases[name], work / f"cases_{name}.npz")
        spec = child_spec(names, cells, min(setup.limits.timeout, setup.limits.child_timeout))
        (work / "spec.json").write_text(json.dumps(spec))
        uid = self.child_uid
        if uid is not None:
            os.chown(work, uid, uid)
        stub = self._stub_dir(task.assignment, notebook, names)
        # an allow-list sandbox (graders/policy.py): the interpreter, numpy, the stub package and
        # this folder; no network, no other process, nothing else of the machine
        command = policy.child_argv(
            policy.current_interpreter(),
            [Path(p) for p in setup.isolation.child_packages],
            stub,
            work,
            uid,
            BOOTSTRAP,
            sandbox.clean_env(),
        )
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=functools.partial(jail.set_limits, sandbox.CHILD_LIMITS),
        )
        return proc, work, names, cases, time.monotonic()

    def _finish_child(
        self, proc, work: Path, names: list[str], cases: dict, started: float
    ) -> dict[str, Any]:
        """Wait for the child; read what it wrote (never unpickling) and compare against rnnlib."""
        from graders import calls, checks, wire

        setup = self.setup
        timed_out = False
        try:
            _, err = proc.communicate(
                timeout=max(1.0, setup.limits.child_timeout - (time.monotonic() - started))
            )
        except subprocess.TimeoutExpired:
            timed_out = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 9)
            err = b""
            proc.wait()
        sandbox.kill_uid(self.child_uid)
        ended = (
            "the outside check ran over its time limit"
            if timed_out
            else (f"the outside check's process ended early (exit code {proc.returncode})")
        )
        cell_errors = []
        with contextlib.suppress(Exception):  # missing, a FIFO, a symlink, too big, not JSON: none
            report = json.loads(wire.read_regular(work / "cells.json", 1_000_000).decode("utf-8"))
            cell_errors = [
                {"cell": calls.bounded(str(c.get("cell")), 80), "error": calls.bounded(c["error"])}
                for c in report
                if type(c) is dict and c.get("error")
            ]
        verdicts = {}
        for name in names:
            out = work / f"out_{name}.npz"
            try:
                outputs = wire.load(out)
            except FileNotFoundError:
                verdicts[name] = checks.Verdict(False, f"{name} was not checked: {ended}")
                continue
            except Exception as exc:  # noqa: BLE001 - a corrupt or oversized result is a failure
                verdicts[name] = checks.Verdict(
                    False,
                    # the grader's own folder names stay out of the message
                    f"{name}: the outside check's results were unreadable "
                    f"({calls.bounded(str(exc).replace(str(work), 'job'))})",
                )
                continue
            try:
                # the mutation verdict is made here from the arguments the child sent back
                judged = checks.judge_mutation(name, cases[name], outputs)
                verdicts[name] = checks.check(name, cases[name], judged)
            except Exception as exc:  # noqa: BLE001 - outputs the comparison cannot handle
                verdicts[name] = checks.Verdict(
                    False, f"{name}: results of the wrong kind ({type(exc).__name__})"
                )
        shutil.rmtree(work, ignore_errors=True)
        return {
            "verdicts": verdicts,
            "cell_errors": cell_errors,
            "timed_out": timed_out,
            "stderr": (err or b"").decode("utf-8", "replace")[-2000:],
        }

    def _in_kernel_scores(self, res: NotebookResult) -> dict[str, float | None]:
        """grade_id -> nbgrader's auto score in the staging gradebook (None: not graded)."""
        from nbgrader.api import Gradebook, MissingEntry

        scores: dict[str, float | None] = {}
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gb:
            try:
                sub = gb.find_submission_notebook(res.notebook, res.assignment, res.student)
            except MissingEntry:
                return scores
            res.graded = True
            for grade in sub.grades:
                scores[grade.name] = grade.auto_score
        return scores

    def _references(self, assignment: str, notebook: str) -> tuple[dict[str, str], dict[str, str]]:
        """({exercise: rnnlib's source of it}, {grade_id: the course's solution text}) of one
        notebook, read once per worker (rnnlib and the source notebooks do not change in a run)."""
        import rnnlib

        cache = self.references
        if (assignment, notebook) in cache:
            return cache[assignment, notebook]
        src = self._source_notebook(assignment, notebook)
        references = {
            e.name: inspect.getsource(inspect.unwrap(getattr(rnnlib, e.name)))
            for e in course.exercises_of(src)
            if callable(getattr(rnnlib, e.name, None))
        }
        cache[assignment, notebook] = references, course.solution_answers(src)
        return cache[assignment, notebook]

    def _combine(
        self,
        res: NotebookResult,
        nb: nbformat.NotebookNode | None,
        outside: dict | None,
        log: str,
        autograded: Path,
    ) -> None:
        """Per exercise: the in-kernel score if the outside check passes, else 0 with the reason."""
        setup = self.setup
        src = self._source_notebook(res.assignment, res.notebook)
        exercises = course.exercises_of(src)
        graded_names = {e.name for e in exercises}
        flags: list[static.Flag] = []
        if nb is not None:
            # the course's own cells (demos may call rnnlib's reference) are not the student's doing
            # (a test cell as the student got it: its hidden part stripped)
            provided = {
                "\n".join(_normal(text))
                for c in src.cells
                if c.cell_type == "code"
                for text in (c.source, strip_hidden(c.source))
            }
            # an answer cell is one of the course's, once: a "solution" flag the student put on
            # another cell does not make it one
            answers = {
                c.metadata.nbgrader.grade_id
                for c in src.cells
                if c.get("metadata", {}).get("nbgrader", {}).get("solution")
                and c.metadata.nbgrader.get("grade_id")
            }
            student_cells = []
            for i, cell in enumerate(nb.cells):
                meta = cell.get("metadata", {}).get("nbgrader", {})
                if "\n".join(_normal(cell.source)) in provided and not meta.get("solution"):
                    continue
                # metadata is the student's to write: neither a "locked" nor a "grade" flag exempts
                # a cell (only the course's own cell text, above, does)
                if cell.cell_type == "code":
                    name = meta.get("grade_id") if meta.get("solution") else None
                    if name not in answers:
                        name = None
                    else:
                        answers.discard(name)
                    student_cells.append((meta.get("grade_id") or f"cell {i}", cell.source, name))
            flags = static.scan_notebook(student_cells, graded_names)
        if nb is not None:
            res.problems.extend(tampered_cells(src, nb))
            # an answer that is rnnlib's function with its names changed is for a person to judge
            references, solutions = self._references(res.assignment, res.notebook)
            theirs = [
                (c.metadata.nbgrader.grade_id, c.source)
                for c in nb.cells
                if c.cell_type == "code"
                and c.get("metadata", {}).get("nbgrader", {}).get("solution")
                and c.metadata.nbgrader.get("grade_id") in references
            ]
            res.problems.extend(static.reference_copies(theirs, references, solutions))
        scores = self._in_kernel_scores(res) if nb is not None else {}
        graded_nb = None
        if autograded.is_file():
            with contextlib.suppress(Exception):
                graded_nb = course.read_notebook(autograded)
        if nb is not None:
            res.problems.extend(kernel_problems(log, graded_nb, setup.limits.timeout))
            if outside and outside["timed_out"] and not res.problems:
                res.problems.append("the student's code ran over the outside check's time limit")
        verdicts = (outside or {}).get("verdicts", {})
        points_of = {e.name: e.points for e in exercises}
        dropped = dropped_names(nb) if nb is not None else set()
        for ex in exercises:
            in_kernel = scores.get(f"test_{ex.name}")
            verdict = verdicts.get(ex.name)
            passed = bool(verdict and verdict.passed)
            message = verdict.message if verdict else "not checked: the notebook could not be run"
            mine = [f.text() for f in flags if f.exercise in (None, ex.name)]
            er = ExerciseResult(ex.name, ex.points, in_kernel, passed, message, mine)
            earned = float(in_kernel or 0.0)
            if passed and not mine:
                er.score = earned
            else:
                er.score = 0.0
                er.reason = (
                    ("static check: " + "; ".join(mine)) if mine else f"outside check: {message}"
                )
                unrun = _unrun_name(message, dropped) if earned > 0 and not mine else None
                if unrun is not None:  # the child could not run it as the kernel did: a person
                    res.problems.append(
                        f"{ex.name}: it uses {unrun}, which a cell of the student's own sets in "
                        "a statement the outside check does not run (it runs only definitions)"
                    )
                elif earned > 0:
                    res.failures.append(f"{ex.name}: in-kernel tests passed but {er.reason}")
            if passed and not mine and in_kernel is not None and earned < ex.points:
                # a visible test that calls the student's own earlier function fails when that one
                # is wrong: the outside check, on the course's cases, is then the whole evidence
                # (wrong outside and in the kernel alike: one that passed in the kernel would be
                # a disagreement of its own, for a person)
                wrong = [
                    u
                    for u in ex.uses
                    if u in verdicts
                    and not verdicts[u].passed
                    and float(scores.get(f"test_{u}") or 0.0) < points_of[u]
                ]
                if wrong:
                    er.score, er.wrong_uses = ex.points, wrong
                    er.reason = feedback.dependency_reason(ex.name, wrong)
                elif not res.problems:
                    er.reason = "the outside check passed but the in-kernel tests did not"
                    res.problems.append(f"{ex.name}: {er.reason}")
            res.exercises.append(er)
        for f in flags:
            if not any(f.text() in r for r in res.failures):
                res.failures.append(f"static check: {f.text()}")
        res.score = round(sum(e.score for e in res.exercises), 4)
        if res.problems:
            res.status = "needs review: " + "; ".join(dict.fromkeys(res.problems))
        elif res.failures:
            res.status = "failed: " + "; ".join(dict.fromkeys(res.failures))
        else:
            res.status = "ok"

    def _write_feedback(
        self, res: NotebookResult, submitted: nbformat.NotebookNode | None, autograded: Path
    ) -> str:
        """Write DIR/feedback/<student>/<assignment>/<notebook>.html; returns its path."""
        setup = self.setup
        nb = None
        if autograded.is_file():
            with contextlib.suppress(Exception):
                nb = course.read_notebook(autograded)
        if nb is None:
            nb = submitted if submitted is not None else nbformat.v4.new_notebook()
            for cell in nb.cells:
                if cell.cell_type == "code":
                    cell.outputs = []  # the student's own stored outputs are not evidence of anything
        src = self._source_notebook(res.assignment, res.notebook)
        trusted = {c.source.strip() for c in src.cells if c.cell_type == "markdown"}
        body = feedback.render_feedback(res, nb, trusted, sanitize.hidden_lines(src), self.exporter)
        path = (
            Path(setup.paths.out)
            / "feedback"
            / res.student
            / res.assignment
            / f"{res.notebook}.html"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
        return str(path)

    def _publish_autograded(self, res: NotebookResult, autograded: Path) -> None:
        """Copy the autograded notebook into the course root, where formgrader shows it."""
        dest = (
            Path(self.setup.paths.root)
            / "autograded"
            / res.student
            / res.assignment
            / f"{res.notebook}.ipynb"
        )
        if autograded.is_file() and not autograded.is_symlink():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(autograded, dest)


def init_worker(setup: Setup, slots: Any, slot: int | None = None) -> Worker:
    """Make this process's worker: its staging course (a copy of the template gradebook) and its
    uids. The worker's number is ``slot``, else taken from the queue ``slots``, else 0."""
    _quiet()
    if slot is None:
        slot = slots.get() if slots is not None else 0
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    root = Path(setup.paths.base) / f"w{slot}"
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(setup.paths.template_db, root / "gradebook.db")
    config = course.make_config(
        root=root,
        source=setup.paths.source,
        url=f"sqlite:///{root / 'gradebook.db'}",
        timeout=setup.limits.timeout,
    )
    config.Execute.kernel_manager_class = "graders.sandbox.JailedKernelManager"
    # every output is in once the last cell has replied: kill the kernel, do not wait on it
    config.Execute.shutdown_kernel = "immediate"
    config.Execute.record_timing = False  # no per-cell timestamps in graded notebooks
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    global _worker
    _worker = Worker(
        setup=setup,
        slot=slot,
        root=root,
        api=api,
        exporter=feedback.feedback_exporter(),
        kernel_uid=setup.isolation.uid_base + 2 * slot if setup.isolation.use_uids else None,
        child_uid=setup.isolation.uid_base + 2 * slot + 1 if setup.isolation.use_uids else None,
    )
    return _worker


def grade_task(task: Task) -> list[NotebookResult]:
    """Grade one student's assignment in this process's worker (what the pool runs)."""
    if _worker is None:
        raise RuntimeError("grade_task before init_worker: this process has no grading worker")
    return _worker.grade(task)


def stop_worker() -> None:
    """End this process's worker (its zygote, its scratch tmpfs), if it has one."""
    global _worker
    if _worker is not None:
        _worker.stop()
    _worker = None


# The grading kernel draws figures as Jupyter does (PNG outputs, so the feedback shows them);
# sandbox.clean_env's Agg stays for every other process. The zygote imports matplotlib before it
# forks a kernel, so it needs the same backend.
KERNEL_MPLBACKEND = "module://matplotlib_inline.backend_inline"


def _readable(path: Path) -> str | None:
    """Why ``path`` cannot be graded (missing, a symlink, not a regular file, too large), or None.
    (Only a first, readable answer: the file is then opened with wire.read_regular.)"""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return f"no {path.name} in the submission"
    except OSError as exc:
        return f"{path.name} cannot be read ({exc.strerror})"
    if stat.S_ISLNK(st.st_mode):
        return f"{path.name} is a symlink, not a file of the submission (it was not graded)"
    if not stat.S_ISREG(st.st_mode):
        return f"{path.name} is not a regular file"
    if st.st_size > MAX_SUBMISSION_BYTES:
        return f"{path.name} is {st.st_size:,} bytes, more than the {MAX_SUBMISSION_BYTES:,} graded"
    return None


def _read_notebook(path: Path) -> tuple[str | None, nbformat.NotebookNode | None, bytes]:
    """(why it cannot be graded, None, b"") or (None, the notebook, its bytes): read without
    following a symlink, its cells counted and measured on the plain JSON before nbformat parses
    and validates it."""
    name = path.name
    try:
        data = wire.read_regular(path, MAX_SUBMISSION_BYTES)
        raw = json.loads(data.decode("utf-8"))
    except (OSError, wire.WireError) as exc:
        return f"{name} could not be read ({str(exc)[-200:]})", None, b""
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        why = f"{name} is not a valid notebook ({type(exc).__name__}): it could not be run"
        return why, None, b""
    problem = notebook_size_problem(raw)
    if problem:
        return f"{name} {problem} (it was not run)", None, b""
    try:
        return None, nbformat.reads(data.decode("utf-8"), as_version=4), data
    except Exception as exc:  # noqa: BLE001 - any parse failure is the same for the student
        why = f"{name} is not a valid notebook ({type(exc).__name__}): it could not be run"
        return why, None, b""


def _text_size(value: Any) -> int:
    if isinstance(value, list):
        return sum(_text_size(v) for v in value)
    return len(value.encode("utf-8", "surrogatepass")) if isinstance(value, str) else 0


def notebook_size_problem(raw: Any) -> str | None:
    """What in a notebook's JSON is over the grader's limits (cells, one cell's source or
    outputs), or None; a malformed notebook is left for nbformat to report."""
    cells = raw.get("cells") if isinstance(raw, dict) else None
    if not isinstance(cells, list):
        return None
    if len(cells) > MAX_CELLS:
        return f"has {len(cells):,} cells, more than the {MAX_CELLS:,} graded"
    for i, cell in enumerate(cells):
        if not isinstance(cell, dict):
            continue
        size = _text_size(cell.get("source"))
        if size > MAX_CELL_SOURCE_BYTES:
            return (
                f"has a cell (cell {i}) of {size:,} bytes, more than the "
                f"{MAX_CELL_SOURCE_BYTES:,} graded in one cell"
            )
        stored = [cell.get("outputs"), cell.get("attachments")]
        size = len(json.dumps(stored, ensure_ascii=False).encode("utf-8", "surrogatepass"))
        if size > MAX_CELL_OUTPUT_BYTES:
            return (
                f"has a cell (cell {i}) whose stored outputs are {size:,} bytes, more than the "
                f"{MAX_CELL_OUTPUT_BYTES:,} graded in one cell"
            )
    return None


# ------------------------------------------------------------------------------------------
# The outside check
# ------------------------------------------------------------------------------------------


def child_cells(nb: nbformat.NotebookNode, graded: set[str]) -> list[tuple[str, str]]:
    """What the child runs: the student's answer cells whole, and from every other non-test cell
    only its imports, definitions and assignments that call nothing but a few pure builtins (no
    demos, plots or training runs)."""
    return _split_cells(nb)[0]


def dropped_names(nb: nbformat.NotebookNode) -> set[str]:
    """The names the student's other cells bind in statements the child does not run: a function
    that uses one works in the kernel and raises NameError in the child, which proves nothing."""
    return _split_cells(nb)[1]


def _split_cells(nb: nbformat.NotebookNode) -> tuple[list[tuple[str, str]], set[str]]:
    import ast

    cells, dropped = [], set()
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            continue
        text = static.python_source(cell.source)
        label = meta.get("grade_id") or f"cell {i}"
        if meta.get("solution"):
            cells.append((f"answer cell {label}", text))
            continue
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        kept = [node for node in tree.body if _definition(node)]
        for node in tree.body:
            if node not in kept:
                dropped |= _bound_names(node)
        if kept:
            cells.append((label, ast.unparse(ast.Module(body=kept, type_ignores=[]))))
    return cells, dropped


# calls a definition may make and still be one: pure builtins that build values (a lambda's body
# is not run when it is defined, so calls inside one do not count)
_PURE_CALLS = frozenset(
    "tuple list dict set frozenset range zip enumerate str int float bool len sorted reversed "
    "min max abs round sum slice".split()
)


def _definition(node: Any) -> bool:
    import ast

    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return not any(a.name.split(".")[0] == "matplotlib" for a in node.names) and (
            not isinstance(node, ast.ImportFrom)
            or (node.module or "").split(".")[0] != "matplotlib"
        )
    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        return True
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        todo = [node.value]
        while todo:
            n = todo.pop()
            if isinstance(n, ast.Lambda):
                continue
            if isinstance(n, ast.Call) and not (
                isinstance(n.func, ast.Name) and n.func.id in _PURE_CALLS
            ):
                return False
            todo.extend(ast.iter_child_nodes(n))
        return True
    return False


def _bound_names(node: Any) -> set[str]:
    """The names a statement binds (assigned, looped over, imported, defined), at any depth."""
    import ast

    names = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            names.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(n.name)
        elif isinstance(n, ast.alias):
            names.add((n.asname or n.name).split(".")[0])
    return names


def child_spec(
    names: list[str], cells: list[tuple[str, str]], cell_seconds: float = course.CELL_TIMEOUT
) -> dict[str, Any]:
    """What graders/child.py reads: the exercises, the cells to run, and its time limits. A cell
    gets ``cell_seconds``, the time it gets in the kernel (it runs the same definitions there)."""
    return {
        "exercises": names,
        "cells": cells,
        "per_call_seconds": PER_CALL_SECONDS,
        "per_cell_seconds": cell_seconds,
    }


# ------------------------------------------------------------------------------------------
# Putting the two together
# ------------------------------------------------------------------------------------------


def _unrun_name(message: str, dropped: set[str]) -> str | None:
    """The name an outside check's NameError is about, if the student's notebook binds it in a
    statement the child did not run; else None."""
    found = re.search(r"NameError: name '([A-Za-z_][A-Za-z0-9_]*)' is not defined", message)
    return found.group(1) if found and found.group(1) in dropped else None


def kernel_problems(log: str, nb: nbformat.NotebookNode | None, timeout: int) -> list[str]:
    """Why the in-kernel run cannot be trusted as an honest grade (a timeout, a dead kernel)."""
    problems = []
    if log:
        if "CellTimeoutError" in log or "Timeout waiting" in log:
            problems.append(
                f"a cell ran over the {timeout} s limit and ignored the interrupt: "
                "the kernel was stopped"
            )
        elif "UnresponsiveKernelError" in log or "unresponsive" in log:
            problems.append(
                "the kernel stopped responding (a loop that ignores interrupts?) and was killed"
            )
        elif "DeadKernelError" in log or "Kernel died" in log or "kernel died" in log.lower():
            problems.append(
                "the kernel died while running the notebook (os._exit, a crash or the memory limit)"
            )
        else:
            last = [line for line in log.strip().splitlines() if line.strip()][-1:] or [
                "unknown error"
            ]
            problems.append(f"nbgrader could not run the notebook ({last[0][:200]})")
    if nb is not None:
        for i, cell in enumerate(nb.cells):
            for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
                if out.get("output_type") != "error":
                    continue
                label = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or f"cell {i}"
                if out.get("ename") in _TIMEOUT_ERRORS or (out.get("ename") == "KeyboardInterrupt"):
                    problems.append(f"{label} ran over the {timeout} s limit and was interrupted")
                elif out.get("ename") == "DeadKernelError":
                    problems.append(f"the kernel died in {label}")
    return problems


def _normal(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def tampered_cells(src: nbformat.NotebookNode, nb: nbformat.NotebookNode) -> list[str]:
    """Test cells the student deleted or edited (nbgrader grades the course's version anyway)."""
    theirs = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    found = []
    for cell in src.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade"):
            continue
        mine = theirs.get(meta.get("grade_id"))
        if mine is None:
            found.append(
                f"the test cell {meta['grade_id']} was deleted (the course's copy was graded)"
            )
        elif _normal(mine.source) != _normal(strip_hidden(cell.source)):
            found.append(
                f"the read-only test cell {meta['grade_id']} was edited (the course's copy was graded)"
            )
    return found


# ------------------------------------------------------------------------------------------
# Feedback
# ------------------------------------------------------------------------------------------


# ------------------------------------------------------------------------------------------
# The parent: staging, workers, the gradebook, the CSV
# ------------------------------------------------------------------------------------------


def _secret(root: Path) -> str:
    path = root / ".grading-secret"
    if not path.exists():
        root.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(16))
        os.chmod(path, 0o600)
    return path.read_text().strip()


def write_csv(path: Path, results: list[NotebookResult]) -> None:
    rows = sorted(results, key=lambda r: (r.student, r.assignment, r.notebook))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for r in rows:
            writer.writerow(
                [r.student, r.assignment, r.notebook, f"{r.score:g}", f"{r.max_score:g}", r.status]
            )


def score_table(results: list[NotebookResult], width: int = 60) -> str:
    """The rows as a text table; a status longer than ``width`` is wrapped at word boundaries
    onto lines of its own under the status column, never cut off."""
    rows = sorted(results, key=lambda r: (r.student, r.assignment, r.notebook))
    head = ("student", "assignment", "notebook", "score", "status")
    body = [
        (r.student, r.assignment, r.notebook, f"{r.score:g}/{r.max_score:g}", r.status)
        for r in rows
    ]
    widths = [max(len(str(x[i])) for x in [head, *body]) for i in range(len(head) - 1)]
    widths.append(min(width, max(len(str(x[-1])) for x in [head, *body])))
    indent = " " * (sum(widths[:-1]) + 2 * (len(widths) - 1))

    def line(row: tuple) -> str:
        cells = [str(c).ljust(w) for c, w in zip(row[:-1], widths, strict=False)]
        status = textwrap.wrap(str(row[-1]), width, break_long_words=False) or [""]
        first = "  ".join([*cells, status[0]]).rstrip()
        return "\n".join([first, *(indent + more for more in status[1:])])

    lines = [line(head), "  ".join("-" * w for w in widths)]
    lines += [line(row) for row in body]
    return "\n".join(lines)


def _site_dirs() -> list[str]:
    import site

    dirs = [*site.getsitepackages()]
    user = site.getusersitepackages() if site.ENABLE_USER_SITE else None
    return [d for d in [*dirs, user] if d and os.path.isdir(d)]


def autograde(
    submissions: str | os.PathLike,
    out: str | os.PathLike | None = None,
    jobs: int = 1,
    db: str | None = None,
    root: str | os.PathLike | None = None,
    source: str | os.PathLike | None = None,
    timeout: int = course.CELL_TIMEOUT,
    progress: bool | str = True,
    child_timeout: int = CHILD_TIMEOUT,
    zygote: bool = True,
    notebook_timeout: int = NOTEBOOK_TIMEOUT,
    cluster: str | None = None,
) -> list[NotebookResult]:
    """Grade every <student>/<assignment>/<notebook>.ipynb under ``submissions``.

    ``progress`` is a mode of graders/progress.py (``bar``, ``json``, ``quiet``; True is ``bar``,
    False ``quiet``).
    ``cluster`` grades on Dask instead of ``jobs`` local processes: ``local:N`` (a LocalCluster)
    or a scheduler's address (graders/cluster.py).

    Writes ``out``/grades.csv and ``out``/feedback/, the final grades into the gradebook (``db``,
    default the course root's), and the autograded notebooks into the course root. Returns the rows.
    ``timeout`` bounds one cell in the student's kernel, ``notebook_timeout`` one whole notebook.

    Every submission gets its rows in grades.csv and results.json, which are written even when
    the gradebook cannot be (GradebookError is raised after them); a folder without a single
    submission of a known assignment raises NothingToGradeError, before any work. Rows of submissions that
    could not be graded at all (odd folder names, symlinks) are not put in the gradebook: their
    names may not be ones nbgrader accepts, and there is nothing graded to record.
    """
    from graders import checks  # noqa: F401 - fail here, not in every worker, if it is broken

    _quiet()
    course.read_alembic_head_in_process()
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    submissions = Path(submissions).resolve()
    course_root = course.course_root(root)
    out_dir = Path(out).resolve() if out else course_root
    source_dir = Path(source or course.NOTEBOOKS).resolve()
    known = course.assignments(source_dir)
    tasks = discover(submissions, known)
    if not tasks:
        raise NothingToGradeError(layout_report(submissions, known))
    out_dir.mkdir(parents=True, exist_ok=True)
    course_root.mkdir(parents=True, exist_ok=True)
    main_config = course.make_config(root=course_root, source=source_dir, url=db, timeout=timeout)
    needed = sorted({t.assignment for t in tasks if t.assignment in known})
    gradebook.ensure_assignments(main_config, needed)
    base = Path(tempfile.mkdtemp(prefix="rnn-grade-"))
    try:
        template = base / "template"
        template.mkdir()
        tconfig = course.make_config(
            root=template,
            source=source_dir,
            url=f"sqlite:///{template / 'gradebook.db'}",
            timeout=timeout,
        )
        gradebook.ensure_assignments(tconfig, needed)
        import rnnlib

        use_uids = os.geteuid() == 0
        uid_base = sandbox.run_uid_base()
        probe_uid = uid_base + sandbox.UID_BLOCK - 1
        isolation = sandbox.probe(
            base / "probe",
            probe_uid if use_uids else None,
            [str(Path(rnnlib.__file__).resolve().parent), str(submissions)],
        )
        if "error" in isolation or len(isolation.get("hidden", [])) != 2:
            raise policy.SandboxUnavailableError(
                f"the outside check's sandbox does not work here: {describe_isolation(isolation)}"
            )
        if use_uids and isolation.get("uid") != probe_uid:
            use_uids = False
        setup = Setup(
            RunPaths(
                str(base),
                str(source_dir),
                str(template / "gradebook.db"),
                str(course_root),
                str(out_dir),
            ),
            Limits(timeout, notebook_timeout, child_timeout),
            Isolation(
                use_uids,
                [str(p) for p in policy.distribution_dirs([Path(np.__file__).parent])],
                uid_base,
                {
                    **sandbox.matplotlib_font_cache(base / "matplotlib"),
                    **sandbox.kernel_ipython_config(base / "ipython"),
                },
                zygote,
            ),
            _secret(course_root),
        )
        mode = progress if isinstance(progress, str) else ("bar" if progress else "quiet")
        if mode == "bar":
            print(f"isolation: {describe_isolation(isolation)}", file=sys.stderr)
        bar = progress_report.Progress(len(tasks), mode)
        results = _run_tasks(setup, tasks, jobs, bar, cluster)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    # the CSV and results.json first: whatever happens to the gradebook, the grades are kept
    write_csv(out_dir / "grades.csv", results)
    rows = sorted(results, key=lambda r: (r.student, r.assignment, r.notebook))
    details = [{k: v for k, v in result_dict(r).items() if k != "feedback"} for r in rows]
    (out_dir / "results.json").write_text(json.dumps(details, indent=1) + "\n")
    recordable = [
        r
        for r in results
        if name_problem(r.student) is None
        and name_problem(r.assignment) is None
        and r.assignment in known
    ]
    try:
        gradebook.record(main_config.CourseDirectory.db_url, recordable)
    except Exception as exc:  # noqa: BLE001 - the CSV is written; the instructor must know
        raise GradebookError(
            f"grades.csv and results.json are written in {out_dir}, but the gradebook "
            f"{main_config.CourseDirectory.db_url} was not updated ({type(exc).__name__}: "
            f"{str(exc)[:300]})"
        ) from exc
    return results


class GradebookError(RuntimeError):
    """The grades were written to grades.csv but could not be recorded in the gradebook."""


def describe_isolation(probe: dict) -> str:
    """One line: what protects the grader from the student's code on this machine."""
    parts = [probe.get("isolation", "none")]
    parts.append("no fork" if probe.get("fork") is False else "fork NOT blocked")
    if "error" in probe:
        parts.append(f"probe failed: {probe['error']}")
    return ", ".join(parts)


def _run_tasks(
    setup: Setup,
    tasks: list[Task],
    jobs: int,
    bar: progress_report.Progress,
    cluster: str | None = None,
) -> list[NotebookResult]:
    results: list[NotebookResult] = []

    def done(task: Task, rows: list[NotebookResult]) -> None:
        results.extend(rows)
        bar.update(f"{task.student}/{task.assignment}", [r.status for r in rows])

    # a submission that cannot be graded at all gets its rows here: no worker reads it
    for task in [t for t in tasks if t.problem]:
        done(task, unreadable_rows(task, setup.paths.source, task.problem))
    tasks = [t for t in tasks if not t.problem]
    jobs = max(1, min(jobs, sandbox.UID_BLOCK // 2 - 1))
    if not tasks:
        pass
    elif cluster:
        from graders import cluster as dask_cluster

        dask_cluster.run(setup, tasks, cluster, done)
    elif jobs <= 1:
        init_worker(setup, None)
        try:
            for task in tasks:
                done(task, grade_task(task))
        finally:
            stop_worker()
    else:
        ctx = mp.get_context("spawn")
        slots = ctx.Queue()
        for i in range(jobs):
            slots.put(i)
        with ProcessPoolExecutor(
            max_workers=jobs, mp_context=ctx, initializer=init_worker, initargs=(setup, slots)
        ) as pool:
            futures = {pool.submit(grade_task, t): t for t in tasks}
            for fut in as_completed(futures):
                task = futures[fut]
                try:
                    rows = fut.result()
                except Exception as exc:  # noqa: BLE001 - a grader crash must not stop the batch
                    # (a worker that died breaks the pool: each task left gets its row here)
                    reason = f"the grader failed ({type(exc).__name__}: {exc})"
                    rows = unreadable_rows(task, setup.paths.source, reason)
                done(task, rows)
    bar.close()
    return results
