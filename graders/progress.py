"""Progress of a long instructor command: a bar for people, JSON lines for scripts, or nothing.

``bar``: tqdm's bar on stderr (done/total, rate, time left). ``json``: one JSON object per line on
stderr for each item done, then a summary line::

    {"event": "done", "done": 3, "total": 40, "item": "alice/03-loss", "status": "ok",
     "elapsed_s": 12.1, "per_minute": 14.9, "left_s": 149.2}
    {"event": "summary", "total": 40, "elapsed_s": 160.3, "per_minute": 15.0,
     "statuses": {"ok": 35, "failed": 3, "needs review": 2}}

``quiet``: nothing. Every mode keeps the counts for :meth:`Progress.summary`.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from typing import TextIO

MODES = ("bar", "json", "quiet")


class Progress:
    """Counts items as they finish and reports them in ``mode`` (see the module's docstring)."""

    def __init__(
        self, total: int, mode: str = "bar", what: str = "submission", out: TextIO | None = None
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"progress: expected one of {', '.join(MODES)}, got {mode!r}")
        self.total, self.mode, self.what = total, mode, what
        self.out = out or sys.stderr
        self.done = 0
        self.statuses: Counter[str] = Counter()
        self.started = time.monotonic()
        self._bar = None
        if mode == "bar":
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit=what, desc="autograde", file=self.out)

    def update(self, item: str = "", statuses: list[str] = ()) -> None:
        """One item finished; ``statuses`` are its rows' statuses (``ok``, ``failed: …``, …)."""
        self.done += 1
        for status in statuses:
            self.statuses[kind(status)] += 1
        if self._bar is not None:
            self._bar.update()
        elif self.mode == "json":
            elapsed = time.monotonic() - self.started
            rate = self.done / elapsed if elapsed > 0 else 0.0
            line = {
                "event": "done",
                "done": self.done,
                "total": self.total,
                "item": item,
                "status": ", ".join(sorted({kind(s) for s in statuses})),
                "elapsed_s": round(elapsed, 1),
                "per_minute": round(60 * rate, 1),
                "left_s": round((self.total - self.done) / rate, 1) if rate else None,
            }
            print(json.dumps(line), file=self.out, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self.mode == "json":
            print(json.dumps({"event": "summary", **self.summary_data()}), file=self.out)

    def summary_data(self) -> dict:
        elapsed = time.monotonic() - self.started
        return {
            "total": self.done,
            "elapsed_s": round(elapsed, 1),
            "per_minute": round(60 * self.done / elapsed, 1) if elapsed > 0 else None,
            "statuses": dict(self.statuses),
        }


def summary(statuses: list[str], elapsed: float) -> str:
    """One line for people: how many notebook-submissions, how long, how fast, how they came
    out (``statuses``: one per row of grades.csv)."""
    counts = Counter(kind(s) for s in statuses)
    shown = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing"
    rate = 60 * len(statuses) / elapsed if elapsed > 0 else 0.0
    return (
        f"graded {len(statuses)} notebook-submissions in {elapsed:.1f} s "
        f"({rate:.1f} per minute): {shown}"
    )


def kind(status: str) -> str:
    """A row's status as its kind: ``ok``, ``failed`` or ``needs review``."""
    return status.split(":", 1)[0].strip() or "unknown"
