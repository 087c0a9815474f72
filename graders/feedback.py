"""The feedback page a student reads: the graded notebook with a summary on top and the outside
check's verdict after each test, hidden tests and anything printed of them removed, every output
rebuilt from an allow-list (graders/sanitize.py), math typeset as MathML, rendered by nbconvert's
HTML exporter (its slow filters cached) and passed through nh3 before it is written."""

from __future__ import annotations

import functools
import html
import json
import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import nbformat

from graders import course, sanitize
from graders.preprocessors import limit_output_bytes, one_line_error, strip_hidden
from graders.results import ExerciseResult, NotebookResult


def _safe_outputs(outputs: list) -> list:
    """Outputs rebuilt from the fields the page shows (graders/sanitize.py): no HTML, JavaScript,
    SVG, markdown or widgets, and of the metadata only an image's numeric width and height."""
    return [sanitize.safe_output(out) for out in outputs]


def feedback_notebook(
    res: NotebookResult,
    nb: nbformat.NotebookNode,
    trusted_markdown: set[str] = frozenset(),
    hidden: Iterable[str] = (),
) -> nbformat.NotebookNode:
    """The graded notebook as the student sees it: hidden tests and their tracebacks removed,
    outputs capped and made safe, a summary on top and the outside check's verdict after each
    test cell. Markdown cells not in ``trusted_markdown`` (the course's own) are shown as text.
    Any output, in any cell, that holds a line of ``hidden`` (see sanitize.hidden_lines) or a
    hidden block's marker is replaced by a note: the kernel may have printed its own history."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    found = sanitize.HiddenText(hidden)
    res = _scrubbed(res, found)
    by_test = {f"test_{e.name}": e for e in res.exercises}
    cells = [nbformat.v4.new_markdown_cell(summary_markdown(res))]
    last_test = course.last_test_index(nb)
    for i, cell in enumerate(nb.cells):
        if i == last_test + 1 and last_test >= 0:
            cells.append(nbformat.v4.new_markdown_cell(NOT_RUN_NOTE))
        meta = cell.get("metadata", {}).get("nbgrader", {})
        meta = meta if isinstance(meta, dict) else {}
        sanitize.safe_cell_fields(cell, ["nbgrader"])
        if cell.cell_type == "code":
            outputs = list(cell.get("outputs", []))
            outputs = [o for o in outputs if isinstance(o, dict)]
            cell.outputs = limit_output_bytes(_safe_outputs(outputs), course.MAX_OUTPUT_BYTES)
            if meta.get("grade"):
                cell.source = strip_hidden(cell.source)
                for out in cell.outputs:
                    if out.get("output_type") == "error":
                        out["traceback"] = one_line_error(out)
            cell.outputs = found.scrub_outputs(cell.outputs)
        elif cell.cell_type == "markdown" and cell.source.strip() not in trusted_markdown:
            cell.source = "<pre>" + html.escape(cell.source) + "</pre>"
        elif cell.cell_type == "markdown":
            cell.metadata[COURSE_TEXT] = True  # its math is typeset (as MathML) in the page
        elif cell.cell_type == "raw":
            cell.source = "<pre>" + html.escape(cell.source) + "</pre>"
            cell.cell_type = "markdown"
        else:
            continue  # not a kind of cell nbformat knows: not shown
        cells.append(cell)
        ex = by_test.get(meta.get("grade_id", "")) if meta.get("grade") else None
        if ex is not None:
            cells.append(nbformat.v4.new_markdown_cell(exercise_markdown(ex)))
    nb.cells = cells
    # the student's notebook metadata (widget state, a title, ...) is no part of the page
    nb.metadata = {
        "language_info": {"name": "python"},
        "title": f"Feedback: {res.assignment}/{res.notebook}",
    }
    return nb


def _scrubbed(res: NotebookResult, found: sanitize.HiddenText) -> NotebookResult:
    """A copy of ``res`` whose messages (which may quote the student's exceptions) hold no hidden
    test text."""
    exercises = [
        replace(e, reason=found.scrub(e.reason), outside_message=found.scrub(e.outside_message))
        for e in res.exercises
    ]
    return replace(res, status=found.scrub(res.status), exercises=exercises)


def render_feedback(
    res: NotebookResult,
    nb: nbformat.NotebookNode,
    trusted_markdown: set[str] = frozenset(),
    hidden: Iterable[str] = (),
    exporter: Any = None,
) -> str:
    """The feedback page of ``nb`` as safe HTML (``exporter``: a grading worker's, reused across
    pages; None makes one)."""
    exporter = exporter or feedback_exporter()
    body, _ = exporter.from_notebook_node(feedback_notebook(res, nb, trusted_markdown, hidden))
    return body


COURSE_TEXT = "rnn_course_text"  # cell metadata: markdown written by the course, not a student
NOT_RUN_NOTE = (
    "*The cells below come after the last test: they cannot change your grade, so they were not"
    " run while grading. Run them in JupyterLab to see their output.*"
)


_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]()!~{}#+-])")


def _esc(text: str) -> str:
    """``text`` shown as itself in markdown: HTML escaped, markdown's punctuation backslashed (no
    link, image or emphasis a student's exception text could make), on one table-safe line."""
    text = _MARKDOWN_PUNCTUATION.sub(r"\\\1", str(text).replace("\n", " "))
    return html.escape(text, quote=False).replace("|", "&#124;")


def status_meaning(res: NotebookResult) -> str:
    """What a row's status means for the student, in words: graded (the score stands) or needs
    review (a person looks at it before the score is final), and why."""
    if res.status.startswith("needs review"):
        why = "; ".join(dict.fromkeys(res.problems)) or res.status.removeprefix("needs review: ")
        return (
            f"needs review: a person will look at this notebook before the score is final ({why})"
        )
    # a failed status has two causes (graders/autograde.py): an exercise whose in-kernel tests
    # passed and whose outside or static check did not, and a static check's finding alone
    overruled = [e.name for e in res.exercises if e.in_kernel and e.score < e.in_kernel]
    if overruled:
        return (
            f"graded, the score is final; the in-kernel tests of {_names(overruled)} passed but a "
            f"check outside your notebook did not, so {_they_score_0(overruled)} (see below)"
        )
    if res.status.startswith("failed"):
        flagged = [e.name for e in res.exercises if e.flags]
        if flagged:
            return (
                f"graded, the score is final; a static check of your code failed for "
                f"{_names(flagged)}, so {_they_score_0(flagged)} (see below)"
            )
        return "graded, the score is final; a static check of your code failed (see below)"
    return "graded, the score is final"


def _names(names: list[str]) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]


def _they_score_0(names: list[str]) -> str:
    return "they score 0" if len(names) > 1 else "it scores 0"


def shown_reason(e: ExerciseResult) -> str:
    """Why an exercise lost its points, as the feedback says it beside the exercise's name: without
    the "outside check:" and the exercise's name that the heading or the table already show."""
    text = (e.reason or e.outside_message).strip()
    text = text.removeprefix("outside check: ")
    for prefix in (f"{e.name}, ", f"{e.name}: "):
        text = text.removeprefix(prefix)
    return text


def summary_markdown(res: NotebookResult) -> str:
    """The feedback's first cell: score, status and a table of every exercise's two checks."""
    lines = [
        f"# Feedback: {_esc(res.assignment)}/{_esc(res.notebook)}.ipynb",
        "",
        f"**Student:** {_esc(res.student)} &nbsp; **Score:** {res.score:g} / {res.max_score:g}",
        "",
        f"**Status:** {_esc(status_meaning(res))}",
        "",
        "| exercise | points | in-kernel tests | outside check | score |",
        "|---|---|---|---|---|",
    ]
    for e in res.exercises:
        kernel = "not run" if e.in_kernel is None else f"{e.in_kernel:g}"
        outside = (
            "passed" if e.outside_passed and not e.flags else "failed: " + _esc(shown_reason(e))
        )
        if e.outside_passed and e.wrong_uses:
            calls = " and ".join(f"`{html.escape(w)}`" for w in e.wrong_uses)
            outside += f" (its visible test failed: it calls your wrong {calls})"
        lines.append(f"| `{e.name}` | {e.points:g} | {kernel} | {outside} | {e.score:g} |")
    return "\n".join(lines)


def dependency_reason(name: str, wrong: list[str]) -> str:
    """Why an exercise whose visible test failed keeps its points, in markdown: the test calls the
    student's own earlier functions ``wrong`` (the course's exercise names), which the outside
    check found wrong, and ``name`` passed it."""
    calls = " and ".join(f"`{html.escape(w)}`" for w in wrong)
    return (
        f"its visible test failed because it calls your {calls}, which the outside check found "
        f"wrong; `{html.escape(name)}` keeps its points, and its visible test passes once {calls} "
        "is right"
    )


def exercise_markdown(e: ExerciseResult) -> str:
    """The cell after a test cell: the outside check's verdict on that exercise, in words."""
    if e.outside_passed and not e.flags:
        verdict = "passed: your function gave the right results on fresh random cases"
        if e.wrong_uses:  # it kept its points though its visible test failed: say why
            verdict += "; " + dependency_reason(e.name, e.wrong_uses)
    else:
        verdict = "**failed**: " + _esc(shown_reason(e))
    return f"**Outside check of `{e.name}`** ({e.score:g} / {e.points:g} points): {verdict}"


def _cached_filter(fn: Any) -> Any:
    """A jinja filter that remembers its results: the course's own cells look the same for every
    student, so their markdown, highlighting and sanitising are done once per worker."""
    cache: dict = {}
    passes_context = getattr(fn, "jinja_pass_arg", None)
    key_skips = 1 if passes_context is not None else 0  # the jinja context is no part of the key

    def cached(*args: Any, **kwargs: Any) -> Any:
        key_args = args[key_skips:]
        try:  # arguments may be dicts (metadata): key on their JSON text
            key = json.dumps([key_args, kwargs], sort_keys=True)
        except (TypeError, ValueError):
            return fn(*args, **kwargs)
        if key not in cache:
            if len(cache) > 20_000:
                cache.clear()
            cache[key] = fn(*args, **kwargs)
        return cache[key]

    if passes_context is not None:
        cached.jinja_pass_arg = passes_context
    return cached


def feedback_exporter() -> Any:
    """nbconvert's HTML exporter with its slow filters cached and without its last pass, a
    BeautifulSoup parse of the whole page (half the time of a page) that only adds alt texts and
    tabindex attributes; those two are added here by plain text substitution. (Its sanitize_html
    escapes all markdown; feedback_notebook makes the notebook safe to render instead.)"""
    from nbconvert import HTMLExporter, TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class FeedbackExporter(HTMLExporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            # HTMLExporter.from_notebook_node's own first steps, through its private
            # _init_resources and _nb_metadata: nbconvert has no public hook that renders without
            # its last BeautifulSoup pass (see above); tests/test_feedback_safety.py and
            # test_feedback_figures.py render real pages, so an nbconvert that changes them fails
            resources = self._init_resources(resources)
            self.register_filter("highlight_code", self.filters["highlight_code"])
            self.register_filter(
                "filter_data_type",
                WidgetsDataTypeFilter(
                    notebook_metadata=self._nb_metadata, parent=self, resources=resources
                ),
            )
            body, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            # every tag, attribute and URL of the cells passes an allow-list; no script at all
            return sanitize.safe_page(_accessible(body)), resources

    exporter = FeedbackExporter()
    highlight = _cached_filter(Highlight2HTML(pygments_lexer="ipython3", parent=exporter))

    def highlight_code(source: str, language: str | None = None, metadata: Any = None) -> str:
        # of the cell's metadata only a %%magic's language matters (not, say, its timings)
        magics = (metadata or {}).get("magics_language")
        return _Highlighted(
            highlight(source, language, {"magics_language": magics} if magics else None)
        )

    exporter.filters = {"highlight_code": highlight_code}
    filters = exporter.environment.filters
    markdown = _cached_filter(filters["markdown2html"])
    typeset = functools.lru_cache(maxsize=4096)(math_to_mathml)

    def markdown_with_mathml(context: Any, source: str) -> str:
        body = markdown(context, source)
        return (
            typeset(body) if context.get("cell", {}).get("metadata", {}).get(COURSE_TEXT) else body
        )

    markdown_with_mathml.jinja_pass_arg = markdown.jinja_pass_arg
    filters["markdown2html"] = markdown_with_mathml
    clean_html = _cached_filter(filters["clean_html"])

    def clean_unless_highlighted(html_text: Any) -> Any:
        return html_text if isinstance(html_text, _Highlighted) else clean_html(html_text)

    filters["clean_html"] = clean_unless_highlighted
    return exporter


class _Highlighted(str):
    """HTML made by pygments from a cell's source: every character of the source is escaped in
    it, so sanitising it again (bleach, a tenth of a second a cell) changes nothing."""


# what keeps its dollars: a code block whole, and every tag (its attributes: alt, title, href)
_NOT_MATH = re.compile(r"<(code|pre)\b.*?</\1\s*>|<[^>]*>", re.S)
_MATH = re.compile(r"\$\$(.+?)\$\$|\$([^$]+?)\$", re.S)


_ALIGNED = re.compile(r"\\begin\{aligned\}(.*?)\\end\{aligned\}", re.S)


def _aligned_as_array(tex: str) -> str:
    """``aligned`` (which latex2mathml reads as letters and ampersands) as the ``array`` it is:
    columns right- and left-aligned in turn, as many as its widest row has."""

    def array(match: re.Match) -> str:
        rows = match.group(1).split("\\\\")
        columns = 1 + max(row.count("&") for row in rows)
        spec = "".join("rl"[k % 2] for k in range(columns))
        return f"\\begin{{array}}{{{spec}}}{match.group(1)}\\end{{array}}"

    return _ALIGNED.sub(array, tex)


# latex2mathml copies the argument of \text, \texttt, \mbox, ... into <mtext> as typed: TeX's
# text-mode escapes of one character (\_ \% \# \&) are shown as that character
_MTEXT = re.compile(r"(<mtext\b[^>]*>)(.*?)(</mtext>)", re.S)
_TEXT_ESCAPE = re.compile(r"\\([_%#&])")


def _text_escapes_shown(mathml: str) -> str:
    def run(match: re.Match) -> str:
        text = _TEXT_ESCAPE.sub(lambda m: "&amp;" if m.group(1) == "&" else m.group(1), match[2])
        return match[1] + text + match[3]

    return _MTEXT.sub(run, mathml)


def math_to_mathml(body: str) -> str:
    """``$...$`` and ``$$...$$`` in the text of rendered course markdown as MathML, which
    browsers typeset without MathJax's CDN (feedback is read offline too). Code, tags and their
    attributes are left alone; TeX that does not convert stays TeX."""
    from latex2mathml.converter import convert

    def typeset(match: re.Match) -> str:
        display = match.group(1) is not None
        tex = _aligned_as_array(html.unescape(match.group(1) if display else match.group(2)))
        try:
            return _text_escapes_shown(convert(tex, display="block" if display else "inline"))
        except Exception:  # noqa: BLE001 - an unsupported command: leave the TeX readable
            return match.group(0)

    out, last = [], 0
    for kept in _NOT_MATH.finditer(body):
        out += [_MATH.sub(typeset, body[last : kept.start()]), kept.group(0)]
        last = kept.end()
    out.append(_MATH.sub(typeset, body[last:]))
    return "".join(out)


_FOCUSABLE = re.compile(
    r'(<div class="[^"]*\b(?:jp-Cell-inputWrapper|jp-OutputArea-output)\b[^"]*")'
)


def _accessible(body: str) -> str:
    """What nbconvert's HTMLExporter adds after rendering: inputs and outputs reachable by the
    keyboard, and an alt text on every image."""
    body = _FOCUSABLE.sub(r'\1 tabindex="0"', body)
    return re.sub(
        r"<img (?![^>]*\balt=)", '<img alt="No description has been provided for this image" ', body
    )
