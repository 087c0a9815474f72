"""What the notebook builders share: cells with nbgrader metadata, the import cell, writing, the CLI.

tools/build_notebooks_01_03.py and tools/build_notebooks_04_06.py hold only their notebooks'
content (prose, figures, demos and tests) and hand it to main(). An answer cell is written with a
placeholder and filled by tools/sync_notebooks.py from the rnnlib function of the same name, so no
builder holds solution code.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import importlib
import inspect
import pkgutil
import textwrap
from collections.abc import Mapping
from pathlib import Path

import nbformat
import sync_notebooks  # tools/ is on sys.path: the builders that import this module are there
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import rnnlib

ROOT = sync_notebooks.ROOT
NOTEBOOKS = sync_notebooks.NOTEBOOKS
HIDDEN = """
### BEGIN HIDDEN TESTS
from graders.checks import run_hidden_checks
run_hidden_checks("{name}", {name})
### END HIDDEN TESTS"""


def source(text: str) -> str:
    """A cell's text from a builder's string literal: its indentation and outer blank lines removed."""
    return textwrap.dedent(text).strip()


def md(text: str) -> nbformat.NotebookNode:
    """A markdown cell."""
    return new_markdown_cell(source(text))


def code(
    text: str, *, ignore_output: bool = False, collapsed: bool = False
) -> nbformat.NotebookNode:
    """A code cell; ignore_output tags it for nbval (timings), collapsed hides a drawing helper."""
    cell = new_code_cell(source(text))
    if ignore_output:
        cell.metadata["tags"] = ["nbval-ignore-output"]
    if collapsed:
        cell.metadata["jupyter"] = {"source_hidden": True}
    return cell


def answer(name: str) -> nbformat.NotebookNode:
    """The answer cell of exercise ``name``: a placeholder, filled from rnnlib by sync_notebooks."""
    cell = new_code_cell(f"# filled from rnnlib.{name} by tools/sync_notebooks.py")
    cell.metadata["nbgrader"] = {
        "grade": False,
        "grade_id": name,
        "locked": False,
        "schema_version": 3,
        "solution": True,
        "task": False,
    }
    return cell


def test(name: str, points: int, visible: str) -> nbformat.NotebookNode:
    """The autograded, read-only test cell of exercise ``name``: visible checks, then hidden ones."""
    cell = new_code_cell(source(visible) + "\n" + HIDDEN.format(name=name))
    cell.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": f"test_{name}",
        "locked": True,
        "points": points,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    return cell


def solution_imports(names: list[str], already: set[str] = frozenset()) -> str:
    """Import lines for the globals that the rnnlib functions ``names`` use (signature and body).

    The answer cells hold rnnlib's code, which calls module-level helpers (input checks, the
    activation table, ...); the notebook must import them. Computed from the source, so a change
    to a body only needs a rebuild. Names the notebook defines itself (its own exercises, and
    ``already``) are left out.
    """
    modules = [
        importlib.import_module(f"rnnlib.{m.name}") for m in pkgutil.iter_modules(rnnlib.__path__)
    ]
    wanted: dict[str, set[str]] = {}
    for name in names:
        fn = inspect.unwrap(getattr(rnnlib, name))
        func = ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0]
        parts = [func.args, *func.body] + ([func.returns] if func.returns else [])  # no decorators
        used = {
            n.id
            for part in parts
            for n in ast.walk(part)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
        }
        for used_name in sorted(used - set(names) - set(already) - set(dir(builtins))):
            obj = fn.__globals__.get(used_name)
            if obj is None or inspect.ismodule(obj):
                continue  # a local name, or numpy (imported as np by every notebook)
            origin = (
                getattr(obj, "__module__", None)
                if (
                    inspect.isfunction(obj)
                    or inspect.isclass(obj)
                    or used_name in ("Any", "Callable")
                )
                else None
            )
            if origin is None:  # a constant: import it from the rnnlib module that assigns it
                origin = next(
                    m.__name__
                    for m in modules
                    if f"\n{used_name} = " in inspect.getsource(m)
                    or f"\n{used_name}: " in inspect.getsource(m)
                )
            wanted.setdefault(origin, set()).add(used_name)
    order = sorted(wanted, key=lambda mod: (mod.startswith("rnnlib"), mod))
    return "\n".join(
        f"from {mod} import {', '.join(sorted(wanted[mod], key=str.lower))}" for mod in order
    )


def import_cell(imports: str, exercises: list[str], builder: str) -> nbformat.NotebookNode:
    """The import cell: what the demos and tests use, then what the reference solutions use.

    ``imports`` is written by hand; any name the answers of ``exercises`` need that it does not
    import is appended under a comment naming ``builder`` (the script, as tools/<name>.py).
    """
    text = source(imports)
    have = {
        alias.asname or alias.name
        for node in ast.walk(ast.parse(text))
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    extra = solution_imports(exercises, have)
    if extra:
        text += (
            f"\n\n# what the reference solutions below call (listed from rnnlib by {builder})\n"
            + extra
        )
    return code(text)


class Notebook:
    """A notebook's cells, appended in order by calls (the form tools/build_notebooks_04_06.py uses)."""

    def __init__(self, builder: str):
        self.builder = builder  # named in the import cell, should it add lines
        self.cells: list = []

    def md(self, text: str) -> None:
        self.cells.append(md(text))

    def code(self, text: str, *, ignore_output: bool = False, collapsed: bool = False) -> None:
        self.cells.append(code(text, ignore_output=ignore_output, collapsed=collapsed))

    def setup(self, imports: str, exercises: list[str]) -> None:
        self.cells.append(import_cell(imports, exercises, self.builder))

    def answer(self, name: str) -> None:
        self.cells.append(answer(name))

    def test(self, name: str, points: int, visible: str) -> None:
        self.cells.append(test(name, points, visible))


def write(path: Path, cells: list, *, grade_ids: bool) -> list[str]:
    """Write ``cells`` to ``path`` with stable cell ids, fill its answers from rnnlib; return those.

    Ids are <stem>-NN by position; with ``grade_ids`` an nbgrader cell takes its grade_id instead.
    Notebooks 01-03 were first written the one way and 04-06 the other: each keeps its own, so a
    rebuild changes no id.
    """
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "name": "python3",
    }
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        cell.id = grade_id.replace("_", "-") if grade_ids and grade_id else f"{path.stem}-{i:02d}"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return sync_notebooks.sync(path)


def tidy(path: Path) -> None:
    """Drop nbclient's per-cell timestamps and join split stdout chunks: re-running changes nothing."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        outputs = []
        for out in cell.get("outputs", []):
            previous = outputs[-1] if outputs else None
            if (
                previous is not None
                and out.output_type == previous.output_type == "stream"
                and out.name == previous.name
            ):
                previous.text += out.text
            else:
                outputs.append(out)
        if cell.cell_type == "code":
            cell.outputs = outputs
    nbformat.write(nb, path)


def main(
    doc: str,
    notebooks: Mapping[str, list],
    *,
    grade_ids: bool,
    argv: list[str] | None = None,
) -> int:
    """A builder's command line: write ``notebooks`` (path under notebooks/ -> cells), maybe run them."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--execute", action="store_true", help="run the notebooks to store their outputs"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=NOTEBOOKS,
        help="write under this folder instead of notebooks/ (to compare a rebuild: building in "
        "place without --execute drops the stored outputs)",
    )
    parser.add_argument("only", nargs="*", help=f"build only these (e.g. {next(iter(notebooks))})")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    for rel, cells in notebooks.items():
        if args.only and rel not in args.only:
            continue
        path = out / rel
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        synced = write(path, cells, grade_ids=grade_ids)
        print(f"{shown}: written; solutions from rnnlib: {', '.join(synced)}")
        if args.execute:
            sync_notebooks.execute(path)
            tidy(path)
            print(f"{shown}: executed")
    return 0
