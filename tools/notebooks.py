"""The course's notebooks: each is written as MyST Markdown, notebooks/<NN-topic>/<topic>.md, and
built into the .ipynb beside it that nbgrader, nbval and JupyterLab read.

    python tools/notebooks.py build [NAME ...]   # .md -> executed .ipynb (all, or e.g. 04-bptt)
    python tools/notebooks.py check              # exit 1 naming every .ipynb that differs from its .md
    python tools/notebooks.py figures            # README's figures, copied from the stored outputs

In the .md a code cell's options say what nbgrader must know, and this tool expands them:

- ``:answer: NAME``: the answer cell of exercise NAME. Its text is taken from rnnlib's function NAME
  (signature and docstring, then the body between ``### BEGIN SOLUTION`` and ``### END SOLUTION``;
  decorators left out), so the body in the .md stays empty: edit rnnlib, then build.
- ``:test: NAME`` and ``:points: P``: the locked, autograded test of NAME; the visible checks are
  the cell's text, the hidden randomized checks (graders.checks.run_hidden_checks) are appended.
  Its source is collapsed in JupyterLab (``jupyter.source_hidden``); its output still shows.
- ``:id: ID``: the cell's id, where it is not the default ``<topic>-NN`` (NN its position).

``build`` first formats the .md's code cells with ruff (rewriting the .md only if that changes
it), so the built notebook passes ``ruff format --check``; ``ruff check`` lints the .ipynb.
``check`` compares cell types, ids, sources and metadata, and that every code cell was executed.
The stored outputs are compared by nbval, which re-runs each notebook (pytest's --nbval).

The README shows some of the notebooks' figures: ``docs/figures/<NN-topic>-<K>.png`` is the K-th
PNG (from 0) among that notebook's stored outputs. ``figures`` (and ``build``, for the notebooks it
built) copies them there; ``check`` also names every README figure that is not its notebook's.
"""

from __future__ import annotations

import argparse
import ast
import base64
import inspect
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import jupytext
import nbformat

import rnnlib

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
FIGURES = ROOT / "docs" / "figures"
README_FIGURE = re.compile(r"\]\(docs/figures/(\d\d-[a-z]+)-(\d+)\.png\)")
HIDDEN = """
### BEGIN HIDDEN TESTS
from graders.checks import run_hidden_checks  # noqa: E402 (nbgrader removes these lines)

run_hidden_checks("{name}", {name})
### END HIDDEN TESTS"""


def nbgrader(grade_id: str, *, grade: bool, points: int | None = None) -> dict:
    """nbgrader's cell metadata: an answer (solution) cell, or a locked test cell with points."""
    meta = {"grade": grade, "grade_id": grade_id, "locked": grade}
    if grade:
        meta["points"] = points
    return {**meta, "schema_version": 3, "solution": not grade, "task": False}


def solution_source(name: str) -> str:
    """The answer-cell text for rnnlib function ``name``: def + docstring, then the marked body."""
    fn = inspect.unwrap(getattr(rnnlib, name))
    source = textwrap.dedent(inspect.getsource(fn))
    func = ast.parse(source).body[0]
    lines = source.splitlines()
    body = func.body
    docstring = isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
    split = (body[1] if docstring else body[0]).lineno - 1
    head, tail = lines[func.lineno - 1 : split], lines[split:]  # from the def line: no decorators
    return "\n".join([*head, "    ### BEGIN SOLUTION", *tail, "    ### END SOLUTION"])


def course_sources() -> list[Path]:
    """The course's text notebooks, notebooks/<NN-topic>/<topic>.md, in order."""
    return sorted(NOTEBOOKS.glob("*/*.md"))


def format_code_cells(md: Path) -> None:
    """Format the code cells of ``md`` in place with ruff, cell by cell as in a notebook."""
    ruff = f"{sys.executable} -m ruff format --quiet --config {ROOT / 'pyproject.toml'} {{}}"
    subprocess.run(
        [sys.executable, "-m", "jupytext", "--quiet", "--pipe-fmt", "ipynb", "--pipe", ruff, md],
        check=True,
    )


def expand(md: Path) -> nbformat.NotebookNode:
    """The notebook that ``md`` describes, its cell options expanded, not yet executed."""
    nb = jupytext.read(md)
    nb.metadata.pop("jupytext", None)
    for i, cell in enumerate(nb.cells):
        cell.id = cell.metadata.pop("id", f"{md.stem}-{i:02d}")
        if "answer" in cell.metadata:
            name = cell.metadata.pop("answer")
            cell.metadata["nbgrader"] = nbgrader(name, grade=False)
            cell.source = solution_source(name)
        elif "test" in cell.metadata:
            name = cell.metadata.pop("test")
            points = cell.metadata.pop("points")
            cell.metadata["nbgrader"] = nbgrader(f"test_{name}", grade=True, points=points)
            cell.metadata["jupyter"] = {"source_hidden": True}  # collapsed; its output shows
            cell.source = cell.source + "\n" + HIDDEN.format(name=name)
    nbformat.validate(nb)
    return nb


def execute(nb: nbformat.NotebookNode, folder: Path) -> None:
    """Run ``nb`` top to bottom in ``folder``; keep outputs that do not change from run to run."""
    from nbclient import NotebookClient

    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # timestamps
        outputs = []
        for out in cell.get("outputs", []):  # one stream output per name, however it was flushed
            last = outputs[-1] if outputs else None
            if last and out.output_type == last.output_type == "stream" and out.name == last.name:
                last.text += out.text
            else:
                outputs.append(out)
        if cell.cell_type == "code":
            cell.outputs = outputs


def differences(md: Path) -> list[str]:
    """What differs between the notebook ``md`` describes and the .ipynb stored beside it."""
    ipynb = md.with_suffix(".ipynb")
    if not ipynb.is_file():
        return [f"{ipynb.name} is missing"]
    want, have = expand(md), nbformat.read(ipynb, as_version=4)
    found = [] if want.metadata["kernelspec"] == have.metadata.get("kernelspec") else ["kernelspec"]
    if len(want.cells) != len(have.cells):
        return [*found, f"{len(want.cells)} cells in the .md, {len(have.cells)} in the .ipynb"]
    for i, (w, h) in enumerate(zip(want.cells, have.cells, strict=True)):
        for key in ("cell_type", "id", "source", "metadata"):
            if w.get(key) != h.get(key):
                found.append(f"cell {i} ({w.id}): its {key}")
        if h.cell_type == "code" and not h.get("execution_count"):
            found.append(f"cell {i} ({w.id}): not executed")
    return found


def stored_figures(ipynb: Path) -> list[bytes]:
    """The PNG images among the stored outputs of ``ipynb``, in order."""
    nb = nbformat.read(ipynb, as_version=4)
    outputs = [out for cell in nb.cells for out in cell.get("outputs", [])]
    return [
        base64.b64decode(o.data["image/png"]) for o in outputs if "image/png" in o.get("data", {})
    ]


def readme_figures() -> dict[Path, tuple[Path, int]]:
    """Each figure the README shows: its file -> (the notebook it comes from, its index there)."""
    found = {}
    for name, k in README_FIGURE.findall((ROOT / "README.md").read_text()):
        found[FIGURES / f"{name}-{k}.png"] = (NOTEBOOKS / name / f"{name[3:]}.ipynb", int(k))
    return found


def figure_differences() -> list[str]:
    """Every README figure that is missing or differs from its notebook's stored output."""
    found = []
    for png, (ipynb, k) in readme_figures().items():
        images = stored_figures(ipynb) if ipynb.is_file() else []
        if k >= len(images):
            found.append(f"{os.path.relpath(png, ROOT)}: {ipynb.name} has {len(images)} figures")
        elif not png.is_file() or png.read_bytes() != images[k]:
            found.append(f"{os.path.relpath(png, ROOT)} is not figure {k} of {ipynb.name}")
    return found


def copy_figures(names: list[str] | None = None) -> None:
    """Copy the README's figures (of the notebooks ``names``, default all) from stored outputs."""
    for png, (ipynb, k) in readme_figures().items():
        if names is None or ipynb.parent.name in names:
            png.parent.mkdir(parents=True, exist_ok=True)
            png.write_bytes(stored_figures(ipynb)[k])
            print(f"{png.relative_to(ROOT)}: figure {k} of {ipynb.relative_to(ROOT)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["build", "check", "figures"])
    parser.add_argument("names", nargs="*", help="assignment folders, e.g. 04-bptt (default: all)")
    args = parser.parse_args(argv)
    sources = [md for md in course_sources() if not args.names or md.parent.name in args.names]
    if args.command == "figures":
        copy_figures(args.names or None)
        return 0
    status = 0
    for md in sources:
        shown = md.relative_to(ROOT)
        if args.command == "check":
            found = differences(md)
            if found:
                status = 1
                print(f"{shown.with_suffix('.ipynb')} differs from {shown}: {'; '.join(found)}")
                print(f"  rebuild it: python tools/notebooks.py build {md.parent.name}")
            continue
        format_code_cells(md)
        nb = expand(md)
        execute(nb, md.parent)
        nbformat.write(nb, md.with_suffix(".ipynb"))
        print(f"{shown.with_suffix('.ipynb')}: built from {shown} and executed")
    if args.command == "build":
        copy_figures([md.parent.name for md in sources])
    elif not args.names:
        for found in figure_differences():
            status = 1
            print(f"{found}\n  copy it: python tools/notebooks.py figures")
    return status


if __name__ == "__main__":
    sys.exit(main())
