"""The ``paqshot`` command. Thin: each sub-command module registers itself and calls into the library."""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from collections.abc import Sequence
from typing import NoReturn

from .. import __version__
from ..branding import DEFAULT_BRAND
from ..errors import Unavailable
from ..settings import SettingError
from . import common

# Each module has ``register(subparsers)`` that adds its parser(s) with ``set_defaults(func=...)``.
COMMAND_MODULES = (
    "init",
    "serve",
    "worker",
    "keys",
    "webhooks",
    "backdrops",
    "generate",
    "check",
    "models",
    "doctor",
)


class _Parser(argparse.ArgumentParser):
    """argparse's parser whose refusal is one line (exit 2), pointing at ``--help``: the usage block that argparse
    prints first (25 lines for ``generate``) hid the line that says what was wrong (breaker12 B12-13)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (also used to document the CLI)."""
    parser = _Parser(prog=DEFAULT_BRAND.cli_name, description=DEFAULT_BRAND.description)
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show the traceback of an internal error (for bug reports)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            continue  # a command whose module is not built yet is simply absent
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["--version"]:
        print(__version__)  # fast path: no heavy imports
        return 0
    if "serve" in args_list or "worker" in args_list:
        # SIGINT is how serve and its workers are stopped, whatever disposition they inherited: a shell's background
        # job, a CI runner or a launcher may hand them SIGINT ignored (kept across exec). Set before the command
        # modules are imported (about a second), or a stop during those imports is lost (breaker7, session 7).
        signal.signal(signal.SIGINT, signal.default_int_handler)
    parser = build_parser()
    args = parser.parse_args(args_list)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    common.VERBOSE = args.verbose
    try:
        status = int(args.func(args) or 0)
        sys.stdout.flush()  # inside the try: a reader that left shows up here, not at interpreter exit
    except SettingError as exc:  # the operator's setting, not our bug: the message names it and where it came from
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 78  # EX_CONFIG (sysexits.h): a configuration error
    except Unavailable as exc:  # the data folder cannot take work now (its database busy, its disk full): not our bug
        print(f"{parser.prog}: error: {exc.message}", file=sys.stderr)
        return 75  # EX_TEMPFAIL (sysexits.h): a temporary failure; the user is invited to retry
    except BrokenPipeError:
        # The reader closed the pipe (`doctor --json | head`): stop quietly. Recipe from Python's `signal` docs:
        # point stdout at devnull so the interpreter's last flush does not raise again; exit 1 as it advises.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # our bug: one line (the traceback with --verbose), never a bare stack dump
        print(f"{parser.prog}: {common.internal_error(exc)}", file=sys.stderr)
        return 70  # EX_SOFTWARE (sysexits.h): an internal software error
    return status
