"""The pieces input checks are made of, and :func:`checked`, which puts a contract on a function.

Each public function declares its own contract beside it, in its lesson module: a function
``check_<name>`` with the same parameters that checks each argument with the pieces here and
returns the arguments to use (floats in the parameters' dtype, token ids wrapped in
:class:`OneHot` where a one-hot input is accepted). A failed check raises a ``ValueError``
(``KeyError`` for a missing parameter) naming the argument, what it got and what the course's
shape convention expects. The function's body, which the notebook shows, is the bare equation.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np

PARAMETER_NAMES = ("Waa", "Wax", "Wya", "ba", "by")
HIDDEN_ACTIVATIONS = ("tanh", "relu")
OUTPUT_ACTIVATIONS = ("softmax", "sigmoid")

F = TypeVar("F", bound=Callable[..., Any])


class OneHot:
    """The one-hot columns of integer token ids, never built: ``W @ OneHot`` is a column gather.

    ids: integer array of shape (m,) or (m, T_x); n: the vocabulary size (n_x).
    ``W @ x`` gives ``W[:, ids]`` (shape (rows, m) or (rows, m, T_x)), ``dz @ x.T`` scatter-adds the
    columns of ``dz`` (rows, m) into a (rows, n) matrix, and ``np.asarray(x)`` is the dense one-hot
    array for the rare place (the stacked input) that needs it.
    """

    __array_ufunc__ = None  # make ndarray @ OneHot defer to OneHot.__rmatmul__

    def __init__(self, ids: np.ndarray, n: int, transposed: bool = False):
        self.ids = ids
        self.n = n
        self.transposed = transposed

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.n, *self.ids.shape) if not self.transposed else (*self.ids.shape[::-1], self.n)

    @property
    def ndim(self) -> int:
        return self.ids.ndim + 1

    @property
    def T(self) -> OneHot:
        if self.ids.ndim != 1:
            raise ValueError("OneHot.T is defined for a single time step, ids of shape (m,)")
        return OneHot(self.ids, self.n, not self.transposed)

    def __getitem__(self, index: Any) -> OneHot:
        # x[:, :, t] on a sequence is the one-hot of the ids at step t
        if not (isinstance(index, tuple) and len(index) == 3 and self.ids.ndim == 2):
            raise IndexError("a OneHot sequence is indexed as x[:, :, t]")
        return OneHot(self.ids[:, index[2]], self.n)

    def __rmatmul__(self, W: np.ndarray) -> np.ndarray:
        if not self.transposed:  # W (r, n) @ onehot (n, m) = columns of W
            return W[:, self.ids]
        out = np.zeros((W.shape[0], self.n), dtype=W.dtype)  # W (r, m) @ onehot.T (m, n)
        np.add.at(out.T, self.ids, W.T)
        return out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        dense = np.zeros(self.shape, dtype=dtype or np.float64)
        if self.transposed:
            dense[np.arange(self.ids.size), self.ids] = 1.0
        else:
            np.put_along_axis(dense, self.ids[None], 1.0, axis=0)
        return dense

    def __repr__(self) -> str:
        flag = ", transposed" if self.transposed else ""
        return f"OneHot(ids shape {self.ids.shape}, n={self.n}{flag})"


class Dims(dict):
    """The sizes learned so far (n_a, m, ...), and for each the argument it was learned from."""

    def __init__(self) -> None:
        super().__init__()
        self.sources: dict[str, str] = {}


def _shape_text(names: tuple[str, ...], dims: Mapping[str, int]) -> str:
    values = tuple(dims.get(n, "?") for n in names)
    return f"({', '.join(names)}) = {values}" if len(names) != 1 else f"({names[0]},) = {values}"


def check_finite(name: str, arr: np.ndarray) -> None:
    """Raise ValueError when ``arr`` holds NaN or inf (one fast sum; exact only if it overflows)."""
    if arr.dtype.kind in "fc":
        with np.errstate(over="ignore", invalid="ignore"):
            total = arr.sum()
        if not np.isfinite(total) and not np.isfinite(arr).all():
            bad = arr[~np.isfinite(arr)].ravel()[0]
            raise ValueError(f"{name}: expected finite values, got {bad} (NaN or inf) in the array")


def as_float_array(name: str, value: Any, dtype: Any = None) -> np.ndarray:
    """``value`` as a finite float array (of ``dtype`` if given), or a ValueError naming it."""
    if isinstance(value, OneHot):
        return value
    if not isinstance(value, np.ndarray):
        try:
            value = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{name}: expected a numpy array of numbers, got {type(value).__name__}"
            ) from exc
    if value.dtype.kind not in "fiub":
        raise ValueError(f"{name}: expected a numeric array, got dtype {value.dtype}")
    if dtype is not None and value.dtype != dtype:
        value = value.astype(dtype)  # compute in the parameters' dtype
    elif value.dtype.kind != "f":
        value = value.astype(np.float64)
    check_finite(name, value)
    return value


def expect_shape(name: str, arr: Any, names: tuple[str, ...], dims: dict[str, int]) -> None:
    """Check ``arr.shape`` against the symbolic shape ``names``; learn new dims into ``dims``."""
    shape = tuple(arr.shape)
    if len(shape) != len(names):
        raise ValueError(
            f"{name}: expected {len(names)} axes, shape {_shape_text(names, dims)}, "
            f"got shape {shape}"
        )
    sources = getattr(dims, "sources", {})
    for axis, (sym, size) in enumerate(zip(names, shape, strict=True)):
        if sym in dims and dims[sym] != size:
            why = f"{sym} = {dims[sym]}" if sym != "1" else "1"
            if sym in sources and sources[sym] != name:
                why += f", as in {sources[sym]}"
            raise ValueError(
                f"{name}: expected shape {_shape_text(names, dims)}, got shape {shape} "
                f"(axis {axis} must be {why})"
            )
        if sym not in dims:
            dims[sym] = size
            sources[sym] = name


PARAMETER_SHAPES = {
    "Waa": ("n_a", "n_a"),
    "Wax": ("n_a", "n_x"),
    "Wya": ("n_y", "n_a"),
    "ba": ("n_a", "1"),
    "by": ("n_y", "1"),
}


def check_parameters(
    parameters: Any,
    dims: dict[str, int],
    name: str = "parameters",
    names: tuple[str, ...] = PARAMETER_NAMES,
    shapes: dict[str, tuple[str, ...]] = PARAMETER_SHAPES,
) -> dict:
    """Check a parameter dict: exactly the keys ``names`` (the vanilla cell's five by default),
    each of its symbolic shape in ``shapes`` (consistent through ``dims``), finite float values."""
    if not isinstance(parameters, Mapping):
        raise ValueError(
            f"{name}: expected a dict with keys {names}, got {type(parameters).__name__}"
        )
    for key in names:
        if key not in parameters:
            raise KeyError(f"{name}: missing key {key!r}; expected the keys {names}")
    extra = sorted(set(parameters) - set(names), key=str)
    if extra:
        raise ValueError(f"{name}: unexpected keys {extra}; expected exactly {names}")
    dims.setdefault("1", 1)
    checked_params = {}
    for key in names:
        value = as_float_array(f"{name}[{key!r}]", parameters[key])
        expect_shape(f"{name}[{key!r}]", value, shapes[key], dims)
        checked_params[key] = value
    return checked_params


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}: expected one of {choices}, got {value!r}")


def check_input(
    name: str,
    value: Any,
    dims: dict[str, int],
    names: tuple[str, ...],
    dtype: Any,
    wrap_ids: bool = True,
) -> Any:
    """One-hot input (``names`` shape, floats or integers) or token ids (integers, one axis fewer).

    Token ids are told from an integer one-hot array by their shape, and come back wrapped in
    :class:`OneHot` (or as the checked integer array, if not ``wrap_ids``). Without n_x (no
    parameters to learn it from) only the one-hot form is accepted.
    """
    if isinstance(value, OneHot):
        return value
    arr = np.asarray(value) if not isinstance(value, np.ndarray) else value
    if arr.dtype.kind in "iu" and arr.ndim == len(names):  # a one-hot array of integers
        arr = arr.astype(dtype or np.float64)
    if "n_x" not in dims:
        if arr.dtype.kind in "iu":
            raise ValueError(
                f"{name}: token ids need the vocabulary size n_x; pass the one-hot array "
                f"of shape {names} here"
            )
        arr = as_float_array(name, arr, dtype)
        expect_shape(name, arr, names, dims)
        return arr
    if arr.dtype.kind in "iu":
        expect_shape(f"{name} (token ids)", arr, names[1:], dims)
        n_x = dims["n_x"]
        if arr.size and (arr.min() < 0 or arr.max() >= n_x):
            bad = arr.min() if arr.min() < 0 else arr.max()
            raise ValueError(
                f"{name}: token id {bad} out of range; expected ids in [0, n_x = {n_x})"
            )
        return OneHot(arr, n_x) if wrap_ids else arr
    if arr.dtype.kind == "f" and arr.ndim == len(names) - 1:  # float ids, e.g. from np.zeros
        raise ValueError(
            f"{name}: expected {len(names)} axes, shape {_shape_text(names, dims)}, got shape "
            f"{arr.shape} of dtype {arr.dtype}; token ids of shape ({', '.join(names[1:])}) must be "
            f"integers (pass {name}.astype(int))"
        )
    arr = as_float_array(name, arr, dtype)
    expect_shape(name, arr, names, dims)
    return arr


def check_labels(
    name: str, y: Any, dims: dict[str, int], output_activation: str, time: bool
) -> np.ndarray:
    """Labels (m[, T_x]) in [0, n_y) for softmax; 0/1 targets (n_y, m[, T_x]) for sigmoid."""
    y = np.asarray(y)
    tail = ("m", "T_x") if time else ("m",)
    if output_activation == "softmax":
        if y.dtype.kind not in "iu":
            raise ValueError(
                f"{name}: expected integer class labels of shape {_shape_text(tail, dims)}, "
                f"got dtype {y.dtype}"
            )
        expect_shape(name, y, tail, dims)
        if y.size and (y.min() < 0 or y.max() >= dims["n_y"]):
            bad = y.min() if y.min() < 0 else y.max()
            raise ValueError(
                f"{name}: label {bad} out of range; expected labels in [0, n_y = {dims['n_y']})"
            )
        return y
    y = as_float_array(name, y)
    expect_shape(name, y, ("n_y", *tail), dims)
    if not np.all((y == 0) | (y == 1)):
        bad = y[(y != 0) & (y != 1)].ravel()[0]
        raise ValueError(f"{name}: expected 0/1 targets for sigmoid outputs, got a value {bad}")
    return y


def check_state(
    name: str, value: Any, names: tuple[str, ...], dims: dict[str, int], dtype: Any = None
) -> np.ndarray:
    """A state or a gradient on states (a_prev, a0, da_next, da): finite floats of shape ``names``."""
    value = as_float_array(name, value, dtype)
    expect_shape(name, value, names, dims)
    return value


def _length(value: Any) -> str:
    return f"of length {len(value)}" if isinstance(value, (tuple, list)) else ""


def check_cache(cache: Any, dims: Dims) -> Any:
    """The cache of rnn_cell_forward: learn n_a and m from it; return its dtype."""
    if not (isinstance(cache, tuple) and len(cache) == 5):
        raise ValueError(
            "cache: expected the tuple (a_next, a_prev, xt, parameters, hidden_activation) "
            f"returned by rnn_cell_forward, got {type(cache).__name__} {_length(cache)}"
        )
    return _learn_from_cache(cache, "cache", dims)


def first_of_caches(caches: Any, dims: Dims, forward: str) -> Any:
    """The list of caches that ``forward`` returned, one per step: learn T_x from it; return the
    first cache (for the caller's own check of one cell's cache)."""
    if not isinstance(caches, (list, tuple)) or not caches:
        raise ValueError(
            f"caches: expected the non-empty list of caches returned by {forward}, "
            f"got {caches!r:.60}"
        )
    dims["T_x"] = len(caches)
    dims.sources["T_x"] = "caches (one per step)"
    return caches[0]


def check_caches(caches: Any, dims: Dims) -> Any:
    """The caches of rnn_forward: learn T_x, n_a and m from them; return their dtype."""
    return _learn_from_cache(first_of_caches(caches, dims, "rnn_forward"), "caches", dims)


def _learn_from_cache(cache: tuple[Any, ...], name: str, dims: Dims) -> Any:
    a_next = np.asarray(cache[0])
    if a_next.ndim != 2:
        raise ValueError(f"{name}: expected a_next of shape (n_a, m) first, got {a_next.shape}")
    dims["n_a"], dims["m"] = a_next.shape
    dims.sources["n_a"] = dims.sources["m"] = name
    return a_next.dtype


def check_stacked_weights(Wa: Any, dims: Dims) -> np.ndarray:
    """Wa = [Waa : Wax], shape (n_a, n_a + n_x) with n_x >= 1: learn n_a and n_x from it."""
    Wa = as_float_array("Wa", Wa)
    expect_shape("Wa", Wa, ("n_a", "n_a + n_x"), dims)
    dims["n_a"], dims["n_x"] = Wa.shape[0], Wa.shape[1] - Wa.shape[0]
    dims.sources["n_a"] = dims.sources["n_x"] = "Wa"
    if dims["n_x"] < 1:
        raise ValueError(f"Wa: expected shape (n_a, n_a + n_x) with n_x >= 1, got {Wa.shape}")
    dims.setdefault("1", 1)
    return Wa


def check_probabilities(y_pred: Any, dims: Dims) -> np.ndarray:
    """Predicted probabilities ŷ in [0, 1], shape (n_y, m, T_x) or (n_y, m)."""
    y_pred = as_float_array("y_pred", y_pred)
    if y_pred.ndim not in (2, 3):
        raise ValueError(
            f"y_pred: expected shape (n_y, m, T_x) or (n_y, m), got shape {y_pred.shape}"
        )
    expect_shape("y_pred", y_pred, ("n_y", "m", "T_x")[: y_pred.ndim], dims)
    if y_pred.size and (y_pred.min() < 0 or y_pred.max() > 1):
        raise ValueError(
            "y_pred: expected probabilities in [0, 1], "
            f"got values in [{y_pred.min()}, {y_pred.max()}]"
        )
    return y_pred


def check_truncate(k: Any) -> None:
    """None (full BPTT) or an integer >= 0."""
    if k is not None and (isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0):
        raise ValueError(f"truncate: expected None (full BPTT) or an integer >= 0, got {k!r}")


GRADIENT_NAMES = tuple("d" + name for name in PARAMETER_NAMES)


def check_gradients(gradients: Any, parameters: dict | None = None) -> dict:
    """The gradient dict: the five d-names (others, like da0, pass), finite, shaped like the parameters."""
    if not isinstance(gradients, Mapping):
        raise ValueError(
            f"gradients: expected a dict with keys {GRADIENT_NAMES}, got {type(gradients).__name__}"
        )
    for key in GRADIENT_NAMES:
        if key not in gradients:
            raise KeyError(f"gradients: missing key {key!r}; expected the keys {GRADIENT_NAMES}")
    checked_gradients = dict(gradients)
    for key in GRADIENT_NAMES:
        value = checked_gradients[key] = as_float_array(f"gradients[{key!r}]", gradients[key])
        if parameters is not None and value.shape != parameters[key[1:]].shape:
            raise ValueError(
                f"gradients[{key!r}]: expected the shape of parameters[{key[1:]!r}], "
                f"{parameters[key[1:]].shape}, got {value.shape}"
            )
    return checked_gradients


def check_positive(name: str, value: Any) -> float:
    """A positive finite number, as a Python float (which keeps float32 arrays float32)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.number))
        or not (np.isfinite(value) and value > 0)
    ):
        raise ValueError(f"{name}: expected a positive number, got {value!r}")
    return float(value)


def check_count(name: str, value: Any, low: int = 0) -> None:
    """An integer >= ``low`` (bools refused): a length, or a number of hidden units."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        what = "a positive integer" if low == 1 else f"an integer >= {low}"
        raise ValueError(f"{name}: expected {what}, got {value!r}")


def check_token_id(name: str, value: Any, dims: Dims) -> None:
    """A token id in [0, n_x)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or not (0 <= value < dims["n_x"])
    ):
        raise ValueError(f"{name}: expected a token id in [0, n_x = {dims['n_x']}), got {value!r}")


def check_nonempty(dims: Dims) -> None:
    """No size learned from the arguments may be 0 (an empty axis)."""
    for sym in ("n_a", "n_x", "n_y", "m", "T_x"):
        if dims.get(sym) == 0:
            raise ValueError(
                f"{dims.sources.get(sym, sym)}: expected {sym} >= 1, got an empty axis ({sym} = 0)"
            )


def parameters_dtype(parameters: dict) -> Any:
    """The dtype checked float inputs are cast to: that of the parameters (float64 or float32)."""
    return np.result_type(*parameters.values())


def checked(contract: Callable[..., dict], token_ids: Callable[..., Any] | None = None):
    """Decorate a function so that ``contract`` checks its arguments first.

    ``contract`` takes the function's arguments (defaults filled in) and returns them checked,
    as a dict; the function is then called with those. With ``token_ids``, a call whose checked
    ``x`` is integer token ids goes there instead (the fast path, rnnlib.engine).
    ``inspect.unwrap`` gives the bare function, as the notebooks show it.
    """

    def decorate(fn: F) -> F:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as exc:
                raise TypeError(f"{fn.__name__}: {exc}") from None
            bound.apply_defaults()
            arguments = contract(**bound.arguments)
            x = arguments.get("x")
            if token_ids is not None and isinstance(x, np.ndarray) and x.dtype.kind in "iu":
                return token_ids(**arguments)
            return fn(**arguments)

        wrapper.__wrapped__ = fn  # the undecorated body, as the notebooks show it
        wrapper.contract = contract  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
