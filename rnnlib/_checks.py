"""Input checks shared by every public function: one place for the course's shape convention.

Each public function is wrapped by :func:`checked`, which looks at its arguments by name and
raises a ``ValueError`` (``KeyError`` for a missing parameter) naming the argument, what it got
and what the convention expects. Integer token ids given where a one-hot input is accepted are
wrapped in :class:`OneHot`, so the function bodies stay the textbook equations.
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


def check_parameters(parameters: Any, dims: dict[str, int], name: str = "parameters") -> dict:
    """Check the parameter dict: exactly the five keys, consistent shapes, finite float values."""
    if not isinstance(parameters, Mapping):
        raise ValueError(
            f"{name}: expected a dict with keys {PARAMETER_NAMES}, got {type(parameters).__name__}"
        )
    for key in PARAMETER_NAMES:
        if key not in parameters:
            raise KeyError(f"{name}: missing key {key!r}; expected the keys {PARAMETER_NAMES}")
    extra = sorted(set(parameters) - set(PARAMETER_NAMES), key=str)
    if extra:
        raise ValueError(f"{name}: unexpected keys {extra}; expected exactly {PARAMETER_NAMES}")
    shapes = {
        "Waa": ("n_a", "n_a"),
        "Wax": ("n_a", "n_x"),
        "Wya": ("n_y", "n_a"),
        "ba": ("n_a", "1"),
        "by": ("n_y", "1"),
    }
    dims.setdefault("1", 1)
    checked_params = {}
    for key in PARAMETER_NAMES:
        value = as_float_array(f"{name}[{key!r}]", parameters[key])
        expect_shape(f"{name}[{key!r}]", value, shapes[key], dims)
        checked_params[key] = value
    return checked_params


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}: expected one of {choices}, got {value!r}")


def _check_input(
    name: str, value: Any, dims: dict[str, int], names: tuple[str, ...], dtype: Any
) -> Any:
    """One-hot input (``names`` shape) or integer token ids (the same shape without n_x)."""
    if isinstance(value, OneHot):
        return value
    arr = np.asarray(value) if not isinstance(value, np.ndarray) else value
    if arr.dtype.kind in "iu":
        expect_shape(f"{name} (token ids)", arr, names[1:], dims)
        n_x = dims["n_x"]
        if arr.size and (arr.min() < 0 or arr.max() >= n_x):
            bad = arr.min() if arr.min() < 0 else arr.max()
            raise ValueError(
                f"{name}: token id {bad} out of range; expected ids in [0, n_x = {n_x})"
            )
        return OneHot(arr, n_x)
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


# The shape each argument name stands for, in the course's notation.
_STATE_SHAPES = {
    "a_prev": ("n_a", "m"),
    "a0": ("n_a", "m"),
    "da_next": ("n_a", "m"),
    "da": ("n_a", "m", "T_x"),
}
_INPUT_SHAPES = {"xt": ("n_x", "m"), "x": ("n_x", "m", "T_x")}


def _length(value: Any) -> str:
    return f"of length {len(value)}" if isinstance(value, (tuple, list)) else ""


def _check_caches(args: dict[str, Any], dims: Dims) -> Any:
    """Learn n_a, m (and T_x) from the cache(s) of the forward pass; return their dtype."""
    if "cache" in args:
        cache = args["cache"]
        if not (isinstance(cache, tuple) and len(cache) == 5):
            raise ValueError(
                "cache: expected the tuple (a_next, a_prev, xt, parameters, hidden_activation) "
                f"returned by rnn_cell_forward, got {type(cache).__name__} {_length(cache)}"
            )
        caches, name = [cache], "cache"
    else:
        caches, name = args["caches"], "caches"
        if not isinstance(caches, (list, tuple)) or not caches:
            raise ValueError(
                "caches: expected the non-empty list of caches returned by rnn_forward, "
                f"got {caches!r:.60}"
            )
        dims["T_x"] = len(caches)
        dims.sources["T_x"] = "caches (one per step)"
    a_next = np.asarray(caches[0][0])
    if a_next.ndim != 2:
        raise ValueError(f"{name}: expected a_next of shape (n_a, m) first, got {a_next.shape}")
    dims["n_a"], dims["m"] = a_next.shape
    dims.sources["n_a"] = dims.sources["m"] = name
    return a_next.dtype


GRADIENT_NAMES = tuple("d" + name for name in PARAMETER_NAMES)


def _check_gradients(gradients: Any, parameters: dict | None) -> dict:
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


def validate_arguments(bound: inspect.BoundArguments) -> None:
    """Check the arguments of a public function by their names (see the tables above)."""
    args = bound.arguments
    dims = Dims()
    dtype = None  # float inputs are cast to the parameters' dtype (float64 or float32)
    if "parameters" in args:
        args["parameters"] = check_parameters(args["parameters"], dims)
        dtype = np.result_type(*args["parameters"].values())
    if "Wa" in args:  # stacked form
        Wa = args["Wa"] = as_float_array("Wa", args["Wa"])
        expect_shape("Wa", Wa, ("n_a", "n_a + n_x"), dims)
        dims["n_a"], dims["n_x"] = Wa.shape[0], Wa.shape[1] - Wa.shape[0]
        dims.sources["n_a"] = dims.sources["n_x"] = "Wa"
        if dims["n_x"] < 1:
            raise ValueError(f"Wa: expected shape (n_a, n_a + n_x) with n_x >= 1, got {Wa.shape}")
        dims.setdefault("1", 1)
        for key, names in (("ba", ("n_a", "1")), ("Wya", ("n_y", "n_a")), ("by", ("n_y", "1"))):
            if key in args:
                args[key] = as_float_array(key, args[key], Wa.dtype)
                expect_shape(key, args[key], names, dims)
        dtype = Wa.dtype
    if "hidden_activation" in args:
        check_choice("hidden_activation", args["hidden_activation"], HIDDEN_ACTIVATIONS)
    if "output_activation" in args:
        check_choice("output_activation", args["output_activation"], OUTPUT_ACTIVATIONS)
    if "cache" in args or "caches" in args:
        dtype = _check_caches(args, dims)
    for key in ("Waa", "Wax"):  # stack_weights
        if key in args and "Wa" not in args and "parameters" not in args:
            args[key] = as_float_array(key, args[key])
            expect_shape(key, args[key], {"Waa": ("n_a", "n_a"), "Wax": ("n_a", "n_x")}[key], dims)
    if "n_a" in args:  # split_weights
        n_a = args["n_a"]
        if isinstance(n_a, bool) or not isinstance(n_a, (int, np.integer)) or n_a < 1:
            raise ValueError(f"n_a: expected a positive integer, got {n_a!r}")
        if "n_a" in dims and n_a != dims["n_a"]:
            raise ValueError(
                f"n_a: expected the number of rows of Wa (n_a, n_a + n_x), {dims['n_a']}, got {n_a}"
            )
    # the data (x, xt) sets m and T_x first: a state of the wrong shape is then the one blamed
    for key, names in _INPUT_SHAPES.items():
        if key not in args:
            continue
        if "n_x" in dims:
            args[key] = _check_input(key, args[key], dims, names, dtype)
        elif not isinstance(args[key], OneHot):
            if np.asarray(args[key]).dtype.kind in "iu":
                raise ValueError(
                    f"{key}: token ids need the vocabulary size n_x; pass the one-hot array "
                    f"of shape {names} here"
                )
            args[key] = as_float_array(key, args[key], dtype)
            expect_shape(key, args[key], names, dims)
    for key, names in _STATE_SHAPES.items():
        if key in args:
            args[key] = as_float_array(key, args[key], dtype)
            expect_shape(key, args[key], names, dims)
    if "y_pred" in args:
        y_pred = args["y_pred"] = as_float_array("y_pred", args["y_pred"])
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
    if "y" in args and "n_y" in dims:
        if "output_activation" in args:
            kind = args["output_activation"]
        else:  # cross_entropy: labels have one axis fewer than y_pred, sigmoid targets as many
            kind = "sigmoid" if np.ndim(args["y"]) == args["y_pred"].ndim else "softmax"
        time = "x" in args or ("y_pred" in args and args["y_pred"].ndim == 3)
        args["y"] = check_labels("y", args["y"], dims, kind, time=time)
    if "truncate" in args:
        k = args["truncate"]
        if k is not None and (isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0):
            raise ValueError(f"truncate: expected None (full BPTT) or an integer >= 0, got {k!r}")
    if "gradients" in args:  # sgd_step, clip_by_global_norm, clip_by_value
        args["gradients"] = _check_gradients(args["gradients"], args.get("parameters"))
    for key in ("learning_rate", "max_norm", "max_value", "temperature"):
        if key in args:
            value = args[key]
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float, np.number))
                or not (np.isfinite(value) and value > 0)
            ):
                raise ValueError(f"{key}: expected a positive number, got {value!r}")
            args[key] = float(value)  # a Python float keeps float32 arrays float32
    if "start_id" in args:  # sample: outputs are fed back as inputs
        if dims["n_x"] != dims["n_y"]:
            raise ValueError(
                "parameters: sampling feeds outputs back as inputs, so n_x must equal n_y; "
                f"got n_x = {dims['n_x']} and n_y = {dims['n_y']}"
            )
        for key in ("start_id", "stop_id"):
            value = args.get(key)
            if value is None and key == "stop_id":
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, np.integer))
                or not (0 <= value < dims["n_x"])
            ):
                raise ValueError(
                    f"{key}: expected a token id in [0, n_x = {dims['n_x']}), got {value!r}"
                )
    if "length" in args:
        length = args["length"]
        if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0:
            raise ValueError(f"length: expected an integer >= 0, got {length!r}")
    for sym in ("n_a", "n_x", "n_y", "m", "T_x"):
        if dims.get(sym) == 0:
            raise ValueError(
                f"{dims.sources.get(sym, sym)}: expected {sym} >= 1, got an empty axis ({sym} = 0)"
            )


def checked(fn: F) -> F:
    """Decorate a public function so its arguments are checked (and token ids wrapped) by name."""
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{fn.__name__}: {exc}") from None
        bound.apply_defaults()
        validate_arguments(bound)
        return fn(*bound.args, **bound.kwargs)

    wrapper.__wrapped__ = fn  # the undecorated body, as the notebooks show it
    return wrapper  # type: ignore[return-value]
