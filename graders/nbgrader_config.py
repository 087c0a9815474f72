"""nbgrader's configuration for this course: run nbgrader's own commands from this folder.

    cd graders && nbgrader generate_assignment 01-forward     # or: nbgrader formgrader, ...

Everything is set in graders/course.py (source = ../notebooks in place, course root = ../course,
gradebook = course/gradebook.db); $RNN_GRADE_ROOT and $RNN_GRADE_DB (a SQLAlchemy URL) override
the root and the gradebook, and --CourseDirectory.root=... on the command line wins over both.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # make `graders` importable

from graders.course import apply_config  # noqa: E402

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file
apply_config(c)
Path(c.CourseDirectory.root).mkdir(parents=True, exist_ok=True)  # nbgrader chdirs into it
# a new gradebook asks the `alembic` command for its schema version: find the one beside Python
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
