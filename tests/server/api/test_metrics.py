"""/metrics exposes requests, jobs by state, queue depth, durations, webhook attempts, lease recoveries."""

from __future__ import annotations

import re
import time

from litestar.testing import TestClient
from paqshot_server.jobs import sweeper
from paqshot_server.jobs.context import WorkerContext
from paqshot_server.jobs.queue import JobQueue
from paqshot_server.jobs.runner import process
from paqshot_server.settings import Settings
from paqshot_server.storage import jobs as jobs_sql
from support import Key, b64, product_jpeg


def value(text: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name)}{re.escape(labels)} ([0-9.e+]+)$", text, re.M)
    assert match, f"{name}{labels} not in metrics"
    return float(match.group(1))


def test_metrics_follow_what_happened(client: TestClient, key: Key, settings: Settings) -> None:
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot"}
    done = client.post("/v1/generate", json=body, headers=key.headers).json()["id"]
    waiting = client.post("/v1/generate", json=body, headers=key.headers).json()["id"]
    ctx = WorkerContext(settings)
    process(ctx, done)
    claimed = jobs_sql.claim_next(ctx.db.get(), "wrk_dead", time.time() - 120, 60)  # a worker that died
    assert claimed is not None and claimed.id == waiting
    sweeper.recover_leases(ctx, JobQueue(str(settings.queue_db)), time.time())
    text = client.get("/metrics").text
    assert value(text, "paqshot_jobs", '{state="completed"}') == 1
    assert value(text, "paqshot_jobs", '{state="queued"}') == 1
    assert value(text, "paqshot_queue_depth") >= 1
    assert value(text, "paqshot_lease_recoveries_total") == 1
    assert value(text, "paqshot_job_duration_seconds_count", '{engine="classical",style="studio_packshot"}') == 1
    assert value(text, "paqshot_http_requests_total", '{method="POST",route="/v1/generate",status="202"}') == 2
