"""SQL of the ``jobs`` table: the source of truth for every generation (Huey only carries ids).

Internal states: ``queued`` → ``running`` → ``completed`` | ``failed``. A worker owns a running job
through a lease (``lease_owner``, ``lease_until``); every write that publishes a result is conditional
on still holding the lease, so a job that ran twice publishes once.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

import msgspec
import sqlite_utils

from ..errors import Forbidden, IdempotencyConflict
from ..ids import iso
from . import webhooks
from .db import write


@dataclass(frozen=True)
class Job:
    """One row of ``jobs``."""

    id: str
    key_id: str
    state: str
    style: str
    aspect_ratio: str
    options: dict[str, Any]
    webhook_url: str | None
    seed: int | None
    input_file: str
    created_at: str
    updated_at: str
    started_at: str | None
    completed_at: str | None
    expires_at: str | None
    attempts: int
    lease_owner: str | None
    lease_until: float | None
    progress: float
    estimated_seconds: int
    result: dict[str, Any] | None
    error_code: str | None
    error_message: str | None
    engine: str | None
    cancel_requested: bool
    purged: bool

    @property
    def status(self) -> str:
        """The spec's three statuses."""
        return "processing" if self.state in ("queued", "running") else self.state


def _job(cols: list[str], row: tuple) -> Job:
    data = dict(zip(cols, row, strict=True))
    data["options"] = msgspec.json.decode(data["options"])
    data["result"] = msgspec.json.decode(data["result"]) if data["result"] else None
    data["cancel_requested"] = bool(data["cancel_requested"])
    data["purged"] = bool(data["purged"])
    return Job(**data)


def _select(conn: sqlite3.Connection, where: str, params: tuple) -> list[Job]:
    cur = conn.execute(f"SELECT * FROM jobs WHERE {where}", params)  # noqa: S608 - fixed fragments only
    cols = [c[0] for c in cur.description]
    return [_job(cols, row) for row in cur.fetchall()]


def get(db: sqlite_utils.Database, job_id: str, key_id: str | None = None) -> Job | None:
    """A job by id, or None; with ``key_id`` only that key's job (another key's job is not found)."""
    if key_id is None:
        rows = _select(db.conn, "id = ?", (job_id,))
    else:
        rows = _select(db.conn, "id = ? AND key_id = ?", (job_id, key_id))
    return rows[0] if rows else None


def get_with_key_hash(db: sqlite_utils.Database, job_id: str, key_hash: str) -> Job | None:
    """The job if it belongs to the active key with this hash: auth and lookup in one indexed query (polling)."""
    rows = _select(
        db.conn,
        "id = ? AND key_id = (SELECT id FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL)",
        (job_id, key_hash),
    )
    return rows[0] if rows else None


_STATUS_STATES = {"processing": ("queued", "running"), "completed": ("completed",), "failed": ("failed",)}


def list_for_key(
    db: sqlite_utils.Database, key_id: str, *, status: str | None, limit: int, offset: int
) -> tuple[list[Job], int]:
    """Newest first; returns (page, total matching)."""
    where, params = "key_id = ?", [key_id]
    if status:
        states = _STATUS_STATES[status]
        where += f" AND state IN ({','.join('?' * len(states))})"
        params += list(states)
    total = db.conn.execute(f"SELECT count(*) FROM jobs WHERE {where}", params).fetchone()[0]  # noqa: S608
    page = _select(db.conn, where + " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?", (*params, limit, offset))
    return page, total


def create(
    db: sqlite_utils.Database,
    row: dict[str, Any],
    *,
    quota: int | None,
    idempotency: tuple[str, str, float] | None,
) -> tuple[Job, bool]:
    """Insert a queued job in one transaction with its quota check and idempotency record.

    ``idempotency`` is (Idempotency-Key, body hash, now). Returns (job, created); a repeated key with the
    same body returns the original job and False; with another body raises IdempotencyConflict.
    """
    with write(db) as conn:
        if idempotency is not None:
            idem_key, body_hash, _now = idempotency
            prior = conn.execute(
                "SELECT body_hash, job_id FROM idempotency WHERE key_id = ? AND idem_key = ?",
                (row["key_id"], idem_key),
            ).fetchone()
            if prior is not None:
                if prior[0] != body_hash:
                    raise IdempotencyConflict("This Idempotency-Key was already used with a different request body.")
                original = _select(conn, "id = ?", (prior[1],))
                if original:
                    return original[0], False
        if quota is not None:
            used = conn.execute("SELECT count(*) FROM jobs WHERE key_id = ?", (row["key_id"],)).fetchone()[0]
            if used >= quota:
                raise Forbidden(f"Quota exceeded: this API key may create {quota} generations.")
        stored = dict(row, options=json.dumps(row["options"], sort_keys=True))
        cols = ", ".join(stored)
        conn.execute(
            f"INSERT INTO jobs ({cols}) VALUES ({', '.join('?' * len(stored))})",  # noqa: S608
            tuple(stored.values()),
        )
        if idempotency is not None:
            conn.execute(
                "INSERT OR REPLACE INTO idempotency (key_id, idem_key, body_hash, job_id, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (row["key_id"], idempotency[0], idempotency[1], row["id"], idempotency[2]),
            )
        job = _select(conn, "id = ?", (row["id"],))[0]
    return job, True


def idempotent_prior(db: sqlite_utils.Database, key_id: str, idem_key: str, body_hash: str) -> Job | None:
    """The job an earlier request with this Idempotency-Key created; conflict if the body differs."""
    row = db.conn.execute(
        "SELECT body_hash, job_id FROM idempotency WHERE key_id = ? AND idem_key = ?", (key_id, idem_key)
    ).fetchone()
    if row is None:
        return None
    if row[0] != body_hash:
        raise IdempotencyConflict("This Idempotency-Key was already used with a different request body.")
    return get(db, row[1])


def claim(db: sqlite_utils.Database, job_id: str, owner: str, now: float, lease_seconds: float) -> Job | None:
    """Take the lease on a queued job (or one whose lease expired); None if someone else has it or it ended."""
    with write(db) as conn:
        cur = conn.execute(
            "UPDATE jobs SET state = 'running', lease_owner = ?, lease_until = ?, attempts = attempts + 1, "
            "started_at = COALESCE(started_at, ?), updated_at = ? "
            "WHERE id = ? AND (state = 'queued' OR (state = 'running' AND lease_until < ?))",
            (owner, now + lease_seconds, iso(now), iso(now), job_id, now),
        )
        if cur.rowcount == 0:
            return None
        return _select(conn, "id = ?", (job_id,))[0]


def heartbeat(
    db: sqlite_utils.Database, job_id: str, owner: str, lease_until: float, progress: float | None
) -> tuple[bool, bool]:
    """Extend the lease (and record progress). Returns (still ours, cancel requested)."""
    with write(db) as conn:
        if progress is None:
            cur = conn.execute(
                "UPDATE jobs SET lease_until = ? WHERE id = ? AND lease_owner = ? AND state = 'running'",
                (lease_until, job_id, owner),
            )
        else:
            cur = conn.execute(
                "UPDATE jobs SET lease_until = ?, progress = max(progress, ?) "
                "WHERE id = ? AND lease_owner = ? AND state = 'running'",
                (lease_until, progress, job_id, owner),
            )
        cancel = conn.execute("SELECT cancel_requested FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return cur.rowcount > 0, bool(cancel and cancel[0])


def finish(
    db: sqlite_utils.Database,
    job_id: str,
    owner: str | None,
    *,
    now: float,
    state: str,
    fields: dict[str, Any],
    event: dict[str, Any] | None,
) -> bool:
    """Publish the end of a job and its webhook event in ONE transaction.

    With ``owner`` the update only applies while that worker holds the lease; with None it applies to any
    job not yet ended (sweeper, cancel). Returns False when nothing changed (someone else published).
    """
    assert state in ("completed", "failed")
    sets = dict(fields, state=state, updated_at=iso(now), lease_owner=None, lease_until=None)
    if "result" in sets and sets["result"] is not None:
        sets["result"] = json.dumps(sets["result"], sort_keys=True)
    assignments = ", ".join(f"{k} = ?" for k in sets)
    where = "id = ? AND state IN ('queued', 'running')"
    params: tuple = (*sets.values(), job_id)
    if owner is not None:
        where += " AND lease_owner = ?"
        params = (*params, owner)
    with write(db) as conn:
        cur = conn.execute(f"UPDATE jobs SET {assignments} WHERE {where}", params)  # noqa: S608
        if cur.rowcount == 0:
            return False
        if event is not None:
            webhooks.insert_event(conn, event)
    return True


def expired_leases(db: sqlite_utils.Database, now: float) -> list[Job]:
    """Running jobs whose worker stopped renewing its lease."""
    return _select(db.conn, "state = 'running' AND lease_until < ?", (now,))


def requeue(db: sqlite_utils.Database, job_id: str, now: float) -> bool:
    """Put a job whose lease expired back to ``queued``."""
    with write(db) as conn:
        cur = conn.execute(
            "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_until = NULL, updated_at = ? "
            "WHERE id = ? AND state = 'running' AND lease_until < ?",
            (iso(now), job_id, now),
        )
    return cur.rowcount > 0


def queued_ids(db: sqlite_utils.Database, older_than: float) -> list[str]:
    """Queued jobs not touched since ``older_than`` (their queue message may be lost)."""
    return [
        r[0]
        for r in db.conn.execute(
            "SELECT id FROM jobs WHERE state = 'queued' AND updated_at < ? ORDER BY created_at",
            (iso(older_than),),
        ).fetchall()
    ]


def touch(db: sqlite_utils.Database, job_ids: list[str], now: float) -> None:
    """Mark queued jobs as just re-enqueued."""
    with write(db) as conn:
        conn.executemany(
            "UPDATE jobs SET updated_at = ? WHERE id = ? AND state = 'queued'", [(iso(now), i) for i in job_ids]
        )


def request_cancel(db: sqlite_utils.Database, job_id: str) -> None:
    with write(db) as conn:
        conn.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND state IN ('queued', 'running')", (job_id,))


def expired_unpurged(db: sqlite_utils.Database, now: float) -> list[Job]:
    """Ended jobs whose retention has passed and whose files still exist."""
    return _select(db.conn, "purged = 0 AND expires_at IS NOT NULL AND expires_at < ?", (iso(now),))


def mark_purged(db: sqlite_utils.Database, job_id: str) -> None:
    with write(db) as conn:
        conn.execute("UPDATE jobs SET purged = 1 WHERE id = ?", (job_id,))


def counts_by_state(db: sqlite_utils.Database) -> dict[str, int]:
    return dict(db.conn.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall())
