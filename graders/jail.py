"""Start a command in a jail: ``python -m graders.jail CONFIG.json -- COMMAND...``.

Runs as the grader (root, when it can), then ``exec``s COMMAND with:

- a root of its own, built from an allow-list (``root``: graders/policy.py's kernel_layout, or
  by default the kernel's allow-list): the interpreter, the standard library, the distributions
  a kernel imports, the course's packages, each read-only under its own name, the folders of
  ``keep`` read-write, a private tmpfs /tmp (its only other writable place), a few device nodes
  and a fresh /proc; nothing else of the machine (:func:`build_root`);
- its own mount, IPC, PID and UTS namespaces, and a network namespace with no interfaces
  (``net``);
- a uid and gid of its own (``uid``) and no new privileges;
- resource limits: CPU seconds, address space, processes, file size, open files;
- a scrubbed environment (``env`` replaces it whole).

The jail is this module, not bubblewrap, because a kernel forks warm from graders/zygote.py: a
process that is already running enters its jail, which a wrapper that starts a new program
cannot do (graders/policy.py builds bubblewrap's command for the outside check's child, which
starts cold).

``{keep:NAME}`` in COMMAND is replaced by that folder (the same path inside the jail). A kernel's
connection file (``-f FILE``) is copied into the jail's own /tmp, readable by the jail's uid, and
each file of ``seed`` ({path under HOME: source file}) is copied into the jail's HOME.
Whatever cannot be applied (no namespaces without root) is skipped; $RNN_GRADE_ISOLATION in the
jailed command's environment lists what was.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import sys
import tempfile
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWNET = 0x40000000
CLONE_NEWPID = 0x20000000
CLONE_NEWUTS = 0x04000000
PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_BIND = 4096
MS_REC = 16384
MS_REMOUNT = 32
MS_PRIVATE = 1 << 18
MNT_DETACH = 2
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}.get(os.uname().machine, 155)

_LIMITS = {
    "cpu": resource.RLIMIT_CPU,
    "as": resource.RLIMIT_AS,
    "nproc": resource.RLIMIT_NPROC,
    "fsize": resource.RLIMIT_FSIZE,
    "nofile": resource.RLIMIT_NOFILE,
    "core": resource.RLIMIT_CORE,
}


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _mount(
    libc: ctypes.CDLL,
    source: str,
    target: str,
    fstype: str | None,
    flags: int,
    data: str | None = None,
) -> None:
    """mount(2), raising OSError on failure."""

    def enc(s: str | None) -> bytes | None:
        return s.encode() if s is not None else None

    if libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {target}: {os.strerror(err)}")


def enter_namespaces(config: dict) -> list[str]:
    """Unshare every namespace; build the allow-list root of ``config["root"]`` (see
    graders/policy.py) and move into it. Returns what was applied."""
    libc = _libc()
    # its own SysV IPC too: shared memory left by one student is never read by the next; its own
    # PID space (a fresh /proc: no other process, no grader's command line) and host name
    flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWUTS
    flags |= CLONE_NEWNET if config.get("net") else 0
    if libc.unshare(flags) != 0:
        return []
    applied = ["mount namespace", "own IPC"] + (["no network"] if config.get("net") else [])
    _mount(libc, "none", "/", None, MS_REC | MS_PRIVATE)
    build_root(libc, config["root"], config.get("tmp_size", "256m"))
    applied.append("allow-list root")
    # The first child is PID 1 of the new PID namespace (its init, which ignores signals it has
    # no handler for, even SIGKILL from inside) and the second is the command, an ordinary
    # process; each parent only waits for its child and passes interrupts on.
    child = os.fork()
    if child:
        _wait_and_relay(child)
    libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)  # the namespace ends with the process outside it
    libc.sethostname(b"sandbox", 7)
    _mount(libc, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    child = os.fork()
    if child:
        _wait_and_relay(child)
    applied.append("own PID namespace")
    return applied


def build_root(libc: ctypes.CDLL, layout: list, tmp_size: str) -> None:
    """Make a fresh root of ``layout``'s (kind, source, destination) entries, the way bubblewrap
    does, and pivot into it: the old root is detached, so nothing else of the machine is left.

    A tmpfs over /tmp holds the old root (pivoted there) and the new one; each entry is bound from
    the old root into the new one, read-only unless it is ``rw``; the new root gets a private
    tmpfs /tmp of ``tmp_size``, a /dev of the listed nodes with a tmpfs /dev/shm, and an empty
    /proc for the PID namespace's own. The new root itself is then made read-only."""
    _mount(libc, "tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=700")
    os.mkdir("/tmp/old", 0o700)
    os.mkdir("/tmp/new", 0o755)
    _pivot(libc, "/tmp", "/tmp/old")
    new = "/new"
    _mount(libc, "tmpfs", new, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    old_umask = os.umask(0o022)  # the folders made on the way: enterable by the job's uid
    try:
        for sub in ("tmp", "proc", "dev"):
            os.mkdir(f"{new}/{sub}")
        _mount(
            libc, "tmpfs", f"{new}/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmp_size},mode=1777"
        )
        os.mkdir(f"{new}/dev/shm")
        _mount(libc, "tmpfs", f"{new}/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=1777")
        for kind, source, dest in layout:
            target = new + dest
            if kind == "dir":
                os.makedirs(target, exist_ok=True)
                continue
            if kind == "symlink":
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.symlink(source, target)
                continue
            if kind == "tmpfs":
                os.makedirs(target, exist_ok=True)
                _mount(libc, "tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, "size=4k,mode=755")
                continue
            src = "/old" + source
            if not os.path.lexists(src):
                continue
            if os.path.isdir(src):
                os.makedirs(target, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(target), exist_ok=True)
                if not os.path.lexists(target):
                    open(target, "w").close()  # noqa: SIM115 - a mount point
            _mount(libc, src, target, None, MS_BIND | MS_REC)
            if kind == "ro":
                _mount(
                    libc,
                    "none",
                    target,
                    None,
                    MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
                )
            elif kind == "rw":
                _mount(libc, "none", target, None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV)
            elif kind == "dev":
                _mount(libc, "none", target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID)
            else:
                raise ValueError(
                    f"layout kind must be ro, rw, dev, tmpfs, dir or symlink; got {kind!r}"
                )
    finally:
        os.umask(old_umask)
    _mount(libc, "none", new, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.chdir(new)
    _pivot(libc, ".", ".")  # the new root on top of the old one, which is then let go
    if libc.umount2(b".", MNT_DETACH) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"umount the old root: {os.strerror(err)}")
    os.chdir("/")


def _pivot(libc: ctypes.CDLL, new_root: str, put_old: str) -> None:
    """pivot_root(2), raising OSError on failure."""
    if libc.syscall(SYS_PIVOT_ROOT, new_root.encode(), put_old.encode()) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"pivot_root {new_root}: {os.strerror(err)}")


def scratch_tmpfs(folder: str, size: int) -> bool:
    """Put a tmpfs of ``size`` bytes at ``folder`` in a mount namespace of this thread's own (a
    grading worker's: its children inherit it, nothing else sees it). The outside check's
    children write there, so what they write is bounded in all, not only per file. Returns
    whether it could (root, Linux)."""
    if os.geteuid() != 0:
        return False
    libc = _libc()
    if libc.unshare(CLONE_NEWNS) != 0:
        return False
    _mount(libc, "none", "/", None, MS_REC | MS_PRIVATE)  # nothing of ours reaches the host
    os.makedirs(folder, exist_ok=True)
    _mount(libc, "tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=755")
    return True


def release_scratch(folder: str) -> None:
    """Unmount a :func:`scratch_tmpfs` (its folder is then an empty one on the disk)."""
    _libc().umount2(folder.encode(), MNT_DETACH)


def _wait_and_relay(child: int) -> None:
    """Wait for ``child`` and exit as it did; pass SIGINT (the kernel's interrupt) on as it is and
    SIGTERM as SIGKILL. When this process is killed, the child follows (PR_SET_PDEATHSIG)."""
    import signal

    def relay(signum: int, frame: object) -> None:  # noqa: ARG001
        try:
            os.kill(child, signal.SIGKILL if signum == signal.SIGTERM else signum)
        except OSError:
            pass

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, relay)
    os.closerange(3, 65536)
    while True:  # as init, it also reaps the orphans of the namespace
        try:
            pid, status = os.waitpid(-1, 0)
        except InterruptedError:
            continue
        except ChildProcessError:
            os._exit(70)
        if pid == child:
            break
    if os.WIFEXITED(status):
        os._exit(os.WEXITSTATUS(status))
    os._exit(128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else 70)


def set_limits(limits: dict) -> None:
    """Apply the resource limits (a missing or None value leaves that limit alone)."""
    for key, value in limits.items():
        if value is None:
            continue
        value = int(value)
        try:
            resource.setrlimit(_LIMITS[key], (value, value))
        except (ValueError, OSError):
            soft, hard = resource.getrlimit(_LIMITS[key])
            resource.setrlimit(
                _LIMITS[key], (min(value, hard) if hard != resource.RLIM_INFINITY else value, hard)
            )


def prepare_home(uid: int | None, gid: int | None, isolated: bool) -> str:
    """A writable HOME for the jailed command, in the jail's own /tmp when it has one."""
    home = Path("/tmp/home") if isolated else Path(tempfile.mkdtemp(prefix="rnn-grade-home-"))
    home.mkdir(parents=True, exist_ok=True)
    if uid is not None:
        os.chown(home, uid, gid if gid is not None else uid)
    return str(home)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    sep = argv.index("--")
    command, env = enter(json.loads(Path(argv[0]).read_text()), argv[sep + 1 :])
    os.execve(command[0], command, env)


def enter(config: dict, command: list[str]) -> tuple[list[str], dict[str, str]]:
    """Put this process in the jail ``config`` describes, ready to run ``command``: namespaces,
    root, HOME, connection file, folder, limits and uid. Returns the command (its ``{keep:NAME}``
    rewritten) and the environment it must run with."""
    if "root" not in config:  # the kernel's allow-list, with the command's own folder
        from graders import policy

        extra = [Path(os.path.realpath(command[0])).parent, *map(Path, config.get("expose", []))]
        keep_dirs = [Path(p) for p in config.get("keep", {}).values()]
        config["root"] = policy.kernel_layout(policy.kernel_view(), keep_dirs, extra)
    applied: list[str] = []
    # read what the jail hides before hiding it: the kernel's connection file may sit in /tmp
    conn_text = Path(command[command.index("-f") + 1]).read_text() if "-f" in command else None
    seeds = {rel: Path(src).read_bytes() for rel, src in config.get("seed", {}).items()}
    if os.geteuid() == 0 and config.get("namespaces", True):
        try:
            applied = enter_namespaces(config)
        except OSError as exc:  # a half-built namespace is not trusted: stop here
            print(f"graders.jail: {exc}", file=sys.stderr)
            os._exit(70)
    isolated = "mount namespace" in applied
    keep = dict(config.get("keep", {}))  # each kept folder has its own name inside
    command = [_substitute(arg, keep) for arg in command]
    uid = config.get("uid") if os.geteuid() == 0 else None
    gid = config.get("gid", uid) if uid is not None else None
    env = {k: _substitute(v, keep) for k, v in config.get("env", dict(os.environ)).items()}
    env["HOME"] = prepare_home(uid, gid, isolated)
    for rel, data in seeds.items():  # e.g. matplotlib's font cache, so no kernel rebuilds it
        target = Path(env["HOME"]) / rel
        if ".." in Path(rel).parts:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if uid is not None:
            for p in [target, *target.relative_to(env["HOME"]).parents]:
                os.chown(Path(env["HOME"]) / p, uid, gid)
    if conn_text is not None:  # a kernel: give it a copy of its connection file that it can read
        i = command.index("-f") + 1
        conn = Path(env["HOME"]) / "kernel-connection.json"
        conn.write_text(conn_text)
        os.chmod(conn, 0o600)
        if uid is not None:
            os.chown(conn, uid, gid)
        command[i] = str(conn)
    chdir = config.get("chdir")
    if chdir:
        os.chdir(_substitute(chdir, keep))
    if uid is not None:
        applied.append("own uid")
    env["RNN_GRADE_ISOLATION"] = ",".join(applied) or "none"
    if config.get("quiet"):  # a kernel's own chatter stays out of the grader's terminal
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
    set_limits(config.get("limits", {}))
    if uid is not None:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    libc = _libc()
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)  # no setuid binary gives the command rights back
    if isolated:  # a uid change clears the parent-death signal: set it once the uid is final
        libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)
    return command, env


def _substitute(text: str, keep: dict[str, str]) -> str:
    for name, path in keep.items():
        text = text.replace("{keep:" + name + "}", path)
    return text


if __name__ == "__main__":
    main()
