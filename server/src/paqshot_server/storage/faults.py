"""What storage failures mean: a full disk or database is told apart from other errors (``errors.StorageFull``).

SQLite reports a full disk as ``SQLITE_FULL`` ("database or disk is full"); the file store as ``ENOSPC`` (or
``EDQUOT`` over a quota). Both become :class:`~paqshot_server.errors.StorageFull`, which the API answers with
503 and ``Retry-After`` instead of a generic 500 that invites an immediate retry. A write the file system refuses
(permissions, a read-only mount, an I/O error) is told apart the same way (``errors.StorageRefused``).
"""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Iterator

SQLITE_BUSY = 5  # https://www.sqlite.org/rescode.html#busy ("database is locked"; extended codes: low byte)
SQLITE_FULL = 13  # https://www.sqlite.org/rescode.html#full
SQLITE_DAMAGED = (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB (same page)
# The file system refused the write: permissions, a read-only mount, a failing disk (errno(3)). Neither the
# client's fault nor ours: the operator's to mend.
REFUSED_ERRNOS = (errno.EACCES, errno.EPERM, errno.EROFS, errno.EIO)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it was raised from, a little way down (wrappers keep the original): at most 5."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return
        yield seen
        seen = seen.__cause__ or seen.__context__


def is_storage_full(exc: BaseException) -> bool:
    """True when ``exc`` (or what it was raised from) says the disk or the database is full."""
    return any(
        (isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT))
        or (
            isinstance(seen, sqlite3.OperationalError)
            and (getattr(seen, "sqlite_errorcode", None) == SQLITE_FULL or "disk is full" in str(seen))
        )
        for seen in _causes(exc)
    )


def is_database_busy(exc: BaseException) -> bool:
    """True when ``exc`` (or what it was raised from) says another connection held a database's lock for longer
    than the busy timeout (SQLite's ``SQLITE_BUSY``, "database is locked"): not our bug and not the client's; a
    retry after the other writer is done succeeds."""
    return any(
        isinstance(seen, sqlite3.OperationalError)
        and ((getattr(seen, "sqlite_errorcode", None) or 0) & 0xFF == SQLITE_BUSY or "database is locked" in str(seen))
        for seen in _causes(exc)
    )


def is_database_damaged(exc: BaseException) -> bool:
    """True when ``exc`` (or what it was raised from) says a database file is damaged (not a client's fault, not
    something a retry fixes: the operator must restore the file)."""
    return any(
        isinstance(seen, sqlite3.DatabaseError)
        and (
            getattr(seen, "sqlite_errorcode", None) in SQLITE_DAMAGED
            or "malformed" in str(seen)
            or "not a database" in str(seen)
        )
        for seen in _causes(exc)
    )


def storage_refusal(exc: BaseException) -> str | None:
    """Why the file system refused a write, in words ("permission denied", "read-only file system"), when
    ``exc`` (or what it was raised from) is such a refusal (:data:`REFUSED_ERRNOS`); else None."""
    for seen in _causes(exc):
        if isinstance(seen, OSError) and seen.errno in REFUSED_ERRNOS:
            return (seen.strerror or os.strerror(seen.errno or 0)).lower()
    return None


class ReadRefused(OSError):
    """The file system refused to READ a stored file (the same errnos as a refused write, :data:`REFUSED_ERRNOS`):
    told apart so the words say read, not write (breaker17 B17-1: an unreadable result file was answered "refused
    to write this request's image ... nothing was kept")."""


def refused_read(exc: BaseException) -> bool:
    """True when ``exc`` (or what it was raised from) is a :class:`ReadRefused`."""
    return any(isinstance(seen, ReadRefused) for seen in _causes(exc))
