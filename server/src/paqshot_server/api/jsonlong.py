"""A JSON request body read without its long strings: what a submission's megabyte of base64 costs the event loop.

msgspec reads a string byte by byte (escapes, UTF-8): 0.5-0.75 ms of the event loop's CPU for a submission's 1 MB of
base64, the largest part of its ~2.3 ms holding the GIL on the loop per submission (``py-spy --gil``;
docs/progress/issue-14.md, "The door at 16 clients, session 15"); this way 0.23 ms. A long string value of the
top-level object that is plain printable ASCII (no escape, no control character: base64, a URL) needs no such
reading: its end is the next quote (``bytes.find``), its checks are two vector scans (numpy), and its text is the
bytes as they are. :func:`split` cuts such strings out of the body and leaves a short skeleton for the parser;
:meth:`Split.restore` puts the texts back into the parsed object.

Whatever this does not take (escapes anywhere before a long string, non-ASCII or control characters in it, too many
strings, anything that is not a well-formed skeleton) is read whole by the parser as before: the result and every
error message are the same, only the cost differs.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import numpy as np

LONG = 64 * 1024  # bytes: strings this long are cut out; shorter ones cost the parser little
MAX_STRINGS = 256  # strings looked at, at most (keys included): a body with more is read whole by the parser
_SPACE = b" \t\n\r"  # JSON's whitespace (RFC 8259 §2)
# A cut string's stand-in: unguessable (no text a client sends equals one) and made once, not per body: a random
# number per call would be a system call, which lets the GIL go and has the event loop wait to get it back.
_TOKEN = "\x00" + secrets.token_hex(16)


@dataclass(frozen=True)
class Split:
    """A body's skeleton (each cut string replaced by a token string) and the texts cut out, by token."""

    skeleton: bytes
    texts: dict[str, str]

    def restore(self, parsed: Any) -> bool:
        """Put the cut texts back into ``parsed`` (the skeleton as decoded), in place. False when they are not all
        values of its top-level object (a key named twice keeps one of them): ``parsed`` is then not the body's."""
        if not isinstance(parsed, dict):
            return False
        found = 0
        for name, value in parsed.items():
            if isinstance(value, str) and value in self.texts:
                parsed[name] = self.texts[value]
                found += 1
        return found == len(self.texts)


def split(body: bytes) -> Split | None:
    """``body`` with each long printable-ASCII string value of its top-level object cut out, or None when there is
    none to cut (or the body is not one this scan reads: see the module's docstring).

    The scan walks the body's strings from quote to quote (``MAX_STRINGS`` at most), outside strings counting the
    brackets for the depth; it gives up at the first backslash, as a quote after one may be escaped."""
    parts: list[bytes] = []
    texts: dict[str, str] = {}
    copied = at = depth = 0
    for _ in range(MAX_STRINGS):
        start = body.find(b'"', at)
        if start < 0:
            break
        depth += body.count(b"{", at, start) + body.count(b"[", at, start)
        depth -= body.count(b"}", at, start) + body.count(b"]", at, start)
        end = body.find(b'"', start + 1)
        if end < 0 or body.find(b"\\", start, end) >= 0:
            return None
        if end - start - 1 >= LONG and depth == 1 and body[at:start].rstrip(_SPACE).endswith(b":"):
            text = _plain(body[start + 1 : end])
            if text is not None:
                token = f"{_TOKEN}{len(texts)}"
                parts += [body[copied:start], b'"\\u0000' + token[1:].encode() + b'"']
                texts[token] = text
                copied = end + 1
        at = end + 1
    else:
        return None
    if not texts:
        return None
    return Split(b"".join([*parts, body[copied:]]), texts)


def _plain(raw: bytes) -> str | None:
    """``raw`` as the text of a JSON string when it is printable ASCII (0x20-0x7e, DEL too), else None."""
    codes = np.frombuffer(raw, np.uint8)
    if codes.min() < 0x20 or codes.max() > 0x7F:
        return None
    return raw.decode("ascii")
