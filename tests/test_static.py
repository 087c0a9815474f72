"""graders.static's pure helpers: the digest that keys a submission's cases, and the comparison
that spots an answer pasted from the reference solution (names ignored)."""

from __future__ import annotations

import ast
import inspect
import textwrap

import pytest

import rnnlib
from graders import static

REFERENCE = textwrap.dedent(inspect.getsource(inspect.unwrap(rnnlib.rnn_forward)))


def _renamed(source: str) -> str:
    """``source`` as a student might disguise it: every name changed (the same way wherever it
    is used, so the code still runs), annotations and the docstring dropped, re-laid-out by
    ast.unparse, a comment added."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            node.id = f"v_{node.id}"
        elif isinstance(node, ast.arg):
            node.arg, node.annotation = f"v_{node.arg}", None
        elif isinstance(node, ast.FunctionDef):
            node.name, node.returns, node.decorator_list = "mine", None, []
            node.body = node.body[1:]  # the docstring
    return "# my own work\n" + ast.unparse(tree)


RENAMED = _renamed(REFERENCE)
OWN = """
import numpy as np

def rnn_forward(x, a0, parameters, hidden_activation="tanh", output_activation="softmax"):
    a_prev = a0
    outs, preds, caches = [], [], []
    for t in range(x.shape[2]):
        a_prev, y, cache = rnn_cell_forward(x[:, :, t], a_prev, parameters,
                                             hidden_activation, output_activation)
        outs.append(a_prev)
        preds.append(y)
        caches.append(cache)
    return np.stack(outs, axis=2), np.stack(preds, axis=2), caches
"""


def test_the_reference_matches_itself_and_a_renamed_copy():
    assert static.matches_reference(REFERENCE, REFERENCE), "the verbatim copy was not recognised"
    assert static.matches_reference(RENAMED, REFERENCE), (
        "a copy with every name changed, comments added and the docstring dropped was missed"
    )


@pytest.mark.parametrize(
    "answer",
    [OWN, "def rnn_forward(x, a0, parameters):\n    raise NotImplementedError", "def (:"],
    ids=["own-code", "stub", "syntax-error"],
)
def test_code_of_ones_own_does_not_match(answer):
    assert not static.matches_reference(answer, REFERENCE), (
        f"an answer that is not the reference matched it:\n{answer}"
    )


@pytest.mark.parametrize("name", ["softmax", "stack_weights", "sgd_step", "relu"])
def test_a_few_trivial_lines_never_count_as_copying(name):
    source = textwrap.dedent(inspect.getsource(inspect.unwrap(getattr(rnnlib, name))))
    assert not static.matches_reference(source, source), (
        f"rnnlib.{name} has fewer than {static.MIN_REFERENCE_STATEMENTS} statements, yet matched"
    )


def test_a_changed_constant_or_operator_is_not_a_copy():
    changed = REFERENCE.replace("range(T_x)", "range(T_x - 1)")
    assert changed != REFERENCE, "the test's edit did not apply"
    assert not static.matches_reference(changed, REFERENCE), "a real edit still matched"


def test_digest_ignores_comments_and_layout_but_not_code():
    a = "def f(x):\n    return x + 1\n"
    assert static.code_digest([a]) == static.code_digest(["# note\ndef f(x):\n\n  return (x+1)"])
    assert static.code_digest([a]) == static.code_digest([a]), "the digest is not deterministic"
    others = [["def f(x):\n    return x + 2\n"], [a, "y = 1"], ["y = 1", a], [a + "\n'''doc'''"]]
    digests = {static.code_digest(o) for o in others}
    assert static.code_digest([a]) not in digests, "an edit of the code kept the digest"
    assert len(digests) == len(others), "two different submissions share a digest"


def test_digest_of_code_that_does_not_parse_still_tells_edits_apart():
    assert static.code_digest(["def (:"]) != static.code_digest(["def (: 1"])


def test_reference_copies_names_each_copied_answer_cell():
    references = {"rnn_forward": REFERENCE}
    found = static.reference_copies(
        [("rnn_forward", RENAMED), ("other", RENAMED)], references, {"rnn_forward": REFERENCE}
    )
    assert found == ["matches the reference solution (answer cell rnn_forward)"], found
    assert static.reference_copies([("rnn_forward", OWN)], references) == [], "own code flagged"


def test_the_courses_own_solution_text_is_not_reported():
    # the course's solutions are rnnlib's code (the no-drift rule): its exact text is exempt
    found = static.reference_copies(
        [("rnn_forward", REFERENCE + "\n\n")],
        {"rnn_forward": REFERENCE},
        {"rnn_forward": REFERENCE},
    )
    assert found == [], f"the course's own solution was reported: {found}"


def _source_of(name: str) -> str:
    return textwrap.dedent(inspect.getsource(inspect.unwrap(getattr(rnnlib, name))))


# (exercise, the reference's text, the mistaken text): a wrong answer that differs from the
# reference only by which names are used where
SWAPPED_NAMES = [
    ("lstm_cell_forward", "c_next = ft * c_prev + it * cct", "c_next = it * c_prev + ft * cct"),
    ("lstm_cell_forward", "[a_prev, xt]", "[xt, a_prev]"),
    ("lstm_cell_forward", "a_next = ot * np.tanh(c_next)", "a_next = ot * np.tanh(c_prev)"),
    ("lstm_cell_forward", 'ft = sigmoid(parameters["Wf"]', 'ft = softmax(parameters["Wf"]'),
    (
        "gru_cell_forward",
        "a_next = ut * cct + (1 - ut) * a_prev",
        "a_next = rt * cct + (1 - rt) * a_prev",
    ),
    ("gru_cell_forward", "[rt * a_prev, xt]", "[ut * a_prev, xt]"),
    ("rnn_forward", "a[:, :, t] = a_next", "a[:, :, t] = yt_pred"),
]


@pytest.mark.parametrize(
    ("name", "reference_text", "mistake"),
    SWAPPED_NAMES,
    ids=[f"{name}:{mistake}" for name, _, mistake in SWAPPED_NAMES],
)
def test_an_answer_that_uses_other_names_in_other_places_is_not_a_copy(
    name, reference_text, mistake
):
    reference = _source_of(name)
    answer = reference.replace(reference_text, mistake, 1)
    assert answer != reference, f"the test's edit {reference_text!r} did not apply to {name}"
    assert not static.matches_reference(answer, reference), (
        f"{name} with {reference_text!r} written as {mistake!r} (a different computation) "
        "was taken for a copy of the reference"
    )


def _swap_names(source: str, first: str, second: str) -> str:
    """``source`` with the names ``first`` and ``second`` exchanged everywhere (a consistent
    renaming: the same computation)."""
    swap = {first: second, second: first}
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            node.id = swap.get(node.id, node.id)
        elif isinstance(node, ast.arg):
            node.arg = swap.get(node.arg, node.arg)
    return ast.unparse(tree)


@pytest.mark.parametrize(
    ("name", "first", "second"),
    [
        ("lstm_cell_forward", "ft", "it"),
        ("lstm_cell_forward", "a_prev", "xt"),
        ("gru_cell_forward", "rt", "ut"),
        ("rnn_forward", "a", "caches"),
    ],
)
def test_a_copy_with_two_names_exchanged_everywhere_is_still_a_copy(name, first, second):
    reference = _source_of(name)
    answer = _swap_names(reference, first, second)
    assert static.matches_reference(answer, reference), (
        f"{name} with {first} and {second} exchanged throughout (the same code, renamed) was "
        "not recognised as a copy"
    )
