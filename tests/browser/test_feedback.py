"""The feedback a student gets from `python -m graders autograde`, as it looks in their browser.

A student answers every exercise of the first notebook but the last; the instructor grades the
submission; the student opens the HTML feedback. It must read as a page (headings, a score table),
name the exercise that was left unanswered, and show no hidden test.
"""

from __future__ import annotations

import re
import subprocess
import sys

import nbformat
from browser_harness import NOTEBOOKS, ROOT, reference_answer, venv_env

LITERAL_TAGS = re.compile(r"<(h[1-6]|p|table|thead|tbody|tr|th|td|div|ul|li)\b[^>]*>")


def test_feedback_reads_as_a_page_and_names_the_unanswered_exercise(
    student_release, tmp_path, browser_context, screenshots
):
    first = sorted(student_release.glob("*/*.ipynb"))[0]
    assignment, notebook = first.parent.name, first.stem
    source = nbformat.read(NOTEBOOKS / assignment / first.name, as_version=4)
    solutions = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in source.cells
        if c.get("metadata", {}).get("nbgrader", {}).get("solution")
    }
    nb = nbformat.read(first, as_version=4)
    answers = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")]
    assert answers, f"{first.name}: no answer cells in the release"
    for cell in answers[:-1]:
        name = cell.metadata["nbgrader"]["grade_id"]
        cell.source = reference_answer(name, solutions[name])
    unanswered = answers[-1].metadata["nbgrader"]["grade_id"]
    path = tmp_path / "submitted" / "bob" / assignment / first.name
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)

    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "graders", "--root", str(tmp_path / "course"), "autograde",
         str(tmp_path / "submitted"), "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=venv_env(),
    )  # fmt: skip
    assert done.returncode == 0, (
        f"graders autograde failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    )
    html = out / "feedback" / "bob" / assignment / f"{notebook}.html"
    assert html.is_file(), f"no feedback at {html}"

    page = browser_context.new_page()
    try:
        page.goto(html.as_uri())
        page.wait_for_load_state("load")
        page.screenshot(path=str(screenshots / "feedback.png"))
        text = page.locator("body").inner_text()
        assert unanswered in text and "NotImplementedError" in text, (
            f"the feedback does not say that {unanswered} was left unanswered"
        )
        assert "BEGIN HIDDEN TESTS" not in text and "run_hidden_checks" not in text, (
            "the feedback shows the hidden tests"
        )
        literal = sorted({m.group(0)[:40] for m in LITERAL_TAGS.finditer(text)})
        assert not literal, f"the feedback page shows HTML tags as text: {literal[:6]}"
        headings = page.locator("h1").all_inner_texts()
        assert any("Feedback" in h for h in headings), f"no 'Feedback' heading: {headings[:3]}"
        # the course's equations arrive typeset as MathML in the page: no script, offline too
        assert page.locator("math").count(), "the feedback page has no typeset (MathML) equation"
        assert not page.locator("script").count(), "the feedback page carries a script"
        # the figures the notebook drew while it was graded, shown as images the browser decodes
        drawn = page.evaluate(
            "Array.from(document.querySelectorAll('.jp-OutputArea-output img'))"
            ".filter(i => i.complete && i.naturalWidth > 100).length"
        )
        assert drawn >= 1, f"the feedback shows {drawn} figures: the notebook draws some"
    finally:
        page.close()
