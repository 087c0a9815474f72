"""Writes files outside its own folder: the repository, the course, the staging area, /tmp,
/run/lock."""

import glob
import os

targets = [
    "@REPO@/pwned-@MARK@.txt",
    "@REPO@/rnnlib/pwned-@MARK@.py",
    "../../../pwned-@MARK@.txt",
    "/tmp/pwned-@MARK@.txt",
    "/run/lock/pwned-@MARK@.txt",  # writable by anyone on Debian, and on the disk
    os.path.expanduser("~/pwned-@MARK@.txt"),
    *[p + "/pwned-@MARK@.txt" for p in glob.glob("/tmp/**/submitted/*", recursive=True)],
]
for path in targets:
    try:
        with open(path, "w") as f:
            f.write("pwned")
        print("wrote:".upper(), path)
    except OSError as exc:
        print("DENIED", path, type(exc).__name__)


def softmax(z):
    return z
