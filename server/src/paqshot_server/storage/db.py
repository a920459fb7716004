"""SQLite connections with the pragmas this appliance relies on, and write transactions.

WAL lets the API read while a worker writes; ``busy_timeout`` makes writers wait instead of failing;
``synchronous=FULL`` because a 202 is a promise; writes use ``BEGIN IMMEDIATE`` so a transaction that
reads then writes cannot fail half-way with SQLITE_BUSY.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

import sqlite_utils

from ..errors import DatabaseBusy, DatabaseGone, StorageFull, Unavailable
from . import migrations
from .faults import is_database_busy, is_storage_full


def connect(path: Path, *, create: bool = True, autocheckpoint: bool = True) -> sqlite_utils.Database:
    """Open (and migrate) the app database. One connection per thread: do not share across threads.

    ``autocheckpoint=False``: this connection's commits never checkpoint the WAL (``storage.checkpoint`` does it
    in the background; the process that asks for this must run one).

    A new database file is created owner-only (0600; SQLite gives its ``-wal`` and ``-shm`` files the same
    mode): it holds webhook secrets and customer data. With ``create=False`` a missing file is an error
    instead of a new, empty database (``doctor``).

    Raises:
        DatabaseGone: ``create=False`` and there is no database file.
        StorageFull: the disk is full while the schema is brought up to date.
        DatabaseBusy: another process holds the write lock past ``BUSY_SECONDS`` while the schema is brought up
            to date.
    """
    if create:
        create_private(path)
    elif not path.is_file():
        raise DatabaseGone(f"{path} does not exist (run `init`, or restore it from a backup).")
    target = str(path) if create else f"file:{path}?mode=rw"
    conn = sqlite3.connect(target, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False, uri=not create)
    try:
        _switch_to_wal(conn)
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(f"PRAGMA busy_timeout={int(BUSY_SECONDS * 1000)}")
        conn.execute("PRAGMA foreign_keys=ON")
        if not autocheckpoint:
            checkpoint_elsewhere(conn)
        db = sqlite_utils.Database(conn)
        migrations.apply(db)
        with _GROUPS_LOCK:
            _WRITE_GROUPS[db] = _PATH_WRITE_GROUPS.setdefault(str(path.resolve()), _WriteGroup(path))
    except sqlite3.Error as exc:
        conn.close()
        unavailable = _unavailable(exc, path)
        if unavailable is not None:
            raise unavailable from exc
        raise
    return db


BUSY_SECONDS = 10.0  # how long a connection waits for another's lock (sqlite3's timeout, busy_timeout)
# Threads of one process queue for each other's write transactions on a lock per file, woken the moment it is
# released. Left to SQLite, a waiting connection polls with sleeps growing to 100 ms (sqliteDefaultBusyCallback):
# at 16 concurrent submissions the slowest inserts waited 130-190 ms for nothing. Other processes (workers) still
# wait in SQLite (busy_timeout).
# Transactions waiting at the same moment are also committed together (:func:`write_grouped`).


class _WriteGroup:
    """One database file's write lock, and the grouped transactions waiting for it (see :func:`write_grouped`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.cond = threading.Condition(threading.Lock())
        self.pending: list[_Member[Any]] = []
        self.leading = False


_GROUPS_LOCK = threading.Lock()
_PATH_WRITE_GROUPS: dict[str, _WriteGroup] = {}
_WRITE_GROUPS: weakref.WeakKeyDictionary[sqlite_utils.Database, _WriteGroup] = weakref.WeakKeyDictionary()


def _switch_to_wal(conn: sqlite3.Connection) -> None:
    """``PRAGMA journal_mode=WAL``, tried again while another connection holds the lock for the same switch.

    SQLite does not call its busy handler for this lock (waiting could deadlock two connections upgrading at once),
    so processes opening a new file together got "database is locked" (measured: 23 of 200 rounds of six threads).
    """
    deadline = time.monotonic() + BUSY_SECONDS
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def quick_check(db: sqlite_utils.Database) -> str:
    """SQLite's ``PRAGMA quick_check``: ``"ok"``, or the first problem it found."""
    return str(db.conn.execute("PRAGMA quick_check").fetchone()[0])


def lost_database(app_db: Path, queue_db: Path, files_dir: Path) -> str | None:
    """Why the missing ``app_db`` was lost rather than never made: the queue or stored files of a data folder in use
    are there without it (a new empty database would serve none of their keys, jobs or files). None when
    ``app_db`` exists or the folder holds neither."""
    if app_db.exists():
        return None
    kept = [str(queue_db)] if queue_db.exists() else []
    if files_dir.is_dir() and any(files_dir.iterdir()):
        kept.append(f"stored files in {files_dir}")
    if not kept:
        return None
    return (
        f"{app_db} is missing, but this data folder is in use ({', '.join(kept)}): its keys, jobs and webhooks "
        "were in that database. Restore it from a backup; to start again with an empty database on purpose, move "
        "the data folder away first."
    )


def create_private(path: Path) -> None:
    """Make the data folder (0700 when new) and an empty database file (0600) unless they exist."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)


_commits = itertools.count()
_committed = 0


def commits() -> int:
    """How many :func:`write` transactions this process has committed (with SQLite's ``data_version``, which
    counts other connections' commits, it tells a reader that nothing changed since it last looked)."""
    return _committed


def commit_without_fsync(conn: sqlite3.Connection) -> None:
    """WAL with ``synchronous=NORMAL``: a commit waits for no fsync; a power cut may undo the last commits, never
    corrupt the file. Only for data that can be rebuilt (the queue's messages: ``jobs.wakeup``)."""
    conn.execute("PRAGMA synchronous=NORMAL")


def checkpoint_elsewhere(conn: sqlite3.Connection) -> None:
    """This connection's commits never checkpoint the WAL (``PRAGMA wal_autocheckpoint=0``): the process runs
    ``storage.checkpoint.Checkpointer`` on the file instead."""
    conn.execute("PRAGMA wal_autocheckpoint=0")


def data_version(conn: sqlite3.Connection) -> int:
    """Changes when another connection has committed to the database (SQLite's PRAGMA data_version)."""
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


@contextmanager
def write(db: sqlite_utils.Database, *, wait_seconds: float | None = None) -> Iterator[sqlite3.Connection]:
    """A ``BEGIN IMMEDIATE`` transaction: commit on success, roll back on any exception. ``wait_seconds``: how
    long to wait for another writer's lock, when not ``BUSY_SECONDS`` (a health check answers sooner).

    Raises:
        StorageFull: the disk or the database is full.
        DatabaseBusy: another process held the write lock longer than the wait (nothing was written).
    """
    wait = BUSY_SECONDS if wait_seconds is None else wait_seconds
    group = _WRITE_GROUPS.get(db)
    lock = group.lock if group is not None else None
    held = lock is not None and lock.acquire(timeout=wait)  # past it, SQLite's own wait (then its error)
    try:
        with _transaction(db, wait) as conn:
            yield conn
    finally:
        if held:
            assert lock is not None
            lock.release()


T = TypeVar("T")


class _Member(Generic[T]):
    """One caller's work in a grouped transaction, and what came of it."""

    __slots__ = ("done", "error", "result", "work")

    def __init__(self, work: Callable[[sqlite3.Connection], T]) -> None:
        self.work = work
        self.done = False
        self.result: T | None = None
        self.error: BaseException | None = None


def write_grouped(db: sqlite_utils.Database, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``work(conn)`` in a write transaction shared with the other threads of this process that are waiting to
    write the same file at that moment (group commit): one ``BEGIN IMMEDIATE`` … ``COMMIT``, so one WAL fsync
    (``synchronous=FULL``) for all of them. Returns ``work``'s result once it is committed (durable).

    Each member runs in its own SAVEPOINT: an exception in ``work`` rolls back only its own changes and is raised
    to its caller; the others commit. An error that ends the whole transaction (a full disk, another process's
    lock, an I/O error) is raised to every member whose changes it undid (``StorageFull``, ``DatabaseBusy``).
    ``work`` runs on whichever waiting thread leads the group, with that thread's connection: it must use only
    ``conn`` and must not wait for another writer of this process (nor may a thread call this inside its own
    ``write``). The members of a group run in the order they arrived; an error that ends the transaction also
    fails the members after it.

    Why: with one commit per request, 16 concurrent submissions queued for the write lock one fsync after another
    (instrumented, session 4: 34 ms of lock wait on average, 74 ms at p99); a leader that commits whatever waits
    is the classic group commit of databases (PostgreSQL's ``commit_delay``, InnoDB's binlog group commit).
    """
    group = _WRITE_GROUPS.get(db)
    if group is None:  # a connection not opened by ``connect``: no group to join
        with write(db) as conn:
            return work(conn)
    member = _Member(work)
    with group.cond:
        group.pending.append(member)
        while group.leading and not member.done:
            group.cond.wait()
        lead = not member.done
        if lead:
            group.leading = True
    if lead:
        try:
            _lead(db, group)
        finally:
            with group.cond:
                group.leading = False
                group.cond.notify_all()
    if not member.done:  # its leader was interrupted (KeyboardInterrupt) between taking it and committing
        raise RuntimeError("the grouped write transaction was interrupted; nothing of this request was written")
    if member.error is not None:
        raise member.error
    return member.result  # type: ignore[return-value]  # set when no error


def _lead(db: sqlite_utils.Database, group: _WriteGroup) -> None:
    """Take the file's write lock and commit whatever waits at that moment, as one group. The members that come
    meanwhile lead their own group next (``write_grouped`` hands over): a leader that went on committing later
    groups would keep its own request waiting for as long as others kept arriving."""
    held = group.lock.acquire(timeout=BUSY_SECONDS)  # past it, SQLite's own wait (then its error), as ``write``
    try:
        with group.cond:
            batch, group.pending = group.pending, []
        _commit_group(db, batch, group.path)
    finally:
        if held:
            group.lock.release()


def _commit_group(db: sqlite_utils.Database, batch: list[_Member[Any]], path: Path) -> None:
    """One transaction for ``batch``; every member ends ``done`` with a result or an error."""
    global _committed
    conn = db.conn
    try:
        try:
            conn.execute("BEGIN IMMEDIATE")
            for member in batch:
                conn.execute("SAVEPOINT member")
                try:
                    member.result = member.work(conn)
                except BaseException as exc:
                    if not conn.in_transaction:  # the statement's error ended the transaction (SQLite rolled back)
                        raise
                    conn.execute("ROLLBACK TO member")
                    conn.execute("RELEASE member")
                    member.error, member.done = _unavailable(exc, path) or exc, True  # its own; the group goes on
                    continue
                conn.execute("RELEASE member")
            conn.execute("COMMIT")
            _committed = next(_commits) + 1
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    except BaseException as exc:
        for member in batch:
            if not member.done:
                member.error, member.done = _shared_error(exc, path), True
        return
    for member in batch:
        member.done = True


def _unavailable(exc: BaseException, path: Path | None, waited: float = BUSY_SECONDS) -> Unavailable | None:
    """SQLite's "database or disk is full" and "database is locked" (another process held the write lock past
    ``waited`` seconds) as the clear 503s that ``write`` raises for them; None for other errors. ``path``: the
    database file, named in the busy error (None: not known)."""
    if not isinstance(exc, sqlite3.OperationalError):
        return None
    error: Unavailable
    if is_storage_full(exc):
        error = StorageFull("database")
    elif is_database_busy(exc):
        error = DatabaseBusy(path or "app.db", waited)
    else:
        return None
    error.__cause__ = exc
    return error


def _shared_error(exc: BaseException, path: Path) -> BaseException:
    """The error of a transaction that failed as a whole, for one of its members (each raises its own object)."""
    unavailable = _unavailable(exc, path)
    if unavailable is not None:
        return unavailable
    try:
        error = type(exc)(*exc.args)
    except Exception:
        error = RuntimeError(f"the grouped write transaction failed: {exc!r}")
    error.__cause__ = exc
    return error


@contextmanager
def _transaction(db: sqlite_utils.Database, wait: float = BUSY_SECONDS) -> Iterator[sqlite3.Connection]:
    global _committed
    conn = db.conn
    if wait != BUSY_SECONDS:
        conn.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        _committed = next(_commits) + 1
    except sqlite3.OperationalError as exc:
        group = _WRITE_GROUPS.get(db)
        unavailable = _unavailable(exc, group.path if group is not None else None, wait)
        if unavailable is not None:  # a full disk, another process's lock: a clear 503, not a generic error
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise unavailable from exc
        raise
    finally:
        if wait != BUSY_SECONDS:
            conn.execute(f"PRAGMA busy_timeout={int(BUSY_SECONDS * 1000)}")


class FilePin:
    """The identity of a file this process opened: a descriptor kept open (so its inode cannot be reused) to
    tell, later, whether the name now points to another file or to none."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._closer: weakref.finalize | None = None

    def pin(self) -> None:
        """Remember the file now at ``path`` (once; later calls keep the first)."""
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
            self._closer = weakref.finalize(self, os.close, self._fd)  # a pin dropped unreleased closes its descriptor

    def change(self) -> Literal["deleted", "replaced"] | None:
        """What became of the pinned file: ``deleted``, ``replaced`` (another file has its name now), or None
        while it is still the file on disk (or nothing was pinned yet)."""
        if self._fd is None:
            return None
        pinned = os.fstat(self._fd)
        try:
            now = os.stat(self.path)
        except FileNotFoundError:
            return "deleted"
        return "replaced" if (now.st_dev, now.st_ino) != (pinned.st_dev, pinned.st_ino) else None

    def release(self) -> None:
        if self._closer is not None:
            self._closer()
            self._fd = self._closer = None


class ThreadLocalDB:
    """Hands each thread its own connection to one database file (sqlite3 objects are per-thread).

    The file first opened is pinned (a descriptor kept open, so its inode cannot be reused): if the path
    is later deleted or replaced, :meth:`identity_problem` says so and no new connection is opened to
    whatever file now has that name (which would split the data between two databases).

    ``create=False`` (a worker): a missing file is :class:`DatabaseGone`, never a new empty database; the API's
    start-up (``serve``) or ``init`` creates it.
    """

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = path
        self.create = create
        self._local = threading.local()
        self._open: set[sqlite3.Connection] = set()
        self._lock = threading.Lock()
        self._pin = FilePin(path)
        self.damage: str | None = None  # the first sign of a damaged file seen (kept until the process restarts)
        self.checked_at = -float("inf")  # monotonic time of the last integrity check (readiness)
        self.autocheckpoint = True  # False: connections opened from now on leave checkpoints to ``storage.checkpoint``

    def note_damage(self, what: str) -> None:
        """Remember that the file was found damaged (SQLite: malformed, not a database); readiness reports it."""
        if self.damage is None:
            self.damage = what

    def get(self) -> sqlite_utils.Database:
        """This thread's connection, opened on first use.

        Raises:
            DatabaseGone: the database file was deleted or replaced since this process first opened it.
        """
        db: sqlite_utils.Database | None = getattr(self._local, "db", None)
        if db is not None:
            return db
        problem = self.identity_problem()
        if problem:
            raise DatabaseGone(problem)
        db = connect(self.path, create=self.create, autocheckpoint=self.autocheckpoint)
        with self._lock:
            self._pin.pin()
            self._open.add(db.conn)
        # Closed when nothing can use it any more: its thread ended (the thread-local goes) or this object was
        # dropped, and no caller still holds it. So connections of short-lived threads (anyio's pool) never pile
        # up. The finalizer must not hold ``self`` (the registry of finalizers would keep this object, and so
        # every connection it handed out, alive for the life of the process).
        weakref.finalize(db, _forget, self._lock, self._open, db.conn)
        self._local.db = db
        return db

    def open_connections(self) -> int:
        """Connections handed out and not yet closed (threads that ended have given theirs back)."""
        with self._lock:
            return len(self._open)

    def identity_change(self) -> Literal["deleted", "replaced"] | None:
        """What became of the database file this process uses: ``deleted``, ``replaced`` (another file has its
        name now), or None while it is still the file on disk."""
        return self._pin.change()

    def identity_problem(self) -> str | None:
        """Why the database file on disk is no longer the one this process uses (with its path, for the
        operator), or None."""
        change = self.identity_change()
        if change == "deleted":
            return f"{self.path} was deleted while the appliance was running; restore it from a backup and restart."
        if change == "replaced":
            return f"{self.path} was replaced while the appliance was running; restart to use the new file."
        return None

    def close(self) -> None:
        """Close every connection handed out (at shutdown)."""
        with self._lock:
            for conn in self._open:
                conn.close()
            self._open.clear()
            self._pin.release()
        self._local = threading.local()


def _forget(lock: threading.Lock, handed_out: set[sqlite3.Connection], conn: sqlite3.Connection) -> None:
    """Close ``conn``, a connection ``ThreadLocalDB`` handed out that nothing can use any more."""
    with lock:
        handed_out.discard(conn)
    conn.close()


def held_elsewhere(path: Path) -> list[tuple[int, str]]:
    """Processes that hold a database file by this name open which is no longer the file at ``path``.

    Reads ``/proc/<pid>/fd`` (Linux; the processes of this user, or all as root): a descriptor whose target
    is ``path`` but whose inode differs (replaced), or that is marked deleted. Returns (pid, what) pairs;
    an empty list where ``/proc`` is not readable.
    """
    name = str(path.resolve())
    try:
        current = os.stat(path)
        here: tuple[int, int] | None = (current.st_dev, current.st_ino)
    except FileNotFoundError:
        here = None
    found: dict[int, str] = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:  # gone, or not ours to read
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
                if target != name and target != f"{name} (deleted)":
                    continue
                held = os.stat(fd)
            except OSError:
                continue
            if target.endswith(" (deleted)") or here is None:
                found[int(entry.name)] = "holds a deleted copy"
            elif (held.st_dev, held.st_ino) != here:
                found[int(entry.name)] = "holds a different (replaced) file"
    return sorted(found.items())
