"""A small, really full disk for storage-fault tests (importable as ``storage_support``).

As root (CI), a tmpfs of a few MB is mounted and filled with a ballast file; elsewhere the tests that need
it fall back to a patched writer (``ENOSPC`` raised by the file store and ``SQLITE_FULL`` by SQLite's writes).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path


def can_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("mount") is not None


@contextlib.contextmanager
def small_tmpfs(parent: Path, size_kb: int = 8192) -> Iterator[Path]:
    """A tmpfs of ``size_kb`` mounted under ``parent``; unmounted afterwards."""
    mount = parent / "tmpfs"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k,mode=0755", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(mount: Path, leave_bytes: int = 0) -> Path:
    """Fill the file system with a ballast file, leaving about ``leave_bytes`` free; returns the ballast."""
    ballast = mount / "ballast"
    with open(ballast, "wb", buffering=0) as fh:
        chunk = b"\0" * 4096
        with contextlib.suppress(OSError):
            while True:
                fh.write(chunk)
    if leave_bytes:
        os.truncate(ballast, max(0, ballast.stat().st_size - leave_bytes))
    return ballast
