"""Start a program that stops when its parent dies, however the parent ends (crash, SIGKILL, log-out).

``python -m paqshot_desktop.launch PARENT_PID -- PROGRAM [ARGS…]``: on Linux the parent-death signal is set
(``prctl(PR_SET_PDEATHSIG, SIGINT)``; SIGINT is the appliance's "stop, workers too") and kept across the
``exec`` that becomes PROGRAM, so no extra process stays around. Elsewhere PROGRAM is just exec'd; the app's
signal handlers and the orphan check at the next start cover those platforms.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Sequence

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def main(argv: Sequence[str]) -> int:
    """Set the parent-death signal, then become PROGRAM (returns only on a usage error or a dead parent)."""
    if len(argv) < 3 or argv[1] != "--":
        print("usage: launch PARENT_PID -- PROGRAM [ARGS…]", file=sys.stderr)
        return 2
    parent, program = int(argv[0]), list(argv[2:])
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGINT), 0, 0, 0) != 0:
            print(f"launch: prctl failed (errno {ctypes.get_errno()})", file=sys.stderr)
    if os.getppid() != parent:
        return 0  # the parent died before the watch was set: do not start an orphan
    # An app started from a shell in the background inherits SIGINT ignored, and an ignored signal stays ignored
    # across exec: the appliance would not hear its stop until it installs its own handler.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.execv(program[0], program)  # noqa: S606 (the app's own appliance program, found beside its Python)
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
