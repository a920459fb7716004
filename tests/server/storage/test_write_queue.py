"""Threads of one process wait for each other's write transactions on a lock, not in SQLite's busy handler."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from paqshot_server.storage.db import connect, write


def test_a_thread_waits_for_another_threads_write_without_sqlites_busy_handler(tmp_path: Path) -> None:
    # door, session 3: left to SQLite, a waiting writer polls with sleeps growing to 100 ms; at 16 concurrent
    # submissions the slowest inserts waited 130-190 ms with nothing running. Here the second connection has no
    # busy handler at all: it may only succeed by waiting for the first's commit outside SQLite.
    path = tmp_path / "app.db"
    first_db, second_db = connect(path), connect(path)
    second_db.conn.execute("PRAGMA busy_timeout=0")
    begun, errors = threading.Event(), []

    def first() -> None:
        with write(first_db) as conn:
            conn.execute("CREATE TABLE t (x)")
            begun.set()
            time.sleep(0.2)  # the second thread tries meanwhile
            conn.execute("INSERT INTO t VALUES (1)")

    def second() -> None:
        begun.wait()
        try:
            with write(second_db) as conn:
                conn.execute("INSERT INTO t VALUES (2)")
        except sqlite3.OperationalError as exc:  # "database is locked"
            errors.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert [x for (x,) in first_db.conn.execute("SELECT x FROM t ORDER BY rowid")] == [1, 2]
