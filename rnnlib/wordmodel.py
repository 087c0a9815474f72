"""A word-level language model at the seed's sizes, trained statefully, and two count baselines.

The vocabulary is the docstrings corpus's 10,000 words (rnnlib.corpus), so n_x = n_y = 10,000 and
with n_a = 100 the stacked Wa = [Waa : Wax] is 100 × 10,100. Every step is BPTT on token ids
(rnnlib.engine, the fast path): Wax x<t> is the column Wax[:, id], never a one-hot product.

Stateful training (the windowed form of truncated BPTT): the text is cut into m contiguous
tracks, one per row of the minibatch; the windows walk along the tracks in order, and the last
hidden state of one window, a<T_x> (bptt's ``a_last``), is the next window's a<0>, held constant:
the gradient stops at the window's edge, the information does not.

Perplexity is per token: exp(total cross-entropy / number of predicted tokens).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnnlib.charmodel import npz_path, stream_batches, tracks
from rnnlib.corpus import EOS, WordCorpus, WordVocabulary
from rnnlib.engine import bptt  # the fast path: token ids (arguments built here, not checked)
from rnnlib.forward import ACTIVATIONS
from rnnlib.training import clip_by_global_norm, initialize_parameters, sample, sgd_step

__all__ = [
    "WordModel",
    "bigram_perplexity",
    "evaluate_stream",
    "stream_batches",
    "tracks",
    "train_word_model",
    "unigram_perplexity",
]


@dataclass
class WordModel:
    """Parameters, their vocabulary and the training history (loss per step, summed over T_x)."""

    parameters: dict[str, np.ndarray]
    vocab: WordVocabulary
    hidden_activation: str = "tanh"
    losses: list[float] = field(default_factory=list)
    T_x: int = 25

    def sample(self, length: int = 30, temperature: float = 1.0, seed: int = 0) -> str:
        """Text drawn from the model after ``<eos>`` (a docstring's start), up to the next one."""
        eos = self.vocab.index[EOS]
        ids = sample(
            self.parameters,
            eos,
            length,
            temperature,
            seed,
            stop_id=eos,
            hidden_activation=self.hidden_activation,
        )
        return self.vocab.decode(ids)

    def save(self, path: str | Path) -> Path:
        """Write parameters and vocabulary to a ``.npz`` file; returns the file's path."""
        path = npz_path(path)
        np.savez(
            path,
            **self.parameters,
            words=np.array(self.vocab.words),
            hidden_activation=np.array(self.hidden_activation),
            losses=np.array(self.losses),
            T_x=np.array(self.T_x),
        )
        return path

    @classmethod
    def load(cls, path: str | Path) -> WordModel:
        """Read a model written by :meth:`save`."""
        path = Path(path)
        if not path.exists() and npz_path(path).exists():
            path = npz_path(path)
        with np.load(path, allow_pickle=False) as data:
            parameters = {k: data[k] for k in ("Waa", "Wax", "Wya", "ba", "by")}
            return cls(
                parameters,
                WordVocabulary(tuple(str(w) for w in data["words"])),
                str(data["hidden_activation"]),
                list(map(float, data["losses"])),
                int(data["T_x"]),
            )


def train_word_model(
    corpus: WordCorpus,
    steps: int = 500,
    n_a: int = 100,
    T_x: int = 25,
    m: int = 32,
    learning_rate: float = 0.1,
    max_norm: float = 5.0,
    seed: int = 0,
    stateful: bool = True,
    dtype: type = np.float64,
    callback: Callable[[int, float], None] | None = None,
    model: WordModel | None = None,
) -> WordModel:
    """Train (or continue training) the word model on ``corpus.train`` with SGD and clipping.

    Inputs:
    - corpus: the word corpus (rnnlib.corpus.load_word_corpus), its vocabulary sets n_x = n_y
    - steps: SGD steps; n_a: hidden units; T_x: steps per window; m: tracks (rows of a batch)
    - learning_rate: η; max_norm: the clipping threshold; seed: the initial weights
    - stateful: carry a<T_x> of each window into the next (True), or start each from a<0> = 0
    - callback: called as callback(step, loss) after every step; model: a model to continue

    Returns:
    - the WordModel, its ``losses`` holding the loss of every step
    """
    if model is None:
        size = corpus.vocab.size
        parameters = initialize_parameters(n_a, size, size, seed=seed, dtype=dtype)
        model = WordModel(parameters, corpus.vocab, T_x=T_x)
    n_a = model.parameters["Waa"].shape[0]
    zero = np.zeros((n_a, m), dtype=model.parameters["Waa"].dtype)
    a = zero
    stream = stream_batches(corpus.train, m, T_x, "corpus")
    for step in range(steps):
        x, y, fresh = next(stream)
        a0 = zero if fresh or not stateful else a
        loss, gradients, a = bptt(
            x, y, a0, model.parameters, hidden_activation=model.hidden_activation
        )
        gradients = clip_by_global_norm(gradients, max_norm)
        model.parameters = sgd_step(model.parameters, gradients, learning_rate)
        model.losses.append(loss)
        if callback is not None:
            callback(step, loss)
    return model


def forward_loss(
    parameters: dict[str, np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    a0: np.ndarray,
    hidden_activation: str = "tanh",
) -> tuple[float, np.ndarray]:
    """Σ over all m·T_x predictions of -log ŷ[true] (not averaged), and a<T_x>: no gradients.

    Inputs:
    - x, y: token ids of shape (m, T_x); a0: the state before the window, (n_a, m)

    Returns:
    - (the summed cross-entropy, a<T_x> of shape (n_a, m))
    """
    Waa, Wax, Wya, ba, by = (parameters[k] for k in ("Waa", "Wax", "Wya", "ba", "by"))
    g1 = ACTIVATIONS[hidden_activation]
    a, total = a0, 0.0
    states = []
    for t in range(x.shape[1]):
        a = g1(Waa @ a + Wax[:, x[:, t]] + ba)
        states.append(a)
    H = np.concatenate(states, axis=1)  # (n_a, T_x·m), ordered (t, j)
    o = Wya @ H + by  # (n_y, T_x·m)
    o_max = o.max(axis=0)
    log_z = o_max + np.log(np.exp(o - o_max).sum(axis=0))
    targets = y.T.reshape(-1)
    total = float((log_z - o[targets, np.arange(o.shape[1])]).sum())
    return total, a


def evaluate_stream(
    model: WordModel | dict[str, np.ndarray],
    ids: np.ndarray,
    m: int = 32,
    T_x: int = 25,
    stateful: bool = True,
    max_tokens: int | None = None,
) -> float:
    """Per-token perplexity of the model on ``ids``, read as m contiguous tracks in windows of
    T_x, the state carried across windows (``stateful``) or reset to 0 at each.

    Inputs:
    - model: a WordModel (or its parameters, tanh); ids: token ids, shape (N,)
    - m, T_x: the tracks and the window; max_tokens: read only the first this-many tokens

    Returns:
    - exp(Σ -log ŷ[true] / number of predictions); the predictions are those of :func:`pairs`
    """
    parameters = model if isinstance(model, dict) else model.parameters
    activation = "tanh" if isinstance(model, dict) else model.hidden_activation
    ids = ids if max_tokens is None else ids[:max_tokens]
    rows = tracks(ids, m, 1, "ids")  # (m, L)
    zero = np.zeros((parameters["Waa"].shape[0], m), dtype=parameters["Waa"].dtype)
    a, total = zero, 0.0
    for start in range(0, rows.shape[1] - 1, T_x):
        x = rows[:, start : start + T_x]
        y = rows[:, start + 1 : start + T_x + 1]
        x = x[:, : y.shape[1]]
        loss, a = forward_loss(parameters, x, y, a if stateful else zero, activation)
        total += loss
    return float(np.exp(total / (m * (rows.shape[1] - 1))))


def pairs(ids: np.ndarray, m: int = 32, max_tokens: int | None = None) -> tuple[np.ndarray, ...]:
    """The (previous, next) token ids that :func:`evaluate_stream` predicts, flattened."""
    ids = ids if max_tokens is None else ids[:max_tokens]
    rows = tracks(ids, m, 1, "ids")
    return rows[:, :-1].reshape(-1), rows[:, 1:].reshape(-1)


def unigram_perplexity(
    train: np.ndarray, ids: np.ndarray, size: int, m: int = 32, max_tokens: int | None = None
) -> float:
    """Perplexity of the add-one unigram model of ``train``, p(w) = (c(w) + 1) / (N + V), on the
    predictions of ``ids`` that :func:`evaluate_stream` makes (the same tokens)."""
    counts = np.bincount(train, minlength=size).astype(np.float64)
    p = (counts + 1) / (counts.sum() + size)
    _, nxt = pairs(ids, m, max_tokens)
    return float(np.exp(-np.log(p[nxt]).mean()))


def bigram_perplexity(
    train: np.ndarray, ids: np.ndarray, size: int, m: int = 32, max_tokens: int | None = None
) -> float:
    """Perplexity of the add-one bigram model of ``train``, p(w | v) = (c(v w) + 1) / (c(v) + V),
    on the same predictions as :func:`evaluate_stream` (counts kept sparse: V² is 10⁸)."""
    keys, counts = np.unique(train[:-1] * size + train[1:], return_counts=True)
    context = np.bincount(train[:-1], minlength=size)
    prev, nxt = pairs(ids, m, max_tokens)
    query = prev * size + nxt
    at = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    pair_counts = np.where(keys[at] == query, counts[at], 0)
    p = (pair_counts + 1) / (context[prev] + size)
    return float(np.exp(-np.log(p).mean()))
