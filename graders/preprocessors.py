"""Three small nbconvert preprocessors the course adds to nbgrader's pipelines.

- RunUpToLastTest: the grade depends only on the cells up to the last test cell, so the cells
  after it (the notebooks' closing demonstrations) are not run while grading; and a
  "skip-execution" tag a student put on any earlier cell (a test cell, say) is removed.

- LimitOutputBytes: nbgrader's LimitOutput counts lines, so one 50 MB line passes into the graded
  notebook and the feedback; this caps the text of every output by bytes.
- HideHiddenTests: feedback must not show the hidden tests' source, nor tracebacks that quote
  them (nbgrader issue 917); in graded test cells the hidden block is cut and each error output
  keeps only its one-line "Name: message".
"""

from __future__ import annotations

import re
from typing import Any

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Integer

from graders.course import MAX_OUTPUT_BYTES, last_test_index, strip_hidden

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
TRUNCATED = "\n... output truncated: {n:,} bytes in all ...\n"


def truncate_text(text: str, max_bytes: int) -> str:
    """``text`` cut to at most about ``max_bytes`` bytes, with a note saying how much there was."""
    size = len(text.encode("utf-8", "replace"))
    if size <= max_bytes:
        return text
    head = text.encode("utf-8", "replace")[:max_bytes].decode("utf-8", "ignore")
    return head + TRUNCATED.format(n=size)


def limit_output_bytes(outputs: list[Any], max_bytes: int) -> list[Any]:
    """Cap the outputs of one cell at ``max_bytes`` in total (stream text, data, tracebacks)."""
    budget = max_bytes
    kept = []
    for out in outputs:
        if budget <= 0:
            break
        kind = out.get("output_type")
        if kind == "stream":
            text = out.get("text", "")
            text = "".join(text) if isinstance(text, list) else text
            out["text"] = truncate_text(text, budget)
            budget -= len(out["text"].encode("utf-8", "replace"))
        elif kind in ("execute_result", "display_data"):
            data = out.get("data", {})
            for mime in list(data):
                value = data[mime]
                value = "".join(value) if isinstance(value, list) else value
                if not isinstance(value, str):
                    continue
                if len(value) > budget and not mime.startswith("text/"):
                    del data[mime]  # an image too big to keep is dropped, not cut
                    continue
                data[mime] = truncate_text(value, budget)
                budget -= len(data[mime].encode("utf-8", "replace"))
            if not data:
                data["text/plain"] = "... output dropped: too large ..."
        elif kind == "error":
            out["evalue"] = truncate_text(str(out.get("evalue", "")), min(budget, 10_000))
            lines, used = [], 0
            for line in out.get("traceback", []):
                used += len(line.encode("utf-8", "replace"))
                if used > budget:
                    lines.append("... traceback truncated ...")
                    break
                lines.append(line)
            out["traceback"] = lines
            budget -= used
        kept.append(out)
    if len(kept) < len(outputs):
        kept.append({"output_type": "stream", "name": "stderr", "text": TRUNCATED.format(n=0)})
    return kept


SKIP_TAG = "skip-execution"  # nbclient does not run a cell with this tag


class RunUpToLastTest(Preprocessor):
    """Tag every cell after the last test cell to be skipped; untag every cell up to it."""

    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb, resources):
        last = last_test_index(nb)
        for i, cell in enumerate(nb.cells):
            meta = cell.setdefault("metadata", {})
            tags = [t for t in meta.get("tags", []) if t != SKIP_TAG]
            if i > last and cell.cell_type == "code":
                tags.append(SKIP_TAG)
            if tags or "tags" in meta:
                meta["tags"] = tags
        return nb, resources


class LimitOutputBytes(Preprocessor):
    """Cap the text each code cell leaves in the notebook at ``max_bytes``."""

    enabled = Bool(True).tag(config=True)  # nbgrader registers it without enabling it
    max_bytes = Integer(MAX_OUTPUT_BYTES, help="most bytes of output kept per cell").tag(
        config=True
    )

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and cell.get("outputs"):
            cell.outputs = limit_output_bytes(cell.outputs, self.max_bytes)
        return cell, resources


def one_line_error(output: dict) -> list[str]:
    """The traceback replaced by its last line, ``Name: message``, without ANSI colours."""
    return [f"{output.get('ename', 'Error')}: {_ANSI.sub('', str(output.get('evalue', '')))}"]


class HideHiddenTests(Preprocessor):
    """In graded test cells: cut the hidden block and shorten error outputs to one line."""

    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade"):
            cell.source = strip_hidden(cell.source)
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    out["traceback"] = one_line_error(out)
        return cell, resources
