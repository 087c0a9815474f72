"""Kills its own kernel with SIGKILL."""

import os
import signal

os.kill(os.getpid(), signal.SIGKILL)
