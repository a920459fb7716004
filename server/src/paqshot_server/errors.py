"""Domain errors. They know nothing of HTTP: ``api.errors`` maps each class to a status and the spec's code.

Hierarchy::

    AppError
    ├── InvalidRequest        malformed or missing parameters
    │   └── IdempotencyConflict   same Idempotency-Key, different body
    ├── Unauthorized          missing, unknown or revoked API key
    ├── Forbidden             quota, style not enabled for the key
    ├── NotFound              unknown or foreign generation, expired image
    │   └── InputExpired          a re-run whose stored photo is past retention (410)
    ├── ImageTooLarge         input over the byte limit
    ├── UnsupportedImage      not JPEG/PNG/WebP, undecodable, too many pixels, empty product
    │   └── CutoutRefused         the image was read and cut out, and the cut-out refused it (carries the engine)
    ├── RateLimited           over the key's rate limit (carries retry_after)
    ├── Unavailable           the appliance cannot take work now (carries retry_after)
    │   ├── StorageFull           the disk or the database is full
    │   ├── StorageRefused        the file system refused the write (permissions, read-only, I/O)
    │   ├── DatabaseGone          the database file was deleted or replaced under the running appliance
    │   ├── DatabaseBusy          another process held the database's write lock past the busy timeout
    │   └── DatabaseDamaged       the database file is damaged
    └── ServerError           our fault; message safe to show
"""

from __future__ import annotations


class AppError(Exception):
    """Base of every error the API reports; ``message`` is shown to the client verbatim."""

    code = "server_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequest(AppError):
    code = "invalid_request"


class IdempotencyConflict(InvalidRequest):
    """The key was reused with a different body: the spec's 400 ``invalid_request`` (the IETF Idempotency-Key
    draft suggests 422, which the spec's table gives to ``unsupported_image`` alone)."""


class Unauthorized(AppError):
    code = "unauthorized"


class Forbidden(AppError):
    code = "forbidden"


class NotFound(AppError):
    code = "not_found"


class InputExpired(NotFound):
    """The job exists but its stored photo is gone (past retention): it cannot be re-run (extension)."""

    code = "input_expired"


class ImageTooLarge(AppError):
    code = "image_too_large"


class UnsupportedImage(AppError):
    code = "unsupported_image"


class CutoutRefused(UnsupportedImage):
    """The photo was read and the cut-out ran, and what it found cannot be delivered (no product, only a detail of
    one, a result that needs review under ``on_low_confidence: fail``). Same code as any unsupported image (the
    spec's 422 ``unsupported_image``); it also carries what ran: ``engine`` (the job's engine, e.g.
    ``onnx:u2netp-int8``), ``cutout_engine`` (the cut-out's, the same for a studio packshot) and ``confidence``
    (0-1, None when the engine gives none), and ``review_reasons``, the (code, message) pairs of a result refused
    because it needs review (empty for any other refusal), so the failed job records them."""

    def __init__(
        self,
        message: str,
        *,
        engine: str,
        confidence: float | None,
        cutout_engine: str | None = None,
        review_reasons: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message)
        self.engine = engine
        self.cutout_engine = cutout_engine or engine
        self.confidence = confidence
        self.review_reasons = review_reasons


class RateLimited(AppError):
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int, limit: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.limit = limit


class Unavailable(AppError):
    """Nothing is wrong with the request; the appliance cannot take it now (storage, queue, database file)."""

    code = "unavailable"

    def __init__(self, message: str, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StorageFull(Unavailable):
    """The data folder's disk (or the database) is full: nothing was kept; retry once space is freed."""

    def __init__(self, what: str = "storage") -> None:
        super().__init__(
            f"The appliance's {what} is full, so this request could not be stored (nothing was kept). "
            "Retry later; the operator needs to free disk space.",
            retry_after=300,
        )


class StorageRefused(Unavailable):
    """The data folder's file system refused to write the request's image, or with ``reading`` to read a stored
    file (permissions, a read-only mount, a failing disk): nothing was kept or changed; ``cause`` says why in words
    (``storage.faults.storage_refusal``)."""

    def __init__(self, cause: str, *, reading: bool = False) -> None:
        if reading:
            said = f"refused to read a file stored for this request ({cause}); nothing was changed"
        else:
            said = f"refused to write this request's image ({cause}), so nothing was kept"
        super().__init__(
            f"The appliance's file store {said}. The operator must make the data folder's files/ readable and "
            "writable by the appliance's user; `doctor` checks it. Retry after that.",
            retry_after=300,
        )


class DatabaseGone(Unavailable):
    """The database file is missing, or not the one the running processes hold (deleted or replaced)."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"The appliance cannot take work: {detail}", retry_after=300)
        self.detail = detail


class DatabaseBusy(Unavailable):
    """Another process (an operator's ``sqlite3`` session, a backup, a VACUUM) held the database's write lock
    longer than this appliance waits (``storage.db.BUSY_SECONDS``): the transaction never began, so nothing was
    kept. ``path``: the database file."""

    def __init__(self, path: object, waited_seconds: float) -> None:
        super().__init__(
            f"The database {path} is busy: another process has held its write lock for over {waited_seconds:.0f} s, "
            "so nothing of this request was kept. Retry in a little while; `doctor` names the process.",
            retry_after=30,
        )
        self.path = path


class DatabaseDamaged(Unavailable):
    """The database file is damaged (SQLite: malformed, not a database): only a restore from backup mends it."""

    def __init__(self) -> None:
        super().__init__(
            "The appliance's database file is damaged, so it cannot take this request (nothing was changed). "
            "The operator must restore app.db from a backup; `doctor` shows the damage.",
            retry_after=3600,
        )


class ServerError(AppError):
    code = "server_error"


def megabytes(size: int) -> str:
    """A byte limit in the words of an error message: ``10485760`` → ``"10 MB"`` (10⁶ bytes, as file sizes are
    usually shown)."""
    return f"{size / 1e6:.0f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"
