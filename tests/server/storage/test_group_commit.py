"""Submissions waiting to write at the same moment share one transaction and one commit (group commit), and
each keeps its own outcome: a refused member does not fail the others; a full database refuses each in words."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlite_utils
from paqshot_server.errors import IdempotencyConflict, StorageFull
from paqshot_server.settings import Settings
from paqshot_server.storage import db as db_module
from paqshot_server.storage import jobs as jobs_sql
from paqshot_server.storage.db import connect, write
from paqshot_server.storage.jobs import NewJob
from support import Key, queued_job

N = 8


def waiting_writers(path: Path) -> int:
    """Grouped writes of this process waiting for the file's write lock (0 where there is no group commit)."""
    group = getattr(db_module, "_PATH_WRITE_GROUPS", {}).get(str(path.resolve()))
    return len(group.pending) if group is not None else 0


def commit_counter(db: sqlite_utils.Database, seen: list[str]) -> None:
    """Count the COMMITs this connection sends (sqlite3's statement trace)."""
    db.conn.set_trace_callback(lambda sql: seen.append(sql) if sql.strip().upper() == "COMMIT" else None)


def together(settings: Settings, calls: list[Callable[[sqlite_utils.Database], object]], commits: list[str]) -> list:
    """Run each call in its own thread, with its own connection, all waiting at once for a write held open here;
    returns each call's result or exception, in order."""
    outcomes: list[object] = [None] * len(calls)
    holder = connect(settings.app_db)
    connections = [connect(settings.app_db) for _ in calls]
    for conn in connections:
        commit_counter(conn, commits)

    def run(i: int) -> None:
        try:
            outcomes[i] = calls[i](connections[i])
        except Exception as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    with write(holder):
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while waiting_writers(settings.app_db) < len(calls) and time.monotonic() < deadline:
            time.sleep(0.01)  # every caller is queued behind this open transaction before it ends
    for t in threads:
        t.join()
    for conn in [holder, *connections]:
        conn.conn.close()
    return outcomes


def job_ids(settings: Settings) -> set[str]:
    db = connect(settings.app_db)
    try:
        return {row[0] for row in db.conn.execute("SELECT id FROM jobs")}
    finally:
        db.conn.close()


def test_submissions_waiting_at_once_are_committed_in_one_transaction(settings: Settings, key: Key) -> None:
    # Before: one transaction and one WAL fsync (synchronous=FULL) per submission, queued on the write lock.
    jobs = [queued_job(key.id) for _ in range(N)]
    commits: list[str] = []
    outcomes = together(
        settings, [lambda db, j=j: jobs_sql.create(db, j, quota=None, idempotency=None) for j in jobs], commits
    )
    assert [(job.id, created) for job, created in outcomes] == [(j.id, True) for j in jobs]
    assert len(commits) == 1
    assert job_ids(settings) == {j.id for j in jobs}
    db = connect(settings.app_db)
    seqs = [db.conn.execute("SELECT seq FROM jobs WHERE id = ?", (j.id,)).fetchone()[0] for j in jobs]
    db.conn.close()
    assert seqs == sorted(seqs) and len(set(seqs)) == N  # numbered in the order they arrived, none shared


def test_a_refused_member_does_not_fail_the_others_of_its_group(settings: Settings, key: Key) -> None:
    db = connect(settings.app_db)
    first = queued_job(key.id)
    jobs_sql.create(db, first, quota=None, idempotency=("reused", "hash-a", time.time()))
    db.conn.close()
    jobs = [queued_job(key.id) for _ in range(N)]
    conflict, replay = 3, 5  # the same Idempotency-Key with another body; with the same body

    def idempotency(i: int) -> tuple[str, str, float] | None:
        if i == conflict:
            return ("reused", "hash-b", time.time())
        if i == replay:
            return ("reused", "hash-a", time.time())
        return (f"own-{i}", "hash", time.time())

    def insert_quota_blocked(db: sqlite_utils.Database) -> object:
        return jobs_sql.create(db, jobs[6], quota=1, idempotency=None)  # the key already has a job: over quota

    calls: list[Callable[[sqlite_utils.Database], object]] = [
        lambda db, i=i: jobs_sql.create(db, jobs[i], quota=None, idempotency=idempotency(i)) for i in range(N)
    ]
    calls[6] = insert_quota_blocked
    commits: list[str] = []
    outcomes = together(settings, calls, commits)
    assert isinstance(outcomes[conflict], IdempotencyConflict)
    assert outcomes[replay][0].id == first.id and outcomes[replay][1] is False
    assert "Quota exceeded" in str(outcomes[6])
    accepted = {i for i in range(N) if i not in (conflict, replay, 6)}
    for i in accepted:
        assert outcomes[i][0].id == jobs[i].id and outcomes[i][1] is True
    assert job_ids(settings) == {first.id} | {jobs[i].id for i in accepted}
    assert len(commits) == 1
    db = connect(settings.app_db)  # the refused member left no idempotency record either
    keys = {row[0] for row in db.conn.execute("SELECT idem_key FROM idempotency")}
    db.conn.close()
    assert keys == {"reused"} | {f"own-{i}" for i in accepted}


def test_a_full_database_refuses_each_member_in_words_and_keeps_none(settings: Settings, key: Key) -> None:
    jobs = [queued_job(key.id) for _ in range(N)]
    big = {"note": "x" * 20_000}  # a row that needs pages the file may not grow to

    def full_create(db: sqlite_utils.Database, job: NewJob) -> object:
        pages = db.conn.execute("PRAGMA page_count").fetchone()[0]
        db.conn.execute(f"PRAGMA max_page_count={pages + 1}")
        return jobs_sql.create(db, job, quota=None, idempotency=None)

    for job in jobs:
        job.options.update(big)
    commits: list[str] = []
    outcomes = together(settings, [lambda db, j=j: full_create(db, j) for j in jobs], commits)
    assert all(isinstance(o, StorageFull) for o in outcomes), outcomes
    assert len({id(o) for o in outcomes}) == N  # each caller raises its own error object
    assert "full" in str(outcomes[0]) and "nothing was kept" in str(outcomes[0])
    assert job_ids(settings) == set()


def test_a_grouped_write_on_a_connection_without_a_group_still_commits(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None, check_same_thread=False)
    db = sqlite_utils.Database(conn)
    conn.execute("CREATE TABLE t (x)")
    assert db_module.write_grouped(db, lambda c: c.execute("INSERT INTO t VALUES (1)").rowcount) == 1
    assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]


@pytest.mark.parametrize("when", ["first", "last"])
def test_the_leader_and_its_followers_each_get_their_own_answer(settings: Settings, key: Key, when: str) -> None:
    jobs = [queued_job(key.id) for _ in range(3)]
    bad = 0 if when == "first" else 2

    def call(i: int) -> Callable[[sqlite_utils.Database], object]:
        if i == bad:
            return lambda db: db_module.write_grouped(db, lambda conn: conn.execute("INSERT INTO nowhere VALUES (1)"))
        return lambda db: jobs_sql.create(db, jobs[i], quota=None, idempotency=None)

    outcomes = together(settings, [call(i) for i in range(3)], [])
    assert isinstance(outcomes[bad], sqlite3.OperationalError) and "nowhere" in str(outcomes[bad])
    assert job_ids(settings) == {jobs[i].id for i in range(3) if i != bad}


def test_a_leader_returns_after_its_own_group_and_a_later_arrival_leads_the_next(settings: Settings, key: Key) -> None:
    # Before: the leader went on committing the groups that arrived while it committed, so its own request waited
    # for as long as others kept coming (here: for ever, until the second group's work is let go).
    first_in, second_go = threading.Event(), threading.Event()
    first_db, second_db = connect(settings.app_db), connect(settings.app_db)

    def first_work(conn: sqlite3.Connection) -> str:
        first_in.set()
        deadline = time.monotonic() + 10
        while waiting_writers(settings.app_db) < 1 and time.monotonic() < deadline:
            time.sleep(0.01)  # the second writer is queued while this group is being committed
        return "first"

    def second_work(conn: sqlite3.Connection) -> str:
        second_go.wait(10)
        return "second"

    results: dict[str, object] = {}
    first = threading.Thread(target=lambda: results.setdefault("first", db_module.write_grouped(first_db, first_work)))
    second = threading.Thread(
        target=lambda: results.setdefault("second", db_module.write_grouped(second_db, second_work))
    )
    first.start()
    assert first_in.wait(10)
    second.start()
    first.join(5)
    try:
        assert not first.is_alive() and results.get("first") == "first"  # answered while the next group is open
        assert "second" not in results
    finally:
        second_go.set()
        first.join(10)
        second.join(10)
        for db in (first_db, second_db):
            db.conn.close()
    assert results == {"first": "first", "second": "second"}
