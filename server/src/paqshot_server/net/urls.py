"""The shape of a URL this appliance fetches or posts to: one grammar for the API schema and the fetcher.

A URL of this shape is always one the HTTP client can send (printable ASCII, a DNS-style host name or an IPv4
address, a port in range, no ``user:password@``), so what the schema allows is never refused for its shape
and a stored webhook URL can never become an event that cannot be attempted. The pattern is written in the
syntax that ECMA-262 (JSON Schema) and Python's ``re`` read alike.
"""

from __future__ import annotations

import re

from ..patterns import END

MAX_URL = 2048
IMAGE_URL_SCHEMES = ("http", "https")
_LABEL = "[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
# A DNS-style name or a dotted IPv4 address. No IPv6 literals: "[...]" has no short exact pattern, and a
# receiver on IPv6 is reached by its host name.
_HOST = rf"{_LABEL}(\.{_LABEL})*\.?"
_PORT = "(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"  # 1-65535


def url_pattern(schemes: tuple[str, ...]) -> str:
    """Regex of an absolute URL with one of ``schemes`` (any letter case)."""
    case_free = "|".join("".join(f"[{c.upper()}{c}]" for c in scheme) for scheme in schemes)
    return rf"^({case_free})://{_HOST}(:{_PORT})?([/?#][!-~]*)?{END}"


def url_words(schemes: tuple[str, ...]) -> str:
    """:func:`url_pattern` in words, for error messages (no example address in them: a refusal never names an
    address a host could resolve to, ``tests/server/net/test_ssrf.py``)."""
    return (
        f"an {' or '.join(f'{s}://' for s in schemes)} URL in printable ASCII whose host is a name or an IPv4 "
        "address (no spaces, control characters or user:password@; percent-encode other characters; a host in "
        "brackets, an IPv6 address, is not accepted: use a host name that resolves to it)"
    )


def url_shape_error(url: str, schemes: tuple[str, ...]) -> str | None:
    """Why ``url`` is not a URL this appliance can send to (in words), or None when its shape is fine."""
    if len(url) > MAX_URL or not re.search(url_pattern(schemes), url):
        return f"must be {url_words(schemes)}, at most {MAX_URL} characters long"
    return None


def webhook_schemes(allow_private_network: bool) -> tuple[str, ...]:
    """Schemes a webhook URL may use: https, and plain http only where the operator allows private networks
    (a LAN receiver); the served schema states the same (``api.openapi``)."""
    return ("http", "https") if allow_private_network else ("https",)
