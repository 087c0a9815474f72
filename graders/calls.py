"""The part of the hidden checks that runs the student's code: call a function on a case and read
its result strictly.

:func:`call` (``call(name, fn, case)``) is all that the outside check's child (graders/child.py)
needs, so this module, with graders/wire.py, is the only part of the checks copied into the
child's folder (see graders/stubs.py). It holds nothing that computes an expected result or
simulates a mistake: those stay in graders/checks.py, which the child never sees. It imports only
numpy and rnnlib; in the child that rnnlib is the stub whose exercises under grade raise, and only
the functions' signatures (for the name of a mutated argument) are used. The student's function gets
plain ndarrays, exactly as the case holds them (one-hot inputs are dense one-hot arrays).

The result of a call is a dict of named float64 / int64 arrays (plus ``"__mutated__": argument
name`` when an input was changed in place), or ``{"__error__": message}``; it never raises for an
Exception of the student's code and never trusts an object it did not check.
"""

from __future__ import annotations

import copy
import inspect
import re
from collections.abc import Callable
from typing import Any

import numpy as np

import rnnlib

MAX_MESSAGE = 300  # characters of one verdict message that came from the child, at most
MAX_STUDENT_TEXT = 60  # characters of a student's exception message kept in feedback
MAX_TYPE_NAME = 40  # characters of a class name the student may have chosen
AFTER = "__arguments_after__"  # the arguments as the call left them (the parent compares them)
PARAMS = ("Waa", "Wax", "Wya", "ba", "by")
GRADS = tuple("d" + p for p in PARAMS)

Case = dict[str, Any]
Outputs = dict[str, Any]
Reader = Callable[[Any, Case, str], Outputs]


class OutputError(Exception):
    """The student's function returned something that is not what the exercise asks for."""


# ---------------------------------------------------------------------------------------------
# Text that reaches feedback: short, with no long numbers (it must not carry hidden inputs out)
# ---------------------------------------------------------------------------------------------

# a number with more than three digits in all (0.125, 1234, 1.5e-07): long enough to be data
_NUMBER = re.compile(r"\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?")


def elide_numbers(text: str) -> str:
    """``text`` with every number of more than three digits replaced by "…"."""

    def one(match: re.Match) -> str:
        number = match.group(0)
        return "…" if sum(ch.isdigit() for ch in number) > 3 else number

    return _NUMBER.sub(one, text)


def bounded(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` on one line, its long numbers elided, at most ``limit`` characters."""
    text = elide_numbers(" ".join(str(text).split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tname(value: object) -> str:
    """The name of ``value``'s type, bounded (a student's class name is theirs to choose)."""
    return bounded(type(value).__name__, MAX_TYPE_NAME)


def short_error(exc: BaseException) -> str:
    """A student's exception for feedback: its type and at most MAX_STUDENT_TEXT characters of
    its message, long numbers elided, so no hidden input can be printed out through it."""
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - a __str__ that raises says nothing
        text = ""
    text = bounded(text, MAX_STUDENT_TEXT)
    return f"{_tname(exc)}: {text}" if text else _tname(exc)


# ---------------------------------------------------------------------------------------------
# Reading results strictly: types and shapes are checked, values are copied into fresh arrays
# ---------------------------------------------------------------------------------------------

_NUMPY_SCALARS = (
    np.float64,
    np.float32,
    np.float16,
    np.int64,
    np.int32,
    np.int16,
    np.int8,
    np.uint64,
    np.uint32,
    np.uint16,
    np.uint8,
)


def _is_number(value: Any) -> bool:
    """A real number of an exact, known type (bool and subclasses are not numbers here)."""
    return type(value) in (int, float) or type(value) in _NUMPY_SCALARS


def _base(value: Any) -> Any:
    """``value`` as its exact base type when its type subclasses ndarray, dict, tuple or list (a
    np.matrix, an OrderedDict, a namedtuple hold a right answer too), read through the base
    type's own methods, never the subclass's; anything else as it is."""
    kind = type(value)
    if kind in (np.ndarray, dict, tuple, list):
        return value
    if issubclass(kind, np.ndarray):
        return np.ndarray.view(value, np.ndarray)
    if issubclass(kind, dict):
        return dict.copy(value)
    if issubclass(kind, tuple):
        return tuple.__add__((), value)
    if issubclass(kind, list):
        return list.copy(value)
    return value


def _as_array(value: Any, what: str, kind: str = "f") -> np.ndarray:
    """``value`` as a fresh float64 (kind "f") or int64 (kind "i") array, or an OutputError."""
    value = _base(value)
    if type(value) is np.ndarray:
        if value.dtype.kind not in "fiu" or (kind == "i" and value.dtype.kind == "f"):
            want = "integers" if kind == "i" else "real numbers"
            raise OutputError(f"{what} should be an array of {want}, got dtype {value.dtype}")
        return value.astype(np.float64 if kind == "f" else np.int64)
    if _is_number(value):
        if kind == "i" and not isinstance(value, (int, np.integer)):
            raise OutputError(f"{what} should hold integers, got {_tname(value)}")
        return np.array(value, dtype=np.float64 if kind == "f" else np.int64)
    if type(value) in (list, tuple):
        items = [_as_array(item, what, kind) for item in value]
        if len({item.shape for item in items}) > 1:
            raise OutputError(f"{what} is a ragged {_tname(value)} (items of different shapes)")
        return np.array(items, dtype=np.float64 if kind == "f" else np.int64).reshape(
            (len(items), *(items[0].shape if items else ()))
        )
    raise OutputError(f"{what} should be a numpy array, got a {_tname(value)}")


def _as_scalar(value: Any, what: str) -> np.ndarray:
    """A number (or a one-element array) as a 0-d float64 array."""
    value = _base(value)
    if _is_number(value):
        return np.array(value, dtype=np.float64)
    if type(value) is np.ndarray and value.size == 1:
        return _as_array(value, what).reshape(())
    shape = f" of shape {value.shape}" if type(value) is np.ndarray else ""
    raise OutputError(f"{what} should be a number (a float), got a {_tname(value)}{shape}")


def _as_sequence(value: Any, what: str, length: int) -> list:
    value = _base(value)
    if type(value) not in (tuple, list):
        raise OutputError(f"{what} should return a tuple of {length}, got a {_tname(value)}")
    if len(value) != length:
        raise OutputError(f"{what} should return a tuple of {length} values, got {len(value)}")
    return list(value)


def _as_dict(value: Any, what: str, keys: tuple[str, ...]) -> dict:
    value = _base(value)
    if type(value) is not dict:
        raise OutputError(f"{what} should be a dict with keys {keys}, got a {_tname(value)}")
    missing = [k for k in keys if k not in value]
    if missing:
        raise OutputError(f"{what} has no key {missing[0]!r}; expected the keys {keys}")
    return value


def _read_cache(cache: Any, what: str, fields: tuple, params: tuple[str, ...]) -> Outputs:
    """A gated cell's cache as named arrays, ``what`` and the field's name: every array field in
    the order the exercise states, and each parameter of its parameters dict (the backward pass
    reads them all from it). The vanilla cells' caches are not read, only counted: not all of
    their typical mistakes and alternative answers build one."""
    items = _as_sequence(cache, what, len(fields))
    out: Outputs = {}
    for field, item in zip(fields, items, strict=True):
        if field == "parameters":
            d = _as_dict(item, f"the parameters in {what}", params)
            out.update({f"{what} parameters[{k}]": _as_array(d[k], k) for k in params})
        elif field is not None:
            out[f"{what} {field}"] = _as_array(item, f"{what}'s {field}")
    return out


def _read_caches(caches: Any, case: Case, fields: tuple | None, params: tuple[str, ...]) -> Outputs:
    """The list of a sequence's caches, one per step, each read by :func:`_read_cache` (with
    ``fields`` None only their number is checked)."""
    caches = _base(caches)
    T_x = case["dims"]["T_x"]
    if type(caches) not in (list, tuple) or len(caches) != T_x:
        got = len(caches) if type(caches) in (list, tuple) else _tname(caches)
        raise OutputError(
            f"caches should be a list of T_x = {T_x} caches (one per step), got {got}"
        )
    out: Outputs = {}
    for t, cache in enumerate(caches if fields is not None else ()):
        out.update(_read_cache(cache, f"caches[{t}]", fields, params))
    return out


# Readers: the student's return value (and the case) -> named arrays. One per exercise.
def _read_cell(result: Any, case: Case, name: str) -> Outputs:
    a_next, yt_pred, _cache = _as_sequence(result, name, 3)
    return {"a_next": _as_array(a_next, "a_next"), "yt_pred": _as_array(yt_pred, "yt_pred")}


def _read_forward(result: Any, case: Case, name: str) -> Outputs:
    a, y_pred, caches = _as_sequence(result, name, 3)
    _read_caches(caches, case, None, PARAMS)  # their number; their content is not read
    return {"a": _as_array(a, "a"), "y_pred": _as_array(y_pred, "y_pred")}


def _reader_array(key: str) -> Reader:
    return lambda result, case, name: {key: _as_array(result, f"the result of {name}")}


def _read_split(result: Any, case: Case, name: str) -> Outputs:
    Waa, Wax = _as_sequence(result, name, 2)
    return {"Waa": _as_array(Waa, "Waa"), "Wax": _as_array(Wax, "Wax")}


def _read_loss(result: Any, case: Case, name: str) -> Outputs:
    return {"loss": _as_scalar(result, f"the loss returned by {name}")}


def _reader_dict(keys: tuple[str, ...]) -> Reader:
    def read(result: Any, case: Case, name: str) -> Outputs:
        d = _as_dict(result, f"the result of {name}", keys)
        return {k: _as_array(d[k], k) for k in keys}

    return read


def _read_bptt(result: Any, case: Case, name: str) -> Outputs:
    loss, gradients, a_last = _as_sequence(result, name, 3)
    keys = (*GRADS, "da0")
    g = _as_dict(gradients, "gradients", keys)
    return {
        "loss": _as_scalar(loss, "loss"),
        **{k: _as_array(g[k], k) for k in keys},
        "a_last": _as_array(a_last, "a_last"),
    }


def _read_clip(result: Any, case: Case, name: str) -> Outputs:
    keys = tuple(case["args"][0])  # the five gradients and any entry that passes through
    d = _as_dict(result, f"the result of {name}", keys)
    return {k: _as_array(d[k], k) for k in keys}


def _read_sample(result: Any, case: Case, name: str) -> Outputs:
    result = _base(result)
    if type(result) is np.ndarray and result.ndim != 1:
        raise OutputError(f"sample should return a list of token ids, got shape {result.shape}")
    if type(result) not in (list, tuple, np.ndarray):
        raise OutputError(f"sample should return a list of ints, got a {_tname(result)}")
    return {"ids": _as_array(result, "the sampled token ids", kind="i").reshape(-1)}


def _read_many_to_one(result: Any, case: Case, name: str) -> Outputs:
    loss, y_pred, _cache = _as_sequence(result, name, 3)
    return {"loss": _as_scalar(loss, "loss"), "y_pred": _as_array(y_pred, "y_pred")}


# The reader of each exercise: graders.checks reads rnnlib's results with the same one.
READERS: dict[str, Reader] = {
    "rnn_cell_forward": _read_cell,
    "rnn_forward": _read_forward,
    "stack_weights": _reader_array("Wa"),
    "split_weights": _read_split,
    "stack_inputs": _reader_array("stacked"),
    "rnn_cell_forward_stacked": _read_cell,
    "softmax": _reader_array("softmax"),
    "cross_entropy": _read_loss,
    "rnn_cell_backward": _reader_dict(("dxt", "da_prev", "dWax", "dWaa", "dba")),
    "rnn_backward": _reader_dict(("dx", "da0", "dWax", "dWaa", "dba")),
    "numerical_gradient": _reader_array("grad"),
    "rnn_backward_truncated": _reader_dict(("dx", "da0", "dWax", "dWaa", "dba")),
    "output_layer_backward": _reader_dict(("dWya", "dby", "da")),
    "bptt": _read_bptt,
    "sgd_step": _reader_dict(PARAMS),
    "clip_by_global_norm": _read_clip,
    "sample": _read_sample,
    "backprop_norms": _reader_array("norms"),
    "many_to_one_forward": _read_many_to_one,
    "many_to_one_backward": _reader_dict((*GRADS, "da0")),
}


LSTM_GATE_GRADS = ("dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo")
LSTM_PARAMS = (*(g[1:] for g in LSTM_GATE_GRADS), "Wy", "by")
LSTM_CACHE = ("a_next", "c_next", "a_prev", "c_prev", "ft", "it", "cct", "ot", "xt", "parameters")


def _read_lstm_cell(result: Any, case: Case, name: str) -> Outputs:
    a_next, c_next, yt_pred, cache = _as_sequence(result, name, 4)
    return {
        "a_next": _as_array(a_next, "a_next"),
        "c_next": _as_array(c_next, "c_next"),
        "yt_pred": _as_array(yt_pred, "yt_pred"),
        **_read_cache(cache, "cache", LSTM_CACHE, LSTM_PARAMS),
    }


def _read_lstm_forward(result: Any, case: Case, name: str) -> Outputs:
    a, y, c, caches = _as_sequence(result, name, 4)
    return {
        "a": _as_array(a, "a"),
        "y": _as_array(y, "y"),
        "c": _as_array(c, "c"),
        **_read_caches(caches, case, LSTM_CACHE, LSTM_PARAMS),
    }


READERS.update(  # lesson 7, the LSTM
    {
        "lstm_cell_forward": _read_lstm_cell,
        "lstm_forward": _read_lstm_forward,
        "lstm_cell_backward": _reader_dict(("dxt", "da_prev", "dc_prev", *LSTM_GATE_GRADS)),
        "lstm_backward": _reader_dict(("dx", "da0", *LSTM_GATE_GRADS)),
    }
)


GRU_GATE_GRADS = ("dWr", "dbr", "dWu", "dbu", "dWc", "dbc")
GRU_PARAMS = (*(g[1:] for g in GRU_GATE_GRADS), "Wy", "by")
GRU_CACHE = ("a_next", "a_prev", "rt", "ut", "cct", "xt", "parameters")


def _read_gru_cell(result: Any, case: Case, name: str) -> Outputs:
    a_next, yt_pred, cache = _as_sequence(result, name, 3)
    return {
        "a_next": _as_array(a_next, "a_next"),
        "yt_pred": _as_array(yt_pred, "yt_pred"),
        **_read_cache(cache, "cache", GRU_CACHE, GRU_PARAMS),
    }


def _read_gru_forward(result: Any, case: Case, name: str) -> Outputs:
    a, y, caches = _as_sequence(result, name, 3)
    return {
        "a": _as_array(a, "a"),
        "y": _as_array(y, "y"),
        **_read_caches(caches, case, GRU_CACHE, GRU_PARAMS),
    }


READERS.update(  # lesson 8, the GRU
    {
        "gru_cell_forward": _read_gru_cell,
        "gru_forward": _read_gru_forward,
        "gru_cell_backward": _reader_dict(("dxt", "da_prev", *GRU_GATE_GRADS)),
        "gru_backward": _reader_dict(("dx", "da0", *GRU_GATE_GRADS)),
    }
)


# ---------------------------------------------------------------------------------------------
# Calling the student's function
# ---------------------------------------------------------------------------------------------


def arg_names(name: str) -> tuple[str, ...]:
    """The parameter names of exercise ``name``, from rnnlib's signature (a stub's is the same)."""
    return tuple(inspect.signature(inspect.unwrap(getattr(rnnlib, name))).parameters)


def _test_function(spec: dict) -> Callable[[np.ndarray], float]:
    """The scalar function f(θ) of a numerical_gradient case: Σ c sin(θ) + ½‖Aθ‖² + Σ d θ³."""
    c, A, d = spec["c"], spec["A"], spec["d"]

    def f(theta: np.ndarray) -> float:
        v = np.asarray(theta, dtype=np.float64).reshape(-1)
        return float(np.sum(c * np.sin(v)) + 0.5 * np.sum((A @ v) ** 2) + np.sum(d * v**3))

    return f


def _arguments(name: str, case: Case) -> tuple[list, dict]:
    """Deep copies of the case's arguments (plain ndarrays), with test functions built."""
    args = copy.deepcopy(case["args"])
    kwargs = copy.deepcopy(case["kwargs"])
    if name == "numerical_gradient":
        args[0] = _test_function(args[0])
    return args, kwargs


def _changed(before: Any, after: Any) -> bool:
    """True when ``after`` (the argument the student got) no longer equals ``before``."""
    if type(before) is np.ndarray:
        return (
            type(after) is not np.ndarray
            or after.shape != before.shape
            or not np.allclose(after, before, rtol=1e-12, atol=0, equal_nan=True)
        )
    if type(before) in (list, tuple):
        return (
            type(after) is not type(before)
            or len(after) != len(before)
            or any(_changed(b, a) for b, a in zip(before, after, strict=True))
        )
    if type(before) is dict:
        return (
            type(after) is not dict
            or set(after) != set(before)
            or any(_changed(before[k], after[k]) for k in before)
        )
    return False


def _run(
    name: str, fn: Callable[..., Any], case: Case
) -> tuple[Outputs, BaseException | None, tuple, dict]:
    """Run ``fn`` on ``case``: the outputs, the student's exception (if any), and the arguments
    ``fn`` was given, as the call left them."""
    args, kwargs = _arguments(name, case)
    given = tuple(args)  # a tuple: the student's code cannot swap an argument for a pristine one
    try:
        result = fn(*given, **kwargs)
    except Exception as exc:  # the student's error becomes feedback, not a crash of the grader
        if isinstance(exc, NotImplementedError) and not str(exc):
            outputs = {"__error__": f"{name} is not written yet (it raised NotImplementedError)"}
            return outputs, exc, given, kwargs
        return {"__error__": f"{name} raised {short_error(exc)}"}, exc, given, kwargs
    try:
        outputs = READERS[name](result, case, name)
    except OutputError as exc:
        return {"__error__": bounded(str(exc))}, None, given, kwargs
    except Exception as exc:  # an object that misbehaves while being read
        return (
            {"__error__": f"{name} returned an unusable value ({_tname(exc)})"},
            None,
            given,
            kwargs,
        )
    return outputs, None, given, kwargs


def mutated_argument(name: str, case: Case, after: Any) -> str | None:
    """The name of the first argument of ``case`` that ``after`` (the arguments as the call left
    them) no longer equals; None when none changed. ``after`` of the wrong kind counts as changed."""
    names = arg_names(name)
    before = case["args"]
    if type(after) not in (list, tuple) or len(after) != len(before):
        return "its arguments (they did not come back whole)"
    for i, (b, a) in enumerate(zip(before, after, strict=True)):
        if (i != 0 or name != "numerical_gradient") and _changed(b, a):
            return names[i] if i < len(names) else f"argument {i}"
    return None


def _call(name: str, fn: Callable[..., Any], case: Case) -> tuple[Outputs, BaseException | None]:
    """Run ``fn`` on ``case`` in this process (the in-kernel test); returns the outputs (with
    "__mutated__" when an input changed) and the student's exception, if any."""
    outputs, exc, given, _ = _run(name, fn, case)
    if "__error__" not in outputs:
        mutated = mutated_argument(name, case, given)
        if mutated is not None:
            outputs["__mutated__"] = mutated
    return outputs, exc


def plain(value: Any, depth: int = 0) -> Any:
    """``value`` as plain data graders.wire can store: a function as None, anything that is not
    data as a marker string (which equals no input)."""
    if depth > 20:
        return "<nested too deep>"
    if type(value) is np.ndarray:
        return value.copy() if value.dtype.kind in "biuf" else f"<array of {value.dtype}>"
    if value is None or type(value) in (bool, int, float, str) or type(value) in _NUMPY_SCALARS:
        return value
    if type(value) in (list, tuple):
        return type(value)(plain(v, depth + 1) for v in value)
    if type(value) is dict:
        if not all(type(k) is str for k in value):
            return "<a dict with keys that are not str>"
        return {k: plain(v, depth + 1) for k, v in value.items()}
    if callable(value):
        return None
    return f"<a {_tname(value)}>"


def call_for_parent(name: str, fn: Callable[..., Any], case: Case) -> Outputs:
    """What the outside check's child sends back for one case: the outputs of :func:`call`
    without any verdict on mutation, and under AFTER the arguments as the call left them, for
    the grading process to compare with the ones it sent (graders.checks.judge_mutation)."""
    outputs, _, given, kwargs = _run(name, fn, case)
    if "__error__" not in outputs:
        outputs[AFTER] = {"args": [plain(a) for a in given], "kwargs": plain(kwargs)}
    return outputs


def call(name: str, fn: Callable[..., Any], case: Case) -> Outputs:
    """Call the student's ``fn`` on ``case`` and read its result into named float64/int64 arrays.

    Args:
        name: the exercise (a key of READERS, and of graders.checks.EXERCISES)
        fn: the student's function
        case: one case of graders.checks.make_cases(name, rng)

    Returns:
        dict of output name -> ndarray; or {"__error__": message} when ``fn`` raised or returned
        something of the wrong type or structure; "__mutated__": argument name when ``fn``
        changed one of its inputs in place.
    """
    return _call(name, fn, case)[0]
