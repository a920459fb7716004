"""Identifiers and timestamps: lowercase ULIDs with a type prefix, RFC 3339 UTC times."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def ulid(now: float | None = None) -> str:
    """A 26-character lowercase ULID: 48-bit millisecond time + 80 random bits (sortable by time)."""
    ms = int((time.time() if now is None else now) * 1000)
    value = (ms << 80) | int.from_bytes(os.urandom(10), "big")
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
