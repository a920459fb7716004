"""One mapping from every failure to the spec's error body ``{"error": code, "message": text}``."""

from __future__ import annotations

import functools
import logging
import unicodedata
from collections.abc import Callable

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from .. import errors
from ..errors import megabytes
from ..jobs.service import CountedListener, RateWindow
from ..settings import Settings
from ..storage.db import BUSY_SECONDS, ThreadLocalDB
from ..storage.faults import is_database_busy, is_database_damaged, is_storage_full, refused_read, storage_refusal
from . import explain

log = logging.getLogger(__name__)

STATUS = {
    errors.InvalidRequest: 400,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.InputExpired: 410,
    errors.NotFound: 404,
    errors.ImageTooLarge: 413,
    errors.UnsupportedImage: 422,
    errors.RateLimited: 429,
    errors.Unavailable: 503,
    errors.ServerError: 500,
}

# Litestar's own HTTP errors (routing, body limits, methods) in the spec's vocabulary.
_HTTP_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    413: "image_too_large",
    429: "rate_limited",
}


_RATE_WINDOW = "rate_window"  # request.state: the window of a request that counted against the rate limit


def rate_limit_headers(window: RateWindow) -> dict[str, str]:
    """The ``X-RateLimit-*`` headers (the de-facto names GitHub's and most hosted APIs' answers carry): the key's
    limit per minute, what is left of it, and whole seconds until the window frees a request."""
    return {
        "X-RateLimit-Limit": str(window.limit),
        "X-RateLimit-Remaining": str(window.remaining),
        "X-RateLimit-Reset": str(window.reset_seconds),
    }


def remember_rate_window(request: Request) -> CountedListener:
    """The ``on_counted`` of a submission: keeps its window on ``request``, so that an error answer given after
    it counted carries the headers as an accepted one does."""

    def remember(window: RateWindow) -> None:
        request.state[_RATE_WINDOW] = window

    return remember


def _counted_headers(request: Request) -> dict[str, str]:
    window = request.state.get(_RATE_WINDOW)
    return rate_limit_headers(window) if isinstance(window, RateWindow) else {}


# Unicode categories never shown raw in a message: controls (NUL, ESC…), formats (U+202E right-to-left override…),
# surrogates, private use, unassigned, line and paragraph separators.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def printable(text: str) -> str:
    """``text`` with each character that a terminal or log viewer would act on rather than show written as its
    Python escape (NUL → ``\\x00``, U+202E → ``\\u202e``): a message may quote what a client sent (an id in
    the path, a query parameter's name), and shows where such a character was without carrying it raw."""
    if text.isprintable():  # the common case, in C: every character is shown as itself
        return text
    return "".join(
        ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) in _HIDDEN else ch for ch in text
    )


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """The spec's error body; ``message`` is made :func:`printable` here, once for every answer."""
    return Response(
        {"error": code, "message": printable(message)},
        status_code=status,
        headers=headers,
        media_type="application/json",
    )


def status_for(exc: errors.AppError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def app_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.AppError)
    headers = _counted_headers(request)
    if isinstance(exc, errors.RateLimited):
        headers = {"Retry-After": str(exc.retry_after), **rate_limit_headers(RateWindow(exc.limit, 0, exc.retry_after))}
    elif isinstance(exc, errors.Unavailable):
        log.error("refused with 503: %s", exc.message)
        headers["Retry-After"] = str(exc.retry_after)
    return error_response(status_for(exc), exc.code, exc.message, headers)


def validation_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ValidationException)
    return error_response(400, "invalid_request", explain.message(request, exc))


# Litestar's InternalServerException detail when the client closed the connection before its body was all sent
# (``Request.stream``): the client's doing, and nobody reads the answer; counted and logged as a 400, not a 500.
_CLIENT_GONE = "client disconnected prematurely"
# The ASGI scope key ``api.protocol`` sets (to why, in words: "nothing for 20 s") when it ended a body's wait
# itself: the client was answered 408, and the app's "disconnect" is the server's doing, not the client's.
BODY_TIMED_OUT = "paqshot.body_timed_out"


def http_handler(request: Request, exc: Exception, max_image_bytes: int) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if status == 413:
        limit = megabytes(max_image_bytes)
        return error_response(413, "image_too_large", f"Request body is too large; images are limited to {limit}.")
    if status == 404:
        return error_response(404, "not_found", "No such path; the API's paths are listed at /docs.")
    if status == 405:  # keep Litestar's Allow header (RFC 9110)
        allowed = dict(exc.headers or {})
        methods = allowed.get("Allow") or allowed.get("allow") or "other methods"
        return error_response(
            405, "invalid_request", f"{request.method} is not allowed on this path; it takes {methods}.", allowed
        )
    if status >= 500 and exc.detail == _CLIENT_GONE:
        waited = request.scope.get(BODY_TIMED_OUT)
        if waited is not None:
            log.info("a %s request's body was cut off (%s): answered 408", request.method, waited)
        else:
            log.info("a %s request's client closed the connection before its body was all sent", request.method)
        return error_response(
            400, "invalid_request", "The connection closed before the request body was all sent; nothing was kept."
        )
    if status >= 500:
        log.error("HTTP %s: %s", status, exc.detail)
        return error_response(500, "server_error", "Internal error on our side; retry after a few seconds.")
    return error_response(status, _HTTP_CODES.get(status, "invalid_request"), str(exc.detail))


def unexpected_handler(request: Request, exc: Exception, db: ThreadLocalDB) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if is_storage_full(exc):  # a full disk reached by a path that did not say so itself: still a clear 503
        return app_error_handler(request, errors.StorageFull())
    refusal = storage_refusal(exc)
    if refusal is not None:  # the file store's folder unwritable, read-only or failing: the operator's to mend
        return app_error_handler(request, errors.StorageRefused(refusal, reading=refused_read(exc)))
    if is_database_busy(exc):  # another process's lock, met outside ``storage.db.write`` (which says so itself)
        return app_error_handler(request, errors.DatabaseBusy(db.path, BUSY_SECONDS))
    if is_database_damaged(exc):  # a retry cannot help; readiness reports it from now on
        db.note_damage(str(exc))
        return app_error_handler(request, errors.DatabaseDamaged())
    return error_response(
        500, "server_error", "Internal error on our side; retry after a few seconds.", _counted_headers(request)
    )


def exception_handlers(
    settings: Settings, db: ThreadLocalDB
) -> dict[type[Exception], Callable[[Request, Exception], Response]]:
    """Every failure's handler; the 413 message names this appliance's image limit; a damaged database file is
    noted on ``db`` (the API's database, whose readiness then reports it)."""
    return {
        errors.AppError: app_error_handler,
        ValidationException: validation_handler,
        HTTPException: functools.partial(http_handler, max_image_bytes=settings.max_image_bytes),
        Exception: functools.partial(unexpected_handler, db=db),
    }
