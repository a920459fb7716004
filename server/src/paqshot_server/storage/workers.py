"""SQL of the ``workers`` table (heartbeats) and the readiness write probe."""

from __future__ import annotations

import json
import os

import sqlite_utils

from ..ids import iso
from .db import write


def record_heartbeat(
    db: sqlite_utils.Database, worker_id: str, now: float, providers: list[str], problem: str | None = None
) -> None:
    """The worker is alive; ``problem`` says what keeps it from running jobs (None: nothing)."""
    with write(db) as conn:
        conn.execute(
            "INSERT INTO workers (id, pid, started_at, heartbeat, providers, problem) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET heartbeat = excluded.heartbeat, providers = excluded.providers, "
            "problem = excluded.problem",
            (worker_id, os.getpid(), iso(now), now, json.dumps(providers), problem),
        )


def latest_heartbeat(db: sqlite_utils.Database) -> float | None:
    return db.conn.execute("SELECT max(heartbeat) FROM workers").fetchone()[0]


def live_providers(db: sqlite_utils.Database, since: float) -> list[str]:
    """Execution providers reported by workers whose heartbeat is newer than ``since``, sorted."""
    rows = db.conn.execute("SELECT providers FROM workers WHERE heartbeat >= ?", (since,)).fetchall()
    return sorted({p for (text,) in rows if text for p in json.loads(text)})


def live_problems(db: sqlite_utils.Database, since: float) -> tuple[int, list[str]]:
    """Workers that beat since ``since``: (how many, the problems those that cannot run jobs report)."""
    rows = db.conn.execute("SELECT problem FROM workers WHERE heartbeat >= ?", (since,)).fetchall()
    return len(rows), [r[0] for r in rows if r[0]]


PROBE_WAIT_SECONDS = 2.0  # a health check answers within a load balancer's 2-5 s timeout, even when the file is busy


def probe_write(db: sqlite_utils.Database, now: float) -> None:
    """A real write transaction, waiting at most ``PROBE_WAIT_SECONDS`` for another writer's lock.

    Raises:
        DatabaseBusy: another process holds the write lock (breaker14 B14-2: readiness answered after 20 s).
        Exception: the database is not writable (any other reason).
    """
    with write(db, wait_seconds=PROBE_WAIT_SECONDS) as conn:
        conn.execute("INSERT OR REPLACE INTO counters (name, value) VALUES ('ready_probe', ?)", (int(now),))
