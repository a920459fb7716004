"""Files of an attempt killed while storing its images go with the job (breaker13 B13-1): no row names them
(the retry stores its own), yet DELETE and the retention purge must leave none of the job's files behind."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from litestar.testing import TestClient
from paqshot_server.jobs import sweeper
from paqshot_server.jobs.context import WorkerContext
from paqshot_server.jobs.queue import JobQueue
from paqshot_server.jobs.runner import process
from paqshot_server.settings import Settings
from paqshot_server.storage import jobs as jobs_sql
from paqshot_server.storage.files import owner_of
from support import Key, b64, product_jpeg

# A worker that kills itself (SIGKILL: no clean-up runs) right after its second file (an image and its
# thumbnail) is on disk, as `kill -9` of a worker storing a job's images does.
KILLED_WHILE_STORING = """
import os, signal, sys
from pathlib import Path
from paqshot_server.jobs.context import WorkerContext
from paqshot_server.jobs.runner import process
from paqshot_server.settings import Settings
from paqshot_server.storage.files import FileStore

put, written = FileStore.put, []
def put_then_die(self, name, data):
    path = put(self, name, data)
    written.append(name)
    if len(written) == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return path
FileStore.put = put_then_die
settings = Settings(home=Path(sys.argv[1]), lease_seconds=int(sys.argv[3]), output_long_side=1024)
process(WorkerContext(settings, worker_id="wrk_killed"), sys.argv[2])
"""


def files_of(settings: Settings, job_id: str) -> set[str]:
    """Every file on disk whose name says it belongs to ``job_id`` (read from the folder, not from the row)."""
    return {p.name for p in (settings.home / "files").rglob("*") if p.is_file() and owner_of(p.name) == job_id}


def interrupted_then_retried(client: TestClient, key: Key, settings: Settings) -> tuple[str, set[str]]:
    """A job whose first attempt was killed while storing and whose retry completed; (its id, the names of the
    killed attempt's files that are still on disk)."""
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot"}
    job_id = client.post("/v1/generate", json=body, headers=key.headers).json()["id"]
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_WHILE_STORING, str(settings.home), job_id, str(settings.lease_seconds)],
        capture_output=True,
        text=True,
    )
    assert killed.returncode == -9, killed.stderr
    ctx = WorkerContext(settings)
    after_lease = time.time() + settings.lease_seconds + 1
    assert sweeper.recover_leases(ctx, JobQueue(str(settings.queue_db)), after_lease) == (1, 0)
    assert process(ctx, job_id) == "completed"
    job = jobs_sql.get(ctx.db.get(), job_id)
    assert job is not None and job.attempts == 2
    left = files_of(settings, job_id) - set(job.files())
    assert len(left) == 2, left  # the killed attempt's image and thumbnail: no row names them
    return job_id, left


@pytest.mark.slow
def test_delete_removes_the_files_of_a_killed_attempt(client: TestClient, key: Key, settings: Settings) -> None:
    job_id, _ = interrupted_then_retried(client, key, settings)
    other = client.post(
        "/v1/generate", json={"product_image": b64(product_jpeg()), "style": "studio_packshot"}, headers=key.headers
    ).json()["id"]
    assert process(WorkerContext(settings), other) == "completed"
    kept = files_of(settings, other)
    assert len(kept) >= 3  # photo, image, thumbnail
    assert client.delete(f"/v1/generate/{job_id}", headers=key.headers).status_code == 204
    assert files_of(settings, job_id) == set()
    assert files_of(settings, other) == kept  # another job's files stay


@pytest.mark.slow
def test_retention_removes_the_files_of_a_killed_attempt(client: TestClient, key: Key, settings: Settings) -> None:
    job_id, _ = interrupted_then_retried(client, key, settings)
    ctx = WorkerContext(settings)
    assert sweeper.purge_expired(ctx, time.time() + settings.retention_days * 86400 + 60) == 1
    assert files_of(settings, job_id) == set()
    assert list(Path(settings.home / "files").rglob(".tmp-*")) == []
