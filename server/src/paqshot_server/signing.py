"""Signed, expiring file URLs (the spec's image URLs work without the API key, like CDN links).

The server secret lives in ``<home>/secret.key`` (created once, mode 0600) and is shared by the API and
the workers, which both build URLs (responses and webhook payloads).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from urllib.parse import quote

APPLIANCE_KEY_FILE = "secret.key"


def load_or_create_secret(home: Path) -> bytes:
    """Read the URL-signing secret, creating it on first use (race-safe across processes)."""
    path = home / APPLIANCE_KEY_FILE
    home.mkdir(mode=0o700, parents=True, exist_ok=True)  # private: secrets and customer data
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    for _ in range(50):  # another process may be between create and write
        text = path.read_text().strip()
        if text:
            return bytes.fromhex(text)
        time.sleep(0.02)
    raise RuntimeError(f"{path} is empty")


def load_secret(home: Path) -> bytes | None:
    """The appliance's secret when ``home`` holds one (:func:`load_or_create_secret` made it), else None: for
    readers that must not make a new appliance identity (a check run outside the data folder). Raises ValueError
    on a damaged file."""
    try:
        text = (home / APPLIANCE_KEY_FILE).read_text().strip()
    except FileNotFoundError:
        return None
    return bytes.fromhex(text) if text else None


def signature(secret: bytes, name: str, expires: int) -> str:
    """HMAC of the file name and its expiry time."""
    return hmac.new(secret, f"{name}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def file_url(base_url: str, secret: bytes, name: str, expires: int) -> str:
    """Public URL of a stored file, valid until ``expires`` (Unix time)."""
    return f"{base_url}/files/{quote(name)}?expires={expires}&sig={signature(secret, name, expires)}"


def verify(secret: bytes, name: str, expires: int, sig: str, now: float) -> bool:
    """True when ``sig`` is ours for this name and the link has not expired (any text: compared as UTF-8
    bytes, since ``compare_digest`` refuses non-ASCII ``str``)."""
    given = sig.encode("utf-8", "replace")
    return now < expires and hmac.compare_digest(signature(secret, name, expires).encode(), given)
