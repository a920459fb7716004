"""Shared test set-up: Qt runs offscreen, no proxy variables leak into clients under test, and no test sees
the models this installation happens to have (the install-level model folder) unless it asks for it."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
for _var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_var, None)

# Processes that tests start read settings from the environment: no install-level models for them.
os.environ["PAQSHOT_INSTALL_MODELS_DIR"] = ""


# The signals that stop a process: a test run must stay stoppable by them.
_STOP_SIGNALS = tuple(s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None)


@pytest.fixture(autouse=True)
def _signal_handlers_restored() -> Iterator[None]:
    """A test that installs a handler for a stop signal in this process (serve's SIGTERM, the desktop's quit on
    SIGTERM/SIGINT) must put the one before it back; this fails the test that does not (and restores it). A handler
    left by serve's in-process test turned SIGTERM into an exception in whichever test ran next: a hung run could
    not be stopped by it (fix14d, session 14)."""
    before = {number: signal.getsignal(number) for number in _STOP_SIGNALS}
    yield
    left = [signal.Signals(n).name for n, handler in before.items() if signal.getsignal(n) is not handler]
    for number, handler in before.items():
        signal.signal(number, handler)
    if left:
        pytest.fail(f"the test left its own handler for {', '.join(left)} installed")


@pytest.fixture(autouse=True)
def _no_install_level_models(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process settings with ``install_models_dir = "auto"`` resolve to an empty folder, not the venv's."""
    from paqshot_server.inference import store

    empty = tmp_path_factory.mktemp("no-install-models")
    monkeypatch.setattr(store, "install_level_dir", lambda: Path(empty))
