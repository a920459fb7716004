"""The fair queue: which queued job runs next. Weighted round-robin across API keys, priority within a key.

The policy is start-time fair queueing (Goyal, Vin & Cheng, SIGCOMM 1996) with every job costing one unit: a key
``k`` has a virtual finish tag ``F_k`` (``fair_share``), the queue a virtual clock ``V`` (``fair_clock``). The
next job comes from the key with the smallest start tag ``S_k = max(F_k, V)`` (ties: the key whose oldest queued
job is oldest); then ``V = S_k`` and ``F_k = S_k + 1 / weight_k``. A key with weight 2 is served twice as often as
a key with weight 1 while both wait; a key that was idle starts at ``V`` (no credit saved up while idle); a lone
key is served back to back. Within a key: ``high`` before ``normal`` before ``low``, then submission order.

Claiming (:func:`claim_next`) chooses and takes the lease in ONE write transaction; the jobs table stays the
truth and a queue message is only a wake-up. :func:`order` replays the same choice on a snapshot (the ETA).
"""

from __future__ import annotations

import heapq
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

import msgspec
import sqlite_utils

from ..errors import Forbidden
from ..ids import iso
from .db import write

Priority = Literal["low", "normal", "high"]
PRIORITIES: tuple[Priority, ...] = ("high", "normal", "low")  # the order in which a key's jobs are served
DEFAULT_WEIGHT = 1.0
MIN_WEIGHT, MAX_WEIGHT = 0.01, 100.0


@dataclass(frozen=True)
class Waiting:
    """A key with queued jobs, as the policy sees it."""

    key_id: str
    weight: float
    finish: float  # the key's virtual finish tag (0 for a key never served)
    oldest_seq: int  # its oldest queued job (the tie-break)


def start_tag(key: Waiting, clock: float) -> float:
    return max(key.finish, clock)


def pick(keys: Sequence[Waiting], clock: float) -> Waiting:
    """The key served next (``keys`` not empty)."""
    return min(keys, key=lambda k: (start_tag(k, clock), k.oldest_seq))


T = TypeVar("T")


def order(queues: Mapping[str, Sequence[T]], keys: Sequence[Waiting], clock: float) -> Iterator[T]:
    """The items of ``queues`` (per key, each already in priority-then-submission order) in the order successive
    claims would take them, if nothing new arrived. O(n log keys)."""
    for _, item in tagged_order(queues, keys, clock):
        yield item


Place = tuple[float, int, str, float]  # (start tag, oldest_seq, key_id, weight): an item's place in the order


def first_place(key: Waiting, clock: float) -> Place:
    """The place of ``key``'s first queued item."""
    return start_tag(key, clock), key.oldest_seq, key.key_id, key.weight


def next_place(place: Place) -> Place:
    """The place of the item after the one at ``place`` in the same key's queue."""
    start, oldest, key_id, weight = place
    return start + 1 / weight, oldest, key_id, weight


def tagged_order(queues: Mapping[str, Sequence[T]], keys: Sequence[Waiting], clock: float) -> Iterator[tuple[Place, T]]:
    """:func:`order`, each item with its place: places increase along the order (compared as tuples); one more item
    of the same key would come at :func:`next_place`."""
    heap = [first_place(k, clock) for k in keys if queues.get(k.key_id)]
    heapq.heapify(heap)
    taken = dict.fromkeys(queues, 0)
    while heap:
        # A popped key's start tag is the new clock; every key left in the heap has a tag >= it, so tags
        # computed when a key was pushed stay exact (only keys arriving later could start at the clock).
        place = heapq.heappop(heap)
        key_id = place[2]
        queue = queues[key_id]
        yield place, queue[taken[key_id]]
        taken[key_id] += 1
        if taken[key_id] < len(queue):
            heapq.heappush(heap, next_place(place))


_WAITING = (
    "SELECT j.key_id, coalesce(k.weight, 1.0), coalesce(f.finish, 0.0), min(j.seq) FROM jobs j "
    "LEFT JOIN api_keys k ON k.id = j.key_id LEFT JOIN fair_share f ON f.key_id = j.key_id "
    "WHERE j.state = 'queued' GROUP BY j.key_id"
)


def waiting(conn: sqlite3.Connection) -> tuple[list[Waiting], float]:
    """Every key with queued jobs, and the virtual clock (a snapshot; in a transaction when claiming)."""
    keys = [Waiting(r[0], float(r[1]), float(r[2]), int(r[3])) for r in conn.execute(_WAITING)]
    row = conn.execute("SELECT vtime FROM fair_clock WHERE id = 1").fetchone()
    return keys, float(row[0]) if row else 0.0


def claim_next(db: sqlite_utils.Database, owner: str, now: float, lease_seconds: float) -> str | None:
    """Choose the next queued job by the fair policy and take its lease, in one write transaction.

    Returns the job's id, or None when nothing is queued. The lease is what it always was: ``lease_owner``,
    ``lease_until = now + lease_seconds``, ``attempts + 1``; ``claimed_at`` records when this attempt began.
    """
    with write(db) as conn:
        keys, clock = waiting(conn)
        if not keys:
            return None
        chosen = pick(keys, clock)
        job_id = None
        for priority in PRIORITIES:
            row = conn.execute(
                "SELECT id FROM jobs WHERE state = 'queued' AND key_id = ? AND priority = ? ORDER BY seq LIMIT 1",
                (chosen.key_id, priority),
            ).fetchone()
            if row is not None:
                job_id = row[0]
                break
        if job_id is None:  # unreachable: the key was chosen because it has a queued job
            return None
        conn.execute(
            "UPDATE jobs SET state = 'running', lease_owner = ?, lease_until = ?, attempts = attempts + 1, "
            "claimed_at = ?, started_at = COALESCE(started_at, ?), updated_at = ? WHERE id = ? AND state = 'queued'",
            (owner, now + lease_seconds, now, iso(now), iso(now), job_id),
        )
        start = start_tag(chosen, clock)
        conn.execute(
            "INSERT INTO fair_share (key_id, finish) VALUES (?, ?) "
            "ON CONFLICT (key_id) DO UPDATE SET finish = excluded.finish",
            (chosen.key_id, start + 1 / chosen.weight),
        )
        conn.execute("UPDATE fair_clock SET vtime = ? WHERE id = 1", (start,))
    return str(job_id)


class Pending(msgspec.Struct, frozen=True):
    """A queued or running job as the ETA sees it (``cutout_engine``: the request's, None for auto; ``pixels``: the
    photo's, None when not known)."""

    id: str
    key_id: str
    style: str
    cutout_engine: str | None
    priority: str
    seq: int
    claimed_at: float | None = None  # running jobs: when this attempt began
    pixels: int | None = None

    def rank(self) -> tuple[int, int]:
        """Its place among its key's jobs: priority, then submission order."""
        return _RANK.get(self.priority, 1), self.seq


_RANK: dict[str, int] = {p: i for i, p in enumerate(PRIORITIES)}
_PENDING = (
    "id, key_id, style, json_extract(options, '$.cutout_engine'), priority, coalesce(seq, 0), claimed_at, input_pixels"
)


def queued_in_order(conn: sqlite3.Connection) -> dict[str, list[Pending]]:
    """Every queued job, per key, in the order the key's jobs are served."""
    queues: dict[str, list[Pending]] = {}
    for row in conn.execute(f"SELECT {_PENDING} FROM jobs WHERE state = 'queued'"):  # noqa: S608
        pending = Pending(*row)
        queues.setdefault(pending.key_id, []).append(pending)
    for queue in queues.values():
        queue.sort(key=Pending.rank)
    return queues


def running(conn: sqlite3.Connection) -> list[Pending]:
    """Every running job."""
    return [Pending(*r) for r in conn.execute(f"SELECT {_PENDING} FROM jobs WHERE state = 'running'")]  # noqa: S608


def key_state(conn: sqlite3.Connection, key_id: str, oldest_seq: int) -> Waiting:
    """``key_id`` as the policy would see it with a job of ``oldest_seq`` waiting."""
    row = conn.execute(
        "SELECT coalesce(k.weight, 1.0), coalesce(f.finish, 0.0) FROM api_keys k "
        "LEFT JOIN fair_share f ON f.key_id = k.id WHERE k.id = ?",
        (key_id,),
    ).fetchone()
    weight, finish = (float(row[0]), float(row[1])) if row else (DEFAULT_WEIGHT, 0.0)
    return Waiting(key_id, weight, finish, oldest_seq)


def count_waiting(conn: sqlite3.Connection, key_id: str, priority: Priority) -> int:
    """How many of ``key_id``'s jobs wait with ``priority``."""
    row = conn.execute(
        "SELECT count(*) FROM jobs WHERE state = 'queued' AND key_id = ? AND priority = ?", (key_id, priority)
    ).fetchone()
    return int(row[0])


def set_priority(db: sqlite_utils.Database, job_id: str, priority: Priority, high_limit: int) -> bool:
    """Change a queued job's priority (``high`` only while its key has fewer than ``high_limit`` waiting).

    Returns False when the job is not queued (it started or ended). Raises Forbidden at the cap.
    """
    with write(db) as conn:
        row = conn.execute("SELECT key_id, priority FROM jobs WHERE id = ? AND state = 'queued'", (job_id,)).fetchone()
        if row is None:
            return False
        if priority == "high" and row[1] != "high":
            check_high_limit(conn, row[0], high_limit)
        conn.execute(
            "UPDATE jobs SET priority = ? WHERE id = ? AND state = 'queued'",
            (priority, job_id),
        )
    return True


def check_high_limit(conn: sqlite3.Connection, key_id: str, high_limit: int) -> None:
    """Raise Forbidden when ``key_id`` already has ``high_limit`` high-priority jobs waiting."""
    waiting_high = count_waiting(conn, key_id, "high")
    if waiting_high >= high_limit:
        raise Forbidden(
            f"This API key already has {waiting_high} high-priority generations waiting (the limit is "
            f"{high_limit}): send priority normal, or wait until one of them starts."
        )
