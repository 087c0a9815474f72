"""Many-to-one with a sigmoid output: one 0/1 label per sequence, the loss at the last step only.

    a<t> = g1(Waa a<t-1> + Wax x<t> + ba),  t = 1..T_x
    ŷ = σ(Wya a<T_x> + by)                                 (n_y = 1: one probability per sequence)
    L = -(1/m) Σ_j [y_j log ŷ_j + (1 - y_j) log(1 - ŷ_j)]   (binary cross-entropy)

Backward, the gradient enters at the last step only, do = (ŷ - y) / m, and reaches every earlier
step through the recurrence: dz<t> = (Waaᵀ dz<t+1>) ⊙ g1'(z<t>), with ∂L/∂a<T_x> = Wyaᵀ do.

The task: given one line of the standard library's source, is it English prose (a docstring's
or a comment's text, label 1) or Python code (label 0)? :func:`code_and_prose_lines`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnlib._checks import (
    HIDDEN_ACTIVATIONS,
    Dims,
    check_choice,
    check_input,
    check_nonempty,
    check_parameters,
    check_state,
    checked,
    parameters_dtype,
)
from rnnlib.corpus import is_validation, load_docstrings, stdlib_files
from rnnlib.forward import ACTIVATIONS, activation_derivative, sigmoid
from rnnlib.training import clip_by_global_norm, initialize_parameters, sgd_step


def check_binary_labels(name: str, y: Any, dims: Dims) -> np.ndarray:
    """One label per sequence, shape (m,), each 0 or 1."""
    y = np.asarray(y)
    if y.dtype.kind not in "iufb":
        raise ValueError(f"{name}: expected labels 0 or 1 of shape (m,), got dtype {y.dtype}")
    if y.ndim != 1 or ("m" in dims and y.shape[0] != dims["m"]):
        m = dims.get("m", "m")
        raise ValueError(
            f"{name}: expected shape (m,) = ({m},), one label per sequence, got {y.shape}"
        )
    bad = y[(y != 0) & (y != 1)]
    if bad.size:
        raise ValueError(
            f"{name}: expected labels 0 or 1 (one per sequence), got {bad[0].item()!r}"
        )
    return y.astype(np.float64)


def check_many_to_one_forward(x, y, a0, parameters, hidden_activation) -> dict[str, Any]:
    """many_to_one_forward's contract: the parameters with n_y = 1, x one-hot (n_x, m, T_x) or
    token ids (m, T_x) with T_x >= 1, a0 (n_a, m), y (m,) of 0/1 labels."""
    dims = Dims()
    parameters = check_parameters(parameters, dims)
    if dims["n_y"] != 1:
        raise ValueError(
            f"parameters: a many-to-one classifier has one sigmoid output, expected n_y = 1, "
            f"got Wya of shape {parameters['Wya'].shape}"
        )
    dtype = parameters_dtype(parameters)
    check_choice("hidden_activation", hidden_activation, HIDDEN_ACTIVATIONS)
    x = check_input("x", x, dims, ("n_x", "m", "T_x"), dtype)
    a0 = check_state("a0", a0, ("n_a", "m"), dims, dtype)
    y = check_binary_labels("y", y, dims)
    check_nonempty(dims)  # a sequence of length 0 (T_x = 0) has no last step
    return {
        "x": x,
        "y": y,
        "a0": a0,
        "parameters": parameters,
        "hidden_activation": hidden_activation,
    }


@checked(check_many_to_one_forward)
def many_to_one_forward(
    x: np.ndarray,
    y: np.ndarray,
    a0: np.ndarray,
    parameters: dict[str, np.ndarray],
    hidden_activation: str = "tanh",
) -> tuple[float, np.ndarray, tuple[Any, ...]]:
    """ŷ = σ(Wya a<T_x> + by) after a<t> = g1(Waa a<t-1> + Wax x<t> + ba); L = BCE(ŷ, y) averaged over m.

    Inputs:
    - x: one-hot inputs of shape (n_x, m, T_x) (or token ids of shape (m, T_x))
    - y: one 0/1 label per sequence, shape (m,)
    - a0: initial hidden state a<0>, shape (n_a, m)
    - parameters: dict with Waa (n_a, n_a), Wax (n_a, n_x), Wya (1, n_a), ba (n_a, 1), by (1, 1)
    - hidden_activation: g1, "tanh" or "relu"

    Returns a tuple of:
    - loss: float, -(1/m) Σ_j [y_j log ŷ_j + (1 - y_j) log(1 - ŷ_j)]
    - y_pred: ŷ, the probability of label 1 for each sequence, shape (1, m)
    - cache: (a, x, y, y_pred, parameters, hidden_activation), a of shape (n_a, m, T_x + 1)
      holding a<0>..a<T_x>
    """
    Waa, Wax, Wya, ba, by = (parameters[k] for k in ("Waa", "Wax", "Wya", "ba", "by"))
    g1 = ACTIVATIONS[hidden_activation]
    n_a, m = a0.shape
    T_x = x.shape[2]
    a = np.zeros((n_a, m, T_x + 1), dtype=Waa.dtype)  # a[:, :, t] = a<t>
    a[:, :, 0] = a0
    for t in range(T_x):
        a[:, :, t + 1] = g1(Waa @ a[:, :, t] + Wax @ x[:, :, t] + ba)
    o = Wya @ a[:, :, T_x] + by  # (1, m): the output at the last step only
    y_pred = sigmoid(o)
    # -[y log σ(o) + (1 - y) log(1 - σ(o))] = log(1 + e^o) - y o, finite for any o
    loss = float(np.sum(np.logaddexp(0, o) - y * o) / m)
    cache = (a, x, y, y_pred, parameters, hidden_activation)
    return loss, y_pred, cache


def check_many_to_one_backward(cache) -> dict[str, Any]:
    """many_to_one_backward's contract: the cache of many_to_one_forward."""
    if not (isinstance(cache, tuple) and len(cache) == 6):
        got = (
            f"a tuple of length {len(cache)}" if isinstance(cache, tuple) else type(cache).__name__
        )
        raise ValueError(
            "cache: expected the cache of many_to_one_forward, (a, x, y, y_pred, parameters, "
            f"hidden_activation), got {got}"
        )
    return {"cache": cache}


@checked(check_many_to_one_backward)
def many_to_one_backward(cache: tuple[Any, ...]) -> dict[str, np.ndarray]:
    """do = (ŷ - y) / m at the last step only; dz<t> = (Waaᵀ dz<t+1>) ⊙ g1'(z<t>), from Wyaᵀ do.

    Inputs:
    - cache: the cache of many_to_one_forward, (a, x, y, y_pred, parameters, hidden_activation)

    Returns a dict of the loss's gradients:
    - dWaa (n_a, n_a), dWax (n_a, n_x), dWya (1, n_a), dba (n_a, 1), dby (1, 1), da0 (n_a, m)
    """
    a, x, y, y_pred, parameters, hidden_activation = cache
    Waa, Wax, Wya = parameters["Waa"], parameters["Wax"], parameters["Wya"]
    m, T_x = a.shape[1], a.shape[2] - 1
    do = (y_pred - y) / m  # (1, m): dL/do, only the last step has an output
    dWya = do @ a[:, :, T_x].T
    dby = do.sum(axis=1, keepdims=True)
    da = Wya.T @ do  # ∂L/∂a<T_x>: the one place the gradient enters
    dWaa, dWax, dba = np.zeros_like(Waa), np.zeros_like(Wax), np.zeros_like(parameters["ba"])
    for t in range(T_x, 0, -1):  # no loss at the earlier steps: only Waaᵀ dz carries it back
        dz = da * activation_derivative(hidden_activation, a[:, :, t])
        dWaa += dz @ a[:, :, t - 1].T
        dWax += dz @ x[:, :, t - 1].T
        dba += dz.sum(axis=1, keepdims=True)
        da = Waa.T @ dz  # ∂L/∂a<t-1>
    gradients = {"dWaa": dWaa, "dWax": dWax, "dWya": dWya, "dba": dba, "dby": dby, "da0": da}
    return gradients


# ------------------------------------------------------------------ the data: code or prose?

PAD = 0  # left padding: the line's last character is the last step
CHARS = tuple(chr(c) for c in range(32, 127))  # printable ASCII; id 1 + index; others: OTHER
OTHER = len(CHARS) + 1
N_CHARS = len(CHARS) + 2
_CHAR_ID = {c: i + 1 for i, c in enumerate(CHARS)}
MIN_LENGTH = 12  # shorter lines (")", "else:", "Args:") say too little either way


def _docstring_lines(docs) -> list[str]:
    return [line.strip() for doc in docs for line in doc.splitlines()]


def _code_and_comment_lines(source: str) -> tuple[list[str], list[str]]:
    """A source's code lines and comment texts, skipping every line in or at a triple-quoted
    string (a docstring: prose, but counted from the parsed docstrings instead)."""
    code, comments, in_string = [], [], False
    for line in source.splitlines():
        stripped = line.strip()
        quotes = stripped.count('"""') + stripped.count("'''")
        if in_string or quotes:
            in_string = in_string != (quotes % 2 == 1)
            continue
        if stripped.startswith("#"):
            comments.append(stripped.lstrip("#").strip())
        elif stripped:
            code.append(stripped)
    return code, comments


@dataclass(frozen=True)
class LineData:
    """Lines with their labels (1 prose, 0 code), for training and for the held-out test."""

    train_lines: tuple[str, ...]
    train_labels: np.ndarray
    test_lines: tuple[str, ...]
    test_labels: np.ndarray


def code_and_prose_lines(per_class: int = 4000, seed: int = 0) -> LineData:
    """Lines of the standard library's source labelled prose (1: a docstring's or a comment's
    text) or code (0), split by module like rnnlib.corpus (the test modules never trained on).

    Inputs:
    - per_class: how many lines of each label to draw for training (a tenth as many for test)
    - seed: the draw (the same seed, the same lines)

    Returns:
    - a LineData, each split balanced between the two labels and shuffled
    """
    docs = load_docstrings()
    pools: dict[bool, tuple[list[str], list[str]]] = {False: ([], []), True: ([], [])}
    for name, path in stdlib_files():
        code, comments = _code_and_comment_lines(path.read_text(encoding="utf-8", errors="replace"))
        prose = comments + _docstring_lines(docs.get(name, ()))
        held_out = is_validation(name)
        pools[held_out][0].extend(line for line in code if len(line) >= MIN_LENGTH)
        pools[held_out][1].extend(line for line in prose if len(line) >= MIN_LENGTH)
    rng = np.random.default_rng(seed)
    out = []
    for held_out, n in ((False, per_class), (True, max(1, per_class // 10))):
        code, prose = (sorted(set(p)) for p in pools[held_out])
        lines = [code[i] for i in rng.choice(len(code), n, replace=False)]
        lines += [prose[i] for i in rng.choice(len(prose), n, replace=False)]
        labels = np.array([0] * n + [1] * n)
        order = rng.permutation(2 * n)
        out += [tuple(lines[i] for i in order), labels[order]]
    return LineData(*out)


def encode_lines(lines, T_x: int = 48) -> np.ndarray:
    """Character ids of each line's first T_x characters, left-padded with PAD: shape (m, T_x)."""
    ids = np.full((len(lines), T_x), PAD, dtype=np.int64)
    for j, line in enumerate(lines):
        chars = [_CHAR_ID.get(c, OTHER) for c in line[:T_x]]
        if chars:
            ids[j, T_x - len(chars) :] = chars
    return ids


def train_classifier(
    x: np.ndarray,
    y: np.ndarray,
    steps: int = 300,
    n_a: int = 32,
    m: int = 64,
    learning_rate: float = 0.5,
    max_norm: float = 5.0,
    seed: int = 0,
) -> tuple[dict[str, np.ndarray], list[float]]:
    """SGD with clipping on random minibatches of (x, y): token ids (N, T_x) and labels (N,).

    Returns:
    - (the parameters, the loss of every step)
    """
    rng = np.random.default_rng(seed)
    parameters = initialize_parameters(n_a, N_CHARS, 1, seed=seed, scale=0.1)
    a0, losses = np.zeros((n_a, m)), []
    for _ in range(steps):
        batch = rng.integers(0, len(y), size=m)
        loss, _, cache = many_to_one_forward(x[batch], y[batch], a0, parameters)
        gradients = clip_by_global_norm(many_to_one_backward(cache), max_norm)
        parameters = sgd_step(parameters, gradients, learning_rate)
        losses.append(loss)
    return parameters, losses


def predict(parameters: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """ŷ for each sequence of x (token ids (N, T_x)), shape (N,)."""
    labels = np.zeros(len(x))
    a0 = np.zeros((parameters["Waa"].shape[0], len(x)))
    return many_to_one_forward(x, labels, a0, parameters)[1].ravel()


def main() -> None:
    """``python -m rnnlib.classify``: train on the code-or-prose lines, print held-out accuracy."""
    data = code_and_prose_lines()
    parameters, losses = train_classifier(encode_lines(data.train_lines), data.train_labels)
    p = predict(parameters, encode_lines(data.test_lines))
    accuracy = float(np.mean((p > 0.5) == data.test_labels))
    majority = float(max(data.test_labels.mean(), 1 - data.test_labels.mean()))
    print(
        f"{len(data.train_lines):,} training lines, {len(data.test_lines):,} held-out lines "
        f"(modules never trained on); loss {np.mean(losses[:20]):.3f} -> {np.mean(losses[-20:]):.3f}"
    )
    print(f"held-out accuracy {accuracy:.1%}, trivial baseline {majority:.1%}")


if __name__ == "__main__":
    main()
