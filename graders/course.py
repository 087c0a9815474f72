"""Where the course lives and how nbgrader is configured for it: one place for paths and config.

nbgrader reads ``notebooks/<assignment>/<notebook>.ipynb`` in place as its source folder, and keeps
its working folders (release/, submitted/, autograded/, feedback/, gradebook.db) under one course
root, by default ``<repo>/course`` (git-ignored). ``RNN_GRADE_ROOT`` and ``RNN_GRADE_DB`` (any
SQLAlchemy URL) override the root and the gradebook.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path

import nbformat
from traitlets.config import Config

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
SUMMARY = NOTEBOOKS / "SUMMARY.md"  # the one-page summary: a file, never an assignment folder
DEFAULT_ROOT = REPO / "course"
COURSE_ID = "rnn-course"

# Per-cell time limit in the student's kernel (seconds); the training notebook's cells are the
# slowest honest ones and take a few seconds.
CELL_TIMEOUT = 60
# Per-cell limit of the student's Validate button (seconds), shipped with each assignment's release
# as its nbgrader_config.py (graders/release.py). Each is about five times the slowest cell of the
# notebook's reference run on this project's 2-core machine under load (load average ~5, 2 Dec
# 2026: 05-training 22.8 s for its training cell, 04-bptt 10.5 s for the optional timing cell,
# 06-vanishing 5.4 s, the others under 2 s), rounded up to 30 s and never below 60 s, so that a
# slow laptop and a student's slower (correct) loops still fit, while an endless loop is stopped
# within a couple of minutes. An assignment not listed gets VALIDATE_TIMEOUT_DEFAULT.
VALIDATE_TIMEOUTS = {
    "01-forward": 60,
    "02-stacking": 60,
    "03-loss": 60,
    "04-bptt": 60,
    "05-training": 120,
    "06-vanishing": 60,
    "07-lstm": 60,
    "08-gru": 60,
    "09-words": 120,  # its training cell: 10 s here, and the first run reads the corpus (2-9 s)
    "10-classify": 60,
}
VALIDATE_TIMEOUT_DEFAULT = 120
VALIDATE_CONFIG = "nbgrader_config.py"  # the file name nbgrader's Validate button looks for
# Cap on the text a single cell may leave in the graded notebook and the feedback (bytes).
MAX_OUTPUT_BYTES = 100_000

HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"
SOLUTION_BEGIN = "### BEGIN SOLUTION"
SOLUTION_END = "### END SOLUTION"


def read_alembic_head_in_process() -> None:
    """Make nbgrader read its gradebook schema's alembic head in this process, once.

    Each time nbgrader creates a gradebook it runs the ``alembic heads`` command in a new process
    to read that constant (3 to 4 CPU-seconds on a 2-core machine); a grading run creates two.
    The same revision is read here from nbgrader's own migration scripts and remembered.
    """
    import functools

    import nbgrader.api
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    @functools.cache
    def head() -> str:
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", ALEMBIC_DIR)
        return ScriptDirectory.from_config(cfg).get_current_head()

    nbgrader.api.get_alembic_version = head


def course_root(root: str | os.PathLike | None = None) -> Path:
    """The course root: ``root`` if given, else $RNN_GRADE_ROOT, else <repo>/course."""
    return Path(root or os.environ.get("RNN_GRADE_ROOT") or DEFAULT_ROOT).resolve()


def db_url(root: Path, url: str | None = None) -> str:
    """The gradebook's SQLAlchemy URL: ``url``, else $RNN_GRADE_DB, else root/gradebook.db.

    A plain ``postgresql://`` URL is read with psycopg (version 3, the course's driver), not
    SQLAlchemy's default psycopg2."""
    url = url or os.environ.get("RNN_GRADE_DB") or f"sqlite:///{root / 'gradebook.db'}"
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_config(
    root: str | os.PathLike | None = None,
    source: str | os.PathLike | None = None,
    url: str | None = None,
    timeout: int = CELL_TIMEOUT,
) -> Config:
    """The nbgrader configuration of the course (also what graders/nbgrader_config.py loads).

    root: the course root; source: the folder of assignment folders (default notebooks/);
    url: the gradebook URL; timeout: seconds a cell may run in the student's kernel.
    """
    c = Config()
    apply_config(c, root=root, source=source, url=url, timeout=timeout)
    return c


def apply_config(
    c: Config,
    root: str | os.PathLike | None = None,
    source: str | os.PathLike | None = None,
    url: str | None = None,
    timeout: int = CELL_TIMEOUT,
) -> None:
    """Fill an nbgrader ``Config`` (``get_config()`` in nbgrader_config.py) for this course."""
    root_path = course_root(root)
    c.CourseDirectory.root = str(root_path)
    c.CourseDirectory.source_directory = str(Path(source or NOTEBOOKS).resolve())
    c.CourseDirectory.db_url = db_url(root_path, url)
    c.CourseDirectory.course_id = COURSE_ID
    c.Exchange.root = str(root_path / "exchange")
    # a notebook's source is its .md (tools/notebooks.py builds the .ipynb): students get the .ipynb
    c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.md"]
    c.Exchange.path_includes_course = True
    # a cell that runs too long is interrupted and grading goes on with the next one
    c.Execute.timeout = int(timeout)
    c.Execute.interrupt_on_timeout = True
    c.Execute.startup_timeout = 60
    # a deleted test cell is put back from the gradebook, so it still counts (with 0 if unanswered)
    c.OverwriteCells.add_missing_cells = True
    c.LimitOutput.max_lines = 1000
    c.LimitOutput.max_traceback = 100
    c.LimitOutputBytes.max_bytes = MAX_OUTPUT_BYTES
    c.Autograde.autograde_preprocessors = [
        "graders.preprocessors.RunUpToLastTest",  # what the student tagged is not ours to skip
        "nbgrader.preprocessors.Execute",
        "graders.preprocessors.LimitOutputBytes",  # before anything stores the outputs
        "nbgrader.preprocessors.IgnorePattern",
        "nbconvert.preprocessors.ClearMetadataPreprocessor",
        "nbgrader.preprocessors.LimitOutput",
        "nbgrader.preprocessors.SaveAutoGrades",
        "nbgrader.preprocessors.AssignLatePenalties",
        "nbgrader.preprocessors.CheckCellMetadata",
    ]
    # nbgrader's own feedback must not show hidden tests or tracebacks that quote them (issue 917)
    c.GenerateFeedback.preprocessors = [
        "nbgrader.preprocessors.GetGrades",
        "graders.preprocessors.HideHiddenTests",
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    ]


@dataclass(frozen=True)
class Exercise:
    """One graded exercise of a source notebook: its answer cell and the test cell after it."""

    name: str
    answer_index: int
    test_index: int
    points: float
    # the notebook's earlier exercises its visible test calls (the student's own functions, in the
    # kernel): when one of them is wrong, this exercise's visible test fails however right it is
    uses: tuple[str, ...] = ()


def regions(source: str, begin: str, end: str) -> tuple[list[str], list[str]]:
    """(the lines inside ``begin``/``end`` regions, the lines outside them); markers dropped."""
    inside, outside, on = [], [], False
    for line in source.splitlines():
        if begin in line:
            on = True
        elif end in line:
            on = False
        else:
            (inside if on else outside).append(line)
    return inside, outside


def strip_hidden(source: str) -> str:
    """``source`` without the lines from BEGIN HIDDEN TESTS to END HIDDEN TESTS (markers included)."""
    return "\n".join(regions(source, HIDDEN_BEGIN, HIDDEN_END)[1]).rstrip()


def _called_names(source: str) -> set[str]:
    """The plain names a cell's visible part calls, ``f(...)`` (not ``rnnlib.f(...)``, not text)."""
    try:
        tree = ast.parse(strip_hidden(source))
    except SyntaxError:
        return set()
    return {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }


def exercises_of(nb: nbformat.NotebookNode) -> list[Exercise]:
    """The exercises of a notebook: answer cells (solution, code) each followed by a graded test,
    each with the earlier exercises its visible test calls."""
    found: list[Exercise] = []
    for i, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("solution") or meta.get("grade"):
            continue
        name = meta.get("grade_id", "")
        for j in range(i + 1, len(nb.cells)):
            tmeta = nb.cells[j].get("metadata", {}).get("nbgrader", {})
            if tmeta.get("grade") and nb.cells[j].cell_type == "code":
                if tmeta.get("grade_id") == f"test_{name}":
                    called = _called_names(nb.cells[j].source)
                    uses = tuple(e.name for e in found if e.name in called)
                    found.append(Exercise(name, i, j, float(tmeta.get("points", 0)), uses))
                break
    return found


def last_test_index(nb: nbformat.NotebookNode) -> int:
    """The index of the notebook's last graded (test) code cell, or -1 if it has none.

    No cell after it can change a score, so grading does not run those cells (the notebooks'
    closing demonstrations: timings, training runs, figures).
    """
    for i in range(len(nb.cells) - 1, -1, -1):
        cell = nb.cells[i]
        if cell.cell_type == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            return i
    return -1


def assignments(source: str | os.PathLike | None = None) -> dict[str, list[str]]:
    """Assignment name -> its notebook names (without .ipynb), from the source folder."""
    src = Path(source or NOTEBOOKS)
    out: dict[str, list[str]] = {}
    for folder in sorted(
        p for p in src.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
    ):
        names = sorted(p.stem for p in folder.glob("*.ipynb"))
        if names:
            out[folder.name] = names
    return out


def solution_answers(source_nb: nbformat.NotebookNode) -> dict[str, str]:
    """grade_id -> the answer cell's solution code (the source cell without the markers)."""
    answers = {}
    for cell in source_nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution"):
            lines = [
                ln
                for ln in cell.source.splitlines()
                if SOLUTION_BEGIN not in ln and SOLUTION_END not in ln
            ]
            answers[meta["grade_id"]] = "\n".join(lines)
    return answers


def read_notebook(path: str | os.PathLike) -> nbformat.NotebookNode:
    """Read a notebook as nbformat v4."""
    return nbformat.read(str(path), as_version=4)


def validate_config(assignment: str) -> str:
    """The nbgrader_config.py shipped with ``assignment``'s release: the per-cell limit of the
    student's Validate button for that notebook (nbgrader reads it from the folder JupyterLab was
    started in, or from ~/.jupyter)."""
    timeout = VALIDATE_TIMEOUTS.get(assignment, VALIDATE_TIMEOUT_DEFAULT)
    return f'''"""nbgrader's settings for the Validate button of {assignment}.

nbgrader reads this file from the folder JupyterLab was started in (or from ~/.jupyter/):
start JupyterLab in this assignment's folder, or copy the file there.
"""

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file
c.Execute.timeout = {timeout}  # seconds per cell: the slowest cell of {assignment}, with room to spare
c.Execute.interrupt_on_timeout = True  # a cell that runs too long is stopped, not left hanging
'''
