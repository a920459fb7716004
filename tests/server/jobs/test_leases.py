"""Leases, recovery, single publication, retention purge (the jobs table is the truth)."""

from __future__ import annotations

import time

from litestar.testing import TestClient
from paqshot_server.jobs import ending, sweeper
from paqshot_server.jobs.context import WorkerContext
from paqshot_server.jobs.queue import JobQueue
from paqshot_server.jobs.runner import process
from paqshot_server.settings import Settings
from paqshot_server.storage import jobs as jobs_sql
from support import Key, b64, product_jpeg


def submit(client: TestClient, key: Key) -> str:
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot"}
    return client.post("/v1/generate", json=body, headers=key.headers).json()["id"]


def expire_lease(ctx: WorkerContext, job_id: str) -> None:
    ctx.db.get().conn.execute("UPDATE jobs SET lease_until = ? WHERE id = ?", (time.time() - 1, job_id))


def test_expired_lease_is_requeued_and_completed_by_another_worker(
    client: TestClient, key: Key, settings: Settings
) -> None:
    job_id = submit(client, key)
    dead = WorkerContext(settings, worker_id="wrk_dead")
    claimed = jobs_sql.claim_next(dead.db.get(), dead.worker_id, time.time(), 60)
    assert claimed is not None and claimed.id == job_id
    alive = WorkerContext(settings, worker_id="wrk_alive")
    assert process(alive, job_id) == "not-claimed"  # the lease still holds
    expire_lease(alive, job_id)
    queue = JobQueue(str(settings.queue_db))
    before = queue.pending()
    assert sweeper.recover_leases(alive, queue, time.time()) == (1, 0)
    assert queue.pending() == before + 1
    assert process(alive, job_id) == "completed"
    job = jobs_sql.get(alive.db.get(), job_id)
    assert job is not None and job.state == "completed" and job.attempts == 2


def test_job_fails_clearly_after_max_attempts(client: TestClient, key: Key, settings: Settings) -> None:
    job_id = submit(client, key)
    ctx = WorkerContext(settings)
    queue = JobQueue(str(settings.queue_db))
    for _ in range(settings.max_attempts):
        assert jobs_sql.claim_next(ctx.db.get(), "wrk_crashy", time.time(), 60) is not None
        expire_lease(ctx, job_id)
        sweeper.recover_leases(ctx, queue, time.time())
    job = jobs_sql.get(ctx.db.get(), job_id)
    assert job is not None and job.state == "failed"
    assert job.error_code == "server_error" and "3 times" in (job.error_message or "")


def test_a_job_that_ran_twice_publishes_once(client: TestClient, key: Key, settings: Settings) -> None:
    job_id = submit(client, key)
    slow = WorkerContext(settings, worker_id="wrk_slow")
    job = jobs_sql.claim_next(slow.db.get(), slow.worker_id, time.time(), 60)
    assert job is not None and job.id == job_id
    expire_lease(slow, job_id)
    fast = WorkerContext(settings, worker_id="wrk_fast")
    assert process(fast, job_id) == "not-claimed"  # running, lease expired: the sweeper puts it back first
    assert sweeper.recover_leases(fast, JobQueue(str(settings.queue_db)), time.time()) == (1, 0)
    assert process(fast, job_id) == "completed"
    winner = jobs_sql.get(fast.db.get(), job_id)
    # the slow worker tries to publish late: refused, nothing changes
    assert not ending.fail(slow, job, "x", "late", owner=slow.worker_id)
    assert jobs_sql.get(fast.db.get(), job_id) == winner


def test_retention_purge_deletes_files_and_links_404(client: TestClient, key: Key, settings: Settings) -> None:
    job_id = submit(client, key)
    ctx = WorkerContext(settings)
    process(ctx, job_id)
    status = client.get(f"/v1/generate/{job_id}", headers=key.headers).json()
    path = status["image_url"].removeprefix(settings.base_url)
    assert client.get(path).status_code == 200
    job = jobs_sql.get(ctx.db.get(), job_id)
    assert job is not None and job.result is not None
    stored = ctx.files.path(job.result.images[0].file)
    ctx.db.get().conn.execute("UPDATE jobs SET expires_at = '2000-01-01T00:00:00Z' WHERE id = ?", (job_id,))
    assert sweeper.purge_expired(ctx, time.time()) == 1
    assert not stored.exists() and not ctx.files.exists(job.input_file)
    gone = client.get(path)
    assert gone.status_code == 404 and gone.json()["error"] == "not_found"


def test_a_purged_generation_says_so_and_shows_no_dead_links(client: TestClient, key: Key, settings: Settings) -> None:
    """breaker14 B14-6: past retention a job still answered "completed" with image_url and thumbnail_url links
    that 404. It stays completed (it did complete; the spec's statuses) and says ``expired``, without links, in
    the poll and the list alike."""
    job_id = submit(client, key)
    ctx = WorkerContext(settings)
    process(ctx, job_id)
    before = client.get(f"/v1/generate/{job_id}", headers=key.headers).json()
    assert before["image_url"] and "expired" not in before
    ctx.db.get().conn.execute("UPDATE jobs SET expires_at = '2000-01-01T00:00:00Z' WHERE id = ?", (job_id,))
    assert sweeper.purge_expired(ctx, time.time()) == 1
    polled = client.get(f"/v1/generate/{job_id}", headers=key.headers).json()
    listed = client.get("/v1/generations", headers=key.headers).json()["data"][0]
    for seen in (polled, listed):
        assert seen["status"] == "completed" and seen["expired"] is True, seen
        assert seen["expires_at"] == "2000-01-01T00:00:00Z" and seen["width"] == before["width"]
        links = {k for k, v in seen.items() if k.endswith("_url") or k == "images"}
        assert not links, links


def test_lost_queue_message_is_sent_again(client: TestClient, key: Key, settings: Settings) -> None:
    lost = submit(client, key)
    ctx = WorkerContext(settings)
    queue = JobQueue(str(settings.queue_db))
    queue.huey.flush()  # the message is lost (e.g. queue file restored from an old backup)
    waiting = submit(client, key)  # this one still has its message
    assert sweeper.resend_lost(ctx, queue, time.time() + 600) == 1
    assert queue.queued_ids() == {lost, waiting} and queue.pending() == 2  # no duplicate for the waiting job


def test_failed_jobs_inputs_are_purged_after_retention(client: TestClient, key: Key, settings: Settings) -> None:
    job_id = submit(client, key)
    client.post(f"/v1/generate/{job_id}/cancel", headers=key.headers)
    ctx = WorkerContext(settings)
    job = jobs_sql.get(ctx.db.get(), job_id)
    assert job is not None and job.state == "failed" and job.expires_at is not None
    assert ctx.files.exists(job.input_file)
    assert sweeper.purge_expired(ctx, time.time() + settings.retention_days * 86400 + 60) == 1
    assert not ctx.files.exists(job.input_file)
