"""SQLite connections with the pragmas this appliance relies on, and write transactions.

WAL lets the API read while a worker writes; ``busy_timeout`` makes writers wait instead of failing;
``synchronous=FULL`` because a 202 is a promise; writes use ``BEGIN IMMEDIATE`` so a transaction that
reads then writes cannot fail half-way with SQLITE_BUSY.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from . import migrations


def connect(path: Path) -> sqlite_utils.Database:
    """Open (and migrate) the app database. One connection per thread: do not share across threads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=10.0, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA foreign_keys=ON")
    db = sqlite_utils.Database(conn)
    migrations.apply(db)
    return db


def quick_check(db: sqlite_utils.Database) -> str:
    """SQLite's ``PRAGMA quick_check``: ``"ok"``, or the first problem it found."""
    return str(db.conn.execute("PRAGMA quick_check").fetchone()[0])


@contextmanager
def write(db: sqlite_utils.Database) -> Iterator[sqlite3.Connection]:
    """A ``BEGIN IMMEDIATE`` transaction: commit on success, roll back on any exception."""
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class ThreadLocalDB:
    """Hands each thread its own connection to one database file (sqlite3 objects are per-thread)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite_utils.Database] = []
        self._lock = threading.Lock()

    def get(self) -> sqlite_utils.Database:
        """This thread's connection, opened on first use."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = connect(self.path)
            self._local.db = db
            with self._lock:
                self._all.append(db)
        return db

    def close(self) -> None:
        """Close every connection handed out (at shutdown)."""
        with self._lock:
            for db in self._all:
                db.conn.close()
            self._all.clear()
        self._local = threading.local()
