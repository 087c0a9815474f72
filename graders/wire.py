"""Plain data across a process boundary, without pickle: one .npz file, checked when loaded.

``dump(obj, path)`` stores nested dicts (str keys), lists, tuples, str, int, float, bool, None and
numpy arrays of numbers; ``load(path)`` gives the same structure back. The file is a zip of .npy
members: ``structure`` holds the nesting as UTF-8 JSON (arrays replaced by references such as
``{"array": "a3"}``) and ``a0``, ``a1``, ... hold the arrays. Loading never unpickles
(``allow_pickle=False``), accepts only numeric dtypes, and refuses a file whose members add up to
more than ``max_bytes`` before reading any of them, so a hostile writer cannot run code in, or
flood, the process that reads its results.
"""

from __future__ import annotations

import io
import json
import os
import stat
import zipfile
from typing import Any

import numpy as np

MAX_BYTES = 50 * 2**20  # 50 MB of arrays in one file
MAX_ARRAYS = 10_000
MAX_DEPTH = 64
ZIP_OVERHEAD = 2**20 + 1_000 * MAX_ARRAYS  # headers and the structure beside the arrays' bytes
_NUMERIC_KINDS = "biuf"  # bool, int, uint, float
_TAGS = ("list", "tuple", "dict", "array")


class WireError(ValueError):
    """The object cannot be stored, or the file is not a valid, bounded dump."""


def _encode(obj: Any, arrays: dict[str, np.ndarray], where: str, depth: int) -> Any:
    """The JSON form of ``obj``; arrays are moved to ``arrays`` and referenced by name."""
    if depth > MAX_DEPTH:
        raise WireError(f"{where}: nested deeper than {MAX_DEPTH} levels")
    if obj is None or type(obj) in (bool, str):
        return obj
    if type(obj) is int or isinstance(obj, np.integer) and not isinstance(obj, np.bool_):
        return int(obj)
    if type(obj) is float or isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if type(obj) is np.ndarray:
        if obj.dtype.kind not in _NUMERIC_KINDS:
            raise WireError(f"{where}: arrays of dtype {obj.dtype} cannot be stored (numbers only)")
        name = f"a{len(arrays)}"
        arrays[name] = obj
        return {"array": name}
    if type(obj) in (list, tuple):
        items = [_encode(v, arrays, f"{where}[{i}]", depth + 1) for i, v in enumerate(obj)]
        return {type(obj).__name__: items}
    if type(obj) is dict:
        pairs = []
        for key, value in obj.items():
            if type(key) is not str:
                raise WireError(f"{where}: dict keys must be str, got {type(key).__name__}")
            pairs.append([key, _encode(value, arrays, f"{where}[{key!r}]", depth + 1)])
        return {"dict": pairs}
    raise WireError(f"{where}: a {type(obj).__name__} cannot be stored (plain data only)")


def dump(obj: Any, path: str | os.PathLike) -> None:
    """Write ``obj`` (plain data: dict/list/tuple/str/int/float/bool/None/numeric arrays) to ``path``.

    Raises:
        WireError: for anything else (objects, object arrays, non-str dict keys), or more than
        MAX_BYTES of arrays.
    """
    arrays: dict[str, np.ndarray] = {}
    structure = _encode(obj, arrays, "obj", 0)
    total = sum(a.nbytes for a in arrays.values())
    if total > MAX_BYTES or len(arrays) > MAX_ARRAYS:
        raise WireError(f"obj: {total} bytes in {len(arrays)} arrays, more than the limit")
    text = json.dumps(structure, allow_nan=True).encode("utf-8")
    with open(path, "wb") as f:
        np.savez(f, structure=np.frombuffer(text, dtype=np.uint8), **arrays)


def _decode(node: Any, arrays: dict[str, np.ndarray], depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise WireError(f"structure nested deeper than {MAX_DEPTH} levels")
    if node is None or type(node) in (bool, int, float, str):
        return node
    if type(node) is not dict or len(node) != 1 or next(iter(node)) not in _TAGS:
        raise WireError(f"unexpected node in the structure: {str(node)[:60]}")
    tag, value = next(iter(node.items()))
    if tag == "array":
        if type(value) is not str or value not in arrays:
            raise WireError(f"reference to a missing array {str(value)[:40]}")
        return arrays[value]
    if type(value) is not list:
        raise WireError(f"{tag} node does not hold a list")
    if tag == "dict":
        out = {}
        for pair in value:
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                raise WireError("dict entries must be [str key, value] pairs")
            out[pair[0]] = _decode(pair[1], arrays, depth + 1)
        return out
    items = [_decode(v, arrays, depth + 1) for v in value]
    return tuple(items) if tag == "tuple" else items


def read_regular(path: str | os.PathLike, max_bytes: int) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``max_bytes``.

    Opened without following a symlink and without blocking (a FIFO put in place of a result must
    neither hang the reader nor lead it to another file), then checked with fstat before reading.

    Raises:
        FileNotFoundError: there is no such file (the writer never got that far).
        WireError: a symlink, a FIFO or anything but a regular file, or too large.
    """
    name = os.fspath(path)
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError as exc:  # ELOOP: a symlink; anything else: not ours to read
        raise WireError(f"{name}: not readable as a regular file ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise WireError(f"{name}: not a regular file (mode {stat.filemode(st.st_mode)})")
        if st.st_size > max_bytes:
            raise WireError(f"{name}: {st.st_size} bytes, more than the limit of {max_bytes}")
        chunks, left = [], max_bytes + 1  # a file that grows while read still stops at the limit
        while left > 0:
            chunk = os.read(fd, min(left, 2**20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        if left <= 0:
            raise WireError(f"{name}: more than the limit of {max_bytes} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def load(path: str | os.PathLike, max_bytes: int = MAX_BYTES) -> Any:
    """Read what :func:`dump` wrote, checking it on the way.

    Args:
        path: the file; max_bytes: refuse files whose members total more (uncompressed)

    Returns:
        the stored structure: dicts, lists, tuples, str, int, float, bool, None, numeric arrays

    Raises:
        FileNotFoundError: no file at ``path``.
        WireError: not a regular file (a symlink, a FIFO), not a dump, too large, a non-numeric
        (e.g. object) array, a malformed structure.
    """
    # read once, from a regular file opened without following links; parsed from memory after
    data = read_regular(path, max_bytes + ZIP_OVERHEAD)
    try:
        if data[:4] != b"PK\x03\x04":
            raise WireError(f"{os.fspath(path)}: not a dump (no zip header)")
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_ARRAYS + 1:
                raise WireError(f"{len(infos)} members, more than {MAX_ARRAYS + 1}")
            total = sum(info.file_size for info in infos)
            if total > max_bytes:
                raise WireError(f"{total} bytes, more than the limit of {max_bytes}")
        arrays = {}
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            for key in npz.files:
                array = npz[key]
                if array.dtype.kind not in _NUMERIC_KINDS:
                    raise WireError(f"array {key[:40]} has dtype {array.dtype} (numbers only)")
                arrays[key] = array
    except WireError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise WireError(
            f"{os.fspath(path)}: unreadable dump ({type(exc).__name__}: {str(exc)[:200]})"
        ) from None
    text = arrays.pop("structure", None)
    if text is None or text.dtype != np.uint8 or text.ndim != 1:
        raise WireError("the dump has no structure entry")
    try:
        structure = json.loads(text.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise WireError(f"the structure is not valid JSON ({type(exc).__name__})") from None
    return _decode(structure, arrays, 0)
