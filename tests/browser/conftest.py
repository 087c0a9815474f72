"""Fixtures for the browser tests: one headless Chromium (Playwright) per session, a page per test.

Measured set-up and pitfalls: ../shared/design/browser-notes.md. Every process started here (the
server in its own process group, its kernels, the browser and Playwright's driver) is stopped by a
finalizer, even when a test fails. Without Chromium (or Playwright) every test here skips with one
line saying how to enable them (RNN_REQUIRE_BROWSER=1 makes that a failure, for CI); the rest of
the suite is unaffected.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import pytest
from browser_harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    NOTEBOOKS,
    SCREENSHOTS,
    Lab,
    LabServer,
    browser_missing,
    course_notebooks,
    graders_release,
)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "browser: drives JupyterLab in headless Chromium (tests/browser)"
    )


def pytest_collection_modifyitems(config, items):
    """Mark every test here `browser`, so `pytest -m "not browser"` leaves them out."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True, scope="session")
def _browser_available():
    """Skip every browser test, with one line saying how to enable them, where Chromium or
    Playwright is missing; with RNN_REQUIRE_BROWSER=1 (CI) that is a failure instead."""
    reason = browser_missing()
    if reason and os.environ.get("RNN_REQUIRE_BROWSER") == "1":
        pytest.fail(f"RNN_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def browser_context(playwright, tmp_path_factory):
    """One headless Chromium (Debian's, never a downloaded one) for the whole session."""
    context = playwright.chromium.launch_persistent_context(
        tmp_path_factory.mktemp("chromium-profile"),
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(30_000)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture()
def new_lab(browser_context):
    """Factory: a fresh page on a given server; the page is closed and its kernels shut down after."""
    opened: list[tuple[object, LabServer]] = []

    def make(server: LabServer) -> Lab:
        page = browser_context.new_page()
        opened.append((page, server))
        return Lab(page, server)

    yield make
    for page, server in opened:
        with contextlib.suppress(Exception):
            page.close()
        server.delete_sessions()


@pytest.fixture(scope="session")
def student_release(tmp_path_factory) -> Path:
    """The student version of every notebook (`python -m graders release` in a temporary
    course), copied where a student keeps it: `<assignment>/<notebook>.ipynb`."""
    course = course_notebooks()
    if not course:
        pytest.skip(f"no course notebooks in {NOTEBOOKS}")
    root = tmp_path_factory.mktemp("course")
    release = graders_release(root, sorted({rel.split("/")[0] for rel in course}))
    student = tmp_path_factory.mktemp("student") / "rnn-course"
    shutil.copytree(release, student)
    return student
