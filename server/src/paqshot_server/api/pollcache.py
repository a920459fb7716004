"""Recently polled jobs, kept until the database changes: the poll's hot path skips the query and the row decode.

A client polls a job many times while nothing about it changes. Each thread keeps the jobs it served, with the
database's state when it read them: SQLite's ``data_version`` of the thread's connection (it changes when any
other connection commits: a worker's claim, progress or end, another thread's submission or cancel) and this
process's own commit count (``storage.db.commits``: a commit on the same connection does not change
``data_version``). Any change empties the cache, so a hit is always what the query would return now; between
changes (a busy appliance commits a few times a second) thousands of polls are served from memory.
"""

from __future__ import annotations

import threading

import sqlite_utils

from ..storage import jobs as jobs_sql
from ..storage.db import commits, data_version
from ..storage.jobs import Job

MAX_ENTRIES = 4096  # jobs per thread between two changes (then it starts afresh)


class _Cache(threading.local):
    def __init__(self) -> None:
        self.stamp: tuple[int, int] | None = None
        self.jobs: dict[tuple[str, str], Job] = {}


_cache = _Cache()


def job_for_key_hash(db: sqlite_utils.Database, job_id: str, key_hash: str) -> Job | None:
    """:func:`storage.jobs.get_with_key_hash`, from memory while the database is unchanged."""
    stamp = (data_version(db.conn), commits())
    if stamp != _cache.stamp or len(_cache.jobs) >= MAX_ENTRIES:
        _cache.jobs.clear()
        _cache.stamp = stamp
    found = _cache.jobs.get((job_id, key_hash))
    if found is None:
        found = jobs_sql.get_with_key_hash(db, job_id, key_hash)
        if found is not None:
            _cache.jobs[(job_id, key_hash)] = found
    return found
