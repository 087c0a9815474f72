"""The course's exercises, one module per lesson (mirroring rnnlib): each holds its exercises'
cases and typical mistakes (small functions with the student's signature), and :data:`EXERCISES`
gathers them. The result readers are in graders/calls.py (the child has them, and nothing here);
the comparison and the verdicts in graders/checks.py."""

from __future__ import annotations

from graders.lessons import (
    bptt,
    classify,
    forward,
    gru,
    loss,
    lstm,
    stacking,
    training,
    vanishing,
)
from graders.lessons.base import Exercise, Mistake, answer_cell

LESSONS = (forward, stacking, loss, bptt, training, vanishing, lstm, gru, classify)
EXERCISES: dict[str, Exercise] = {ex.name: ex for lesson in LESSONS for ex in lesson.EXERCISES}

__all__ = ["EXERCISES", "LESSONS", "Exercise", "Mistake", "answer_cell"]
