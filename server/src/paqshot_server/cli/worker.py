"""``worker``: one standalone worker process (one per GPU)."""

from __future__ import annotations

import argparse

from .common import add_home_flag, presets_ok, settings_from, setup_logging


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("worker", help="run a standalone worker")
    add_home_flag(parser)
    parser.add_argument("--threads", type=int, default=None, help="jobs at once (default 1)")
    parser.add_argument("--parent-pid", type=int, default=None, help=argparse.SUPPRESS)  # set by `serve`
    parser.add_argument("--liveness-fd", type=int, default=None, help=argparse.SUPPRESS)  # set by `serve`
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
