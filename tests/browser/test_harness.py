"""The harness cleans up after itself: a server and its kernels stop even when the test fails."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from browser_harness import running_lab


def _pids_with(text: str) -> list[int]:
    """Processes whose command line contains ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find the kernel processes")
def test_server_and_its_kernel_stop_when_the_test_fails(tmp_path):
    (tmp_path / "root").mkdir()
    seen: dict[str, list[int]] = {}
    with pytest.raises(RuntimeError, match="the test failed here"):
        with running_lab(tmp_path / "root", tmp_path / "state") as server:
            kernel = server.api("POST", "/api/kernels")
            runtime = str(tmp_path / "state" / "runtime")
            deadline = time.monotonic() + 30
            while not _pids_with(kernel["id"]) and time.monotonic() < deadline:
                time.sleep(0.2)
            seen = {"server": [server.proc.pid], "kernel": _pids_with(kernel["id"])}
            assert seen["kernel"], f"no kernel process found for {kernel['id']} under {runtime}"
            raise RuntimeError("the test failed here")
    deadline = time.monotonic() + 10
    while any(_alive(p) for pids in seen.values() for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = {what: [p for p in pids if _alive(p)] for what, pids in seen.items()}
    assert not any(left.values()), f"still running after the failed test: {left}"
    assert os.getpid() not in seen["kernel"]
