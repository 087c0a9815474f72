"""A word-level corpus that arrives with Python itself: the docstrings of the standard library.

The text is read from the running interpreter's own source files (``sysconfig``'s ``stdlib``
folder, without the test suites and without site-packages), so it needs no download and no
package; its size depends on the Python version (measure it with :func:`corpus_statistics`).

- :func:`load_docstrings`: module name -> its docstrings (module, class and function docstrings,
  interactive ``>>>`` examples and their output removed: the English prose that remains)
- :func:`tokenize`: lower-case words, each punctuation mark a token of its own
- :class:`WordVocabulary`: the most frequent words (at most ``max_size``, 10,000 by default) and
  ``<unk>`` for every other word; ``<eos>`` ends each docstring
- :func:`split_by_module`: a deterministic train/validation split, whole top-level packages at a
  time (a hash of the name, so it does not depend on which other modules exist)
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
import re
import sys
import sysconfig
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

EOS = "<eos>"  # the end of a docstring: the model learns where one stops
UNK = "<unk>"  # every word outside the vocabulary
MAX_VOCABULARY = 10_000
VALIDATION_BUCKETS = 10  # a top-level package is in validation if crc32(name) % 10 == 0
_SKIPPED = frozenset(
    {"site-packages", "dist-packages", "test", "tests", "idle_test", "__pycache__"}
)
_TOKEN = re.compile(r"[a-z0-9_]+(?:'[a-z]+)?|[^\sa-z0-9_]")
_NO_SPACE_BEFORE = frozenset(".,;:!?)]}'")
_NO_SPACE_AFTER = frozenset("([{")


def stdlib_files(root: str | Path | None = None) -> list[tuple[str, Path]]:
    """The standard library's Python source files with their module names, sorted by name.

    Inputs:
    - root: the standard library's folder (default: the running interpreter's)

    Returns:
    - (module name, path) pairs, e.g. ("email.parser", .../email/parser.py); test suites and
      site-packages are left out
    """
    root = Path(sysconfig.get_paths()["stdlib"] if root is None else root)
    found = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [d for d in subfolders if d not in _SKIPPED and "-" not in d]
        for file in files:
            if not file.endswith(".py"):
                continue
            parts = (Path(folder) / file).relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if parts and not any(p.startswith("test_") for p in parts):
                found.append((".".join(parts), Path(folder) / file))
    return sorted(found)


def without_examples(doc: str) -> str:
    """``doc`` without its interactive examples: each ``>>>`` line, its ``...`` continuations and
    the output printed below it (up to the next blank line) are removed."""
    kept, in_example = [], False
    for line in doc.splitlines():
        stripped = line.strip()
        if stripped.startswith(">>>"):
            in_example = True
        elif not stripped:
            in_example = False
        if not in_example and (stripped or (kept and kept[-1].strip())):
            kept.append(line)  # one blank line where an example was
    return "\n".join(kept).strip()


def docstrings(source: str) -> list[str]:
    """The docstrings of a module's source, in the order of the file: the module's, then each
    class's and function's (interactive examples removed, empty ones dropped).

    Inputs:
    - source: Python source code

    Returns:
    - the docstrings, a list of str (empty if the source does not parse)
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    nodes = [
        node
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    nodes.sort(key=lambda node: getattr(node, "lineno", 0))
    found = (without_examples(ast.get_docstring(node) or "") for node in nodes)
    return [doc for doc in found if doc]


def cache_file(files: list[tuple[str, Path]]) -> Path:
    """Where :func:`load_docstrings` keeps what it extracted from these files: the user's cache
    folder, under a name that changes with the interpreter and with any file's size or time."""
    key = hashlib.sha256(sys.version.encode())
    for name, path in files:
        info = path.stat()
        key.update(f"{name}\0{path}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rnnlib"
    return folder / f"docstrings-{key.hexdigest()[:16]}.json"


@functools.lru_cache(maxsize=4)
def load_docstrings(root: str | None = None, cache: bool = True) -> dict[str, tuple[str, ...]]:
    """Every standard-library module's docstrings, read from its source file.

    Parsing the 12 MB of source takes seconds, so the result is kept in the user's cache folder
    (:func:`cache_file`) and read from there while the source files are unchanged.

    Inputs:
    - root: the standard library's folder (default: the running interpreter's)
    - cache: read and write the cache file (False: always parse, write nothing)

    Returns:
    - module name -> its docstrings (a tuple of str), modules sorted by name, those without
      docstrings left out
    """
    files = stdlib_files(root)
    cached = cache_file(files)
    if cache:
        try:
            return {k: tuple(v) for k, v in json.loads(cached.read_text("utf-8")).items()}
        except (OSError, ValueError, AttributeError):
            pass  # no cache yet, or unreadable: parse
    corpus = {}
    for name, path in files:
        found = docstrings(path.read_text(encoding="utf-8", errors="replace"))
        if found:
            corpus[name] = tuple(found)
    if cache:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            partial = cached.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps(corpus), "utf-8")
            partial.replace(cached)  # whole or not at all, even with two writers
        except OSError:
            pass  # a read-only home: parse again next time
    return corpus


def tokenize(text: str) -> list[str]:
    """Lower-case words (letters, digits, underscores and an apostrophe inside: "don't") and
    each other non-space character as a token of its own: "Return x." -> ["return", "x", "."].

    Inputs:
    - text: any string

    Returns:
    - the tokens, a list of str
    """
    return _TOKEN.findall(text.lower())


def detokenize(tokens: Iterable[str]) -> str:
    """Tokens joined by spaces, with no space before closing punctuation nor after an opening
    bracket; ``<eos>`` becomes a newline."""
    out: list[str] = []
    for token in tokens:
        if token == EOS:
            out.append("\n")
        elif not out or out[-1] == "\n" or out[-1][-1] in _NO_SPACE_AFTER:
            out.append(token)
        elif token in _NO_SPACE_BEFORE:
            out[-1] += token
        else:
            out.append(" " + token)
    return "".join(out)


def corpus_tokens(
    corpus: dict[str, Sequence[str]], modules: Iterable[str] | None = None
) -> list[str]:
    """The tokens of the docstrings of ``modules`` (default: all), in order, each docstring
    followed by ``<eos>``."""
    tokens: list[str] = []
    for name in corpus if modules is None else modules:
        for doc in corpus[name]:
            tokens.extend(tokenize(doc))
            tokens.append(EOS)
    return tokens


def is_validation(module: str) -> bool:
    """Whether ``module`` is held out: its top-level package's crc32 is 0 modulo 10."""
    top = module.split(".")[0]
    return zlib.crc32(top.encode()) % VALIDATION_BUCKETS == 0


def split_by_module(modules: Iterable[str]) -> tuple[list[str], list[str]]:
    """The train and validation modules: whole top-level packages go to one side (email.parser
    with email.message), chosen by a hash of the name, the same on every machine and run.

    Inputs:
    - modules: module names

    Returns:
    - (train modules, validation modules), each in the given order
    """
    modules = list(modules)
    return (
        [m for m in modules if not is_validation(m)],
        [m for m in modules if is_validation(m)],
    )


@dataclass(frozen=True)
class WordVocabulary:
    """Words with ids: ``<eos>`` is 0, ``<unk>`` is 1, then the words by falling frequency."""

    words: tuple[str, ...]

    @classmethod
    def from_tokens(cls, tokens: Iterable[str], max_size: int = MAX_VOCABULARY) -> WordVocabulary:
        """The ``max_size - 2`` most frequent tokens (ties: alphabetical), after ``<eos>``, ``<unk>``.

        Inputs:
        - tokens: the training text's tokens
        - max_size: the vocabulary's size at most, the two special tokens included (>= 2)
        """
        if isinstance(max_size, bool) or not isinstance(max_size, (int, np.integer)):
            raise ValueError(f"max_size: expected an integer >= 2, got {max_size!r}")
        if max_size < 2:
            raise ValueError(
                f"max_size: expected an integer >= 2 (<eos> and <unk> take two ids), got {max_size}"
            )
        counts = Counter(t for t in tokens if t not in (EOS, UNK))
        ranked = sorted(counts, key=lambda w: (-counts[w], w))[: int(max_size) - 2]
        return cls((EOS, UNK, *ranked))

    @property
    def size(self) -> int:
        return len(self.words)

    @functools.cached_property
    def index(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.words)}

    def encode(self, tokens: Iterable[str]) -> np.ndarray:
        """Token ids, shape (number of tokens,); a word outside the vocabulary gets ``<unk>``'s id."""
        index, unk = self.index, self.index[UNK]
        return np.fromiter((index.get(t, unk) for t in tokens), dtype=np.int64)

    def decode(self, ids: Iterable[int]) -> str:
        """The text of a sequence of ids (:func:`detokenize` of their words)."""
        return detokenize(self.words[int(i)] for i in ids)


@dataclass(frozen=True)
class WordCorpus:
    """The docstrings corpus split by module, with the vocabulary of its training part."""

    vocab: WordVocabulary
    train: np.ndarray  # token ids of the training modules' docstrings
    validation: np.ndarray  # token ids of the held-out modules' docstrings
    train_modules: tuple[str, ...]
    validation_modules: tuple[str, ...]


def load_word_corpus(max_size: int = MAX_VOCABULARY, root: str | None = None) -> WordCorpus:
    """The docstrings of the standard library, tokenized, split by module and encoded with the
    training part's vocabulary (at most ``max_size`` words, ``<eos>`` and ``<unk>`` included)."""
    corpus = load_docstrings(root)
    train_modules, validation_modules = split_by_module(corpus)
    train_tokens = corpus_tokens(corpus, train_modules)
    vocab = WordVocabulary.from_tokens(train_tokens, max_size)
    return WordCorpus(
        vocab,
        vocab.encode(train_tokens),
        vocab.encode(corpus_tokens(corpus, validation_modules)),
        tuple(train_modules),
        tuple(validation_modules),
    )


def corpus_statistics(root: str | None = None) -> dict[str, int]:
    """The size of the docstrings corpus on this interpreter: modules, docstrings, characters,
    UTF-8 bytes, whitespace-separated words, tokens and distinct tokens (lower case)."""
    corpus = load_docstrings(root)
    text = "\n".join(doc for docs in corpus.values() for doc in docs)
    tokens = tokenize(text)
    return {
        "modules": len(corpus),
        "docstrings": sum(len(docs) for docs in corpus.values()),
        "characters": len(text),
        "bytes": len(text.encode()),
        "words": len(text.split()),
        "tokens": len(tokens),
        "distinct tokens": len(set(tokens)),
        "distinct words": len({t for t in tokens if t[0].isalpha()}),
    }
