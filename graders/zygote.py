"""A kernel fork server: each grading worker's kernels start warm, in the same jail as before.

Starting a Python kernel costs about a second of CPU, nearly all of it imports (ipykernel,
IPython, numpy, matplotlib, rnnlib) that are the same for every submission. The zygote, one per
grading worker, imports them once and then forks a kernel per request; each forked kernel enters
its jail exactly as ``graders.jail`` would (``jail.enter``: namespaces, an allow-list root, its
own uid, limits, a scrubbed environment) and only then starts ipykernel.

jupyter_client still launches a process it can poll and signal: the launcher, a stdlib-only
``python -I -S`` that asks the zygote for a kernel, forwards SIGINT and SIGTERM to it and exits
with its status. If the launcher dies (SIGKILL), the zygote kills its kernel.

Protocol on the zygote's Unix socket (in a folder only the grader can enter): the launcher sends
one JSON line ``{"config": JAIL_CONFIG, "command": KERNEL_COMMAND}``; the zygote answers
``pid N`` once the kernel is forked and ``exit STATUS`` when it ends.

    python -I -m graders.zygote SOCKET
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import select
import signal
import socket
import struct
import sys

PRELOAD = (
    "numpy",
    "matplotlib.pyplot",
    "IPython",
    "IPython.core.interactiveshell",
    "IPython.core.completer",
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.debugger",  # debugpy: a sixth of a kernel's start once the rest is imported
    # what ipykernel's initialize and start import on top (measured: sys.modules before/after)
    "tornado.platform.asyncio",
    "IPython.core.debugger",
    "IPython.core.completerlib",
    "IPython.extensions.storemagic",
    "sqlite3",
    "faulthandler",
    # not matplotlib_inline.backend_inline: importing it hooks figures into the IPython shell
    # that exists at import time, and there is none yet in the zygote
    "rnnlib",
    "graders.checks",
    "graders.jail",
)
KERNEL_MODULE = "ipykernel_launcher"

LAUNCHER = r"""
import json, os, signal, socket, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.connect(sys.argv[1])
sep = sys.argv.index("--")
sock.sendall(json.dumps({"config": sys.argv[2], "command": sys.argv[sep + 1:]}).encode() + b"\n")
reader = sock.makefile("r")
first = reader.readline().split()
if len(first) != 2 or first[0] != "pid":
    sys.exit(70)
pid = int(first[1])
def forward(signum, frame):
    try:
        os.kill(pid, signum)
    except OSError:
        pass
signal.signal(signal.SIGINT, forward)
signal.signal(signal.SIGTERM, forward)
last = reader.readline().split()
status = int(last[1]) if len(last) == 2 and last[0] == "exit" else 70
sys.exit(status if 0 <= status < 256 else 128 + (-status) % 128)
"""


def launcher_command(sock_path: str, config: str, command: list[str]) -> list[str]:
    """The command jupyter_client runs instead of the kernel's: ask the zygote for the kernel."""
    return [sys.executable, "-I", "-S", "-c", LAUNCHER, sock_path, config, "--", *command]


def _die_with_parent() -> None:
    """The zygote ends when its grading worker does (prctl PR_SET_PDEATHSIG, Linux)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


def _peer_uid(conn: socket.socket) -> int:
    """The uid of the process at the other end of a Unix socket (SO_PEERCRED)."""
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


def _exit_status(status: int) -> int:
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else 70


def _kernel(conn: socket.socket, listener: socket.socket, request: dict) -> None:
    """In the forked child: enter the jail, then become the kernel. Never returns."""
    try:
        from graders import jail

        listener.close()
        conn.close()
        os.setsid()
        signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a fresh interpreter
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        config = json.loads(open(request["config"], encoding="utf-8").read())
        command, env = jail.enter(config, list(request["command"]))
        del config, request  # the kernel's stack holds no more of the grader's than it must
        os.closerange(3, 4096)
        if KERNEL_MODULE not in command:  # not the kernel we warmed up: run it as it is
            os.execve(command[0], command, env)
        os.environ.clear()
        os.environ.update(env)
        import numpy as np

        np.random.seed()  # noqa: NPY002 - a fork shares its parent's legacy global state; reseed it
        sys.argv = [KERNEL_MODULE, *command[command.index(KERNEL_MODULE) + 1 :]]
        if "" not in sys.path:  # as in a cold kernel: the notebook's folder comes first
            sys.path.insert(0, "")
        from ipykernel import kernelapp

        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - the kernel is gone; its status says so
        code = 70
    os._exit(code)


def _drop(kernels: dict[int, socket.socket], pid: int) -> None:
    """Kill a kernel whose launcher is gone and forget the launcher (the kernel is reaped later)."""
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    kernels.pop(pid).close()


def serve(sock_path: str) -> None:
    """Preload, then fork a jailed kernel for each request until the parent ends."""
    _die_with_parent()
    import importlib

    for module in PRELOAD:
        with contextlib.suppress(Exception):  # a missing extra only makes its kernels slower
            importlib.import_module(module)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(sock_path)
    listener.listen(8)
    kernels: dict[int, socket.socket] = {}  # pid -> the launcher's connection
    while True:
        ready, _, _ = select.select([listener, *kernels.values()], [], [], 0.05)
        for sock in ready:
            if sock is listener:
                conn, _ = listener.accept()
                if _peer_uid(conn) != os.getuid():  # only the grader may ask for a kernel
                    conn.close()
                    continue
                try:
                    conn.settimeout(10)
                    request = json.loads(conn.makefile("r").readline())
                    conn.settimeout(None)
                except (OSError, ValueError):
                    conn.close()
                    continue
                pid = os.fork()
                if pid == 0:
                    _kernel(conn, listener, request)
                kernels[pid] = conn
                try:
                    conn.sendall(f"pid {pid}\n".encode())
                except OSError:  # the launcher is gone already
                    _drop(kernels, pid)
            else:  # a launcher went away (killed): its kernel goes too
                with contextlib.suppress(OSError):
                    if sock.recv(1) == b"":
                        _drop(kernels, next(p for p, c in kernels.items() if c is sock))
        while True:  # reap every kernel that ended; tell its launcher how
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            conn = kernels.pop(pid, None)
            if conn is not None:
                with contextlib.suppress(OSError):
                    conn.sendall(f"exit {_exit_status(status)}\n".encode())
                conn.close()


if __name__ == "__main__":
    serve(sys.argv[1])
