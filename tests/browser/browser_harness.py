"""The browser tests' harness: a live JupyterLab server, the notebook page a student sees, a temp
nbgrader course. Measured set-up and pitfalls: ../shared/design/browser-notes.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = ROOT / "_artifacts" / "screenshots"
ENABLE = (
    "browser tests need Chromium at {path} and Playwright: apt-get install -y chromium "
    "fonts-dejavu-core && pip install playwright (never `playwright install`)"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return ENABLE.format(path=CHROMIUM)
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return ENABLE.format(path=CHROMIUM)
    return None


# ----------------------------------------------------------------------------------------- server


def venv_env(env: dict | None = None) -> dict:
    """The environment with this Python's bin folder first on PATH (nbgrader runs `alembic`)."""
    env = dict(os.environ if env is None else env)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


class LabServer:
    """`jupyter lab` on 127.0.0.1 with a token and its own config, settings and workspaces."""

    def __init__(
        self, root_dir: Path, state_dir: Path, cwd: Path | None = None, log_name: str = "lab"
    ):
        self.root_dir = Path(root_dir).resolve()
        self.state = Path(state_dir).resolve()
        self.cwd = Path(cwd).resolve() if cwd else self.root_dir
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.state / f"{log_name}.log"
        self.proc: subprocess.Popen | None = None

    def env(self) -> dict:
        env = venv_env()
        settings = self.state / "settings"
        # No news/update pop-up; every cell in the DOM (no windowing), so page text and
        # full-page screenshots cover the whole notebook.
        _write_json(
            settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings",
            {"fetchNews": "false", "checkForUpdates": False},
        )
        _write_json(
            settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings",
            {"windowingMode": "none"},
        )
        for name in ("config", "runtime", "workspaces", "ipython"):
            (self.state / name).mkdir(parents=True, exist_ok=True)
        env.update(
            JUPYTER_CONFIG_DIR=str(self.state / "config"),
            JUPYTER_RUNTIME_DIR=str(self.state / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(self.state / "workspaces"),
            IPYTHONDIR=str(self.state / "ipython"),
            MPLBACKEND="module://matplotlib_inline.backend_inline",
            PYTHONUNBUFFERED="1",
            # small matrices: BLAS threads only fight each other (and the browser) on 2 cores
            OMP_NUM_THREADS="1",
            OPENBLAS_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
        )
        env.pop("JUPYTER_TOKEN", None)
        return env

    def start(self, timeout: float = 60) -> LabServer:
        jupyter = Path(sys.executable).with_name("jupyter")
        cmd = [
            str(jupyter),
            "lab",
            "--no-browser",
            f"--port={self.port}",
            "--ServerApp.port_retries=0",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            "--LabApp.expose_app_in_browser=True",
            "--ServerApp.open_browser=False",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        self.state.mkdir(parents=True, exist_ok=True)
        env = self.env()
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            cmd,
            cwd=self.cwd,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"jupyter lab exited with {self.proc.returncode}:\n{self.log_text()}"
                )
            with contextlib.suppress(OSError, urllib.error.URLError):
                if self.api("GET", "/api/status") is not None:
                    return self
            time.sleep(0.25)
        raise RuntimeError(f"jupyter lab did not answer within {timeout} s:\n{self.log_text()}")

    def log_text(self, tail: int = 4000) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-tail:]
        return ""

    def api(self, method: str, path: str, timeout: float = 10):
        req = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
        return json.loads(body) if body else {}

    def delete_sessions(self) -> None:
        """Shut down every session and kernel, so a reopened notebook starts a fresh kernel."""
        with contextlib.suppress(OSError, urllib.error.URLError):
            for session in self.api("GET", "/api/sessions"):
                with contextlib.suppress(OSError, urllib.error.URLError):
                    self.api("DELETE", f"/api/sessions/{session['id']}")
            for kernel in self.api("GET", "/api/kernels"):
                with contextlib.suppress(OSError, urllib.error.URLError):
                    self.api("DELETE", f"/api/kernels/{kernel['id']}")

    def workspace_url(self, workspace: str, path: str) -> str:
        return f"{self.url}/lab/workspaces/{workspace}/tree/{path}?token={self.token}"

    def stop(self) -> None:
        if self.proc is None:
            return
        self.delete_sessions()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        # Kernels run in their own sessions: make sure none outlives the server.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()
        self.proc = None


@contextlib.contextmanager
def running_lab(root_dir: Path, state_dir: Path, cwd: Path | None = None, log_name: str = "lab"):
    server = LabServer(root_dir, state_dir, cwd=cwd, log_name=log_name)
    try:
        yield server.start()
    finally:
        server.stop()


# ---------------------------------------------------------------------------- JupyterLab helpers

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook on screen (background tabs stay in the DOM)
JS_NOTEBOOK = (
    "(() => { const w = window.jupyterapp.shell.currentWidget; return w && w.content; })()"
)


class Lab:
    """One notebook open in JupyterLab: what a student sees and does, plus the model behind it."""

    def __init__(self, page, server: LabServer):
        self.page = page
        self.server = server

    # -- opening
    def open(self, workspace: str, path: str, timeout: float = 60_000) -> None:
        """Open ``path``: load JupyterLab at a workspace URL the first time, then reuse the page
        (close the previous notebook, shut its kernel down, open the next one: a fresh kernel)."""
        page = self.page
        loaded = page.evaluate("() => !!(window.jupyterapp && window.jupyterapp.shell)")
        if loaded:
            self.close_all()
            page.evaluate(
                "async (path) => { await window.jupyterapp.commands.execute('docmanager:open', {path}); }",
                path,
            )
        else:
            page.goto(self.server.workspace_url(workspace, path))
            page.wait_for_function(
                "() => window.jupyterapp && window.jupyterapp.shell", timeout=timeout
            )
        page.wait_for_function(
            """(path) => {
                const w = window.jupyterapp.shell.currentWidget;
                return w && w.context && w.context.path === path && w.context.isReady;
            }""",
            arg=path,
            timeout=timeout,
        )
        page.locator(f"{PANEL} .jp-Notebook .jp-Cell").first.wait_for(timeout=timeout)
        # only the notebook on screen (an emptied main area had opened a Launcher)
        page.evaluate(
            """() => { const app = window.jupyterapp, current = app.shell.currentWidget;
                       for (const w of [...app.shell.widgets('main')]) if (w !== current) w.dispose(); }"""
        )
        self.wait_idle(timeout)

    def close_all(self) -> None:
        """Dismiss any dialog, close every document without prompting, shut every kernel down."""
        page = self.page
        for _ in range(5):
            if not page.locator(".jp-Dialog").count():
                break
            page.keyboard.press("Escape")
            page.wait_for_timeout(200)
        page.evaluate(
            "() => { for (const w of [...window.jupyterapp.shell.widgets('main')]) w.dispose(); }"
        )
        self.server.delete_sessions()

    def wait_idle(self, timeout: float = 120_000) -> None:
        """The kernel is attached and idle (the toolbar says idle before a kernel exists)."""
        self.page.wait_for_function(
            """() => {
                const w = window.jupyterapp.shell.currentWidget;
                const s = w && w.sessionContext && w.sessionContext.session;
                const k = s && s.kernel;
                return !!k && k.status === 'idle' && k.connectionStatus === 'connected';
            }""",
            timeout=timeout,
        )

    # -- reading
    def cells(self) -> list[dict]:
        """Every cell: type, source, nbgrader metadata, outputs (as saved JSON)."""
        return self.page.evaluate(
            f"""() => {{
                const nb = {JS_NOTEBOOK};
                const out = [];
                for (const cell of nb.widgets) {{
                    const m = cell.model;
                    out.push({{
                        type: m.type,
                        source: m.sharedModel.getSource(),
                        nbgrader: (m.getMetadata && m.getMetadata('nbgrader')) || {{}},
                        outputs: m.type === 'code' ? m.outputs.toJSON() : [],
                        execution_count: m.type === 'code' ? m.executionCount : null,
                    }});
                }}
                return out;
            }}"""
        )

    # -- acting
    def run_all(self, keep_going: bool = False, timeout: float = 180_000) -> int:
        """Run All (JupyterLab's, which stops at the first error); with ``keep_going``, run every
        code cell in order instead, one at a time, past the errors.

        One at a time: after an error the kernel aborts its queue, and requests that reach it
        while it is still aborting are aborted too, or, worse, run out of order; a cell that was
        aborted (no execution count) is run again. Returns how many times that happened.
        """
        self.wait_idle()
        retried = self.page.evaluate(
            f"""async (keepGoing) => {{
                const app = window.jupyterapp;
                const nb = {JS_NOTEBOOK};
                if (!keepGoing) {{ await app.commands.execute('notebook:run-all-cells'); return 0; }}
                let retried = 0;
                for (let i = 0; i < nb.widgets.length; i++) {{
                    if (nb.widgets[i].model.type !== 'code') continue;
                    for (let attempt = 0; attempt < 5; attempt++) {{
                        nb.activeCellIndex = i;
                        await app.commands.execute('notebook:run-cell');
                        if (nb.widgets[i].model.executionCount !== null) break;
                        retried++;
                        await new Promise(r => setTimeout(r, 200));  // aborted: try again
                    }}
                }}
                return retried;
            }}""",
            keep_going,
        )
        self.page.wait_for_function(
            "() => !document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputPrompt') ||"
            " ![...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputPrompt')]"
            ".some(p => p.textContent.includes('[*]'))",
            timeout=timeout,
        )
        self.wait_idle(timeout)
        return retried

    def type_into_cell(self, index: int, text: str) -> None:
        """Select everything in cell ``index``'s editor and type ``text`` (no auto-indent)."""
        cell = self.page.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell").nth(index)
        editor = cell.locator(".cm-content")
        editor.scroll_into_view_if_needed()
        editor.click()
        self.page.keyboard.press("ControlOrMeta+a")
        self.page.keyboard.insert_text(text)
        self.page.keyboard.press("Escape")  # command mode
        got = self.page.evaluate(
            f"(i) => {JS_NOTEBOOK}.widgets[i].model.sharedModel.getSource()", index
        )
        assert got == text, f"cell {index}: the editor holds\n{got}\ninstead of the typed\n{text}"

    def validate(self, timeout: float = 180_000) -> tuple[str, str]:
        """Click nbgrader's Validate; return (verdict class, dialog text) and close the dialog."""
        self.page.locator(".jp-NotebookPanel:visible .validate-button").first.click()
        dialog = self.page.locator(".jp-Dialog")
        dialog.wait_for(timeout=timeout)
        body = dialog.locator(".jp-Dialog-body")
        verdicts = [
            "validation-success",
            "validation-failed",
            "validation-changed",
            "validation-type-changed",
        ]
        verdict = self.page.evaluate(
            "(names) => names.find(n => document.querySelector('.jp-Dialog .' + n)) || ''", verdicts
        )
        return verdict, body.inner_text()

    def show_first_error(self) -> None:
        """Scroll the Validate dialog to the end of the first failing cell's error message."""
        self.page.evaluate(
            """() => {
                const pres = [...document.querySelectorAll('.jp-Dialog .jp-RenderedText pre')];
                const error = pres[1];  // the first failure: its source, then its error
                if (error) error.scrollIntoView({block: 'end'});
            }"""
        )

    def close_dialog(self) -> None:
        dialog = self.page.locator(".jp-Dialog")
        dialog.locator("button.jp-mod-accept, button").first.click()
        dialog.wait_for(state="detached")

    def screenshot(self, path: Path, full: bool = True) -> None:
        """A full-page screenshot: JupyterLab fills the window, so grow it to the notebook first."""
        page = self.page
        size = page.viewport_size
        if full:
            height = page.evaluate(
                """() => {
                    const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
                    const outer = panel && panel.querySelector('.jp-WindowedPanel-outer');
                    const cells = panel ? panel.querySelectorAll('.jp-Notebook .jp-Cell') : [];
                    if (!outer || !cells.length) return 0;
                    outer.scrollTop = 0;
                    const top = cells[0].getBoundingClientRect().top;
                    const bottom = cells[cells.length - 1].getBoundingClientRect().bottom;
                    return bottom - top + outer.getBoundingClientRect().top + 80;
                }"""
            )
            height = min(max(size["height"], int(height)), 30_000)
            page.set_viewport_size({"width": size["width"], "height": height})
            page.evaluate(
                f"() => document.querySelectorAll('{PANEL} .jp-WindowedPanel-outer')"
                ".forEach(n => { n.scrollTop = 0; })"
            )
            page.wait_for_timeout(300)
        try:
            page.screenshot(path=str(path), full_page=True)
        finally:
            page.set_viewport_size(size)


# ------------------------------------------------------------------------------- a temp course

NOTEBOOKS = ROOT / "notebooks"


def course_notebooks(notebooks: Path = NOTEBOOKS) -> list[str]:
    """`<assignment>/<notebook>.ipynb` of every course notebook, in order."""
    return sorted(
        p.relative_to(notebooks).as_posix()
        for p in notebooks.glob("*/*.ipynb")
        if ".ipynb_checkpoints" not in p.parts
    )


def write_course_config(course_root: Path, exchange: Path | None = None) -> Path:
    """nbgrader_config.py of a temporary course: the course's own configuration
    (graders.course.apply_config: source = the repo's notebooks/, course id rnn-course), its root
    in ``course_root`` and, if given, its exchange folder."""
    lines = [
        "import sys",
        f"sys.path.insert(0, {str(ROOT)!r})",
        "from graders.course import apply_config  # noqa: E402",
        "c = get_config()  # noqa: F821",
        f"apply_config(c, root={str(course_root)!r}, source={str(NOTEBOOKS)!r})",
    ]
    if exchange is not None:
        lines.append(f"c.Exchange.root = {str(exchange)!r}")
    path = Path(course_root) / "nbgrader_config.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def graders_release(course_root: Path, assignments: list[str], timeout: float = 300) -> Path:
    """`python -m graders --root COURSE release ASSIGNMENT...`: the verified student versions."""
    done = subprocess.run(
        [sys.executable, "-m", "graders", "--root", str(course_root), "release", *assignments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=venv_env(),
    )
    assert done.returncode == 0, (
        f"python -m graders release failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    )
    return Path(course_root) / "release"


MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def reference_answer(name: str, source_cell_text: str) -> str:
    """What a student who got it right types: rnnlib's source of ``name`` (or the solution cell)."""
    import rnnlib

    sys.path.insert(0, str(ROOT / "tools"))
    import notebooks

    text = notebooks.solution_source(name) if name in rnnlib.__all__ else source_cell_text
    return "\n".join(line for line in text.splitlines() if line.strip() not in MARKERS)
