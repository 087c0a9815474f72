"""The outside check's child: re-runs a student's cells and calls their functions on the cases.

Runs jailed (graders/jail.py) with ``python -I -S``, from a folder built by graders/stubs.py:
copies of graders/child.py, calls.py and wire.py (not checks.py or graders/lessons/, whose typical
mistakes compute right answers) and a stub rnnlib in which the exercises under grade, and the
functions that compute the same, raise. It imports nothing of the real course. Its only inputs are
``spec.json`` and the case files in its working folder; its only outputs are ``cells.json`` (which
cells raised) and one ``out_<exercise>.npz`` per exercise (the outputs of each call and its
arguments as the call left them: the grading process, not this one, decides whether an input was
changed), written with graders.wire (never pickle) after each exercise, so a child killed half-way
still reports the exercises it finished. A student's exception text is kept short
(calls.short_error).
"""

from __future__ import annotations

import json
import os
import signal
import sys

MAX_ERROR = 300  # our own messages; a student's exception text is cut to calls.MAX_STUDENT_TEXT


class CallTimeout(Exception):  # noqa: N818 - the student reads "CallTimeout", not "...Error"
    """A call of the student's function ran past its time limit."""


def _alarm(signum, frame):  # noqa: ARG001
    raise CallTimeout("took too long (the outside check's time limit per call)")


def main(spec_path: str) -> None:
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    from graders import calls, wire  # the copies next to this file, before any student code

    cases = {name: wire.load(f"cases_{name}.npz") for name in spec["exercises"]}
    per_call = float(spec.get("per_call_seconds", 10))
    per_cell = float(spec.get("per_cell_seconds", 5))
    # the student's cells see the usual notebook names, nothing of ours
    namespace: dict = {"__name__": "__main__", "__builtins__": __builtins__}
    report = []
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(1), os.dup(2)
    os.dup2(devnull, 1)  # whatever the student prints goes nowhere
    os.dup2(devnull, 2)
    signal.signal(signal.SIGALRM, _alarm)
    for label, source in spec["cells"]:
        signal.setitimer(signal.ITIMER_REAL, per_cell)
        try:
            exec(compile(source, f"<{label}>", "exec"), namespace)  # noqa: S102
            error = None
        except BaseException as exc:  # noqa: BLE001 - SystemExit too: the cell stops, not the check
            error = calls.short_error(exc)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        report.append({"cell": label, "error": error})
    os.dup2(saved[0], 1)
    with open("cells.json", "w", encoding="utf-8") as f:
        json.dump(report, f)
    os.dup2(devnull, 1)
    for name in spec["exercises"]:
        fn = namespace.get(name)
        results = []
        for case in cases[name]:
            if not callable(fn):
                results.append(
                    {"__error__": f"{name} is not defined: its answer cell did not define it"}
                )
                continue
            signal.setitimer(signal.ITIMER_REAL, per_call)
            try:
                # the outputs and the arguments as left: the parent judges mutation itself
                results.append(calls.call_for_parent(name, fn, case))
            except BaseException as exc:  # noqa: BLE001 - a KeyboardInterrupt/SystemExit from the student
                results.append({"__error__": f"{name} raised {calls.short_error(exc)}"})
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        os.dup2(saved[0], 1)
        try:
            wire.dump(results, f"out_{name}.npz")
        except Exception as exc:  # noqa: BLE001 - an unstorable result is the student's failure
            wire.dump(
                [{"__error__": calls.bounded(f"{name}: its results could not be read ({exc})")}],
                f"out_{name}.npz",
            )
        os.dup2(devnull, 1)
    os.dup2(saved[0], 1)
    os.dup2(saved[1], 2)
    sys.stdout.flush()
    os._exit(
        0
    )  # no atexit handler or finaliser of the student's runs after the results are written


BOOTSTRAP = (
    "import sys\n"
    "sys.path[:0] = sys.argv[2].split(':')\n"
    "from graders.child import main\n"
    "main(sys.argv[1])\n"
)
