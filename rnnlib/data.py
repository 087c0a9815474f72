"""Real text that arrives with the install: no download at run time.

- "names": the US census first-name lists shipped by the PyPI package ``names`` (about 5,000
  names, one per line, lower-cased: a 27-character vocabulary, like the dinosaur-names exercise).
- "python": the source of a few modules of the running interpreter's standard library.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CORPORA = ("names", "python")
_STDLIB_MODULES = ("textwrap", "string", "functools", "bisect", "heapq", "fnmatch", "shlex")


def load_corpus(name: str = "names") -> str:
    """The text of a shipped corpus.

    Inputs:
    - name: "names" (first names, one per line, lower case) or "python" (standard-library source)

    Returns:
    - the corpus as one string
    """
    if name == "names":
        spec = importlib.util.find_spec("names")
        if spec is None or spec.origin is None:
            raise ModuleNotFoundError(
                "the 'names' corpus needs the PyPI package 'names': pip install names"
            )
        folder = Path(spec.origin).parent
        seen: dict[str, None] = {}
        for file in ("dist.female.first", "dist.male.first"):
            for line in (folder / file).read_text().splitlines():
                if line.strip():
                    seen.setdefault(line.split()[0].lower(), None)
        return "\n".join(seen) + "\n"
    if name == "python":
        return "\n".join(inspect.getsource(importlib.import_module(mod)) for mod in _STDLIB_MODULES)
    raise ValueError(f"name: expected one of {CORPORA}, got {name!r}")


@dataclass(frozen=True)
class Vocabulary:
    """The characters of a corpus, each with an id; "\\n" (the end of a name) first when present."""

    chars: tuple[str, ...]

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        chars = sorted(set(text), key=lambda c: (c != "\n", c))
        return cls(tuple(chars))

    @property
    def size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """Character ids of ``text``, shape (len(text),)."""
        index = {c: i for i, c in enumerate(self.chars)}
        try:
            return np.array([index[c] for c in text], dtype=np.int64)
        except KeyError as exc:
            raise ValueError(f"text: character {exc.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids) -> str:
        """The text of a sequence of ids."""
        return "".join(self.chars[int(i)] for i in ids)
