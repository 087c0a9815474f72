"""The isolation policy: what a sandboxed job sees, reaches and may use, as pure functions.

Every decision about a job's sandbox is made here, from plain inputs, so it can be read in one
sitting and tested without root. :func:`child_argv` gives the bubblewrap (``bwrap``) command of
the outside check's child: a fresh root built from an allow-list, every namespace of its own (no
network at all, its own PID space and /proc, IPC, UTS, cgroup), no capabilities, no new
privileges, and the job's own uid. :func:`child_layout` says what that root holds; nothing else of
the machine is there. :func:`kernel_layout` gives the root of a student's kernel, built by
graders/jail.py in the same terms: the interpreter, the standard library, the distributions the
kernel imports (:func:`requirement_closure` of ipykernel and the course package, read from the
installed metadata), the course's two packages, the job's socket folder and nothing else.
Paths are compared as paths (``Path.is_relative_to``), never as strings.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import site
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

BWRAP = "bwrap"
SETPRIV = "/usr/bin/setpriv"
# where the job's own folders appear inside its sandbox
JOB, STUB, SITE = "/job", "/stub", "/site"
# the system's shared libraries the interpreter and numpy's extension modules link against
# (libc, libm, libstdc++, libz, the dynamic loader); no Python packages live there
SYSTEM_LIBS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib/aarch64-linux-gnu")
WRITABLE_TMP_BYTES = 16 * 2**20  # the child's private /tmp: a size-limited tmpfs
KERNEL_TMP_BYTES = 256 * 2**20  # the kernel's private /tmp, its only writable folder
# what a kernel runs: ipykernel, and the course package with its own dependencies (numpy,
# matplotlib, names, tqdm); each with the distributions it requires, and nothing else installed
KERNEL_DISTRIBUTIONS = ("ipykernel", "rnnlib")
# the device nodes a Python process uses; /dev holds nothing else in a sandbox
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
# data a kernel reads that no Python distribution ships: the fonts matplotlib's cache lists
SHARED_DATA = ("/usr/share/fonts",)


@dataclass(frozen=True)
class Interpreter:
    """The files one Python interpreter needs: its binary, its libpython, its standard library."""

    executable: Path  # the real binary (not a venv's symlink)
    prefix: Path  # sys.base_prefix
    version: str  # "3.11"

    @property
    def stdlib(self) -> Path:
        return self.prefix / "lib" / f"python{self.version}"

    def libpython(self) -> list[Path]:
        lib = self.prefix / "lib"
        return sorted(lib.glob(f"libpython{self.version}*.so*")) if lib.is_dir() else []


def current_interpreter() -> Interpreter:
    import sys

    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return Interpreter(Path(os.path.realpath(sys.executable)), Path(sys.base_prefix), version)


def distribution_dirs(module_dirs: Iterable[Path]) -> list[Path]:
    """Each package folder with its vendored-libraries sibling (numpy -> numpy, numpy.libs)."""
    out: list[Path] = []
    for d in module_dirs:
        out.append(d)
        libs = d.with_name(d.name + ".libs")
        if libs.is_dir():
            out.append(libs)
    return out


def child_layout(
    interp: Interpreter, packages: Iterable[Path], stub: Path, work: Path
) -> list[tuple[str, str, str]]:
    """The child's root, in mount order: (kind, source, destination) with kind ``ro``, ``rw``,
    ``tmpfs`` or ``dir``. Only the interpreter, the standard library without its site-packages,
    the named package folders (under /site), the stub package and the job's folder are there."""
    layout: list[tuple[str, str, str]] = []
    for lib in SYSTEM_LIBS:
        if Path(lib).is_dir():
            layout.append(("ro", lib, lib))
    layout.append(("ro", str(interp.executable), str(interp.executable)))
    for lib in interp.libpython():
        layout.append(("ro", str(lib), str(lib)))
    layout.append(("ro", str(interp.stdlib), str(interp.stdlib)))
    site = interp.stdlib / "site-packages"
    if site.is_dir():  # the base interpreter's own packages (pytest, a torch, ...) stay out
        layout.append(("tmpfs", "", str(site)))
    layout.append(("dir", "", SITE))
    for pkg in packages:
        layout.append(("ro", str(pkg), f"{SITE}/{pkg.name}"))
    layout.append(("ro", str(stub), STUB))
    layout.append(("rw", str(work), JOB))
    return layout


def requirement_closure(
    roots: Iterable[str], requires: Callable[[str], list[str] | None]
) -> list[str]:
    """The distributions ``roots`` need: each root and, recursively, what it requires.

    ``requires(name)`` gives a distribution's requirement names (markers already evaluated), or
    None when it is not installed. Names are compared normalised (PEP 503: ``A_b.c`` is ``a-b-c``);
    returns the installed ones, sorted."""
    found: set[str] = set()
    todo = [normalise(r) for r in roots]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        needs = requires(name)
        if needs is None:
            continue
        found.add(name)
        todo += [normalise(n) for n in needs]
    return sorted(found)


def normalise(name: str) -> str:
    """A distribution's name as PEP 503 compares it."""
    return re.sub(r"[-_.]+", "-", name).lower()


def top_level_entries(files: Iterable[str]) -> list[str]:
    """What to mount of one distribution, from its RECORD: each top-level folder or module (a
    shared ``__pycache__`` folder file by file, so another distribution's bytecode stays out);
    files outside the site folder (scripts under ``../bin``) are not mounted."""
    out: set[str] = set()
    for f in files:
        parts = Path(f).parts
        if not parts or parts[0] == "..":
            continue
        out.add(str(Path(*parts[:2])) if parts[0] == "__pycache__" and len(parts) > 1 else parts[0])
    return sorted(out)


@dataclass(frozen=True)
class KernelView:
    """What a kernel's root is made of (gathered from this machine by :func:`kernel_view`)."""

    interp: Interpreter
    prefix: Path  # sys.prefix: a virtual environment's folder, or the interpreter's own
    site_entries: tuple[Path, ...]  # each allowed distribution's files and folders
    packages: tuple[Path, ...]  # the course's packages (rnnlib, graders), wherever installed


def kernel_layout(
    view: KernelView, writable: Iterable[Path] = (), extra: Iterable[Path] = ()
) -> list[tuple[str, str, str]]:
    """A kernel's root, in mount order (see :func:`child_layout` for the kinds; ``dev`` is a
    device node, ``symlink`` a link to ``source``). Every path keeps its own name, so the
    interpreter the kernel was forked from finds its modules where it left them. ``writable``
    (the job's socket folder) is bound read-write; ``extra`` read-only. A private tmpfs /tmp and
    a fresh /proc are added by the jail (their size and PID namespace are its business)."""
    layout: list[tuple[str, str, str]] = []

    def ro(path: Path | str) -> None:
        layout.append(("ro", str(path), str(path)))

    for lib in (*SYSTEM_LIBS, *SHARED_DATA):
        if Path(lib).is_dir():
            ro(lib)
    for link in ("/lib", "/lib64"):  # merged /usr: the dynamic loader is found through these
        if Path(link).is_symlink():
            layout.append(("symlink", os.readlink(link), link))
    layout += [("dev", dev, dev) for dev in DEVICES]
    ro(view.interp.executable.parent)  # the binary and the symlinks that name it
    for lib in view.interp.libpython():
        ro(lib)
    ro(view.interp.stdlib)
    site = view.interp.stdlib / "site-packages"
    if site.is_dir():  # the base interpreter's own packages stay out, unless allowed below
        layout.append(("tmpfs", "", str(site)))
    if view.prefix != view.interp.prefix:  # a virtual environment: its config and entry points
        for name in ("pyvenv.cfg", "bin"):
            if (view.prefix / name).exists():
                ro(view.prefix / name)
    for entry in (*view.site_entries, *view.packages, *extra):
        ro(entry)
    layout += [("rw", str(w), str(w)) for w in writable]
    return layout


def kernel_view(distributions: Iterable[str] = KERNEL_DISTRIBUTIONS) -> KernelView:
    """This machine's :class:`KernelView`: the allowed distributions, read from the installed
    metadata (importlib.metadata), and the folders the course's packages are imported from."""
    return _kernel_view(tuple(distributions))


@functools.lru_cache(maxsize=4)
def _kernel_view(distributions: tuple[str, ...]) -> KernelView:
    import importlib.metadata as md
    import importlib.util

    from packaging.markers import Marker

    dists: dict[str, md.Distribution] = {}
    # the environment's own site folders only: a stale rnnlib.egg-info in the folder the grader
    # runs from (on sys.path as '' under `python -m`) would otherwise stand for the installed one
    installed = [*site.getsitepackages(), site.getusersitepackages()]

    def requires(name: str) -> list[str] | None:
        found = next(iter(md.distributions(name=name, path=installed)), None)
        if found is None:
            return None
        dist = dists[name] = found
        names = []
        for req in dist.requires or []:
            spec, _, marker = req.partition(";")
            if marker and not Marker(marker).evaluate({"extra": ""}):
                continue  # an extra, or for another platform
            names.append(re.match(r"[A-Za-z0-9._-]+", spec.strip()).group(0))
        return names

    entries: set[Path] = set()
    for name in requirement_closure(distributions, requires):
        dist = dists[name]
        base = Path(str(dist.locate_file("")))
        for entry in top_level_entries(str(f) for f in dist.files or []):
            if (base / entry).exists():
                entries.add(base / entry)
    packages = []
    for module in ("rnnlib", "graders"):
        spec = importlib.util.find_spec(module)
        if spec is not None and spec.origin:
            packages.append(Path(os.path.realpath(os.path.dirname(spec.origin))))
    import sys

    return KernelView(
        current_interpreter(), Path(sys.prefix), tuple(sorted(entries)), tuple(packages)
    )


def bwrap_args(
    layout: list[tuple[str, str, str]], tmp_bytes: int = WRITABLE_TMP_BYTES
) -> list[str]:
    """bubblewrap's options for ``layout``: every namespace unshared, a fresh /proc and /dev."""
    args = [
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--hostname",
        "sandbox",
        "--die-with-parent",
        "--new-session",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--size",
        str(tmp_bytes),
        "--tmpfs",
        "/tmp",
        "--symlink",
        "usr/lib",
        "/lib",
        "--symlink",
        "usr/lib64",
        "/lib64",
    ]
    made = {"/", "/tmp", "/proc", "/dev"}
    for kind, src, dest in layout:
        # parents bwrap would otherwise make closed to the job's uid (a 0700 /root, say)
        for parent in reversed(Path(dest).parents):
            if str(parent) not in made:
                made.add(str(parent))
                args += ["--perms", "0755", "--dir", str(parent)]
        made.add(dest)
        if kind == "ro":
            args += ["--ro-bind", src, dest]
        elif kind == "rw":
            args += ["--bind", src, dest]
        elif kind == "tmpfs":
            args += ["--size", "4096", "--tmpfs", dest]
        elif kind == "dir":
            args += ["--dir", dest]
        elif kind == "symlink":
            args += ["--symlink", src, dest]
        elif kind == "dev":
            args += ["--dev-bind", src, dest]
        else:
            raise ValueError(
                f"layout kind must be ro, rw, tmpfs, dir, symlink or dev; got {kind!r}"
            )
    return args


def drop_to(uid: int | None) -> list[str]:
    """The command prefix that drops to ``uid`` with no capabilities left (None: stay)."""
    if uid is None:
        return []
    return [
        SETPRIV,
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
    ]


def child_argv(
    interp: Interpreter,
    packages: Iterable[Path],
    stub: Path,
    work: Path,
    uid: int | None,
    bootstrap: str,
    env: Mapping[str, str],
) -> list[str]:
    """The whole command that runs the outside check's child in its sandbox."""
    pkgs = list(packages)
    layout = child_layout(interp, pkgs, stub, work)
    if uid is not None:
        layout.insert(0, ("ro", SETPRIV, SETPRIV))
    args = [bwrap_path(), *bwrap_args(layout), "--chdir", JOB, "--clearenv"]
    for key, value in sorted(env.items()):
        args += ["--setenv", key, value]
    if uid is not None:  # setpriv needs these two to change uid; it drops them and all others
        args += ["--cap-add", "CAP_SETUID,CAP_SETGID"]
    return [
        *args,
        "--",
        *drop_to(uid),
        str(interp.executable),
        "-I",
        "-S",
        "-c",
        bootstrap,
        f"{JOB}/spec.json",
        f"{STUB}:{SITE}",  # the child's whole sys.path beside the standard library
    ]


def bwrap_path() -> str:
    """bubblewrap's binary, or a clear error saying how to install it."""
    found = shutil.which(BWRAP)
    if not found:
        raise SandboxUnavailableError(
            "bubblewrap (bwrap) is not installed: the grader runs students' code only inside it. "
            "Install it with `sudo apt-get install bubblewrap` (Debian/Ubuntu) or your system's "
            "package manager."
        )
    return found


class SandboxUnavailableError(RuntimeError):
    """The sandbox cannot be built on this machine; the grader refuses to run untrusted code."""


def within(path: Path, folders: Iterable[Path]) -> bool:
    """Whether ``path`` is one of ``folders`` or inside one (as paths, not string prefixes)."""
    p = Path(os.path.realpath(path))
    return any(p.is_relative_to(Path(os.path.realpath(f))) for f in folders)
