"""Aggregate queries for metrics (read-only; every process's work is visible because the DB is the truth)."""

from __future__ import annotations

import sqlite_utils

from .db import write


def job_states(db: sqlite_utils.Database) -> dict[str, int]:
    return dict(db.conn.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall())


def job_durations(
    db: sqlite_utils.Database, buckets: tuple[float, ...]
) -> list[tuple[str, str, list[int], float, int]]:
    """Per (style, engine): cumulative bucket counts, sum and count of completed jobs' run time in seconds."""
    rows = db.conn.execute(
        "SELECT style, COALESCE(engine, ''), "
        "(julianday(completed_at) - julianday(started_at)) * 86400.0 AS seconds "
        "FROM jobs WHERE state = 'completed' AND started_at IS NOT NULL"
    ).fetchall()
    groups: dict[tuple[str, str], list[float]] = {}
    for style, engine, seconds in rows:
        groups.setdefault((style, engine), []).append(max(0.0, float(seconds or 0.0)))
    out = []
    for (style, engine), values in sorted(groups.items()):
        counts = [sum(1 for v in values if v <= b) for b in buckets]
        out.append((style, engine, counts, sum(values), len(values)))
    return out


def webhook_attempts(db: sqlite_utils.Database) -> dict[str, int]:
    """Attempts by outcome class: 2xx, 4xx, 5xx, error."""
    rows = db.conn.execute(
        "SELECT CASE WHEN status_code IS NULL THEN 'error' ELSE (status_code / 100) || 'xx' END, count(*) "
        "FROM webhook_attempts GROUP BY 1"
    ).fetchall()
    return dict(rows)


def counter(db: sqlite_utils.Database, name: str) -> int:
    row = db.conn.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
    return int(row[0]) if row else 0


def increment(db: sqlite_utils.Database, name: str, by: int = 1) -> None:
    with write(db) as conn:
        conn.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + ?",
            (name, by, by),
        )
