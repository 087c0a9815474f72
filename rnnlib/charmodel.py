"""A character-level language model trained with rnnlib's own bptt, SGD and clipping.

Training reads random windows of T_x + 1 characters from the corpus: x is the first T_x, y the
next character at each step (y<t> = x<t+1>). Every batch starts from a<0> = 0 (and c<0> = 0).
The cell is the vanilla RNN ("rnn", the fast path of rnnlib.engine) or a gated cell of lessons 7
and 8 ("lstm", "gru": rnnlib.lstm_bptt, rnnlib.gru_bptt, which send the token ids to their fast
paths in rnnlib.engine_gated).

With ``stateful=True`` (the vanilla cell) the windows are contiguous instead
(:func:`stream_batches`): the text is cut into m tracks read in order, and each window starts
from the last state a<T_x> of the one before it on its track, held constant (the windowed form
of truncated BPTT).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnnlib.data import Vocabulary, load_corpus
from rnnlib.engine import bptt  # the fast path: token ids, checked by the caller
from rnnlib.gru import GRU_PARAMETER_NAMES, gru_bptt, gru_cell_forward, initialize_gru_parameters
from rnnlib.loss import softmax
from rnnlib.lstm import (
    LSTM_PARAMETER_NAMES,
    initialize_lstm_parameters,
    lstm_bptt,
    lstm_cell_forward,
)
from rnnlib.training import clip_by_global_norm, initialize_parameters, perplexity, sample, sgd_step


@dataclass
class CharModel:
    """Parameters, their vocabulary and the training history (loss per step, summed over T_x)."""

    parameters: dict[str, np.ndarray]
    vocab: Vocabulary
    hidden_activation: str = "tanh"
    losses: list[float] = field(default_factory=list)
    T_x: int = 25
    cell: str = "rnn"  # "rnn", "lstm" or "gru"

    def sample(
        self, length: int = 40, temperature: float = 1.0, seed: int = 0, start: str = "\n"
    ) -> str:
        """Text drawn from the model, starting after ``start``, stopping at a newline."""
        draw = sample if self.cell == "rnn" else _gated_sampler(self.cell)
        ids = draw(
            self.parameters,
            self.vocab.encode(start)[-1],
            length,
            temperature,
            seed,
            stop_id=self.vocab.encode("\n")[0] if "\n" in self.vocab.chars else None,
            hidden_activation=self.hidden_activation,
        )
        return self.vocab.decode(ids)

    def save(self, path: str | Path) -> Path:
        """Write parameters and vocabulary to a ``.npz`` file; returns the file's path (numpy adds
        ``.npz`` to a name without it: ``model`` is written as ``model.npz``)."""
        path = npz_path(path)
        np.savez(
            path,
            **self.parameters,
            chars=np.array(self.vocab.chars),
            hidden_activation=np.array(self.hidden_activation),
            losses=np.array(self.losses),
            T_x=np.array(self.T_x),
            cell=np.array(self.cell),
        )
        return path

    @classmethod
    def load(cls, path: str | Path) -> CharModel:
        """Read a model written by :meth:`save` (``model`` finds ``model.npz``, as save wrote it)."""
        path = Path(path)
        if not path.exists() and npz_path(path).exists():
            path = npz_path(path)
        with np.load(path, allow_pickle=False) as data:
            cell = str(data["cell"]) if "cell" in data else "rnn"  # files from before the cells
            parameters = {k: data[k] for k in CELL_PARAMETERS[cell]}
            return cls(
                parameters,
                Vocabulary(tuple(str(c) for c in data["chars"])),
                str(data["hidden_activation"]),
                list(map(float, data["losses"])),
                int(data["T_x"]),
                cell,
            )


def npz_path(path: str | Path) -> Path:
    """The file ``np.savez(path)`` writes: ``path`` with ``.npz`` added unless it ends so."""
    path = Path(path)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


CELLS = ("rnn", "lstm", "gru")
CELL_PARAMETERS = {
    "rnn": ("Waa", "Wax", "Wya", "ba", "by"),
    "lstm": LSTM_PARAMETER_NAMES,
    "gru": GRU_PARAMETER_NAMES,
}


def _gated_sampler(cell: str) -> Callable[..., list[int]]:
    """rnnlib.training.sample for a gated cell: draw x<t+1> ~ softmax(o<t> / τ), feed it back."""
    step = lstm_cell_forward.__wrapped__ if cell == "lstm" else gru_cell_forward.__wrapped__

    def draw(parameters, start_id, length, temperature=1.0, seed=0, stop_id=None, **_):
        n_a, n_x = parameters["Wy"].shape[1], parameters["Wc"].shape[1] - parameters["Wy"].shape[1]
        rng = np.random.default_rng(seed)
        a = c = np.zeros((n_a, 1), dtype=parameters["Wy"].dtype)  # a<0> = c<0> = 0
        token, drawn = start_id, []
        for _ in range(length):
            xt = np.zeros((n_x, 1), dtype=a.dtype)
            xt[token] = 1
            if cell == "lstm":
                a, c, _, _ = step(xt, a, c, parameters)
            else:
                a, _, _ = step(xt, a, parameters)
            p = softmax((parameters["Wy"] @ a + parameters["by"]) / temperature).ravel()
            token = int(
                min(np.searchsorted(np.cumsum(p), rng.random() * p.sum(), side="right"), len(p) - 1)
            )
            if token == stop_id:
                break
            drawn.append(token)
        return drawn

    return draw


def _gated_step(model: CharModel, x, y, a0, learning_rate: float, max_norm: float) -> float:
    """One SGD step of a gated cell, its gradient clipped to global norm ``max_norm``."""
    loss, gradients, _ = (lstm_bptt if model.cell == "lstm" else gru_bptt)(
        x, y, a0, model.parameters
    )
    norm = np.sqrt(sum(np.sum(gradients["d" + k] ** 2) for k in model.parameters))
    scale = min(1.0, max_norm / norm) if norm > 0 else 1.0
    model.parameters = {
        k: v - (learning_rate * scale) * gradients["d" + k].astype(v.dtype)
        for k, v in model.parameters.items()
    }
    return loss


def _n_a(parameters: dict[str, np.ndarray]) -> int:
    return parameters["Wya"].shape[1] if "Wya" in parameters else parameters["Wy"].shape[1]


def batches(ids: np.ndarray, m: int, T_x: int, rng: np.random.Generator):
    """Endless (x, y) minibatches of random windows: x, y token ids of shape (m, T_x), y<t> = x<t+1>."""
    if len(ids) < T_x + 2:
        raise ValueError(
            f"T_x: the corpus has {len(ids)} characters, too few for windows of {T_x + 1}"
        )
    offsets = np.arange(T_x + 1)
    while True:
        starts = rng.integers(0, len(ids) - T_x - 1, size=m)
        window = ids[starts[:, None] + offsets]  # (m, T_x + 1)
        yield window[:, :-1], window[:, 1:]


def tracks(ids: np.ndarray, m: int, T_x: int, name: str = "ids") -> np.ndarray:
    """``ids`` cut into m contiguous tracks of equal length L = len(ids) // m (the tail dropped),
    shape (m, L); an error naming ``name`` unless each track holds a window of T_x + 1 tokens."""
    need = m * (T_x + 1)
    if len(ids) < need:
        raise ValueError(
            f"{name}: got {len(ids)} tokens, expected at least m·(T_x + 1) = {m}·{T_x + 1} = "
            f"{need}: one window of T_x + 1 = {T_x + 1} tokens for each of the m = {m} tracks"
        )
    L = len(ids) // m
    return np.asarray(ids[: m * L]).reshape(m, L)


def stream_batches(
    ids: np.ndarray, m: int, T_x: int, name: str = "ids"
) -> Iterator[tuple[np.ndarray, np.ndarray, bool]]:
    """Endless contiguous minibatches: row j of every window continues row j of the one before.

    Inputs:
    - ids: the corpus's token ids, shape (N,); m: the tracks; T_x: steps per window
    - name: the argument to name in the error for a corpus shorter than one window per track

    Yields (x, y, fresh):
    - x, y: token ids of shape (m, T_x), y<t> = x<t+1>
    - fresh: True for the first window of a pass over the tracks (the state starts at 0 there)
    """
    rows = tracks(ids, m, T_x, name)
    starts = range(0, rows.shape[1] - T_x, T_x)  # full windows of T_x + 1 tokens only
    while True:
        for k, start in enumerate(starts):
            window = rows[:, start : start + T_x + 1]
            yield window[:, :-1], window[:, 1:], k == 0


def train_char_model(
    text: str | None = None,
    steps: int = 500,
    n_a: int = 64,
    T_x: int = 25,
    m: int = 32,
    learning_rate: float = 0.1,
    max_norm: float = 5.0,
    seed: int = 0,
    hidden_activation: str = "tanh",
    dtype: type = np.float64,
    callback: Callable[[int, float], None] | None = None,
    model: CharModel | None = None,
    cell: str = "rnn",
    stateful: bool = False,
) -> CharModel:
    """Train (or continue training) a character model with SGD and global-norm clipping.

    Inputs:
    - text: the corpus (default: the "names" corpus); steps: SGD steps
    - n_a: hidden units; T_x: steps per window; m: windows per minibatch
    - learning_rate: η; max_norm: the clipping threshold; seed: makes the run reproducible
    - callback: called as callback(step, loss) after every step (a progress bar, say)
    - model: a model to continue from (its vocabulary must cover the text; its cell is kept)
    - cell: "rnn" (the vanilla cell, hidden_activation applies), "lstm" or "gru", for a new model
    - stateful: contiguous windows, each starting from the last state of the one before
      (:func:`stream_batches`), instead of random windows from a<0> = 0 (the vanilla cell only)

    Returns:
    - the CharModel, its ``losses`` holding the loss of every step
    """
    text = load_corpus("names") if text is None else text
    if cell not in CELLS:
        raise ValueError(f"cell: expected one of {CELLS}, got {cell!r}")
    if model is None:
        vocab = Vocabulary.from_text(text)
        if cell == "rnn":
            parameters = initialize_parameters(n_a, vocab.size, vocab.size, seed=seed, dtype=dtype)
        else:
            init = initialize_lstm_parameters if cell == "lstm" else initialize_gru_parameters
            parameters = init(n_a, vocab.size, vocab.size, seed=seed)
            parameters = {k: v.astype(dtype) for k, v in parameters.items()}
        model = CharModel(parameters, vocab, hidden_activation, T_x=T_x, cell=cell)
    ids = model.vocab.encode(text)
    rng = np.random.default_rng(seed + 1)
    n_a = _n_a(model.parameters)
    a0 = np.zeros((n_a, m), dtype=model.parameters["by"].dtype)
    if stateful and model.cell != "rnn":
        raise ValueError(f"stateful: carried states are for cell='rnn', got cell={model.cell!r}")
    if stateful:
        stream = stream_batches(ids, m, T_x, "text")
    else:
        stream = ((x, y, True) for x, y in batches(ids, m, T_x, rng))
    a_last = a0
    for step in range(steps):
        x, y, fresh = next(stream)
        if model.cell != "rnn":
            loss = _gated_step(model, x, y, a0, learning_rate, max_norm)
            model.losses.append(loss)
            if callback is not None:
                callback(step, loss)
            continue
        loss, gradients, a_last = bptt(
            x,
            y,
            a0 if fresh else a_last,
            model.parameters,
            hidden_activation=model.hidden_activation,
        )
        gradients = clip_by_global_norm(gradients, max_norm)
        model.parameters = sgd_step(model.parameters, gradients, learning_rate)
        model.losses.append(loss)
        if callback is not None:
            callback(step, loss)
    return model


def evaluate(
    model: CharModel, text: str, m: int = 64, T_x: int | None = None, seed: int = 123
) -> tuple[float, float]:
    """Loss (summed over T_x, averaged over m) and perplexity on m random windows of ``text``."""
    T_x = T_x or model.T_x
    x, y = next(batches(model.vocab.encode(text), m, T_x, np.random.default_rng(seed)))
    a0 = np.zeros((_n_a(model.parameters), m), dtype=model.parameters["by"].dtype)
    if model.cell != "rnn":
        loss = (lstm_bptt if model.cell == "lstm" else gru_bptt)(x, y, a0, model.parameters)[0]
        return loss, perplexity(loss, T_x)
    loss = bptt(x, y, a0, model.parameters, hidden_activation=model.hidden_activation)[0]
    return loss, perplexity(loss, T_x)
