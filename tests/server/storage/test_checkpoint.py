"""The API's commits never checkpoint the WAL (a submission would wait for the database file's writes and fsync);
a background thread does, so the WAL stays bounded."""

from __future__ import annotations

import logging
import struct
import time
from pathlib import Path

import pytest
from litestar.testing import TestClient
from paqshot_server.app import create_app
from paqshot_server.settings import Settings
from paqshot_server.storage import jobs as jobs_sql
from paqshot_server.storage.checkpoint import MAX_RETRY_SECONDS, Checkpointer
from paqshot_server.storage.db import connect
from support import Key, queued_job

ROUNDS = 250  # ~9 WAL pages per insert: over SQLite's automatic threshold (1,000 pages) twice


def wal_resets(db_path: Path) -> int:
    """The WAL header's checkpoint sequence number: +1 each time a writer restarts the WAL after a checkpoint."""
    with open(f"{db_path}-wal", "rb") as fh:
        return int(struct.unpack(">I", fh.read(16)[12:16])[0])


def test_no_commit_of_the_api_checkpoints_the_wal_its_checkpointer_does(settings: Settings, key: Key) -> None:
    with TestClient(create_app(settings)) as client:
        api = client.app.state["api"]
        api.checkpointer.stop()  # this test runs the checkpointer's rounds itself
        db = api.db.get()  # a request thread's connection, as every handler gets it
        jobs_sql.create(db, queued_job(key.id), quota=None, idempotency=None)
        before = wal_resets(settings.app_db)
        for _ in range(ROUNDS):
            jobs_sql.create(db, queued_job(key.id), quota=None, idempotency=None)
        assert wal_resets(settings.app_db) == before  # no commit checkpointed (SQLite's default: 2 of them would)
        assert api.checkpointer.run_once()[settings.app_db] > 1000  # every page the inserts wrote, copied back
        assert api.checkpointer.run_once()[settings.app_db] == 0  # nothing committed since
        jobs_sql.create(db, queued_job(key.id), quota=None, idempotency=None)
        assert wal_resets(settings.app_db) == before + 1  # the next writer started the WAL again from its start


def test_no_enqueue_of_the_api_checkpoints_the_queue_file_its_checkpointer_does(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        api = client.app.state["api"]
        api.checkpointer.stop()
        assert api.checkpointer.run_once()[settings.queue_db] == 0  # no queue file yet: none is made here
        assert not settings.queue_db.exists()
        api.queue.enqueue("gen_first")
        before = wal_resets(settings.queue_db)
        for i in range(ROUNDS * 4):  # ~2 WAL pages per enqueue
            api.queue.enqueue(f"gen_{i}")
        assert wal_resets(settings.queue_db) == before
        assert api.checkpointer.run_once()[settings.queue_db] > 1000
        api.queue.enqueue("gen_last")
        assert wal_resets(settings.queue_db) == before + 1


def test_the_checkpointer_thread_copies_commits_into_the_database_file(settings: Settings, key: Key) -> None:
    db = connect(settings.app_db, autocheckpoint=False)
    size = settings.app_db.stat().st_size
    for _ in range(50):
        jobs_sql.create(db, queued_job(key.id), quota=None, idempotency=None)
    assert settings.app_db.stat().st_size == size  # all of it in the WAL so far
    checkpointer = Checkpointer([settings.app_db], interval=0.01)
    checkpointer.start()
    try:
        deadline = time.monotonic() + 10
        while settings.app_db.stat().st_size == size and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        checkpointer.stop()
        db.conn.close()
    assert settings.app_db.stat().st_size > size


def test_a_damaged_file_is_logged_once_then_tried_less_and_less_often(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """breaker11 B11-3: a corrupt queue.db logged "WAL checkpoint … failed: file is not a database" twice a second
    for as long as the API ran. Simulated time: the checkpointer's own rounds every half second for 15 minutes."""
    damaged = tmp_path / "queue.db"
    damaged.write_bytes(b"not a database, " * 512)
    now = [0.0]
    checkpointer = Checkpointer([damaged], clock=lambda: now[0])
    tries = 0
    with caplog.at_level(logging.WARNING, logger="paqshot_server.storage.checkpoint"):
        for _ in range(1800):
            before = checkpointer.files[0].failures
            checkpointer.run_once()
            tries += checkpointer.files[0].failures - before
            now[0] += checkpointer.interval
    failed = [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]
    assert "file is not a database" in failed[0] and "trying again in 1 s" in failed[0], failed
    assert len(failed) <= 6, failed  # was one a round: 1,800
    assert tries <= 25, tries  # the waits doubled up to a minute: ~15 tries a quarter hour, not 1,800
    damaged.unlink()
    connect(damaged).conn.close()  # a good file again (WAL mode)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="paqshot_server.storage.checkpoint"):
        now[0] += MAX_RETRY_SECONDS
        checkpointer.run_once()
    works_again = f"WAL checkpoint of {damaged} works again (after {tries} failures)"
    assert [r.getMessage() for r in caplog.records] == [works_again]
    assert checkpointer.files[0].failures == 0
