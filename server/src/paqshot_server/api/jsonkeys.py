"""A key named twice in one object of a JSON request body.

RFC 8259 §4: the names within an object SHOULD be unique, and parsers differ on a repeated one. msgspec keeps the
last; a proxy, WAF or logging layer in front of the appliance may read the first. A body that repeats a key is
therefore refused (400 naming it) rather than read one way here and another way on its path.

msgspec cannot report a repeated key, and the standard library's parser, which can (``object_pairs_hook``), reads a
request's base64 image at ~1.7 ms per MB (a fifth of the submit path's whole CPU budget of 8 ms, docs/progress/
issue-14.md): so the long strings of the top-level object are cut out of the body first, found by their start (a
short prefix) and end (the next quote, when the string has no escapes), and the standard library's parser reads
the skeleton that is left (a few hundred bytes). A long string that is not found so (escaped characters) stays in:
the answer is the same, only slower.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

LONG = 256  # characters: a top-level string value this long is cut out before the duplicate check
_PREFIX = 64  # characters of a long string searched for to find where it starts


class _Repeated(Exception):
    def __init__(self, name: str) -> None:
        self.name = name


def repeated_key(body: bytes, parsed: Any) -> str | None:
    """The first key named twice in one object of the JSON ``body``, or None. ``parsed``: ``body`` as msgspec
    decoded it (its long strings are cut out of the body before the check). ``body`` must be valid JSON (it was
    parsed); raises RecursionError as the parser does for a body nested too deeply."""
    skeleton = _without_long_strings(body, parsed) if isinstance(parsed, dict) else body
    try:
        json.loads(skeleton, object_pairs_hook=_unique)
    except _Repeated as exc:
        return exc.name
    return None


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for name, value in pairs:
        if name in seen:
            raise _Repeated(name)
        seen[name] = value
    return seen


def _without_long_strings(body: bytes, parsed: dict[str, Any]) -> bytes:
    """``body`` with each long string value of its top-level object replaced by ``""`` where its text is found
    exactly: a quote that opens a value (after a colon: inside a string a quote is escaped), the value's first
    characters, and the next quote as many characters on, no backslash between. Others are left in (slower only)."""
    cuts: list[tuple[int, int]] = []
    for value in parsed.values():
        if not (isinstance(value, str) and len(value) >= LONG and value.isascii()):
            continue
        head = msgspec.json.encode(value[:_PREFIX])[:-1]  # its opening quote and first characters, escaped
        start = body.find(head)
        end = body.find(b'"', start + 1) if start >= 0 else -1
        if (
            end - start - 1 == len(value)  # an escape in the text would make it longer than the value
            and body.find(b"\\", start, end) < 0
            and body[max(0, start - _PREFIX) : start].rstrip().endswith(b":")
        ):
            cuts.append((start, end + 1))
    parts, at = [], 0
    for start, end in sorted(set(cuts)):  # two values of the same text are found at the same place
        parts += [body[at:start], b'""']
        at = end
    return b"".join([*parts, body[at:]]) if cuts else body
