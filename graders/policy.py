"""The isolation policy: what a sandboxed job sees, reaches and may use, as pure functions.

Every decision about a job's sandbox is made here, from plain inputs, so it can be read in one
sitting and tested without root. :func:`child_argv` gives the bubblewrap (``bwrap``) command of
the outside check's child: a fresh root built from an allow-list, every namespace of its own (no
network at all, its own PID space and /proc, IPC, UTS, cgroup), no capabilities, no new
privileges, and the job's own uid. :func:`child_layout` says what that root holds; nothing else of
the machine is there. Paths are compared as paths (``Path.is_relative_to``), never as strings.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
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
        else:
            raise ValueError(f"layout kind must be ro, rw, tmpfs or dir; got {kind!r}")
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
