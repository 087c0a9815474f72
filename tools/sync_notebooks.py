"""Keep the notebooks' solutions identical to rnnlib (d2l's ``#@save`` idea, run the other way).

Every answer cell whose nbgrader ``grade_id`` is the name of a public rnnlib function holds that
function's source, taken from rnnlib: its signature and docstring, then the body between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` (decorators such as ``@checked`` are left out: the
notebook's function is the bare equation). tests/test_notebook_sync.py fails when they differ.

    python tools/sync_notebooks.py            # rewrite the solution cells from rnnlib
    python tools/sync_notebooks.py --check    # exit 1 and list the cells that differ
    python tools/sync_notebooks.py --execute  # also re-run the notebooks to refresh stored outputs
"""

from __future__ import annotations

import argparse
import ast
import inspect
import sys
import textwrap
from pathlib import Path

import nbformat

import rnnlib

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def course_notebooks() -> list[Path]:
    """The course's source notebooks, notebooks/<NN-topic>/<name>.ipynb, in order."""
    return sorted(p for p in NOTEBOOKS.glob("*/*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def solution_source(name: str) -> str:
    """The answer-cell text for rnnlib function ``name``: def + docstring, then the marked body."""
    fn = inspect.unwrap(getattr(rnnlib, name))
    source = textwrap.dedent(inspect.getsource(fn))
    tree = ast.parse(source).body[0]
    lines = source.splitlines()
    start = tree.lineno - 1  # the def line: decorators are above it
    body = tree.body
    first = (
        body[1]
        if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
        else body[0]
    )
    split = first.lineno - 1
    head = lines[start:split]
    tail = lines[split:]
    return "\n".join([*head, "    ### BEGIN SOLUTION", *tail, "    ### END SOLUTION"])


def synced_cells(nb) -> list[tuple[int, str]]:
    """(cell index, rnnlib function name) of every answer cell that mirrors rnnlib."""
    out = []
    for i, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        name = meta.get("grade_id", "")
        if cell.cell_type == "code" and meta.get("solution") and name in rnnlib.__all__:
            out.append((i, name))
    return out


def drift(path: Path) -> list[str]:
    """The names of the solution cells in ``path`` that differ from rnnlib."""
    nb = nbformat.read(path, as_version=4)
    return [name for i, name in synced_cells(nb) if nb.cells[i].source != solution_source(name)]


def sync(path: Path) -> list[str]:
    """Rewrite the solution cells of ``path`` from rnnlib; return the names that changed."""
    nb = nbformat.read(path, as_version=4)
    changed = []
    for i, name in synced_cells(nb):
        text = solution_source(name)
        if nb.cells[i].source != text:
            nb.cells[i].source = text
            changed.append(name)
    if changed:
        nbformat.write(nb, path)
    return changed


def execute(path: Path, timeout: int = 120) -> None:
    """Run ``path`` top to bottom in its own folder and store the outputs (seeded, so deterministic)."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,  # no timestamps: re-running leaves an unchanged notebook unchanged
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    nbformat.write(nb, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="report drift, change nothing")
    parser.add_argument("--execute", action="store_true", help="re-run the notebooks after syncing")
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every course notebook")
    args = parser.parse_args(argv)
    paths = args.notebooks or course_notebooks()
    status = 0
    for path in paths:
        if args.check:
            names = drift(path)
            if names:
                status = 1
                print(f"{path}: differs from rnnlib: {', '.join(names)}")
            continue
        names = sync(path)
        print(f"{path}: {'synced ' + ', '.join(names) if names else 'in sync'}")
        if args.execute:
            execute(path)
            print(f"{path}: executed")
    return status


if __name__ == "__main__":
    sys.exit(main())
