"""The outside check is authoritative and computed outside the student's process.

- the in-place-mutation verdict is made in the grading process, from the arguments the child
  hands back (a child that claims "nothing changed" is not believed);
- a student's exception text reaches feedback short and without long numbers;
- the hidden cases are keyed by the course's secret and the submission's code, not by the
  student's name: the same code is graded on the same cases, an edited one on fresh cases, so
  inputs collected in one grading cannot be hard-coded into the next;
- no metadata a student writes (``locked``, ``grade``) exempts a cell from the static check.

Unit tests use graders.calls / graders.checks directly; the end-to-end ones grade a small class
of 03-loss submissions with autograde.autograde (two runs, see ``graded``).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest

from graders import autograde, calls, checks, classroom, course, release, stubs

ASSIGNMENT, NOTEBOOK = "03-loss", "loss"
LONG_NUMBER = re.compile(r"\d{4,}")  # four digits in a row: enough to be a hidden input

# ------------------------------------------------------------------------------------------
# Unit: the mutation verdict is the parent's
# ------------------------------------------------------------------------------------------


def _honest_softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def _mutating_softmax(z: np.ndarray) -> np.ndarray:
    z -= z.max(axis=0, keepdims=True)  # in place: the caller's array changes
    e = np.exp(z)
    return e / e.sum(axis=0, keepdims=True)


def _cases(name: str = "softmax") -> list:
    return checks.make_cases(name, np.random.default_rng(3))


def _child_outputs(fn, cases: list, lie: str | None = None) -> list:
    """What a child sends back for ``fn``; ``lie`` forges it as a hostile child would."""
    outputs = [calls.call_for_parent("softmax", fn, case) for case in cases]
    for out, case in zip(outputs, cases, strict=True):
        if lie == "claims_unchanged":  # says nothing changed and sends the inputs as they were
            out["__mutated__"] = None
            out[calls.AFTER] = {"args": list(case["args"]), "kwargs": {}}
            out[calls.AFTER]["args"][0] = out[calls.AFTER]["args"][0] + 1.0  # still differs
        elif lie == "no_arguments":  # drops the arguments so there is nothing to compare
            out.pop(calls.AFTER, None)
        elif lie == "flag_only":  # the arguments changed; only the child's flag says not
            out["__mutated__"] = None
    return outputs


def test_the_child_sends_arguments_not_a_verdict():
    out = calls.call_for_parent("softmax", _mutating_softmax, _cases()[0])
    assert "__mutated__" not in out, f"the child judged mutation itself: {sorted(out)}"
    after = out[calls.AFTER]["args"][0]
    assert isinstance(after, np.ndarray), f"the argument came back as {type(after).__name__}"


@pytest.mark.parametrize("lie", [None, "flag_only", "claims_unchanged", "no_arguments"])
def test_a_mutating_function_fails_whatever_the_child_claims(lie):
    cases = _cases()
    judged = checks.judge_mutation("softmax", cases, _child_outputs(_mutating_softmax, cases, lie))
    verdict = checks.check("softmax", cases, judged)
    assert not verdict.passed, f"a child that lied ({lie}) about mutation passed: {verdict}"


def test_a_child_claiming_mutation_of_an_honest_function_is_not_believed_either():
    cases = _cases()
    outputs = _child_outputs(_honest_softmax, cases)
    for out in outputs:
        out["__mutated__"] = "z"  # the child's claim counts for nothing either way
    verdict = checks.check("softmax", cases, checks.judge_mutation("softmax", cases, outputs))
    assert verdict.passed, f"an honest function failed on the child's word: {verdict.message}"


def test_the_verdict_names_the_argument_the_parent_saw_change():
    cases = _cases()
    outputs = _child_outputs(_mutating_softmax, cases, "flag_only")
    verdict = checks.check("softmax", cases, checks.judge_mutation("softmax", cases, outputs))
    assert verdict.mistake == "mutated_input" and "argument z" in verdict.message, verdict


# ------------------------------------------------------------------------------------------
# Unit: short error text
# ------------------------------------------------------------------------------------------

SECRET_VALUES = " ".join(f"{v:.17g}" for v in np.random.default_rng(5).normal(size=12))


@pytest.mark.parametrize(
    "exc",
    [
        ValueError(SECRET_VALUES),
        ValueError("x" * 500),
        type("Leak_" + "abcdefgh" * 20, (Exception,), {})("short"),
        KeyError(123456789),
    ],
    ids=["numbers", "long-text", "long-class-name", "key"],
)
def test_a_students_exception_reaches_feedback_short_and_without_long_numbers(exc):
    def raising(z):
        raise exc

    message = calls.call("softmax", raising, _cases()[0])["__error__"]
    student_part = message.split(" raised ", 1)[1]
    assert len(student_part) <= calls.MAX_TYPE_NAME + 2 + calls.MAX_STUDENT_TEXT, (
        f"{len(student_part)} characters of the student's exception kept: {student_part!r}"
    )
    assert not LONG_NUMBER.search(message), f"a long number reached the feedback: {message!r}"


@pytest.mark.parametrize("forged", ["9" * 40 + " z", "a" * 5000])
def test_the_parent_bounds_error_text_a_child_forged(forged):
    cases = _cases()
    verdict = checks.check("softmax", cases, [{"__error__": forged} for _ in cases])
    assert len(verdict.message) < 600 and not LONG_NUMBER.search(verdict.message), (
        f"the child's forged error reached the verdict whole: {verdict.message[:200]!r}"
    )


@pytest.mark.parametrize(
    ("text", "kept"),
    [("shapes (3, 4) and (5, 6)", "shapes (3, 4) and (5, 6)"), ("1.5 and 0.123", "1.5 and …")],
)
def test_short_numbers_stay_readable(text, kept):
    assert calls.elide_numbers(text) == kept


# ------------------------------------------------------------------------------------------
# Unit: the stubs of 04-bptt cover the helpers that compute bptt's answer
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "helper", ["input_weight_gradient", "output_layer", "softmax_output_layer"]
)
def test_bptt_helpers_are_stubbed_while_bptt_is_graded(helper):
    assert helper in stubs.stubbed(["bptt"]), f"rnnlib.{helper} stays callable while bptt is graded"


# ------------------------------------------------------------------------------------------
# End to end: a small class graded twice
# ------------------------------------------------------------------------------------------

FINGERPRINT = """
import hashlib
import numpy as np

def _fingerprint(z):
    digest = hashlib.sha256(np.ascontiguousarray(z, dtype=np.float64).tobytes()).digest()
    return "".join(chr(97 + b % 26) for b in digest[:10])
"""
# run 1: print the hidden input out through the exception (its fingerprint, then every value)
LEAK = (
    FINGERPRINT
    + """
def softmax(z):
    values = " ".join(f"{v:.17g}" for v in np.ravel(z))
    raise ValueError("fp=" + _fingerprint(z) + " " + values)
"""
)
# run 2: the same student hard-codes what run 1 printed ("hit" would mean the same input came back)
HARD_CODED = (
    FINGERPRINT
    + """
KNOWN = "@KNOWN@"

def softmax(z):
    if _fingerprint(z) == KNOWN:
        raise ValueError("hit")
    raise ValueError("fp=" + _fingerprint(z))
"""
)
# mutates its input in place and hides it: the grader's own copy of the input is changed to
# match, through the caller's frame (the in-process comparison then sees no difference)
LYING_MUTATION = """
import inspect
import numpy as np

def softmax(z):
    caller = inspect.currentframe().f_back.f_locals
    z -= z.max(axis=0, keepdims=True)
    if "case" in caller:
        original = caller["case"]["args"][0]
        original -= original.max(axis=0, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=0, keepdims=True)
"""
# rnnlib.cross_entropy with its names changed and its docstring dropped
RENAMED_COPY = """
import numpy as np

def cross_entropy(probs, labels):
    count = probs.shape[1]
    eps = np.finfo(probs.dtype).tiny
    if labels.ndim < probs.ndim:  # my own comment
        picked = np.take_along_axis(probs, labels[None], axis=0)
        return float(-np.log(np.maximum(picked, eps)).sum() / count)
    lp = np.log(np.maximum(probs, eps))
    lq = np.log(np.maximum(1 - probs, eps))
    return float(-(labels * lp + (1 - labels) * lq).sum() / count)
"""
# a correct answer whose cell takes SLOW_CELL seconds to run (a table built at definition time):
# longer than the outside check's old 5 s per cell, shorter than the kernel's 10 s (see _grade)
SLOW_CELL = 6
SLOW_DEFINITION = f"import time\n\ntime.sleep({SLOW_CELL})  # builds a table, say\n\n"
PATCH = "import numpy as np\nnp.allclose = lambda *args, **kwargs: True"
EXEMPTING = {  # metadata a student may put on a cell of theirs, hoping it is skipped
    "locked_answer_cell": {"locked": True},  # on the softmax answer cell, beside the answer
    "locked_bare_cell": {"locked": True},  # on a new cell of their own (no grade_id)
}


def _release(root: Path) -> tuple[nbformat.NotebookNode, dict[str, str]]:
    problems = release.release([ASSIGNMENT], root=str(root))
    assert not problems, f"release failed: {problems}"
    release_nb = course.read_notebook(root / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    source_nb = course.read_notebook(course.NOTEBOOKS / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    return release_nb, course.solution_answers(source_nb)


def _write(submitted: Path, student: str, nb: nbformat.NotebookNode) -> None:
    path = submitted / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def _exempting(release_nb, solution: dict[str, str], student: str) -> nbformat.NotebookNode:
    """A correct submission with PATCH in a cell whose metadata says locked."""
    if student == "locked_answer_cell":
        nb = classroom.make_submission(
            release_nb, {**solution, "softmax": solution["softmax"] + "\n\n" + PATCH}
        )
        for cell in nb.cells:
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "softmax":
                cell.metadata.nbgrader.update(EXEMPTING[student])
        return nb
    nb = classroom.make_submission(release_nb, solution)
    cell = nbformat.v4.new_code_cell(PATCH)
    cell.metadata["nbgrader"] = dict(EXEMPTING[student])
    nb.cells.insert(1, cell)
    return nb


def _grade(base: Path, root: Path, class_: dict[str, nbformat.NotebookNode]) -> dict:
    """Grade ``class_`` (student -> notebook) once; returns student -> result as plain data."""
    submitted, out = base / "submitted", base / "out"
    shutil.rmtree(submitted, ignore_errors=True)
    for student, nb in class_.items():
        _write(submitted, student, nb)
    autograde.autograde(submitted, out=out, jobs=2, root=root, timeout=10, progress=False)
    rows = json.loads((out / "results.json").read_text())
    for row in rows:
        path = out / "feedback" / row["student"] / ASSIGNMENT / f"{NOTEBOOK}.html"
        row["feedback_text"] = path.read_text(encoding="utf-8") if path.is_file() else ""
    return {row["student"]: row for row in rows}


def _fingerprints(row: dict) -> list[str]:
    softmax = next(e for e in row["exercises"] if e["name"] == "softmax")
    return re.findall(r"fp=([a-z]{10})", softmax["outside_message"])


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Run 1: the leak (by two students handing in the same code), the mutation liar, the
    exempting metadata and an honest control; run 2: the leaker hard-codes what run 1 showed."""
    base = tmp_path_factory.mktemp("outside")
    root = base / "course"
    release_nb, solution = _release(root)
    first = {
        "honest": classroom.make_submission(release_nb, solution),
        "leaker": classroom.make_submission(release_nb, {**solution, "softmax": LEAK}),
        "twin": classroom.make_submission(release_nb, {**solution, "softmax": LEAK}),
        "lying_mutation": classroom.make_submission(
            release_nb, {**solution, "softmax": LYING_MUTATION}
        ),
        "renamed_copy": classroom.make_submission(
            release_nb, {**solution, "cross_entropy": RENAMED_COPY}
        ),
        "slow_definition": classroom.make_submission(
            release_nb, {**solution, "softmax": SLOW_DEFINITION + solution["softmax"]}
        ),
    }
    for student in EXEMPTING:
        first[student] = _exempting(release_nb, solution, student)
    run1 = _grade(base / "run1", root, first)
    known = _fingerprints(run1["leaker"])
    assert known, f"run 1 printed no fingerprint: {run1['leaker']['exercises']}"
    hard_coded = HARD_CODED.replace("@KNOWN@", known[0])
    second = {"leaker": classroom.make_submission(release_nb, {**solution, "softmax": hard_coded})}
    run2 = _grade(base / "run2", root, second)
    yield {"run1": run1, "run2": run2}
    shutil.rmtree(base, ignore_errors=True)


def _softmax(row: dict) -> dict:
    return next(e for e in row["exercises"] if e["name"] == "softmax")


def test_the_honest_control_gets_full_marks(graded):
    row = graded["run1"]["honest"]
    assert (row["score"], row["status"]) == (row["max_score"], "ok"), (
        f"the honest submission was not graded ok: {row['status']}"
    )


def test_a_cell_the_kernel_ran_in_time_is_given_that_time_outside(graded):
    row = graded["run1"]["slow_definition"]
    softmax = _softmax(row)
    assert softmax["outside_passed"] and softmax["score"] == softmax["points"], (
        f"a correct softmax whose cell takes {SLOW_CELL} s (the kernel allows 10 s a cell) failed "
        f"the outside check: {softmax['outside_message']}"
    )


def test_a_child_that_hides_its_mutation_does_not_pass(graded):
    row = graded["run1"]["lying_mutation"]
    softmax = _softmax(row)
    assert softmax["score"] == 0.0 and not softmax["outside_passed"], (
        "softmax mutated its input and hid it from the child's own comparison, yet the "
        f"outside check passed={softmax['outside_passed']} (score {softmax['score']}): "
        f"{softmax['outside_message']}"
    )
    assert "in place" in softmax["outside_message"], softmax["outside_message"]


def test_hidden_inputs_do_not_come_out_through_error_messages(graded):
    row = graded["run1"]["leaker"]
    message = _softmax(row)["outside_message"]
    assert "fp=" in message, f"the verdict does not show the start of the exception: {message}"
    assert not LONG_NUMBER.search(message), f"the verdict carries the hidden input: {message}"
    assert not LONG_NUMBER.search(row["status"]), f"the CSV carries it: {row['status']}"
    # in the page, wherever the hidden case's fingerprint is shown (the visible tests' own
    # outputs print their visible inputs, with other fingerprints)
    hidden = f"fp={_fingerprints(row)[0]}"
    after = [row["feedback_text"][i : i + 200] for i in _starts(row["feedback_text"], hidden)]
    leaked = [text for text in after if LONG_NUMBER.search(re.sub(r"<[^>]*>", " ", text))]
    assert after and not leaked, f"the feedback page carries the hidden input: {leaked[:2]}"


def _starts(text: str, needle: str) -> list[int]:
    return [m.start() for m in re.finditer(re.escape(needle), text)]


def test_the_same_code_is_graded_on_the_same_cases(graded):
    one, two = (_fingerprints(graded["run1"][s]) for s in ("leaker", "twin"))
    assert one and one == two, (
        f"two identical submissions were graded on different cases: {one} vs {two}"
    )


def test_an_edited_submission_gets_fresh_cases(graded):
    run1, run2 = _softmax(graded["run1"]["leaker"]), _softmax(graded["run2"]["leaker"])
    assert run2["score"] == 0.0, f"the hard-coded answer scored {run2['score']}"
    assert "hit" not in run2["outside_message"], (
        "the input collected in run 1 came back in run 2: the edited submission was graded on "
        f"the same cases ({run2['outside_message']})"
    )
    assert _fingerprints(graded["run2"]["leaker"]) != _fingerprints(graded["run1"]["leaker"]), (
        f"run 1 and run 2 drew the same case: {run1['outside_message']}"
    )


@pytest.mark.parametrize("student", sorted(EXEMPTING))
def test_metadata_a_student_wrote_exempts_no_cell(graded, student):
    row = graded["run1"][student]
    flagged = [f for f in row["failures"] if "patches np.allclose" in f]
    assert flagged, (
        f"{student}: a cell that patches numpy, marked {EXEMPTING[student]}, went unflagged: "
        f"score {row['score']}, status {row['status']!r}, failures {row['failures']}"
    )
    assert _softmax(row)["score"] == 0.0, f"{student}: softmax kept {_softmax(row)['score']}"


def test_pasted_reference_code_needs_review(graded):
    row = graded["run1"]["renamed_copy"]
    wanted = "needs review: matches the reference solution (answer cell cross_entropy)"
    assert row["status"].startswith(wanted), f"a renamed copy of rnnlib's code: {row['status']!r}"
    assert "matches the reference solution (answer cell cross_entropy)" in row["feedback_text"], (
        "the feedback page does not say the answer matches the reference solution"
    )
