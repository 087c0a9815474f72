"""The instructor's command line says what it did, and a command that can do nothing says why.

Each test runs ``python -m graders`` (its ``main``) as a user would and reads its exit status and
what it printed; none of them grades a notebook.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import nbformat
import pytest

from graders import course
from graders.__main__ import build_parser, main

KNOWN = ", ".join(course.assignments())


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``python -m graders *argv``."""
    try:
        status = main(list(argv))
    except SystemExit as exc:  # argparse's errors
        status = exc.code
    out = capsys.readouterr()
    return status, out.out, out.err


# ------------------------------------------------------------------------------------ release

UNKNOWN_RELEASES = [
    (("99-nothing",), "unknown assignment '99-nothing'"),
    (("99-nothing", "98-none"), "unknown assignments '99-nothing', '98-none'"),
    (("03-loss", "99-nothing"), "unknown assignment '99-nothing'"),
]


@pytest.mark.parametrize(
    "assignments, message", UNKNOWN_RELEASES, ids=[" ".join(a) for a, _ in UNKNOWN_RELEASES]
)
def test_release_of_an_unknown_assignment_says_so_and_lists_the_known_ones(
    capsys, tmp_path, assignments, message
):
    status, out, err = _run(capsys, "--root", str(tmp_path), "release", *assignments)
    assert status == 2, f"exit status {status} for release {assignments}:\n{out}{err}"
    assert message in err, f"stderr should say {message!r}:\n{err}"
    assert f"the course's assignments are: {KNOWN}" in err, f"no list of the known ones:\n{err}"
    assert "leak" not in out + err, f"an unknown assignment is no leak:\n{out}{err}"
    assert not (tmp_path / "release").exists(), "nothing should be released"


def test_release_says_where_it_wrote_the_student_versions(capsys, tmp_path):
    status, out, err = _run(capsys, "--root", str(tmp_path), "release", "03-loss")
    assert status == 0, f"release failed:\n{out}{err}"
    folder = tmp_path.resolve() / "release" / "03-loss"
    assert (folder / "loss.ipynb").is_file(), f"no student version in {folder}"
    assert f"{folder}/: loss.ipynb" in out, f"release should name {folder}:\n{out}"


# ---------------------------------------------------------------------------------- autograde


def _release_layout(folder: Path) -> None:
    """<assignment>/<notebook>.ipynb: a release, not submissions."""
    (folder / "03-loss").mkdir()
    nbformat.write(nbformat.v4.new_notebook(), folder / "03-loss" / "loss.ipynb")


def _unknown_assignment(folder: Path) -> None:
    (folder / "alice" / "99-nothing").mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(), folder / "alice" / "99-nothing" / "x.ipynb")


BAD_LAYOUTS = [
    ("a-release", _release_layout, "found 03-loss/loss.ipynb (<assignment>/<notebook>.ipynb: a"),
    ("empty", lambda folder: None, "found an empty folder"),
    ("no-notebooks", lambda f: (f / "notes.txt").write_text("x"), "found no .ipynb file"),
    ("unknown-assignment", _unknown_assignment, "found alice/99-nothing/x.ipynb"),
]


@pytest.mark.parametrize(
    "make, found", [b[1:] for b in BAD_LAYOUTS], ids=[b[0] for b in BAD_LAYOUTS]
)
def test_autograde_of_a_folder_without_submissions_says_what_it_expected_and_found(
    capsys, tmp_path, make, found
):
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    make(submissions)
    status, out, err = _run(
        capsys, "--root", str(tmp_path / "course"), "autograde", str(submissions)
    )
    assert status == 2, f"exit status {status}, expected 2:\n{out}{err}"
    expected = f"expected <student>/<assignment>/<notebook>.ipynb, <assignment> one of {KNOWN}"
    assert expected in err, f"stderr should say {expected!r}:\n{err}"
    assert found in err, f"stderr should say {found!r}:\n{err}"
    assert not (tmp_path / "course" / "grades.csv").exists(), "an empty grades.csv was written"


# ---------------------------------------------------------------------------- bad numbers

BAD_NUMBERS = [
    ("bench", "--students", "0"),
    ("bench", "--students", "-3"),
    ("bench", "--jobs", "0"),
    ("demo", "--jobs", "0"),
    ("autograde", "x", "--jobs", "0"),
    ("autograde", "x", "--timeout", "0"),
]


@pytest.mark.parametrize("argv", BAD_NUMBERS, ids=[" ".join(a) for a in BAD_NUMBERS])
def test_a_count_below_one_is_a_clear_error(capsys, argv):
    status, out, err = _run(capsys, *argv)
    value = argv[-1]
    message = f"argument {argv[-2]}: expected a positive integer, got {value}"
    assert status == 2, f"exit status {status} for {argv}"
    assert message in err, f"stderr should say {message!r}:\n{err}"


# ---------------------------------------------------------------------------------- help


def _options() -> list[tuple[str, argparse.Action]]:
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # argparse keeps them only here
    top = [("", a) for a in parser._actions if not isinstance(a, argparse._SubParsersAction)]
    return [
        (name, action)
        for name, action in top + [(n, a) for n, s in commands.items() for a in s._actions]
        if not isinstance(action, argparse._HelpAction)
    ]


@pytest.mark.parametrize(
    "command, action",
    _options(),
    ids=[f"{c or 'rnn-grade'} {a.option_strings or a.dest}" for c, a in _options()],
)
def test_every_option_says_what_it_means_and_its_default(command, action):
    text = (action.help or "") % {**vars(action), "default": action.default}
    meaning = text.split("(default")[0].strip()
    assert len(meaning) >= 10, f"{command} {action.option_strings}: help {text!r} says too little"
    assert "default" in text, f"{command} {action.option_strings}: help {text!r} gives no default"


@pytest.mark.parametrize("command", ["", "release", "autograde", "demo", "bench"])
def test_help_has_no_raw_restructuredtext(capsys, command):
    status, out, err = _run(capsys, *([command] if command else []), "--help")
    assert status == 0, err
    for markup in ("``", ":meth:", ":func:", ":class:", ".. "):
        assert markup not in out, f"raw markup {markup!r} in --help:\n{out}"
