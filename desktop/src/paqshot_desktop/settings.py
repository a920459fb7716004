"""User settings, namespaced per brand (QSettings with the brand's organisation and app names).

Two partners' apps on one computer therefore never read each other's server address or key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from .branding import Brand
from .model import DEFAULT_NAME_PATTERN

# Every persisted setting once: key -> default.
DEFAULTS: dict[str, Any] = {
    "server_url": "",
    "api_key": "",  # only where no keyring works (see keystore.py); the file is private to the user
    "use_local": False,
    "procedural_hint_seen": False,
    "save_folder": "",
    "name_pattern": DEFAULT_NAME_PATTERN,
    "last_options": {},
    "job_sources": {},
    "geometry": b"",
}


class Settings:
    """Typed access to the brand's QSettings."""

    def __init__(self, brand: Brand, path: Path | None = None) -> None:
        if path is not None:
            # Tests (and portable installs) keep settings in a file of their own.
            self._qs = QSettings(str(path), QSettings.Format.IniFormat)
        else:
            self._qs = QSettings(
                QSettings.Format.IniFormat,
                QSettings.Scope.UserScope,
                brand.settings_organisation,
                brand.settings_application,
            )
        self._brand = brand

    @property
    def file_name(self) -> str:
        """Where the settings are stored."""
        return self._qs.fileName()

    def get(self, key: str) -> Any:
        """A setting's value, converted to its default's type."""
        default = DEFAULTS[key]
        value = self._qs.value(key, default)
        if isinstance(default, bool):
            return value in (True, "true", "1", 1)
        if isinstance(default, dict):
            return dict(value) if isinstance(value, dict) else {}
        if isinstance(default, bytes):
            if isinstance(value, QByteArray):
                return bytes(value.data())
            return bytes(value) if isinstance(value, bytes | bytearray) else b""
        return str(value) if value is not None else default

    def set(self, key: str, value: Any) -> None:
        """Store a setting (unknown keys are a programming error)."""
        if key not in DEFAULTS:
            raise KeyError(key)
        self._qs.setValue(key, value)

    @property
    def keyring_service(self) -> str:
        """The keyring entry's service name: per brand, like the settings namespace (account: the server URL)."""
        return f"{self._brand.settings_organisation}/{self._brand.settings_application}"

    def server_url(self) -> str:
        """Saved server address, or the brand's default."""
        return str(self.get("server_url")) or self._brand.default_server_url

    def sync(self) -> None:
        """Write pending changes to disk, readable by this user only (the file holds the API key)."""
        self._qs.sync()
        path = Path(self._qs.fileName())
        if os.name == "posix" and path.is_file():
            path.chmod(0o600)
