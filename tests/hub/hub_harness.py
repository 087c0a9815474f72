"""A JupyterHub course on this machine, for tests/hub: Unix users, the shared exchange, the hub.

Everything lives in one temporary folder (the users' homes, the exchange, the course root, the
hub's database and logs) and is removed by :meth:`HubCourse.close`, with the Unix users and their
groups it created and every process it started or that runs as one of its users. Needs root (the
hub spawns each user's server as that user) and configurable-http-proxy from npm (.ci/run
installs it into .venv/node).
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
COURSE_ID = "rnn-course"
# every account this harness makes carries this comment, so a crashed run's leftovers are known
MARKER = "rnnlib tests/hub account"
# tests/hub/package.json (and its lock file) pins it: `npm ci --prefix tests/hub`
PROXY = Path(__file__).with_name("node_modules") / ".bin" / "configurable-http-proxy"
ENABLE = (
    "the JupyterHub test needs root, jupyterhub (pip install -e '.[dev]') and "
    "configurable-http-proxy from npm (npm ci --prefix tests/hub; .ci/run does both)"
)


def proxy_command() -> Path | None:
    if PROXY.is_file() and os.access(PROXY, os.X_OK):
        return PROXY
    found = shutil.which("configurable-http-proxy")
    return Path(found) if found else None


def hub_missing() -> str | None:
    """Why the hub test cannot run here, or None."""
    if os.geteuid() != 0 or not shutil.which("useradd"):
        return ENABLE
    if not (BIN / "jupyterhub").is_file() or proxy_command() is None:
        return ENABLE
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*args, check: bool = True, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kw)
    assert not check or done.returncode == 0, (
        f"`{' '.join(map(str, args))}` exited with {done.returncode}:\n"
        f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done


class UnixUser:
    """A Unix account of the test's own (and its user group), with its home in the temp folder."""

    def __init__(self, name: str, home: Path):
        self.name = name
        self.home = home
        self.password = secrets.token_urlsafe(12)
        leftover = self._entry()
        if leftover is not None:
            assert leftover.pw_gecos == MARKER, (
                f"a Unix user {name!r} exists and was not made by this test: not touching it"
            )
            self.delete()  # a crashed run's account
        run(
            "useradd", "--user-group", "--home-dir", home, "--no-create-home",
            "--shell", "/bin/sh", "--comment", MARKER, name,
        )  # fmt: skip
        run("chpasswd", input=f"{name}:{self.password}\n")
        entry = self._entry()
        self.uid, self.gid = entry.pw_uid, entry.pw_gid
        home.mkdir(parents=True)
        os.chown(home, self.uid, self.gid)
        home.chmod(0o700)  # nobody else's business
        # JupyterLab without its news pop-up
        self.write(
            ".jupyter/lab/user-settings/@jupyterlab/apputils-extension/"
            "notification.jupyterlab-settings",
            json.dumps({"fetchNews": "false", "checkForUpdates": False}),
        )

    def _entry(self):
        try:
            return pwd.getpwnam(self.name)
        except KeyError:
            return None

    def write(self, relative: str, text: str) -> Path:
        """Write a file in the user's home, owned by the user."""
        path = self.home / relative
        parts = path.relative_to(self.home).parents
        for parent in reversed([self.home / p for p in parts if str(p) != "."]):
            if not parent.exists():
                parent.mkdir()
                os.chown(parent, self.uid, self.gid)
        path.write_text(text)
        os.chown(path, self.uid, self.gid)
        return path

    def env(self) -> dict:
        return {
            "HOME": str(self.home),
            "USER": self.name,
            "LOGNAME": self.name,
            "PATH": os.pathsep.join([str(BIN), "/usr/local/bin", "/usr/bin", "/bin"]),
            "LANG": "C.UTF-8",
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
        }

    def run(self, *args, cwd: Path | None = None, check: bool = True, timeout: float = 300):
        """Run a command as this user (its uid, its group, nothing else), like its terminal."""
        return run(
            "setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--init-groups", "--",
            *args, cwd=cwd or self.home, env=self.env(), check=check, timeout=timeout,
        )  # fmt: skip

    def processes(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    if entry.stat().st_uid == self.uid:
                        pids.append(int(entry.name))
        return pids

    def delete(self) -> None:
        """Stop what still runs as this user, then remove the account and its group."""
        entry = self._entry()
        if entry is None:
            return
        self.uid = entry.pw_uid
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in self.processes():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            time.sleep(0.3)
        run("userdel", self.name)  # USERGROUPS_ENAB: its user group goes with it
        with contextlib.suppress(KeyError):
            import grp

            group = grp.getgrnam(self.name)
            if not group.gr_mem:
                run("groupdel", self.name)


def traverse_grants(path: Path) -> list[tuple[Path, int]]:
    """Give o+x (enter, not list) to each ancestor of ``path`` that lacks it, so the users' servers
    can run this Python and read the course; return what to restore."""
    changed = []
    for parent in path.parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)
            changed.append((parent, stat.S_IMODE(mode)))
    return changed


class HubCourse:
    """The course on JupyterHub: an instructor and students as Unix users and hub users (PAM log
    in, each server spawned as its own user by LocalProcessSpawner), the exchange shared."""

    def __init__(self, instructor: str, students: list[str]):
        self.tmp = Path(tempfile.mkdtemp(prefix="rnn-hub-"))
        self.tmp.chmod(0o755)
        self.restore: list[tuple[Path, int]] = []
        self.users: dict[str, UnixUser] = {}
        self.proc: subprocess.Popen | None = None
        try:
            for path in (Path(sys.prefix), Path(os.path.realpath(sys.executable)), ROOT):
                self.restore += traverse_grants(path)  # a 0700 /root holding pyenv's Python, say
            for name in [instructor, *students]:
                self.users[name] = UnixUser(name, self.tmp / "home" / name)
            self.instructor = self.users[instructor]
            self.students = [self.users[s] for s in students]
            self._lay_out()
        except BaseException:
            self.close()
            raise

    def _lay_out(self) -> None:
        teacher = self.instructor
        # the exchange: anyone may enter; nbgrader sets inbound/ to write-only (0733) for others
        self.exchange = self.tmp / "exchange"
        self.exchange.mkdir()
        self.exchange.chmod(0o777)
        # the instructor's course root, in their home, configured by graders/course.py
        self.course = teacher.home / "course"
        config = (
            "import sys\n"
            f"sys.path.insert(0, {str(ROOT)!r})\n"
            "from graders.course import apply_config  # noqa: E402\n"
            "c = get_config()  # noqa: F821\n"
            f"apply_config(c, root={str(self.course)!r})\n"
            f"c.Exchange.root = {str(self.exchange)!r}\n"
        )
        teacher.write("course/nbgrader_config.py", config)  # nbgrader's commands, run in course/
        teacher.write(".jupyter/nbgrader_config.py", config)  # the Formgrader in their server
        # what every single-user server reads (JUPYTER_CONFIG_PATH): the course and its exchange
        self.etc = self.tmp / "etc" / "jupyter"
        self.etc.mkdir(parents=True)
        (self.etc / "nbgrader_config.py").write_text(
            "c = get_config()  # noqa: F821\n"
            f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
            f"c.Exchange.root = {str(self.exchange)!r}\n"
        )
        self.state = self.tmp / "hub"
        self.state.mkdir()
        self.port, self.hub_port, self.api_port = free_port(), free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = {
            "ip": "127.0.0.1",
            "port": self.port,
            "hub_port": self.hub_port,
            "api_port": self.api_port,
            "proxy": str(proxy_command()),
            "state": str(self.state),
            "instructor": teacher.name,
            "students": [s.name for s in self.students],
            "course_id": COURSE_ID,
            "singleuser": str(BIN / "jupyterhub-singleuser"),
            # the test drives each user's JupyterLab through its app object (window.jupyterapp)
            "singleuser_args": ["--LabApp.expose_app_in_browser=True"],
            "path": os.pathsep.join([str(BIN), "/usr/local/bin", "/usr/bin", "/bin"]),
            "jupyter_config_path": str(self.etc),
        }
        (self.state / "hub.json").write_text(json.dumps(config, indent=1))

    def start(self, timeout: float = 60) -> HubCourse:
        self.log_path = self.state / "jupyterhub.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in close()
        env = {
            "PATH": os.pathsep.join([str(BIN), "/usr/local/bin", "/usr/bin", "/bin"]),
            "LANG": "C.UTF-8",
            "HOME": str(self.state),
            "RNN_HUB_CONFIG": str(self.state / "hub.json"),
        }
        self.proc = subprocess.Popen(
            [BIN / "jupyterhub", "-f", Path(__file__).with_name("jupyterhub_config.py")],
            cwd=self.state,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyterhub exited with {self.proc.returncode}:\n{self.logs()}")
            with contextlib.suppress(OSError, urllib.error.URLError):
                with urllib.request.urlopen(f"{self.url}/hub/api/", timeout=5) as resp:
                    if resp.status == 200:
                        return self
            time.sleep(0.3)
        raise RuntimeError(f"jupyterhub did not answer within {timeout} s:\n{self.logs()}")

    def logs(self, tail: int = 6000) -> str:
        with contextlib.suppress(OSError, AttributeError):
            return self.log_path.read_text(errors="replace")[-tail:]
        return ""

    def stop_hub(self) -> None:
        """Stop the hub; it stops the proxy and the servers it spawned (cleanup_servers)."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):  # the proxy shares the hub's group
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc = None
        self.log.close()

    def close(self) -> None:
        try:
            self.stop_hub()
        finally:
            for user in self.users.values():
                with contextlib.suppress(Exception):
                    user.delete()
            for path, mode in reversed(self.restore):
                with contextlib.suppress(OSError):
                    path.chmod(mode)
            shutil.rmtree(self.tmp, ignore_errors=True)
