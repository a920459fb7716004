"""Background work: results arrive on the GUI thread, and a slow server never freezes the UI."""

from __future__ import annotations

import itertools
import json
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from paqshot_desktop.client import ApiClient
from paqshot_desktop.workers import Runner
from PySide6.QtCore import QThread, QTimer

SLOW_SECONDS = 1.5


class SlowAppliance:
    """A real HTTP server on loopback whose capabilities endpoint answers after a long pause."""

    def __init__(self, caps: dict[str, Any], delay: float) -> None:
        body = json.dumps(caps).encode()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def do_GET(self) -> None:
                time.sleep(delay)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slow_appliance(caps_json: dict[str, Any]) -> Iterator[SlowAppliance]:
    server = SlowAppliance(caps_json, SLOW_SECONDS)
    yield server
    server.close()


def test_results_and_errors_arrive_on_the_gui_thread(qtbot: Any) -> None:
    runner = Runner()
    gui = QThread.currentThread()
    seen: dict[str, Any] = {}

    def work() -> str:
        seen["work_thread"] = QThread.currentThread()
        return "done"

    def fail() -> None:
        raise RuntimeError("disk full")

    runner.submit(work, lambda r: seen.update(result=r, done_thread=QThread.currentThread()))
    runner.submit(fail, None, lambda exc: seen.update(error=str(exc), error_thread=QThread.currentThread()))
    qtbot.waitUntil(lambda: "result" in seen and "error" in seen, timeout=5000)
    assert seen["result"] == "done" and seen["error"] == "disk full"
    assert seen["work_thread"] is not gui
    assert seen["done_thread"] is gui and seen["error_thread"] is gui
    assert runner.busy == 0


def test_progress_reports_arrive_in_order(qtbot: Any) -> None:
    runner = Runner()
    steps: list[int] = []
    finished: list[object] = []

    def work(report: Any) -> int:
        for i in range(5):
            report(i)
        return 5

    runner.submit_reporting(work, finished.append, None, steps.append)
    qtbot.waitUntil(lambda: bool(finished), timeout=5000)
    assert steps == [0, 1, 2, 3, 4] and finished == [5]


def test_a_task_reports_back_without_emitting_a_signal(qtbot: Any) -> None:
    """PySide6 emits with the GIL held, and a queued emission locks a Qt object mutex that the GUI thread may hold
    while it waits for the GIL: a pool thread and the GUI thread then wait for each other (breaker7, session 7).
    A task's outcome and progress reach the GUI thread without a signal emitted on the pool thread."""

    class Inline:
        """The pool, run inline on this thread under a profiler that records every signal emission."""

        def __init__(self) -> None:
            self.emitted: list[str] = []

        def setMaxThreadCount(self, _count: int) -> None:
            pass

        def start(self, task: Any) -> None:
            def watch(_frame: object, event: str, arg: object) -> None:
                if event == "c_call" and getattr(arg, "__name__", "") == "emit":
                    self.emitted.append(repr(arg))

            sys.setprofile(watch)
            try:
                task.run()
            finally:
                sys.setprofile(None)

    pool = Inline()
    runner = Runner(pool)  # type: ignore[arg-type]
    got: list[object] = []

    def work(report: Any) -> str:
        report("half")
        return "whole"

    def fail() -> None:
        raise RuntimeError("disk full")

    runner.submit_reporting(work, got.append, None, got.append)
    runner.submit(fail, None, got.append)
    qtbot.waitUntil(lambda: len(got) == 3, timeout=5000)
    assert pool.emitted == []
    assert got[:2] == ["half", "whole"] and str(got[2]) == "disk full" and runner.busy == 0


def test_event_loop_keeps_running_during_a_slow_request(qtbot: Any, slow_appliance: SlowAppliance) -> None:
    runner = Runner()
    client = ApiClient(slow_appliance.url, "pk_test")
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    got: list[Any] = []
    started = time.monotonic()
    runner.submit(client.capabilities, got.append)
    qtbot.waitUntil(lambda: bool(got), timeout=10_000)
    elapsed = time.monotonic() - started
    timer.stop()
    client.close()
    assert got[0].product == "Paqshot" or got[0].styles  # a real decoded answer
    assert elapsed >= SLOW_SECONDS
    during = [t for t in ticks if t <= started + SLOW_SECONDS]
    # At 20 ms a free loop ticks ~75 times in 1.5 s; a blocked one would tick at most once.
    assert len(during) >= 15, f"only {len(during)} timer ticks while the request was in flight"
    gaps = [b - a for a, b in itertools.pairwise(during)]
    assert max(gaps) < SLOW_SECONDS / 2


def test_connecting_to_a_slow_server_leaves_the_window_responsive(
    qtbot: Any, make_app: Any, slow_appliance: SlowAppliance
) -> None:
    app = make_app()
    window = app.window
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    app.controller.connect_to(slow_appliance.url, "pk_test")
    # Immediately after the click the GUI already shows the check in progress.
    assert "Checking" in window.connect_view.status.text()
    assert not window.connect_view.connect_button.isEnabled()
    qtbot.waitUntil(lambda: window.current_page == "create", timeout=10_000)
    timer.stop()
    assert len(ticks) >= 15
    assert "Connected" in window.connect_view.status.text()
