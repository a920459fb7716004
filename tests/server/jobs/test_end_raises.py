"""A job whose end raises the same error on every attempt (breaker16 B16-10's kind: a retention of 99999999999 days
made every end's expiry date "year out of range"; a webhook event that cannot be built or written; a result that
cannot be recorded). Before: the error left each attempt, the lease ran out, and once out of attempts the sweeper's
own failure raised it again, so the accepted job stayed ``running`` for good. Should: the job ends ``failed`` in
words after its attempts, whatever repeats."""

from __future__ import annotations

import time

import pytest
from litestar.testing import TestClient
from paqshot_server.errors import CutoutRefused
from paqshot_server.jobs import ending, sweeper
from paqshot_server.jobs.context import WorkerContext
from paqshot_server.jobs.queue import JobQueue
from paqshot_server.jobs.runner import process
from paqshot_server.settings import Settings
from paqshot_server.storage import jobs as jobs_sql
from paqshot_server.storage.files import owner_of
from support import Key, b64, product_jpeg


class OutboxBroken(RuntimeError):
    """What the webhook outbox raises in these tests, at every end of every job."""


@pytest.fixture
def broken_outbox(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every job's end meets an error building its webhook event (as a bad stored field, an encoder's bug would)."""

    def build_event(*args: object) -> None:
        raise OutboxBroken("the outbox cannot take this event")

    monkeypatch.setattr(ending, "build_event", build_event)


def submit(client: TestClient, key: Key) -> str:
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot"}
    response = client.post("/v1/generate", json=body, headers=key.headers)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def lease_lapses(settings: Settings) -> float:
    """A sweep's clock once every lease taken now has run out."""
    return time.time() + settings.lease_seconds + 1


@pytest.mark.usefixtures("broken_outbox")
def test_a_result_never_recorded_fails_the_job_after_its_attempts(
    client: TestClient, key: Key, settings: Settings
) -> None:
    job_id = submit(client, key)
    ctx, queue = WorkerContext(settings), JobQueue(str(settings.queue_db))
    try:
        outcomes = []
        for _ in range(settings.max_attempts):
            outcomes.append(process(ctx, job_id))
            sweeper.recover_leases(ctx, queue, lease_lapses(settings))
    finally:
        queue.close()
    assert outcomes == ["unrecorded"] * (settings.max_attempts - 1) + ["failed"]
    got = client.get(f"/v1/generate/{job_id}", headers=key.headers).json()
    assert got["status"] == "failed", got
    message = got["error"]["message"]
    assert f"could not be recorded on any of its {settings.max_attempts} attempts (OutboxBroken)" in message
    job = jobs_sql.get(ctx.db.get(), job_id)
    assert job is not None and job.expires_at is not None  # purged with the rest after retention
    stored = {p.name for p in settings.files_dir.rglob("*") if p.is_file() and owner_of(p.name) == job_id}
    assert stored == {job.input_file}  # no attempt's images left behind


@pytest.mark.usefixtures("broken_outbox")
def test_the_sweeper_fails_a_job_out_of_attempts_whose_end_raises(
    client: TestClient, key: Key, settings: Settings
) -> None:
    """Workers killed on every attempt: the sweeper's failure meets the same error, and still ends the job (before:
    it raised, every sweep, and the job stayed running with its attempts spent)."""
    job_id = submit(client, key)
    ctx, queue = WorkerContext(settings), JobQueue(str(settings.queue_db))
    try:
        for attempt in range(1, settings.max_attempts + 1):
            claimed = jobs_sql.claim_next(ctx.db.get(), "killed-worker", time.time(), settings.lease_seconds)
            assert claimed is not None and claimed.attempts == attempt
            expected = (1, 0) if attempt < settings.max_attempts else (0, 1)
            assert sweeper.recover_leases(ctx, queue, lease_lapses(settings)) == expected
    finally:
        queue.close()
    got = client.get(f"/v1/generate/{job_id}", headers=key.headers).json()
    assert got["status"] == "failed", got
    assert f"stopped {settings.max_attempts} times" in got["error"]["message"]


def test_a_failure_whose_result_cannot_be_written_ends_without_it(
    client: TestClient, key: Key, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused cut-out's failure carries a result (its confidence); when that full end raises, the job still ends
    failed with its code and words, and its webhook event, plainly."""
    job_id = submit(client, key)
    ctx = WorkerContext(settings)
    finish = jobs_sql.finish

    def finish_without_results(*args: object, **kwargs: object) -> bool:
        end = kwargs["end"]
        assert isinstance(end, jobs_sql.JobEnd)
        if end.result is not None:
            raise OutboxBroken("a result cannot be written")
        return finish(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jobs_sql, "finish", finish_without_results)
    claimed = jobs_sql.claim_next(ctx.db.get(), ctx.worker_id, time.time(), settings.lease_seconds)
    assert claimed is not None
    refused = CutoutRefused("no product found: the photo looks like background.", engine="onnx:x", confidence=0.0)
    assert ending.fail(ctx, claimed, refused.code, refused.message, owner=ctx.worker_id, refused=refused)
    got = client.get(f"/v1/generate/{job_id}", headers=key.headers).json()
    assert got["status"] == "failed" and got["error"]["message"] == refused.message, got


def test_one_job_whose_row_cannot_be_ended_does_not_hold_up_the_others(
    client: TestClient, key: Key, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: the first such job's error ended the whole round, every round, and no other lease was recovered."""
    stuck, other = submit(client, key), submit(client, key)
    ctx, queue = WorkerContext(settings), JobQueue(str(settings.queue_db))
    db = ctx.db.get()
    for _ in range(2):  # both claimed by a worker that is then killed
        assert jobs_sql.claim_next(db, "killed-worker", time.time(), settings.lease_seconds) is not None
    with db.conn:
        db.conn.execute("UPDATE jobs SET attempts = ? WHERE id = ?", (settings.max_attempts, stuck))
    finish = jobs_sql.finish

    def finish_all_but(conn: object, job_id: str, *args: object, **kwargs: object) -> bool:
        if job_id == stuck:
            raise OutboxBroken("this row cannot be written")
        return finish(conn, job_id, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jobs_sql, "finish", finish_all_but)
    try:
        assert sweeper.recover_leases(ctx, queue, lease_lapses(settings)) == (1, 0)
    finally:
        queue.close()
    states = {job_id: getattr(jobs_sql.get(db, job_id), "state", None) for job_id in (stuck, other)}
    assert states == {stuck: "running", other: "queued"}  # the stuck one logged; the next sweep tries again
