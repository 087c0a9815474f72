"""The outside check's child folder: graders' child modules and an rnnlib whose answers raise.

:func:`build_stub` writes what the jailed child (graders/child.py) may import: ``graders/`` with
child.py, calls.py and wire.py only (never checks.py or graders/lessons/: their typical mistakes
and references compute right answers), and ``rnnlib/``, a copy of rnnlib in which the functions
under grade, and every function listed as their equivalent in :data:`EQUIVALENTS`, raise a
RuntimeError instead of computing. The student's cells then cannot hand in rnnlib's work as their
own, while the rest of rnnlib (the helpers a notebook's own solutions call, the earlier lessons)
still works.
"""

from __future__ import annotations

import ast
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHILD_MODULES = ("child.py", "calls.py", "wire.py")  # what graders/child.py imports, nothing more

# Exercise -> the other rnnlib functions to stub while it is graded: those whose own code computes
# the exercise's result, or its core step, so that a student could call them (on arguments of
# their choosing) instead of writing it — the engine's fast equivalents (rnnlib/engine.py) and the
# helpers the reference solutions call included. Stubbing is by name in every rnnlib module, so
# "bptt" covers both the textbook rnnlib/bptt.py and rnnlib/engine.py's bptt. Not listed:
# functions that only reach that work by calling the exercise or one of these (they raise anyway),
# and BUILDING_BLOCKS, which the notebooks' own solutions call and which compute no exercise's
# result (tests/test_stubs.py checks both).
BUILDING_BLOCKS = ("tanh", "relu", "sigmoid", "activation_derivative")  # g(z) and g'(z) of lesson 1
_FORWARD = (  # run the recurrence a<t> = g1(Waa a<t-1> + Wax x<t> + ba) in their own code
    "bptt",  # its forward pass; a_last is the last state (textbook and engine)
    "_surrogate_loss",  # the forward pass behind gradient_check's loss
    "gradient_check",  # its forward pass of the frozen states
    "sample",  # one step per drawn token
    "torch_calls",  # the forward pass in PyTorch (rnnlib.bench)
)
_OUTPUT = (  # softmax and the cross-entropy of logits, in their own code
    "output_loss",
    "output_layer",
    "softmax_output_layer",
    "bptt",  # the textbook bptt's log-softmax and loss of every step
)
_BACKWARD = (  # the delta recurrence dz<t> = (da<t> + Waaᵀ dz<t+1>) ⊙ g1'(z<t>) in their own code
    "backprop_norms",  # da_prev = Waaᵀ (da ⊙ g1'), step by step
    "bptt",  # the engine's, inside its bptt (driven by its own loss, not by any upstream gradient)
)
_GATED_ENGINE = (  # rnnlib/engine_gated.py, every function: the gated cells' steps, stacked
    "lstm_bptt",  # the LSTM forward and backward (the textbook lstm_bptt calls the exercises)
    "_step_backward",  # one LSTM step back: the gates' dz and dc_prev
    "_sigmoid_tanh",  # the LSTM's gates from their stacked pre-activations
    "gru_bptt",  # the GRU forward and backward
    "_gru_dz",  # one GRU step back: the gates' dz
    "_gru_da_prev",  # and da_prev
    "_input_parts",  # every step's W x<t> + b
    "_output_layer",  # the softmax layer over the states
    "_per_gate",  # the stacked gradients split per gate
)
EQUIVALENTS: dict[str, tuple[str, ...]] = {
    "rnn_cell_forward": ("rnn_cell_forward_stacked", *_FORWARD),  # the same step, stacked weights
    "rnn_forward": _FORWARD,  # rnn_cell_forward is its own building block (graded with it)
    "stack_weights": (),
    "split_weights": (),  # rnn_cell_forward_stacked splits Wa by calling split_weights
    "stack_inputs": (),
    "rnn_cell_forward_stacked": ("rnn_cell_forward", *_FORWARD),  # the same step, split weights
    "softmax": _OUTPUT,
    "cross_entropy": _OUTPUT,
    "rnn_cell_backward": _BACKWARD,
    "rnn_backward": _BACKWARD,
    "numerical_gradient": (),  # gradient_check calls numerical_gradient
    "rnn_backward_truncated": _BACKWARD,  # the engine's recurrence takes truncate too
    "output_layer_backward": ("output_layer", "softmax_output_layer", "output_loss"),
    "bptt": (  # the engine's bptt is stubbed by its name; and every helper of either bptt:
        "input_weight_gradient",  # the engine's dWax = Σ_t dz<t> x<t>ᵀ
        "output_layer",  # the engine's loss, dWya, dby and the upstream gradient on every a<t>
        "softmax_output_layer",  # the same, folded into three products
        "output_loss",  # the loss and dL/do of any logits
        "_surrogate_loss",  # bptt's loss
        "torch_calls",  # bptt's loss and gradients by PyTorch's autograd (rnnlib.bench)
    ),
    "sgd_step": (),
    "clip_by_global_norm": (),
    "sample": (),  # CharModel.sample calls sample
    # the gradients it measures. Not bptt (04, closed when 06 is open, and what lessons 5 and 6
    # train with): its recurrence is written inside it, driven by its own loss at every step, so
    # no call of it is ∂L<T>/∂a<t> for a gradient of the student's choosing at the last step
    "backprop_norms": ("rnn_cell_backward",),
    # lesson 7: the textbook lstm_bptt and lstm_backprop_norms reach the cells only by calling
    # them, but the fast path (rnnlib/engine_gated.py) runs the cells' steps in its own code
    **dict.fromkeys(("lstm_cell_forward", "lstm_forward"), _GATED_ENGINE),
    **dict.fromkeys(("lstm_cell_backward", "lstm_backward"), _GATED_ENGINE),
    # lesson 8, the same
    **dict.fromkeys(("gru_cell_forward", "gru_forward"), _GATED_ENGINE),
    **dict.fromkeys(("gru_cell_backward", "gru_backward"), _GATED_ENGINE),
    # lesson 10
    "many_to_one_forward": (),  # predict and train_classifier call it by name
    "many_to_one_backward": (),
}


def stubbed(graded: Iterable[str]) -> dict[str, str]:
    """Every rnnlib function to stub while ``graded`` are graded -> the exercise it answers."""
    graded = list(graded)
    why = {name: name for name in graded}
    for name in graded:
        for other in EQUIVALENTS.get(name, ()):
            why.setdefault(other, name)
    return why


def stub_functions(
    source: str, names: Iterable[str], graded_as: Mapping[str, str] | None = None
) -> str:
    """``source`` with the bodies of the top-level functions in ``names`` replaced by a raise.

    ``graded_as`` names, for a function stubbed as an equivalent, the exercise under grade that its
    message names (default: the function itself).
    """
    names = set(names)
    graded_as = graded_as or {}
    tree = ast.parse(source)
    lines = source.splitlines()
    for node in sorted(tree.body, key=lambda n: -n.lineno):
        if isinstance(node, ast.FunctionDef) and node.name in names:
            indent = " " * node.body[0].col_offset
            first = node.body[0].lineno - 1
            exercise = graded_as.get(node.name, node.name)
            message = (
                f"rnnlib.{node.name} is not available while {exercise} is graded: write your own"
            )
            lines[first : node.end_lineno] = [f"{indent}raise RuntimeError({message!r})"]
    return "\n".join(lines) + "\n"


def build_stub(stub: Path, graded: list[str]) -> None:
    """Write the child's folder at ``stub`` (replacing it) for the exercises ``graded``.

    ``stub/graders/`` gets __init__.py and copies of child.py, calls.py and wire.py;
    ``stub/rnnlib/`` is a copy of rnnlib (no caches) in which every function of
    :func:`stubbed` (the graded ones and their EQUIVALENTS) raises a RuntimeError naming it.
    """
    import rnnlib

    stub = Path(stub)
    shutil.rmtree(stub, ignore_errors=True)
    (stub / "graders").mkdir(parents=True)
    for name in CHILD_MODULES:
        shutil.copyfile(HERE / name, stub / "graders" / name)
    (stub / "graders" / "__init__.py").write_text("")
    real = Path(rnnlib.__file__).resolve().parent
    shutil.copytree(real, stub / "rnnlib", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    why = stubbed(graded)
    for py in (stub / "rnnlib").glob("*.py"):
        text = py.read_text(encoding="utf-8")
        new = stub_functions(text, why, why)
        if new != text:
            py.write_text(new, encoding="utf-8")
