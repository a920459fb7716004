"""B14-2: another process holds app.db's write lock past the busy timeout (an operator's sqlite3 session, a backup,
a VACUUM). The kind: SQLITE_BUSY reported as the appliance's own bug (500 server_error, CLI "internal error" exit
70, doctor "check permissions"). Should: 503 ``unavailable`` with Retry-After naming the busy database and nothing
kept; the CLI one line and exit 75 (EX_TEMPFAIL); doctor names the lock and who holds it."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing

import pytest
from litestar.testing import TestClient
from paqshot_server import cli
from paqshot_server.app import create_app
from paqshot_server.cli.doctor import run_checks
from paqshot_server.settings import Settings
from support import Key, b64, product_jpeg


@pytest.fixture
def short_busy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The appliance waits 0.2 s for another process's lock instead of 10 s (connections opened from now on)."""
    monkeypatch.setattr("paqshot_server.storage.db.BUSY_SECONDS", 0.2)


@pytest.fixture
def held(settings: Settings, key: Key) -> Iterator[sqlite3.Connection]:
    """app.db's write lock held by a connection of its own, as `sqlite3 app.db` + `BEGIN IMMEDIATE` holds it."""
    with closing(sqlite3.connect(settings.app_db, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")
        yield other
        other.execute("ROLLBACK")


def job_count(settings: Settings) -> int:
    with closing(sqlite3.connect(settings.app_db)) as conn:
        return int(conn.execute("SELECT count(*) FROM jobs").fetchone()[0])


def stored_files(settings: Settings) -> list[str]:
    return [p.name for p in settings.files_dir.rglob("*") if p.is_file()] if settings.files_dir.exists() else []


def test_a_busy_database_is_503_with_retry_after_and_nothing_kept(
    settings: Settings, key: Key, short_busy: None
) -> None:
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot"}
    with TestClient(create_app(settings)) as client:
        with closing(sqlite3.connect(settings.app_db, isolation_level=None)) as other:
            other.execute("BEGIN IMMEDIATE")
            refused = client.post("/v1/generate", json=body, headers=key.headers)
            other.execute("ROLLBACK")
        assert refused.status_code == 503, refused.text
        answer = refused.json()
        assert answer["error"] == "unavailable" and "busy" in answer["message"], answer
        assert "nothing of this request was kept" in answer["message"]
        assert int(refused.headers["retry-after"]) > 0
        assert job_count(settings) == 0 and stored_files(settings) == []  # nothing half-kept
        assert client.post("/v1/generate", json=body, headers=key.headers).status_code == 202  # lock gone: works


def test_the_cli_says_the_database_is_busy_and_exits_75(
    settings: Settings, held: sqlite3.Connection, short_busy: None, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(["keys", "create", "--name", "second", "--home", str(settings.home)])
    err = capsys.readouterr().err
    assert status == 75, err  # EX_TEMPFAIL: try again; 70 would say it is the appliance's bug
    assert "internal error" not in err and len(err.strip().splitlines()) == 1, err
    assert "busy" in err and str(settings.app_db) in err, err


def test_doctor_names_the_lock_and_its_holder_not_permissions(
    settings: Settings, held: sqlite3.Connection, short_busy: None
) -> None:
    database = {c.name: c for c in run_checks(settings)}["database"]
    assert database.level == "fail"
    assert "busy" in database.detail and "write lock" in database.detail, database
    assert f"pid {os.getpid()}" in database.detail, database  # the holder, from the kernel's lock table
    assert "permissions" not in database.fix, database


def test_readiness_says_the_database_is_busy(settings: Settings, key: Key) -> None:
    """/readyz waits a health check's time for the lock (``storage.workers.PROBE_WAIT_SECONDS``), not the
    requests' 10 s (breaker14: 503 only after 20 s, "not writable"), and names the cause."""
    with TestClient(create_app(settings)) as client:
        with closing(sqlite3.connect(settings.app_db, isolation_level=None)) as other:
            other.execute("BEGIN IMMEDIATE")
            ready = client.get("/readyz")
            other.execute("ROLLBACK")
        assert ready.status_code == 503 and "busy" in ready.json()["checks"]["database"], ready.text
        assert client.get("/readyz").json()["checks"]["database"] == "ok"
