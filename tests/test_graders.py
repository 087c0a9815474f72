"""The graders pipeline end to end on a temporary course, plus its pure parts.

A session fixture releases 01-forward and 03-loss into a temporary course root, writes a class
(the solution, the blank release, and students making typical mistakes of graders/lessons/) and
autogrades it once with --jobs 2; the tests read grades.csv, results.json, the feedback and the
gradebook.
"""

from __future__ import annotations

import ast
import csv
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from graders import (
    autograde,
    classroom,
    course,
    feedback,
    release,
    results,
    sandbox,
    sanitize,
    static,
    stubs,
)
from graders.preprocessors import limit_output_bytes, strip_hidden

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = {"01-forward": "forward", "03-loss": "loss"}


# the typical mistakes (graders/lessons/) handed in by the class, one student each; each leaves
# another exercise of its notebook passing, so it earns partial credit
GRADED_MISTAKES = {
    "01-forward": ("state_off_by_one", "state_not_carried"),
    "03-loss": ("softmax_overflow", "loss_mean_over_time", "loss_missing_1_over_m"),
}


def _mutants() -> dict[str, tuple[str, str, dict[str, str]]]:
    """student -> (assignment, the start of the mistake's message, exercise -> answer cell)."""
    from graders import checks
    from graders.lessons import answer_cell

    found = {}
    for assignment, keys in GRADED_MISTAKES.items():
        for name, ex in checks.EXERCISES.items():
            for m in ex.mistakes if ex.assignment == assignment else ():
                if m.key in keys and f"mutant_{m.key}" not in found:
                    named = re.split(r"[:(]", m.message)[0].strip()
                    found[f"mutant_{m.key}"] = (assignment, named, {name: answer_cell(m.fn, name)})
    return found


def build_class(base: Path, students: list[str] | None = None) -> tuple[Path, Path]:
    """Release the two assignments into base/course and write the class to base/submitted."""
    root, submitted = base / "course", base / "submitted"
    problems = release.release(list(ASSIGNMENTS), root=str(root))
    assert not problems, f"release failed: {problems}"
    mutants = _mutants()
    for assignment, notebook in ASSIGNMENTS.items():
        release_nb = course.read_notebook(root / "release" / assignment / f"{notebook}.ipynb")
        solution = course.solution_answers(
            course.read_notebook(course.NOTEBOOKS / assignment / f"{notebook}.ipynb")
        )
        subs = {"solution": solution, "blank": {}}
        subs.update(
            {
                name: {**solution, **answers}
                for name, (a, _, answers) in mutants.items()
                if a == assignment
            }
        )
        for student, answers in subs.items():
            if students is not None and student not in students:
                continue
            path = submitted / student / assignment / f"{notebook}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(classroom.make_submission(release_nb, answers), path)
    return root, submitted


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("class")
    root, submitted = build_class(base)
    results = autograde.autograde(submitted, out=base / "out", jobs=2, root=root, progress=False)
    with open(base / "out" / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    yield {"rows": rows, "results": results, "out": base / "out", "root": root, "base": base}
    shutil.rmtree(base, ignore_errors=True)


def _row(graded, student: str, assignment: str) -> dict:
    return next(
        r for r in graded["rows"] if r["student"] == student and r["assignment"] == assignment
    )


def _feedback(graded, student: str, assignment: str) -> str:
    path = graded["out"] / "feedback" / student / assignment / f"{ASSIGNMENTS[assignment]}.html"
    assert path.is_file(), f"no feedback at {path}"
    return html.unescape(path.read_text())


def test_mutants_cover_both_notebooks():
    assert {a for a, _, _ in _mutants().values()} == set(ASSIGNMENTS), (
        "need mutants of 01-forward and 03-loss"
    )


def test_csv_has_the_documented_columns(graded):
    with open(graded["out"] / "grades.csv", newline="") as f:
        header = next(csv.reader(f))
    assert header == list(autograde.CSV_COLUMNS), f"grades.csv header is {header}"


@pytest.mark.parametrize("assignment", list(ASSIGNMENTS))
def test_solution_scores_full_marks(graded, assignment):
    row = _row(graded, "solution", assignment)
    assert row["score"] == row["max_score"] and float(row["max_score"]) > 0, row
    assert row["status"] == "ok", row


@pytest.mark.parametrize("assignment", list(ASSIGNMENTS))
def test_blank_scores_zero_and_is_ok(graded, assignment):
    row = _row(graded, "blank", assignment)
    assert (row["score"], row["status"]) == ("0", "ok"), row


@pytest.mark.parametrize("student", sorted(_mutants()))
def test_mutant_earns_partial_credit_and_its_feedback_names_the_mistake(graded, student):
    assignment, expected, answers = _mutants()[student]
    row = _row(graded, student, assignment)
    assert 0 < float(row["score"]) < float(row["max_score"]), (
        f"{student}: not partial credit: {row}"
    )
    assert row["status"] == "ok", f"{student}: a plain mistake is not tampering: {row}"
    text = _feedback(graded, student, assignment)
    assert expected in text, f"{student}: the feedback does not name {expected!r}"


def test_feedback_has_no_hidden_tests(graded):
    for student in ("solution", "blank"):
        for assignment in ASSIGNMENTS:
            text = _feedback(graded, student, assignment)
            assert "BEGIN HIDDEN TESTS" not in text and "run_hidden_checks" not in text, (
                student,
                assignment,
            )
            assert "Outside check of" in text, f"{student}/{assignment}: no outside-check verdicts"


def test_blank_feedback_shows_the_students_error_not_the_hidden_traceback(graded):
    text = _feedback(graded, "blank", "03-loss")
    assert "NotImplementedError" in text, "the blank answer's own error is not shown"
    assert "graders/checks.py" not in text, "a traceback quotes the hidden checks"


def test_gradebook_agrees_with_the_csv(graded):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{graded['root'] / 'gradebook.db'}", course.COURSE_ID) as gb:
        for row in graded["rows"]:
            sub = gb.find_submission_notebook(row["notebook"], row["assignment"], row["student"])
            assert abs(sub.score - float(row["score"])) < 1e-9, (
                f"gradebook {sub.score} vs CSV {row}"
            )


def test_autograded_notebooks_are_in_the_course_root_for_formgrader(graded):
    for row in graded["rows"]:
        path = (
            graded["root"]
            / "autograded"
            / row["student"]
            / row["assignment"]
            / f"{row['notebook']}.ipynb"
        )
        assert path.is_file(), f"missing {path}"


def test_grading_twice_through_the_cli_gives_the_same_csv_and_gradebook(tmp_path, capsys):
    from nbgrader.api import Gradebook

    from graders.__main__ import main

    root, submitted = build_class(tmp_path, students=["mutant_loss_mean_over_time"])
    before = {p: p.read_bytes() for p in submitted.rglob("*") if p.is_file()}
    url = f"sqlite:///{tmp_path / 'shared-gradebook.db'}"
    texts = []
    for run in ("a", "b"):
        argv = ["--root", str(root), "autograde", str(submitted), "--out", str(tmp_path / run)]
        assert main([*argv, "--jobs", "2", "--db", url]) == 0, f"run {run} failed"
        texts.append((tmp_path / run / "grades.csv").read_text())
    assert texts[0] == texts[1], f"two runs differ:\n{texts[0]}\n{texts[1]}"
    assert texts[0].count("\n") == 2, texts[0]  # the header and the row
    assert "mutant_loss_mean_over_time" in capsys.readouterr().out, "no score table printed"
    assert {p: p.read_bytes() for p in submitted.rglob("*") if p.is_file()} == before, (
        "SUBMISSIONS changed"
    )
    with Gradebook(url, course.COURSE_ID) as gb:
        sub = gb.find_submission_notebook("loss", "03-loss", "mutant_loss_mean_over_time")
        assert f"{sub.score:g}" == texts[0].splitlines()[1].split(",")[3], (
            "--db gradebook disagrees"
        )


# ----------------------------------------------------------------------------------- release


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    root = tmp_path_factory.mktemp("release")
    problems = release.release(["03-loss"], root=str(root))
    return root, problems


def test_release_is_clean(released):
    root, problems = released
    assert problems == [], problems
    assert (root / "release" / "03-loss" / "loss.ipynb").is_file(), "no student version written"


@pytest.mark.parametrize("leak", ["solution", "hidden", "marker"])
def test_release_check_finds_a_leak(released, tmp_path, leak):
    root, _ = released
    copy = tmp_path / "release"
    shutil.copytree(root / "release", copy)
    path = copy / "03-loss" / "loss.ipynb"
    nb = course.read_notebook(path)
    src = course.read_notebook(course.NOTEBOOKS / "03-loss" / "loss.ipynb")
    solution_lines, hidden_lines = release.secrets_of(src)
    text = {
        "solution": sorted(solution_lines)[0],
        "hidden": sorted(hidden_lines)[0],
        "marker": "### BEGIN SOLUTION",
    }[leak]
    nb.cells[-1].source += "\n" + text
    nbformat.write(nb, path)
    problems = release.verify_release(copy, course.NOTEBOOKS, ["03-loss"])
    assert problems and str(path) in problems[0], f"the {leak} leak was not found: {problems}"


def test_release_command_fails_loudly(tmp_path, monkeypatch):
    monkeypatch.setattr(
        release, "verify_release", lambda *a, **k: ["x.ipynb:cell 3: solution code: 'leak'"]
    )
    from graders.__main__ import main

    assert main(["--root", str(tmp_path), "release", "03-loss"]) == 1


def test_nbgrader_cli_uses_the_course_config(tmp_path):
    env = {**os.environ, "RNN_GRADE_ROOT": str(tmp_path / "root")}
    nbgrader = Path(sys.executable).parent / "nbgrader"
    run = subprocess.run(
        [str(nbgrader), "generate_assignment", "03-loss", "--force"],
        cwd=ROOT / "graders",
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert (tmp_path / "root" / "release" / "03-loss" / "loss.ipynb").is_file(), (
        "nbgrader wrote no release"
    )
    assert (tmp_path / "root" / "gradebook.db").is_file(), (
        "nbgrader made no gradebook in the course root"
    )


# ----------------------------------------------------------------------------------- pure parts


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import numpy as np\nnp.allclose = lambda *a, **k: True", "patches np.allclose"),
        (
            "import numpy\nnumpy.testing.assert_allclose = print",
            "patches numpy.testing.assert_allclose",
        ),
        ("from numpy import testing as t\nt.assert_allclose = print", "patches t.assert_allclose"),
        ("import builtins\nbuiltins.abs = max", "imports builtins"),
        ("get_ipython().input_transformers_cleanup.append(f)", "get_ipython"),
        ("import sys\nsys.modules['numpy'] = None", "sys.modules"),
        ("from rnnlib import softmax", "imports the reference softmax"),
        (
            "import rnnlib\ndef softmax(z):\n    return rnnlib.softmax(z)",
            "uses the reference rnnlib.softmax",
        ),
        ("import os\nos._exit(0)", "os._exit"),
        ("setattr(np, 'allclose', f)", "setattr"),
        ("from graders.checks import _expected", "grader's own modules"),
    ],
)
def test_static_check_flags_tampering(source, expected):
    flags = static.scan_cell(source, "softmax", {"softmax"})
    assert any(expected in f.message or expected in f.text() for f in flags), (source, flags)


def test_static_check_passes_every_solution():
    for path in sorted(course.NOTEBOOKS.glob("*/*.ipynb")):
        nb = course.read_notebook(path)
        answers = course.solution_answers(nb)
        flags = static.scan_notebook([(n, s, n) for n, s in answers.items()], set(answers))
        assert flags == [], f"{path.name}: false alarms {flags}"


def test_stub_functions_removes_the_bodies():
    source = "def softmax(z):\n    '''doc'''\n    e = secret(z)\n    return e\n\ndef other():\n    return 1\n"
    out = stubs.stub_functions(source, {"softmax"})
    assert "secret" not in out and "raise RuntimeError" in out and "return 1" in out, out


def test_strip_hidden_and_byte_limit():
    text = "a = 1\n### BEGIN HIDDEN TESTS\nsecret()\n### END HIDDEN TESTS\nb = 2"
    assert strip_hidden(text) == "a = 1\nb = 2", strip_hidden(text)
    outputs = limit_output_bytes(
        [{"output_type": "stream", "name": "stdout", "text": "x" * 1_000_000}], 1000
    )
    assert len(outputs[0]["text"]) < 1200 and "truncated" in outputs[0]["text"], (
        "a 1 MB line was not cut"
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="namespaces and uids need root")
def test_jail_hides_paths_blocks_fork_and_drops_root(tmp_path):
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "answers.txt").write_text("42")
    result = sandbox.probe(tmp_path / "probe", sandbox.UID_BASE + 98, [str(secret)])
    assert "allow-list" in result["isolation"], result
    assert result["uid"] == sandbox.UID_BASE + 98, result
    assert result["pid"] == 2, f"the child is not in a PID namespace of its own: {result}"
    assert result["net"] == [], f"the child sees network interfaces: {result}"
    assert result["hidden"] == [str(secret)], result
    assert result["fork"] is False, result


@pytest.mark.skipif(os.geteuid() != 0, reason="namespaces and uids need root")
def test_jail_has_its_own_sysv_ipc(tmp_path):
    """Shared memory made outside (or by an earlier student) is not there inside the jail."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    segment = libc.shmget(0, 4096, 0o1600)  # IPC_PRIVATE, IPC_CREAT | 0600
    assert segment >= 0, f"could not make a test segment (errno {ctypes.get_errno()})"
    try:
        config = tmp_path / "jail.json"
        uid = sandbox.UID_BASE + 94
        config.write_text(json.dumps({"uid": uid, "gid": uid}))
        code = "print(len(open('/proc/sysvipc/shm').read().splitlines()) - 1)"
        run = subprocess.run(
            [sys.executable, "-m", "graders.jail", str(config), "--", sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert run.stdout.strip() == "0", f"the jail sees shared memory segments: {run}"
    finally:
        libc.shmctl(segment, 0, None)  # IPC_RMID


def test_child_cells_keep_definitions_and_drop_demos():
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "import numpy as np\nimport matplotlib.pyplot as plt\nn = 3\nmodel = train(100)"
            ),
        ]
    )
    cells = autograde.child_cells(nb, set())
    assert cells == [("cell 0", "import numpy as np\nn = 3")], cells


def test_results_json_lists_every_row(graded):
    details = json.loads((graded["out"] / "results.json").read_text())
    assert len(details) == len(graded["rows"]), "results.json and grades.csv list different rows"
    assert all(d["exercises"] for d in details), "a row of results.json has no exercises"


def test_demo_mutants_are_answer_cells_of_their_exercise():
    for m in classroom.MUTANTS:
        name = course.assignments()[m.assignment][0]
        solution = course.solution_answers(
            course.read_notebook(course.NOTEBOOKS / m.assignment / f"{name}.ipynb")
        )
        tree = ast.parse(m.answer())
        defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
        assert m.exercise in defined, (
            f"{m.student}'s answer cell defines {defined}, not {m.exercise}"
        )
        assert m.answer() != solution[m.exercise], f"{m.student} hands in the solution"


def test_feedback_cannot_carry_a_students_script():
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# The course's own text"),
            nbformat.v4.new_markdown_cell("<script>alert('markdown')</script>"),
            nbformat.v4.new_code_cell(
                "x",
                outputs=[
                    nbformat.v4.new_output(
                        "display_data",
                        data={
                            "text/html": "<script>alert('output')</script>",
                            "text/plain": "<HTML>",
                        },
                    )
                ],
            ),
        ]
    )
    res = results.NotebookResult("s<script>", "03-loss", "loss", 0.0, 5.0, "ok")
    out = feedback.feedback_notebook(res, nb, {"# The course's own text"})
    text = json.dumps(out)
    assert "<script>" not in text, text
    assert "# The course's own text" in text, "the course's markdown should render as markdown"


@pytest.mark.skipif(os.geteuid() != 0, reason="namespaces and uids need root")
def test_jailed_uid_reads_a_package_behind_a_closed_folder_but_nothing_else(tmp_path):
    closed = tmp_path / "closed"
    package = closed / "repo" / "pkg"
    package.mkdir(parents=True)
    (package / "lesson.py").write_text("ANSWER = 42\n")
    (closed / "repo" / "secret.txt").write_text("the gradebook")
    closed.chmod(0o700)
    uid = sandbox.UID_BASE + 97
    config = tmp_path / "jail.json"
    config.write_text(json.dumps({"uid": uid, "gid": uid, "expose": [str(package)]}))
    code = (
        f"import sys, os; sys.path.insert(0, {str(package)!r}); import lesson; "
        f"print(lesson.ANSWER, os.path.exists({str(closed / 'repo' / 'secret.txt')!r}))"
    )
    run = subprocess.run(
        [sys.executable, "-m", "graders.jail", str(config), "--", sys.executable, "-I", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.stdout.split() == ["42", "False"], (
        f"the jailed uid should import the package and not see its neighbour: {run}"
    )


def test_the_alembic_head_read_in_process_is_the_one_nbgrader_asks_its_cli_for():
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    cli = subprocess.run(
        [sys.executable, "-c", "from nbgrader.api import get_alembic_version as v; print(v())"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    ).stdout.strip()
    course.read_alembic_head_in_process()
    import nbgrader.api

    assert nbgrader.api.get_alembic_version() == cli, "a new gradebook would be stamped wrongly"


def test_feedback_typesets_the_courses_math_as_mathml_and_nothing_else():
    course_text = "The state $a^{\\langle t \\rangle}$ and $$\\hat y = g_2(z)$$"
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell(course_text),
            nbformat.v4.new_markdown_cell("my note: $x$ costs $5"),
            nbformat.v4.new_code_cell('label = "$y$"'),
        ]
    )
    res = results.NotebookResult("s$z$", "01-forward", "forward", 0.0, 5.0, "ok")
    page, _ = feedback.feedback_exporter().from_notebook_node(
        feedback.feedback_notebook(res, nb, {course_text})
    )
    assert page.count("<math") == 2, "the course's inline and display math should be MathML"
    assert 'display="block"' in page, "$$...$$ should be typeset as display math"
    for literal in ("$x$ costs $5", "$y$", "s$z$"):
        assert literal in html.unescape(page), (
            f"{literal!r} is not the course's math: keep it as typed"
        )


def _course_math_cells() -> list[tuple[str, str]]:
    """(where, rendered markdown) for every markdown cell of the course's notebooks with math."""
    from nbconvert.filters.markdown import markdown2html_mistune

    found = []
    for path in sorted(course.NOTEBOOKS.glob("*/*.ipynb")):
        for i, cell in enumerate(course.read_notebook(path).cells):
            if cell.cell_type == "markdown" and "$" in cell.source:
                found.append((f"{path.parent.name} cell {i}", markdown2html_mistune(cell.source)))
    return found


MATH_CELLS = _course_math_cells()


@pytest.mark.parametrize("body", [b for _, b in MATH_CELLS], ids=[w for w, _ in MATH_CELLS])
def test_every_formula_of_the_course_is_typeset_in_the_feedback(body):
    typeset = feedback.math_to_mathml(body)
    text = feedback._NOT_MATH.sub(" ", typeset)  # what is left outside tags and code
    left = [m.group(0) for m in feedback._MATH.finditer(text)]
    assert not left, f"left as TeX in the feedback (latex2mathml could not read it): {left}"
    marks = re.findall(r"<mi>&(?:amp;)?</mi>", typeset)
    assert not marks, f"{len(marks)} alignment marks shown as the letter '&' in the feedback"


def _math_text(typeset: str) -> list[str]:
    """The text runs (<mtext>) of typeset MathML, as a reader sees them."""
    runs = re.findall(r"<mtext\b[^>]*>(.*?)</mtext>", typeset, re.S)
    return [html.unescape(run).replace("\xa0", " ") for run in runs]


TEXT_IN_MATH = [
    ("texttt", r"$\texttt{da\_next}$", "da_next"),
    ("text", r"$\text{x\_1 and x\_2}$", "x_1 and x_2"),
    ("textrm", r"$\textrm{dc\_next}$", "dc_next"),
    ("mbox", r"$\mbox{a\_prev}$", "a_prev"),
    ("percent-and-hash", r"$\text{5\% of row \#2}$", "5% of row #2"),
]


@pytest.mark.parametrize(
    "tex, shown", [t[1:] for t in TEXT_IN_MATH], ids=[t[0] for t in TEXT_IN_MATH]
)
def test_an_escaped_character_in_text_in_math_shows_as_itself(tex, shown):
    runs = _math_text(feedback.math_to_mathml(tex))
    assert runs == [shown], f"{tex} should show the text {shown!r} in the feedback, shows {runs}"


def test_texttt_in_math_is_typeset_in_a_monospace_font():
    typeset = feedback.math_to_mathml(r"$\texttt{da\_next}$")
    assert '<mtext mathvariant="monospace">' in typeset, f"\\texttt is not monospace: {typeset}"
    # MathML Core (what browsers typeset) ignores mathvariant but on <mi>: the page's CSS sets it
    style = re.search(r"<style>(.*?)</style>", sanitize.MATH_STYLE, re.S).group(1)
    assert re.search(r'\[mathvariant="monospace"\][^{]*\{[^}]*font-family:\s*monospace', style), (
        f"the feedback page's style does not set monospace text in a monospace font: {style}"
    )


@pytest.mark.parametrize("body", [b for _, b in MATH_CELLS], ids=[w for w, _ in MATH_CELLS])
def test_no_formula_of_the_course_shows_a_tex_backslash_in_its_text(body):
    shown = [run for run in _math_text(feedback.math_to_mathml(body)) if "\\" in run]
    assert not shown, f"TeX escapes shown as typed in the feedback's math: {shown}"


def test_a_worker_whose_zygote_died_starts_another_and_grades_on(tmp_path, monkeypatch):
    root, submitted = build_class(tmp_path, students=["solution"])
    started, real_start, real_grade = [], sandbox.start_zygote, autograde.grade_task

    def start(*args, **kwargs):
        started.append(proc := real_start(*args, **kwargs))
        return proc

    def grade_then_kill_the_zygote(task):
        rows = real_grade(task)
        autograde._worker.zygote.kill()  # as if the machine's OOM killer had taken it
        autograde._worker.zygote.wait()
        return rows

    monkeypatch.setattr(sandbox, "start_zygote", start)
    monkeypatch.setattr(autograde, "grade_task", grade_then_kill_the_zygote)
    rows = autograde.autograde(submitted, out=tmp_path / "out", jobs=1, root=root, progress=False)
    assert len(started) == len(ASSIGNMENTS), f"zygotes started: {len(started)}"
    assert all(r.status == "ok" and r.score == r.max_score for r in rows), [
        (r.assignment, r.score, r.status) for r in rows
    ]


def test_a_students_code_is_escaped_in_the_feedback_page():
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("page = '</pre><script>alert(1)</script>'")]
    )
    res = results.NotebookResult("s", "03-loss", "loss", 0.0, 5.0, "ok")
    page, _ = feedback.feedback_exporter().from_notebook_node(
        feedback.feedback_notebook(res, nb, set())
    )
    assert "<script>alert" not in page, "a student's code reached the page as HTML"
    assert "alert" in page, "the student's code is missing from the page"
