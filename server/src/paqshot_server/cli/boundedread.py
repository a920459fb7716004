"""A local input file read only when it is a regular file within a size limit (the desktop repeats these lines in
``paqshot_desktop/boundedread.py``, as it must not import the server, and a test checks that both files' code is
the same).

Breaker14 B14-4: a catalogue row's image ``/dev/zero`` was read whole before its size was checked (6.4 GB in
12 s); a named pipe would have waited for ever. Catalogues come from other people, and the commands' own inputs
(``generate``, ``check``) are local files of any kind too.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


class NotARegularFile(ValueError):
    """The path is a device, a named pipe or a socket: nothing a photo is kept in."""


class TooLarge(ValueError):
    """The file holds more than the limit: ``size`` (at least that many bytes) and ``limit``, in bytes."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"{size} bytes; the limit is {limit}")
        self.size, self.limit = size, limit


def read_bounded(path: Path, limit: int) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them, checked before they are read: opened
    without blocking (a named pipe opens at once instead of waiting for a writer), checked as opened (no race with
    a rename), a regular file read up to ``limit`` + 1 bytes (one that grew since is caught too).

    Raises:
        NotARegularFile: a device, pipe or socket.
        TooLarge: more than ``limit`` bytes.
        OSError: it cannot be opened or read; a folder is ``IsADirectoryError``.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        raise NotARegularFile(str(path))
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(limit + 1) if info.st_size <= limit else b""
    size = max(info.st_size, len(data))
    if size > limit:
        raise TooLarge(size, limit)
    return data
