"""What a process opens it closes: a queue and an app shut down, and a database handle dropped, hold no descriptor
of their files. The test suite builds hundreds of apps and in-process workers in one process; CI of ffe17ca held
~1,100 descriptors by 80 % of it and a select() in the wake-up failed."""

from __future__ import annotations

import os
from pathlib import Path

from litestar.testing import TestClient
from paqshot_server.app import create_app
from paqshot_server.jobs.queue import JobQueue
from paqshot_server.settings import Settings
from support import b64, make_key, product_jpeg


def open_descriptors_under(folder: Path) -> list[str]:
    """What this process holds open inside ``folder`` (Linux ``/proc/self/fd``)."""
    held = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # the listing's own descriptor, closed by now
            continue
        if target.startswith(str(folder)):
            held.append(target)
    return held


def test_an_app_shut_down_holds_nothing_of_its_queue_open(tmp_path: Path) -> None:
    """CI of ffe17ca: every app built by a test kept queue.db (twice), its -wal and -shm open: ~1,000 descriptors
    by 80 % of the suite, past select()'s limit."""
    settings = Settings(home=tmp_path / "home")
    with TestClient(create_app(settings)) as client:
        key = make_key(settings)
        body = {"product_image": b64(product_jpeg()), "style": "studio_packshot"}
        assert client.post("/v1/generate", json=body, headers=key.headers).status_code == 202
        assert any(path.endswith("queue.db") for path in open_descriptors_under(tmp_path))  # the test means something
    assert open_descriptors_under(tmp_path) == []


def test_a_closed_queue_opens_again_on_use(tmp_path: Path) -> None:
    queue = JobQueue(str(tmp_path / "queue.db"))
    queue.enqueue("gen_a")
    queue.close()
    assert open_descriptors_under(tmp_path) == []
    queue.enqueue("gen_b")
    assert queue.pending() == 2
    queue.close()


def test_a_database_handle_dropped_closes_its_connections_and_pin(tmp_path: Path) -> None:
    """Each ``ThreadLocalDB`` used from the main thread stayed open for the life of the process: its finalizers held
    it (CI of ffe17ca: ~8 descriptors per in-process worker in a test)."""
    from paqshot_server.storage.db import ThreadLocalDB

    handle = ThreadLocalDB(tmp_path / "app.db")
    db = handle.get()
    db.execute("create table t (x)")
    del handle
    db.execute("insert into t values (1)")  # a connection handed out stays usable while its caller holds it
    assert open_descriptors_under(tmp_path)
    del db
    assert open_descriptors_under(tmp_path) == []
