"""Recently polled jobs and their encoded answers, kept until the database changes: a poll between two changes
skips the query, the row decode, the view and its JSON encoding.

A client polls a job many times while nothing about it changes. Each thread keeps the jobs it served, with the
database's state when it read them: SQLite's ``data_version`` of the thread's connection (it changes when any
other connection commits: a worker's claim, progress or end, another thread's submission or cancel) and this
process's own commit count (``storage.db.commits``: a commit on the same connection does not change
``data_version``). Any change empties the cache, so a hit is always what the query would return now; between
changes (a busy appliance commits a few times a second) thousands of polls are served from memory.

Each entry also keeps the last answer sent for it, with what the view took from the clock (``present.live``:
the live ETA, the photo link's expiry); the same row and the same clock-taken values give the same bytes.
"""

from __future__ import annotations

import threading

import msgspec

from ..storage import jobs as jobs_sql
from ..storage.db import commits, data_version
from ..storage.jobs import Job
from ..storage.keys import hash_key
from .encoded import EncodedJson
from .present import generation, live
from .state import ApiState

MAX_ENTRIES = 4096  # jobs per thread between two changes (then it starts afresh)


class _Entry:
    """One polled job (as the caller's key may see it) and the last answer made from it."""

    __slots__ = ("answer", "job", "now")

    def __init__(self, job: Job) -> None:
        self.job = job
        self.now: tuple[float | None, int] | None = None
        self.answer: EncodedJson | None = None


class _Cache(threading.local):
    def __init__(self) -> None:
        self.stamp: tuple[int, int] | None = None
        self.entries: dict[tuple[str, str], _Entry] = {}


_cache = _Cache()


def poll(api: ApiState, job_id: str, token: str) -> EncodedJson | None:
    """The answer to a poll of ``job_id`` with API key ``token`` (the ``Generation`` view, encoded), or None when
    no active key has this token or the job is not that key's (what :func:`storage.jobs.get_with_key_hash` says,
    from memory while the database is unchanged)."""
    db = api.db.get()
    stamp = (data_version(db.conn), commits())
    entries = _cache.entries
    if stamp != _cache.stamp or len(entries) >= MAX_ENTRIES:
        entries.clear()
        _cache.stamp = stamp
    entry = entries.get((job_id, token))
    if entry is None:
        job = jobs_sql.get_with_key_hash(db, job_id, hash_key(token))
        if job is None:
            return None
        entry = entries[(job_id, token)] = _Entry(job)
    now = live(entry.job, api)
    if entry.answer is None or now != entry.now:
        entry.answer = EncodedJson(msgspec.json.encode(generation(entry.job, api, now)))
        entry.now = now
    return entry.answer
