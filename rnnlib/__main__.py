"""Command line: train a character-level RNN on a corpus that ships with the install, and sample.

examples:
  python -m rnnlib train --steps 2000 --save names.npz      # trains on the shipped names corpus
  python -m rnnlib sample names.npz --temperature 0.7 -n 10
  python -m rnnlib train --cell lstm --steps 500            # the LSTM of lesson 7 (or gru, lesson 8)
  python -m rnnlib train --corpus docstrings --level word --steps 2000 --float32 --save words

The console script rnnlib is the same command. The loss it prints is the cross-entropy summed
over the T_x characters of a window and averaged over the m windows of a minibatch; the
perplexity, exp(loss / T_x), is per character (the vocabulary size for a uniform guess).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from rnnlib.charmodel import CharModel, evaluate, npz_path, train_char_model
from rnnlib.data import CORPORA, Vocabulary, load_corpus
from rnnlib.training import perplexity
from rnnlib.wordcli import (
    CHAR_DEFAULTS,
    WORD_DEFAULTS,
    docstrings_text,
    load_model,
    progress_bar,
    run_word,
)

EVALUATION_WINDOWS = 64  # the final evaluation batch (rnnlib.charmodel.evaluate)


def _integer(minimum: int):
    """An argparse type: an integer >= ``minimum``, or a message saying what was wrong."""
    what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value

    return parse


def _positive_float(text: str) -> float:
    """An argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def save_target(path: str) -> Path:
    """The file ``--save path`` will write (``.npz`` added as numpy adds it), checked before
    training: not a folder, in a folder that exists and can be written. Raises ValueError
    saying what is wrong."""
    given = Path(path)
    if path.endswith(("/", os.sep)) or given.name in ("", ".", "..") or given.is_dir():
        raise ValueError(f"{path} is a folder; give a file name, e.g. --save {given / 'model.npz'}")
    target = npz_path(given)
    if target.is_dir():
        raise ValueError(f"{target} is a folder; give another file name")
    folder = target.parent
    if not folder.is_dir():
        raise ValueError(f"{target}: the folder {folder} does not exist")
    try:  # the one sure test that the file can be written: write one next to it
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".rnnlib-write-test-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ValueError(
            f"{target}: cannot write in the folder {folder} ({exc.strerror})"
        ) from None
    if target.exists() and not os.access(target, os.W_OK):
        raise ValueError(f"{target} exists and cannot be overwritten")
    return target


def save_safely(model: CharModel, target: Path) -> tuple[Path, str | None]:
    """Save ``model`` to ``target``; if that fails, to a new file in the temporary folder (then the
    home folder). Returns (where it was written, the error that stopped ``target`` or None)."""
    try:
        return model.save(target), None
    except OSError as exc:
        error = f"{exc.strerror or exc}"
    for folder in (tempfile.gettempdir(), Path.home()):
        try:
            fd, rescue = tempfile.mkstemp(prefix="rnnlib-model-", suffix=".npz", dir=folder)
            os.close(fd)
            return model.save(rescue), error
        except OSError:
            continue
    raise OSError(f"could not write the model to {target} ({error}), nor to a temporary file")


def _load(parser: argparse.ArgumentParser, path: str) -> CharModel:
    """The model saved at ``path``, or exit with a message saying why it cannot be read."""
    given = Path(path)
    if not given.exists() and not npz_path(given).exists():
        parser.error(
            f"{path}: no such file; write one with: python -m rnnlib train --save {npz_path(given)}"
        )
    if given.is_dir():
        parser.error(f"{path} is a folder, not a model saved by rnnlib train --save")
    try:
        return load_model(path)
    except KeyError as exc:  # an .npz without the model's arrays
        parser.error(f"{path}: not a model saved by rnnlib train --save ({exc.args[0]})")
    except (OSError, ValueError, EOFError):  # numpy's own message suggests allow_pickle: no
        parser.error(f"{path}: not a model saved by rnnlib train --save (not an .npz archive)")


def _save(model, target: Path | None) -> int:
    """Save ``model`` to ``target`` (if given) and say where; returns the exit status."""
    if target is None:
        return 0
    written, error = save_safely(model, target)
    if error is None:
        print(f"saved to {written}")
        return 0
    print(
        f"could not write {target} ({error}); the model is saved in {written} instead:"
        f" move it, or sample it with: python -m rnnlib sample {written}",
        file=sys.stderr,
    )
    return 1


def _samples(model: CharModel, n: int, temperature: float, seed: int) -> None:
    # one seed per sample, drawn from --seed: seed k does not repeat seed 0's samples shifted by k
    for s in np.random.SeedSequence(seed).generate_state(n) if n else []:
        print(f"  {model.sample(length=40, temperature=temperature, seed=int(s))!r}")


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """The description as written (it has examples); options' help as written too."""


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser (every option's help says its meaning and its default)."""
    parser = argparse.ArgumentParser(
        prog="python -m rnnlib", description=__doc__, formatter_class=_HelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="{train,sample}")
    train = sub.add_parser(
        "train",
        help="train a character-level model on a shipped corpus",
        description="Train a character-level RNN with SGD and global-norm clipping, print its\n"
        "loss and perplexity, save it and print samples.",
        formatter_class=_HelpFormatter,
    )
    add = train.add_argument
    add(
        "--corpus",
        choices=(*CORPORA, "docstrings"),
        default="names",
        help="the text to learn: names (US census first names, one per line), python (a few "
        "standard-library modules' source) or docstrings (the standard library's docstrings) "
        "(default: %(default)s)",
    )
    add(
        "--level",
        choices=("char", "word"),
        default="char",
        help="model characters, or words (--corpus docstrings only: a 10,000-word vocabulary) "
        "(default: %(default)s)",
    )
    add(
        "--stateful",
        action="store_true",
        help="characters: contiguous windows, each from the last state of the one before "
        "(default: random windows from a<0> = 0; words are always stateful)",
    )
    add(
        "--stateless",
        action="store_true",
        help="words: start every window from a<0> = 0 (default: stateful)",
    )
    add(
        "--steps",
        type=_integer(1),
        default=2000,
        help="how many SGD steps (minibatches) to train (default: %(default)s)",
    )
    add(
        "--hidden",
        type=_integer(1),
        default=None,
        help="n_a, hidden units (default: 64 for characters, 100 for words)",
    )
    add(
        "--seq-len",
        type=_integer(1),
        default=25,
        help="T_x, characters per training window (default: %(default)s)",
    )
    add(
        "--batch",
        type=_integer(1),
        default=32,
        help="m, windows per minibatch (default: %(default)s)",
    )
    add(
        "--lr",
        type=_positive_float,
        default=None,
        help="the SGD learning rate (default: 0.1 for characters, 0.3 for words)",
    )
    add(
        "--clip",
        type=_positive_float,
        default=5.0,
        help="clip the gradient to this global norm (default: %(default)s)",
    )
    add(
        "--activation",
        choices=("tanh", "relu"),
        default="tanh",
        help="the hidden layer's activation (default: %(default)s)",
    )
    add(
        "--cell",
        choices=("rnn", "lstm", "gru"),
        default="rnn",
        help="the recurrent cell of a new model: the vanilla RNN (its --activation applies), the "
        "LSTM of lesson 7 or the GRU of lesson 8; a resumed model keeps its own (default: "
        "%(default)s)",
    )
    add("--float32", action="store_true", help="train in float32 (default: float64)")
    add(
        "--seed",
        type=_integer(0),
        default=0,
        help="seeds the weights, the batches and the samples: the same seed reproduces the same "
        "run (default: %(default)s)",
    )
    add(
        "--resume",
        metavar="NPZ",
        help="continue training a model saved by --save (default: a new model)",
    )
    add(
        "--save",
        metavar="NPZ",
        help="write the trained model to this file; .npz is added if the name lacks it; checked "
        "before training (default: not saved)",
    )
    add(
        "--samples",
        type=_integer(0),
        default=5,
        help="how many samples to print after training (default: %(default)s)",
    )
    add(
        "--temperature",
        type=_positive_float,
        default=0.7,
        help="sampling temperature: below 1 more typical samples, above 1 more varied "
        "(default: %(default)s)",
    )
    add("--no-progress", action="store_true", help="no progress bar (default: one on stderr)")
    train.set_defaults(subparser=train)
    samp = sub.add_parser(
        "sample",
        help="sample text from a saved model",
        description="Print samples drawn from a model saved by train --save.",
        formatter_class=_HelpFormatter,
    )
    samp.add_argument(
        "model",
        metavar="NPZ",
        help="a model written by train --save (model finds model.npz; no default)",
    )
    samp.add_argument(
        "-n", type=_integer(0), default=10, help="how many samples (default: %(default)s)"
    )
    samp.add_argument(
        "--temperature",
        type=_positive_float,
        default=0.7,
        help="sampling temperature: below 1 more typical samples, above 1 more varied "
        "(default: %(default)s)",
    )
    samp.add_argument(
        "--seed",
        type=_integer(0),
        default=0,
        help="the same seed draws the same samples (default: %(default)s)",
    )
    samp.set_defaults(subparser=samp)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m rnnlib`` and the ``rnnlib`` console script."""
    args = build_parser().parse_args(argv)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # installed without its dependencies: BLAS keeps its own threads
        return _run(args)
    # the model's matrices are small (n_a x vocabulary): BLAS threads only wait on each other,
    # and on a busy 2-core machine they made training ten times slower than one thread
    with threadpool_limits(limits=1, user_api="blas"):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    """The command of the parsed ``args``; returns the exit status."""
    sub = args.subparser  # the command's own parser: its usage goes with its errors

    if args.command == "sample":
        model = _load(sub, args.model)
        print(f"{args.n} samples at temperature {args.temperature}:")
        _samples(model, args.n, args.temperature, args.seed)
        return 0

    target = None
    if args.save:
        try:
            target = save_target(args.save)  # before training: a finished run is never lost
        except ValueError as exc:
            sub.error(f"argument --save: {exc}")
    for key, value in (WORD_DEFAULTS if args.level == "word" else CHAR_DEFAULTS).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.level == "word":
        return run_word(args, sub, lambda model: _save(model, target))
    text = docstrings_text() if args.corpus == "docstrings" else load_corpus(args.corpus)
    model = _load(sub, args.resume) if args.resume else None
    vocab = model.vocab if model is not None else Vocabulary.from_text(text)
    print(f"corpus {args.corpus!r}: {len(text):,} characters, vocabulary {vocab.size}")
    print(
        f"loss: the cross-entropy summed over the T_x = {args.seq_len} characters of a window, "
        f"averaged over the m = {args.batch} windows of a batch; "
        "perplexity = exp(loss / T_x), per character"
    )
    if model is None and args.cell != "rnn":
        print(
            f"cell: {args.cell}, rnnlib/{args.cell}.py's equations on the fast path "
            "(rnnlib/engine_gated.py)"
        )
    if model is None:
        print(
            f"start: loss {args.seq_len * np.log(vocab.size):.3f} (uniform guess), "
            f"perplexity {vocab.size}"
        )
    else:
        print(f"start: the model of {args.resume}, trained {len(model.losses)} steps")
    sys.stdout.flush()  # all of the above before the progress bar, even through a pipe
    bar, progress, recent = progress_bar(args.steps, args.seq_len, args.no_progress)

    try:
        model = train_char_model(
            text,
            steps=args.steps,
            n_a=args.hidden,
            T_x=args.seq_len,
            m=args.batch,
            learning_rate=args.lr,
            max_norm=args.clip,
            seed=args.seed,
            hidden_activation=args.activation,
            dtype=np.float32 if args.float32 else np.float64,
            callback=progress,
            model=model,
            cell=args.cell,
            stateful=args.stateful,
        )
    except ValueError as exc:  # e.g. a resumed model whose vocabulary misses a character
        bar.close()
        sub.error(str(exc))
    bar.close()
    mean = float(np.mean(recent))
    print(
        f"after {args.steps} steps: loss {mean:.2f}, perplexity {perplexity(mean, args.seq_len):.2f}"
        f" (the mean of the last {len(recent)} training batches, as on the progress bar)"
    )
    loss, ppl = evaluate(model, text, m=EVALUATION_WINDOWS, T_x=args.seq_len)
    print(
        f"on {EVALUATION_WINDOWS} fixed random windows of the corpus: loss {loss:.2f}, "
        f"perplexity {ppl:.2f} (other windows than the batches above, so not the same figure)"
    )
    status = _save(model, target)
    print(f"{args.samples} samples at temperature {args.temperature}:")
    _samples(model, args.samples, args.temperature, args.seed)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
