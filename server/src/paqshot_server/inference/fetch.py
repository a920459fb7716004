"""Downloads of model files for the set-up and for operators (``models setup``, ``models pull``).

Never imported by the server or the worker: nothing downloads at run time (a layering test checks it).

A download goes to ``<cache>/<algorithm>-<digest>.part``, resumes from there with an HTTP Range request when
it was cut off, and becomes ``<cache>/<algorithm>-<digest>`` only once its size and digest match what the
catalogue says. The cache is content-addressed, so a second set-up finds the file and fetches nothing; a
file that fails its check is deleted, never installed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import httpx

from .manifests import Download, file_digest

BytesProgressFn = Callable[[int, int], None]  # (bytes done, bytes expected or 0 when unknown)
TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class FetchError(Exception):
    """A file could not be fetched (network, HTTP status); the message says what to do instead."""


class DigestMismatch(FetchError):
    """What the URL served is not the file the catalogue names (size or digest differ): nothing was kept."""


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/appliance/downloads`` (``~/.cache/...``): survives a rebuilt virtual environment."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "appliance" / "downloads"


class DownloadCache:
    """Verified downloads by digest under ``folder``."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else default_cache_dir()

    def path(self, download: Download) -> Path:
        return self.folder / f"{download.algorithm}-{download.hexdigest}"

    def cached(self, download: Download) -> Path | None:
        """The verified file for ``download`` when the cache has it (a damaged one is deleted)."""
        path = self.path(download)
        if not path.is_file():
            return None
        if matches(path, download):
            return path
        path.unlink(missing_ok=True)
        return None

    def fetch(
        self, download: Download, *, progress: BytesProgressFn | None = None, client: httpx.Client | None = None
    ) -> tuple[Path, bool]:
        """The verified file for ``download``: from the cache, else fetched (resuming a partial download).

        Returns:
            (path, fetched): ``fetched`` is False when the cache already had it.

        Raises:
            FetchError: the server could not be reached or answered an error.
            DigestMismatch: the file fetched is not the one the catalogue names (the partial file is deleted).
        """
        hit = self.cached(download)
        if hit is not None:
            return hit, False
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.path(download)
        part = target.with_name(target.name + ".part")
        own = client is None
        http = client or httpx.Client(timeout=TIMEOUT, follow_redirects=True, trust_env=True)
        try:
            _stream(http, download, part, progress)
        finally:
            if own:
                http.close()
        if not matches(part, download):
            part.unlink(missing_ok=True)
            raise DigestMismatch(
                f"{download.url} did not serve the expected file ({download.digest}); nothing was installed"
            )
        os.replace(part, target)
        return target, True


def matches(path: Path, download: Download) -> bool:
    """True when ``path`` has the size (if known) and digest ``download`` names."""
    if download.size and path.stat().st_size != download.size:
        return False
    return file_digest(path, download.algorithm) == download.hexdigest


def _stream(http: httpx.Client, download: Download, part: Path, progress: BytesProgressFn | None) -> None:
    """Append to ``part`` from where it stops (Range request); restart when the server ignores the range."""
    have = part.stat().st_size if part.exists() else 0
    if download.size and have > download.size:
        part.unlink()
        have = 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    try:
        with http.stream("GET", download.url, headers=headers) as response:
            if response.status_code == 416 and have:  # nothing left to send: the .part holds the whole file
                return
            if response.status_code not in (200, 206):
                raise FetchError(f"{download.url} answered HTTP {response.status_code}")
            resumed = response.status_code == 206 and response.headers.get("content-range", "").startswith(
                f"bytes {have}-"
            )
            done = have if resumed else 0
            length = int(response.headers.get("content-length") or 0)
            total = download.size or (done + length if length else 0)
            with part.open("ab" if resumed else "wb") as fh:
                for chunk in response.iter_bytes():  # as it arrives: a cut keeps every byte received
                    fh.write(chunk)
                    done += len(chunk)
                    if download.size and done > download.size:
                        break  # more than the file: the digest check will refuse it
                    if progress:
                        progress(done, total)
                fh.flush()
                os.fsync(fh.fileno())
    except httpx.HTTPError as exc:
        raise FetchError(f"could not fetch {download.url}: {exc}") from exc
