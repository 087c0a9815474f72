"""Progress of a long instructor command: JSON lines a script can follow, a summary that adds up."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys

import pytest

from graders import progress


def _lines(out: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_json_mode_writes_one_line_per_item_then_a_summary():
    out = io.StringIO()
    bar = progress.Progress(3, "json", out=out)
    bar.update("alice/03-loss", ["ok"])
    bar.update("bob/03-loss", ["failed: softmax"])
    bar.update("carol/03-loss", ["needs review: a dead kernel", "ok"])
    bar.close()
    lines = _lines(out)
    assert [line["event"] for line in lines] == ["done", "done", "done", "summary"], lines
    assert [line["done"] for line in lines[:3]] == [1, 2, 3]
    assert all(line["total"] == 3 for line in lines[:3])
    assert lines[1]["item"] == "bob/03-loss" and lines[1]["status"] == "failed", lines[1]
    assert lines[2]["left_s"] == 0, "nothing is left after the last item"
    assert lines[3]["statuses"] == {"ok": 2, "failed": 1, "needs review": 1}, lines[3]


def test_quiet_mode_writes_nothing():
    out = io.StringIO()
    bar = progress.Progress(1, "quiet", out=out)
    bar.update("alice/03-loss", ["ok"])
    bar.close()
    assert out.getvalue() == ""


def test_an_unknown_mode_is_refused_by_name():
    with pytest.raises(ValueError, match="bar, json, quiet"):
        progress.Progress(1, "loud")


@pytest.mark.parametrize(
    ("statuses", "words"),
    [
        (
            ["ok", "ok", "failed: x"],
            "3 notebook-submissions in 30.0 s (6.0 per minute): 1 failed, 2 ok",
        ),
        ([], "0 notebook-submissions in 30.0 s (0.0 per minute): nothing"),
    ],
)
def test_the_summary_line_counts_the_rows_by_kind(statuses, words):
    assert progress.summary(statuses, 30.0) == f"graded {words}"


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("bwrap") is None, reason="grading needs root and bubblewrap"
)
def test_autograde_progress_json_follows_a_real_batch(tmp_path):
    from graders import classroom, course, release

    root = tmp_path / "course"
    assert not release.release(["03-loss"], root=str(root))
    release_nb = course.read_notebook(root / "release" / "03-loss" / "loss.ipynb")
    for student in ("alice", "bob"):
        path = tmp_path / "submitted" / student / "03-loss" / "loss.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(classroom.make_submission(release_nb, {})))
    run = subprocess.run(
        [sys.executable, "-m", "graders", "autograde", str(tmp_path / "submitted")]
        + ["--out", str(tmp_path / "out"), "--progress-json"],
        env={**os.environ, "RNN_GRADE_ROOT": str(root)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    events = [json.loads(line) for line in run.stderr.splitlines() if line.startswith("{")]
    assert [e["event"] for e in events] == ["done", "done", "summary"], run.stderr
    assert sorted(e["item"] for e in events[:2]) == ["alice/03-loss", "bob/03-loss"]
    assert "graded 2 notebook-submissions in" in run.stdout, run.stdout
