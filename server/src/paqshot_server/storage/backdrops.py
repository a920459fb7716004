"""SQL of the ``backdrops`` table: the backdrop plate library.

A plate belongs to one API key (``key_id``) or, with ``key_id`` NULL, is shared by the operator with every key.
A key sees its own plates and the shared ones, never another key's. Plates are not generations: retention
never deletes them (their files are named ``bdp_…`` and the orphan sweep knows them through :func:`existing_ids`).
"""

from __future__ import annotations

import msgspec
import sqlite_utils

from ..errors import Forbidden
from .db import write


class NewBackdrop(msgspec.Struct, frozen=True, kw_only=True):
    """The columns an upload writes. Fractions are of the plate's own width/height."""

    id: str
    key_id: str | None  # None: shared by the operator
    name: str | None
    tags: list[str]
    image_file: str
    thumb_file: str
    width: int
    height: int
    floor_y: float
    floor_given: bool  # False: estimated from the plate
    area_left: float
    area_right: float
    light_azimuth: float | None  # degrees (imaging.plates.plate.LIGHT_AZIMUTH); None: overhead
    light_softness: float
    light_given: bool
    created_at: str


class Backdrop(NewBackdrop, frozen=True, kw_only=True):
    """One row of ``backdrops``."""

    @property
    def shared(self) -> bool:
        return self.key_id is None

    def files(self) -> list[str]:
        return [self.image_file, self.thumb_file]


_COLUMNS = Backdrop.__struct_fields__
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM backdrops"  # noqa: S608 - column names from the Struct


def _row(row: tuple) -> Backdrop:
    data = dict(zip(_COLUMNS, row, strict=True))
    data["tags"] = msgspec.json.decode(data["tags"])
    return msgspec.convert(data, Backdrop, strict=False)  # strict=False: SQLite's 0/1 become bool


def create(db: sqlite_utils.Database, plate: NewBackdrop, *, limit: int | None) -> Backdrop:
    """Insert ``plate``; with ``limit``, refuse (Forbidden) when its key already keeps that many plates (checked
    in the same transaction)."""
    with write(db) as conn:
        if limit is not None and plate.key_id is not None:
            held = conn.execute("SELECT count(*) FROM backdrops WHERE key_id = ?", (plate.key_id,)).fetchone()[0]
            if held >= limit:
                raise Forbidden(
                    f"This API key keeps {held} backdrop plates, the most allowed here ({limit}); delete one "
                    "(DELETE /v1/backdrops/{id}) before adding another."
                )
        values = msgspec.structs.asdict(plate)
        values["tags"] = msgspec.json.encode(plate.tags).decode()
        conn.execute(
            f"INSERT INTO backdrops ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",  # noqa: S608
            tuple(values.values()),
        )
    found = get(db, plate.id)
    assert found is not None
    return found


def get(db: sqlite_utils.Database, plate_id: str) -> Backdrop | None:
    """A plate by id, whoever owns it (the operator's view)."""
    rows = db.conn.execute(f"{_SELECT} WHERE id = ?", (plate_id,)).fetchall()
    return _row(rows[0]) if rows else None


def visible(db: sqlite_utils.Database, key_id: str, plate_id: str) -> Backdrop | None:
    """The plate if ``key_id`` may use it (its own or a shared one), else None (another key's is not found)."""
    rows = db.conn.execute(
        f"{_SELECT} WHERE id = ? AND (key_id = ? OR key_id IS NULL)",
        (plate_id, key_id),
    ).fetchall()
    return _row(rows[0]) if rows else None


def list_for_key(db: sqlite_utils.Database, key_id: str | None) -> list[Backdrop]:
    """The plates ``key_id`` may use, its own first then the shared ones, each newest first; ``None``: the
    shared plates only."""
    rows = db.conn.execute(
        f"{_SELECT} WHERE key_id = ? OR key_id IS NULL ORDER BY key_id IS NULL, created_at DESC, id DESC",
        (key_id,),
    ).fetchall()
    return [_row(row) for row in rows]


def count_for_key(db: sqlite_utils.Database, key_id: str) -> int:
    """How many plates ``key_id`` may use (its own and the shared ones)."""
    row = db.conn.execute("SELECT count(*) FROM backdrops WHERE key_id = ? OR key_id IS NULL", (key_id,)).fetchone()
    return int(row[0])


def list_all(db: sqlite_utils.Database) -> list[Backdrop]:
    """Every plate (the operator's view), shared first, then by key, newest first."""
    rows = db.conn.execute(f"{_SELECT} ORDER BY key_id IS NOT NULL, key_id, created_at DESC, id DESC").fetchall()
    return [_row(row) for row in rows]


def delete(db: sqlite_utils.Database, plate_id: str, key_id: str | None) -> Backdrop | None:
    """Delete ``key_id``'s plate (``None``: a shared one); returns the deleted row (its files are the caller's to
    delete), or None when there is no such plate of that owner."""
    owner = "key_id IS NULL" if key_id is None else "key_id = ?"
    params = (plate_id,) if key_id is None else (plate_id, key_id)
    with write(db) as conn:
        rows = conn.execute(f"{_SELECT} WHERE id = ? AND {owner}", params).fetchall()
        if not rows:
            return None
        conn.execute("DELETE FROM backdrops WHERE id = ?", (plate_id,))
    return _row(rows[0])


def existing_ids(db: sqlite_utils.Database, ids: list[str]) -> set[str]:
    """Which of ``ids`` are plates (the orphan-file sweep keeps their files)."""
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = db.conn.execute(f"SELECT id FROM backdrops WHERE id IN ({','.join('?' * len(chunk))})", chunk)  # noqa: S608
        found.update(r[0] for r in rows)
    return found
