"""SQL of the ``api_keys`` table. Keys are stored as SHA-256 hashes; the clear key is shown once."""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import string
import time
from dataclasses import dataclass

import sqlite_utils

from ..errors import InvalidRequest
from ..ids import iso, new_id
from ..webhook_secret import new_secret
from . import fair
from .db import write

_BASE62 = string.digits + string.ascii_letters


@dataclass(frozen=True)
class ApiKey:
    """A stored key (never the clear key)."""

    id: str
    name: str
    prefix: str
    last4: str
    webhook_secret: str
    rate_limit: int
    quota: int | None
    styles: tuple[str, ...] | None
    created_at: str
    revoked_at: str | None
    previous_webhook_secret: str | None = None
    previous_secret_until: float | None = None
    weight: float = 1.0  # share of the workers while other keys wait too (storage.fair)

    def webhook_secrets(self, now: float) -> list[str]:
        """Secrets that sign ``webhook-signature`` now: the current one, then the previous one during its grace."""
        previous = self.previous_webhook_secret
        if previous and self.previous_secret_until is not None and now < self.previous_secret_until:
            return [self.webhook_secret, previous]
        return [self.webhook_secret]

    def as_public(self) -> dict[str, object]:
        """What ``keys list`` shows: no secret material."""
        return {
            "id": self.id,
            "name": self.name,
            "key": f"{self.prefix}…{self.last4}",
            "rate_limit": self.rate_limit,
            "quota": self.quota,
            "styles": list(self.styles) if self.styles else None,
            "weight": self.weight,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
        }


def hash_key(clear: str) -> str:
    """SHA-256 hex of a clear key (keys are random and long: no salt or KDF needed)."""
    return hashlib.sha256(clear.encode()).hexdigest()


def _row_to_key(row: dict) -> ApiKey:
    return ApiKey(
        id=row["id"],
        name=row["name"],
        prefix=row["prefix"],
        last4=row["last4"],
        webhook_secret=row["webhook_secret"],
        rate_limit=row["rate_limit"],
        quota=row["quota"],
        styles=tuple(json.loads(row["styles"])) if row["styles"] else None,
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
        previous_webhook_secret=row.get("previous_webhook_secret"),
        previous_secret_until=row.get("previous_secret_until"),
        weight=float(row.get("weight", 1.0)),
    )


def create_key(
    db: sqlite_utils.Database,
    *,
    name: str,
    key_prefix: str,
    secret_prefix: str,
    rate_limit: int,
    quota: int | None = None,
    styles: list[str] | None = None,
    weight: float = 1.0,
) -> tuple[ApiKey, str]:
    """Create a key; return it and the clear key (the only time the clear key exists).

    ``weight``: the key's share of the workers while other keys' jobs wait too (``storage.fair``; 2 = twice
    a weight-1 key's). Raises InvalidRequest outside ``fair.MIN_WEIGHT``..``fair.MAX_WEIGHT``."""
    if not fair.MIN_WEIGHT <= weight <= fair.MAX_WEIGHT:
        raise InvalidRequest(f"weight must be between {fair.MIN_WEIGHT} and {fair.MAX_WEIGHT}; got {weight}.")
    clear = key_prefix + "".join(secrets.choice(_BASE62) for _ in range(40))
    webhook_secret = new_secret(secret_prefix)
    row = {
        "id": new_id("key"),
        "name": name,
        "key_hash": hash_key(clear),
        "prefix": key_prefix,
        "last4": clear[-4:],
        "webhook_secret": webhook_secret,
        "rate_limit": rate_limit,
        "quota": quota,
        "styles": json.dumps(styles) if styles else None,
        "created_at": iso(time.time()),
        "revoked_at": None,
        "weight": float(weight),
    }
    with write(db):
        db.table("api_keys").insert(row)
    return _row_to_key(row), clear


def find_active(db: sqlite_utils.Database, clear: str) -> ApiKey | None:
    """The active key whose hash matches ``clear``, else None."""
    digest = hash_key(clear)
    cur = db.conn.execute("SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL", (digest,))
    row = cur.fetchone()
    if row is None:
        return None
    record = dict(zip([c[0] for c in cur.description], row, strict=True))
    # No constant-time compare after this lookup: it is by SHA-256 of the key, so its timing could reveal at
    # most a prefix of a hash the caller cannot steer (a compare here would compare the digest with itself).
    return _row_to_key(record)


def get(db: sqlite_utils.Database, key_id: str) -> ApiKey | None:
    rows = list(db.query("SELECT * FROM api_keys WHERE id = ?", [key_id]))
    return _row_to_key(rows[0]) if rows else None


def list_keys(db: sqlite_utils.Database) -> list[ApiKey]:
    return [_row_to_key(r) for r in db.query("SELECT * FROM api_keys ORDER BY created_at, id")]


def _one_active(conn: sqlite3.Connection, key_id_or_name: str, action: str) -> str | None:
    """The id of the active key with this id, or of the one active key with this name (None: no such key).

    Raises:
        InvalidRequest: the name is shared by several active keys (the message lists their ids).
    """
    rows = conn.execute(
        "SELECT id, name FROM api_keys WHERE (id = ? OR name = ?) AND revoked_at IS NULL ORDER BY created_at, id",
        (key_id_or_name, key_id_or_name),
    ).fetchall()
    by_id = [key_id for key_id, _ in rows if key_id == key_id_or_name]
    targets = by_id or [key_id for key_id, _ in rows]
    if len(targets) > 1:
        raise InvalidRequest(
            f"{len(targets)} active keys are named {key_id_or_name!r} ({', '.join(targets)}); {action} one by its id."
        )
    return targets[0] if targets else None


def revoke(db: sqlite_utils.Database, key_id_or_name: str) -> bool:
    """Revoke the active key with this id, or the one active key with this name; True if a key was revoked.

    Names are labels, not unique: several active keys may share one.

    Raises:
        InvalidRequest: the name is shared by several active keys (nothing is revoked; the message lists their ids).
    """
    with write(db) as conn:
        target = _one_active(conn, key_id_or_name, "revoke")
        if target is not None:
            conn.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ?", (iso(time.time()), target))
    return target is not None


def rotate_secret(
    db: sqlite_utils.Database, key_id_or_name: str, *, secret_prefix: str, grace_seconds: float, now: float
) -> ApiKey | None:
    """Give a key a new webhook secret; the old one keeps signing ``webhook-signature`` for ``grace_seconds``.

    Returns the updated key (with its new secret, shown once), or None when no active key matches.

    Raises:
        InvalidRequest: the name is shared by several active keys (nothing changes).
    """
    with write(db) as conn:
        target = _one_active(conn, key_id_or_name, "rotate")
        if target is None:
            return None
        conn.execute(
            "UPDATE api_keys SET previous_webhook_secret = webhook_secret, previous_secret_until = ?, "
            "webhook_secret = ? WHERE id = ?",
            (now + grace_seconds, new_secret(secret_prefix), target),
        )
    return get(db, target)
