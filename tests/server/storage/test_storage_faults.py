"""Storage faults: a full disk (a real, small tmpfs when root; else a patched writer), a database deleted or
replaced under the running API, a corrupt queue, a result that cannot be stored, file modes, sharding."""

from __future__ import annotations

import errno
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest
from litestar.testing import TestClient
from paqshot_server.app import create_app
from paqshot_server.cli.doctor import run_checks
from paqshot_server.ids import new_id
from paqshot_server.jobs.context import WorkerContext
from paqshot_server.jobs.runner import process
from paqshot_server.settings import Settings
from paqshot_server.storage import jobs as jobs_sql
from paqshot_server.storage.db import ThreadLocalDB
from paqshot_server.storage.files import FileStore, owner_of, shard_of
from storage_support import can_mount, fill, small_tmpfs
from support import Key, b64, make_key, product_jpeg


def body() -> dict:
    return {"product_image": b64(product_jpeg()), "style": "studio_packshot"}


def stored_files(settings: Settings) -> list[Path]:
    return [p for p in settings.files_dir.rglob("*") if p.is_file()] if settings.files_dir.exists() else []


def job_ids(settings: Settings) -> set[str]:
    with closing(sqlite3.connect(settings.app_db)) as conn:
        return {r[0] for r in conn.execute("SELECT id FROM jobs")}


@pytest.fixture
def full_disk(tmp_path: Path, settings: Settings) -> Iterator[tuple[Settings, Path | None]]:
    """Settings whose data folder is on a small tmpfs (root), with the ballast path to fill it; or the plain
    settings and None where mounting is not possible (tests then patch the writers)."""
    if not can_mount():
        yield settings, None
        return
    with small_tmpfs(tmp_path, 8192) as mount:
        yield replace(settings, home=mount / "home"), mount


def test_case_disk_full_generic_500(full_disk: tuple[Settings, Path | None], monkeypatch: pytest.MonkeyPatch) -> None:
    """Out of space: 503 unavailable with Retry-After and a message naming the cause, never a generic 500."""
    settings, mount = full_disk
    key = make_key(settings)
    with TestClient(create_app(settings)) as client:
        assert client.post("/v1/generate", json=body(), headers=key.headers).status_code == 202
        if mount is not None:
            fill(mount)
        else:  # a patched writer: the file store's writes fail as a full disk makes them fail
            real_fdopen = os.fdopen

            def full(*args: object, **kwargs: object) -> object:
                raise OSError(errno.ENOSPC, "No space left on device")

            monkeypatch.setattr("paqshot_server.storage.files.os.fdopen", full)
            assert real_fdopen
        response = client.post("/v1/generate", json=body(), headers=key.headers)
        assert response.status_code == 503, response.text
        assert response.json()["error"] == "unavailable" and "full" in response.json()["message"]
        assert int(response.headers["retry-after"]) > 0
    assert len(job_ids(settings)) == 1  # the refused request left no job


@pytest.fixture
def refused_files(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The file store's folder refuses writes: a tmpfs mounted on it and remounted read-only (root: CI), else the
    store's temporary files patched to fail with EACCES. Yields the words the refusal carries."""
    folder = settings.files_dir
    if can_mount():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1024k", "tmpfs", str(folder)], check=True)
        try:
            subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
            yield "read-only file system"
        finally:
            subprocess.run(["umount", "-l", str(folder)], check=False)
        return

    def refuse(*args: object, **kwargs: object) -> object:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr("paqshot_server.storage.files.tempfile.mkstemp", refuse)
    monkeypatch.setattr("paqshot_server.storage.files.tempfile.TemporaryFile", refuse)
    yield "permission denied"


def test_a_file_store_that_refuses_writes_is_503_in_words_and_readiness_and_doctor_say_so(
    settings: Settings, key: Key, refused_files: str
) -> None:
    """breaker16 B16-1: the data folder's files/ unwritable (permissions, a read-only mount): a submission is 503
    naming the file store and the cause, not a generic 500; nothing is kept; readiness and doctor fail it."""
    with TestClient(create_app(settings)) as client:
        response = client.post("/v1/generate", json=body(), headers=key.headers)
        ready = client.get("/readyz")
    assert response.status_code == 503, response.text
    error = response.json()
    assert error["error"] == "unavailable" and "file store" in error["message"] and refused_files in error["message"]
    assert int(response.headers["retry-after"]) > 0
    assert job_ids(settings) == set() and stored_files(settings) == []
    assert ready.status_code == 503 and ready.json()["checks"]["files"] == "not writable"
    checks = {c.name: c for c in run_checks(settings)}
    assert checks["files"].level == "fail" and refused_files in checks["files"].detail


def test_database_full_is_503_too(settings: Settings, key: Key, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*_args: object, **_kwargs: object) -> object:
        raise sqlite3.OperationalError("database or disk is full")

    with TestClient(create_app(settings)) as client:
        monkeypatch.setattr(jobs_sql, "create", full)
        response = client.post("/v1/generate", json=body(), headers=key.headers)
    assert response.status_code == 503 and response.json()["error"] == "unavailable", response.text
    assert response.headers["retry-after"]
    assert stored_files(settings) == []  # the stored input went with the refusal


def test_case_disk_full_orphan_inputs(full_disk: tuple[Settings, Path | None], monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests on an almost full disk: each is accepted or refused, and no stored file belongs to no job."""
    settings, mount = full_disk
    key = make_key(settings)
    with TestClient(create_app(settings)) as client:
        if mount is not None:
            fill(mount, leave_bytes=96 * 1024)
        else:
            calls = {"n": 0}
            real = jobs_sql.create

            def sometimes_full(*args: object, **kwargs: object) -> object:
                calls["n"] += 1
                if calls["n"] % 2:
                    raise sqlite3.OperationalError("database or disk is full")
                return real(*args, **kwargs)  # type: ignore[arg-type]

            monkeypatch.setattr(jobs_sql, "create", sometimes_full)
        codes = [client.post("/v1/generate", json=body(), headers=key.headers).status_code for _ in range(12)]
    assert set(codes) <= {202, 503} and 503 in codes, codes
    ids = job_ids(settings)
    orphans = [p.name for p in stored_files(settings) if owner_of(p.name) not in ids]
    assert not orphans, orphans


def test_any_failure_after_storing_the_input_deletes_it(
    settings: Settings, key: Key, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> object:
        raise RuntimeError("something unexpected")

    with TestClient(create_app(settings)) as client:
        monkeypatch.setattr(jobs_sql, "create", broken)
        assert client.post("/v1/generate", json=body(), headers=key.headers).status_code == 500
    assert stored_files(settings) == []


def test_orphan_sweep_removes_files_of_no_job_and_keeps_the_rest(settings: Settings, key: Key) -> None:
    from paqshot_server.jobs import sweeper

    with TestClient(create_app(settings)) as client:
        kept = client.post("/v1/generate", json=body(), headers=key.headers).json()["id"]
    files = FileStore(settings.files_dir)
    orphan = f"{new_id('gen')}_input.jpg"
    files.put(orphan, b"x")
    temp = files.path(orphan).parent / ".tmp-abandoned"
    temp.write_bytes(b"x")
    old = 1_000_000_000
    for path in stored_files(settings):
        os.utime(path, (old, old))
    assert sweeper.purge_orphans(WorkerContext(settings)) == 2
    left = [p.name for p in stored_files(settings)]
    assert orphan not in left and ".tmp-abandoned" not in left
    assert [owner_of(n) for n in left] == [kept]


def test_case_result_store_error_misreported(settings: Settings, key: Key, monkeypatch: pytest.MonkeyPatch) -> None:
    """The result cannot be written: the job fails at once with a storage message, no partial file stays, and
    the lease is released (not held until it expires and retried as a 'worker stopped')."""
    with TestClient(create_app(settings)) as client:
        job_id = client.post("/v1/generate", json=body(), headers=key.headers).json()["id"]
        real_put = FileStore.put
        written: list[str] = []

        def put(self: FileStore, name: str, data: bytes) -> Path:
            if "_thumb" in name:  # the image itself is written, its thumbnail fails: a partial store
                raise PermissionError(errno.EACCES, "Permission denied", str(self.path(name)))
            written.append(name)
            return real_put(self, name, data)

        monkeypatch.setattr(FileStore, "put", put)
        assert process(WorkerContext(settings), job_id) == "failed"
        job = client.get(f"/v1/generate/{job_id}", headers=key.headers).json()
    assert job["status"] == "failed" and job["error"]["message"].startswith("Storage error")
    assert "permission denied" in job["error"]["message"]
    assert written and not any(FileStore(settings.files_dir).exists(n) for n in written)
    with closing(sqlite3.connect(settings.app_db)) as conn:
        owner, attempts = conn.execute("SELECT lease_owner, attempts FROM jobs WHERE id = ?", (job_id,)).fetchone()
    assert owner is None and attempts == 1


def test_a_stored_photo_gone_or_damaged_on_disk_fails_its_job_saying_so(settings: Settings, key: Key) -> None:
    """breaker16 B16-12: a queued job whose stored photo was deleted, replaced by noise or cut short on disk (an
    operator's clean-up, a disk fault) ended "Generation failed unexpectedly": it fails naming the stored photo."""
    store = FileStore(settings.files_dir)
    with TestClient(create_app(settings)) as client:
        ids = [client.post("/v1/generate", json=body(), headers=key.headers).json()["id"] for _ in range(3)]
        gone, noise, short = (store.find(f"{job_id}_input.jpg") for job_id in ids)
        gone.unlink()
        noise.write_bytes(os.urandom(5000))
        short.write_bytes(short.read_bytes()[:100])
        ctx = WorkerContext(settings)
        outcomes = [process(ctx, job_id) for job_id in ids]
        errors = [client.get(f"/v1/generate/{job_id}", headers=key.headers).json()["error"] for job_id in ids]
    assert outcomes == ["failed"] * 3
    for error in errors:
        assert "unexpectedly" not in error["message"], error
    assert "stored" in errors[0]["message"] and "not found" in errors[0]["message"], errors[0]
    assert "stored" in errors[1]["message"] and "submit it again" in errors[1]["message"], errors[1]


@pytest.fixture
def refuse_reading(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], None]:
    """Makes the file system refuse to read stored files whose names end with a suffix (EACCES), as an unreadable
    file is to the appliance's user (root reads any file, so CI cannot chmod its way there)."""

    def refuse(suffix: str, step: str = "read_bytes") -> None:
        """``step``: "read_bytes" (the file refused) or "is_file" (its shard folder refused: the stat fails)."""
        real = getattr(Path, step)

        def refused(self: Path) -> object:
            if self.name.endswith(suffix):
                raise PermissionError(errno.EACCES, "Permission denied", str(self))
            return real(self)

        monkeypatch.setattr(Path, step, refused)

    return refuse


@pytest.mark.parametrize("step", ["read_bytes", "is_file"])
def test_a_stored_file_the_file_system_refuses_to_read_is_said_as_a_read(
    settings: Settings, key: Key, refuse_reading: Callable[[str, str], None], step: str
) -> None:
    """breaker17 B17-1: an unreadable result file's URL answered 503 "refused to WRITE this request's image ...
    nothing was kept", and a job whose stored photo was unreadable failed "missing or damaged ... submit it
    again": both were a refused read, the operator's to mend."""
    with TestClient(create_app(settings)) as client:
        done = client.post("/v1/generate", json=body(), headers=key.headers).json()["id"]
        assert process(WorkerContext(settings), done) == "completed"
        url = client.get(f"/v1/generate/{done}", headers=key.headers).json()["image_url"]
        queued = client.post("/v1/generate", json=body(), headers=key.headers).json()["id"]
        refuse_reading(".jpg", step)
        served = client.get(url.removeprefix(settings.base_url))
        outcome = process(WorkerContext(settings), queued)
        failed = client.get(f"/v1/generate/{queued}", headers=key.headers).json()
    assert served.status_code == 503, served.text
    words = served.json()["message"]
    assert "refused to read" in words and "permission denied" in words and "write this" not in words, words
    assert outcome == "failed" and "refused to read the photo stored" in failed["error"]["message"], failed
    assert "submit it again" not in failed["error"]["message"]


def test_disk_full_while_storing_a_result_says_so(
    settings: Settings, key: Key, monkeypatch: pytest.MonkeyPatch
) -> None:
    with TestClient(create_app(settings)) as client:
        job_id = client.post("/v1/generate", json=body(), headers=key.headers).json()["id"]
        monkeypatch.setattr(
            "paqshot_server.storage.files.os.fsync",
            lambda _fd: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")),
        )
        process(WorkerContext(settings), job_id)
        job = client.get(f"/v1/generate/{job_id}", headers=key.headers).json()
    assert job["status"] == "failed" and "disk is full" in job["error"]["message"]


def test_case_appdb_world_readable(tmp_path: Path) -> None:
    """app.db and its WAL/SHM files are created owner-only whatever the umask; the data folder too."""
    home = tmp_path / "home"
    env = {**os.environ, "PAQSHOT_HOME": str(home)}
    subprocess.run(
        ["sh", "-c", f"umask 022 && exec {sys.executable} -m paqshot_server init"],
        env=env,
        check=True,
        capture_output=True,
    )
    conn = sqlite3.connect(home / "app.db")  # keep it open so -wal and -shm exist
    conn.execute("INSERT INTO counters (name, value) VALUES ('x', 1)")
    conn.commit()
    try:
        for name in ("app.db", "app.db-wal", "app.db-shm"):
            mode = stat.S_IMODE((home / name).stat().st_mode)
            assert mode == 0o600, f"{name}: {oct(mode)}"
        assert stat.S_IMODE(home.stat().st_mode) == 0o700
    finally:
        conn.close()


def test_doctor_warns_about_a_readable_database(settings: Settings, key: Key) -> None:
    settings.app_db.chmod(0o644)
    checks = {c.name: c for c in run_checks(settings)}
    assert checks["permissions"].level == "warn" and "app.db" in checks["permissions"].detail


def test_case_appdb_deleted_while_running(settings: Settings, key: Key) -> None:
    """app.db deleted under the API: readiness fails with the reason, new work gets 503, doctor fails and
    creates nothing."""
    with TestClient(create_app(settings)) as client:
        assert client.post("/v1/generate", json=body(), headers=key.headers).status_code == 202
        for suffix in ("", "-wal", "-shm"):
            Path(f"{settings.app_db}{suffix}").unlink(missing_ok=True)
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "deleted" in ready.json()["checks"]["database"]
        refused = client.post("/v1/generate", json=body(), headers=key.headers)
        assert refused.status_code == 503 and refused.json()["error"] == "unavailable", refused.text
        assert "deleted" in refused.json()["message"] and refused.headers["retry-after"]
        # doctor in another process: it sees that this process holds a deleted database, and creates none
        out = subprocess.run(
            [sys.executable, "-m", "paqshot_server", "doctor", "--json", "--home", str(settings.home)],
            capture_output=True,
            text=True,
        )
        assert out.returncode == 1
        failed = {c["name"]: c["detail"] for c in __import__("json").loads(out.stdout) if c["level"] == "fail"}
        assert "database" in failed and "does not exist" in failed["database"]
        assert "database file" in failed and str(os.getpid()) in failed["database file"]
        assert not settings.app_db.exists()


def _lose_the_database(settings: Settings, key: Key) -> None:
    """A data folder in use (a job accepted: its photo stored, its queue entry kept) whose app.db is then lost."""
    with TestClient(create_app(settings)) as client:
        assert client.post("/v1/generate", json=body(), headers=key.headers).status_code == 202
    for suffix in ("", "-wal", "-shm"):
        Path(f"{settings.app_db}{suffix}").unlink(missing_ok=True)


def test_a_worker_started_after_the_database_was_lost_creates_no_empty_one(settings: Settings, key: Key) -> None:
    """breaker15 B15-1: a worker (re)started after app.db was deleted made a new, empty app.db; doctor then said OK
    and the next start served it (every key and job gone, nothing said)."""
    _lose_the_database(settings, key)
    worker = subprocess.Popen(
        [sys.executable, "-m", "paqshot_server", "worker", "--home", str(settings.home)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stderr is not None
        log = []
        for line in worker.stderr:  # the worker opens its queue, warms up and asks the database for work
            log.append(line)
            if "started (providers" in line:
                break
    finally:
        worker.send_signal(signal.SIGINT)
        worker.communicate(timeout=60)
    assert any("started (providers" in line for line in log), "".join(log)
    assert not settings.app_db.exists()


@pytest.mark.parametrize("command", ["serve", "init"])
def test_serve_and_init_refuse_a_data_folder_in_use_whose_database_was_lost(
    settings: Settings, key: Key, command: str
) -> None:
    _lose_the_database(settings, key)
    extra = ["--port", "0"] if command == "serve" else []
    out = subprocess.run(
        [sys.executable, "-m", "paqshot_server", command, "--home", str(settings.home), *extra],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1, out.stderr
    assert "app.db is missing, but this data folder is in use" in out.stderr and "backup" in out.stderr
    assert not settings.app_db.exists()


def test_appdb_replaced_while_running(settings: Settings, key: Key) -> None:
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").json()["checks"]["database"] == "ok"
        replacement = settings.app_db.with_name("other.db")
        sqlite3.connect(replacement).close()
        for suffix in ("-wal", "-shm"):
            Path(f"{settings.app_db}{suffix}").unlink(missing_ok=True)
        os.replace(replacement, settings.app_db)
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "replaced" in ready.json()["checks"]["database"]
        assert client.post("/v1/generate", json=body(), headers=key.headers).status_code == 503


def test_queue_file_deleted_or_replaced_while_running(settings: Settings, key: Key) -> None:
    """queue.db deleted under the API (breaker: readiness said ok and doctor made a new empty queue.db):
    readiness fails naming the queue, work is still accepted (the jobs table is the record), doctor fails,
    names this process and creates no queue file; a replaced queue file is reported the same way."""
    with TestClient(create_app(settings)) as client:
        assert client.post("/v1/generate", json=body(), headers=key.headers).status_code == 202
        assert client.get("/readyz").json()["checks"]["queue"] == "ok"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{settings.queue_db}{suffix}").unlink(missing_ok=True)
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "deleted or replaced" in ready.json()["checks"]["queue"]
        assert client.post("/v1/generate", json=body(), headers=key.headers).status_code == 202
        out = subprocess.run(
            [sys.executable, "-m", "paqshot_server", "doctor", "--json", "--home", str(settings.home)],
            capture_output=True,
            text=True,
        )
        assert out.returncode == 1
        checks = {c["name"]: c for c in __import__("json").loads(out.stdout)}
        assert checks["queue file"]["level"] == "fail" and str(os.getpid()) in checks["queue file"]["detail"]
        assert checks["queue"]["level"] == "warn" and "does not exist" in checks["queue"]["detail"]
        assert not settings.queue_db.exists()
    with TestClient(create_app(settings)) as client:  # a fresh start makes a new queue file and is ready again
        assert client.post("/v1/generate", json=body(), headers=key.headers).status_code == 202
        assert client.get("/readyz").json()["checks"]["queue"] == "ok"
        replacement = settings.queue_db.with_name("other.db")
        sqlite3.connect(replacement).close()
        os.replace(replacement, settings.queue_db)
        assert "deleted or replaced" in client.get("/readyz").json()["checks"]["queue"]


def test_the_queue_files_are_owner_only_whatever_the_umask(settings: Settings) -> None:
    from paqshot_server.jobs.queue import JobQueue

    old = os.umask(0o022)
    try:
        queue = JobQueue(str(settings.queue_db))
        queue.enqueue("gen_x")
        for suffix in ("", "-wal", "-shm"):
            mode = stat.S_IMODE(Path(f"{settings.queue_db}{suffix}").stat().st_mode)
            assert mode == 0o600, f"queue.db{suffix}: {oct(mode)}"
    finally:
        os.umask(old)


def test_a_damaged_database_file_is_503_in_words_and_readiness_says_so(settings: Settings, key: Key) -> None:
    """app.db pages overwritten (breaker: every request answered a generic 500 while /readyz said ok): requests
    that meet the damage get 503 `unavailable` naming it, and readiness reports it from then on."""
    with TestClient(create_app(settings)) as client:
        for _ in range(30):  # enough rows that the damage lands in the jobs table's pages
            assert client.post("/v1/generate", json=body(), headers=key.headers).status_code == 202
        assert client.get("/readyz").json()["checks"]["database"] == "ok"
        with open(settings.app_db, "r+b") as fh:  # damaged under the running appliance
            fh.seek(4096)
            fh.write(os.urandom(8 * 4096))
        answers = [client.get("/v1/generations", headers=key.headers) for _ in range(2)]
        answers.append(client.post("/v1/generate", json=body(), headers=key.headers))
        assert all(a.status_code in (401, 503) for a in answers), [a.text for a in answers]
        damaged = [a.json() for a in answers if a.status_code == 503]
        assert damaged and all(a["error"] == "unavailable" and "damaged" in a["message"] for a in damaged)
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "damaged" in ready.json()["checks"]["database"]


def corrupt(path: Path) -> None:
    with open(path, "r+b") as fh:
        fh.write(os.urandom(100))
        fh.seek(4096)
        fh.write(os.urandom(4 * 4096))


def test_case_queue_corrupt_ghost_jobs(settings: Settings, key: Key) -> None:
    """A queue that cannot be written: the POST fails with 503 and leaves no job that would run later;
    readiness reports the queue."""
    from paqshot_server.jobs.queue import JobQueue

    JobQueue(str(settings.queue_db)).pending()  # the queue file exists, then is damaged before the API opens it
    corrupt(settings.queue_db)
    with TestClient(create_app(settings)) as client:
        before = job_ids(settings)
        codes = [client.post("/v1/generate", json=body(), headers=key.headers) for _ in range(3)]
        assert [r.status_code for r in codes] == [503] * 3, [r.text for r in codes]
        assert all(r.json()["error"] == "unavailable" and "queue" in r.json()["message"] for r in codes)
        assert job_ids(settings) == before  # no ghost job
        assert {owner_of(p.name) for p in stored_files(settings)} <= before  # no ghost input either
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["queue"] != "ok"


def test_worker_with_a_corrupt_queue_backs_off_and_readiness_says_why(settings: Settings, key: Key) -> None:
    import time

    with TestClient(create_app(settings)) as client:
        client.post("/v1/generate", json=body(), headers=key.headers)
        corrupt(settings.queue_db)
        env = {**os.environ, "PAQSHOT_HOME": str(settings.home), "PAQSHOT_SWEEP_SECONDS": "0.5"}
        worker = subprocess.Popen(
            [sys.executable, "-m", "paqshot_server", "worker"], env=env, stderr=subprocess.PIPE, text=True
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                checks = client.get("/readyz").json()["checks"]
                if "none can run jobs" in checks["worker"]:
                    break
                assert time.monotonic() < deadline, checks
                time.sleep(0.2)
            time.sleep(4)
            assert worker.poll() is None  # alive and backing off, not exiting to be restarted every second
            why = next(c for c in run_checks(settings) if c.name == "worker")  # readiness says that; doctor why
            assert why.level == "fail" and "cannot open the queue" in why.detail, why
        finally:
            worker.terminate()
            _, err = worker.communicate(timeout=30)
    tries = err.count("cannot open the queue")
    assert 2 <= tries <= 5, err[-2000:]  # 1 s, 2 s, 5 s apart: a handful in ~5 s, not one per second forever


def test_a_worker_started_with_sigint_ignored_still_stops_on_sigint(settings: Settings, key: Key) -> None:
    """A shell's background job inherits SIGINT ignored (every case README starts `serve ... &`): the worker
    must still stop on serve's SIGINT while it waits for its queue (breaker: serve then waited 300 s)."""
    import signal
    import time

    settings.queue_db.write_bytes(os.urandom(8192))  # the worker loops on "cannot open the queue"
    env = {**os.environ, "PAQSHOT_HOME": str(settings.home)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "paqshot_server", "worker"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # what `cmd &` in a script does
    )
    try:
        assert worker.stderr is not None
        deadline = time.monotonic() + 60
        while "cannot open the queue" not in worker.stderr.readline():
            assert time.monotonic() < deadline and worker.poll() is None
        worker.send_signal(signal.SIGINT)
        assert worker.wait(timeout=20) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        if worker.stderr:
            worker.stderr.close()


def test_case_filestore_sharding_ineffective(tmp_path: Path) -> None:
    """Case filestore-sharding-ineffective: 400 jobs' files spread over many folders; a job's files together."""
    names = []
    for _ in range(400):
        job = new_id("gen")
        names += [f"{job}_input.jpg", f"{job}_a1_1.jpg", f"{job}_a1_1_thumb.jpg"]
    shards = {shard_of(n) for n in names}
    assert len(shards) > 200, len(shards)
    job = new_id("gen")
    assert len({shard_of(f"{job}{suffix}") for suffix in ("_input.png", "_a2_1.png", "_a2_3_thumb.webp")}) == 1
    store = FileStore(tmp_path / "files")
    for name in names[:180:3]:  # 60 jobs' inputs
        store.put(name, b"x")
    assert len([d for d in (tmp_path / "files").iterdir()]) > 30


def test_files_stored_in_the_old_layout_are_still_found(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    name = f"{new_id('gen')}_a1_1.jpg"
    legacy = tmp_path / name.split(".")[0][-2:] / name  # where df217cc put it
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"old")
    assert store.read(name) == b"old" and store.exists(name)
    store.delete(name)
    assert not legacy.exists()


def test_connections_of_ended_threads_are_closed(tmp_path: Path) -> None:
    """Resource lifetimes: anyio's worker threads come and go; their SQLite connections must go with them."""
    import gc

    pool = ThreadLocalDB(tmp_path / "app.db")
    pool.get()
    for _ in range(20):
        thread = threading.Thread(target=lambda: pool.get().conn.execute("SELECT 1"))
        thread.start()
        thread.join()
    gc.collect()
    assert pool.open_connections() == 1  # this thread's only
    pool.close()
    assert pool.open_connections() == 0
