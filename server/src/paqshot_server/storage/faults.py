"""What storage failures mean: a full disk or database is told apart from other errors (``errors.StorageFull``).

SQLite reports a full disk as ``SQLITE_FULL`` ("database or disk is full"); the file store as ``ENOSPC`` (or
``EDQUOT`` over a quota). Both become :class:`~paqshot_server.errors.StorageFull`, which the API answers with
503 and ``Retry-After`` instead of a generic 500 that invites an immediate retry.
"""

from __future__ import annotations

import errno
import sqlite3

SQLITE_BUSY = 5  # https://www.sqlite.org/rescode.html#busy ("database is locked"; extended codes: low byte)
SQLITE_FULL = 13  # https://www.sqlite.org/rescode.html#full
SQLITE_DAMAGED = (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB (same page)


def is_storage_full(exc: BaseException) -> bool:
    """True when ``exc`` (or what it was raised from) says the disk or the database is full."""
    seen: BaseException | None = exc
    for _ in range(5):  # follow __cause__/__context__ a little: wrappers keep the original
        if seen is None:
            return False
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(seen, sqlite3.OperationalError) and (
            getattr(seen, "sqlite_errorcode", None) == SQLITE_FULL or "disk is full" in str(seen)
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def is_database_busy(exc: BaseException) -> bool:
    """True when ``exc`` (or what it was raised from) says another connection held a database's lock for longer
    than the busy timeout (SQLite's ``SQLITE_BUSY``, "database is locked"): not our bug and not the client's; a
    retry after the other writer is done succeeds."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, sqlite3.OperationalError) and (
            (getattr(seen, "sqlite_errorcode", None) or 0) & 0xFF == SQLITE_BUSY or "database is locked" in str(seen)
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def is_database_damaged(exc: BaseException) -> bool:
    """True when ``exc`` (or what it was raised from) says a database file is damaged (not a client's fault, not
    something a retry fixes: the operator must restore the file)."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, sqlite3.DatabaseError) and (
            getattr(seen, "sqlite_errorcode", None) in SQLITE_DAMAGED
            or "malformed" in str(seen)
            or "not a database" in str(seen)
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
