"""File store addressed by id: inputs and results under ``<home>/files``, written atomically.

One interface (``put``/``path``/``read``/``delete``) so shared object storage can replace local disk later.
Files are spread over shard folders by a random part of the name: the last two characters of the owner's
ULID (``gen_<26 characters>``), 80 random bits of which the last 10 pick one of 1024 folders (ids made in
the same millisecond count up from a random start, ``ids.ulid``: they take the next folders in turn), so all
files of one job share a folder and jobs spread evenly. Stores written before this layout sharded by the name's
last two characters (a constant suffix); those files are still found where they are.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import StorageFull
from .faults import REFUSED_ERRNOS, ReadRefused, is_storage_full

_NAME = re.compile(r"^[a-z0-9_]+(\.[a-z0-9]+)*$")
_OWNER = re.compile(r"^([a-z]+_[0-9a-z]{26})(?:_|\.|$)")  # gen_<ULID>: the job a file belongs to


def owner_of(name: str) -> str | None:
    """The id (``gen_…``) a stored file belongs to, when its name starts with one."""
    match = _OWNER.match(name)
    return match.group(1) if match else None


def shard_of(name: str) -> str:
    """The shard folder of ``name``: random ULID characters of its owner, else a hash of the name."""
    owner = owner_of(name)
    if owner is not None:
        return owner[-2:]
    return hashlib.sha256(name.encode()).hexdigest()[:2]


def _sync_folder(folder: Path) -> None:
    """fsync a folder: the names created or renamed in it are durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileStore:
    """Sharded folder of immutable files named by the caller (``gen_…_1.jpg``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, name: str) -> Path:
        """Where ``name`` is written; refuses names that could escape the store."""
        if not _NAME.match(name):
            raise ValueError(f"bad file name {name!r}")
        return self.root / shard_of(name) / name

    def _legacy(self, name: str) -> Path:
        return self.root / name.split(".")[0][-2:] / name

    def find(self, name: str) -> Path:
        """Where ``name`` is (the current layout, or the one before it); the current place when absent."""
        current = self.path(name)
        if current.is_file():
            return current
        legacy = self._legacy(name)
        return legacy if legacy.is_file() else current

    def put(self, name: str, data: bytes) -> Path:
        """Write atomically: temp file in the same folder, fsync, rename, fsync the folder (and the store's root when
        the folder is new). The rename is durable only then (POSIX; a later fsync or fdatasync of another file, such
        as SQLite's WAL, need not carry it): a 202 promises the photo. Nothing is left on failure.

        Raises:
            StorageFull: no space left (the partial temp file is removed).
            OSError: any other write failure (permissions, I/O), after the same clean-up.
        """
        target = self.path(name)
        tmp: str | None = None
        renamed = False
        try:
            new_folder = not target.parent.is_dir()
            if new_folder:
                target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
            renamed = True
            _sync_folder(target.parent)
            if new_folder:
                _sync_folder(self.root)
        except BaseException as exc:
            if renamed:
                target.unlink(missing_ok=True)
            elif tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            if is_storage_full(exc):
                raise StorageFull("disk") from exc
            raise
        return target

    def write_problem(self) -> str | None:
        """Why a file could not be written in the store now, in words ("permission denied", "read-only file
        system"), or None when it can: an unnamed temporary file (``O_TMPFILE``: nothing to clean up, even after a
        kill) is made in the store's folder, which is made first when missing."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.root):
                return None
        except OSError as exc:
            return (exc.strerror or str(exc)).lower()

    def read(self, name: str) -> bytes:
        """The bytes of ``name``. Raises FileNotFoundError (absent), :class:`.faults.ReadRefused` (the file system
        refused: permissions, I/O), ValueError (a name that could escape the store)."""
        try:
            return self.find(name).read_bytes()  # find too: a shard folder the file system refuses (breaker17)
        except OSError as exc:
            if exc.errno in REFUSED_ERRNOS:
                raise ReadRefused(exc.errno, exc.strerror, exc.filename) from exc
            raise

    def size(self, name: str) -> int:
        """Bytes of ``name``. Raises FileNotFoundError (absent), ValueError (a name that could escape the store)."""
        return self.find(name).stat().st_size

    def exists(self, name: str) -> bool:
        return self.find(name).is_file()

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)
        self._legacy(name).unlink(missing_ok=True)

    def delete_owned(self, owner: str, names: Iterable[str] = ()) -> None:
        """Delete every file of ``owner`` (a job's id): each in its shard folder whose name starts with it, which
        includes the files of an attempt that was killed while storing (no row names those: the retry stores
        its own, breaker13 B13-1), and ``names`` (the row's) wherever they are (a store of the layout before).
        Temp files (``.tmp-…``) are the orphan sweep's."""
        folder = self.root / shard_of(owner)
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(folder):
                if owner_of(entry.name) == owner:
                    Path(entry.path).unlink(missing_ok=True)
        for name in names:
            self.delete(name)

    def stale(self, age_seconds: float) -> Iterator[Path]:
        """Files (temp files included) last modified more than ``age_seconds`` ago: for the orphan sweep."""
        cutoff = time.time() - age_seconds
        if not self.root.is_dir():
            return
        for folder in self.root.iterdir():
            if not folder.is_dir():
                continue
            for entry in os.scandir(folder):
                try:
                    if entry.is_file() and entry.stat().st_mtime < cutoff:
                        yield Path(entry.path)
                except FileNotFoundError:  # deleted meanwhile
                    continue
