"""The kernel fork server (graders/zygote.py): kernels start warm, yet jailed as a cold one is,
can be interrupted, die with their launcher, and only the grader may ask for one."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from graders import sandbox, zygote

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the jail's uid and mounts need root")
UID = sandbox.UID_BASE + 95


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A zygote, and the environment that makes JailedKernelManager use it with a jail config."""
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "gradebook.db").write_text("grades")
    work = tmp_path / "work"
    work.mkdir()
    os.chmod(work, 0o777)
    env = sandbox.clean_env({"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})
    config = sandbox.jail_config(
        tmp_path / "jail.json",
        uid=UID if os.geteuid() == 0 else None,
        keep={"work": str(work)},
        chdir="{keep:work}",
        limits=sandbox.KERNEL_LIMITS,
        net=False,
        env=env,
        quiet=True,
    )
    proc = sandbox.start_zygote(tmp_path / "zygote", env)
    assert proc is not None, "the zygote did not start listening"
    monkeypatch.setenv(sandbox.JAIL_ENV, str(config))
    monkeypatch.setenv(sandbox.ZYGOTE_ENV, str(tmp_path / "zygote" / "kernels.sock"))
    yield {"proc": proc, "secret": secret, "folder": tmp_path / "zygote", "work": work}
    proc.kill()
    proc.wait()
    sandbox.kill_uid(UID)


async def _run(client, code: str, timeout: float = 60) -> tuple[str, dict]:
    """Execute ``code``; returns (its stdout, the execute reply's content)."""
    out: list[str] = []

    def hook(msg: dict) -> None:
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])

    reply = await client.execute_interactive(code, output_hook=hook, timeout=timeout)
    return "".join(out), reply["content"]


async def _start():
    km = sandbox.JailedKernelManager(kernel_name="python3")
    await km.start_kernel()
    client = km.client()
    client.start_channels()
    await client.wait_for_ready(timeout=60)
    return km, client


PROBE = (
    "import json, os, sys\n"
    "print(json.dumps({'uid': os.getuid(), 'ppid': os.getppid(), 'pid': os.getpid(),\n"
    "    'isolation': os.environ.get('RNN_GRADE_ISOLATION'), 'cwd': os.getcwd(),\n"
    "    'warm': 'matplotlib.pyplot' in sys.modules,\n"
    "    'secret': os.path.exists({secret!r}), 'zygote': os.path.exists({folder!r})}))\n"
)


def test_a_kernel_forks_warm_from_the_zygote_and_is_jailed(server):
    async def scenario():
        km, client = await _start()
        try:
            code = PROBE.replace("{secret!r}", repr(str(server["secret"] / "gradebook.db")))
            out, reply = await _run(client, code.replace("{folder!r}", repr(str(server["folder"]))))
            assert reply["status"] == "ok", reply
            return json.loads(out)
        finally:
            client.stop_channels()
            await km.shutdown_kernel(now=True)

    seen = asyncio.run(scenario())
    assert seen["warm"], f"the kernel was not forked by the zygote (no warm imports): {seen}"
    assert seen["cwd"] == str(server["work"]), f"the kernel is not in its kept folder: {seen}"
    if os.geteuid() == 0:
        assert seen["uid"] == UID, f"the kernel kept the grader's uid: {seen}"
        assert "mount namespace" in seen["isolation"] and "own uid" in seen["isolation"], seen
        assert "allow-list root" in seen["isolation"], seen
        assert not seen["secret"], "a file outside the allow-list is visible to a kernel"
        assert not seen["zygote"], "the zygote's own folder is visible to its kernels"
        assert (seen["pid"], seen["ppid"]) == (2, 1), (
            f"the kernel is not the process under the init of a PID namespace of its own: {seen}"
        )


def test_an_interrupt_reaches_the_forked_kernel(server):
    async def scenario():
        km, client = await _start()
        try:
            task = asyncio.ensure_future(_run(client, "while True:\n    pass", timeout=60))
            await asyncio.sleep(1.0)
            await km.interrupt_kernel()
            _, reply = await task
            out, after = await _run(client, "print(6 * 7)")
            return reply, out, after
        finally:
            client.stop_channels()
            await km.shutdown_kernel(now=True)

    reply, out, after = asyncio.run(scenario())
    assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt", reply
    assert out.strip() == "42" and after["status"] == "ok", (
        "the kernel did not survive the interrupt"
    )


@needs_root
def test_a_kernel_dies_with_its_launcher(server):
    """Killing the launcher ends the kernel and its PID namespace (it has no host pid to print:
    its processes are found by their uid)."""

    async def scenario():
        km, client = await _start()
        try:
            out, _ = await _run(client, "import os; print(os.getuid())")
            assert int(out) == UID, f"the kernel runs as uid {out}, not the jail's {UID}"
            assert _processes_of(UID), "no process of the kernel's uid was found before the kill"
            km.provisioner.process.kill()  # the launcher, as jupyter_client's kill would
            for _ in range(100):
                if not _processes_of(UID):
                    return True
                await asyncio.sleep(0.05)
            return False
        finally:
            client.stop_channels()
            await km.shutdown_kernel(now=True)

    assert asyncio.run(scenario()), f"processes of uid {UID} outlived the launcher"
    assert server["proc"].poll() is None, "the zygote ended with one of its kernels"


def _processes_of(uid: int) -> list[int]:
    """Live (not zombie) processes whose real uid is ``uid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and not _zombie(int(entry.name)):
            try:
                if entry.stat().st_uid == uid:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@needs_root
def test_only_the_grader_may_ask_for_a_kernel():
    # a zygote whose socket every uid can reach, so that only its peer check stands
    folder = Path(tempfile.mkdtemp(prefix="rnn-zygote-", dir="/tmp"))
    os.chmod(folder, 0o755)
    proc = sandbox.start_zygote(folder / "z", sandbox.clean_env())
    assert proc is not None, "the zygote did not start listening"
    try:
        os.chmod(folder / "z", 0o755)
        os.chmod(folder / "z" / "kernels.sock", 0o777)
        answer = _ask_as(UID, folder / "z" / "kernels.sock")
        assert answer == b"closed", f"another uid's request was not simply closed: {answer!r}"
        assert proc.poll() is None, "the zygote died of the refused request"
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(folder, ignore_errors=True)


def _ask_as(uid: int, sock_path: Path) -> bytes:
    """What the zygote answers a request for a root kernel sent by a process of ``uid``."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(reader)
        answer = b"nothing"
        try:
            os.setgid(uid)
            os.setuid(uid)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(10)
            sock.connect(str(sock_path))
        except OSError as exc:  # the test's own set-up failed: say so rather than pass
            answer = f"could not connect: {exc}".encode()
        else:
            try:
                request = {"config": "/dev/null", "command": ["/bin/true"]}
                sock.sendall(json.dumps(request).encode() + b"\n")
                answer = sock.recv(100) or b"closed"
            except OSError:  # broken pipe, reset: the zygote hung up
                answer = b"closed"
        finally:
            os.write(writer, answer)
            os._exit(0)
    os.close(writer)
    os.waitpid(pid, 0)
    return os.read(reader, 200)


@pytest.mark.parametrize(
    "code, status",
    [("raise SystemExit(3)", 3), ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", 137)],
    ids=["exit 3", "killed"],
)
def test_the_launcher_exits_as_the_forked_command_did(server, code, status):
    """Another command than a kernel is exec'd in the jail; its end reaches the launcher."""
    command = zygote.launcher_command(
        os.environ[sandbox.ZYGOTE_ENV],
        os.environ[sandbox.JAIL_ENV],
        [sys.executable, "-I", "-c", code],
    )
    run = subprocess.run(command, timeout=60, check=False)
    assert run.returncode == status, f"launcher exited {run.returncode}, the command {status}"


def test_a_launcher_that_hangs_up_at_once_does_not_end_the_zygote(server):
    # a program of the allow-list (the jail's root has no /bin/true)
    request = {"config": os.environ[sandbox.JAIL_ENV], "command": [sys.executable, "-c", "pass"]}
    for _ in range(3):  # ask, and hang up before the answer
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(os.environ[sandbox.ZYGOTE_ENV])
        sock.sendall(json.dumps(request).encode() + b"\n")
        sock.close()
    command = zygote.launcher_command(
        os.environ[sandbox.ZYGOTE_ENV], os.environ[sandbox.JAIL_ENV], [sys.executable, "-c", "pass"]
    )
    run = subprocess.run(command, timeout=60, check=False)
    assert server["proc"].poll() is None, "the zygote died when a launcher hung up"
    assert run.returncode == 0, f"the next kernel request failed ({run.returncode})"
