"""Start a command in a jail: ``python -m graders.jail CONFIG.json -- COMMAND...``.

Runs as the grader (root, when it can), then ``exec``s COMMAND with:

- a private mount namespace (when the kernel allows it): fresh tmpfs over /tmp, /var/tmp and
  /dev/shm, tmpfs over every folder in ``hide`` (the course root, the gradebook, the source
  notebooks, the submissions, the real rnnlib for the outside check, ...), /dev/null over every
  file in ``hide``; each folder in ``keep`` is bind-mounted at /tmp/<name> so it stays visible;
- optionally a private network namespace with no interfaces (``net``);
- a uid and gid of its own (``uid``), so permissions stop it writing outside /tmp;
- resource limits: CPU seconds, address space, processes, file size, open files;
- a scrubbed environment (``env`` replaces it whole).

``{keep:NAME}`` in COMMAND is replaced by where that folder is visible inside the jail. A kernel's
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
MS_PRIVATE = 1 << 18

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
    """Unshare mounts (and the network); hide and keep paths. Returns what was applied."""
    applied: list[str] = []
    libc = _libc()
    # its own SysV IPC too: shared memory left by one student is never read by the next; its own
    # PID space (a fresh /proc: no other process, no grader's command line) and host name
    flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWUTS
    flags |= CLONE_NEWNET if config.get("net") else 0
    if libc.unshare(flags) != 0:
        return applied
    applied.append("mount namespace")
    applied.append("own IPC")
    if config.get("net"):
        applied.append("no network")
    _mount(libc, "none", "/", None, MS_REC | MS_PRIVATE)
    # open the folders to keep before anything hides them
    keep_fds = {
        name: os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        for name, path in config.get("keep", {}).items()
    }
    for path in config.get("hide", []):
        if os.path.isdir(path) and not os.path.islink(path):
            _mount(libc, "tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=755")
        elif os.path.isfile(path) and not os.path.islink(path):
            _mount(libc, "/dev/null", path, None, MS_BIND)
    applied.append("hidden paths")
    # The folders the command needs may vanish below: under the private /tmp (a CI clone in /tmp)
    # or, once the uid is dropped, behind an ancestor closed to others (a 0700 mktemp folder,
    # /root). Open them now, after the hiding, so a recursive bind keeps the hidden paths hidden.
    restore = _paths_to_restore(_needed_paths(config), config.get("uid") is not None)
    fds = {path: os.open(path, os.O_RDONLY | os.O_DIRECTORY) for path in restore}
    for block in sorted({b for b in restore.values() if b}):
        _mount(libc, "tmpfs", block, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=755")
    for tmp in TMP_DIRS:
        if os.path.isdir(tmp):
            _mount(
                libc,
                "tmpfs",
                tmp,
                "tmpfs",
                MS_NOSUID | MS_NODEV,
                f"size={config.get('tmp_size', '256m')},mode=1777",
            )
    applied.append("private /tmp")
    old_umask = os.umask(0o022)  # the folders made to hold a put-back folder: readable by all
    try:
        for path, fd in fds.items():
            os.makedirs(path, exist_ok=True)
            _mount(libc, f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
            os.close(fd)
    finally:
        os.umask(old_umask)
    for name, fd in keep_fds.items():
        target = f"/tmp/{name}"
        os.mkdir(target)
        _mount(libc, f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC)
        os.close(fd)
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


# each gets a fresh, private tmpfs in the jail: every folder any user may write to (/run/lock is one
# on Debian), so nothing written there outlives the jail or reaches the next student
TMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")


def _needed_paths(config: dict) -> list[str]:
    """The folders the jailed command reads: the interpreter's, its packages' and the course's.

    The current folder is not among them: it is the grader's, and ``python -m`` puts it on
    sys.path.
    """
    import importlib.util

    cwd = os.path.realpath(os.getcwd())
    packages = {}
    for module in ("rnnlib", "graders", "numpy"):
        spec = importlib.util.find_spec(module)
        if spec is not None and spec.origin:
            packages[module] = os.path.realpath(os.path.dirname(spec.origin))
    # the course's packages come alone: their repository root (and its .git) does not
    repo_roots = {os.path.dirname(packages[m]) for m in ("rnnlib", "graders") if m in packages}
    paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, *config.get("expose", [])]
    paths += packages.values()
    for entry in sys.path:
        real = os.path.realpath(entry) if entry and os.path.isabs(entry) else ""
        if real and real != cwd and real not in repo_roots:
            paths.append(real)
    return [real for real in {os.path.realpath(p) for p in paths} if os.path.isdir(real)]


def _paths_to_restore(paths: list[str], own_uid: bool) -> dict[str, str | None]:
    """{folder: closed ancestor to cover, or None} for each folder the jail would lose.

    A folder below a private tmp dir is lost to the fresh tmpfs; with a uid of its own, a folder
    below an ancestor others may not enter is lost to permissions, so that ancestor is covered
    by an empty tmpfs and only the needed folders are put back into it. A folder inside another
    one put back comes with it.
    """
    lost: dict[str, str | None] = {}
    for path in paths:
        in_tmp = any(_inside(path, tmp) and path != tmp for tmp in TMP_DIRS)
        block = _blocking_ancestor(path) if own_uid else None
        if block and any(_inside(block, tmp) for tmp in TMP_DIRS):
            block = None  # the private tmpfs covers it already
        if in_tmp or block:
            lost[path] = block
    return {p: b for p, b in lost.items() if not any(p != q and _inside(p, q) for q in lost)}


def _inside(path: str, folder: str) -> bool:
    """``path`` is ``folder`` or below it, compared as paths (never as string prefixes)."""
    return Path(path).is_relative_to(folder)


def _blocking_ancestor(path: str) -> str | None:
    """The topmost ancestor of ``path`` (not itself) that others may not enter, if any."""
    parts = Path(path).parts
    for i in range(2, len(parts)):
        folder = str(Path(*parts[:i]))
        if not os.stat(folder).st_mode & 0o001:
            return folder
    return None


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
    HOME, connection file, folder, limits and uid. Returns the command (its ``{keep:NAME}`` and
    connection file rewritten) and the environment it must run with."""
    # the command's own folder must stay readable after the uid is dropped (see _needed_paths)
    config.setdefault("expose", [os.path.dirname(os.path.realpath(command[0]))])
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
    keep = {
        name: (f"/tmp/{name}" if isolated else path)
        for name, path in config.get("keep", {}).items()
    }
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
        conn_text = _ipc_inside(conn_text, config.get("keep", {}), keep)
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


def _ipc_inside(conn_text: str, outside: dict[str, str], inside: dict[str, str]) -> str:
    """A connection file whose IPC socket prefix lies in a kept folder, rewritten to where that
    folder is seen inside the jail (the kernel binds its sockets there; the grader connects to
    the same files outside). TCP connection files are returned as they are."""
    info = json.loads(conn_text)
    if info.get("transport") != "ipc":
        return conn_text
    ip = Path(info["ip"])
    for name, folder in outside.items():
        if ip.parent == Path(folder):
            info["ip"] = str(Path(inside[name]) / ip.name)
    return json.dumps(info)


def _substitute(text: str, keep: dict[str, str]) -> str:
    for name, path in keep.items():
        text = text.replace("{keep:" + name + "}", path)
    return text


if __name__ == "__main__":
    main()
