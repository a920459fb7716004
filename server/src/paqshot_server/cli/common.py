"""Helpers shared by sub-commands: settings from flags + environment, logging set-up."""

from __future__ import annotations

import argparse
import sys
import traceback
from typing import Any

from ..settings import Settings, load_settings

# Set by ``main`` from ``--verbose``: a process-wide CLI switch, read where an internal error is reported.
VERBOSE = False


def internal_error(exc: BaseException) -> str:
    """One line for an error that is our bug, not the user's; with ``--verbose`` its traceback goes to stderr
    first, without it the line says how to get it."""
    if VERBOSE:
        traceback.print_exception(exc, file=sys.stderr)
        return f"internal error ({type(exc).__name__}: {exc})"
    return f"internal error ({type(exc).__name__}: {exc}); run with --verbose for the traceback"


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


def setup_logging(settings: Settings) -> None:
    """Logging as the settings say (text or JSON lines)."""
    from ..logs import setup_logging as setup

    setup(settings.log_level, settings.log_format)
