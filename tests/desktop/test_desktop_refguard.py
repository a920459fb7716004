"""The guard against the bindings' reference-count bug (paqshot_desktop.refguard)."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from paqshot_desktop import refguard


def test_top_up_keeps_none_true_false_far_from_zero() -> None:
    refguard.top_up()
    for obj in (None, True, False):
        assert sys.getrefcount(obj) >= refguard.FLOOR


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None/True are immortal on 3.12+")
def test_guard_runs_exactly_when_the_bindings_leak(qapp: Any) -> None:
    lost = refguard.leaks()
    leaking = max(lost.values()) >= refguard.LEAK_EVIDENCE
    timer = refguard.install(qapp)
    assert (timer is not None) == leaking
    if timer is not None:
        assert timer.isActive() and refguard.install(qapp) is timer  # installed once


def test_a_long_session_of_void_calls_and_signals_survives(qtbot: Any) -> None:
    # 300k void calls and emits: enough to exhaust None/True on leaking bindings without the guard.
    from PySide6.QtCore import QObject, Signal

    class Emitter(QObject):
        ping = Signal()

    emitter = Emitter()
    for i in range(150_000):
        emitter.setObjectName("x")
        emitter.ping.emit()
        if i % 20_000 == 0:
            qtbot.wait(refguard.CHECK_MS + 50)  # let the guard's timer run, as the event loop would
    assert sys.getrefcount(None) > 0 and sys.getrefcount(True) > 0
