"""The notebooks as nbgrader and the no-drift rule see them: built from their .md, structure, metadata.

Each notebook's source is notebooks/<NN-topic>/<topic>.md; tools/notebooks.py builds the .ipynb.
nbval (in the README's test command) executes them and compares the stored outputs;
tests/test_release.py checks the student versions.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import nbformat
import pytest

import rnnlib

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import notebooks  # noqa: E402  (tools/notebooks.py)

# The course: assignment folder, notebook, and the exercises in the order they appear.
COURSE = {
    "01-forward/forward.ipynb": ["rnn_cell_forward", "rnn_forward"],
    "02-stacking/stacking.ipynb": [
        "stack_weights",
        "split_weights",
        "stack_inputs",
        "rnn_cell_forward_stacked",
    ],
    "03-loss/loss.ipynb": ["softmax", "cross_entropy"],
    "04-bptt/bptt.ipynb": [
        "numerical_gradient",
        "rnn_cell_backward",
        "rnn_backward",
        "rnn_backward_truncated",
        "output_layer_backward",
        "bptt",
    ],
    "05-training/training.ipynb": ["sgd_step", "clip_by_global_norm", "sample"],
    "06-vanishing/vanishing.ipynb": ["backprop_norms"],
    "07-lstm/lstm.ipynb": [
        "lstm_cell_forward",
        "lstm_forward",
        "lstm_cell_backward",
        "lstm_backward",
    ],
    "08-gru/gru.ipynb": ["gru_cell_forward", "gru_forward", "gru_cell_backward", "gru_backward"],
    "09-words/words.ipynb": [],
    "10-classify/classify.ipynb": ["many_to_one_forward", "many_to_one_backward"],
}

# The lessons without exercises, and the module that holds their code.
UNGRADED_MODULES = {"09-words/words.ipynb": "rnnlib/wordmodel.py"}


def _read(rel: str):
    return nbformat.read(ROOT / "notebooks" / rel, as_version=4)


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def test_course_has_exactly_its_notebooks_in_order_each_from_its_md():
    sources = [p.relative_to(ROOT / "notebooks").as_posix() for p in notebooks.course_sources()]
    assert sources == [rel.replace(".ipynb", ".md") for rel in COURSE], (
        f"notebooks/ holds the sources {sources}, the course is {list(COURSE)}"
    )
    built = sorted(
        p.relative_to(ROOT / "notebooks").as_posix() for p in ROOT.glob("notebooks/*/*.ipynb")
    )
    assert built == list(COURSE), f"notebooks/ holds {built}, the course is {list(COURSE)}"


@pytest.mark.parametrize("rel", list(COURSE))
def test_ipynb_is_what_its_md_builds(rel):
    """The .md is the notebook's one source: an edit made only in the .ipynb, or a .md not rebuilt,
    fails here (cell types, ids, sources, nbgrader metadata; every code cell executed)."""
    md = (ROOT / "notebooks" / rel).with_suffix(".md")
    found = notebooks.differences(md)
    assert not found, (
        f"{rel} differs from {md.name}: {found}; "
        f"rebuild it with python tools/notebooks.py build {md.parent.name}"
    )


@pytest.mark.parametrize("rel", list(COURSE))
def test_answer_cells_are_rnnlib_source(rel):
    nb = _read(rel)
    differ = [
        _meta(c)["grade_id"]
        for c in nb.cells
        if _meta(c).get("solution") and c.source != notebooks.solution_source(_meta(c)["grade_id"])
    ]
    assert not differ, f"{rel}: answer cells differ from rnnlib for {differ}; rebuild the notebook"


@pytest.mark.parametrize("rel", list(COURSE))
def test_exercises_are_answer_cells_each_followed_by_a_graded_test(rel):
    nb = _read(rel)
    answers = [
        (i, _meta(c)["grade_id"]) for i, c in enumerate(nb.cells) if _meta(c).get("solution")
    ]
    assert [name for _, name in answers] == COURSE[rel], (
        f"{rel}: exercises {answers}, expected {COURSE[rel]}"
    )
    for i, name in answers:
        following = [c for c in nb.cells[i + 1 :] if c.cell_type == "code"]
        test = following[0] if following else None
        assert test is not None and _meta(test).get("grade"), (
            f"{rel}: no graded test cell after {name}"
        )
        meta = _meta(test)
        assert meta.get("grade_id") == f"test_{name}", (
            f"{rel}: the test after {name} is {meta.get('grade_id')}"
        )
        assert meta.get("locked") and meta.get("points", 0) > 0, (
            f"{rel}: test_{name} must be locked with points"
        )
        assert f"{name}(" in test.source.split("### BEGIN HIDDEN TESTS")[0], (
            f"{rel}: test_{name} has no visible check calling {name}: an unanswered release would pass"
        )
        hidden = f'run_hidden_checks("{name}", {name})'
        assert "### BEGIN HIDDEN TESTS" in test.source and hidden in test.source, (
            f"{rel}: test_{name} lacks the hidden randomized checks ({hidden})"
        )


@pytest.mark.parametrize("rel", list(COURSE))
def test_visible_tests_do_not_import_the_reference_they_test(rel):
    nb = _read(rel)
    for cell in nb.cells:
        meta = _meta(cell)
        if not meta.get("grade"):
            continue
        name = meta["grade_id"].removeprefix("test_")
        visible = cell.source.split("### BEGIN HIDDEN TESTS")[0]
        assert f"import {name}" not in visible and f"rnnlib.{name}" not in visible, (
            f"{rel}: test_{name} shows students where the reference {name} lives"
        )


# Typical mistakes (graders/lessons/) that an exercise's visible test must catch itself, so that
# the student is told in the kernel and not only by the hidden checks: (notebook, exercise, key).
CAUGHT_IN_SIGHT = [("08-gru/gru.ipynb", "gru_cell_forward", "reset_after_product")]


def _run_visible_test(rel: str, name: str, answer) -> None:
    """Run the notebook's cells up to ``name``'s test in-process, its answer being ``answer`` (a
    function, or None for the notebook's own answer cell), then the test's visible part."""
    from graders import course

    nb = _read(rel)
    exercise = next(e for e in course.exercises_of(nb) if e.name == name)
    namespace: dict = {}
    for cell in nb.cells[: exercise.test_index]:
        if cell.cell_type == "code":
            exec(course.strip_hidden(cell.source), namespace)
    if answer is not None:
        namespace[name] = answer
    exec(course.strip_hidden(nb.cells[exercise.test_index].source), namespace)


@pytest.mark.parametrize(("rel", "name", "key"), CAUGHT_IN_SIGHT)
def test_visible_test_catches_the_typical_mistake(rel, name, key):
    from graders.lessons import EXERCISES

    mistake = next(m for m in EXERCISES[name].mistakes if m.key == key)
    try:
        _run_visible_test(rel, name, mistake.fn)
    except AssertionError as failed:
        assert mistake.message in str(failed), (
            f"{rel}: test_{name} fails on the mistake {key} with {str(failed)!r}, "
            f"not with the grader's message for it {mistake.message!r}"
        )
    else:
        pytest.fail(f"{rel}: test_{name} passes an answer with the mistake {key}")


@pytest.mark.parametrize(("rel", "name"), sorted({(rel, name) for rel, name, _ in CAUGHT_IN_SIGHT}))
def test_visible_test_passes_the_reference(rel, name):
    try:
        _run_visible_test(rel, name, None)
    except AssertionError as failed:
        pytest.fail(f"{rel}: test_{name} fails on the notebook's own answer: {failed}")


@pytest.mark.parametrize("rel", list(COURSE))
def test_an_exercise_whose_test_runs_an_earlier_answer_says_so_before_it(rel):
    """Its test is collapsed, so the prose says which of the student's functions it also runs
    (graders.course.Exercise.uses: a wrong one fails this test, and is to be fixed first)."""
    from graders import course

    nb = _read(rel)
    exercises = course.exercises_of(nb)
    for k, ex in enumerate(exercises):
        start = exercises[k - 1].test_index + 1 if k else 0
        prose = "\n".join(
            c.source for c in nb.cells[start : ex.answer_index] if c.cell_type == "markdown"
        )
        for used in ex.uses:
            assert f"your `{used}`" in prose, (
                f"{rel}: the test of {ex.name} runs the student's {used}, and the text before "
                f"it does not say so ('your `{used}`')"
            )


@pytest.mark.parametrize("rel", list(COURSE))
def test_visible_test_cells_are_collapsed_and_their_outputs_shown(rel):
    nb = _read(rel)
    for cell in nb.cells:
        if not _meta(cell).get("grade"):
            continue
        jupyter = cell.metadata.get("jupyter", {})
        assert jupyter.get("source_hidden") is True, (
            f"{rel}: {_meta(cell)['grade_id']} is not collapsed (metadata.jupyter.source_hidden)"
        )
        assert not jupyter.get("outputs_hidden"), (
            f"{rel}: {_meta(cell)['grade_id']} hides its output, the message a student reads"
        )


@pytest.mark.parametrize("rel", list(COURSE))
def test_notebook_teaches_goals_summary_and_module(rel):
    nb = _read(rel)
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    if COURSE[rel]:
        reference = inspect.unwrap(getattr(rnnlib, COURSE[rel][0]))
        module = f"rnnlib/{Path(inspect.getsourcefile(reference)).name}"
    else:  # a lesson without exercises names its module itself
        module = UNGRADED_MODULES[rel]
    text = "\n".join(markdown)
    assert markdown and markdown[0].lstrip().startswith("#"), f"{rel}: should open with a title"
    assert "$" in text, f"{rel}: no LaTeX equations in the prose"
    appendix = [i for i, m in enumerate(markdown) if "appendix (optional)" in m.lower()]
    lesson = markdown[: appendix[0]] if appendix else markdown  # an optional appendix comes last
    assert "summary" in lesson[-1].lower() or "summary" in lesson[-2].lower(), (
        f"{rel}: no summary at the end of the lesson (before any optional appendix)"
    )
    assert module in text, f"{rel}: never says that {module} holds the finished code"


@pytest.mark.parametrize("rel", list(COURSE))
def test_stored_outputs_have_no_memory_addresses_or_errors(rel):
    nb = _read(rel)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert cell.get("execution_count"), (
            f"{rel}: a code cell was not executed; run python tools/notebooks.py build"
        )
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "error", (
                f"{rel}: stored error output in {cell.source[:60]!r}"
            )
            text = out.get("text", "") + str(out.get("data", {}).get("text/plain", ""))
            assert " at 0x" not in text, f"{rel}: unstable repr in output: {text[:80]!r}"


@pytest.mark.parametrize(
    "edit", ["md prose", "md test cell", "ipynb points", "ipynb outputs cleared"]
)
def test_a_notebook_out_of_step_with_its_md_is_caught(tmp_path, edit):
    """The check above can fail: an edit to either file alone is reported."""
    import shutil

    folder = tmp_path / "03-loss"
    shutil.copytree(ROOT / "notebooks" / "03-loss", folder)
    md, ipynb = folder / "loss.md", folder / "loss.ipynb"
    assert notebooks.differences(md) == [], "the copy differs before any edit"
    if edit.startswith("md"):
        text = md.read_text()
        old = "## 3.1 " if edit == "md prose" else "assert np.isclose("
        md.write_text(text.replace(old, old + "changed ", 1))
    else:
        nb = nbformat.read(ipynb, as_version=4)
        for cell in nb.cells:
            if edit == "ipynb points" and _meta(cell).get("grade"):
                cell.metadata["nbgrader"]["points"] += 1
            if edit == "ipynb outputs cleared" and cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(nb, ipynb)
    assert notebooks.differences(md), f"{edit}: the .ipynb and the .md differ, and nothing says so"


def test_readme_figures_are_the_notebooks_stored_outputs():
    """Each figure the README shows is byte for byte a figure its notebook stores."""
    assert notebooks.readme_figures(), "the README shows no notebook figure: the pattern is stale"
    found = notebooks.figure_differences()
    assert not found, f"{found}; copy them: python tools/notebooks.py figures"


def test_a_readme_figure_out_of_step_with_its_notebook_is_caught(tmp_path, monkeypatch):
    """The check above can fail: a figure that is not its notebook's is named."""
    png, (ipynb, k) = next(iter(notebooks.readme_figures().items()))
    monkeypatch.setattr(notebooks, "FIGURES", tmp_path)
    (tmp_path / png.name).write_bytes(notebooks.stored_figures(ipynb)[k] + b"\0")
    found = notebooks.figure_differences()
    assert any(png.name in line for line in found), f"a changed {png.name} went unnoticed: {found}"


def _numbers(text: str) -> list[str]:
    """The measured numbers in ``text``: 0.32, 1.00, 7e-01 (not counts or sizes)."""
    import re

    return re.findall(r"(?<![\w.])(?:\d\.\d\d|\de[+-]\d\d)(?!\w|\.\d)", text)


def _stored_text(rel: str) -> str:
    outputs = [out for cell in _read(rel).cells for out in cell.get("outputs", [])]
    return "".join(out.get("text", "") for out in outputs if out.output_type == "stream")


def test_readme_quotes_the_gated_notebooks_own_outputs():
    """The README's "Why the gated cells help, measured" quotes numbers that notebooks 7 and 8
    print, at their fixed seeds."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index("**Why the gated cells help, measured**")
    paragraph = readme[start : readme.index("\n\n", start)]
    outputs = _stored_text("07-lstm/lstm.ipynb") + _stored_text("08-gru/gru.ipynb")
    quoted = _numbers(paragraph)
    assert len(quoted) >= 8, f"the paragraph quotes only {quoted}: the pattern is stale"
    missing = [n for n in quoted if n not in _numbers(outputs)]
    assert not missing, f"the README quotes {missing}, which notebooks 7 and 8 do not print"


def _powers_of_ten(markdown: str) -> list[str]:
    """The prose's measured numbers written as $5\\cdot10^{-6}$, each as Python prints it: 5e-06."""
    import re

    found = re.findall(r"(\d)\s*\\cdot\s*10\^\{([-+]?)(\d+)\}", markdown)
    return [f"{d}e{sign or '+'}{int(k):02d}" for d, sign, k in found]


@pytest.mark.parametrize("rel", COURSE)
def test_measured_numbers_in_the_prose_are_printed_by_the_notebook(rel):
    """A number the prose quotes as d·10^k is one the notebook's own outputs print."""
    nb = _read(rel)
    prose = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    printed = _numbers(_stored_text(rel))
    missing = [n for n in _powers_of_ten(prose) if n not in printed]
    assert not missing, f"{rel}'s prose quotes {missing}, which its outputs do not print"


def _openblas_on_x86() -> bool:
    import platform

    from threadpoolctl import threadpool_info

    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    return platform.machine() in ("x86_64", "AMD64") and any(
        i["internal_api"] == "openblas" for i in blas
    )


@pytest.mark.skipif(not _openblas_on_x86(), reason="OPENBLAS_CORETYPE picks x86 OpenBLAS kernels")
def test_stored_outputs_do_not_depend_on_the_cpus_blas_kernels():
    """nbval passes with OpenBLAS's Sandybridge kernels too, not only with the ones it picks for
    this CPU: another machine rounds the products differently, so a stored output that prints
    rounding (a gradient check's digits) or the end of a chaotic training fails there."""
    import os
    import re
    import subprocess

    env = {**os.environ, "OPENBLAS_CORETYPE": "Sandybridge", "OPENBLAS_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "pytest", "-o", "addopts=", "-p", "no:cacheprovider", "-q"]
    command += ["--nbval", "--nbval-current-env", "--nbval-cell-timeout=300", "notebooks"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    failed = re.findall(r"^FAILED (.+?) - ", result.stdout, re.M)
    assert result.returncode == 0, (
        f"with OpenBLAS's Sandybridge kernels these stored outputs differ: "
        f"{failed or result.stdout[-2000:]} (print what does not depend on rounding, "
        "or tag the cell nbval-ignore-output)"
    )
