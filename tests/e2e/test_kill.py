"""SIGKILL a worker mid-job, at random points, many times: every accepted job still ends."""

from __future__ import annotations

import random
import signal
import sqlite3
import time
from contextlib import closing

import httpx
import pytest
from e2e_support import Appliance, wait_terminal
from support import b64, product_jpeg

pytestmark = pytest.mark.e2e


def running_job(home: object, job_id: str) -> bool:
    with closing(sqlite3.connect(f"{home}/app.db", timeout=10)) as conn:
        row = conn.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return bool(row and row[0] == "running")


def test_sigkill_mid_job_then_new_worker_completes_it(appliance: Appliance) -> None:
    appliance.start("--no-worker")
    key = appliance.create_key()
    headers = {"Authorization": f"Bearer {key['key']}"}
    big = product_jpeg((3000, 2400))  # large enough that the job is still running when we kill
    job = httpx.post(
        f"{appliance.url}/v1/generate",
        headers=headers,
        timeout=30,
        json={"product_image": b64(big), "style": "studio_packshot"},
    ).json()
    worker = appliance.start_worker()
    deadline = time.monotonic() + 30
    while not running_job(appliance.home, job["id"]):
        assert time.monotonic() < deadline, "the worker never started the job"
        time.sleep(0.01)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert httpx.get(f"{appliance.url}/v1/generate/{job['id']}", headers=headers).json()["status"] == "processing"
    appliance.start_worker()  # its sweeper re-queues the job once the dead worker's lease expires
    done = wait_terminal(appliance.url, job["id"], headers, timeout=90)
    assert done["status"] == "completed", done
    with closing(sqlite3.connect(appliance.home / "app.db")) as conn:
        attempts = conn.execute("SELECT attempts FROM jobs WHERE id = ?", (job["id"],)).fetchone()[0]
    assert attempts == 2


def test_random_kills_leave_no_job_unfinished(appliance: Appliance) -> None:
    appliance.start("--no-worker")
    key = appliance.create_key()
    headers = {"Authorization": f"Bearer {key['key']}"}
    rng = random.Random(7)
    ids = []
    for i in range(6):
        body = {"product_image": b64(product_jpeg((900 + 100 * i, 700))), "style": "studio_packshot"}
        ids.append(httpx.post(f"{appliance.url}/v1/generate", headers=headers, json=body, timeout=30).json()["id"])
    for _ in range(4):  # kill at random moments
        worker = appliance.start_worker()
        time.sleep(rng.uniform(0.3, 2.5))
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    appliance.start_worker()
    final = [wait_terminal(appliance.url, job_id, headers, timeout=240) for job_id in ids]
    for job in final:
        assert job["status"] in ("completed", "failed"), job
        if job["status"] == "failed":  # only a job whose worker was killed on every attempt may fail, and says so
            assert "stopped 3 times" in job["error"]["message"], job
