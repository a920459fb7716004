"""Work-around for a reference-count bug of the Qt bindings on CPython 3.11.

Seen with PySide6 6.12.0 on CPython 3.11.7: every call of a C++ method returning void gives back ``None``
without a new reference, and every ``Signal.emit()`` does the same with ``True``. Python 3.12+ made these
objects immortal, so the bindings get away with it there; on 3.11 their counts fall by one per call, and a
GUI session aborts with "Fatal Python error: none_dealloc" after enough clicks, repaints and signals (a
300-photo batch used up ``True`` in seconds).

:func:`install` measures whether the running bindings leak; only if they do, a timer keeps the counts of
``None``, ``True`` and ``False`` far from zero. These three objects are never freed, so a count that is
too high is harmless, while one that reaches zero kills the process. Remove this module once the
bindings are fixed or the app runs on Python 3.12+.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, QTimer, Signal

FLOOR = 1_000_000  # top up below this...
TARGET = 50_000_000  # ...to this; a leaking call costs one, so this lasts for ~50 M calls
CHECK_MS = 500
LEAK_EVIDENCE = 100  # references lost over the 200-call probe that count as a leak (not noise)
_SINGLETONS = (None, True, False)
_timer: QTimer | None = None


class _Probe(QObject):
    fired = Signal()


def leaks() -> dict[str, int]:
    """How many references 200 void calls and 200 emits lose (0 and 0 on healthy bindings)."""
    probe = _Probe()
    before_none, before_true = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(200):
        probe.setObjectName("probe")  # a C++ method returning void
    lost_none = before_none - sys.getrefcount(None)
    before_true = sys.getrefcount(True)
    for _ in range(200):
        probe.fired.emit()
    lost_true = before_true - sys.getrefcount(True)
    top_up()  # give back what the probe itself took
    return {"none": max(0, lost_none), "true": max(0, lost_true)}


def top_up() -> None:
    """Raise the reference counts of None/True/False to TARGET when they fell below FLOOR."""
    for obj in _SINGLETONS:
        count = sys.getrefcount(obj)
        if count < FLOOR:
            # ob_refcnt is the first field of every object on CPython (non-debug builds).
            ctypes.c_ssize_t.from_address(id(obj)).value += TARGET - count


def install(parent: QObject) -> QTimer | None:
    """Start the guard once, when the running bindings leak (never on Python 3.12+); returns its timer."""
    global _timer
    if _timer is not None:
        return _timer
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return None
    lost = leaks()
    if max(lost.values()) < LEAK_EVIDENCE:
        return None
    top_up()
    _timer = QTimer(parent)
    _timer.setInterval(CHECK_MS)
    _timer.timeout.connect(top_up)
    _timer.start()
    return _timer
