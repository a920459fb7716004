"""The API key in the system keyring (``keyring``: Secret Service, macOS Keychain, Windows Credential Locker).

Where no keyring works (a headless Linux box, a locked or refused keyring), the caller keeps the key in the
per-brand settings file instead, readable by the user only. Both functions block (keyring may talk D-Bus and
its import alone takes ~0.5 s): call them on a worker, never on the GUI thread.
"""

from __future__ import annotations

import contextlib
import logging

log = logging.getLogger(__name__)


def read_key(service: str, account: str) -> str | None:
    """The stored key ("" when none is stored), or None when no keyring is usable here."""
    import keyring
    from keyring.errors import KeyringError

    try:
        return keyring.get_password(service, account) or ""
    except KeyringError as exc:
        log.info("no usable keyring (%s); the settings file holds the key", exc)
        return None


def write_key(service: str, account: str, key: str) -> bool:
    """Store ``key`` (or delete it when empty); False when no keyring is usable here."""
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    try:
        if key:
            keyring.set_password(service, account, key)
        else:
            with contextlib.suppress(PasswordDeleteError):  # nothing was stored
                keyring.delete_password(service, account)
    except KeyringError as exc:
        log.info("no usable keyring (%s); the settings file holds the key", exc)
        return False
    return True
