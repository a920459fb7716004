"""SQL of the webhook outbox (``webhook_events``) and its delivery log (``webhook_attempts``).

An event row is written in the same transaction as the job's end; its body is fixed then, so every
retry sends the same bytes with the same event id.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import sqlite_utils

from ..ids import iso
from .db import write


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


@dataclass(frozen=True)
class WebhookEvent(NewEvent):
    """An outbox row as the dispatcher reads it: the event plus its delivery state."""

    state: str
    attempts: int
    schedule_from: float  # when its retry schedule started (the first attempt's due time, or a redelivery's)


def drop_pending(conn: sqlite3.Connection, job_id: str) -> None:
    """Stop the events of a deleted job that are not delivered yet (inside the caller's transaction)."""
    conn.execute("UPDATE webhook_events SET state = 'dropped' WHERE job_id = ? AND state = 'pending'", (job_id,))


def forget_jobs(conn: sqlite3.Connection, job_ids: list[str]) -> None:
    """Delete the events of ``job_ids`` and their delivery log (inside the caller's transaction, which deletes the
    jobs' records)."""
    marks = ",".join("?" * len(job_ids))
    conn.execute(
        f"DELETE FROM webhook_attempts WHERE event_id IN (SELECT id FROM webhook_events WHERE job_id IN ({marks}))",  # noqa: S608
        job_ids,
    )
    conn.execute(f"DELETE FROM webhook_events WHERE job_id IN ({marks})", job_ids)  # noqa: S608


def insert_event(conn: sqlite3.Connection, event: NewEvent) -> None:
    """Insert inside the caller's transaction (see ``jobs.finish``)."""
    conn.execute(
        "INSERT INTO webhook_events (id, job_id, key_id, url, event, body, state, attempts, next_attempt_at, "
        "created_at, schedule_from) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)",
        (
            event.id,
            event.job_id,
            event.key_id,
            event.url,
            event.event,
            event.body,
            event.next_attempt_at,
            iso(event.next_attempt_at),
            event.next_attempt_at,
        ),
    )


_EVENT_COLUMNS = ", ".join(f.name for f in fields(WebhookEvent))


def claim_due(
    db: sqlite_utils.Database,
    now: float,
    *,
    owner: str,
    lease_seconds: float,
    limit: int,
    busy_keys: Mapping[str, int] | None = None,
    per_key: int = 1_000_000,
) -> list[WebhookEvent]:
    """Lease up to ``limit`` due events to ``owner``, at most ``per_key`` in flight per API key.

    The caller starts every event it gets at once, and each attempt ends well inside the lease, so an event
    is never sent by two dispatchers at the same time. ``busy_keys`` counts what ``owner`` already has in
    flight per key.
    """
    counts = dict(busy_keys or {})
    picked: list[WebhookEvent] = []
    with write(db) as conn:
        # At most per_key candidates per key (a window function), so a key with a backlog of due events
        # cannot fill the candidate list and starve the keys behind it.
        rows = conn.execute(
            f"SELECT {_EVENT_COLUMNS} FROM (SELECT {_EVENT_COLUMNS}, "  # noqa: S608 - fixed column list
            "ROW_NUMBER() OVER (PARTITION BY key_id ORDER BY next_attempt_at) AS rank FROM webhook_events "
            "WHERE state = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)) "
            "WHERE rank <= ? ORDER BY next_attempt_at LIMIT ?",
            (now, now, min(per_key, limit), max(limit * 8, 64)),
        ).fetchall()
        for row in rows:
            event = WebhookEvent(*row)
            if len(picked) >= limit or counts.get(event.key_id, 0) >= per_key:
                continue
            counts[event.key_id] = counts.get(event.key_id, 0) + 1
            picked.append(event)
        conn.executemany(
            "UPDATE webhook_events SET lease_until = ?, lease_owner = ? WHERE id = ?",
            [(now + lease_seconds, owner, e.id) for e in picked],
        )
    return picked


# An attempt's error until its outcome is recorded: what stays in the log when the process making it dies first.
UNFINISHED = (
    "no outcome recorded yet: in flight, or the worker making it stopped during it (the receiver may have got it)"
)


def begin_attempt(db: sqlite_utils.Database, event_id: str, *, owner: str, now: float) -> int:
    """Log an attempt as it starts, before its POST, and return its number in the log.

    A worker killed during the POST leaves this row as it is (its error :data:`UNFINISHED`): the event's lease then
    expires and another attempt is made, so a receiver may get the event twice (the same ``webhook-id``), and the
    log shows both POSTs (breaker8 F6: the killed one left no row)."""
    with write(db) as conn:
        number = conn.execute(
            "SELECT COALESCE(MAX(attempt), 0) + 1 FROM webhook_attempts WHERE event_id = ?", (event_id,)
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO webhook_attempts (event_id, attempt, at, error, worker_id) VALUES (?, ?, ?, ?, ?)",
            (event_id, number, iso(now), UNFINISHED, owner),
        )
    return int(number)


def record_attempt(
    db: sqlite_utils.Database,
    event: WebhookEvent,
    number: int,
    *,
    owner: str,
    status_code: int | None,
    latency_ms: float,
    error: str | None,
    excerpt: str | None,
    next_state: str,
    next_attempt_at: float | None,
) -> None:
    """Write the outcome of attempt ``number`` (:func:`begin_attempt`) in the log (always) and move the event on
    while ``owner`` still holds its lease.

    ``next_state`` is ``pending`` (with a new time), ``delivered``, ``failed`` or ``stopped``. A delivery
    still counts when the lease was lost meanwhile.
    """
    with write(db) as conn:
        conn.execute(
            "UPDATE webhook_attempts SET status_code = ?, latency_ms = ?, error = ?, response_excerpt = ? "
            "WHERE event_id = ? AND attempt = ?",
            (status_code, latency_ms, error, excerpt, event.id, number),
        )
        cur = conn.execute(
            "UPDATE webhook_events SET attempts = attempts + 1, state = ?, "
            "next_attempt_at = COALESCE(?, next_attempt_at), lease_until = NULL, lease_owner = NULL, "
            "last_status = ?, last_error = ? WHERE id = ? AND state = 'pending' AND lease_owner = ?",
            (next_state, next_attempt_at, status_code, error, event.id, owner),
        )
        if cur.rowcount == 0 and next_state == "delivered":
            conn.execute(
                "UPDATE webhook_events SET state = 'delivered', last_status = ?, last_error = NULL "
                "WHERE id = ? AND state = 'pending'",
                (status_code, event.id),
            )


def release(db: sqlite_utils.Database, event_id: str, owner: str) -> None:
    """Give an event's lease back without an attempt (the dispatcher is stopping before it started)."""
    with write(db) as conn:
        conn.execute(
            "UPDATE webhook_events SET lease_until = NULL, lease_owner = NULL WHERE id = ? AND lease_owner = ?",
            (event_id, owner),
        )


_LOG_COLUMNS = (
    "e.id, e.job_id, e.key_id, e.url, e.event, e.state, e.attempts, e.next_attempt_at, e.created_at, "
    "e.last_status, e.last_error, (SELECT count(*) FROM webhook_attempts a WHERE a.event_id = e.id) AS total_attempts"
)


def list_events(
    db: sqlite_utils.Database,
    *,
    key_id: str | None = None,
    job_id: str | None = None,
    states: tuple[str, ...] = (),
    limit: int = 50,
) -> list[dict[str, Any]]:
    """The delivery log, newest first (no bodies): for ``webhooks list`` and the API."""
    where, params = ["1 = 1"], []
    if key_id is not None:
        where.append("e.key_id = ?")
        params.append(key_id)
    if job_id is not None:
        where.append("e.job_id = ?")
        params.append(job_id)
    if states:
        where.append(f"e.state IN ({','.join('?' * len(states))})")
        params += list(states)
    sql = f"SELECT {_LOG_COLUMNS} FROM webhook_events e WHERE {' AND '.join(where)} "  # noqa: S608
    return [dict(r) for r in db.query(sql + "ORDER BY e.created_at DESC, e.id DESC LIMIT ?", [*params, limit])]


def get_event(db: sqlite_utils.Database, event_id: str, key_id: str | None = None) -> dict[str, Any] | None:
    """One event with its attempts (``attempt_log``); with ``key_id`` only that key's event."""
    where, params = "e.id = ?", [event_id]
    if key_id is not None:
        where += " AND e.key_id = ?"
        params.append(key_id)
    rows = list(db.query(f"SELECT {_LOG_COLUMNS} FROM webhook_events e WHERE {where}", params))  # noqa: S608
    if not rows:
        return None
    event = dict(rows[0])
    event["attempt_log"] = list(
        db.query(
            "SELECT attempt, at, status_code, latency_ms, error, response_excerpt, worker_id FROM webhook_attempts "
            "WHERE event_id = ? ORDER BY attempt",
            [event_id],
        )
    )
    return event


def for_job(db: sqlite_utils.Database, job_id: str) -> list[dict[str, Any]]:
    """Events of a job with their attempts (for operators and tests)."""
    return [
        e for row in reversed(list_events(db, job_id=job_id, limit=1000)) if (e := get_event(db, row["id"])) is not None
    ]


def redeliver(db: sqlite_utils.Database, event_id: str, now: float, key_id: str | None = None) -> str:
    """Send an event again now with a fresh retry schedule (operator or key action); the log keeps its past.

    Returns ``scheduled``, ``in_flight`` (an attempt is being made right now: nothing changed, so two
    attempts never overlap), ``deleted`` (its generation was deleted: its URLs are gone) or ``not_found``.
    """
    with write(db) as conn:
        row = conn.execute(
            "SELECT e.lease_until, j.deleted_at FROM webhook_events e JOIN jobs j ON j.id = e.job_id "
            "WHERE e.id = ? AND (? IS NULL OR e.key_id = ?)",
            (event_id, key_id, key_id),
        ).fetchone()
        if row is None:
            return "not_found"
        if row[1] is not None:
            return "deleted"
        if row[0] is not None and row[0] >= now:
            return "in_flight"
        conn.execute(
            "UPDATE webhook_events SET state = 'pending', attempts = 0, next_attempt_at = ?, schedule_from = ?, "
            "lease_until = NULL, lease_owner = NULL WHERE id = ?",
            (now, now, event_id),
        )
    return "scheduled"
