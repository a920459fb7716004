"""Helpers shared by sub-commands: settings from flags + environment, logging set-up."""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path
from typing import Any

from ..errors import ImageTooLarge, InvalidRequest, megabytes
from ..settings import Settings, load_settings
from . import boundedread

# Set by ``main`` from ``--verbose``: a process-wide CLI switch, read where an internal error is reported.
VERBOSE = False


def internal_error(exc: BaseException) -> str:
    """One line for an error that is our bug, not the user's; with ``--verbose`` its traceback goes to stderr
    first, without it the line says how to get it."""
    if VERBOSE:
        traceback.print_exception(exc, file=sys.stderr)
        return f"internal error ({type(exc).__name__}: {exc})"
    return f"internal error ({type(exc).__name__}: {exc}); run with --verbose for the traceback"


_OS_ERROR_WORDS = (
    (FileNotFoundError, "{what} not found: {name}"),
    (IsADirectoryError, "{what} is a folder, not a file: {name}"),
    (NotADirectoryError, "{what} path runs through something that is not a folder: {name}"),
    (PermissionError, "{what} cannot be opened (permission denied): {name}"),
)


def os_error_words(exc: OSError, what: str = "file") -> str:
    """A plain sentence for a file-system error (``"image file not found: /nope/missing.jpg"``), never Python's
    ``[Errno 2] …`` text. ``what``: the kind of file, as the user named it ("image file", "output folder")."""
    if exc.errno is None and exc.filename is None:
        return str(exc)  # an OSError raised with a sentence of ours
    name = exc.filename if exc.filename is not None else ""
    for kind, words in _OS_ERROR_WORDS:
        if isinstance(exc, kind) and name:
            return words.format(what=what, name=name)
    reason = (exc.strerror or "an input/output error").rstrip(".")
    reason = reason[0].lower() + reason[1:]
    return f"{what} could not be used ({reason}): {name}" if name else f"{what} could not be used ({reason})"


def read_bounded(path: Path, limit: int, what: str) -> bytes:
    """The bytes of the local input file at ``path`` (``cli.boundedread``: checked before it is read), at most
    ``limit`` of them. ``what``: the file's kind, in words ("image file").

    Raises:
        InvalidRequest: not a regular file (a device, pipe or socket).
        ImageTooLarge: more than ``limit`` bytes (the message names the size and the limit).
        OSError: the file cannot be opened or read, or is a folder (``IsADirectoryError``).
    """
    try:
        return boundedread.read_bounded(path, limit)
    except boundedread.NotARegularFile:
        raise InvalidRequest(f"{what} is not a regular file (a device, pipe or socket): {path}") from None
    except boundedread.TooLarge as exc:
        raise ImageTooLarge(f"{what} {path} is {exc.size / 1e6:.1f} MB; the limit is {megabytes(limit)}.") from None


def add_home_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--home", help="data folder (default: environment or ./data)")


def settings_from(args: argparse.Namespace, **extra: Any) -> Settings:
    """Settings with ``--home`` and any given flag values applied over file and environment."""
    overrides = {"home": getattr(args, "home", None), **extra}
    return load_settings(overrides={k: v for k, v in overrides.items() if v is not None})


def presets_ok(settings: Settings) -> bool:
    """Validate every preset file before starting; print what is wrong (file and problem) and return False."""
    import sys

    from ..imaging.presets import PresetError
    from ..resources import Resources

    try:
        Resources(settings).presets  # noqa: B018 - loading is the check
    except PresetError as exc:
        print(f"error: preset: {exc}", file=sys.stderr)
        return False
    return True


def database_kept(settings: Settings) -> bool:
    """False, with the reason printed, when the data folder is in use and its database was lost
    (:func:`..storage.db.lost_database`): a command that would create it must not hide the loss under an empty one."""
    from ..storage.db import lost_database

    lost = lost_database(settings.app_db, settings.queue_db, settings.files_dir)
    if lost:
        print(f"error: {lost}", file=sys.stderr)
    return lost is None


def setup_logging(settings: Settings) -> None:
    """Logging as the settings say (text or JSON lines)."""
    from ..logs import setup_logging as setup

    setup(settings.log_level, settings.log_format)
