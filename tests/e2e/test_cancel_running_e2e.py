"""breaker11 B11-1 against a real appliance: a cancel of a running job stops it, with a real Huey consumer."""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing

import httpx
import pytest
from e2e_support import Appliance, wait_terminal
from support import Receiver, b64, product_jpeg

pytestmark = pytest.mark.e2e


def job_state(home: object, job_id: str) -> str | None:
    with closing(sqlite3.connect(f"{home}/app.db", timeout=10)) as conn:
        row = conn.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return row[0] if row else None


def test_a_running_job_cancelled_ends_cancelled_with_its_webhook(appliance: Appliance) -> None:
    # The shipped lease, heartbeat (10 s between beats: longer than the job) and output size, as breaker11 ran it.
    for name in ("PAQSHOT_LEASE_SECONDS", "PAQSHOT_HEARTBEAT_SECONDS", "PAQSHOT_OUTPUT_LONG_SIDE"):
        appliance.env.pop(name)
    appliance.start("--no-worker")
    key = appliance.create_key()
    headers = {"Authorization": f"Bearer {key['key']}"}
    receiver = Receiver()
    try:
        # Four 2048 px scenes: seconds of work, with a progress step after each (a 4000x3000 packshot at 1024 px
        # runs 0.3 s here, too close to the cancel's own round trip).
        body = {
            "product_image": b64(product_jpeg()),
            "style": "lifestyle",
            "num_variants": 4,
            "webhook_url": f"{receiver.url}/hook",
        }
        job = httpx.post(f"{appliance.url}/v1/generate", headers=headers, json=body, timeout=30).json()
        appliance.start_worker()
        deadline = time.monotonic() + 60
        while job_state(appliance.home, job["id"]) != "running":
            assert time.monotonic() < deadline, "the worker never started the job"
            time.sleep(0.01)
        answer = httpx.post(f"{appliance.url}/v1/generate/{job['id']}/cancel", headers=headers, timeout=30)
        assert answer.status_code == 200 and answer.json()["status"] == "processing", answer.text
        done = wait_terminal(appliance.url, job["id"], headers, timeout=60)
        assert done["status"] == "failed" and done["error"]["code"] == "cancelled", done
        results = [p.name for p in (appliance.home / "files").rglob("*") if p.is_file() and "_input" not in p.name]
        assert results == []  # no image, thumbnail or matte kept
        deadline = time.monotonic() + 30
        while not receiver.requests:
            assert time.monotonic() < deadline, "no webhook"
            time.sleep(0.05)
        hook = json.loads(receiver.requests[0]["body"])
        assert hook["event"] == "generation.failed" and hook["error"]["code"] == "cancelled", hook
    finally:
        receiver.close()
