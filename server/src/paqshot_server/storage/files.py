"""File store addressed by id: inputs and results under ``<home>/files``, written atomically.

One interface (``put``/``path``/``delete``) so shared object storage can replace local disk later.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

_NAME = re.compile(r"^[a-z0-9_]+(\.[a-z0-9]+)*$")


class FileStore:
    """Flat, sharded folder of immutable files named by the caller (``gen_…_1.jpg``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, name: str) -> Path:
        """Where ``name`` lives; refuses names that could escape the store."""
        if not _NAME.match(name):
            raise ValueError(f"bad file name {name!r}")
        return self.root / name.split(".")[0][-2:] / name

    def put(self, name: str, data: bytes) -> Path:
        """Write atomically: temp file in the same folder, fsync, rename."""
        target = self.path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def read(self, name: str) -> bytes:
        return self.path(name).read_bytes()

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)
