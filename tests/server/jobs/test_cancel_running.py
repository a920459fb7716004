"""Cancel of a running job (breaker11 B11-1): it stops at its next progress step, or the answer says it is too late.

The worker's heartbeat (every ``heartbeat_seconds``, 10 s by default) never beats during these jobs: what stops
them is the job's own read of its cancel request.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from litestar.testing import TestClient
from paqshot_server.jobs import sweeper
from paqshot_server.jobs.context import WorkerContext
from paqshot_server.jobs.dispatcher import dispatch_due
from paqshot_server.jobs.queue import JobQueue
from paqshot_server.jobs.runner import process
from paqshot_server.settings import Settings
from paqshot_server.storage import jobs as jobs_sql
from support import Key, Receiver, b64, product_jpeg


def submit(client: TestClient, key: Key, receiver: Receiver) -> str:
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot", "webhook_url": receiver.url}
    response = client.post("/v1/generate", json=body, headers=key.headers)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def stored_files(settings: Settings) -> set[str]:
    return {p.name for p in settings.files_dir.rglob("*") if p.is_file()}


def test_a_running_job_stops_at_its_next_progress_step(
    client: TestClient, key: Key, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert settings.heartbeat_seconds >= 10  # no heartbeat during the job: the job's own check must see the cancel
    receiver = Receiver()
    try:
        job_id = submit(client, key, receiver)
        before = stored_files(settings)
        ctx = WorkerContext(settings)
        render = ctx.engines.render
        answers: list[Any] = []

        def cancel_then_render(*args: Any, **kwargs: Any) -> Any:
            # The job is claimed and its render has started: the client cancels now.
            answers.append(client.post(f"/v1/generate/{job_id}/cancel", headers=key.headers))
            return render(*args, **kwargs)

        monkeypatch.setattr(ctx.engines, "render", cancel_then_render)
        assert process(ctx, job_id) == "cancelled"
        assert answers[0].status_code == 200 and answers[0].json()["status"] == "processing", answers[0].text
        got = client.get(f"/v1/generate/{job_id}", headers=key.headers).json()
        assert got["status"] == "failed" and got["error"]["code"] == "cancelled", got
        assert "image_url" not in got
        assert stored_files(settings) == before  # no image, thumbnail or matte was written: as a queued cancel
        dispatch_due(ctx)
        hook = json.loads(receiver.requests[0]["body"])
        assert hook["status"] == "failed" and hook["error"]["code"] == "cancelled"
    finally:
        receiver.close()


def test_a_cancel_while_the_result_is_stored_is_answered_too_late(
    client: TestClient, key: Key, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver = Receiver()
    try:
        job_id = submit(client, key, receiver)
        ctx = WorkerContext(settings)
        put = ctx.files.put
        answers: list[Any] = []

        def cancel_then_put(name: str, data: bytes) -> None:
            if not answers:  # the first image file is being written
                answers.append(client.post(f"/v1/generate/{job_id}/cancel", headers=key.headers))
            put(name, data)

        monkeypatch.setattr(ctx.files, "put", cancel_then_put)
        assert process(ctx, job_id) == "completed"
        late = answers[0]
        assert late.status_code == 400 and late.json()["error"] == "invalid_request", late.text
        assert "too late" in late.json()["message"] and "`completed`" in late.json()["message"]
        got = client.get(f"/v1/generate/{job_id}", headers=key.headers).json()
        assert got["status"] == "completed" and got["image_url"]
        ended = client.post(f"/v1/generate/{job_id}/cancel", headers=key.headers)  # an ended job: left as it is
        assert ended.status_code == 200 and ended.json()["status"] == "completed"
    finally:
        receiver.close()


def test_storing_ends_with_the_attempt_a_retried_job_can_be_cancelled(
    client: TestClient, key: Key, settings: Settings
) -> None:
    """Kill safety: an attempt killed while storing leaves the job cancellable once its lease is recovered."""
    receiver = Receiver()
    try:
        job_id = submit(client, key, receiver)
        ctx = WorkerContext(settings, worker_id="wrk_killed")
        db = ctx.db.get()
        assert jobs_sql.claim_next(db, ctx.worker_id, time.time(), 60) is not None
        assert jobs_sql.begin_store(db, job_id, "wrk_other") == "lost"  # not this worker's job
        assert jobs_sql.begin_store(db, job_id, ctx.worker_id) == "store"
        assert not jobs_sql.request_cancel(db, job_id)  # too late for this attempt
        db.conn.execute("UPDATE jobs SET lease_until = ? WHERE id = ?", (time.time() - 1, job_id))
        assert sweeper.recover_leases(ctx, JobQueue(str(settings.queue_db)), time.time()) == (1, 0)
        assert jobs_sql.request_cancel(db, job_id)  # the job waits again: a cancel holds
        again = WorkerContext(settings, worker_id="wrk_next")
        assert process(again, job_id) == "cancelled"
        assert client.get(f"/v1/generate/{job_id}", headers=key.headers).json()["error"]["code"] == "cancelled"
        fresh = submit(client, key, receiver)
        assert jobs_sql.claim_next(db, "wrk_late", time.time(), 60) is not None
        jobs_sql.request_cancel(db, fresh)
        assert jobs_sql.begin_store(db, fresh, "wrk_late") == "cancelled"
    finally:
        receiver.close()
