"""Attacks on the sandboxes: what a student's kernel and the outside-check child can reach.

One class of 03-loss submissions is graded once (a module fixture). Each hostile answer to
``softmax`` tries one way out of its sandbox; the test checks that it got nowhere and earned
nothing. The honest student in the same batch still gets full marks.
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
import secrets
import shutil
import socket
import sys
import sysconfig
import threading
from pathlib import Path

import pytest

from graders import autograde, classroom, course, policy, release

# the end-to-end attacks need the real sandboxes; the policy's pure functions do not
NO_SANDBOX = (
    "the sandboxes need root and bubblewrap (sudo apt-get install bubblewrap)"
    if os.geteuid() != 0 or shutil.which("bwrap") is None
    else ""
)

ASSIGNMENT, NOTEBOOK = "03-loss", "loss"
MARK = secrets.token_hex(4)
# a correct softmax in a library that is not the course's: if the child can import it, the
# outside check is fooled (the static check does not know the name)
LIBRARY = (
    "import numpy as np\n\n"
    "def softmax(z):\n    e = np.exp(z - z.max(axis=0))\n    return e / e.sum(axis=0)\n"
)
OPT = Path(f"/opt/rnn-isolation-{MARK}")
SITE = Path(sysconfig.get_paths()["purelib"])

ATTACKS = {
    # the kernel calls a service of the machine (the test's listener stands for it)
    "net_listener": (
        "import socket\n"
        "for _ in range(3):\n"
        "    try:\n"
        "        socket.create_connection(('127.0.0.1', @PORT@), timeout=2).sendall(b'@MARK@')\n"
        "    except OSError as exc:\n"
        "        print('CONNECT-FAILED', exc)\n"
    ),
    # the kernel lists every process it can see, with its command line
    "proc_cmdline": (
        "import json, os\n"
        "seen = {}\n"
        "for pid in os.listdir('/proc'):\n"
        "    if pid.isdigit():\n"
        "        try:\n"
        "            seen[pid] = open(f'/proc/{pid}/cmdline', 'rb').read().decode(errors='replace')\n"
        "        except OSError:\n"
        "            pass\n"
        "print('PROCS=' + json.dumps(seen))\n"
    ),
    # the kernel fills the disk, a file at a time (each under the per-file limit)
    "fill_disk": (
        "written = 0\n"
        "try:\n"
        "    for i in range(5):\n"
        "        with open(f'fill-{i}.bin', 'wb') as f:\n"
        "            for _ in range(100):\n"
        "                f.write(bytes(2**20))\n"
        "                written += 1\n"
        "except OSError as exc:\n"
        "    print('WRITE-STOPPED', type(exc).__name__)\n"
        "print(f'WROTE={written}MB')\n"
    ),
    # the answer fills the outside check's folder (its cwd) on its first call, 200 MB in files
    # under the per-file limit; softmax is right only where the writes were stopped
    "child_fills_disk": (
        "import os\n\n"
        "import numpy as np\n"
        "_state = {}\n\n"
        "def _fill():\n"
        "    try:\n"
        "        for i in range(4):\n"
        "            with open(f'fill-{i}.bin', 'wb') as f:\n"
        "                f.write(bytes(50 * 2**20))\n"
        "    except OSError:\n"
        "        for i in range(4):  # room again for the results\n"
        "            if os.path.exists(f'fill-{i}.bin'):\n"
        "                os.remove(f'fill-{i}.bin')\n"
        "        return True\n"
        "    return False\n\n"
        "def softmax(z):\n"
        "    if 'stopped' not in _state:\n"
        "        _state['stopped'] = _fill()\n"
        "    e = np.exp(z - z.max(axis=0))\n"
        "    return e / e.sum(axis=0) if _state['stopped'] else e\n"
    ),
    # a library elsewhere on disk computes the answer
    "library_in_opt": f"import sys\nsys.path.insert(0, '{OPT}')\nfrom fastsoftmax_{MARK} import softmax\n",
    # a library installed beside numpy (an autograd, a torch) computes the answer
    "library_in_site_packages": f"from autosoftmax_{MARK} import softmax\n",
    # the kernel looks for what is not its own: the course's secret and gradebook, the source
    # notebooks (hidden tests), the classmates' submissions, the repository's history, libraries
    # it was not given, the machine's accounts and home folders
    "kernel_looks_around": (
        "import json, os\nprint('SEEN=' + json.dumps([p for p in @PATHS@ if os.path.exists(p)]))\n"
    ),
}


def _listener() -> tuple[socket.socket, list[bytes]]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    received: list[bytes] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    received.append(conn.recv(100))
                except OSError:
                    received.append(b"(connected)")

    threading.Thread(target=serve, daemon=True).start()
    return server, received


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    if NO_SANDBOX:
        pytest.skip(NO_SANDBOX)
    base = tmp_path_factory.mktemp("isolation")
    root, submitted, out = base / "course", base / "submitted", base / "out"
    assert not release.release([ASSIGNMENT], root=str(root))
    release_nb = course.read_notebook(root / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    solution = course.solution_answers(
        course.read_notebook(course.NOTEBOOKS / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    )
    server, received = _listener()
    port = server.getsockname()[1]
    libraries = [OPT / f"fastsoftmax_{MARK}", SITE / f"autosoftmax_{MARK}"]
    for lib in libraries:
        lib.mkdir(parents=True)
        (lib / "__init__.py").write_text(LIBRARY)
    try:
        students = {"honest": solution}
        secret_paths = [
            str(root / ".grading-secret"),
            str(root / "gradebook.db"),
            str(submitted / "honest"),
            str(course.NOTEBOOKS / ASSIGNMENT),
            str(course.REPO / ".git"),
            str(course.REPO / "tests"),
            *map(str, libraries),
            "/etc/passwd",
            *(str(Path.home() / name) for name in (".bashrc", ".profile", ".cache", ".ssh")),
            "/home",
        ]
        present: list[str] = []
        for name, code in ATTACKS.items():
            code = code.replace("@PORT@", str(port)).replace("@MARK@", MARK)
            code = code.replace("@PATHS@", repr(secret_paths))
            students[name] = {**solution, "softmax": code}
        for student, answers in students.items():
            path = submitted / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
            path.parent.mkdir(parents=True)
            path.write_text(json.dumps(classroom.make_submission(release_nb, answers)))
        autograde.autograde(submitted, out=out, jobs=2, root=root, timeout=10, progress=False)
        present = [p for p in secret_paths if os.path.exists(p)]  # what the grader sees
    finally:
        server.close()
        shutil.rmtree(OPT, ignore_errors=True)
        shutil.rmtree(libraries[1], ignore_errors=True)
    with open(out / "grades.csv", newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    results = json.loads((out / "results.json").read_text())
    yield {"rows": rows, "results": results, "received": received, "out": out, "present": present}
    shutil.rmtree(base, ignore_errors=True)


def _softmax_score(graded, student: str) -> float:
    res = next(r for r in graded["results"] if r["student"] == student)
    return next(e["score"] for e in res["exercises"] if e["name"] == "softmax")


def _feedback(graded, student: str) -> str:
    return (graded["out"] / "feedback" / student / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()


def test_the_honest_student_gets_full_marks(graded):
    row = graded["rows"]["honest"]
    assert (row["score"], row["status"]) == ("5", "ok"), row


def test_a_kernel_reaches_no_service_on_the_machine(graded):
    assert graded["received"] == [], (
        f"a student's kernel connected to a listener on the grader's machine: {graded['received']}"
    )
    assert "CONNECT-FAILED" in _feedback(graded, "net_listener"), "the attack did not run"


def test_a_kernel_sees_no_other_process(graded):
    page = html.unescape(_feedback(graded, "proc_cmdline"))
    found = re.search(r"PROCS=(\{[^\n<]*\})", page)
    assert found, "the attack's output is not in its feedback"
    seen = json.loads(found.group(1))
    assert set(seen) <= {"1", "2"} or all(
        "graders" not in cmd and "pytest" not in cmd for cmd in seen.values()
    ), f"a kernel saw processes outside its own namespace: {seen}"
    assert len(seen) <= 3, f"a kernel saw {len(seen)} processes, not just its own: {seen}"


def test_a_kernel_cannot_fill_the_disk(graded):
    page = _feedback(graded, "fill_disk")
    found = re.search(r"WROTE=(\d+)MB", page)
    assert found, "the attack's output is not in its feedback"
    assert int(found.group(1)) <= 256, (
        f"a kernel wrote {found.group(1)} MB: its writable space is not bounded at 256 MB"
    )
    assert "WRITE-STOPPED" in page, "the write was not stopped by a full disk"


def test_a_kernel_sees_nothing_of_the_machine_but_its_allow_list(graded):
    page = html.unescape(_feedback(graded, "kernel_looks_around"))
    found = re.search(r"SEEN=(\[[^\n<]*\])", page)
    assert found, "the attack's output is not in its feedback"
    assert json.loads(found.group(1)) == [], (
        f"a student's kernel can see paths outside its allow-list: {found.group(1)}"
    )
    assert len(graded["present"]) >= 10, (
        f"the attack looked for paths the grader's machine mostly lacks: {graded['present']}"
    )


def test_the_outside_check_cannot_fill_the_disk(graded):
    res = next(r for r in graded["results"] if r["student"] == "child_fills_disk")
    softmax = next(e for e in res["exercises"] if e["name"] == "softmax")
    assert softmax["outside_passed"], (
        "the outside check's child wrote 200 MB to its folder: what it writes is not bounded in "
        f"all ({softmax['outside_message']})"
    )
    assert _softmax_score(graded, "child_fills_disk") == 0.0, "the kernel's wrong softmax scored"


@pytest.mark.parametrize("student", ["library_in_opt", "library_in_site_packages"])
def test_the_outside_check_cannot_use_a_library_the_student_did_not_write(graded, student):
    assert _softmax_score(graded, student) == 0.0, (
        f"{student}: softmax computed by an installed library scored "
        f"{_softmax_score(graded, student)}: the outside check's child could import it "
        f"({graded['rows'][student]['status']})"
    )


def test_the_child_sandbox_holds_only_the_allow_list():
    """The policy's layout names nothing but the interpreter, numpy, the stub and the job."""
    import numpy as np

    interp = policy.current_interpreter()
    packages = policy.distribution_dirs([Path(np.__file__).parent])
    layout = policy.child_layout(interp, packages, Path("/s"), Path("/w"))
    sources = [Path(src) for kind, src, _ in layout if kind in ("ro", "rw")]
    allowed = [
        interp.executable,
        interp.stdlib,
        *interp.libpython(),
        *packages,
        Path("/s"),
        Path("/w"),
    ]
    allowed += [Path(lib) for lib in policy.SYSTEM_LIBS]
    extra = [s for s in sources if s not in allowed]
    assert not extra, f"the child's sandbox mounts more than its allow-list: {extra}"
    assert ("tmpfs", "", str(interp.stdlib / "site-packages")) in layout or not (
        interp.stdlib / "site-packages"
    ).is_dir(), "the base interpreter's site-packages is visible in the child"
    assert sys.prefix not in {src for _, src, _ in layout}, "the whole venv is mounted"


def test_the_kernel_root_holds_only_the_allow_list():
    """Every source the kernel's root mounts is the interpreter's, a system library folder, a
    file of an allowed distribution, a course package or the job's own folder."""
    view = policy.kernel_view()
    job = Path("/staging/w1/ipc")
    layout = policy.kernel_layout(view, [job])
    allowed = [
        view.interp.executable.parent,
        view.interp.stdlib,
        *view.interp.libpython(),
        *view.site_entries,
        *view.packages,
        *(Path(d) for d in (*policy.SYSTEM_LIBS, *policy.SHARED_DATA, *policy.DEVICES)),
        view.prefix / "pyvenv.cfg",
        view.prefix / "bin",
        job,
    ]
    mounted = [Path(src) for kind, src, _ in layout if kind in ("ro", "rw", "dev")]
    extra = [m for m in mounted if m not in allowed]
    assert not extra, f"the kernel's root mounts more than its allow-list: {extra}"
    assert [dest for kind, _, dest in layout if kind == "rw"] == [str(job)], (
        "only the job's own folder may be writable on the real disk"
    )
    assert all(src == dest for kind, src, dest in layout if kind in ("ro", "rw", "dev")), (
        "a path is mounted under another name: the forked kernel would not find its modules"
    )
    course_repo = course.REPO.resolve()
    assert course_repo not in mounted and course_repo / ".git" not in mounted, (
        "the repository itself is mounted, not only its two packages"
    )


def test_a_stale_egg_info_where_the_grader_runs_does_not_stand_for_the_installed_course(
    tmp_path, monkeypatch
):
    """An old ``rnnlib.egg-info`` in the folder the grader is started from (on sys.path as the
    current folder under ``python -m``) lists the repository's files: it must not replace the
    installed distribution in the kernel's allow-list (it mounted tests/ and README, and left
    out the editable install's finder, so a cold kernel could not import rnnlib)."""
    stale = tmp_path / "rnnlib.egg-info"
    stale.mkdir()
    (stale / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: rnnlib\nVersion: 0.0.1\n")
    (stale / "SOURCES.txt").write_text("README.md\ntests/secret.py\n")
    (tmp_path / "README.md").write_text("the repository's own files")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "secret.py").write_text("HIDDEN = 1\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    policy._kernel_view.cache_clear()
    try:
        view = policy.kernel_view()
    finally:
        policy._kernel_view.cache_clear()
    leaked = [e for e in view.site_entries if tmp_path in e.parents or e == tmp_path]
    assert not leaked, f"the stale egg-info's files are in the kernel's allow-list: {leaked}"
    names = {e.name for e in view.site_entries}
    assert any(n.startswith("rnnlib-") and n.endswith(".dist-info") for n in names), (
        f"the installed rnnlib's metadata is not in the kernel's allow-list: {sorted(names)}"
    )


def test_the_kernel_gets_the_distributions_it_imports_and_no_others():
    names = {e.name.split("-")[0].lower() for e in policy.kernel_view().site_entries}
    for needed in ("numpy", "matplotlib", "ipykernel", "zmq", "traitlets", "names"):
        assert needed in names, f"the kernel's allow-list lacks {needed}: {sorted(names)}"
    for unneeded in ("nbgrader", "pytest", "jupyterlab", "hypothesis", "torch", "nh3"):
        assert unneeded not in names, f"the kernel's allow-list has {unneeded}, it needs none"


@pytest.mark.parametrize(
    ("roots", "graph", "expected"),
    [
        (["a"], {"a": ["B_c"], "b-c": ["d"], "d": []}, ["a", "b-c", "d"]),
        (["a"], {"a": ["missing"]}, ["a"]),  # an uninstalled requirement is skipped
        (["a"], {"a": ["b"], "b": ["a"]}, ["a", "b"]),  # a cycle ends
        (["x"], {}, []),
    ],
)
def test_the_requirement_closure_follows_requirements_by_normalised_name(roots, graph, expected):
    assert policy.requirement_closure(roots, graph.get) == expected


def test_a_shared_bytecode_folder_is_mounted_file_by_file():
    files = ["pkg/__init__.py", "mod.py", "__pycache__/mod.cpython-311.pyc", "../../bin/tool"]
    assert policy.top_level_entries(files) == ["__pycache__/mod.cpython-311.pyc", "mod.py", "pkg"]


@pytest.mark.parametrize(
    ("path", "folder", "inside"),
    [("/s/w10/child", "/s/w1", False), ("/s/w1/child", "/s/w1", True), ("/s/w1", "/s/w1", True)],
)
def test_containment_is_by_path_not_by_string_prefix(path, folder, inside):
    assert policy.within(Path(path), [Path(folder)]) is inside, (
        f"{path} counted as {'outside' if inside else 'inside'} {folder}"
    )
