"""What may reach a feedback page: outputs rebuilt from an allow-list of fields, hidden-test text
scrubbed from every output, and the rendered page body passed through nh3's allow-list sanitizer.

A student's notebook controls its outputs and their metadata, its cells' metadata and ids, and
(through exception text) some of the grader's messages; none of that is trusted. The page's own
head comes from the course's template only and carries no script at all; a Content-Security-Policy
forbids script in case anything ever slipped through.
"""

from __future__ import annotations

import base64
import binascii
import bz2
import codecs
import contextlib
import itertools
import lzma
import re
import urllib.parse
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

import nh3

from graders.course import HIDDEN_BEGIN, HIDDEN_END

HIDDEN_REMOVED = "(hidden test text removed)"
NOT_SHOWN = "(output not shown in feedback)"
# Output formats a feedback page may show: none of them can run script in the page.
SAFE_MIMETYPES = ("text/plain", "image/png", "image/jpeg", "text/latex")
IMAGE_MIMETYPES = ("image/png", "image/jpeg")
CSP = (
    '<meta http-equiv="Content-Security-Policy" content="script-src \'none\'; '
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-src 'none'\">"
)

# MathML Core (what browsers typeset) has no columnalign, and a mathvariant only on <mi>: the
# aligned equations' columns and \texttt's monospace text by CSS
MATH_STYLE = (
    '<style>mtd[columnalign="right"] { text-align: right; } '
    'mtd[columnalign="left"] { text-align: left; } '
    'mtext[mathvariant="monospace"] { font-family: monospace; }</style>'
)

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")
_DIGITS = re.compile(r"[0-9]{1,5}")
_CELL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # nbformat 4.5's pattern for cell ids

# ------------------------------------------------------------------------------------------
# Outputs: rebuilt field by field, so nothing but what the template needs reaches it
# ------------------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    """A text field of an output (a string or a list of strings), or None if it is neither."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    return None


def _size(value: Any) -> int | None:
    """An image's width or height if it is a plain number of pixels, else None (dropped)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 100_000:
        return value
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        return int(value)
    return None


def _image_metadata(metadata: Any, mime: str) -> dict:
    """Of an image output's metadata only a numeric width and height (nbconvert writes them into
    the <img> tag unquoted); never ``filenames`` (the <img> src) or anything else."""
    if not isinstance(metadata, dict):
        return {}
    own = metadata.get(mime) if isinstance(metadata.get(mime), dict) else {}
    kept = {}
    for key in ("width", "height"):
        size = _size(own.get(key, metadata.get(key)))
        if size is not None:
            kept[key] = size
    return {mime: kept} if kept else {}


def _stream(text: str, name: str = "stdout") -> dict:
    return {"output_type": "stream", "name": name, "text": text}


def safe_output(out: Any) -> dict:
    """``out`` rebuilt from the fields the feedback shows, each checked; anything else becomes a
    note that the output is not shown."""
    if not isinstance(out, dict):
        return _stream(NOT_SHOWN + "\n")
    kind = out.get("output_type")
    if kind == "stream":
        text = _text(out.get("text"))
        return _stream(text or "", "stderr" if out.get("name") == "stderr" else "stdout")
    if kind == "error":
        trace = out.get("traceback")
        trace = [t for t in trace if isinstance(t, str)] if isinstance(trace, list) else []
        return {
            "output_type": "error",
            "ename": str(out.get("ename", "Error")),
            "evalue": str(out.get("evalue", "")),
            "traceback": trace,
        }
    if kind in ("display_data", "execute_result"):
        data_in = out.get("data") if isinstance(out.get("data"), dict) else {}
        data, metadata = {}, {}
        for mime in SAFE_MIMETYPES:
            value = _text(data_in.get(mime))
            if value is None:
                continue
            if mime in IMAGE_MIMETYPES:
                if not _BASE64.fullmatch(value):
                    continue
                metadata.update(_image_metadata(out.get("metadata"), mime))
            data[mime] = value
        if not data:
            data["text/plain"] = NOT_SHOWN
        safe = {"output_type": kind, "data": data, "metadata": metadata}
        if kind == "execute_result":
            count = out.get("execution_count")
            safe["execution_count"] = count if _is_count(count) else None
        return safe
    return _stream(NOT_SHOWN + "\n")


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def safe_cell_fields(cell: Any, keep_metadata: Iterable[str]) -> None:
    """Make a cell's own fields safe to render: an integer execution count, an id of nbformat's
    characters, only the named metadata keys (no tags: the template puts them in a class)."""
    if "execution_count" in cell and not _is_count(cell.get("execution_count")):
        cell["execution_count"] = None
    if "id" in cell and not (isinstance(cell["id"], str) and _CELL_ID.fullmatch(cell["id"])):
        del cell["id"]
    meta = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
    cell["metadata"] = {k: meta[k] for k in keep_metadata if k in meta}
    cell.pop("attachments", None)


# ------------------------------------------------------------------------------------------
# Hidden tests: the text of their hidden blocks is in no output, however it was printed
# ------------------------------------------------------------------------------------------


def _squash(text: str) -> str:
    """``text`` without ANSI colours, backslash escapes (repr, JSON) and whitespace, so that a
    line is found however the kernel printed it."""
    text = _ANSI.sub("", text)
    text = re.sub(r"\\(.)", r"\1", text)
    return re.sub(r"\s+", "", text)


def hidden_lines(source_nb: Any) -> list[str]:
    """The non-trivial lines of the hidden blocks of ``source_nb``'s test cells: not blank, not a
    comment, at least 8 characters, and not also in the notebook's visible (released) text."""
    hidden, visible = [], set()
    for cell in source_nb.cells:
        inside = False
        for line in cell.source.splitlines():
            if HIDDEN_BEGIN in line:
                inside = True
            elif HIDDEN_END in line:
                inside = False
            elif inside:
                hidden.append(line.strip())
            else:
                visible.add(line.strip())
    kept = [ln for ln in hidden if len(ln) >= 8 and not ln.startswith("#") and ln not in visible]
    return list(dict.fromkeys(kept))


_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{12,}={0,2}")
_HEX_RUN = re.compile(r"(?:[0-9a-fA-F]{2}){6,}")
_UNPACKED_BYTES = 2**22  # a decompressed stream is read up to 4 MB
_DECODE_DEPTH = 3  # encodings applied one over another: base64 of a zlib stream of base64, say
_PRINTABLE = frozenset(range(32, 127)) | {9, 10, 13}
_STREAMS = {  # how a compressed stream starts, and how to read it (bounded)
    **{
        b"\x78" + second: lambda b: zlib.decompressobj().decompress(b, _UNPACKED_BYTES)
        for second in (b"\x01", b"\x5e", b"\x9c", b"\xda")
    },
    b"\x1f\x8b": lambda b: zlib.decompressobj(31).decompress(b, _UNPACKED_BYTES),
    b"BZh": lambda b: bz2.BZ2Decompressor().decompress(b, _UNPACKED_BYTES),
    b"\xfd7zXZ\x00": lambda b: lzma.LZMADecompressor().decompress(b, _UNPACKED_BYTES),
}
_STREAM_STARTS = 4  # places in one run where a stream is tried, for each kind


def _as_text(raw: bytes) -> Iterator[str]:
    """What decoded bytes say: the text itself, and any compressed stream that starts in them
    (after a few bytes of another run, say). Noise, what most runs of digits and letters decode
    to, says nothing and is not looked into further."""
    for magic, unpack in _STREAMS.items():
        start = raw.find(magic)
        for _ in range(_STREAM_STARTS):
            if start < 0:
                break
            with contextlib.suppress(OSError, EOFError, ValueError, zlib.error, lzma.LZMAError):
                yield unpack(raw[start:]).decode("latin-1")
            start = raw.find(magic, start + 1)
    if sum(byte in _PRINTABLE for byte in raw) >= 0.9 * len(raw):
        yield raw.decode("latin-1")


def _binary_runs(text: str) -> Iterator[bytes]:
    """The bytes that the base64 (either alphabet, any alignment) and hex runs of ``text`` hold."""
    for run in _BASE64_RUN.findall(text):
        run = run.rstrip("=").replace("-", "+").replace("_", "/")
        for shift in range(4):  # a line cut out of a longer base64 text starts anywhere
            chunk = run[shift:]
            chunk = chunk[: len(chunk) - 1] if len(chunk) % 4 == 1 else chunk  # a lone sextet
            yield base64.b64decode(chunk + "=" * (-len(chunk) % 4))
    for run in _HEX_RUN.findall(text):
        for shift in (0, 1):
            chunk = run[shift:]
            yield binascii.unhexlify(chunk[: len(chunk) // 2 * 2])


def _decodings(text: str, depth: int = _DECODE_DEPTH) -> Iterator[str]:
    """``text`` and what it reads as under the encodings a kernel has at hand: reversed, rot13,
    %-escapes, backslash escapes, and, one inside another up to ``depth`` deep, base64 (standard
    or URL-safe) and hex of text or of a zlib, gzip, bz2 or xz stream. Linear in ``text``'s size."""
    views = {text, text[::-1]}
    views |= {codecs.encode(v, "rot13") for v in views}
    if "%" in text:
        views.add(urllib.parse.unquote(text))
    if "\\" in text:
        with contextlib.suppress(UnicodeDecodeError, ValueError):
            views.add(text.encode("latin-1", "backslashreplace").decode("unicode_escape"))
    yield from views
    if depth == 0:
        return
    for view in (text, text[::-1]):
        # each run by itself, and runs joined across line breaks (base64 wrapped over lines)
        for raw in itertools.chain(_binary_runs(view), _binary_runs(re.sub(r"\s+", "", view))):
            if len(raw) >= 6:
                for decoded in _as_text(raw):
                    yield from _decodings(decoded, depth - 1)


CHECKED_CHARACTERS = 4 * 2**20  # of one notebook's outputs (about 6 s of decoding at most)
NOT_CHECKED = "(output not shown in feedback: more output than the grader checks)"


class HiddenText:
    """Finds the hidden blocks' lines (and their markers) in any text, plain or encoded. It reads
    at most ``budget`` characters of outputs; outputs past that are not shown (fail closed)."""

    def __init__(self, lines: Iterable[str], budget: int = CHECKED_CHARACTERS) -> None:
        needles = {_squash(line) for line in [*lines, HIDDEN_BEGIN, HIDDEN_END]}
        self.needles = sorted(n for n in needles if n)
        self.budget = budget

    def found_in(self, text: str) -> bool:
        for view in _decodings(text):
            squashed = _squash(view)
            if any(n in squashed for n in self.needles):
                return True
        return False

    def scrub_outputs(self, outputs: list[dict]) -> list[dict]:
        """Every output (already made safe) that holds hidden text replaced by a note, and every
        output past the budget too."""
        kept = []
        for out in outputs:
            text = _output_text(out)
            self.budget -= len(text)
            if self.budget < 0:
                kept.append(_stream(NOT_CHECKED + "\n"))
            else:
                kept.append(_stream(HIDDEN_REMOVED + "\n") if self.found_in(text) else out)
        return kept

    def scrub(self, text: str) -> str:
        return HIDDEN_REMOVED if self.found_in(text) else text


def _output_text(out: dict) -> str:
    parts = [out.get("text", ""), out.get("ename", ""), out.get("evalue", "")]
    parts += out.get("traceback", [])
    # not images: what a page shows of one is its pixels, and no search reads a picture of text
    data = out.get("data", {})
    parts += [v for k, v in data.items() if isinstance(v, str) and k not in IMAGE_MIMETYPES]
    return "\n".join(p for p in parts if isinstance(p, str))


# ------------------------------------------------------------------------------------------
# The rendered page: the body passes an allow-list of tags, attributes and URLs
# ------------------------------------------------------------------------------------------

_MATHML = {
    "math": {"display", "xmlns"},
    "mi": {"mathvariant"},
    "mn": {"mathvariant"},
    "mo": {"fence", "form", "maxsize", "minsize", "stretchy", "separator", "lspace", "rspace"},
    "ms": set(),
    "mtext": {"mathvariant"},
    "mspace": {"width", "height", "depth"},
    "mrow": set(),
    "mfrac": {"linethickness"},
    "msqrt": set(),
    "mroot": set(),
    "mstyle": {"displaystyle", "scriptlevel", "mathvariant"},
    "merror": set(),
    "mpadded": {"width", "height", "depth", "lspace", "voffset"},
    "mphantom": set(),
    "menclose": {"notation"},
    "msub": set(),
    "msup": set(),
    "msubsup": set(),
    "munder": {"accentunder"},
    "mover": {"accent"},
    "munderover": {"accent", "accentunder"},
    "mtable": {"columnalign", "rowspacing", "columnspacing"},
    "mtr": {"columnalign"},
    "mtd": {"columnalign", "columnspan", "rowspan"},
    "semantics": set(),
    "annotation": {"encoding"},
}
_HTML = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "div": {"id", "tabindex", "data-mime-type", "data-type"},
    "th": {"align", "colspan", "rowspan"},
    "td": {"align", "colspan", "rowspan"},
    **{f"h{i}": {"id"} for i in range(1, 7)},
    **{
        tag: set()
        for tag in (
            "abbr b blockquote br caption code col colgroup dd del details dl dt em hr i ins kbd"
            " li mark ol p pre q s samp small span strong sub summary sup table tbody tfoot"
            " thead tr u ul var"
        ).split()
    },
}
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {"*": {"class"}, **_HTML, **_MATHML}
ALLOWED_TAGS: set[str] = set(_HTML) | set(_MATHML)
URL_SCHEMES = {"http", "https", "mailto", "data"}
_IMAGE_DATA = re.compile(r"data:image/(png|jpeg);base64,[A-Za-z0-9+/=\s]*", re.I)


def _attribute_filter(tag: str, name: str, value: str) -> str | None:
    """Per attribute, after the allow-lists: data: URLs only as an image's base64 PNG or JPEG,
    sizes only as digits."""
    if name in ("href", "src") and value.strip().lower().startswith("data:"):
        return value if tag == "img" and name == "src" and _IMAGE_DATA.fullmatch(value) else None
    if name in ("width", "height") and tag == "img":
        return value if _DIGITS.fullmatch(value.strip()) else None
    return value


def clean_html(fragment: str) -> str:
    """``fragment`` with only the allowed tags, attributes and URL schemes (nh3, i.e. ammonia)."""
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_attribute_filter,
        url_schemes=URL_SCHEMES,
        strip_comments=True,
    )


def safe_page(page: str) -> str:
    """A page of nbconvert's lab template made safe: everything inside <main> (every cell and
    output) sanitised, the template's own head kept without any script, a fixed tail, and a
    Content-Security-Policy that forbids script."""
    start, end = page.find("<main>"), page.rfind("</main>")
    if start < 0 or end < start:
        raise ValueError("the feedback template's page has no <main> element")
    head, body = page[:start], page[start + len("<main>") : end]
    # the head is the template's (the title is escaped); script it might load is dropped anyway
    head = re.sub(r"<script\b.*?</script\s*>", "", head, flags=re.S | re.I)
    # and the template's comments about the script it no longer has ("Load mathjax", ...)
    head = re.sub(r"[ \t]*<!--.*?-->\s*", "", head, flags=re.S)
    head = head.replace('<meta charset="utf-8" />', '<meta charset="utf-8" />\n' + CSP, 1)
    if CSP not in head:
        head = head.replace("<head>", "<head>\n" + CSP, 1)
    head = head.replace("</head>", MATH_STYLE + "\n</head>", 1)
    return f"{head}<main>\n{clean_html(body)}\n</main>\n</body>\n</html>\n"
