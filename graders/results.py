"""What grading a notebook-submission gives: its exercises' scores and reasons, and its row of
grades.csv; plain data that crosses from grading workers (or Dask workers) to the collector."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class ExerciseResult:
    """One exercise of one submission."""

    name: str
    points: float
    in_kernel: float | None  # nbgrader's auto score of test_<name> (None: not graded)
    outside_passed: bool
    outside_message: str
    flags: list[str] = field(default_factory=list)
    score: float = 0.0
    reason: str = ""
    # the student's earlier functions its visible test calls that the outside check found wrong:
    # why the visible test failed though this exercise passed (it keeps its points)
    wrong_uses: list[str] = field(default_factory=list)


@dataclass
class NotebookResult:
    """One row of grades.csv, with what the gradebook and the feedback need."""

    student: str
    assignment: str
    notebook: str
    score: float
    max_score: float
    status: str
    exercises: list[ExerciseResult] = field(default_factory=list)
    graded: bool = False  # nbgrader put it in the staging gradebook
    problems: list[str] = field(default_factory=list)  # needs-review reasons
    failures: list[str] = field(default_factory=list)  # failed reasons
    feedback: str = ""


def result_dict(res: NotebookResult) -> dict:
    """A result as plain data (for tests and JSON)."""
    return asdict(res)
