"""The instructor opens nbgrader's Formgrader in JupyterLab: it loads and lists the course's assignments."""

from __future__ import annotations

from browser_harness import NOTEBOOKS, course_notebooks, running_lab, write_course_config


def test_formgrader_lists_the_course_assignments(tmp_path, new_lab, screenshots):
    assignments = sorted({rel.split("/")[0] for rel in course_notebooks()})
    assert assignments, f"no course notebooks in {NOTEBOOKS}"
    course = tmp_path / "course"
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    write_course_config(course, exchange=exchange)
    # Formgrader reads nbgrader_config.py from the server's working folder: the course root.
    with running_lab(course, tmp_path / "lab", cwd=course, log_name="instructor-lab") as server:
        lab = new_lab(server)
        page = lab.page
        page.goto(f"{server.url}/lab/workspaces/formgrader?token={server.token}")
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell", timeout=60_000)
        page.get_by_role("menuitem", name="Nbgrader").click()
        page.get_by_role("menuitem", name="Formgrader").click()
        frame = page.frame_locator("iframe").first
        table = frame.locator("table")
        table.first.wait_for(timeout=60_000)
        rows = frame.locator("tbody tr")
        frame.locator("tbody tr", has_text=assignments[-1]).first.wait_for(timeout=30_000)
        texts = rows.all_inner_texts()
        page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
        page.set_viewport_size({"width": 1280, "height": 1400})  # every assignment in view
        page.screenshot(path=str(screenshots / "formgrader.png"))
        listed = [a for a in assignments if any(a in t for t in texts)]
        assert listed == assignments, f"Formgrader lists {texts}, the course has {assignments}"
        body = frame.locator("body").inner_text()
        alerts = frame.locator(".alert-danger:visible").all_inner_texts()
        assert "does not exist" not in body and not alerts, (
            f"Formgrader shows an error: {alerts}\n{body}"
        )
