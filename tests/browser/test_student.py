"""A student works through every notebook of the course in JupyterLab (headless Chromium).

For each notebook of the student release: it renders (math typeset, headings, figures); Run All
on the unanswered release fails only with the exercises' NotImplementedError (and the test cells
after them); a typical mistake typed into the first exercise makes nbgrader's Validate name the
failing test with a message that helps; the reference answers typed into every answer cell run
cleanly and Validate says the notebook passes. Screenshots: _artifacts/screenshots/.
"""

from __future__ import annotations

import re
import time

import nbformat
import pytest
from browser_harness import (
    NOTEBOOKS,
    Lab,
    course_notebooks,
    reference_answer,
    running_lab,
)

COURSE = course_notebooks()

# A typical mistake per notebook, typed into its first exercise that has one: (text in the
# reference answer, what the student wrote instead, words the failing test's message must contain
# (any one of each tuple)).
MISTAKES = {
    "rnn_cell_forward": (
        "Waa @ a_prev + Wax @ xt + ba",
        "Waa @ a_prev + Wax @ xt",
        [("ba", "bias")],
    ),
    "stack_weights": ("[Waa, Wax]", "[Wax, Waa]", [("Waa",)]),
    "softmax": ("e.sum(axis=0", "e.sum(axis=1", [("axis", "column")]),
    "rnn_cell_backward": (
        "activation_derivative(hidden_activation, a_next)",
        "(1 - np.tanh(a_next) ** 2)",
        [("1 - a_next²", "derivative", "g1'")],
    ),
    "sgd_step": (
        "parameters[name] - learning_rate",
        "parameters[name] + learning_rate",
        [("minus", "descend")],
    ),
    "backprop_norms": ('parameters["Waa"].T @', 'parameters["Waa"] @', [("transpose", "Waaᵀ")]),
    "lstm_cell_forward": ("ot * np.tanh(c_next)", "ot * c_next", [("tanh",)]),
    "gru_cell_forward": (
        "ut * cct + (1 - ut) * a_prev",
        "(1 - ut) * cct + ut * a_prev",
        [("Γu", "candidate")],
    ),
    "many_to_one_forward": (
        "np.logaddexp(0, o) - y * o",
        "np.logaddexp(0, o) - (1 - y) * o",
        [("cross-entropy",)],
    ),
}


def _nbgrader(cell: dict) -> dict:
    """nbgrader's metadata of a cell, from nbformat or from Lab.cells()."""
    return cell.get("nbgrader") or cell.get("metadata", {}).get("nbgrader", {})


def wrong_answer(name: str, reference: str) -> tuple[str, list[tuple[str, ...]]]:
    old, new, words = MISTAKES[name]
    assert old in reference, (
        f"the mistake for {name} no longer applies to its reference: update MISTAKES"
    )
    return reference.replace(old, new, 1), words


def headings(markdown_sources: list[str]) -> list[str]:
    found = []
    for source in markdown_sources:
        in_code = False
        for line in source.splitlines():
            if line.lstrip().startswith("```"):
                in_code = not in_code
            elif not in_code and re.match(r"#{1,6}\s", line):
                found.append(line.lstrip("#").strip())
    return found


@pytest.fixture(scope="session")
def student_server(student_release, tmp_path_factory):
    with running_lab(student_release, tmp_path_factory.mktemp("student-lab")) as server:
        yield server


@pytest.fixture(scope="session")
def student_page(browser_context, student_server):
    """One JupyterLab page for every notebook (loading JupyterLab costs seconds on 2 cores)."""
    page = browser_context.new_page()
    yield Lab(page, student_server)
    page.close()


@pytest.fixture()
def student_lab(student_page):
    """The student's page; after the test, its notebook closed and its kernel shut down."""
    yield student_page
    student_page.close_all()


@pytest.mark.parametrize("rel", COURSE, ids=[rel.split("/")[0] for rel in COURSE])
def test_student_works_through_notebook(rel, student_lab, screenshots):
    t0 = time.monotonic()
    phases: list[str] = []

    def mark(label: str) -> None:
        phases.append(f"{label} {time.monotonic() - t0:.1f}s")

    name = rel.split("/")[0]
    try:
        _work_through(rel, name, student_lab, screenshots, mark)
    finally:
        print(f"{rel}: " + ", ".join(phases))


def _work_through(rel, name, lab, screenshots, mark):
    source = nbformat.read(NOTEBOOKS / rel, as_version=4)
    page = lab.page
    lab.open("student", rel)
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
    mark("open")

    # --- it renders: math typeset, headings, the release's cells
    cells = lab.cells()
    answers = [
        (i, _nbgrader(c)["grade_id"]) for i, c in enumerate(cells) if _nbgrader(c).get("solution")
    ]
    expected = [_nbgrader(c)["grade_id"] for c in source.cells if _nbgrader(c).get("solution")]
    assert [g for _, g in answers] == expected, (
        f"{rel}: the release's answer cells {answers}, source {expected}"
    )
    for i, grade_id in answers:
        assert "NotImplementedError" in cells[i]["source"], (
            f"{rel}: answer cell {grade_id} is not a stub"
        )

    raw_tex = re.compile(r"\$\$|\\(frac|begin|langle|sum|partial|mathbf|tanh|hat)\b")
    page.wait_for_function(
        """() => {
            const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
            const md = [...panel.querySelectorAll('.jp-RenderedMarkdown')];
            return md.length > 0 && md.every(m => !m.textContent.includes('$$')) &&
                   panel.querySelectorAll('mjx-container').length > 0;
        }""",
        timeout=30_000,
    )
    prose = page.evaluate(
        """() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-RenderedMarkdown')]
            .map(m => { const c = m.cloneNode(true);
                        c.querySelectorAll('code, pre, mjx-container').forEach(e => e.remove());
                        return c.textContent; })"""
    )
    leftovers = [m.group(0) for text in prose for m in raw_tex.finditer(text)]
    assert not leftovers, f"{rel}: math left untypeset in the page: {leftovers[:5]}"
    md_sources = [c.source for c in source.cells if c.cell_type == "markdown"]
    n_display = sum(s.count("$$") // 2 for s in md_sources)
    n_math = page.locator(".jp-NotebookPanel:visible mjx-container").count()
    assert n_math >= max(1, n_display), (
        f"{rel}: {n_math} typeset formulas, the source has {n_display} display equations"
    )
    want = headings(md_sources)
    got = [
        t.replace("¶", "").strip()
        for t in page.locator(".jp-NotebookPanel:visible .jp-RenderedMarkdown")
        .locator("h1, h2, h3, h4, h5, h6")
        .all_inner_texts()
    ]
    assert len(got) == len(want), f"{rel}: the page shows headings {got}, the source has {want}"
    plain = [(w, g) for w, g in zip(want, got, strict=True) if not re.search(r"[$`*_\\\[]", w)]
    assert all(w == g for w, g in plain), (
        f"{rel}: headings differ from the source: {[p for p in plain if p[0] != p[1]]}"
    )
    lab.screenshot(screenshots / f"{name}-1-release.png")
    mark("rendered")

    # --- Run All on the unanswered release: only NotImplementedError, and the tests after it
    retried = lab.run_all(keep_going=True)
    cells = lab.cells()
    bad, tests_failed, not_run = [], set(), []
    for i, cell in enumerate(cells):
        if cell["type"] != "code":
            continue
        if cell["execution_count"] is None:
            not_run.append(i)
        for out in cell["outputs"]:
            if out["output_type"] != "error":
                continue
            meta = _nbgrader(cell)
            if meta.get("grade"):
                tests_failed.add(meta["grade_id"])
            elif out["ename"] != "NotImplementedError":
                first_line = cell["source"].splitlines()[0][:60]
                bad.append(f"cell {i} ({first_line!r}): {out['ename']}: {out['evalue'][:120]}")
    assert not not_run, (
        f"{rel}: running every cell (past errors) left code cells {not_run} unexecuted"
    )
    assert not bad, (
        f"{rel}: the unanswered release fails with errors other than NotImplementedError:\n"
        + "\n".join(bad)
    )
    untested = {f"test_{g}" for _, g in answers} - tests_failed
    assert not untested, f"{rel}: test cells {sorted(untested)} pass on the unanswered release"
    lab.screenshot(screenshots / f"{name}-2-release-run.png")
    mark(f"run-unanswered ({retried} aborted cell runs retried)")

    if not answers:  # a lesson without exercises: it runs as released, nothing to validate
        return
    # --- a typical mistake in the first exercise that has one: Validate names the test and helps
    source_answers = {
        _nbgrader(c)["grade_id"]: c.source for c in source.cells if _nbgrader(c).get("solution")
    }
    references = {g: reference_answer(g, source_answers[g]) for _, g in answers}
    wrong = next((g for _, g in answers if g in MISTAKES), None)
    assert wrong, f"{rel}: add a typical mistake in one of {[g for _, g in answers]} to MISTAKES"
    mistaken, words = wrong_answer(wrong, references[wrong])
    for i, grade_id in answers:
        lab.type_into_cell(i, mistaken if grade_id == wrong else references[grade_id])
    verdict, text = lab.validate()
    lab.show_first_error()
    lab.screenshot(screenshots / f"{name}-3-validate-mistake.png", full=False)
    assert verdict == "validation-failed", f"{rel}: Validate passed a wrong {wrong}:\n{text[:800]}"
    first = (
        text.split("The following cell failed:")[1] if "The following cell failed:" in text else ""
    )
    assert f"{wrong}(" in first.split("Traceback")[0], (
        f"{rel}: the first failing test Validate shows is not the one for {wrong}:\n{text[:1500]}"
    )
    lines = first.rstrip().splitlines()
    starts = [k for k, line in enumerate(lines) if re.match(r"\w+(Error|Exception)\b.*:", line)]
    message = "\n".join(lines[starts[-1] :]).strip() if starts else ""  # may span lines
    assert message.startswith("AssertionError:") and len(message.split()) >= 5, (
        f"{rel}: the failing test for {wrong} should explain itself, "
        f"its message is {message!r}:\n{first[-1500:]}"
    )
    print(f"{rel}: a wrong {wrong} is told: {message}")
    missing = [alts for alts in words if not any(w.lower() in message.lower() for w in alts)]
    assert not missing, (
        f"{rel}: the message for a wrong {wrong} ({message!r}) does not mention {missing}"
    )
    lab.close_dialog()
    lab.type_into_cell(next(i for i, g in answers if g == wrong), references[wrong])
    mark("mistake")

    # --- the reference answers: everything runs, the figures appear, Validate says it passes
    lab.run_all()  # the same kernel: Run All redefines every function
    cells = lab.cells()
    errors = [
        f"cell {i}: {o['ename']}: {o['evalue'][:200]}"
        for i, c in enumerate(cells)
        for o in c["outputs"]
        if o["output_type"] == "error"
    ]
    assert not errors, f"{rel}: the answered notebook still fails:\n" + "\n".join(errors)
    unrun = [i for i, c in enumerate(cells) if c["type"] == "code" and c["execution_count"] is None]
    assert not unrun, f"{rel}: code cells {unrun} did not run"
    n_figures = sum(
        1
        for c in source.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if "image/png" in o.get("data", {})
    )
    images = page.locator(".jp-NotebookPanel:visible .jp-OutputArea-output img")
    page.wait_for_function(
        "(n) => document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)')"
        ".querySelectorAll('.jp-OutputArea-output img').length >= n",
        arg=n_figures,
        timeout=10_000,
    ) if n_figures else None
    assert images.count() >= n_figures, (
        f"{rel}: {images.count()} figures shown, the solved notebook has {n_figures}"
    )
    for k in range(images.count()):
        width = images.nth(k).evaluate("img => img.naturalWidth")
        assert width > 100, f"{rel}: figure {k} did not load (natural width {width})"
    lab.screenshot(screenshots / f"{name}-4-answered.png")
    mark("run-answered")

    verdict, text = lab.validate()
    lab.screenshot(screenshots / f"{name}-5-validate-pass.png", full=False)
    assert (
        verdict == "validation-success" and "Success! Your notebook passes all the tests." in text
    ), f"{rel}: Validate on the reference answers: {verdict}\n{text[:1500]}"
    lab.close_dialog()
    mark("validated")
