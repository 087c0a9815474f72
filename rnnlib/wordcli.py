"""``python -m rnnlib train --corpus docstrings --level word``: the word model on the command line.

Kept apart from rnnlib/__main__.py, which parses the options and calls :func:`run_word`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from rnnlib.charmodel import CharModel, npz_path
from rnnlib.corpus import load_docstrings, load_word_corpus
from rnnlib.training import perplexity
from rnnlib.wordmodel import (
    WordModel,
    bigram_perplexity,
    evaluate_stream,
    train_word_model,
    unigram_perplexity,
)

WORD_DEFAULTS = {"hidden": 100, "lr": 0.3}  # the seed's n_a; a rate that trains at n_x = 10,000
CHAR_DEFAULTS = {"hidden": 64, "lr": 0.1}
PROGRESS_WINDOW = 20  # the progress bar shows the mean loss of the last this-many batches


def progress_bar(steps: int, seq_len: int, disable: bool, decimals: int = 2):
    """A tqdm bar on stderr for a training run of ``steps`` steps, the callback the trainers call
    after each step (step, loss), and the list of the recent losses it shows the mean of (with
    the perplexity of that mean)."""
    from tqdm import tqdm

    bar = tqdm(total=steps, disable=disable, unit="step", file=sys.stderr)
    recent: list[float] = []

    def progress(step: int, loss: float) -> None:
        recent.append(loss)
        del recent[:-PROGRESS_WINDOW]
        bar.update(1)
        if (step + 1) % PROGRESS_WINDOW == 0 or step + 1 == steps:
            mean = float(np.mean(recent))
            ppl = perplexity(mean, seq_len)
            bar.set_postfix(loss=f"{mean:.2f}", perplexity=f"{ppl:.{decimals}f}")

    return bar, progress, recent


def docstrings_text() -> str:
    """The docstrings corpus as one string (for the character model on it)."""
    return "\n".join(doc for docs in load_docstrings().values() for doc in docs) + "\n"


def load_model(path: str | Path) -> CharModel | WordModel:
    """A model saved by ``train --save``: a word model if the file holds words, else characters."""
    given = Path(path)
    if not given.exists() and npz_path(given).exists():
        given = npz_path(given)
    with np.load(given, allow_pickle=False) as data:
        is_word = "words" in data.files
    return WordModel.load(given) if is_word else CharModel.load(given)


def run_word(args: argparse.Namespace, sub: argparse.ArgumentParser, save) -> int:
    """Train the word model from the parsed ``args``, report perplexities, save and sample.
    ``save(model)`` writes the model (the character command's saving, reused); returns the status."""
    if args.corpus != "docstrings":
        sub.error(f"argument --level: word needs --corpus docstrings, got --corpus {args.corpus}")
    if getattr(args, "cell", "rnn") != "rnn":
        sub.error(f"argument --cell: the word model is the vanilla RNN, got --cell {args.cell}")
    started = time.perf_counter()
    corpus = load_word_corpus()
    model = load_model(args.resume) if args.resume else None
    if model is not None and not isinstance(model, WordModel):
        sub.error(f"argument --resume: {args.resume} is a character model, not a word model")
    if model is not None and model.vocab != corpus.vocab:
        sub.error(f"argument --resume: {args.resume} has another vocabulary than this corpus")
    V = corpus.vocab.size
    print(
        f"corpus 'docstrings': the standard library's docstrings, {len(corpus.train):,} training "
        f"tokens ({len(corpus.train_modules)} modules) and {len(corpus.validation):,} validation "
        f"tokens ({len(corpus.validation_modules)} modules), vocabulary {V:,} "
        f"(read in {time.perf_counter() - started:.1f} s)"
    )
    print(
        f"loss: the cross-entropy summed over the T_x = {args.seq_len} words of a window, "
        f"averaged over the m = {args.batch} tracks; perplexity = exp(loss / T_x), per token"
    )
    print(
        "baselines on the validation tokens: add-one unigram perplexity "
        f"{unigram_perplexity(corpus.train, corpus.validation, V, args.batch):.1f}, add-one bigram "
        f"{bigram_perplexity(corpus.train, corpus.validation, V, args.batch):.1f}"
    )
    if model is None:
        print(f"start: loss {args.seq_len * np.log(V):.3f} (uniform guess), perplexity {V}")
    else:
        print(f"start: the model of {args.resume}, trained {len(model.losses)} steps")
    sys.stdout.flush()
    bar, progress, recent = progress_bar(args.steps, args.seq_len, args.no_progress, decimals=1)

    started = time.perf_counter()
    model = train_word_model(
        corpus,
        steps=args.steps,
        n_a=args.hidden,
        T_x=args.seq_len,
        m=args.batch,
        learning_rate=args.lr,
        max_norm=args.clip,
        seed=args.seed,
        stateful=not args.stateless,
        dtype=np.float32 if args.float32 else np.float64,
        callback=progress,
        model=model,
    )
    elapsed = time.perf_counter() - started
    bar.close()
    mean = float(np.mean(recent))
    print(
        f"after {args.steps} steps ({1000 * elapsed / args.steps:.0f} ms per step): training "
        f"perplexity {perplexity(mean, args.seq_len):.1f} (the last {len(recent)} batches)"
    )
    print(
        f"validation perplexity {evaluate_stream(model, corpus.validation, args.batch, args.seq_len):.1f}"
        f" (all {len(corpus.validation):,} held-out tokens, the state carried across windows)"
    )
    status = save(model)
    print(f"{args.samples} samples at temperature {args.temperature}:")
    for s in np.random.SeedSequence(args.seed).generate_state(args.samples) if args.samples else []:
        print(f"  {model.sample(length=40, temperature=args.temperature, seed=int(s))!r}")
    return status
