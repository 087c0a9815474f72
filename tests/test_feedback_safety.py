"""Feedback pages are safe HTML: nothing a student's notebook holds (outputs, their metadata, cell
metadata, markdown, exception text) puts a script, an event handler or a ``javascript:`` URL
into the page, and no output shows the hidden tests, however the kernel printed them.

The unit tests render crafted notebooks with feedback.feedback_notebook and the feedback
exporter; one end-to-end test grades a tiny hostile 03-loss class with autograde.autograde.
"""

from __future__ import annotations

import base64
import codecs
import html
import json
import lzma
import re
import zlib
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from graders import autograde, classroom, course, feedback, release, results, sanitize

ASSIGNMENT, NOTEBOOK = "03-loss", "loss"
HIDDEN_LINE = 'run_hidden_checks("softmax", softmax)'
# a 1x1 transparent PNG
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
# tags that run script or load active content: none may be in a feedback page
ACTIVE_TAGS = {"script", "iframe", "object", "embed", "base", "form", "frame", "applet", "meta"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "srcset"}


class _Collector(HTMLParser):
    """Every start tag of a page with its attributes (values unescaped, as a browser reads them)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


def unsafe_markup(page: str, *, whole_page: bool = False) -> list[str]:
    """What in ``page`` could run script: active tags, on* attributes, javascript: URLs.

    Only the body (what the template wraps in <main>) unless ``whole_page``: the template's own
    head is checked by test_the_page_itself_loads_no_script.
    """
    if not whole_page:
        start, end = page.find("<main>"), page.rfind("</main>")
        assert 0 <= start < end, "the page has no <main> element"
        page = page[start:end]
    parser = _Collector()
    parser.feed(page)
    found = []
    for tag, attrs in parser.tags:
        if tag in ACTIVE_TAGS and not (whole_page and tag == "meta"):
            found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                found.append(f"<{tag} {name}=...>")
            url = re.sub(r"[\s\x00-\x1f]", "", value or "").lower()
            if name in URL_ATTRIBUTES and url.startswith(("javascript:", "vbscript:")):
                found.append(f"<{tag} {name}={value!r}>")
            if name in URL_ATTRIBUTES and url.startswith("data:") and tag != "img":
                found.append(f"<{tag} {name}=data:...>")
            if name == "style" and ("url(" in url or "expression(" in url):
                found.append(f"<{tag} style={value!r}>")
    if re.search(r"<script", page, re.I):
        found.append("the text '<script' (not escaped)")
    return found


def render(nb: nbformat.NotebookNode, trusted: set[str] = frozenset(), **kw) -> str:
    res = kw.pop("res", None) or results.NotebookResult(
        "student", ASSIGNMENT, NOTEBOOK, 0.0, 5.0, "ok"
    )
    page, _ = feedback.feedback_exporter().from_notebook_node(
        feedback.feedback_notebook(res, nb, trusted, **kw)
    )
    return page


def output(kind: str, data: dict, metadata: dict | None = None, **extra) -> dict:
    if kind == "execute_result":
        extra.setdefault("execution_count", 1)
    return nbformat.from_dict(
        {"output_type": kind, "data": data, "metadata": metadata or {}, **extra}
    )


def code(outputs: list, source: str = "x", **cell) -> nbformat.NotebookNode:
    c = nbformat.v4.new_code_cell(source, outputs=outputs)
    c.update(cell)
    return c


HOSTILE_CELLS = {
    "png width quoted": lambda: code(
        [
            output(
                "display_data", {"image/png": PNG}, {"image/png": {"width": '1" onerror="alert(1)'}}
            )
        ]
    ),
    "png width unquoted": lambda: code(
        [output("display_data", {"image/png": PNG}, {"image/png": {"width": "1 onerror=alert(1)"}})]
    ),
    "jpeg height at top level": lambda: code(
        [output("display_data", {"image/jpeg": PNG}, {"height": "2 onload=alert(1)"})]
    ),
    "png filename javascript:": lambda: code(
        [
            output(
                "display_data",
                {"image/png": PNG},
                {"filenames": {"image/png": "javascript:alert(1)"}},
            )
        ]
    ),
    "png data that closes the attribute": lambda: code(
        [output("display_data", {"image/png": 'x" onerror="alert(1)'})]
    ),
    "text/html output": lambda: code(
        [
            output(
                "display_data",
                {"text/html": "<script>alert(1)</script><img src=x onerror=alert(1)>"},
            )
        ]
    ),
    "_repr_html_ result": lambda: code(
        [
            output(
                "execute_result",
                {"text/html": "<a href='javascript:alert(1)'>x</a>", "text/plain": "<Evil>"},
            )
        ]
    ),
    "_repr_svg_ result": lambda: code(
        [output("execute_result", {"image/svg+xml": "<svg onload='alert(1)'></svg>"})]
    ),
    "_repr_javascript_ result": lambda: code(
        [output("execute_result", {"application/javascript": "alert(1)"})]
    ),
    "text/markdown with script": lambda: code(
        [output("display_data", {"text/markdown": "<script>alert(1)</script>"})]
    ),
    "text/markdown with onerror": lambda: code(
        [output("display_data", {"text/markdown": "<img src=x onerror=alert(1)>"})]
    ),
    "text/markdown javascript: link": lambda: code(
        [output("display_data", {"text/markdown": "[click](javascript:alert(1))"})]
    ),
    "widget view": lambda: code(
        [
            output(
                "display_data",
                {"application/vnd.jupyter.widget-view+json": {"model_id": "</script><script>x"}},
            )
        ]
    ),
    "text/plain with markup": lambda: code(
        [output("execute_result", {"text/plain": "<script>alert(1)</script>"})]
    ),
    "text/latex with markup": lambda: code(
        [output("display_data", {"text/latex": "</div><script>alert(1)</script>"})]
    ),
    "stream with markup": lambda: code(
        [nbformat.v4.new_output("stream", name="stdout", text="<img src=x onerror=alert(1)>")]
    ),
    "error traceback with markup": lambda: code(
        [
            nbformat.v4.new_output(
                "error",
                ename="E<script>",
                evalue="<img src=x onerror=alert(1)>",
                traceback=["<script>alert(1)</script>"],
            )
        ]
    ),
    "execution count that is markup": lambda: code(
        [output("execute_result", {"text/plain": "1"})],
        execution_count="<script>alert(1)</script>",
    ),
    "cell tag that is markup": lambda: code(
        [], metadata={"tags": ['x" onmouseover="alert(1)', "<script>"]}
    ),
    "cell id that is markup": lambda: code([], id='x" onfocus="alert(1)" autofocus="'),
    "markdown cell with attachment": lambda: nbformat.from_dict(
        {
            "cell_type": "markdown",
            "metadata": {},
            "source": "![x](attachment:a.svg) <img src=x onerror=alert(1)>",
            "attachments": {"a.svg": {"image/svg+xml": "<svg onload='alert(1)'/>"}},
        }
    ),
    "raw cell with markup": lambda: nbformat.v4.new_raw_cell(
        "<script>alert(1)</script>", metadata={"raw_mimetype": "text/html"}
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_CELLS))
def test_a_hostile_cell_puts_no_script_into_the_feedback_page(case):
    nb = nbformat.v4.new_notebook()
    nb.cells = [HOSTILE_CELLS[case]()]  # not validated: a submission need not be valid either
    found = unsafe_markup(render(nb))
    assert not found, f"{case}: the feedback page carries {found}"


def test_notebook_metadata_puts_no_script_into_the_page():
    nb = nbformat.v4.new_notebook(cells=[code([])])
    nb.metadata["widgets"] = {
        "application/vnd.jupyter.widget-state+json": {"state": {"</script><script>": 1}}
    }
    nb.metadata["title"] = "</title><script>alert(1)</script>"
    found = unsafe_markup(render(nb), whole_page=True)
    assert not found, f"the notebook's metadata put {found} into the page"


def test_the_page_itself_loads_no_script_and_forbids_it():
    page = render(nbformat.v4.new_notebook(cells=[code([])]))
    found = unsafe_markup(page, whole_page=True)
    assert not found, f"the template put {found} into the page (MathJax, require.js, mermaid?)"
    assert re.search(r"<meta http-equiv=\"Content-Security-Policy\"[^>]*script-src 'none'", page), (
        "the page should forbid script with a Content-Security-Policy"
    )


def test_the_page_has_no_trace_of_mathjax():
    """The math is MathML in the page: no MathJax script, configuration or leftover comment."""
    page = render(nbformat.v4.new_notebook(cells=[code([])]))
    found = [m.group(0) for m in re.finditer(r".{0,40}mathjax.{0,40}", page, re.I | re.S)]
    assert not found, f"the feedback page still mentions MathJax: {found}"


@pytest.mark.parametrize(
    "field",
    ["status", "outside_message", "reason", "student"],
)
def test_the_graders_messages_are_escaped(field):
    payload = "[click](javascript:alert(1)) <img src=x onerror=alert(1)> ![i](javascript:x)"
    ex = results.ExerciseResult("softmax", 2.0, 0.0, False, "wrong")
    res = results.NotebookResult("student", ASSIGNMENT, NOTEBOOK, 0.0, 5.0, "failed: x")
    res.exercises.append(ex)
    if field in ("outside_message", "reason"):
        setattr(ex, field, payload)
    elif field == "status":  # a status whose reason is shown: one that needs review
        res.status = "needs review: " + payload
    else:
        setattr(res, field, payload)
    grade = {"grade": True, "grade_id": "test_softmax", "points": 2, "solution": False}
    nb = nbformat.v4.new_notebook(cells=[code([], metadata={"nbgrader": grade})])
    page = render(nb, res=res)
    found = unsafe_markup(page)
    assert not found, f"a {field} the student's code can steer put {found} into the page"
    assert "click" in html.unescape(page), f"the {field} should still be shown, as text"


def test_the_courses_own_markup_survives_sanitising():
    """MathML, pygments' highlighting and the course's markdown keep their markup."""
    text = "The state $a^{\\langle t \\rangle} = \\frac{1}{2}$ and a [link](https://example.org)"
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell(text),
            code(
                [output("display_data", {"image/png": PNG}, {"image/png": {"width": "40"}})],
                "x = 1",
            ),
        ]
    )
    page = render(nb, {text})
    assert "<math" in page and "<mfrac" in page, "the course's math should stay MathML"
    assert '<span class="n">x</span>' in page, "pygments' highlighting should keep its classes"
    assert 'href="https://example.org"' in page, "the course's links should stay links"
    assert re.search(r'<img[^>]*src="data:image/png;base64,', page), "the image should be shown"
    assert re.search(r'<img[^>]*width="40"', page), "a numeric width should be kept"


def _hidden_history(style: str) -> str:
    source = (
        "from graders.checks import run_hidden_checks\n"
        f"### BEGIN HIDDEN TESTS\n{HIDDEN_LINE}\n### END HIDDEN TESTS"
    )
    if style == "raw":
        return source
    if style == "repr":
        return repr(["", "import numpy as np", source])
    if style == "json":
        return json.dumps({"In": ["", source]})
    if style in ENCODINGS:
        return ENCODINGS[style](source)
    raise ValueError(style)


# how a kernel might print the history to get it past a plain-text search
ENCODINGS = {
    "base64": lambda s: base64.b64encode(s.encode()).decode(),
    "base64 in lines": lambda s: base64.encodebytes(("history: " + s).encode()).decode(),
    "url-safe base64 reversed": lambda s: base64.urlsafe_b64encode(s.encode()).decode()[::-1],
    "reversed": lambda s: s[::-1],
    "rot13": lambda s: codecs.encode(s, "rot13"),
    "hex": lambda s: s.encode().hex(),
    "zlib then base64": lambda s: base64.b64encode(zlib.compress(s.encode())).decode(),
    "xz then hex": lambda s: lzma.compress(s.encode()).hex(),
    "base64 of base64": lambda s: base64.b64encode(base64.b64encode(s.encode())).decode(),
    "percent-escaped": lambda s: "".join(f"%{b:02x}" for b in s.encode()),
    "unicode escapes": lambda s: "".join(f"\\u{ord(c):04x}" for c in s),
}


HIDDEN_OUTPUTS = {
    "stream": lambda text: nbformat.v4.new_output("stream", name="stdout", text=text),
    "text/plain": lambda text: output("execute_result", {"text/plain": text}),
    "text/latex": lambda text: output("display_data", {"text/latex": text}),
    "error": lambda text: nbformat.v4.new_output(
        "error", ename="NameError", evalue=text, traceback=[text]
    ),
}


@pytest.mark.parametrize("style", ["raw", "repr", "json", *ENCODINGS])
@pytest.mark.parametrize("kind", sorted(HIDDEN_OUTPUTS))
@pytest.mark.parametrize("graded", [False, True], ids=["student cell", "test cell"])
def test_hidden_test_text_printed_by_the_kernel_is_removed(style, kind, graded):
    src = course.read_notebook(course.NOTEBOOKS / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    meta = {"nbgrader": {"grade": True, "grade_id": "test_softmax", "points": 2}} if graded else {}
    nb = nbformat.v4.new_notebook(
        cells=[
            code([HIDDEN_OUTPUTS[kind](_hidden_history(style))], metadata=meta),
            code([nbformat.v4.new_output("stream", name="stdout", text="my own output\n")]),
        ]
    )
    page = render(nb, hidden=sanitize.hidden_lines(src))
    text = html.unescape(page).replace('\\"', '"')
    assert HIDDEN_LINE not in text, f"{kind} ({style}) shows the hidden test: {HIDDEN_LINE}"
    assert course.HIDDEN_BEGIN not in text, f"{kind} ({style}) shows the hidden block's marker"
    assert "(hidden test text removed)" in text, "the page should say an output was removed"
    assert "my own output" in text, "an output without hidden text should be kept"


def test_hidden_lines_are_the_hidden_blocks_non_trivial_lines():
    src = course.read_notebook(course.NOTEBOOKS / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    lines = sanitize.hidden_lines(src)
    assert HIDDEN_LINE in lines and 'run_hidden_checks("cross_entropy", cross_entropy)' in lines
    assert "" not in lines and all(len(line.strip()) >= 8 for line in lines), lines


# ------------------------------------------------------------------------------------------
# End to end: a hostile student graded with the real grader
# ------------------------------------------------------------------------------------------

HOSTILE_ANSWER = """
ip = get_ipython()
# after every cell, print the source the kernel just ran (the test cells' hidden block included)
ip.events.register("post_run_cell", lambda result: print(ip.user_ns["In"][-1]))
from IPython.display import display
ON = "on" + "error"
JS = "java" + "script:alert(1)"
display({"image/png": "@PNG@", "text/plain": "img"}, raw=True,
        metadata={"image/png": {"width": "1 " + ON + "=alert(1)", "height": '1" ' + ON + '="x'}})
display({"image/png": "@PNG@"}, raw=True, metadata={"filenames": {"image/png": JS}})
display({"text/markdown": "<scr" + "ipt>alert(1)</scr" + "ipt><img src=x " + ON + "=alert(1)>",
         "text/html": "<a href='" + JS + "'>x</a>", "text/plain": "md"}, raw=True)

class Evil:
    def _repr_html_(self):
        return "<scr" + "ipt>alert(1)</scr" + "ipt>"
    def _repr_svg_(self):
        return "<svg " + ON + "='alert(1)'></svg>"
    def _repr_javascript_(self):
        return "alert(1)"
    def _repr_markdown_(self):
        return "[x](" + JS + ")"

display(Evil())
print(_ih)
"""


def test_a_hostile_student_graded_end_to_end_gets_a_safe_page(tmp_path: Path):
    root, submitted, out = tmp_path / "course", tmp_path / "submitted", tmp_path / "out"
    assert not release.release([ASSIGNMENT], root=str(root)), "release failed"
    release_nb = course.read_notebook(root / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    source_nb = course.read_notebook(course.NOTEBOOKS / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    solution = course.solution_answers(source_nb)
    answer = solution["softmax"] + "\n" + HOSTILE_ANSWER.replace("@PNG@", PNG)
    nb = classroom.make_submission(release_nb, {**solution, "softmax": answer})
    path = submitted / "mallory" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)
    results = autograde.autograde(submitted, out=out, jobs=1, root=root, timeout=30, progress=False)
    assert [r.student for r in results] == ["mallory"], results
    page = (out / "feedback" / "mallory" / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()
    found = unsafe_markup(page, whole_page=True)
    assert not found, f"the hostile student's feedback page carries {found}"
    assert not re.search(r"<script", page, re.I), "the page has a <script"
    assert not re.search(r"<[^>]*\son\w+=", page, re.I), "the page has an on*= attribute"
    assert "javascript:" not in page.lower(), "the page has a javascript: URL"
    text = html.unescape(page).replace('\\"', '"')
    for line in sanitize.hidden_lines(source_nb):
        assert line not in text, f"the page shows the hidden test line {line!r}"
    assert "(hidden test text removed)" in text, "the history the kernel printed was not removed"


def test_outputs_past_what_the_grader_checks_are_not_shown():
    """Decoding costs time, so a notebook's outputs are checked up to a budget; past it an output
    is not shown at all rather than shown unchecked."""
    found = sanitize.HiddenText([HIDDEN_LINE], budget=100)
    outputs = [nbformat.v4.new_output("stream", name="stdout", text=c * 60) for c in "ab"]
    kept = found.scrub_outputs(outputs)
    assert kept[0] == outputs[0], "an output within the budget should be kept as it is"
    assert sanitize.NOT_CHECKED in kept[1]["text"], (
        f"an output past the budget was shown unchecked: {kept[1]}"
    )


@pytest.mark.parametrize(
    "text",
    [
        "## 4.6 One loss worked through: $E_3$ in $U, V, W$",  # the heading's id holds the TeX
        'See [the state $a$](https://example.org "the state $a$") and ![the plot $y$](x.png)',
    ],
)
def test_math_is_typeset_in_text_and_left_alone_in_attributes(text):
    page = render(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)]), {text})
    collector = _Collector()
    collector.feed(page)
    broken = [(tag, a) for tag, attrs in collector.tags for a in attrs if "<" in (a[1] or "")]
    assert not broken, f"MathML was written into attributes: {broken}"
    assert "<math" in page, "the math in the text should still be MathML"
