"""The course on a real JupyterHub, end to end, through the browser.

The hub (with configurable-http-proxy from npm) logs in Unix users with PAM and spawns each
user's JupyterLab as that user. The instructor releases the first assignment to the shared
exchange; alice and bob log in through the browser, fetch it from nbgrader's Assignment List,
answer it (bob leaves one exercise out) and submit it there; the instructor collects, grades with
`python -m graders autograde` and releases feedback; each student fetches their own from the
Assignment List. Bob then tries to read alice's work, as his server's process would: her home,
her submission in the exchange's inbound folder, her server through the hub. All of it fails.

Needs root (Unix users; the grader's sandboxes). The fixture removes everything it made: the hub,
the proxy, the servers, every process of its users, the users and their groups, its temporary
folder. Without root, jupyterhub or the proxy the test skips with one line saying how to enable it
(RNN_REQUIRE_HUB=1, set by .ci/run, makes that a failure).
"""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from pathlib import Path

import nbformat
import pytest
from hub_harness import COURSE_ID, ROOT, HubCourse, hub_missing, run

sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "tests" / "browser"))
import notebooks  # noqa: E402  (tools/notebooks.py)
import rnnlib  # noqa: E402

INSTRUCTOR, ALICE, BOB = "rnnhub-teacher", "rnnhub-alice", "rnnhub-bob"
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
# run in a student's kernel: try each statement, report what stopped it (or "READ")
PROBE = """import json, os
out = {"uid": os.getuid()}
for what, code in %r.items():
    try:
        exec(code)
        out[what] = "READ"
    except OSError as e:
        out[what] = type(e).__name__
print(json.dumps(out))
"""
SCREENSHOTS = ROOT / "_artifacts" / "screenshots" / "hub"


def first_assignment() -> tuple[str, list[str]]:
    folders = sorted(p for p in (ROOT / "notebooks").glob("*") if any(p.glob("*.ipynb")))
    assert folders, "no course notebooks"
    return folders[0].name, sorted(p.stem for p in folders[0].glob("*.ipynb"))


@pytest.fixture(scope="module")
def hub():
    from browser_harness import browser_missing

    reason = hub_missing() or browser_missing()
    if reason and os.environ.get("RNN_REQUIRE_HUB") == "1":
        pytest.fail(f"RNN_REQUIRE_HUB=1 but {reason}", pytrace=False)
    if reason:
        pytest.skip(reason)
    course = HubCourse(INSTRUCTOR, [ALICE, BOB])
    try:
        yield course.start()
    finally:
        course.close()


@pytest.fixture(scope="module")
def browser(playwright):
    from browser_harness import CHROMIUM, CHROMIUM_ARGS

    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield browser
    finally:
        browser.close()


class Session:
    """One hub user's browser session (its own cookies)."""

    def __init__(self, browser, hub: HubCourse, name: str):
        self.name = name
        self.hub = hub
        self.user = hub.users[name]
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(60_000)
        self.page = self.context.new_page()
        self.base = f"/user/{name}"

    def log_in(self) -> None:
        page = self.page
        page.goto(f"{self.hub.url}/hub/login")
        page.fill("input[name=username]", self.name)
        page.fill("input[name=password]", self.user.password)
        page.click("input[type=submit], button[type=submit]")
        page.wait_for_url(f"**{self.base}/lab**", timeout=90_000)
        try:
            page.locator("#jp-menu-panel, .lm-MenuBar").first.wait_for()
        except Exception as error:
            self.screenshot("log-in-failed")
            raise AssertionError(
                f"{self.name}'s JupyterLab did not load:\n{self.hub.logs()}"
            ) from error

    def assignment_list(self) -> None:
        """Open nbgrader's Assignment List from the Nbgrader menu."""
        page = self.page
        page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
        page.locator(".lm-Menu-itemLabel", has_text="Assignment List").click()
        page.locator("#released_assignments_list").wait_for()

    def api(self, method: str, path: str, body: dict | None = None) -> tuple[int, str]:
        """Call the user's server from the page, with the page's cookies and XSRF token."""
        return tuple(
            self.page.evaluate(
                """async ([method, url, body]) => {
                    const xsrf = (document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1] || "";
                    const r = await fetch(url, {method, headers: {"X-XSRFToken":
                        decodeURIComponent(xsrf), "Content-Type": "application/json"},
                        body: body === null ? undefined : JSON.stringify(body)});
                    return [r.status, await r.text()];
                }""",
                [method, path, body],
            )
        )

    def run_in_kernel(self, code: str) -> dict:
        """Run ``code`` in a new kernel of the student's own server; return its printed JSON."""
        out = self.page.evaluate(
            """async (code) => {
                const kernels = window.jupyterapp.serviceManager.kernels;
                const kernel = await kernels.startNew({name: "python3"});
                let out = "";
                const future = kernel.requestExecute({code});
                future.onIOPub = (msg) => {
                    const c = msg.content;
                    if (msg.header.msg_type === "stream") out += c.text;
                    if (msg.header.msg_type === "error") out += c.ename + ": " + c.evalue;
                };
                await future.done;
                await kernel.shutdown();
                return out;
            }""",
            code,
        )
        try:
            return json.loads(out)
        except ValueError:
            raise AssertionError(f"{self.name}'s kernel printed {out!r}") from None

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{self.name}-{name}.png"))


def answer(nb, leave_unanswered: set[str]) -> list[str]:
    """Type the reference answer into each answer cell but those named; return all their names."""
    names = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("solution"):
            continue
        names.append(meta["grade_id"])
        if meta["grade_id"] in leave_unanswered:
            continue
        assert meta["grade_id"] in rnnlib.__all__, f"answer cell {meta['grade_id']} is not rnnlib's"
        text = notebooks.solution_source(meta["grade_id"])
        cell.source = "\n".join(line for line in text.splitlines() if line.strip() not in MARKERS)
    return names


def wait_for(predicate, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_two_students_take_the_course_on_jupyterhub_and_cannot_read_each_other(hub, browser):
    assignment, nb_names = first_assignment()
    teacher, course = hub.instructor, hub.course
    nbgrader = Path(sys.executable).with_name("nbgrader")

    # the instructor, a Unix and hub user, logs in; in their terminal they generate the checked
    # student version and release it
    instructor = Session(browser, hub, INSTRUCTOR)
    instructor.log_in()
    teacher.run(sys.executable, "-m", "graders", "--root", course, "release", assignment)
    teacher.run(nbgrader, "release_assignment", assignment, cwd=course)
    outbound = hub.exchange / COURSE_ID / "outbound" / assignment
    assert sorted(p.stem for p in outbound.glob("*.ipynb")) == nb_names, (
        f"the exchange's outbound/{assignment} holds {sorted(os.listdir(outbound))}"
    )

    students = {name: Session(browser, hub, name) for name in (ALICE, BOB)}
    unanswered: dict[str, list[str]] = {}
    for name, student in students.items():
        student.log_in()
        student.assignment_list()
        released = student.page.locator("#released_assignments_list")
        released.locator(".list_item", has_text=assignment).locator(
            "button", has_text="Fetch"
        ).click()
        fetched = student.page.locator("#fetched_assignments_list")
        fetched.locator(".list_item", has_text=assignment).wait_for()
        student.screenshot("fetched")
        # the student's server fetched it into the student's own home, as the student
        for nb in nb_names:
            path = student.user.home / assignment / f"{nb}.ipynb"
            assert path.is_file(), f"{name}'s Fetch put no {assignment}/{nb}.ipynb in their home"
            assert path.stat().st_uid == student.user.uid, f"{path} is not owned by {name}"
        # work: the answers go in through the student's own server (the contents API the editor
        # uses); bob leaves the last exercise of the first notebook out
        skipped: list[str] = []
        for i, nb in enumerate(nb_names):
            url = f"{student.base}/api/contents/{assignment}/{nb}.ipynb"
            status, text = student.api("GET", f"{url}?content=1")
            assert status == 200, f"{name} could not open {nb}.ipynb: {status} {text[:300]}"
            model = nbformat.from_dict(json.loads(text)["content"])
            stubs = [
                c.metadata["nbgrader"]["grade_id"]
                for c in model.cells
                if c.get("metadata", {}).get("nbgrader", {}).get("solution")
            ]
            skip = set(stubs[-1:]) if name == BOB and i == 0 else set()
            answer(model, skip)
            skipped += sorted(skip)
            status, text = student.api(
                "PUT", url, {"type": "notebook", "format": "json", "content": model}
            )
            assert status == 200, f"{name} could not save {nb}.ipynb: {status} {text[:300]}"
        unanswered[name] = skipped
        item = fetched.locator(".list_item", has_text=assignment)
        item.locator("button", has_text="Submit").click()
        submitted = student.page.locator("#submitted_assignments_list")
        submitted.locator(".list_item", has_text=assignment).wait_for(timeout=60_000)
        student.screenshot("submitted")

    inbound = hub.exchange / COURSE_ID / "inbound"
    owners = {p.name.split("+")[0]: p.stat().st_uid for p in inbound.iterdir()}
    assert owners == {ALICE: hub.users[ALICE].uid, BOB: hub.users[BOB].uid}, (
        f"the exchange's inbound holds {owners}: expected one submission of each, made by them"
    )

    # the attack: code in bob's own server (a kernel he starts there) goes after alice's work
    alice_home = hub.users[ALICE].home
    alice_inbound = next(inbound.glob(f"{ALICE}+*"))
    timestamp = alice_inbound.name.split("+")[2]
    attempts = {  # what bob tries: what stops him
        "list alice's home": (f"os.listdir({str(alice_home)!r})", "PermissionError"),
        "read alice's notebook": (
            f"open({str(alice_home / assignment / f'{nb_names[0]}.ipynb')!r}).read()",
            "PermissionError",
        ),
        "list alice's nbgrader cache": (
            f"os.listdir({str(alice_home / '.local' / 'share' / 'jupyter')!r})",
            "PermissionError",
        ),
        "list the exchange's inbound folder": (f"os.listdir({str(inbound)!r})", "PermissionError"),
        # her submission's name ends in a random string nbgrader adds: he knows the rest
        "read alice's submission by the name he can know": (
            f"open({str(inbound / f'{ALICE}+{assignment}+{timestamp}' / f'{nb_names[0]}.ipynb')!r})",
            "FileNotFoundError",
        ),
    }
    got = students[BOB].run_in_kernel(PROBE % {k: v[0] for k, v in attempts.items()})
    assert got.pop("uid") == hub.users[BOB].uid, f"bob's kernel does not run as bob: {got}"
    expected = {what: stopped_by for what, (_, stopped_by) in attempts.items()}
    assert got == expected, f"bob's attempts on alice's work: got {got}, expected {expected}"
    # ... and through the hub: his browser session asks alice's server for her files
    status, text = students[BOB].api("GET", f"/user/{ALICE}/api/contents/{assignment}")
    assert status == 403, f"bob's session asked alice's server for her files: {status} {text[:300]}"

    # the instructor collects, grades (as root: the grader's sandboxes need it) and releases
    teacher.run(nbgrader, "collect", assignment, cwd=course)
    submitted = course / "submitted"
    run(
        sys.executable, "-m", "graders", "--root", course, "autograde", submitted,
        "--out", course, "--jobs", "2", "--quiet", cwd=course, timeout=300,
    )  # fmt: skip
    run("chown", "-R", f"{teacher.uid}:{teacher.gid}", course)
    with open(course / "grades.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    scores: dict[str, list[float]] = {}
    for row in rows:
        assert row["assignment"] == assignment and row["status"] == "ok", f"grades.csv row {row}"
        got_score = scores.setdefault(row["student"], [0.0, 0.0])
        got_score[0] += float(row["score"])
        got_score[1] += float(row["max_score"])
    assert set(scores) == {ALICE, BOB}, f"grades.csv grades {sorted(scores)}"
    assert scores[ALICE][1] > 0 and scores[ALICE][0] == scores[ALICE][1], (
        f"alice answered everything right: {scores[ALICE]}"
    )
    assert 0 < scores[BOB][0] < scores[BOB][1], (
        f"bob left {unanswered[BOB]} out: expected partial credit, got {scores[BOB]}"
    )
    # the instructor's Formgrader (their own server, on the same course) shows both submissions
    # (opened as its own page: inside JupyterLab's tab, Chromium showed it as refused)
    page = instructor.page
    page.goto(f"{hub.url}{instructor.base}/formgrader")
    row = page.locator("tbody tr", has_text=assignment).first
    try:
        row.wait_for(timeout=60_000)
    except Exception as error:
        instructor.screenshot("formgrader-failed")
        body = page.locator("body").inner_text(timeout=5_000)
        raise AssertionError(
            f"the Formgrader at {page.url} lists no {assignment}:\n{body}"
        ) from error
    cells = [t.strip() for t in row.locator("td").all_inner_texts()]
    instructor.screenshot("formgrader")
    assert "2" in cells, f"the Formgrader's row for {assignment} shows no 2 submissions: {cells}"
    instructor.context.close()
    teacher.run(nbgrader, "release_feedback", assignment, cwd=course)
    # the released feedback is found by a hash of each student's own notebook: nobody can list it
    released = hub.exchange / COURSE_ID / "feedback"
    got = students[BOB].run_in_kernel(
        PROBE % {"list the exchange's feedback folder": f"os.listdir({str(released)!r})"}
    )
    assert got == {
        "uid": hub.users[BOB].uid,
        "list the exchange's feedback folder": "PermissionError",
    }, f"bob's attempt on the released feedback: {got}"

    # each student fetches their own feedback from the Assignment List
    for name, student in students.items():
        student.page.reload()
        student.page.locator("#jp-menu-panel, .lm-MenuBar").first.wait_for()
        student.assignment_list()
        item = student.page.locator("#submitted_assignments_list .list_item", has_text=assignment)
        item.locator("button", has_text="Fetch Feedback").click()
        folder = student.user.home / assignment / "feedback"
        pages = wait_for(
            lambda folder=folder: sorted(folder.glob("*/*.html")) if folder.is_dir() else [],
            f"{name}'s feedback in their home",
        )
        assert [p.stem for p in pages] == nb_names, f"{name} fetched {pages}"
        for page in pages:
            graded = course / "feedback" / name / assignment / page.name
            assert page.read_bytes() == graded.read_bytes(), (
                f"{name} fetched {page.name}, but not the feedback graded for them"
            )
            assert page.stat().st_uid == student.user.uid, f"{page} is not owned by {name}"
        text = "\n".join(p.read_text(errors="replace") for p in pages)
        if name == BOB:
            assert unanswered[BOB][0] in text, "bob's feedback does not name what he left out"
        student.screenshot("feedback")
        student.context.close()
