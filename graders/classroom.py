"""The classes of students that the demo, the benchmark and the tests hand in: submissions made
from the student versions the way students make them (answer cells filled in, cells added), the
solutions read from the source notebooks, the typical mistakes of graders/lessons/ as students
(:data:`MUTANTS`) and the cheats (:data:`CHEATS`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from graders import course, lessons
from graders.lessons import answer_cell


def make_submission(
    release_nb: nbformat.NotebookNode, answers: dict[str, str], extra_cells: list[str] = ()
) -> nbformat.NotebookNode:
    """A copy of the student version with the given answer cells filled in (and cells added)."""
    nb = nbformat.from_dict(nbformat.from_dict(release_nb))
    nb = nbformat.reads(nbformat.writes(nb), as_version=4)
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution") and meta.get("grade_id") in answers:
            cell.source = answers[meta["grade_id"]]
    for i, text in enumerate(extra_cells):
        nb.cells.insert(1 + i, nbformat.v4.new_code_cell(text))
    return nb


@dataclass(frozen=True)
class Mutant:
    """A student who makes one typical mistake: the lesson's function for it is their answer."""

    student: str
    assignment: str
    exercise: str
    mistake: str  # what the student did, for the list of submissions
    fn: Callable[..., Any]  # the typical mistake, from graders/lessons/ (the student's signature)

    def answer(self) -> str:
        """The answer cell of ``exercise``: the mistake's source, named for the exercise."""
        return answer_cell(self.fn, self.exercise)


# Each makes the mistake the feedback should name. The mistakes are graders/lessons/' own (the ones
# the grader recognises), so the demo and the grader cannot drift apart.
MUTANTS = (
    Mutant(
        "carol_softmax_axis",
        "03-loss",
        "softmax",
        "softmax over the wrong axis",
        lessons.loss.softmax_over_axis_1,
    ),
    Mutant(
        "dave_mean_over_time",
        "03-loss",
        "cross_entropy",
        "loss averaged over time instead of summed",
        lessons.loss.loss_mean_over_time,
    ),
    Mutant(
        "erin_state_not_carried",
        "01-forward",
        "rnn_forward",
        "the hidden state not carried from step to step",
        lessons.forward.state_not_carried,
    ),
    Mutant(
        "frank_inputs_reversed",
        "02-stacking",
        "stack_inputs",
        "x<t> stacked above a<t-1>",
        lessons.stacking.inputs_reversed,
    ),
    Mutant(
        "grace_not_summed",
        "04-bptt",
        "rnn_backward",
        "shared-weight gradients not summed over time",
        lessons.bptt.backward_kept_first_step,
    ),
    Mutant(
        "heidi_norm_order",
        "06-vanishing",
        "backprop_norms",
        "norms in reverse order",
        lessons.vanishing.norms_reversed,
    ),
    Mutant(
        "kim_cell_not_carried",
        "07-lstm",
        "lstm_forward",
        "the cell state reset to 0 at every step",
        lessons.lstm.forward_c_reset,
    ),
    Mutant(
        "lena_reset_after_product",
        "08-gru",
        "gru_cell_forward",
        "the reset gate applied after the product (PyTorch's GRU, not the lesson's)",
        lessons.gru.cell_reset_after_product,
    ),
    Mutant(
        "nora_finite_differences",
        "08-gru",
        "gru_cell_backward",
        "the gradients by centred differences of gru_cell_forward, not by the chain rule",
        lessons.gru.backward_by_differences,
    ),
    Mutant(
        "mia_last_step_only",
        "10-classify",
        "many_to_one_backward",
        "the gradient not carried back before the last step",
        lessons.classify.backward_last_step_only,
    ),
)

# Cheating attempts: (student, assignment, answers to replace, extra cells at the top)
CHEATS = {
    "ivan_patches_numpy": (
        "03-loss",
        {
            "softmax": (
                "import numpy as np\n"
                "np.allclose = lambda *args, **kwargs: True\n"
                "np.testing.assert_allclose = lambda *args, **kwargs: None\n\n"
                "def softmax(z):\n"
                "    e = np.exp(z - z.max(axis=0, keepdims=True))\n"
                "    return e / e.sum(axis=1, keepdims=True)\n"
            )
        },
        [],
    ),
    "judy_imports_rnnlib": (
        "03-loss",
        {
            "softmax": "from rnnlib import softmax",
            "cross_entropy": "from rnnlib.loss import cross_entropy",
        },
        [],
    ),
}


def build_class(release_dir: Path, source_dir: Path, submitted: Path) -> dict[str, str]:
    """Write the demo submissions; returns student -> what they did."""
    about = {}
    assignments = course.assignments(source_dir)

    def write(student: str, assignment: str, answers_for) -> None:
        for name in assignments[assignment]:
            release_nb = course.read_notebook(release_dir / assignment / f"{name}.ipynb")
            source_nb = course.read_notebook(source_dir / assignment / f"{name}.ipynb")
            answers, extra = answers_for(course.solution_answers(source_nb))
            path = submitted / student / assignment / f"{name}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(make_submission(release_nb, answers, extra), path)

    for assignment in assignments:
        write("alice_solution", assignment, lambda sol: (sol, []))
        write("bob_blank", assignment, lambda sol: ({}, []))
    about["alice_solution"] = "the solutions of every notebook"
    about["bob_blank"] = "the blank student versions"
    for m in MUTANTS:
        if m.assignment not in assignments:
            continue
        write(
            m.student,
            m.assignment,
            lambda sol, m=m: ({**sol, m.exercise: m.answer()}, []),
        )
        about[m.student] = f"{m.exercise}: {m.mistake}"
    for student, (assignment, answers, extra) in CHEATS.items():
        if assignment in assignments:
            write(student, assignment, lambda sol, a=answers, e=extra: ({**sol, **a}, e))
            about[student] = "cheats: " + student.split("_", 1)[1].replace("_", " ")
    return about


def benchmark_class(folder: Path, students: int, assignments: list[str]) -> tuple[Path, Path]:
    """Release ``assignments`` into FOLDER/course and write ``students`` students' submissions of
    each into FOLDER/submitted: a third the solutions, a third blank, a third one typical mistake
    (the bench's class). Returns (course root, submissions folder)."""
    from graders import release

    root, submitted = folder / "course", folder / "submitted"
    problems = release.release(assignments, root=str(root))
    if problems:
        raise RuntimeError("release failed:\n" + "\n".join(problems))
    for assignment in assignments:
        for name in course.assignments(course.NOTEBOOKS)[assignment]:
            release_nb = course.read_notebook(root / "release" / assignment / f"{name}.ipynb")
            solution = course.solution_answers(
                course.read_notebook(course.NOTEBOOKS / assignment / f"{name}.ipynb")
            )
            mutants = [m for m in MUTANTS if m.assignment == assignment]
            for i in range(students):
                kind = i % 3
                if kind == 0:
                    answers = solution
                elif kind == 1 or not mutants:
                    answers = {}
                else:
                    m = mutants[i % len(mutants)]
                    answers = {**solution, m.exercise: m.answer()}
                # a class's answers differ: no cache of the grader sees the same cell twice
                # (trailing spaces: the text differs, its lines do not, so a pasted course
                # solution is still told from a reference copy; static.reference_copies)
                answers = {ex: code + " " * (i + 1) for ex, code in answers.items()}
                path = submitted / f"student{i:03d}" / assignment / f"{name}.ipynb"
                path.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(make_submission(release_nb, answers), path)
    return root, submitted
