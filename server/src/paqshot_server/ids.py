"""Identifiers and timestamps: lowercase ULIDs with a type prefix, RFC 3339 UTC times."""

from __future__ import annotations

import os
import re
import threading
import time
from datetime import UTC, datetime

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
_RANDOM_BITS = 80
_last_lock = threading.Lock()
_last = 0  # the latest ULID value this process made from the clock (the monotonic generator's state)


def ulid(now: float | None = None) -> str:
    """A 26-character lowercase ULID: 48-bit millisecond time + 80 random bits (sortable by time).

    Without ``now``, ULIDs are monotonic within this process (the ULID spec's "monotonicity": within one
    millisecond, or if the clock steps back, the next value is the previous one plus 1), so ids made one after
    the other always sort in the order they were made; 80 random bits alone order those of one millisecond
    at random. ``now`` (Unix seconds) makes one ULID of that time, outside the sequence.
    """
    if now is not None:
        return _text((int(now * 1000) << _RANDOM_BITS) | int.from_bytes(os.urandom(10), "big"))
    global _last
    fresh = (int(time.time() * 1000) << _RANDOM_BITS) | int.from_bytes(os.urandom(10), "big")
    with _last_lock:
        _last = fresh if fresh >> _RANDOM_BITS > _last >> _RANDOM_BITS else _last + 1
        value = _last
    return _text(value)


def _text(value: int) -> str:
    """A 128-bit ULID value in Crockford base32, lowercase (26 characters)."""
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def id_pattern(prefix: str) -> str:
    """Regex of a :func:`new_id` with ``prefix`` (from the start of the text; the caller anchors its end)."""
    return f"^{prefix}_[{_CROCKFORD}]{{26}}"


def new_id(prefix: str) -> str:
    """``gen_01j9…``-style id."""
    return f"{prefix}_{ulid()}"


def iso(ts: float) -> str:
    """Unix time → ``2026-06-09T14:00:00Z`` (second precision, like the spec)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> float:
    """Inverse of :func:`iso`."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


# What an error message may repeat of an id a client sent: the shape of the ids made here (a type prefix and a
# ULID) with room to spare. A path segment may hold anything (a NUL, 10,000 characters: breaker8).
_ECHOABLE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def shown(value: str) -> str:
    """``value`` as a message names it: itself when it looks like an id, else "with that id" (so that "Generation
    {shown(x)} not found." reads either way)."""
    return value if _ECHOABLE.fullmatch(value) else "with that id"
