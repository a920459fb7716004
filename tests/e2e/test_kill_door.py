"""SIGKILL the API in the middle of a burst of concurrent submissions (their inserts committed in groups): every
202 it sent has its job row and its photo on disk, and a worker then ends every job."""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
from contextlib import closing

import httpx
import pytest
from e2e_support import Appliance
from paqshot_server.settings import Settings
from paqshot_server.storage.files import FileStore
from support import b64, product_jpeg

pytestmark = pytest.mark.e2e

CLIENTS = 8


def test_an_api_killed_mid_burst_leaves_every_202_with_its_row_and_photo(appliance: Appliance) -> None:
    appliance.start("--no-worker")
    key = appliance.create_key("burst", "--rate-limit", "100000")
    body = {"product_image": b64(product_jpeg((640, 480))), "style": "studio_packshot"}
    accepted: list[str] = []
    stop = threading.Event()

    def submit() -> None:
        with httpx.Client(timeout=30, headers={"Authorization": f"Bearer {key['key']}"}) as client:
            while not stop.is_set():
                try:
                    response = client.post(f"{appliance.url}/v1/generate", json=body)
                except httpx.HTTPError:  # the server was killed under this request
                    return
                if response.status_code == 202:
                    accepted.append(response.json()["id"])

    threads = [threading.Thread(target=submit) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(accepted) < 40 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert appliance.proc is not None
    appliance.proc.send_signal(signal.SIGKILL)  # in the middle of the burst: requests are in flight
    appliance.proc.wait(10)
    stop.set()
    for t in threads:
        t.join(30)
    assert len(accepted) >= 40
    settings = Settings(home=appliance.home)
    with closing(sqlite3.connect(settings.app_db, timeout=10)) as conn:
        rows = dict(conn.execute("SELECT id, input_file FROM jobs").fetchall())
    files = FileStore(settings.files_dir)
    missing_rows = [job_id for job_id in accepted if job_id not in rows]
    missing_photos = [job_id for job_id in accepted if job_id in rows and not files.exists(rows[job_id])]
    assert not missing_rows and not missing_photos
    appliance.start_worker()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        with closing(sqlite3.connect(settings.app_db, timeout=10)) as conn:
            states = dict(conn.execute("SELECT id, state FROM jobs").fetchall())
        if all(states[job_id] in ("completed", "failed") for job_id in accepted):
            break
        time.sleep(0.2)
    assert all(states[job_id] == "completed" for job_id in accepted), states
