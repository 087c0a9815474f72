"""What the grader tells a student and an instructor reads right: the feedback's status says what
it means, a reason is said once, and the printed table never cuts a reason off.

Pure functions of graders/autograde.py on hand-made results: no notebook is graded here.
"""

from __future__ import annotations

import re

import pytest

from graders.autograde import score_table
from graders.feedback import exercise_markdown, summary_markdown
from graders.results import ExerciseResult, NotebookResult

MESSAGE = "hidden test with token ids: softmax is taken over the wrong axis: normalise over axis 0"


def _exercise(passed: bool, in_kernel: float, score: float, reason: str = "") -> ExerciseResult:
    message = "softmax: passed 4 hidden tests" if passed else f"softmax, {MESSAGE}"
    return ExerciseResult("softmax", 2, in_kernel, passed, message, score=score, reason=reason)


def _result(status: str, exercises: list[ExerciseResult], problems=()) -> NotebookResult:
    res = NotebookResult("ann", "03-loss", "loss", 0, 5, status, exercises)
    res.score = sum(e.score for e in exercises)
    res.problems = list(problems)
    return res


OVERRULED = _exercise(False, 2, 0, f"outside check: softmax, {MESSAGE}")
FLAG = "cell softmax, line 2: patches np.testing"
FLAGGED = ExerciseResult(
    "softmax", 2, 0, True, "softmax: passed", [FLAG], 0, f"static check: {FLAG}"
)
FLAGGED_PASSING = ExerciseResult(
    "softmax", 2, 2, True, "softmax: passed", [FLAG], 0, f"static check: {FLAG}"
)
FLAGGED_NOT_RUN = ExerciseResult(
    "softmax", 2, None, True, "softmax: passed", [FLAG], 0, f"static check: {FLAG}"
)
STATUSES = [
    ("all-passed", _result("ok", [_exercise(True, 2, 2)]), "graded, the score is final"),
    ("honest-zero", _result("ok", [_exercise(False, 0, 0, "outside check: x")]), "graded, the"),
    (
        "overruled",
        _result("failed: softmax: in-kernel tests passed but outside check: ...", [OVERRULED]),
        "graded, the score is final; the in-kernel tests of softmax passed but a check outside",
    ),
    (
        "static-check-only",
        _result(f"failed: static check: {FLAG}", [FLAGGED]),
        "graded, the score is final; a static check of your code failed for softmax, so it "
        "scores 0 (see below)",
    ),
    (
        "static-check-after-in-kernel-pass",
        _result(
            f"failed: softmax: in-kernel tests passed but static check: {FLAG}", [FLAGGED_PASSING]
        ),
        "graded, the score is final; the in-kernel tests of softmax passed but a check outside "
        "your notebook did not, so it scores 0",
    ),
    (
        "needs-review",
        _result(
            "needs review: the test cell test_softmax was edited",
            [_exercise(True, 2, 2)],
            ["the test cell test_softmax was edited"],
        ),
        "needs review: a person will look at this notebook before the score is final "
        "(the test cell test_softmax was edited)",
    ),
]


@pytest.mark.parametrize("res, meaning", [s[1:] for s in STATUSES], ids=[s[0] for s in STATUSES])
def test_the_feedback_status_says_what_it_means(res, meaning):
    summary = summary_markdown(res)
    status = next(line for line in summary.splitlines() if line.startswith("**Status:**"))
    status = status.replace("\\", "")  # markdown's escapes of the text
    assert meaning in status, f"the status line should say {meaning!r}:\n{status}"
    assert not re.search(r"\*\*Status:\*\* (ok|failed)\b", summary), (
        f"a bare CSV status word in the feedback:\n{status}"
    )


NO_IN_KERNEL_PASS = [
    ("static-check-0-in-kernel", _result(f"failed: static check: {FLAG}", [FLAGGED])),
    ("static-check-not-run", _result(f"failed: static check: {FLAG}", [FLAGGED_NOT_RUN])),
    (
        "static-check-one-of-two",
        _result(
            f"failed: static check: {FLAG}",
            [FLAGGED, ExerciseResult("cross_entropy", 3, 3, True, "passed", score=3)],
        ),
    ),
]


@pytest.mark.parametrize(
    "res", [r[1] for r in NO_IN_KERNEL_PASS], ids=[r[0] for r in NO_IN_KERNEL_PASS]
)
def test_the_status_does_not_say_in_kernel_tests_passed_for_an_exercise_whose_tests_did_not(res):
    summary = summary_markdown(res).replace("\\", "")
    status = next(line for line in summary.splitlines() if line.startswith("**Status:**"))
    assert "passed but" not in status, (
        f"no exercise's in-kernel tests passed and then failed outside, yet the status says so:\n"
        f"{status}"
    )


REASONS = [
    ("outside-check", f"outside check: softmax, {MESSAGE}", MESSAGE),
    ("outside-check-colon", f"outside check: softmax: {MESSAGE}", MESSAGE),
    ("static-check", "static check: patches np.testing", "static check: patches np.testing"),
]


@pytest.mark.parametrize("reason, said", [r[1:] for r in REASONS], ids=[r[0] for r in REASONS])
def test_a_reason_is_said_once_without_repeating_the_heading(reason, said):
    e = _exercise(False, 2, 0, reason)
    e.flags = ["patches np.testing"] if reason.startswith("static") else []
    for where, text in (
        ("the cell after the test", exercise_markdown(e)),
        ("the summary table", summary_markdown(_result("failed: x", [e])).splitlines()[-1]),
    ):
        plain = text.replace("\\", "")
        assert plain.count(said) == 1, f"{where} should say {said!r} once:\n{plain}"
        verdict = plain.split("failed", 1)[1]
        assert "outside check:" not in verdict, f"{where} stutters 'outside check':\n{plain}"
        assert "softmax," not in verdict and "softmax:" not in verdict, (
            f"{where} repeats the exercise's name:\n{plain}"
        )


LONG = (
    "needs review: the test cell test_softmax was edited; the notebook ran over its time limit "
    "of 300 s; cross_entropy: the outside check passed but the in-kernel tests did not"
)


@pytest.mark.parametrize("width", [30, 60, 100])
def test_the_score_table_wraps_a_long_status_at_words_and_keeps_all_of_it(width):
    rows = [
        NotebookResult("bob_blank", "03-loss", "loss", 0, 5, "ok"),
        NotebookResult("carol_softmax_axis", "03-loss", "loss", 3, 5, LONG),
    ]
    table = score_table(rows, width=width)
    assert "…" not in table, f"the table cuts a status off:\n{table}"
    status_column = table.splitlines()[0].index("status")
    shown = " ".join(line[status_column:].strip() for line in table.splitlines()[3:])
    assert shown == LONG, f"the status as the table shows it:\n{shown!r}\nexpected:\n{LONG!r}"
    for line in table.splitlines()[3:]:
        assert len(line) - status_column <= width, f"a status line wider than {width}:\n{line}"
