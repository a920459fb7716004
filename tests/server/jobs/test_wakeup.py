"""The wake-up on enqueue: an idle worker blocks on the doorbell and an enqueue from another process's queue wakes
it (no polling back-off); no listener, a full pipe or a stray regular file never fail an enqueue."""

from __future__ import annotations

import os
import resource
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from paqshot_server.jobs.queue import JobQueue
from paqshot_server.jobs.wakeup import Doorbell, WakingSqliteStorage

LONG = 60.0  # a wait that only a ring ends within the test's life


def waiter(bell: Doorbell, results: list[bool]) -> threading.Thread:
    thread = threading.Thread(target=lambda: results.append(bell.wait(LONG)), daemon=True)
    thread.start()
    return thread


def listening(bell: Doorbell) -> None:
    bell._listen()  # the pipe exists and is held open before anyone rings


def test_a_ring_wakes_a_waiting_thread(tmp_path: Path) -> None:
    bell = Doorbell(str(tmp_path / "queue.db-wake"))
    listening(bell)
    results: list[bool] = []
    thread = waiter(bell, results)
    Doorbell(bell.path).ring()  # another process's view of the same pipe
    thread.join(LONG)
    assert results == [True]


def test_two_rings_wake_two_threads(tmp_path: Path) -> None:
    bell = Doorbell(str(tmp_path / "queue.db-wake"))
    listening(bell)
    results: list[bool] = []
    threads = [waiter(bell, results), waiter(bell, results)]
    ringer = Doorbell(bell.path)
    ringer.ring()
    ringer.ring()
    for thread in threads:
        thread.join(LONG)
    assert results == [True, True]


def test_ringing_with_no_worker_or_a_regular_file_does_nothing(tmp_path: Path) -> None:
    Doorbell(str(tmp_path / "missing")).ring()  # no pipe: no worker ever listened
    stray = tmp_path / "stray"
    stray.write_bytes(b"")
    Doorbell(str(stray)).ring()
    assert stray.read_bytes() == b""


def test_a_full_pipe_does_not_block_the_enqueuer(tmp_path: Path) -> None:
    bell = Doorbell(str(tmp_path / "queue.db-wake"))
    listening(bell)
    for _ in range(70_000):  # more rings than a pipe holds (64 KiB): the extra ones are dropped
        bell.ring()
    assert bell.wait(0) is True


FD_SETSIZE = 1024  # select()'s limit on a descriptor's number (glibc)


@contextmanager
def descriptors_used_up_to(number: int) -> Iterator[None]:
    """Hold open descriptors until the next one opened gets ``number`` or more, as a server with many open
    connections (or a long test run) does; the soft limit is raised to allow it (root or not: up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert hard == resource.RLIM_INFINITY or hard > number + 16, f"hard descriptor limit {hard} too low"
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, number + 16), hard))
    held: list[int] = []
    try:
        while not held or held[-1] < number - 1:
            held.append(os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC))
        yield
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_pipe_numbered_past_select_s_limit_still_wakes(tmp_path: Path) -> None:
    """CI of ffe17ca: after ~1600 tests the pipe's descriptor passed 1023 and select() raised in the worker thread."""
    bell = Doorbell(str(tmp_path / "queue.db-wake"))
    with descriptors_used_up_to(FD_SETSIZE):
        listening(bell)
        assert bell._fd is not None and bell._fd >= FD_SETSIZE
        results: list[bool] = []
        thread = waiter(bell, results)
        Doorbell(bell.path).ring()
        thread.join(LONG)
        bell.close()
    assert results == [True]
    assert bell.wait(0) is False  # and a timed wait with no ring still times out (the pipe is opened again)


def test_an_enqueue_wakes_a_blocked_dequeue(tmp_path: Path) -> None:
    api = JobQueue(str(tmp_path / "queue.db"))
    worker = JobQueue(str(tmp_path / "queue.db"), handler=lambda job_id: None)
    storage = worker.huey.storage
    assert isinstance(storage, WakingSqliteStorage) and storage.blocking
    storage.wait_seconds = LONG
    listening(storage.doorbell)
    got: list[bytes | None] = []
    thread = threading.Thread(target=lambda: got.append(storage.dequeue()), daemon=True)
    thread.start()
    api.enqueue("gen_woken")
    thread.join(LONG)
    assert got and got[0] is not None  # woken with the message, not after the long wait
    assert worker.huey.deserialize_task(got[0]).args == ("gen_woken",)


def test_the_queue_commits_without_fsync_the_jobs_table_with(tmp_path: Path) -> None:
    """Queue messages may be lost to a power cut (the sweeper sends them again from the jobs table), so their
    commits skip the fsync (WAL + NORMAL); the jobs table keeps FULL."""
    from paqshot_server.settings import Settings
    from paqshot_server.storage.db import connect

    queue = JobQueue(str(tmp_path / "queue.db"))
    queue.enqueue("gen_x")
    conn = queue.huey.storage.conn
    assert conn.execute("pragma synchronous").fetchone()[0] == 1
    assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
    app = connect(Settings(home=tmp_path).app_db)
    assert app.conn.execute("pragma synchronous").fetchone()[0] == 2
