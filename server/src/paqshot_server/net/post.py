"""One webhook POST under the SSRF policy, bounded in time and memory, that reports instead of raising.

Bounds (docs/webhooks.md): one deadline for the whole attempt (DNS + connect + send + status line + the
part of the body that is read), cancelled by ``asyncio.timeout`` so a receiver that drips bytes cannot
stretch it; redirects are never followed; a 2xx body is not read at all; other bodies are read up to
``MAX_RESPONSE_BYTES`` (an excerpt is kept for the delivery log). ``Retry-After`` is understood in both
RFC 9110 forms (delay-seconds and HTTP-date) and capped at ``MAX_RETRY_AFTER``.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC

import httpx

from ..errors import InvalidRequest
from .addresses import AddressPolicy
from .fetch import CONNECT_TIMEOUT, resolve_async, split_url

log = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 64 * 1024
MAX_RETRY_AFTER = 24 * 3600.0  # a receiver may ask for a day's pause, not more
EXCERPT_CHARS = 200
_CONTROL = re.compile(r"[\x00-\x20\x7f]")  # controls and spaces: never valid in a URL (RFC 3986)
_DELAY_SECONDS = re.compile(r"^[0-9]+$")
# RFC 9110 §5.6.7: recipients MUST accept the obsolete asctime form too, which carries no zone (it is GMT).
_ASCTIME = re.compile(r"^[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}$")


@dataclass(frozen=True)
class PostOutcome:
    """What one webhook POST did. ``permanent``: the URL can never be sent, retrying is pointless."""

    status_code: int | None
    latency_ms: float
    error: str | None
    retry_after: float | None = None
    permanent: bool = False
    excerpt: str | None = None
    location: str | None = None


def check_sendable(url: str, schemes: tuple[str, ...]) -> None:
    """Refuse a URL that no HTTP request can carry (control characters, spaces, bad syntax, scheme).

    Raises:
        InvalidRequest: with a message that names the problem.
    """
    bad = _CONTROL.search(url)
    if bad:
        raise InvalidRequest(f"URL contains a control character or space at position {bad.start() + 1}.")
    split_url(url, schemes=schemes)
    try:
        httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise InvalidRequest(f"URL cannot be sent: {exc}.") from exc


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delay-seconds or HTTP-date), in [0, MAX_RETRY_AFTER].

    Anything else (``inf``, ``1e9``, negative, garbage) is ignored: None.
    """
    if not value:
        return None
    text = value.strip()
    if _DELAY_SECONDS.match(text):  # any number of digits: a huge delay is a long one, capped below
        seconds = float(int(text)) if len(text) <= 12 else MAX_RETRY_AFTER
    else:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when is not None and when.tzinfo is None and _ASCTIME.match(text):
            when = when.replace(tzinfo=UTC)
        if when is None or when.tzinfo is None:  # other RFC 9110 dates say GMT; one without a zone is not one
            return None
        seconds = when.timestamp() - now
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    policy: AddressPolicy,
    *,
    schemes: tuple[str, ...],
    deadline: float,
) -> PostOutcome:
    """POST ``body`` once within ``deadline`` seconds in all (the setting ``webhook_timeout_seconds``) and report
    what happened; never raises for anything the receiver or URL does."""
    started = time.monotonic()

    def done(code: int | None, error: str | None, **extra: object) -> PostOutcome:
        return PostOutcome(code, round((time.monotonic() - started) * 1000, 1), error, **extra)  # type: ignore[arg-type]

    try:
        check_sendable(url, schemes)
    except InvalidRequest as exc:
        return done(None, f"webhook_url cannot be sent: {exc.message}", permanent=True)
    loop = asyncio.get_running_loop()
    until = loop.time() + deadline
    try:
        async with (
            asyncio.timeout_at(until),
            httpx.AsyncClient(
                trust_env=False,
                follow_redirects=False,
                timeout=httpx.Timeout(deadline, connect=min(CONNECT_TIMEOUT, deadline)),
            ) as client,
        ):
            target = await resolve_async(url, policy)
            request = client.build_request(
                "POST",
                target.request_url(),
                content=body,
                headers={**headers, "Host": target.host_header()},
                extensions=target.extensions(),
            )
            response = await client.send(request, stream=True)
            try:
                code = response.status_code
                retry_after = parse_retry_after(response.headers.get("retry-after"), time.time())
                location = response.headers.get("location", "")[:EXCERPT_CHARS] or None
                excerpt = None if 200 <= code < 300 else await _excerpt(response, until - 0.05)
            finally:
                await response.aclose()
    except TimeoutError:
        return done(None, f"no answer within the {deadline:g} s deadline")
    except InvalidRequest as exc:  # DNS failure or a refused address: may change, so retried
        return done(None, exc.message)
    except httpx.HTTPError as exc:
        return done(None, _describe(exc))
    except Exception as exc:  # anything else is still an attempt: logged, counted, and the schedule runs out
        log.exception("webhook POST to %s raised", url[:EXCERPT_CHARS])
        return done(None, f"could not be sent: {_describe(exc)}")
    return done(code, None, retry_after=retry_after, excerpt=excerpt, location=location)


async def _excerpt(response: httpx.Response, until: float) -> str | None:
    """The start of the body, read up to MAX_RESPONSE_BYTES and until just before the attempt's deadline."""
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout_at(until):
            async for chunk in response.aiter_raw():
                chunks.append(chunk[: MAX_RESPONSE_BYTES - size])
                size += len(chunks[-1])
                if size >= MAX_RESPONSE_BYTES:
                    break
    except (TimeoutError, httpx.HTTPError):
        pass  # the status line is what counts; a slow or broken body only shortens the excerpt
    text = b"".join(chunks).decode("utf-8", "replace").strip()
    return " ".join(text.split())[:EXCERPT_CHARS] or None
