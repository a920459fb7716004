"""``/readyz`` is unauthenticated: it says what is wrong in plain words and shows no internals (no exception
text, no file paths, no library names); the detail goes to the log and to ``doctor``."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from litestar.testing import TestClient
from paqshot_server.app import create_app
from paqshot_server.cli.doctor import run_checks
from paqshot_server.jobs.queue import JobQueue
from paqshot_server.settings import Settings
from paqshot_server.storage import workers as workers_sql
from paqshot_server.storage.db import connect
from support import assert_plain_words

DETAIL = "disk I/O error"  # SQLite's wording of a failed write


def assert_shows_no_internals(settings: Settings, body: dict, *details: str) -> None:
    text = repr(body)
    for leak in (str(settings.home), "sqlite", "queue.db", "app.db", "Error", *details):
        assert leak not in text, f"/readyz shows {leak!r}: {text}"
    for check in body["checks"].values():
        assert_plain_words(check)


def test_a_database_that_cannot_be_written_is_said_in_words_and_logged_in_full(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def failing_write(*_args: object) -> None:
        raise sqlite3.OperationalError(f"{DETAIL} in {settings.app_db}")

    with TestClient(create_app(settings)) as client:
        monkeypatch.setattr(workers_sql, "probe_write", failing_write)
        with caplog.at_level(logging.WARNING):
            ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"].startswith("not writable")
    assert_shows_no_internals(settings, ready.json(), DETAIL)
    assert any(DETAIL in record.getMessage() for record in caplog.records)  # the operator's detail: the log


def test_a_damaged_queue_is_said_in_words(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    settings.home.mkdir(parents=True, exist_ok=True)
    JobQueue(str(settings.queue_db)).pending()
    with open(settings.queue_db, "r+b") as fh:  # damaged: SQLite answers "file is not a database"
        fh.write(os.urandom(100))
    with TestClient(create_app(settings)) as client, caplog.at_level(logging.WARNING):
        ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["queue"].startswith("not readable")
    assert_shows_no_internals(settings, ready.json(), "not a database")
    assert any("not a database" in record.getMessage() for record in caplog.records)


def test_a_worker_that_cannot_run_jobs_is_said_in_words_and_doctor_says_why(settings: Settings) -> None:
    problem = f"cannot open the queue ({settings.queue_db.name}): file is not a database"
    with TestClient(create_app(settings)) as client:
        workers_sql.record_heartbeat(connect(settings.app_db), "wrk_test", time.time(), [], problem)
        ready = client.get("/readyz")
    assert ready.status_code == 503 and "none can run jobs" in ready.json()["checks"]["worker"]
    assert_shows_no_internals(settings, ready.json(), "not a database")
    worker = next(c for c in run_checks(settings) if c.name == "worker")
    assert worker.level == "fail" and problem in worker.detail  # the operator's detail: doctor


def test_doctor_and_readiness_take_a_worker_for_dead_after_the_same_silence(settings: Settings) -> None:
    # breaker17 B17-9: a hung worker's last heartbeat 42 s old: /readyz "no worker heartbeat for 42 s", doctor
    # "a worker is alive" (its own 60 s).
    with TestClient(create_app(settings)) as client:
        workers_sql.record_heartbeat(connect(settings.app_db), "wrk_test", time.time() - 42, [])
        ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["worker"].startswith("no worker heartbeat for")
    worker = next(c for c in run_checks(settings) if c.name == "worker")
    assert worker.level != "ok" and "heartbeat" in worker.detail, worker


def test_a_database_deleted_under_the_api_names_no_path(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{settings.app_db}{suffix}").unlink(missing_ok=True)
        ready = client.get("/readyz")
    assert ready.status_code == 503 and "deleted" in ready.json()["checks"]["database"]
    assert_shows_no_internals(settings, ready.json())


def test_a_full_disk_is_said_in_words(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """breaker7, session 7: on a full disk /readyz said 503 once (the write probe), then 200 with 0 bytes free
    while every submission was refused "disk is full"."""
    from paqshot_server.api import meta

    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").json()["checks"]["disk"] == "ok"
        usage = shutil.disk_usage(settings.home)
        monkeypatch.setattr(meta.shutil, "disk_usage", lambda _path: usage._replace(free=4096))
        ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["disk"].startswith("full")
    assert_shows_no_internals(settings, ready.json())


def test_a_queue_whose_write_lock_another_process_holds_is_not_ready(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """breaker16 B16-11: with queue.db write-locked (an operator's sqlite3 session), every submission waited and
    was refused 503 while readiness said the queue was fine. Now it says the queue is busy, in words, and is ready
    again once the lock goes."""
    monkeypatch.setattr(workers_sql, "PROBE_WAIT_SECONDS", 0.2)
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").json()["checks"]["queue"] == "ok"
        other = sqlite3.connect(settings.queue_db, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            ready = client.get("/readyz")
        finally:
            other.execute("ROLLBACK")
            other.close()
        again = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["queue"].startswith("busy"), ready.json()
    assert_shows_no_internals(settings, ready.json())
    assert again.json()["checks"]["queue"] == "ok"
