"""A worker whose store-time write meets a busy app.db (another process holds its write lock: an operator's sqlite3
session, a backup). The kind: a busy database ended an accepted job as failed ("unavailable", or the job's write
raised out of the worker). Should: the worker tries again while its lease lasts and the job completes; when the lock
outlasts the lease, the attempt gives the job up unended (its files deleted) and the sweeper's retry completes it."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from paqshot_server.app import create_app
from paqshot_server.jobs import sweeper, worker
from paqshot_server.jobs.context import WorkerContext
from paqshot_server.jobs.queue import JobQueue
from paqshot_server.jobs.runner import process
from paqshot_server.settings import Settings
from paqshot_server.storage import jobs as jobs_sql
from paqshot_server.storage.files import owner_of
from support import Key, b64, make_key, product_jpeg


@pytest.fixture(autouse=True)
def short_busy(monkeypatch: pytest.MonkeyPatch) -> None:
    """A connection waits 0.2 s for another process's lock instead of 10 s (connections opened from now on)."""
    monkeypatch.setattr("paqshot_server.storage.db.BUSY_SECONDS", 0.2)


def files_of(settings: Settings, job_id: str) -> set[str]:
    return {p.name for p in settings.files_dir.rglob("*") if p.is_file() and owner_of(p.name) == job_id}


def locked_at_store(ctx: WorkerContext, settings: Settings, seconds: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the job's images are finished (just before it stores them), another connection takes app.db's write
    lock (``BEGIN IMMEDIATE``, as ``sqlite3 app.db`` does) and lets it go ``seconds`` later."""
    finish = ctx.finisher.finish

    def lock_then_finish(*args: Any, **kwargs: Any) -> Any:
        other = sqlite3.connect(settings.app_db, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        threading.Timer(seconds, lambda: (other.execute("ROLLBACK"), other.close())).start()
        return finish(*args, **kwargs)

    monkeypatch.setattr(ctx.finisher, "finish", lock_then_finish)


def submit(client: TestClient, key: Key) -> str:
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot"}
    response = client.post("/v1/generate", json=body, headers=key.headers)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def test_a_lock_shorter_than_the_lease_is_waited_for(
    client: TestClient, key: Key, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = submit(client, key)
    ctx = WorkerContext(settings)
    locked_at_store(ctx, settings, 1.0, monkeypatch)  # the lease is 5 s; each write waits 0.2 s for the lock
    assert process(ctx, job_id) == "completed"
    got = client.get(f"/v1/generate/{job_id}", headers=key.headers).json()
    assert got["status"] == "completed" and got["image_url"], got


@pytest.fixture
def short_lease(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", lease_seconds=1, output_long_side=1024)


@pytest.fixture
def lease_client(short_lease: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(short_lease)) as test_client:
        yield test_client


def test_a_lock_past_the_lease_leaves_the_job_to_its_retry(
    lease_client: TestClient, short_lease: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, key = short_lease, make_key(short_lease)
    job_id = submit(lease_client, key)
    ctx = WorkerContext(settings)
    locked_at_store(ctx, settings, 2.5, monkeypatch)  # past the 1 s lease (no heartbeat in 1 s)
    assert process(ctx, job_id) == "lapsed"
    job = jobs_sql.get(ctx.db.get(), job_id)
    assert job is not None and job.state == "running" and job.error_code is None  # not ended for the lock
    assert files_of(settings, job_id) == {job.input_file}  # the attempt's images went with it
    time.sleep(2.0)  # the lock is let go
    monkeypatch.undo()
    retry = WorkerContext(settings)
    assert sweeper.recover_leases(retry, JobQueue(str(settings.queue_db)), time.time() + 1) == (1, 0)
    assert process(retry, job_id) == "completed"
    got = lease_client.get(f"/v1/generate/{job_id}", headers=key.headers).json()
    assert got["status"] == "completed" and got["image_url"], got


def test_a_claim_that_meets_a_busy_database_sends_its_wake_up_again(
    client: TestClient, key: Key, settings: Settings
) -> None:
    """breaker16 B16-8: a worker whose claim waited out app.db's busy timeout raised out of the queue's task, so the
    wake-up was consumed and lost: the job sat queued beside an idle worker until the sweeper's resend_lost (120 s).
    Now the message is sent again, and the job runs once the lock is gone."""
    job_id = submit(client, key)
    queue = JobQueue(str(settings.queue_db))
    try:
        waiting = queue.pending()
        ctx = WorkerContext(settings)
        other = sqlite3.connect(settings.app_db, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            worker._run(ctx, job_id, queue)
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert queue.pending() == waiting + 1 and job_id in queue.queued_ids()
        assert process(ctx, job_id) == "completed"
    finally:
        queue.close()
