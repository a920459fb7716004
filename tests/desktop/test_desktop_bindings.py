"""The Qt bindings keep their references to None/True/False on CPython 3.11.

PySide6 6.12.0 did not (its abi3 wheels treat the singletons as immortal, CPython gh-134989): every void C++
call and every ``Signal.emit()`` dropped one reference, and a session aborted with "Fatal Python error:
bool_dealloc" after about a thousand signals (a 300-photo batch). The app used to patch reference counts with
ctypes; the project now pins a PySide6 without the bug (6.11.x), and this test fails on a version with it.
"""

from __future__ import annotations

import os
import subprocess
import sys

# A fresh interpreter (nothing else holds references to True/None), then far more calls than it has references.
SESSION = """
import sys
from PySide6.QtCore import QObject, Signal

class Emitter(QObject):
    ping = Signal()

emitter = Emitter()
before_none, before_true = sys.getrefcount(None), sys.getrefcount(True)
for _ in range(150_000):
    emitter.setObjectName("x")
    emitter.ping.emit()
print(before_none - sys.getrefcount(None), before_true - sys.getrefcount(True))
"""


def test_a_long_session_of_void_calls_and_signals_keeps_its_references() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SESSION],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-500:]  # "Fatal Python error: bool_dealloc" on leaking bindings
    lost_none, lost_true = (int(n) for n in done.stdout.split())
    assert abs(lost_none) < 50 and abs(lost_true) < 50
