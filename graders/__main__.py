"""The instructor's command line: python -m graders {release,autograde,demo,bench}.

python -m graders release [ASSIGNMENT ...]        # student versions in course/release, verified
python -m graders autograde SUBMISSIONS [--out DIR] [--jobs N] [--db URL] [--notebook-timeout S]
python -m graders demo                            # a demo class graded end to end
python -m graders bench [--students 30] [--jobs 2] [--cold]  # notebook-submissions per minute
python -m graders export --format canvas --roster ROSTER.csv   # grades the LMS imports
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from graders import course


def _positive(text: str) -> int:
    """An argparse type: an integer >= 1, or a message saying what was wrong."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _cmd_release(args: argparse.Namespace) -> int:
    from graders import release

    problems = release.release(args.assignments or None, root=args.root, db=args.db)
    if problems:
        print(f"release FAILED: {len(problems)} leak(s) in the student versions:", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    folder = course.course_root(args.root) / "release"
    names = args.assignments or list(course.assignments())
    print(f"release ok: the student versions are in {folder}{os.sep}")
    for name in names:
        notebooks = ", ".join(f"{n}.ipynb" for n in course.assignments()[name])
        print(f"  {folder / name}{os.sep}: {notebooks}")
    print("checked: no solution code and no hidden tests in them")
    return 0


def _cmd_autograde(args: argparse.Namespace) -> int:
    from graders import autograde, progress

    if not os.path.isdir(args.submissions):
        print(
            f"autograde: {args.submissions} is not a folder of <student>/<assignment>/<notebook>.ipynb",
            file=sys.stderr,
        )
        return 2
    started = time.monotonic()
    try:
        results = autograde.autograde(
            args.submissions,
            out=args.out,
            jobs=args.jobs,
            db=args.db,
            root=args.root,
            timeout=args.timeout,
            notebook_timeout=args.notebook_timeout,
            cluster=args.scheduler or args.cluster,
            progress="quiet" if args.quiet else ("json" if args.progress_json else "bar"),
        )
    except autograde.GradebookError as exc:
        print(f"autograde: {exc}", file=sys.stderr)
        return 1
    except autograde.NothingToGradeError as exc:
        print(f"autograde: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(autograde.score_table(results))
        print()
    print(progress.summary([r.status for r in results], time.monotonic() - started))
    out = args.out or autograde.course.course_root(args.root)
    print(
        f"wrote {os.path.join(out, 'grades.csv')} and feedback under {os.path.join(out, 'feedback')}"
    )
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from graders import demo

    return demo.main(jobs=args.jobs, keep=args.keep)


def _cmd_bench(args: argparse.Namespace) -> int:
    from graders import bench

    return bench.main(
        students=args.students,
        jobs=args.jobs,
        assignments=args.assignments or None,
        cold=args.cold,
        dask=args.dask,
    )


def _cmd_export(args: argparse.Namespace) -> int:
    from graders import course, export

    folder = Path(args.results or course.course_root(args.root))
    try:
        results = export.read_results(folder)
        if args.format == "canvas":
            if not args.roster:
                print("export: --format canvas needs --roster ROSTER.csv", file=sys.stderr)
                return 2
            rows, report = export.canvas_rows(
                results, export.read_roster(Path(args.roster)), export.points_possible(), args.match
            )
        else:
            rows, report = export.exercise_rows(results), []
    except (OSError, ValueError, KeyError) as exc:
        print(f"export: {exc}", file=sys.stderr)
        return 2
    dest = Path(args.output or folder / f"{args.format}.csv")
    export.write_rows(dest, rows)
    for line in report:
        print(f"export: {line}", file=sys.stderr)
    print(f"wrote {dest}: {len(rows) - (2 if args.format == 'canvas' else 1)} rows")
    # a graded student missing from the roster is a grade that will not reach the LMS
    return 1 if any("not on the roster" in line for line in report) else 0


def _local_cluster(text: str) -> str:
    """``local:N`` with N ≥ 1, for --cluster."""
    name, _, n = text.partition(":")
    if name != "local" or not n.isdigit() or int(n) < 1:
        raise argparse.ArgumentTypeError(f"expected local:N with N ≥ 1 workers, got {text!r}")
    return text


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser (every option's help says its meaning and its default)."""
    parser = argparse.ArgumentParser(
        prog="rnn-grade", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--root",
        help="the course root, where release/, autograded/ and gradebook.db live "
        "(default: $RNN_GRADE_ROOT, else <repo>/course)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("release", help="generate the student versions and verify them")
    p.add_argument(
        "assignments",
        nargs="*",
        help="assignment folders of notebooks/ to release (default: every assignment)",
    )
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=_cmd_release)
    p = sub.add_parser(
        "autograde", help="grade <student>/<assignment>/<notebook>.ipynb submissions"
    )
    p.add_argument(
        "submissions",
        help="a folder in nbgrader's submitted layout, <student>/<assignment>/<notebook>.ipynb "
        "(no default)",
    )
    p.add_argument(
        "--out",
        help="where grades.csv, results.json and feedback/ go (default: the course root)",
    )
    p.add_argument(
        "--jobs",
        type=_positive,
        default=1,
        help="submissions graded in parallel, one process each (default: %(default)s)",
    )
    p.add_argument("--db", help=DB_HELP)
    p.add_argument(
        "--timeout",
        type=_positive,
        default=60,
        help="seconds one cell may run in the student's kernel (default: %(default)s)",
    )
    p.add_argument(
        "--notebook-timeout",
        type=_positive,
        default=300,
        help="wall-clock seconds one notebook may run in the student's kernel "
        "(default: %(default)s)",
    )
    shown = p.add_mutually_exclusive_group()
    shown.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar and no table: only the summary line and where the files went "
        "(default: a progress bar on stderr, then the table)",
    )
    shown.add_argument(
        "--progress-json",
        action="store_true",
        help="progress as JSON lines on stderr, one per student's assignment, then a summary "
        "line (graders/progress.py; default: a progress bar)",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler",
        help="grade on an existing Dask cluster: its scheduler's address, e.g. tcp://HOST:8786 "
        "(default: none, the local process pool of --jobs)",
    )
    where.add_argument(
        "--cluster",
        type=_local_cluster,
        help="grade on a Dask LocalCluster started here: local:N for N worker processes "
        "(default: none, the local process pool of --jobs)",
    )
    p.set_defaults(func=_cmd_autograde)
    p = sub.add_parser("demo", help="grade a demo class: solution, blank, mistakes, cheats")
    p.add_argument(
        "--jobs",
        type=_positive,
        default=2,
        help="submissions graded in parallel (default: %(default)s)",
    )
    p.add_argument(
        "--keep",
        metavar="DIR",
        help="build the demo class in this folder and keep it, feedback pages included "
        "(default: a temporary folder, deleted at the end)",
    )
    p.set_defaults(func=_cmd_demo)
    p = sub.add_parser("bench", help="grade a generated class and print submissions per minute")
    p.add_argument(
        "--students",
        type=_positive,
        default=30,
        help="students in the generated class, each submitting every notebook "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--jobs",
        type=_positive,
        default=2,
        help="submissions graded in parallel (default: %(default)s)",
    )
    p.add_argument(
        "--assignments",
        nargs="*",
        help="the assignments to grade (default: every assignment)",
    )
    p.add_argument(
        "--cold",
        action="store_true",
        help="also grade the class with cold kernels (no zygote) and print the speed-up "
        "(default: warm kernels only)",
    )
    p.add_argument(
        "--dask",
        action="store_true",
        help="grade the class on Dask clusters of 1 and 2 `dask worker` processes instead and "
        "print the scaling (default: the local process pool)",
    )
    p.set_defaults(func=_cmd_bench)
    p = sub.add_parser("export", help="grades for the LMS (Canvas) or per exercise, as CSV")
    p.add_argument(
        "--format",
        choices=("canvas", "exercises"),
        default="canvas",
        help="canvas: Canvas's gradebook import, one column per assignment; exercises: one row "
        "per student, notebook and exercise (default: canvas)",
    )
    p.add_argument(
        "--roster",
        help="Canvas's gradebook export, its students and their ids (needed for canvas; "
        "default: none)",
    )
    p.add_argument(
        "--match",
        default="SIS Login ID",
        help="the roster column that holds the nbgrader student id (default: SIS Login ID)",
    )
    p.add_argument(
        "--results",
        help="the folder of autograde's results.json (default: the course root)",
    )
    p.add_argument("-o", "--output", help="the CSV to write (default: RESULTS/<format>.csv)")
    p.set_defaults(func=_cmd_export)
    return parser


DB_HELP = "the gradebook's SQLAlchemy URL (default: $RNN_GRADE_DB, else sqlite in the course root)"


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m graders`` and the ``rnn-grade`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from graders.policy import SandboxUnavailableError
    from graders.release import UnknownAssignmentError

    try:
        return args.func(args)
    except SandboxUnavailableError as exc:  # no student code runs unsandboxed: say how to fix it
        print(f"rnn-grade: {exc}", file=sys.stderr)
        return 2
    except UnknownAssignmentError as exc:
        print(f"rnn-grade {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
