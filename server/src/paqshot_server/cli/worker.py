"""``worker``: one standalone worker process (one per GPU)."""

from __future__ import annotations

import argparse

from .common import add_home_flag, presets_ok, settings_from, setup_logging
from .numbers import Bounded

MAX_PID = 2**22  # Linux's largest pid_max (PID_MAX_LIMIT, include/linux/threads.h)
MAX_FD = 2**20  # Linux's default fs.nr_open: no descriptor number reaches it


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("worker", help="run a standalone worker")
    add_home_flag(parser)
    parser.add_argument(
        "--threads", type=Bounded.setting("worker_threads"), default=None, help="jobs at once (default 1)"
    )
    parser.add_argument(
        "--parent-pid", type=Bounded(int, 1, MAX_PID), default=None, help=argparse.SUPPRESS
    )  # set by `serve`
    parser.add_argument(
        "--liveness-fd", type=Bounded(int, 0, MAX_FD), default=None, help=argparse.SUPPRESS
    )  # set by `serve`
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.liveness_fd is not None:  # first: the imports and the warm-up below are watched too
        from ..jobs.liveness import start_signs

        start_signs(args.liveness_fd)
    settings = settings_from(args, worker_threads=args.threads)
    setup_logging(settings)
    if not presets_ok(settings):
        return 2
    from ..jobs.worker import run_worker

    return run_worker(settings, parent_pid=args.parent_pid)
