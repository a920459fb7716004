"""SQL of the ``jobs`` table: the source of truth for every generation (Huey only carries ids).

Internal states: ``queued`` → ``running`` → ``completed`` | ``failed``. A worker owns a running job
through a lease (``lease_owner``, ``lease_until``); every write that publishes a result is conditional
on still holding the lease, so a job that ran twice publishes once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection
from typing import Any, Literal

import msgspec
import sqlite_utils

from ..errors import Forbidden, IdempotencyConflict, InvalidRequest, NotFound
from ..ids import iso
from ..imaging.options import AspectRatio, Style
from ..words import counted as in_words  # `counted` is create()'s listener
from . import fair, webhooks
from .db import write, write_grouped
from .fair import Priority

JobState = Literal["queued", "running", "completed", "failed"]
Status = Literal["processing", "completed", "failed"]  # the spec's three statuses
EndState = Literal["completed", "failed"]


class StoredImage(msgspec.Struct, frozen=True):
    """One result image in the file store (``file`` and ``thumb`` are file-store names)."""

    file: str
    thumb: str
    width: int
    height: int


class StoredReason(msgspec.Struct, frozen=True):
    """A review reason as stored (codes and messages come from ``imaging/review.py``)."""

    code: str
    message: str


class JobResult(msgspec.Struct, frozen=True, kw_only=True):
    """The ``result`` column (JSON): what a completed job produced."""

    images: list[StoredImage]
    confidence: float | None = None
    needs_review: bool = False
    review_reasons: list[StoredReason] = msgspec.field(default_factory=list)
    notes: list[str] = msgspec.field(default_factory=list)
    meta: dict[str, Any] = msgspec.field(default_factory=dict)
    compliance: list[dict[str, Any]] | None = None  # reports of the preset and compliance_check (imaging.compliance)
    matte: str | None = None  # the cut-out's alpha matte on the stored photo's grid (8-bit grey PNG file name)


class NewJob(msgspec.Struct, frozen=True, kw_only=True):
    """The columns a submission writes; every other column starts at its schema default.

    To store a new request field: add it here (and a migration for its column), or leave it in ``options``;
    :class:`Job` inherits it.
    """

    id: str
    key_id: str
    style: Style
    aspect_ratio: AspectRatio
    options: dict[str, Any]  # the request's option fields as validated by the wire type (JSON column)
    webhook_url: str | None
    seed: int | None
    input_file: str
    created_at: str
    estimated_seconds: int
    hint_file: str | None = None  # the canonical mask hint (imaging.hint), stored beside the input
    filename: str | None = None  # the client's file name, for search
    rerun_of: str | None = None  # the job this one re-ran
    input_notes: list[str] = msgspec.field(default_factory=list)  # from decoding the photo at the door
    priority: Priority = "normal"  # order within the key's own jobs (storage.fair)
    background_file: str | None = None  # the request's own background_image, stored beside the photo
    input_pixels: int | None = None  # the photo's width × height from its header (None: not read; jobs.eta)


class Job(NewJob, frozen=True, kw_only=True):
    """One row of ``jobs``: what submission wrote (:class:`NewJob`) plus what the job's life adds."""

    state: JobState
    updated_at: str
    started_at: str | None
    completed_at: str | None
    expires_at: str | None
    attempts: int
    lease_owner: str | None
    lease_until: float | None
    progress: float
    result: JobResult | None
    error_code: str | None
    error_message: str | None
    engine: str | None
    cancel_requested: bool
    purged: bool
    deleted_at: str | None = None  # a deleted job stays as a tombstone until its record is forgotten
    seq: int | None = None  # insertion order (the list's order and its cursors); set by create()
    claimed_at: float | None = None  # epoch seconds the current attempt was claimed (the ETA of a running job)

    @property
    def status(self) -> Status:
        """The spec's three statuses."""
        return "processing" if self.state in ("queued", "running") else self.state  # type: ignore[return-value]

    def files(self) -> list[str]:
        """Every file-store name this job owns (input, mask hint, background image, images, thumbnails)."""
        names = [self.input_file, *([self.hint_file] if self.hint_file else [])]
        names += [self.background_file] if self.background_file else []
        for image in self.result.images if self.result else []:
            names += [image.file, image.thumb]
        if self.result and self.result.matte:
            names.append(self.result.matte)
        return names


class JobEnd(msgspec.Struct, frozen=True, kw_only=True):
    """How a job ended: the columns :func:`finish` writes (a failure carries no result and keeps its progress)."""

    state: EndState
    completed_at: str
    expires_at: str
    result: JobResult | None = None
    engine: str | None = None
    error_code: str | None = None
    error_message: str | None = None


_JOB_COLUMNS = Job.__struct_fields__
_SELECT = f"SELECT {', '.join(_JOB_COLUMNS)} FROM jobs"  # noqa: S608 - column names from the Struct


def _job(row: tuple) -> Job:
    data = dict(zip(_JOB_COLUMNS, row, strict=True))
    data["options"] = msgspec.json.decode(data["options"])
    data["result"] = msgspec.json.decode(data["result"], type=JobResult) if data["result"] else None
    data["input_notes"] = msgspec.json.decode(data["input_notes"]) if data["input_notes"] else []
    return msgspec.convert(data, Job, strict=False)  # strict=False: SQLite's 0/1 become bool


def _select(conn: sqlite3.Connection, where: str, params: tuple) -> list[Job]:
    return [_job(row) for row in conn.execute(f"{_SELECT} WHERE {where}", params).fetchall()]


def get(db: sqlite_utils.Database, job_id: str, key_id: str | None = None) -> Job | None:
    """A job by id, or None; with ``key_id`` only that key's job (another key's job is not found)."""
    if key_id is None:
        rows = _select(db.conn, "id = ?", (job_id,))
    else:
        rows = _select(db.conn, "id = ? AND key_id = ? AND deleted_at IS NULL", (job_id, key_id))
    return rows[0] if rows else None


def get_with_key_hash(db: sqlite_utils.Database, job_id: str, key_hash: str) -> Job | None:
    """The job if it belongs to the active key with this hash: auth and lookup in one indexed query (polling)."""
    rows = _select(
        db.conn,
        "id = ? AND deleted_at IS NULL "
        "AND key_id = (SELECT id FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL)",
        (job_id, key_hash),
    )
    return rows[0] if rows else None


_STATUS_STATES = {"processing": ("queued", "running"), "completed": ("completed",), "failed": ("failed",)}


class Page(msgspec.Struct, frozen=True):
    """One page of a key's list: the jobs (newest first), how many match in all, whether more lie beyond."""

    jobs: list[Job]
    total: int
    has_more: bool


def list_for_key(
    db: sqlite_utils.Database,
    key_id: str,
    *,
    status: str | None,
    limit: int,
    offset: int = 0,
    filename: str | None = None,
    needs_review: bool | None = None,
    starting_after: str | None = None,
    ending_before: str | None = None,
) -> Page:
    """Newest first (insertion order); ``filename`` keeps those whose file name contains it (any case),
    ``needs_review`` completed jobs whose result does (or does not) need review.

    Cursors (job ids) bound the list: ``starting_after`` keeps the jobs inserted before that job (the next page
    down), ``ending_before`` those inserted after it (the page up); with both, the jobs between them. The page
    is the ``limit`` jobs nearest the cursor (after skipping ``offset`` of them), newest first: the page down
    from ``starting_after`` (or from the top), or the page up to ``ending_before`` when only that is given. A
    cursor page does not move when new jobs arrive. ``has_more``: more jobs lie beyond the page that way.
    Raises NotFound for a cursor that is not one of this key's jobs (a deleted one still counts); InvalidRequest
    for both cursors with nothing between them by construction (the same job, or ``ending_before`` the newer).
    """
    where, params = "key_id = ? AND deleted_at IS NULL", list[str | int]([key_id])
    if needs_review is not None:
        # completed only: a job the cut-out refused keeps a result without images (its confidence)
        where += " AND state = 'completed' AND json_extract(result, '$.needs_review') = ?"
        params.append(int(needs_review))
    if filename:
        escaped = filename.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where += " AND filename LIKE ? ESCAPE '\\'"
        params.append(f"%{escaped}%")
    if status:
        states = _STATUS_STATES[status]
        where += f" AND state IN ({','.join('?' * len(states))})"
        params += list(states)
    total = db.conn.execute(f"SELECT count(*) FROM jobs WHERE {where}", params).fetchone()[0]  # noqa: S608
    seqs: dict[str, int] = {}
    for name, cursor, bound in (("starting_after", starting_after, "<"), ("ending_before", ending_before, ">")):
        if cursor is not None:
            found = db.conn.execute("SELECT seq FROM jobs WHERE id = ? AND key_id = ?", (cursor, key_id)).fetchone()
            if found is None:
                raise NotFound(f"{name} names {cursor}, which is not one of your generations.")
            where += f" AND seq {bound} ?"
            params.append(found[0])
            seqs[name] = found[0]
    if len(seqs) == 2 and seqs["ending_before"] >= seqs["starting_after"]:
        # No generation can lie between: an empty page would read as "you have none" (total still counts them).
        which = (
            "name the same generation"
            if starting_after == ending_before
            else "are the wrong way round (ending_before names a newer generation than starting_after)"
        )
        raise InvalidRequest(
            f"starting_after and ending_before {which}, so no generation lies between them. Pass one of them to "
            "page down or up, or both with starting_after the newer generation and ending_before the older "
            "(the list runs newest first)."
        )
    upward = ending_before is not None and starting_after is None
    order = "ASC" if upward else "DESC"
    rows = _select(db.conn, f"{where} ORDER BY seq {order} LIMIT ? OFFSET ?", (*params, limit + 1, offset))
    jobs = rows[:limit]
    return Page(jobs[::-1] if upward else jobs, total, len(rows) > limit)


def _idempotent_prior(
    conn: sqlite3.Connection, key_id: str, idem_key: str, body_hash: str, legacy_hashes: Collection[str] = ()
) -> Job | None:
    row = conn.execute(
        "SELECT body_hash, job_id FROM idempotency WHERE key_id = ? AND idem_key = ?", (key_id, idem_key)
    ).fetchone()
    if row is None:
        return None
    if row[0] != body_hash and row[0] not in legacy_hashes:
        raise IdempotencyConflict(
            "This Idempotency-Key was already used with a different request body: send the same body to get the "
            "first answer again, or a new key for a new request."
        )
    found = _select(conn, "id = ?", (row[1],))
    return found[0] if found else None


def idempotent_prior(
    db: sqlite_utils.Database, key_id: str, idem_key: str, body_hash: str, legacy_hashes: Collection[str] = ()
) -> Job | None:
    """The job an earlier request with this Idempotency-Key created; IdempotencyConflict if the body differs.

    ``body_hash``: sha256 (hex) of the request as :func:`jobs.service` hashes it now; ``legacy_hashes``: of the
    forms earlier versions hashed (the bytes as sent before 846ee5e, the sorted-keys form before whole numbers
    were written alike), what rows written before an upgrade hold, so that a client's retry across it (within
    ``idempotency_hours``) is still a replay (breaker13 B13-14: every such retry was refused)."""
    return _idempotent_prior(db.conn, key_id, idem_key, body_hash, legacy_hashes)


def create(
    db: sqlite_utils.Database,
    job: NewJob,
    *,
    quota: int | None,
    idempotency: tuple[str, str, float] | None,
    high_limit: int | None = None,
    counting: Callable[[str, int, int], None] | None = None,
    counted: Callable[[str, int, int], None] | None = None,
) -> tuple[Job, bool]:
    """Insert a queued job in one transaction with its quota check and idempotency record (a transaction shared
    with the submissions of this process waiting at the same moment, each in its own savepoint: ``write_grouped``).

    ``idempotency`` is (Idempotency-Key, body hash, now). Returns (job, created); a repeated key with the
    same body returns the original job and False; with another body raises IdempotencyConflict. A ``high``
    priority job is refused (Forbidden) while its key has ``high_limit`` high-priority jobs waiting.
    ``counting``: called inside the write transaction, once the job is inserted, with (job id, :func:`queue_changes`
    just before its insert, just after): the changes that are this job's own (the ETA tells them from other
    writers'), known before the commit makes them visible to other connections; it runs on whichever thread commits
    the group and must not write. ``counted``: called with the same once the job is committed.
    """

    def insert(conn: sqlite3.Connection) -> tuple[Job, bool, int, int]:
        if idempotency is not None:
            prior = _idempotent_prior(conn, job.key_id, idempotency[0], idempotency[1])
            if prior is not None:
                return prior, False, 0, 0
        before = queue_changes(conn)
        if quota is not None:
            used = conn.execute("SELECT jobs_created FROM api_keys WHERE id = ?", (job.key_id,)).fetchone()[0]
            if used >= quota:
                raise Forbidden(f"Quota exceeded: this API key may create {in_words(quota, 'generation')}.")
        if job.priority == "high" and high_limit is not None:
            fair.check_high_limit(conn, job.key_id, high_limit)
        values = msgspec.structs.asdict(job)
        values["options"] = msgspec.json.encode(job.options, order="sorted").decode()
        values["input_notes"] = msgspec.json.encode(job.input_notes).decode()
        columns = (*values, "state", "updated_at")
        # seq inside this write transaction: jobs are numbered in the order they become visible.
        conn.execute(
            f"INSERT INTO jobs ({', '.join(columns)}, seq) VALUES ({', '.join('?' * len(columns))}, "  # noqa: S608
            "(SELECT coalesce(max(seq), 0) + 1 FROM jobs))",
            (*values.values(), "queued", job.created_at),
        )
        # The quota counts every generation the key created, however long ago: a record may be gone (forget_ended).
        conn.execute("UPDATE api_keys SET jobs_created = jobs_created + 1 WHERE id = ?", (job.key_id,))
        if idempotency is not None:
            conn.execute(
                "INSERT OR REPLACE INTO idempotency (key_id, idem_key, body_hash, job_id, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (job.key_id, idempotency[0], idempotency[1], job.id, idempotency[2]),
            )
        inserted, after = _select(conn, "id = ?", (job.id,))[0], queue_changes(conn)
        if counting is not None:
            counting(job.id, before, after)
        return inserted, True, before, after

    # with the submissions waiting at the same moment: one commit, one fsync
    created_job, created, before, after = write_grouped(db, insert)
    if created and counted is not None:
        counted(job.id, before, after)
    return created_job, created


def queue_changes(conn: sqlite3.Connection) -> int:
    """How many changes to what the ETA's plan reads (jobs, the fair policy's tags and weights, the workers' rows
    but their heartbeats) any connection has committed (triggers of migration ``m010_queue_changes``)."""
    return int(conn.execute("SELECT n FROM queue_changes WHERE id = 1").fetchone()[0])


def claim_next(db: sqlite_utils.Database, owner: str, now: float, lease_seconds: float) -> Job | None:
    """Take the lease on the next queued job by the fair policy (``storage.fair``); None when none is queued."""
    job_id = fair.claim_next(db, owner, now, lease_seconds)
    if job_id is None:
        return None
    found = _select(db.conn, "id = ?", (job_id,))
    return found[0] if found else None


def recent_durations(db: sqlite_utils.Database, limit: int) -> list[tuple[str, float, int | None]]:
    """(engine, seconds, the photo's pixels or None) of the ``limit`` most recently completed jobs, newest first
    (the ETA's job times): the time each held its worker's slot (``meta.slot_ms``: claim, render and store), or
    for a job recorded before that was kept, its render's ``meta.duration_ms``."""
    rows = db.conn.execute(
        "SELECT engine, coalesce(json_extract(result, '$.meta.slot_ms'), json_extract(result, '$.meta.duration_ms')), "
        "input_pixels FROM jobs "
        "WHERE state = 'completed' AND completed_at IS NOT NULL ORDER BY completed_at DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [
        (str(engine), float(ms) / 1000, pixels) for engine, ms, pixels in rows if engine and isinstance(ms, int | float)
    ]


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


_FINISH = (
    "UPDATE jobs SET state = ?, completed_at = ?, expires_at = ?, result = ?, engine = ?, error_code = ?, "
    "error_message = ?, progress = CASE WHEN ? = 'completed' THEN 1.0 ELSE progress END, updated_at = ?, "
    "lease_owner = NULL, lease_until = NULL WHERE id = ? AND state IN ('queued', 'running')"
)


def finish(
    db: sqlite_utils.Database,
    job_id: str,
    owner: str | None,
    *,
    now: float,
    end: JobEnd,
    event: webhooks.NewEvent | None,
) -> bool:
    """Publish the end of a job and its webhook event in ONE transaction.

    With ``owner`` the update only applies while that worker holds the lease; with None it applies to any
    job not yet ended (sweeper, cancel). Returns False when nothing changed (someone else published).
    """
    result = msgspec.json.encode(end.result, order="sorted").decode() if end.result is not None else None
    sql = _FINISH + (" AND lease_owner = ?" if owner is not None else "")
    with write(db) as conn:
        cur = conn.execute(
            sql,
            (
                end.state,
                end.completed_at,
                end.expires_at,
                result,
                end.engine,
                end.error_code,
                end.error_message,
                end.state,
                iso(now),
                job_id,
                *((owner,) if owner is not None else ()),
            ),
        )
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
            "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_until = NULL, storing = 0, updated_at = ? "
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


def request_cancel(db: sqlite_utils.Database, job_id: str) -> bool:
    """Ask a queued or running job to stop; False when it had ended or its attempt is storing its result
    (:func:`begin_store`: too late to stop it)."""
    with write(db) as conn:
        cur = conn.execute(
            "UPDATE jobs SET cancel_requested = 1 "
            "WHERE id = ? AND (state = 'queued' OR (state = 'running' AND storing = 0))",
            (job_id,),
        )
    return cur.rowcount > 0


def cancel_requested(db: sqlite_utils.Database, job_id: str) -> bool:
    """Whether the client asked ``job_id`` to stop (one read by primary key, no write lock)."""
    row = db.conn.execute("SELECT cancel_requested FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return bool(row and row[0])


StoreVerdict = Literal["store", "cancelled", "lost"]


def begin_store(db: sqlite_utils.Database, job_id: str, owner: str) -> StoreVerdict:
    """The attempt's last cancellation check, in one transaction with :func:`request_cancel`'s: ``store`` marks
    the job as storing its result (a cancel from then on is refused as too late); ``cancelled``: the client
    asked it to stop; ``lost``: ``owner`` no longer holds the job (its lease expired, or it was deleted)."""
    with write(db) as conn:
        cur = conn.execute(
            "UPDATE jobs SET storing = 1 "
            "WHERE id = ? AND lease_owner = ? AND state = 'running' AND cancel_requested = 0",
            (job_id, owner),
        )
        if cur.rowcount > 0:
            return "store"
        row = conn.execute("SELECT lease_owner, state, cancel_requested FROM jobs WHERE id = ?", (job_id,)).fetchone()
    ours = row is not None and row[0] == owner and row[1] == "running"
    return "cancelled" if ours and row[2] else "lost"


def delete(db: sqlite_utils.Database, job_id: str, key_id: str, now: float) -> Job | None:
    """Make ``key_id``'s job a tombstone in one transaction; returns the job as it was (None: not found).

    A queued or running job ends ``failed`` here without a webhook (its worker's publish then finds it ended and
    drops its files); webhook events not yet delivered are dropped; the request details and the Idempotency-Key
    records go; the row stays as a tombstone until :func:`forget_ended` (the quota counts the key's
    ``jobs_created``). Files are the caller's.
    """
    with write(db) as conn:
        found = _select(conn, "id = ? AND key_id = ? AND deleted_at IS NULL", (job_id, key_id))
        if not found:
            return None
        conn.execute(
            "UPDATE jobs SET deleted_at = ?, updated_at = ?, purged = 1, cancel_requested = 1, options = '{}', "
            "webhook_url = NULL, filename = NULL, result = NULL, lease_owner = NULL, lease_until = NULL, "
            "state = CASE WHEN state IN ('queued', 'running') THEN 'failed' ELSE state END, "
            "error_code = CASE WHEN state IN ('queued', 'running') THEN 'deleted' ELSE error_code END "
            "WHERE id = ?",
            (iso(now), iso(now), job_id),
        )
        webhooks.drop_pending(conn, job_id)
        conn.execute("DELETE FROM idempotency WHERE job_id = ?", (job_id,))
    return found[0]


def forget_ended(db: sqlite_utils.Database, ended_before: float, limit: int = 500) -> int:
    """Delete the records of up to ``limit`` generations that ended (or were deleted) before ``ended_before``
    (seconds since the epoch) and whose files are purged, with their webhook events and delivery log, in one
    transaction; returns how many. A generation an Idempotency-Key still names is kept until the key is forgotten
    (a retry must find the job it names), and one with a webhook still being delivered until that ends. The key's
    quota counts ``api_keys.jobs_created``, so it does not come back."""
    with write(db) as conn:
        ids = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM jobs WHERE state IN ('completed', 'failed') AND purged = 1 "
                "AND coalesce(deleted_at, completed_at) < ? "
                "AND NOT EXISTS (SELECT 1 FROM idempotency i WHERE i.job_id = jobs.id) "
                "AND NOT EXISTS (SELECT 1 FROM webhook_events e WHERE e.job_id = jobs.id AND e.state = 'pending') "
                "LIMIT ?",
                (iso(ended_before), limit),
            )
        ]
        if ids:
            webhooks.forget_jobs(conn, ids)
            conn.execute(f"DELETE FROM jobs WHERE id IN ({','.join('?' * len(ids))})", ids)  # noqa: S608
    return len(ids)


def expired_unpurged(db: sqlite_utils.Database, now: float) -> list[Job]:
    """Ended jobs whose retention has passed and whose files still exist."""
    return _select(db.conn, "purged = 0 AND expires_at IS NOT NULL AND expires_at < ?", (iso(now),))


def mark_purged(db: sqlite_utils.Database, job_id: str) -> None:
    with write(db) as conn:
        conn.execute("UPDATE jobs SET purged = 1 WHERE id = ?", (job_id,))


def forget_idempotency_keys(db: sqlite_utils.Database, older_than: float) -> None:
    """Drop Idempotency-Key records made before ``older_than`` (epoch seconds)."""
    with write(db) as conn:
        conn.execute("DELETE FROM idempotency WHERE created_at < ?", (older_than,))


def existing_ids(db: sqlite_utils.Database, job_ids: list[str]) -> set[str]:
    """Which of ``job_ids`` have a row (the orphan-file sweep keeps files of these)."""
    found: set[str] = set()
    for start in range(0, len(job_ids), 500):
        chunk = job_ids[start : start + 500]
        rows = db.conn.execute(f"SELECT id FROM jobs WHERE id IN ({','.join('?' * len(chunk))})", chunk)  # noqa: S608
        found.update(r[0] for r in rows)
    return found


def count(db: sqlite_utils.Database) -> int:
    """How many job rows exist."""
    return int(db.conn.execute("SELECT count(*) FROM jobs").fetchone()[0])


def withdraw(db: sqlite_utils.Database, job_id: str) -> bool:
    """Delete a queued job that was never enqueued (the submission failed after the insert), with its
    idempotency record. False when a worker already took it: it is durable and will end on its own."""
    with write(db) as conn:
        cur = conn.execute("DELETE FROM jobs WHERE id = ? AND state = 'queued'", (job_id,))
        if cur.rowcount:
            conn.execute("DELETE FROM idempotency WHERE job_id = ?", (job_id,))
    return cur.rowcount > 0
