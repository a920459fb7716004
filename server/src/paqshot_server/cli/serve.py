"""``serve``: the API plus embedded worker processes, supervised; graceful shutdown on SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import TextIO

from ..jobs import allocator
from ..jobs.eta import worker_timeout
from ..jobs.liveness import drained
from ..settings import Settings
from ..storage import keys as keys_sql
from ..storage.db import connect
from ..words import counted
from .common import add_home_flag, database_kept, presets_ok, settings_from, setup_logging
from .numbers import Bounded

MAX_WORKERS = 64  # as worker_threads' bound: one process per GPU (or core) is right, 64 is a big machine

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("serve", help="run the API and its workers")
    parser.add_argument("--host", default=None, help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=Bounded.setting("port"), default=None, help="port (default 8000)")
    parser.add_argument(
        "--workers", type=Bounded(int, 1, MAX_WORKERS), default=1, help="worker processes to start (default 1)"
    )
    parser.add_argument("--no-worker", action="store_true", help="API only (workers run elsewhere)")
    add_home_flag(parser)
    parser.set_defaults(func=_serve)


@dataclass
class _Slot:
    """One worker place: its process, when it started, and how many times in a row it died young."""

    process: subprocess.Popen[bytes]
    started: float
    crashes: int = 0
    restart_at: float | None = None  # when a dead worker is due to be started again
    signs: int | None = None  # the read end of the worker's liveness pipe (:mod:`..jobs.liveness`)
    last_sign: float | None = None  # monotonic time of its last sign; None before the first


BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class WorkerSupervisor(threading.Thread):
    """Starts N ``worker`` child processes and restarts any that dies until asked to stop.

    A worker that dies within ``stable_seconds`` of starting is restarted after a delay that doubles with each
    such crash in a row (``first_delay`` … ``max_delay``), and each restart is logged with its delay: a worker
    that cannot start (a broken model, a full disk) does not spin, and the log says what is happening. A worker
    that ran for ``stable_seconds`` resets the count.

    A worker that gives no sign of life down its liveness pipe for ``hung_after`` seconds (default: readiness's
    :func:`..jobs.eta.worker_timeout`; ``start_grace`` more before its first sign) is hung: it is killed, and
    restarted as a dead one; its job goes back to the queue when its lease ends.
    """

    def __init__(
        self,
        settings: Settings,
        count: int,
        *,
        command: list[str] | None = None,
        poll_seconds: float = 1.0,
        first_delay: float = 1.0,
        max_delay: float = 300.0,
        stable_seconds: float = 60.0,
        hung_after: float | None = None,
        start_grace: float = 120.0,
    ) -> None:
        super().__init__(name="worker-supervisor", daemon=True)
        self.settings, self.count = settings, count
        self.command = command or [
            sys.executable,
            "-m",
            "paqshot_server",
            "worker",
            "--home",
            str(settings.home.resolve()),
            "--parent-pid",
            str(os.getpid()),
        ]
        self.poll_seconds, self.first_delay, self.max_delay = poll_seconds, first_delay, max_delay
        self.stable_seconds = stable_seconds
        self.hung_after = worker_timeout(settings.sweep_seconds) if hung_after is None else hung_after
        self.start_grace = start_grace
        self.slots: list[_Slot] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()

    @property
    def children(self) -> list[subprocess.Popen[bytes]]:
        return [slot.process for slot in self.slots]

    def _spawn(self) -> _Slot:
        # The workers share this machine's CPUs: each sizes its inference threads for that (settings).
        prefix = self.settings.brand.env_prefix
        env = {**os.environ, f"{prefix}WORKER_PROCESSES": str(self.count)}
        # The address serve listens on (its --host/--port flags included): a worker builds the webhook's file URLs
        # from it, as the API builds a poll's (settings.base_url).
        env |= {f"{prefix}HOST": self.settings.host, f"{prefix}PORT": str(self.settings.port)}
        # numpy's BLAS (OpenBLAS) and OpenMP size their pools to every core of the machine, in each worker; N
        # workers then run N x cores threads that spin for work. Each gets its share instead (the operator's own
        # setting wins).
        share = max(1, len(os.sched_getaffinity(0)) // (self.count * self.settings.worker_threads))
        for pool in BLAS_THREAD_VARIABLES:
            env.setdefault(pool, str(share))
        signs, sign = os.pipe()
        os.set_blocking(signs, False)
        try:
            # The child is in its own process group so a terminal's Ctrl-C reaches it only through us.
            process = subprocess.Popen(
                [*self.command, "--liveness-fd", str(sign)], start_new_session=True, env=env, pass_fds=(sign,)
            )
        except BaseException:
            os.close(signs)
            raise
        finally:
            os.close(sign)
        return _Slot(process, time.monotonic(), signs=signs)

    def run(self) -> None:
        with self._lock:
            if self.stopping.is_set():  # stopped before this thread got going: start nothing
                return
            self.slots = [self._spawn() for _ in range(self.count)]
        while not self.stopping.wait(self.poll_seconds):
            with self._lock:
                for i, slot in enumerate(self.slots):
                    if not self.stopping.is_set():
                        self.slots[i] = self._tend(slot)

    def _tend(self, slot: _Slot) -> _Slot:
        """The slot after one look: unchanged, scheduled for a restart, or restarted."""
        now = time.monotonic()
        if slot.restart_at is not None:
            if now < slot.restart_at:
                return slot
            fresh = self._spawn()
            fresh.crashes = slot.crashes
            return fresh
        code = slot.process.poll()
        if code is None:
            self._watch(slot, now)
            return slot
        if slot.signs is not None:
            os.close(slot.signs)
            slot.signs = None
        lived = now - slot.started
        crashes = slot.crashes + 1 if lived < self.stable_seconds else 0
        delay = 0.0 if crashes == 0 else min(self.max_delay, self.first_delay * 2 ** (crashes - 1))
        if crashes:
            log.error(
                "worker %d exited with %s after %.0f s (%s in a row); restarting in %.1f s",
                slot.process.pid,
                code,
                lived,
                counted(crashes, "early exit"),
                delay,
            )
        else:
            log.error("worker %d exited with %s after %.0f s; restarting it", slot.process.pid, code, lived)
        return _Slot(slot.process, slot.started, crashes, restart_at=now + delay)

    def _watch(self, slot: _Slot, now: float) -> None:
        """Kill the live worker of ``slot`` when its liveness pipe has been silent too long (the next look restarts
        it as a dead one)."""
        if slot.signs is None:
            return
        if drained(slot.signs):
            slot.last_sign = now
        silent = now - (slot.started if slot.last_sign is None else slot.last_sign)
        allowed = self.hung_after + (self.start_grace if slot.last_sign is None else 0.0)
        if silent > allowed:
            log.error(
                "worker %d gave no sign of life for %.0f s (stopped, or stuck in native code); killing it so a "
                "new one takes its place (its job returns to the queue when its lease ends)",
                slot.process.pid,
                silent,
            )
            slot.process.kill()

    def kill(self) -> None:
        """SIGKILL every worker and reap it (a second stop: their jobs go back to the queue when their leases end)."""
        self.stopping.set()
        with self._lock:
            for child in self.children:
                if child.poll() is None:
                    child.kill()
                child.wait()
            self._close_signs()

    def stop(self, timeout: float) -> None:
        """SIGINT every worker (finish the current job), then wait; SIGKILL after ``timeout``."""
        self.stopping.set()
        with self._lock:
            for child in self.children:
                if child.poll() is None:
                    child.send_signal(signal.SIGINT)
            deadline = time.monotonic() + timeout
            for child in self.children:
                try:
                    child.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    log.warning("worker %d did not stop in time; killing it (its job will be re-queued)", child.pid)
                    child.kill()
                    # Reaped before serve exits: nothing of this appliance outlives it, not even for a moment.
                    child.wait()
            self._close_signs()

    def _close_signs(self) -> None:
        for slot in self.slots:
            if slot.signs is not None:
                os.close(slot.signs)
                slot.signs = None


FIRST_KEY_FILE = "first-api-key.txt"


def ensure_first_key(settings: Settings, out: TextIO | None = None) -> None:
    """On a fresh data folder, create a first key, keep it in a file only its user can read, and show it.

    The key is written to ``<home>/first-api-key.txt`` (mode 0600). It is printed only when ``out`` (stdout by
    default) is a terminal: under a service manager stdout goes to a journal that others may read, so there
    only the file's path is printed.
    """
    out = out or sys.stdout
    db = connect(settings.app_db)
    if keys_sql.list_keys(db):
        db.conn.close()
        return
    brand = settings.brand
    key, clear = keys_sql.create_key(
        db,
        name="default",
        key_prefix=brand.key_prefix,
        secret_prefix=brand.webhook_secret_prefix,
        rate_limit=settings.default_rate_limit,
    )
    db.conn.close()
    path = settings.home.resolve() / FIRST_KEY_FILE
    text = (
        f"API key ({key.name}, {key.id}):  {clear}\n"
        f"Its webhook secret:  {key.webhook_secret}\n"
        "Store both somewhere safe, then delete this file; the appliance keeps only a hash of the key.\n"
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)
    if out.isatty():
        print(f"First API key:       {clear}", file=out, flush=True)
        print(f"Its webhook secret:  {key.webhook_secret}", file=out, flush=True)
        print(f"Both are also in {path} (readable by you only).", file=out, flush=True)
    else:
        print(f"First API key created: it is in {path} (readable by this user only).", file=out, flush=True)


def port_problem(host: str, port: int) -> str | None:
    """Why the API could not listen on ``host:port`` (e.g. another appliance holds it), or None when it can."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"cannot resolve {host}: {exc.strerror}"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no conflict
        try:
            probe.bind(address)
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def _serve(args: argparse.Namespace) -> int:
    settings = settings_from(args, host=args.host, port=args.port)
    problem = port_problem(settings.host, settings.port)
    if problem:
        print(
            f"error: cannot listen on {settings.host}:{settings.port}: {problem}. Is the appliance already running? "
            "Stop it, or start this one with --port N.",
            file=sys.stderr,
        )
        return 1
    setup_logging(settings)
    raise_open_file_limit()
    if not presets_ok(settings):
        return 2
    settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)  # private: secrets and customer data
    if not database_kept(settings):
        return 1
    ensure_first_key(settings)
    # Each submission allocates a few MB (the body, its JSON string, the decoded image) and frees them: with
    # glibc's defaults ~450 page faults a request (~2 ms of its CPU) fault that memory in again every time.
    allocator.keep_freed_memory(arenas=allocator.API_ARENAS)
    # SIGINT (serve's and its workers' stop) has its handler from `cli.main`. uvicorn handles SIGINT/SIGTERM itself
    # while it runs, then re-raises the signal once it has shut down. With the default SIGTERM disposition that
    # re-raise would end the process before the workers are stopped; this handler turns it (and a SIGTERM before
    # uvicorn runs) into an exception, so the `finally` below always runs.
    signal.signal(signal.SIGTERM, _raise_shutdown)
    supervisor = None if args.no_worker else WorkerSupervisor(settings, max(1, args.workers))
    try:
        if supervisor:
            supervisor.start()
        _run_api(settings)
    except (KeyboardInterrupt, _Shutdown):  # a stop before uvicorn ran, or its re-raised signal: clean either way
        pass
    finally:
        if supervisor:
            try:
                supervisor.stop(timeout=settings.worker_stop_seconds)
            except (KeyboardInterrupt, _Shutdown):  # a second stop while the workers finish their jobs: now
                log.warning("stopping the workers now; their jobs will be re-queued")
                supervisor.kill()
    return 0


# The soft limit set when the hard one is unlimited (macOS; Linux's hard limit is finite): the systemd units' value.
UNLIMITED_NOFILE_TARGET = 65536


def raise_open_file_limit() -> None:
    """Raise this process's soft limit on open files (``RLIMIT_NOFILE``) to its hard limit, and log the value; the
    worker processes serve starts inherit it.

    Why: every connection holds a file descriptor, a systemd service's soft limit is 1024 unless its unit says
    otherwise, and Python leaves the soft limit as it found it: 1,100 held connections took every descriptor of
    the API, and every client was refused (breaker14 B14-1). The hard limit is the operator's to set (the units
    under packaging/server set LimitNOFILE); a refusal to raise it is logged, not fatal.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = UNLIMITED_NOFILE_TARGET if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:
            log.warning("open-file limit stays %d: raising it to %d failed (%s)", soft, target, exc)
            return
        log.info("open-file limit (RLIMIT_NOFILE) raised from %d to %d", soft, target)
    else:
        log.info("open-file limit (RLIMIT_NOFILE): %d", soft)


def _run_api(settings: Settings) -> None:
    """Serve the API until uvicorn's own graceful shutdown (on SIGINT/SIGTERM) has ended."""
    import uvicorn

    from ..api.protocol import SpecErrorsProtocol
    from ..app import create_app

    app = create_app(settings)
    app.on_startup.append(freeze_start_up_heap)  # the last hook: after the app's own start-up
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,
        log_config=None,
        lifespan="on",
        timeout_graceful_shutdown=10,
        # requests uvicorn cannot read get the spec's error body; heads are bounded in size and time, bodies in
        # silence and rate
        http=SpecErrorsProtocol.with_deadlines(
            settings.head_timeout_seconds,
            settings.body_idle_seconds,
            settings.body_min_rate,
            settings.max_connections_per_client,
        ),
        ws="none",  # no WebSocket endpoint: an Upgrade header is ignored, not answered by the websockets library
    )
    server = uvicorn.Server(config)
    print(
        f"{settings.brand.product_name} API on {settings.base_url}  (docs: {settings.base_url}/docs, "
        f"data: {settings.home.resolve()}, pid {os.getpid()})",
        flush=True,
    )
    server.run()


def freeze_start_up_heap() -> None:
    """Move every object the API process holds once started (modules, routes, msgspec types, presets: ~95,000) out
    of the cyclic garbage collector's reach (``gc.freeze``, the recipe of CPython's ``gc`` documentation).

    Why: a full (generation 2) collection walks every tracked object with the GIL held. Under sustained 16-client
    load of 1 MB submissions one came every ~7-10 s and stalled the event loop 67-121 ms (``gc.callbacks`` timings,
    issue-14.md "Door tail, session 8"); with the start-up heap frozen the full collections during the same runs
    walked ~5,000 objects, ~1-2 ms. The collector stays on for what requests make.
    Cost: cyclic garbage among the frozen objects is never collected (reference counting still frees the rest); a
    ``gc.collect()`` first leaves none from start-up itself.
    """
    gc.collect()
    gc.freeze()


class _Shutdown(Exception):
    """SIGTERM arrived (before uvicorn ran, or re-raised after its own graceful shutdown)."""


def _raise_shutdown(_signum: int, _frame: object) -> None:
    raise _Shutdown
