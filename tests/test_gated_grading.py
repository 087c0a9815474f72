"""Grading the gated cells (07-lstm, 08-gru) against hostile and unusual submissions.

Each student below was first a finding of a hostile probe of the grader; the tests say what the
grade must be:

- the fast paths of rnnlib/engine_gated.py run the cells' steps in their own code: an answer that
  calls them earns nothing (graders/stubs.py stubs them while a gated cell is graded);
- a forward whose outputs are right and whose cache is wrong earns nothing (the cache is part of
  the exercise: the backward pass reads it);
- a right answer in a subclass of its type (an OrderedDict) earns its marks;
- a right answer that uses helpers from a cell of the student's own earns its marks when they are
  definitions, and is sent for review (never failed) when the outside check could not run them.

One autograde run grades the class (``graded``).
"""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest

from graders import autograde, classroom, course, release

NOTEBOOKS = {"07-lstm": "lstm", "08-gru": "gru"}

LSTM_ENGINE_BACKWARD = """
import numpy as np
from rnnlib.engine_gated import _step_backward

def lstm_cell_backward(da_next, dc_next, cache):
    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters = cache
    n_a = a_next.shape[0]
    gates = np.concatenate([ft, it, cct, ot])
    dz, dc_prev = _step_backward(da_next, dc_next, gates, c_next, c_prev, n_a)
    W = np.concatenate([parameters["W" + g] for g in "fico"])
    dconcat = W.T @ dz
    dW = dz @ np.concatenate([a_prev, xt]).T
    db = dz.sum(axis=1, keepdims=True)
    out = {"dxt": dconcat[n_a:], "da_prev": dconcat[:n_a], "dc_prev": dc_prev}
    for k, g in enumerate("fico"):
        out["dW" + g], out["db" + g] = dW[k * n_a : (k + 1) * n_a], db[k * n_a : (k + 1) * n_a]
    return out
"""
GRU_ENGINE_BACKWARD = """
import numpy as np
from rnnlib.engine_gated import _gru_da_prev, _gru_dz

def gru_cell_backward(da_next, cache):
    a_next, a_prev, rt, ut, cct, xt, parameters = cache
    n_a = a_prev.shape[0]
    gates = np.concatenate([rt, ut, cct])
    Wc, Wru = parameters["Wc"], np.concatenate([parameters["Wr"], parameters["Wu"]])
    dz, dra = _gru_dz(da_next, gates, a_prev, Wc[:, :n_a], n_a)
    da_prev = _gru_da_prev(da_next, dz, dra, gates, Wru[:, :n_a], n_a)
    out = {"dxt": Wru[:, n_a:].T @ dz[: 2 * n_a] + Wc[:, n_a:].T @ dz[2 * n_a :]}
    out["da_prev"] = da_prev
    concat = np.concatenate([a_prev, xt])
    for k, g in enumerate("ru"):
        out["dW" + g] = dz[k * n_a : (k + 1) * n_a] @ concat.T
        out["db" + g] = dz[k * n_a : (k + 1) * n_a].sum(axis=1, keepdims=True)
    out["dWc"] = dz[2 * n_a :] @ np.concatenate([rt * a_prev, xt]).T
    out["dbc"] = dz[2 * n_a :].sum(axis=1, keepdims=True)
    return out
"""
# the answer's own result in an OrderedDict
ORDERED = """

import collections

_plain = {name}


def {name}(*args):
    return collections.OrderedDict(_plain(*args))
"""
# a forward built on helpers a cell of the student's own defines
HELPERS = """import numpy as np

sigma = lambda z: 1 / (1 + np.exp(-z))
GATES = tuple("fico")
ACTIVATIONS = (sigma, sigma, np.tanh, sigma)
"""
HELPERS_BUILT = """import numpy as np


def gate_table():
    sigma = lambda z: 1 / (1 + np.exp(-z))
    return tuple("fico"), (sigma, sigma, np.tanh, sigma)


GATES, ACTIVATIONS = gate_table()
"""
HELPER_FORWARD = """
import numpy as np

def lstm_cell_forward(xt, a_prev, c_prev, parameters):
    concat = np.concatenate([a_prev, xt], axis=0)
    ft, it, cct, ot = (
        g(parameters["W" + k] @ concat + parameters["b" + k]) for k, g in zip(GATES, ACTIVATIONS)
    )
    c_next = ft * c_prev + it * cct
    a_next = ot * np.tanh(c_next)
    z = parameters["Wy"] @ a_next + parameters["by"]
    e = np.exp(z - z.max(axis=0, keepdims=True))
    cache = (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)
    return a_next, c_next, e / e.sum(axis=0, keepdims=True), cache
"""


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, f"the course's solution no longer holds {old!r}"
    return text.replace(old, new)


def _class(solutions: dict[str, dict[str, str]]) -> dict[str, tuple[str, dict, list[str]]]:
    """student -> (assignment, answers, cells of their own at the top)."""
    lstm, gru = solutions["07-lstm"], solutions["08-gru"]
    return {
        "lstm_honest": ("07-lstm", lstm, []),
        "gru_honest": ("08-gru", gru, []),
        "lstm_engine": ("07-lstm", {**lstm, "lstm_cell_backward": LSTM_ENGINE_BACKWARD}, []),
        "gru_engine": ("08-gru", {**gru, "gru_cell_backward": GRU_ENGINE_BACKWARD}, []),
        "lstm_wrong_cache": (
            "07-lstm",
            {
                **lstm,
                "lstm_cell_forward": _replace(
                    lstm["lstm_cell_forward"], "a_prev, c_prev, ft,", "a_prev, c_next, ft,"
                ),
            },
            [],
        ),
        "gru_wrong_cache": (
            "08-gru",
            {
                **gru,
                "gru_cell_forward": _replace(
                    gru["gru_cell_forward"], "(a_next, a_prev, rt,", "(a_next, a_next, rt,"
                ),
            },
            [],
        ),
        "lstm_ordered": (
            "07-lstm",
            {
                **lstm,
                "lstm_cell_backward": lstm["lstm_cell_backward"]
                + ORDERED.format(name="lstm_cell_backward"),
            },
            [],
        ),
        "gru_ordered": (
            "08-gru",
            {
                **gru,
                "gru_cell_backward": gru["gru_cell_backward"]
                + ORDERED.format(name="gru_cell_backward"),
            },
            [],
        ),
        "lstm_helpers": ("07-lstm", {**lstm, "lstm_cell_forward": HELPER_FORWARD}, [HELPERS]),
        "lstm_helpers_built": (
            "07-lstm",
            {**lstm, "lstm_cell_forward": HELPER_FORWARD},
            [HELPERS_BUILT],
        ),
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("gated")
    root, submitted = base / "course", base / "submitted"
    problems = release.release(list(NOTEBOOKS), root=str(root))
    assert not problems, f"release failed: {problems}"
    solutions = {
        a: course.solution_answers(course.read_notebook(course.NOTEBOOKS / a / f"{n}.ipynb"))
        for a, n in NOTEBOOKS.items()
    }
    for student, (assignment, answers, extra) in _class(solutions).items():
        notebook = NOTEBOOKS[assignment]
        release_nb = course.read_notebook(root / "release" / assignment / f"{notebook}.ipynb")
        path = submitted / student / assignment / f"{notebook}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(classroom.make_submission(release_nb, answers, extra), path)
    autograde.autograde(submitted, out=base / "out", jobs=2, root=root, progress=False)
    rows = json.loads((base / "out" / "results.json").read_text())
    yield {row["student"]: row for row in rows}
    shutil.rmtree(base, ignore_errors=True)


def _exercise(row: dict, name: str) -> dict:
    return next(e for e in row["exercises"] if e["name"] == name)


@pytest.mark.parametrize("student", ["lstm_honest", "gru_honest"])
def test_the_honest_controls_get_full_marks(graded, student):
    row = graded[student]
    assert row["status"] == "ok" and row["score"] == row["max_score"], row


EARNS_NOTHING = [
    ("lstm_engine", "lstm_cell_backward", "calls rnnlib.engine_gated's LSTM step"),
    ("gru_engine", "gru_cell_backward", "calls rnnlib.engine_gated's GRU step"),
    ("lstm_wrong_cache", "lstm_cell_forward", "c<t> where the cache holds c<t-1>"),
    ("gru_wrong_cache", "gru_cell_forward", "a<t> where the cache holds a<t-1>"),
]


@pytest.mark.parametrize(
    "student, exercise", [e[:2] for e in EARNS_NOTHING], ids=[e[2] for e in EARNS_NOTHING]
)
def test_an_answer_that_did_not_do_the_exercise_earns_nothing(graded, student, exercise):
    ex = _exercise(graded[student], exercise)
    assert ex["score"] == 0 and not ex["outside_passed"], f"{student} earned marks: {ex}"


def test_a_wrong_cache_is_named_in_the_feedback(graded):
    ex = _exercise(graded["lstm_wrong_cache"], "lstm_cell_forward")
    assert "cache c_prev" in ex["outside_message"], (
        f"the reason does not name the cache entry that is wrong: {ex['outside_message']}"
    )


EARNS_ITS_MARKS = [
    ("lstm_ordered", "lstm_cell_backward"),
    ("gru_ordered", "gru_cell_backward"),
    ("lstm_helpers", "lstm_cell_forward"),
]


@pytest.mark.parametrize("student, exercise", EARNS_ITS_MARKS, ids=[s for s, _ in EARNS_ITS_MARKS])
def test_a_right_answer_in_an_unusual_form_earns_its_marks(graded, student, exercise):
    row = graded[student]
    ex = _exercise(row, exercise)
    assert ex["score"] == ex["points"], f"{student}'s right {exercise} lost its marks: {ex}"
    assert row["score"] == row["max_score"], row
    # (the OrderedDict answers wrap the course's own solution: the reference-copy check sends
    # them for review, as it should; the helpers' answer is the student's own)
    if student == "lstm_helpers":
        assert row["status"] == "ok", row


def test_a_right_answer_the_outside_check_could_not_run_is_reviewed_not_failed(graded):
    row = graded["lstm_helpers_built"]
    assert row["status"].startswith("needs review") and "GATES" in row["status"], (
        f"a helper set by a call the outside check does not run should send it for review: {row}"
    )
