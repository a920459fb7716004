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
    ├── RateLimited           over the key's rate limit (carries retry_after)
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
    """Reported as 422: the key was reused with a different body."""


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


class RateLimited(AppError):
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int, limit: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.limit = limit


class ServerError(AppError):
    code = "server_error"


def megabytes(size: int) -> str:
    """A byte limit in the words of an error message: ``10485760`` → ``"10 MB"`` (10⁶ bytes, as file sizes are
    usually shown)."""
    return f"{size / 1e6:.0f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"
