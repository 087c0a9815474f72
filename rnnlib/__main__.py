"""Command line: ``python -m rnnlib train`` and ``python -m rnnlib sample``.

    python -m rnnlib train --steps 2000 --save names.npz      # trains on the shipped names corpus
    python -m rnnlib sample names.npz --temperature 0.7 -n 10

The console script ``rnnlib`` is the same command.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from rnnlib.charmodel import CharModel, evaluate, train_char_model
from rnnlib.data import CORPORA, load_corpus
from rnnlib.training import perplexity


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


def _load(parser: argparse.ArgumentParser, path: str) -> CharModel:
    """The model saved at ``path``, or exit with a message saying why it cannot be read."""
    try:
        return CharModel.load(path)
    except FileNotFoundError:
        parser.error(f"{path}: no such file; write one with: python -m rnnlib train --save {path}")
    except (OSError, KeyError, ValueError) as exc:
        parser.error(f"{path}: not a model saved by rnnlib train --save ({exc})")


def _samples(model: CharModel, n: int, temperature: float, seed: int) -> None:
    for i in range(n):
        print(f"  {model.sample(length=40, temperature=temperature, seed=seed + i)!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rnnlib",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train a character-level model on a shipped corpus")
    train.add_argument("--corpus", choices=CORPORA, default="names")
    train.add_argument("--steps", type=_integer(1), default=2000, help="SGD steps")
    train.add_argument("--hidden", type=_integer(1), default=64, help="n_a, hidden units")
    train.add_argument("--seq-len", type=_integer(1), default=25, help="T_x, chars per window")
    train.add_argument("--batch", type=_integer(1), default=32, help="m, windows per minibatch")
    train.add_argument("--lr", type=_positive_float, default=0.1, help="the SGD learning rate")
    train.add_argument("--clip", type=_positive_float, default=5.0, help="global-norm threshold")
    train.add_argument("--activation", choices=("tanh", "relu"), default="tanh")
    train.add_argument("--float32", action="store_true", help="train in float32 (default float64)")
    train.add_argument("--seed", type=int, default=0, help="the same seed reproduces the same run")
    train.add_argument("--resume", metavar="NPZ", help="continue from a saved model")
    train.add_argument("--save", metavar="NPZ", help="write the trained model here")
    train.add_argument(
        "--samples", type=_integer(0), default=5, help="samples to print after training"
    )
    train.add_argument("--temperature", type=_positive_float, default=0.7)
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    samp = sub.add_parser("sample", help="sample text from a saved model")
    samp.add_argument("model", metavar="NPZ")
    samp.add_argument("-n", type=_integer(0), default=10, help="how many samples")
    samp.add_argument("--temperature", type=_positive_float, default=0.7)
    samp.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    if args.command == "sample":
        model = _load(samp, args.model)
        print(f"{args.n} samples at temperature {args.temperature}:")
        _samples(model, args.n, args.temperature, args.seed)
        return 0

    text = load_corpus(args.corpus)
    model = _load(train, args.resume) if args.resume else None
    from tqdm import tqdm

    bar = tqdm(total=args.steps, disable=args.no_progress, unit="step", file=sys.stderr)

    def progress(step: int, loss: float) -> None:
        bar.update(1)
        if step % 20 == 0:
            bar.set_postfix(loss=f"{loss:.2f}", perplexity=f"{perplexity(loss, args.seq_len):.2f}")

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
        )
    except ValueError as exc:  # e.g. a resumed model whose vocabulary misses a character
        bar.close()
        train.error(str(exc))
    bar.close()
    vocab_size = model.vocab.size
    loss, ppl = evaluate(model, text, T_x=args.seq_len)
    print(f"corpus {args.corpus!r}: {len(text):,} characters, vocabulary {vocab_size}")
    print(
        f"start: loss {args.seq_len * np.log(vocab_size):.3f} (uniform guess), perplexity {vocab_size}"
    )
    print(f"after {len(model.losses)} steps: loss {loss:.3f}, perplexity {ppl:.2f} (per character)")
    if args.save:
        model.save(args.save)
        print(f"saved to {args.save}")
    print(f"{args.samples} samples at temperature {args.temperature}:")
    _samples(model, args.samples, args.temperature, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
