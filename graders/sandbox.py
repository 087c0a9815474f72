"""The jails the grader runs untrusted code in: the student's kernel and the outside-check child.

The kernel goes through graders/jail.py, the child through bubblewrap (graders/policy.py says
what each sees). ``JailedKernelManager`` is the kernel manager nbgrader's Execute
uses during autograding: it wraps the kernel's command with the jail whose config file is named by
$RNN_GRADE_KERNEL_JAIL (set per submission by the grading worker).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from traitlets import DottedObjectName, Type

JAIL_ENV = "RNN_GRADE_KERNEL_JAIL"
IPC_ENV = "RNN_GRADE_KERNEL_IPC"  # the folder of the jailed kernel's Unix sockets
ZYGOTE_ENV = "RNN_GRADE_ZYGOTE"  # the socket of this worker's kernel fork server, if it runs
# Each grading worker gets its own pair of uids, so the process limit counts only its own jail;
# each run draws its own block of uids, so two runs on one machine never kill each other's jails.
UID_BASE = 46000
UID_BLOCK = 256


def run_uid_base() -> int:
    """The first uid of a fresh block for one grading run (worker w uses base + 2w, base + 2w + 1)."""
    return 1_000_000 + UID_BLOCK * secrets.randbelow(1_000_000)


KERNEL_LIMITS = {
    "cpu": 300,  # CPU seconds for the whole notebook: a loop that ignores interrupts dies here
    "as": 4 * 2**30,  # address space: a huge allocation fails instead of swapping the machine
    "nproc": 256,  # threads count as processes: the kernel needs a few dozen
    "fsize": 256 * 2**20,
    "nofile": 512,
    "core": 0,
}
CHILD_SCRATCH_BYTES = 64 * 2**20  # all a worker's outside-check children may write, together
CHILD_LIMITS = {
    "cpu": 60,
    "as": 2 * 2**30,
    "nproc": 1,  # no fork, no threads (BLAS runs single-threaded in the child)
    "fsize": 64 * 2**20,
    "nofile": 64,
    "core": 0,
}

# The environment a jailed process gets: nothing of the grader's but what Python needs.
# NBGRADER_EXECUTION lets a notebook shorten its demos while it is autograded.
_KEEP_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "NBGRADER_EXECUTION")


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """A scrubbed environment: PATH and locale, single-threaded BLAS, no config dirs of ours."""
    env = {k: os.environ[k] for k in _KEEP_ENV if k in os.environ}
    env.update(
        {
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "MPLBACKEND": "Agg",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        }
    )
    env.update(extra or {})
    return env


def jail_config(
    path: Path,
    *,
    uid: int | None,
    keep: dict[str, str],
    chdir: str | None,
    limits: dict[str, int],
    net: bool,
    env: dict[str, str],
    quiet: bool = False,
    seed: dict[str, str] | None = None,
    expose: list[str] = (),
) -> Path:
    """Write a jail config (see graders/jail.py) to ``path`` and return it. The jail's root is
    the kernel's allow-list (graders/policy.py) with the folders of ``keep`` read-write and those
    of ``expose`` read-only; nothing else of the machine is in it."""
    from graders import policy

    kept = [Path(p) for p in keep.values()]
    config = {
        "uid": uid,
        "gid": uid,
        "root": policy.kernel_layout(policy.kernel_view(), kept, [Path(e) for e in expose]),
        "keep": keep,
        "chdir": chdir,
        "limits": limits,
        "net": net,
        "env": env,
        "quiet": quiet,
        "seed": seed or {},
    }
    path.write_text(json.dumps(config, indent=1))
    return path


def jail_command(config: Path, command: list[str]) -> list[str]:
    """``command`` wrapped by the jail."""
    return [sys.executable, "-m", "graders.jail", str(config), "--", *command]


# Kernel ports come from below the ephemeral range (where jupyter_client's random ports and every
# other program's come from), from a random place per process, so that parallel workers starting
# kernels at the same moment do not race for the same port.
_PORT_LOW, _PORT_HIGH = 20000, 32000
_next_port = [0]


def _free_ports(n: int, ip: str = "127.0.0.1") -> list[int]:
    """``n`` ports that can be bound on ``ip`` right now, stepping through this process's range."""
    if not _next_port[0]:
        _next_port[0] = _PORT_LOW + secrets.randbelow(_PORT_HIGH - _PORT_LOW)
    ports: list[int] = []
    while len(ports) < n:
        port = _next_port[0]
        _next_port[0] = port + 1 if port + 1 < _PORT_HIGH else _PORT_LOW
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((ip, port))
            except OSError:
                continue
        ports.append(port)
    return ports


class PromptKernelClient(AsyncKernelClient):
    """jupyter_client's async client, ready as soon as the kernel has answered.

    jupyter_client's own ``wait_for_ready`` ends by reading IOPub until it has been quiet for
    0.2 s, a fixed 0.2 s of every kernel's start (a tenth of grading a notebook). Here the kernel
    is ready once it has answered kernel_info on the shell channel and its status for that
    request has come over IOPub (so IOPub is connected); what else IOPub holds is read for
    0.02 s. nbclient only reads messages whose parent is the request it sent, so a startup
    message left over cannot be taken for a cell's output."""

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (60.0 if timeout is None else timeout)
        answered = False  # the shell channel works; IOPub may still be joining
        while True:
            request = self.kernel_info()
            if answered or await self._reply_to(request, self.shell_channel, 1.0):
                answered = True
                # IOPub drops what is published before it has joined: ask again until the
                # status of one request comes through
                if await self._reply_to(request, self.iopub_channel, 0.2):
                    break
            # jupyter_client's own wait_for_ready asks the same private method (no public async
            # one exists on the client)
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")
        while await self._reply_to(None, self.iopub_channel, 0.02):
            pass

    @staticmethod
    async def _reply_to(request: str | None, channel: object, timeout: float) -> bool:
        """Whether a message answering ``request`` (any message, if None) comes within
        ``timeout`` seconds on ``channel``; others are read and dropped."""
        from queue import Empty

        end = time.monotonic() + timeout
        while (left := end - time.monotonic()) > 0:
            try:
                msg = await channel.get_msg(timeout=left)
            except Empty:
                return False
            if request is None or msg.get("parent_header", {}).get("msg_id") == request:
                return True
        return False


class JailedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels start inside the jail named by $RNN_GRADE_KERNEL_JAIL."""

    client_class = DottedObjectName("graders.sandbox.PromptKernelClient")
    client_factory = Type(klass=AsyncKernelClient, default_value=PromptKernelClient)

    async def _async_wait(self, pollinterval: float = 0.01) -> None:
        # jupyter_client's private wait for a killed kernel polls every 0.1 s, so each shutdown
        # costs that much; the launcher dies at once (SIGKILL), so poll ten times as often.
        # Overriding it is the only way to change that interval (shutdown_kernel has no option).
        await super()._async_wait(pollinterval=pollinterval)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        folder = os.environ.get(IPC_ENV)
        if folder and os.environ.get(JAIL_ENV):
            # the kernel has no network at all: its channels are Unix sockets in a folder the
            # jail keeps visible, so no job can reach another job's kernel or a local service
            self.transport = "ipc"
            self.ip = str(Path(folder) / "kernel")
        elif self.transport == "tcp":
            self.cache_ports = False
            self.shell_port, self.iopub_port, self.stdin_port, self.hb_port, self.control_port = (
                _free_ports(5, self.ip or "127.0.0.1")
            )

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        cmd = super().format_kernel_cmd(extra_arguments)
        config = os.environ.get(JAIL_ENV)
        if not config:
            return cmd
        if os.environ.get(ZYGOTE_ENV):
            from graders import zygote

            return zygote.launcher_command(os.environ[ZYGOTE_ENV], config, cmd)
        return jail_command(Path(config), cmd)


def start_zygote(folder: Path, env: dict[str, str], timeout: float = 60) -> subprocess.Popen | None:
    """Start a kernel fork server (graders/zygote.py) with its socket in ``folder`` (made only
    the grader's); returns it once it listens, or None if it did not start (kernels then start
    cold, through graders.jail). Linux only (it relies on SO_PEERCRED and PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        return None
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    sock = folder / "kernels.sock"
    sock.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-I", "-m", "graders.zygote", str(sock)],
        env={**env, "HOME": str(folder)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    while not sock.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            return None
        time.sleep(0.02)
    return proc


def matplotlib_font_cache(folder: Path) -> dict[str, str]:
    """Build matplotlib's font cache once in ``folder``; returns the jail ``seed`` that puts it
    where a kernel's matplotlib looks (each fresh kernel would otherwise spend a second or more
    rebuilding it)."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(
            [sys.executable, "-c", "import matplotlib.font_manager"],
            env={**os.environ, "MPLCONFIGDIR": str(folder), "MPLBACKEND": "Agg"},
            capture_output=True,
            timeout=300,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return {}
    return {f".cache/matplotlib/{p.name}": str(p) for p in folder.glob("fontlist-*.json")}


# The grading kernel's figures (inline PNGs, shown in the feedback) at IPython's old inline
# resolution and without the "tight" bounding box (which draws each figure twice): drawing them
# is most of what the inline backend adds to grading a notebook (measured on the six solutions'
# graded cells: 5.6 s with the tight box, 4.1 s without; 3.7 s with no figures at all). The
# course's figures keep their labels inside the canvas, so none is cut.
KERNEL_IPYTHON_CONFIG = (
    'c.InlineBackend.rc = {"figure.dpi": 72}\n'
    'c.InlineBackend.print_figure_kwargs = {"bbox_inches": None}\n'
)


def kernel_ipython_config(folder: Path) -> dict[str, str]:
    """The jail ``seed`` that puts the grading kernel's IPython configuration in its HOME."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "ipython_kernel_config.py"
    path.write_text(KERNEL_IPYTHON_CONFIG)
    return {".ipython/profile_default/ipython_kernel_config.py": str(path)}


def kill_uid(uid: int | None) -> None:
    """Kill every process left running as ``uid`` (a jailed student's strays), when root."""
    if uid is None or os.geteuid() != 0:
        return
    pid = os.fork()
    if pid == 0:  # the child becomes the uid and signals all its processes (kill -1)
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            os.kill(-1, 9)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def probe(workdir: Path, uid: int | None, hide: list[str]) -> dict:
    """Run a tiny probe in the outside check's sandbox (graders/policy.py): which protections
    hold on this machine. Raises policy.SandboxUnavailableError when bubblewrap is missing."""
    from graders import jail, policy

    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "stub").mkdir(exist_ok=True)
    (workdir / "job").mkdir(exist_ok=True)
    if uid is not None:
        os.chown(workdir / "job", uid, uid)
    code = (
        "import os, json, socket, sys\n"
        "out = {'uid': os.getuid(), 'pid': os.getpid()}\n"
        "out['hidden'] = [p for p in sys.argv[3:] if not os.path.exists(p)]\n"
        "out['net'] = sorted(os.listdir('/sys/class/net')) if os.path.isdir('/sys/class/net')"
        " else []\n"
        "try:\n    if os.fork() == 0:\n        os._exit(0)\n    out['fork'] = True\n"
        "except OSError:\n    out['fork'] = False\n"
        "print(json.dumps(out))\n"
    )
    argv = policy.child_argv(
        policy.current_interpreter(), [], workdir / "stub", workdir / "job", uid, code, clean_env()
    )
    try:
        run = subprocess.run(
            [*argv, *hide],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            preexec_fn=lambda: jail.set_limits(CHILD_LIMITS),
        )
        result = json.loads(run.stdout.strip().splitlines()[-1])
        result["isolation"] = "bubblewrap allow-list, own pid/net/ipc/uts namespaces"
        if uid is not None and result.get("uid") == uid:
            result["isolation"] += ", own uid"
    except (subprocess.SubprocessError, ValueError, IndexError) as exc:
        result = {"isolation": "none", "error": f"{exc} {locals().get('run') and run.stderr}"}
    finally:
        kill_uid(uid)
    return result
