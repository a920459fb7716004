"""Schema migrations, applied in order by sqlite-utils' migration set and recorded in ``_sqlite_migrations``.

Append new functions to :data:`MIGRATIONS`; never edit one that has shipped. A migration runs its statements
one ``execute`` each (``executescript`` would COMMIT the surrounding transaction, and splitting a script on
``;`` breaks on a semicolon inside a string or a trigger).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import sqlite_utils
from sqlite_utils.migrations import Migrations

MIGRATION_SET = "appliance"
_LEGACY_TABLE = "schema_migrations"  # this module's own record before sqlite-utils kept it


def _run(db: sqlite_utils.Database, statements: Iterable[str]) -> None:
    """Run each statement of ``statements`` (one string per statement, never a script)."""
    if isinstance(statements, str):
        raise TypeError("pass one string per statement (a tuple), not a script")
    for statement in statements:
        db.conn.execute(statement)


def m001_initial(db: sqlite_utils.Database) -> None:
    _run(
        db,
        (
            """
            CREATE TABLE api_keys (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                key_hash TEXT NOT NULL UNIQUE,
                prefix TEXT NOT NULL,
                last4 TEXT NOT NULL,
                webhook_secret TEXT NOT NULL,
                rate_limit INTEGER NOT NULL,
                quota INTEGER,
                styles TEXT,
                created_at TEXT NOT NULL,
                revoked_at TEXT
            )
            """,
            """
            CREATE TABLE jobs (
                id TEXT PRIMARY KEY,
                key_id TEXT NOT NULL REFERENCES api_keys(id),
                state TEXT NOT NULL,
                style TEXT NOT NULL,
                aspect_ratio TEXT NOT NULL,
                options TEXT NOT NULL,
                webhook_url TEXT,
                seed INTEGER,
                input_file TEXT NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                started_at TEXT,
                completed_at TEXT,
                expires_at TEXT,
                attempts INTEGER NOT NULL DEFAULT 0,
                lease_owner TEXT,
                lease_until REAL,
                progress REAL NOT NULL DEFAULT 0,
                estimated_seconds INTEGER NOT NULL,
                result TEXT,
                error_code TEXT,
                error_message TEXT,
                engine TEXT,
                cancel_requested INTEGER NOT NULL DEFAULT 0,
                purged INTEGER NOT NULL DEFAULT 0
            )
            """,
            """
            CREATE INDEX jobs_key_created ON jobs(key_id, created_at DESC, id DESC)
            """,
            """
            CREATE INDEX jobs_state ON jobs(state, lease_until)
            """,
            """
            CREATE INDEX jobs_expires ON jobs(purged, expires_at)
            """,
            """
            CREATE TABLE webhook_events (
                id TEXT PRIMARY KEY,
                job_id TEXT NOT NULL REFERENCES jobs(id),
                key_id TEXT NOT NULL,
                url TEXT NOT NULL,
                event TEXT NOT NULL,
                body BLOB NOT NULL,
                state TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at REAL NOT NULL,
                lease_until REAL,
                created_at TEXT NOT NULL,
                last_status INTEGER,
                last_error TEXT
            )
            """,
            """
            CREATE INDEX webhook_due ON webhook_events(state, next_attempt_at)
            """,
            """
            CREATE TABLE webhook_attempts (
                event_id TEXT NOT NULL REFERENCES webhook_events(id),
                attempt INTEGER NOT NULL,
                at TEXT NOT NULL,
                status_code INTEGER,
                latency_ms REAL,
                error TEXT,
                PRIMARY KEY (event_id, attempt)
            )
            """,
            """
            CREATE TABLE idempotency (
                key_id TEXT NOT NULL,
                idem_key TEXT NOT NULL,
                body_hash TEXT NOT NULL,
                job_id TEXT NOT NULL,
                created_at REAL NOT NULL,
                PRIMARY KEY (key_id, idem_key)
            )
            """,
            """
            CREATE TABLE workers (
                id TEXT PRIMARY KEY,
                pid INTEGER NOT NULL,
                started_at TEXT NOT NULL,
                heartbeat REAL NOT NULL,
                providers TEXT
            )
            """,
            """
            CREATE TABLE counters (
                name TEXT PRIMARY KEY,
                value INTEGER NOT NULL
            )
            """,
        ),
    )


def m002_webhook_rotation_and_leases(db: sqlite_utils.Database) -> None:
    """Secret rotation (the previous secret still signs until a deadline), per-event lease owners, a
    response excerpt per attempt, and what a worker reports as wrong with itself (readiness)."""
    _run(
        db,
        (
            "ALTER TABLE api_keys ADD COLUMN previous_webhook_secret TEXT",
            "ALTER TABLE api_keys ADD COLUMN previous_secret_until REAL",
            "ALTER TABLE webhook_events ADD COLUMN lease_owner TEXT",
            "ALTER TABLE webhook_attempts ADD COLUMN response_excerpt TEXT",
            "ALTER TABLE webhook_attempts ADD COLUMN worker_id TEXT",
            "ALTER TABLE workers ADD COLUMN problem TEXT",
            "CREATE INDEX webhook_events_key ON webhook_events(key_id, created_at DESC)",
        ),
    )


def m003_review_and_repair(db: sqlite_utils.Database) -> None:
    """Mask hints, re-runs, deletion (a tombstone keeps the quota count) and search by file name (issue 12)."""
    _run(
        db,
        (
            "ALTER TABLE jobs ADD COLUMN hint_file TEXT",
            "ALTER TABLE jobs ADD COLUMN filename TEXT",
            "ALTER TABLE jobs ADD COLUMN rerun_of TEXT",
            "ALTER TABLE jobs ADD COLUMN deleted_at TEXT",
        ),
    )


def m004_input_notes(db: sqlite_utils.Database) -> None:
    """What the door noticed while decoding a job's photo (animated, end marker missing): JSON list of text."""
    _run(db, ("ALTER TABLE jobs ADD COLUMN input_notes TEXT",))


def m005_list_order(db: sqlite_utils.Database) -> None:
    """``seq``: the order in which jobs were inserted (taken inside the insert's write transaction), so a page
    after or before a job stays the same while other jobs arrive (cursor paging). Existing jobs are numbered
    by (created_at, id)."""
    _run(
        db,
        (
            "ALTER TABLE jobs ADD COLUMN seq INTEGER",
            "UPDATE jobs SET seq = ranked.n FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS n "
            "FROM jobs) AS ranked WHERE ranked.id = jobs.id",
            "CREATE UNIQUE INDEX jobs_seq ON jobs(seq)",
            "CREATE INDEX jobs_key_seq ON jobs(key_id, seq)",
        ),
    )


def m006_fair_queue(db: sqlite_utils.Database) -> None:
    """The fair queue (``storage.fair``): a job's priority within its key and when its current attempt was
    claimed; a key's weight; each key's virtual finish tag and the queue's virtual clock; the claim's index and
    the recent job times' (the ETA)."""
    _run(
        db,
        (
            "ALTER TABLE jobs ADD COLUMN priority TEXT NOT NULL DEFAULT 'normal'",
            "ALTER TABLE jobs ADD COLUMN claimed_at REAL",
            "ALTER TABLE api_keys ADD COLUMN weight REAL NOT NULL DEFAULT 1.0",
            "CREATE TABLE fair_share (key_id TEXT PRIMARY KEY, finish REAL NOT NULL)",
            "CREATE TABLE fair_clock (id INTEGER PRIMARY KEY CHECK (id = 1), vtime REAL NOT NULL)",
            "INSERT INTO fair_clock (id, vtime) VALUES (1, 0.0)",
            "CREATE INDEX jobs_fair ON jobs(state, key_id, priority, seq)",
            "CREATE INDEX jobs_completed ON jobs(state, completed_at)",
        ),
    )


def m007_backdrops(db: sqlite_utils.Database) -> None:
    """The backdrop plate library (a key's own plates; ``key_id`` NULL: shared by the operator), and a job's own
    background image (``background_file``, stored beside its photo)."""
    _run(
        db,
        (
            """
            CREATE TABLE backdrops (
                id TEXT PRIMARY KEY,
                key_id TEXT REFERENCES api_keys(id),
                name TEXT,
                tags TEXT NOT NULL,
                image_file TEXT NOT NULL,
                thumb_file TEXT NOT NULL,
                width INTEGER NOT NULL,
                height INTEGER NOT NULL,
                floor_y REAL NOT NULL,
                floor_given INTEGER NOT NULL,
                area_left REAL NOT NULL,
                area_right REAL NOT NULL,
                light_azimuth REAL,
                light_softness REAL NOT NULL,
                light_given INTEGER NOT NULL,
                created_at TEXT NOT NULL
            )
            """,
            "CREATE INDEX backdrops_key ON backdrops(key_id, created_at)",
            "ALTER TABLE jobs ADD COLUMN background_file TEXT",
        ),
    )


def m008_input_pixels(db: sqlite_utils.Database) -> None:
    """The photo's pixel count, read at the door (the ETA's job time grows with it: ``jobs.eta``)."""
    _run(db, ("ALTER TABLE jobs ADD COLUMN input_pixels INTEGER",))


def m009_webhook_schedule_start(db: sqlite_utils.Database) -> None:
    """When each event's retry schedule started: no attempt is due after the schedule's length from it, whatever a
    receiver's ``Retry-After`` asks (``jobs.delivery.judge``). An event already pending starts its own at its next
    attempt."""
    _run(
        db,
        (
            "ALTER TABLE webhook_events ADD COLUMN schedule_from REAL",
            "UPDATE webhook_events SET schedule_from = next_attempt_at",
        ),
    )


def m010_queue_changes(db: sqlite_utils.Database) -> None:
    """A count of the changes to what the ETA's plan reads (``jobs.eta``): queued and running jobs, the recent job
    times, the fair policy's tags and weights, the workers that can run jobs. Bumped by triggers, so every writer
    counts whatever its code; a door tells its own submissions' counts from others' (``storage.jobs.create``) and
    reads the queue again only for others' changes. A worker's heartbeat is not counted (its liveness is a matter
    of time: the ETA's snapshot has a maximum age)."""
    bump = "BEGIN UPDATE queue_changes SET n = n + 1 WHERE id = 1; END"
    planned = "state, priority, seq, key_id, style, options, claimed_at, input_pixels, result, completed_at, engine"
    _run(
        db,
        (
            "CREATE TABLE queue_changes (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)",
            "INSERT INTO queue_changes (id, n) VALUES (1, 0)",
            f"CREATE TRIGGER queue_changes_job_insert AFTER INSERT ON jobs {bump}",
            f"CREATE TRIGGER queue_changes_job_delete AFTER DELETE ON jobs {bump}",
            f"CREATE TRIGGER queue_changes_job_update AFTER UPDATE OF {planned} ON jobs {bump}",
            f"CREATE TRIGGER queue_changes_share_insert AFTER INSERT ON fair_share {bump}",
            f"CREATE TRIGGER queue_changes_share_update AFTER UPDATE ON fair_share {bump}",
            f"CREATE TRIGGER queue_changes_share_delete AFTER DELETE ON fair_share {bump}",
            f"CREATE TRIGGER queue_changes_clock_update AFTER UPDATE ON fair_clock {bump}",
            f"CREATE TRIGGER queue_changes_key_update AFTER UPDATE OF weight ON api_keys {bump}",
            f"CREATE TRIGGER queue_changes_key_delete AFTER DELETE ON api_keys {bump}",
            f"CREATE TRIGGER queue_changes_worker_insert AFTER INSERT ON workers {bump}",
            f"CREATE TRIGGER queue_changes_worker_delete AFTER DELETE ON workers {bump}",
            "CREATE TRIGGER queue_changes_worker_problem AFTER UPDATE OF problem ON workers "
            f"WHEN OLD.problem IS NOT NEW.problem {bump}",
        ),
    )


def m011_storing(db: sqlite_utils.Database) -> None:
    """Whether a running job's attempt has passed its last cancellation check and is storing its result
    (``storage.jobs.begin_store``): a cancel asked then is answered that it came too late."""
    _run(db, ("ALTER TABLE jobs ADD COLUMN storing INTEGER NOT NULL DEFAULT 0",))


def m012_jobs_created(db: sqlite_utils.Database) -> None:
    """Each key's count of the generations it ever created, which its quota counts: the records of ended
    generations are deleted after ``record_retention_days`` (``storage.jobs.forget_ended``), so counting the rows
    would give the quota back. Started from the rows there are (every row until now: none was deleted)."""
    _run(
        db,
        (
            "ALTER TABLE api_keys ADD COLUMN jobs_created INTEGER NOT NULL DEFAULT 0",
            "UPDATE api_keys SET jobs_created = (SELECT count(*) FROM jobs WHERE jobs.key_id = api_keys.id)",
        ),
    )


MIGRATIONS: tuple[Callable[[sqlite_utils.Database], None], ...] = (
    m001_initial,
    m002_webhook_rotation_and_leases,
    m003_review_and_repair,
    m004_input_notes,
    m005_list_order,
    m006_fair_queue,
    m007_backdrops,
    m008_input_pixels,
    m009_webhook_schedule_start,
    m010_queue_changes,
    m011_storing,
    m012_jobs_created,
)


def migration_set() -> Migrations:
    """:data:`MIGRATIONS` as a sqlite-utils migration set (names are the function names)."""
    migrations = Migrations(MIGRATION_SET)
    for migration in MIGRATIONS:
        migrations()(migration)
    return migrations


def apply(db: sqlite_utils.Database) -> None:
    """Bring the schema up to date; safe to call from several processes at once.

    ``BEGIN IMMEDIATE`` serialises processes that open a fresh database together (sqlite-utils then nests
    each migration in a savepoint); the pending list is read again inside the lock.
    """
    migrations = migration_set()
    if not migrations.pending(db):
        return
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        _adopt_legacy_record(db, migrations)
        migrations.apply(db)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _adopt_legacy_record(db: sqlite_utils.Database, migrations: Migrations) -> None:
    """A database migrated before sqlite-utils kept the record: mark what it applied as applied."""
    if not db[_LEGACY_TABLE].exists() or migrations.applied(db):
        return
    migrations.ensure_migrations_table(db)
    done = db.conn.execute(f"SELECT name, 'before sqlite-utils' FROM {_LEGACY_TABLE} ORDER BY version")  # noqa: S608
    db[Migrations.migrations_table].insert_all(  # type: ignore[union-attr]
        {"migration_set": MIGRATION_SET, "name": name, "applied_at": when} for name, when in done.fetchall()
    )
