"""B14-6's first half: the records of ended generations and their webhook delivery log never expired (rows grew
without bound). Should: after ``record_retention_days`` the sweeper deletes an ended job's row, its webhook events
and their delivery log; never while an Idempotency-Key names it; a GET then answers the spec's 404 ``not_found``
in words; the key's quota still counts the generation."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from pathlib import Path

import pytest
from litestar.testing import TestClient
from paqshot_server.app import create_app
from paqshot_server.jobs import sweeper
from paqshot_server.jobs.context import WorkerContext
from paqshot_server.jobs.dispatcher import dispatch_due
from paqshot_server.jobs.runner import process
from paqshot_server.settings import Settings
from support import Key, Receiver, b64, make_key, product_jpeg

DAY = 86400.0


def rows(settings: Settings, table: str) -> int:
    with closing(sqlite3.connect(settings.app_db)) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def completed_job(client: TestClient, key: Key, settings: Settings, **fields: object) -> str:
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot", **fields}
    response = client.post("/v1/generate", json=body, headers=key.headers)
    assert response.status_code == 202, response.text
    job_id = str(response.json()["id"])
    ctx = WorkerContext(settings)
    assert process(ctx, job_id) == "completed"
    dispatch_due(ctx)
    return job_id


def sweep_at(settings: Settings, now: float) -> None:
    """One round of upkeep as if the clock read ``now``."""
    ctx = WorkerContext(settings)
    sweeper.purge_expired(ctx, now)
    sweeper.forget_records(ctx, now)


def test_an_ended_job_s_record_and_delivery_log_go_after_record_retention(
    client: TestClient, key: Key, settings: Settings
) -> None:
    receiver = Receiver()
    try:
        job_id = completed_job(client, key, settings, webhook_url=receiver.url)
    finally:
        receiver.close()
    assert rows(settings, "webhook_events") == 1 and rows(settings, "webhook_attempts") == 1
    days = settings.record_retention_days
    sweep_at(settings, time.time() + (days - 1) * DAY)  # files purged (7 days); the record stays
    kept = client.get(f"/v1/generate/{job_id}", headers=key.headers).json()
    assert kept["status"] == "completed" and kept["expired"] is True
    sweep_at(settings, time.time() + (days + 1) * DAY)
    assert rows(settings, "jobs") == 0
    assert rows(settings, "webhook_events") == 0 and rows(settings, "webhook_attempts") == 0
    gone = client.get(f"/v1/generate/{job_id}", headers=key.headers)
    assert gone.status_code == 404 and gone.json()["error"] == "not_found"
    assert f"records are deleted {days} days after a generation ends" in gone.json()["message"], gone.json()
    assert client.get("/v1/generations", headers=key.headers).json()["total"] == 0
    # breaker16 B16-6: a client that kept its last cursor is told why it no longer names anything, and what to do
    cursor = client.get("/v1/generations", params={"starting_after": job_id}, headers=key.headers)
    assert cursor.status_code == 404 and f"deleted ({days} days after" in cursor.json()["message"], cursor.json()
    assert "without the cursor" in cursor.json()["message"]


@pytest.fixture
def long_idempotency(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", idempotency_hours=40 * 24, output_long_side=1024)


def test_a_record_an_idempotency_key_names_stays_until_the_key_is_forgotten(long_idempotency: Settings) -> None:
    settings = long_idempotency
    key = make_key(settings)
    with TestClient(create_app(settings)) as client:
        body = {"product_image": b64(product_jpeg()), "style": "studio_packshot"}
        headers = {**key.headers, "Idempotency-Key": "order-7"}
        job_id = client.post("/v1/generate", json=body, headers=headers).json()["id"]
        assert process(WorkerContext(settings), job_id) == "completed"
        sweep_at(settings, time.time() + (settings.record_retention_days + 1) * DAY)
        assert client.get(f"/v1/generate/{job_id}", headers=key.headers).status_code == 200  # the key is live
        assert client.post("/v1/generate", json=body, headers=headers).json()["id"] == job_id  # its replay
        sweep_at(settings, time.time() + 41 * DAY)  # the key is forgotten: then the record goes
        assert client.get(f"/v1/generate/{job_id}", headers=key.headers).status_code == 404


def test_the_quota_still_counts_a_generation_whose_record_went(settings: Settings) -> None:
    key = make_key(settings, quota=1)
    with TestClient(create_app(settings)) as client:
        completed_job(client, key, settings)
        sweep_at(settings, time.time() + (settings.record_retention_days + 1) * DAY)
        assert rows(settings, "jobs") == 0
        body = {"product_image": b64(product_jpeg()), "style": "studio_packshot"}
        again = client.post("/v1/generate", json=body, headers=key.headers)
        assert again.status_code == 403 and "Quota exceeded" in again.json()["message"], again.text
        assert again.json()["message"].endswith("may create 1 generation."), again.text  # not "1 generations"


def test_a_running_job_is_never_forgotten(client: TestClient, key: Key, settings: Settings) -> None:
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot"}
    job_id = client.post("/v1/generate", json=body, headers=key.headers).json()["id"]
    sweep_at(settings, time.time() + 365 * DAY)  # queued: not ended, however old
    assert client.get(f"/v1/generate/{job_id}", headers=key.headers).status_code == 200
