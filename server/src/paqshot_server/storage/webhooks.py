"""SQL of the webhook outbox (``webhook_events``) and its delivery log (``webhook_attempts``).

An event row is written in the same transaction as the job's end; its body is fixed then, so every
retry sends the same bytes with the same event id.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from ..ids import iso
from .db import write


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    job_id: str
    key_id: str
    url: str
    event: str
    body: bytes
    state: str
    attempts: int
    next_attempt_at: float


@dataclass(frozen=True)
class NewEvent:
    """An outbox row as the job's end writes it (``body`` is fixed then: every retry sends these bytes)."""

    id: str
    job_id: str
    key_id: str
    url: str
    event: str
    body: bytes
    next_attempt_at: float


def drop_pending(conn: sqlite3.Connection, job_id: str) -> None:
    """Stop the events of a deleted job that are not delivered yet (inside the caller's transaction)."""
    conn.execute("UPDATE webhook_events SET state = 'dropped' WHERE job_id = ? AND state = 'pending'", (job_id,))


def insert_event(conn: sqlite3.Connection, event: NewEvent) -> None:
    """Insert inside the caller's transaction (see ``jobs.finish``)."""
    conn.execute(
        "INSERT INTO webhook_events (id, job_id, key_id, url, event, body, state, attempts, next_attempt_at, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)",
        (
            event.id,
            event.job_id,
            event.key_id,
            event.url,
            event.event,
            event.body,
            event.next_attempt_at,
            iso(event.next_attempt_at),
        ),
    )


def claim_due(db: sqlite_utils.Database, now: float, lease_seconds: float, limit: int = 20) -> list[WebhookEvent]:
    """Lease due events to this dispatcher so two dispatchers never send the same attempt at once."""
    with write(db) as conn:
        rows = conn.execute(
            "SELECT id, job_id, key_id, url, event, body, state, attempts, next_attempt_at FROM webhook_events "
            "WHERE state = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?) "
            "ORDER BY next_attempt_at LIMIT ?",
            (now, now, limit),
        ).fetchall()
        conn.executemany(
            "UPDATE webhook_events SET lease_until = ? WHERE id = ?", [(now + lease_seconds, r[0]) for r in rows]
        )
    return [WebhookEvent(*r) for r in rows]


def record_attempt(
    db: sqlite_utils.Database,
    event: WebhookEvent,
    *,
    now: float,
    status_code: int | None,
    latency_ms: float,
    error: str | None,
    next_state: str,
    next_attempt_at: float | None,
) -> None:
    """Log one attempt and move the event on (``pending`` with a new time, ``delivered``, ``failed``, ``stopped``)."""
    attempt = event.attempts + 1
    with write(db) as conn:
        conn.execute(
            "INSERT INTO webhook_attempts (event_id, attempt, at, status_code, latency_ms, error) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (event.id, attempt, iso(now), status_code, latency_ms, error),
        )
        conn.execute(
            "UPDATE webhook_events SET attempts = ?, state = ?, next_attempt_at = COALESCE(?, next_attempt_at), "
            "lease_until = NULL, last_status = ?, last_error = ? WHERE id = ?",
            (attempt, next_state, next_attempt_at, status_code, error, event.id),
        )


def for_job(db: sqlite_utils.Database, job_id: str) -> list[dict[str, Any]]:
    """Events of a job with their attempts (for operators and tests)."""
    events = [dict(r) for r in db.query("SELECT * FROM webhook_events WHERE job_id = ? ORDER BY created_at", [job_id])]
    for event in events:
        event.pop("body", None)
        event["attempt_log"] = list(
            db.query("SELECT * FROM webhook_attempts WHERE event_id = ? ORDER BY attempt", [event["id"]])
        )
    return events


def redeliver(db: sqlite_utils.Database, event_id: str, now: float) -> bool:
    """Schedule an ended event again (operator action)."""
    with write(db) as conn:
        cur = conn.execute(
            "UPDATE webhook_events SET state = 'pending', next_attempt_at = ?, lease_until = NULL WHERE id = ?",
            (now, event_id),
        )
    return cur.rowcount > 0
