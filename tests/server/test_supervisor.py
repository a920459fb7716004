"""serve's worker supervisor: a worker that keeps dying is restarted with a growing delay, and says so."""

from __future__ import annotations

import gc
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path

import pytest
import uvicorn
from litestar import Litestar
from litestar.testing import TestClient
from paqshot_server.cli import build_parser
from paqshot_server.cli.serve import BLAS_THREAD_VARIABLES, WorkerSupervisor
from paqshot_server.jobs import allocator
from paqshot_server.settings import Settings


def test_a_worker_that_keeps_dying_is_restarted_with_backoff(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    spawned = tmp_path / "spawned"
    command = [sys.executable, "-c", f"open({str(spawned)!r}, 'a').write('x'); raise SystemExit(3)"]
    supervisor = WorkerSupervisor(
        Settings(home=tmp_path), 1, command=command, poll_seconds=0.02, first_delay=0.2, max_delay=10, stable_seconds=60
    )
    with caplog.at_level(logging.ERROR, logger="paqshot_server.cli.serve"):
        supervisor.start()
        time.sleep(2.0)
        supervisor.stop(timeout=5)
        supervisor.join(timeout=5)
    starts = len(spawned.read_text()) if spawned.exists() else 0
    # Without backoff a 20 ms poll restarts it ~50 times in 2 s (minus start-up time); with delays 0.2, 0.4,
    # 0.8 s … there is room for at most 5 starts.
    assert 2 <= starts <= 5, starts
    assert "restarting in" in caplog.text and "(1 early exit in a row)" in caplog.text  # counted, not "exit(s)"
    assert "early exits in a row" in caplog.text
    delays = [
        float(r.getMessage().rsplit("restarting in ", 1)[1].split(" ")[0])
        for r in caplog.records
        if "restarting in" in r.getMessage()
    ]
    assert delays == sorted(delays) and delays[-1] > delays[0]  # each crash in a row waits longer


def test_workers_get_their_share_of_the_cpus_for_blas_pools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two workers on the machine's CPUs: each sizes numpy's BLAS/OpenMP pools to its share, not to every core
    (N workers x all cores spinning threads); an operator's own setting is kept."""
    for name in BLAS_THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "7")
    seen = tmp_path / "env"
    code = f"import os, json; open({str(seen)!r}, 'w').write(json.dumps(dict(os.environ))); import time; time.sleep(30)"
    supervisor = WorkerSupervisor(Settings(home=tmp_path), 2, command=[sys.executable, "-c", code], poll_seconds=0.05)
    supervisor.start()
    deadline = time.monotonic() + 30
    while not seen.exists() or not seen.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    supervisor.stop(timeout=5)
    supervisor.join(timeout=5)
    env = json.loads(seen.read_text())
    share = str(max(1, len(os.sched_getaffinity(0)) // 2))
    assert env["OPENBLAS_NUM_THREADS"] == env["OMP_NUM_THREADS"] == share
    assert env["MKL_NUM_THREADS"] == "7"


def test_serve_keeps_freed_memory_before_it_starts_the_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Applied(Exception):
        pass

    def keep(*, arenas: int | None = None) -> bool:
        # few arenas: each request thread's arena kept a 40 MP full decode's freed blocks (breaker6, F2)
        assert arenas == allocator.API_ARENAS
        raise Applied

    monkeypatch.setattr(allocator, "keep_freed_memory", keep)
    monkeypatch.setattr(uvicorn.Server, "run", lambda self: pytest.fail("the API started before the allocator was set"))
    with pytest.raises(Applied):
        args = build_parser().parse_args(["serve", "--no-worker", "--home", str(tmp_path / "home"), "--port", "0"])
        args.func(args)


def test_serve_freezes_its_start_up_heap_once_the_api_has_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full collection walked serve's whole start-up heap (~95,000 objects) with the GIL held: 70-110 ms stalls of
    the event loop at 16 concurrent submissions (issue-14.md, "Door tail, session 8")."""
    seen: dict[str, object] = {}

    def run(self: uvicorn.Server) -> None:
        app = self.config.app
        assert isinstance(app, Litestar)
        before = gc.get_freeze_count()
        with TestClient(app) as client:  # uvicorn's lifespan: the app's start-up hooks
            assert client.get("/healthz").status_code == 200
            presets = app.state["api"].presets  # loaded by the app's own start-up
            seen["frozen"] = gc.get_freeze_count() - before
            # tracked by the collector, yet in none of its generations: in the permanent one
            seen["presets_out_of_reach"] = gc.is_tracked(presets) and all(o is not presets for o in gc.get_objects())
            seen["collector_on"] = gc.isenabled()

    monkeypatch.setattr(allocator, "keep_freed_memory", lambda **_: True)
    monkeypatch.setattr(uvicorn.Server, "run", run)
    args = build_parser().parse_args(["serve", "--no-worker", "--home", str(tmp_path / "home"), "--port", "0"])
    sigterm = signal.getsignal(signal.SIGTERM)
    try:
        assert args.func(args) == 0
    finally:
        gc.unfreeze()  # this test process's heap goes back to the collector
        signal.signal(signal.SIGTERM, sigterm)  # serve's own (SIGTERM raises): the test run must stay stoppable
    assert isinstance(seen["frozen"], int) and seen["frozen"] > 10_000
    assert seen["presets_out_of_reach"] is True
    assert seen["collector_on"] is True


def _supervised(tmp_path: Path, body: str, **kwargs: float) -> tuple[WorkerSupervisor, Path]:
    """A supervisor of one stand-in worker: ``body`` runs after the worker's real liveness signs have started (the
    fd serve passes, as `worker --liveness-fd N` takes it); each start is counted in the returned file."""
    spawned = tmp_path / "spawned"
    code = (
        "import os, signal, sys, time\n"
        f"open({str(spawned)!r}, 'a').write('x')\n"
        "from paqshot_server.jobs.liveness import start_signs\n"
        "start_signs(int(sys.argv[sys.argv.index('--liveness-fd') + 1]))\n" + body
    )
    command = [sys.executable, "-c", code]
    supervisor = WorkerSupervisor(Settings(home=tmp_path), 1, command=command, poll_seconds=0.05, **kwargs)
    return supervisor, spawned


def test_a_hung_worker_is_killed_and_replaced(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # breaker17 B17-9: a worker stopped (SIGSTOP: a native hang, a frozen cgroup) was never replaced; its jobs stayed
    # running and, frozen inside an app.db write, it held every API write at 503 until it went on.
    supervisor, spawned = _supervised(
        tmp_path, "time.sleep(2.5)\nos.kill(os.getpid(), signal.SIGSTOP)\n", hung_after=2.0, stable_seconds=0.1
    )
    with caplog.at_level(logging.ERROR, logger="paqshot_server.cli.serve"):
        supervisor.start()
        deadline = time.monotonic() + 60
        while (len(spawned.read_text()) if spawned.exists() else 0) < 2:
            assert time.monotonic() < deadline, "the stopped worker was not replaced"
            time.sleep(0.1)
        supervisor.kill()
        supervisor.join(timeout=5)
    assert "gave no sign of life" in caplog.text


def test_a_worker_that_gives_signs_is_left_alone_however_long_it_works(tmp_path: Path) -> None:
    supervisor, spawned = _supervised(tmp_path, "time.sleep(9)\n", hung_after=3.0, start_grace=2.0)
    supervisor.start()
    time.sleep(8)  # past the start grace's end: judged by its signs alone
    alive = supervisor.children[0].poll() is None
    supervisor.kill()
    supervisor.join(timeout=5)
    assert alive and spawned.read_text() == "x"
