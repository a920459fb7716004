"""Webhook delivery: payload, both signatures, retries with the same event id, 410, Retry-After."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest
from litestar.testing import TestClient
from paqshot_server.jobs import delivery
from paqshot_server.jobs.context import WorkerContext
from paqshot_server.jobs.dispatcher import dispatch_due
from paqshot_server.jobs.runner import process
from paqshot_server.settings import Settings
from paqshot_server.storage import webhooks as webhooks_sql
from support import Key, Receiver, b64, product_jpeg, verify_signatures


@pytest.fixture
def receiver() -> Receiver:
    r = Receiver()
    yield r
    r.close()


def run_job(client: TestClient, key: Key, settings: Settings, url: str, **fields: object) -> str:
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot", "webhook_url": url, **fields}
    job_id = client.post("/v1/generate", json=body, headers=key.headers).json()["id"]
    assert process(WorkerContext(settings), job_id) in ("completed", "failed")
    return job_id


def drain(ctx: WorkerContext, rounds: int = 1) -> None:
    for _ in range(rounds):
        # make every pending event due now, then deliver
        ctx.db.get().conn.execute("UPDATE webhook_events SET next_attempt_at = 0 WHERE state = 'pending'")
        dispatch_due(ctx)


def test_completed_webhook_payload_and_signatures(
    client: TestClient, key: Key, settings: Settings, receiver: Receiver
) -> None:
    job_id = run_job(client, key, settings, receiver.url + "/hook")
    drain(WorkerContext(settings))
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    verify_signatures(request, key.webhook_secret)
    payload = json.loads(request["body"])
    assert payload["event"] == "generation.completed"
    assert payload["id"] == job_id and payload["status"] == "completed"
    for field in ("image_url", "thumbnail_url", "created_at"):
        assert payload[field]
    image = client.get(payload["image_url"].removeprefix(settings.base_url))
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert webhooks_sql.for_job(WorkerContext(settings).db.get(), job_id)[0]["state"] == "delivered"


def test_retries_keep_the_event_id_and_body(client: TestClient, key: Key, settings: Settings) -> None:
    flaky = Receiver(script=[500, 503, 200])
    try:
        job_id = run_job(client, key, settings, flaky.url)
        ctx = WorkerContext(settings)
        drain(ctx, rounds=4)
        assert [r["headers"]["webhook-id"] for r in flaky.requests] == [flaky.requests[0]["headers"]["webhook-id"]] * 3
        assert len({r["body"] for r in flaky.requests}) == 1
        events = webhooks_sql.for_job(ctx.db.get(), job_id)
        assert events[0]["state"] == "delivered"
        assert [a["status_code"] for a in events[0]["attempt_log"]] == [500, 503, 200]
    finally:
        flaky.close()


def test_gone_stops_and_retry_after_is_honoured(client: TestClient, key: Key, settings: Settings) -> None:
    gone = Receiver(script=[410])
    busy = Receiver(script=[(429, {"Retry-After": "120"})])
    try:
        ctx = WorkerContext(settings)
        gone_job = run_job(client, key, settings, gone.url)
        busy_job = run_job(client, key, settings, busy.url)
        dispatch_due(ctx)
        assert webhooks_sql.for_job(ctx.db.get(), gone_job)[0]["state"] == "stopped"
        event = webhooks_sql.for_job(ctx.db.get(), busy_job)[0]
        assert event["state"] == "pending"
        assert event["next_attempt_at"] - time.time() > 100  # the 2nd scheduled try (5 s) waits for Retry-After
    finally:
        gone.close()
        busy.close()


def test_failed_job_sends_generation_failed(
    client: TestClient, key: Key, settings: Settings, receiver: Receiver
) -> None:
    from io import BytesIO

    from PIL import Image

    blank = BytesIO()
    Image.new("RGB", (200, 200), "white").save(blank, "PNG")
    job_id = run_job(client, key, settings, receiver.url, product_image=b64(blank.getvalue()))
    drain(WorkerContext(settings))
    payload = json.loads(receiver.requests[0]["body"])
    assert payload["event"] == "generation.failed" and payload["id"] == job_id
    assert payload["error"]["code"] == "unsupported_image"


def test_webhook_url_rules(client: TestClient, key: Key, settings: Settings) -> None:
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot"}
    bad = client.post("/v1/generate", json={**body, "webhook_url": "ftp://example.com/x"}, headers=key.headers)
    assert bad.status_code == 400 and "http:// or https:// URL" in bad.json()["message"]
    strict = replace(settings, allow_private_network=False)
    from paqshot_server.app import create_app

    with TestClient(create_app(strict)) as strict_client:
        plain = strict_client.post(
            "/v1/generate", json={**body, "webhook_url": "http://example.com/h"}, headers=key.headers
        )
        assert plain.status_code == 400 and "https" in plain.json()["message"]
        private = strict_client.post(
            "/v1/generate", json={**body, "webhook_url": "https://127.0.0.1/h"}, headers=key.headers
        )
        assert private.status_code == 400 and "not reachable" in private.json()["message"]
        assert "127.0.0.1" in private.json()["message"]  # the literal the client sent, not a resolved address


def test_schedule_is_standard_webhooks_with_jitter() -> None:
    delays = [delivery.next_delay(n, None, 1.0) for n in range(1, 11)]
    assert delays[-1] is None  # ten attempts in all
    for delay, nominal in zip(delays[:-1], delivery.RETRY_SCHEDULE[1:], strict=True):
        assert delay is not None and 0.9 * nominal <= delay <= 1.1 * nominal
    assert sum(delivery.RETRY_SCHEDULE) / 3600 > 70  # retries span days, not minutes
