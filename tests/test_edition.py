"""The student edition of rnnlib: open exercises have no answer in it, closed ones keep theirs,
and a lesson's demos run on the student's own functions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from graders import edition

OPEN = ["03-loss"]  # 03-loss and every later assignment are open; 01 and 02 are closed


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("edition") / edition.FOLDER
    return edition.build_edition(dest, edition.later_assignments(OPEN))


def _run(built: Path, code: str) -> subprocess.CompletedProcess:
    """``code`` in a fresh interpreter that imports rnnlib from the edition."""
    env = {**os.environ, "PYTHONPATH": str(built)}
    return subprocess.run(  # not from the repository: its rnnlib/ would come first
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=built.parent,
    )


def test_the_edition_is_the_rnnlib_imported(built):
    run = _run(built, "import rnnlib; print(rnnlib.__file__)")
    assert run.stdout.strip() == str(built / "rnnlib" / "__init__.py"), run


@pytest.mark.parametrize(
    ("call", "notebook"),
    [
        ("rnnlib.softmax(np.zeros((2, 1)))", "03-loss/loss.ipynb"),
        ("rnnlib.cross_entropy(np.full((2, 1, 1), 0.5), np.eye(2)[:, :1, None])", "03-loss"),
        (
            "rnnlib.bptt(np.zeros((1, 2), int), np.zeros((1, 2), int), np.zeros((3, 1)), p)",
            "04-bptt",
        ),
        ("rnnlib.sgd_step(p, {'d' + k: v for k, v in p.items()}, 0.1)", "05-training"),
        ("rnnlib.backprop_norms(np.zeros((3, 2)), caches)", "06-vanishing"),
        (
            "rnnlib.lstm_forward(np.zeros((4, 1, 2)), np.zeros((3, 1)), "
            "rnnlib.initialize_lstm_parameters(3, 4, 4))",
            "07-lstm",
        ),
        (
            "rnnlib.gru_forward(np.zeros((4, 1, 2)), np.zeros((3, 1)), "
            "rnnlib.initialize_gru_parameters(3, 4, 4))",
            "08-gru",
        ),
        ("rnnlib.many_to_one_backward((0, 0, 0, 0, 0, 0))", "10-classify"),
    ],
)
def test_an_open_exercise_raises_and_names_its_notebook(built, call, notebook):
    code = (
        "import numpy as np, rnnlib\n"
        "p = rnnlib.initialize_parameters(3, 4, 4, seed=0)\n"
        "def softmax(z):  # the student's own, so that rnn_forward runs\n"
        "    e = np.exp(z - z.max(axis=0))\n    return e / e.sum(axis=0)\n"
        "x = np.random.default_rng(0).standard_normal((4, 2, 5))\n"
        "caches = rnnlib.rnn_forward(x, np.zeros((3, 2)), p)[2]\n"
        "del softmax\n"
        f"try:\n    {call}\nexcept NotImplementedError as exc:\n    print('NIE', exc)\n"
    )
    run = _run(built, code)
    assert run.stdout.startswith("NIE") and notebook in run.stdout, (
        f"{call} did not raise NotImplementedError naming {notebook}: {run.stdout}{run.stderr}"
    )


def test_a_function_computing_an_open_exercise_is_gone_too(built):
    run = _run(
        built,
        "import numpy as np\nfrom rnnlib.engine import output_loss\n"
        "try:\n    output_loss(np.zeros((2, 1)), np.eye(2)[:, :1], 1, 'softmax')\n"
        "except NotImplementedError as exc:\n    print('NIE', exc)\n",
    )
    assert "NIE" in run.stdout and "softmax" in run.stdout, run


def test_a_closed_exercise_keeps_the_reference_answer(built):
    import numpy as np

    import rnnlib

    rng = np.random.default_rng(0)
    Waa, Wax = rng.standard_normal((3, 3)), rng.standard_normal((3, 4))
    run = _run(
        built,
        "import json, numpy as np, rnnlib\n"
        "rng = np.random.default_rng(0)\n"
        "Waa, Wax = rng.standard_normal((3, 3)), rng.standard_normal((3, 4))\n"
        "print(json.dumps(rnnlib.stack_weights(Waa, Wax).tolist()))\n",
    )
    assert run.returncode == 0, run.stderr
    np.testing.assert_array_equal(np.array(json.loads(run.stdout)), rnnlib.stack_weights(Waa, Wax))


def test_a_closed_function_that_needs_an_open_exercise_uses_the_students(built):
    """rnn_forward (01-forward, closed) computes y_pred with softmax (03-loss, open)."""
    code = (
        "import numpy as np, rnnlib\n"
        "p = rnnlib.initialize_parameters(3, 4, 4, seed=0)\n"
        "x = np.random.default_rng(0).standard_normal((4, 2, 5))\n"
        "try:\n    rnnlib.rnn_forward(x, np.zeros((3, 2)), p)\n"
        "except NotImplementedError as exc:\n    print('before:', 'softmax' in str(exc))\n"
        "def softmax(z):\n    return np.full_like(z, 0.25)\n"
        "print('after:', float(rnnlib.rnn_forward(x, np.zeros((3, 2)), p)[1].max()))\n"
    )
    run = _run(built, code)
    assert run.stdout.split() == ["before:", "True", "after:", "0.25"], run


def test_the_students_own_definition_answers_for_rnnlib(built):
    """A lesson's demo that calls rnnlib.softmax runs on the softmax the student wrote."""
    code = (
        "import numpy as np, rnnlib\n"
        "def softmax(z):\n    return np.full_like(z, 7.0)  # the student's, recognisable\n"
        "print(rnnlib.softmax(np.zeros((2, 1))).ravel().tolist())\n"
    )
    run = _run(built, code)
    assert run.stdout.strip() == "[7.0, 7.0]", run


def test_no_open_function_keeps_code_of_its_own(built, tmp_path):
    assert edition.emptied(built, edition.later_assignments(OPEN)) == []
    import shutil

    import rnnlib

    full = tmp_path / "full"  # the reference package itself: every open answer is there
    shutil.copytree(Path(rnnlib.__file__).parent, full / "rnnlib")
    found = edition.emptied(full, edition.later_assignments(OPEN))
    assert any(line.endswith("softmax keeps code of its own") for line in found), found


def test_open_assignments_are_the_released_and_every_later_one():
    assert edition.later_assignments(["04-bptt"]) == [
        "04-bptt",
        "05-training",
        "06-vanishing",
        "07-lstm",
        "08-gru",
        "09-words",
        "10-classify",
    ]
    assert edition.later_assignments(["09-words"]) == ["09-words", "10-classify"]
    assert edition.later_assignments(["06-vanishing", "02-stacking"])[0] == "02-stacking"
    assert edition.later_assignments(["99-nothing"]) == []


def test_the_edition_is_a_package_pip_can_install(built):
    """Its pyproject names the package and the course's runtime dependencies, no extras."""
    import importlib.metadata

    tomllib = pytest.importorskip("tomllib")  # Python 3.11 on

    project = tomllib.loads((built / "pyproject.toml").read_text())["project"]
    assert project["name"] == "rnnlib" and project["version"].endswith("+student"), project
    runtime = [r for r in importlib.metadata.requires("rnnlib") if "extra ==" not in r]
    assert project["dependencies"] == runtime, project["dependencies"]


ASSIGNMENTS = sorted(
    p.parent.name for p in (Path(__file__).parents[1] / "notebooks").glob("*/*.ipynb")
)


def _answered(ipynb: Path):
    """The notebook as a student has it once every exercise is answered: the course's answers in
    the answer cells, and no hidden tests (the release removes them)."""
    import nbformat

    nb = nbformat.read(ipynb, as_version=4)
    for cell in nb.cells:
        lines, hidden = [], False
        for line in cell.source.splitlines():
            hidden = hidden or line.strip() == "### BEGIN HIDDEN TESTS"
            if not hidden:
                lines.append(line)
            hidden = hidden and line.strip() != "### END HIDDEN TESTS"
        cell.source = "\n".join(lines)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_answered_notebook_runs_on_the_edition_its_release_ships(
    assignment, tmp_path, monkeypatch
):
    """A student who has answered every exercise runs the whole notebook without an error,
    on the rnnlib `python -m graders release ASSIGNMENT` makes them install: the lesson's demos
    and measurements use only what that edition still has, and the student's own functions."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    built = edition.build_edition(
        tmp_path / edition.FOLDER, edition.later_assignments([assignment])
    )
    ipynb = next((Path(__file__).parents[1] / "notebooks" / assignment).glob("*.ipynb"))
    nb = _answered(ipynb)
    nb.cells.insert(0, nbformat.v4.new_code_cell("import rnnlib\nprint(rnnlib.__file__)"))
    work = tmp_path / "student"
    work.mkdir()
    monkeypatch.setenv("PYTHONPATH", str(built))  # the kernel imports rnnlib from the edition
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(work)}}
    )
    try:
        client.execute()
    except CellExecutionError as exc:
        pytest.fail(f"{assignment}, answered, fails on its student edition:\n{str(exc)[-1500:]}")
    where = nb.cells[0].outputs[0].text.strip()
    assert where == str(built / "rnnlib" / "__init__.py"), (
        f"the kernel imported rnnlib from {where}"
    )
