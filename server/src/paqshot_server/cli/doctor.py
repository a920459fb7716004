"""``doctor``: check what the appliance needs and say what to fix. Exit 1 when something is broken."""

from __future__ import annotations

import argparse
import json
import shutil
import stat
import time
from contextlib import closing
from dataclasses import asdict, dataclass

from ..credentials import IdentityError, load_identity
from ..errors import DatabaseBusy
from ..jobs.eta import worker_timeout
from ..settings import Settings
from ..storage import workers as workers_sql
from ..storage.db import connect, held_elsewhere, quick_check
from ..storage.files import FileStore
from ..storage.locks import write_lock_holders
from ..words import counted
from .common import add_home_flag, settings_from


@dataclass(frozen=True)
class Check:
    name: str
    level: str  # ok | warn | fail
    detail: str
    fix: str = ""


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "doctor", help="check GPU/provider, disk, database, queue, workers, models and the engine of each style"
    )
    add_home_flag(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable output (a JSON array of checks)")
    parser.set_defaults(func=_doctor)


def _disk(settings: Settings) -> Check:
    free = shutil.disk_usage(settings.home).free / 1e9
    if free < 1:
        return Check("disk", "fail", f"{free:.1f} GB free in {settings.home}", "free space or move the data folder")
    if free < 10:
        return Check("disk", "warn", f"{free:.1f} GB free", "results are kept retention_days; add space")
    return Check("disk", "ok", f"{free:.0f} GB free")


# certbot renews a certificate 30 days before it ends: the same warning time for the signing certificate.
RENEW_WITHIN_SECONDS = 30 * 86400


def _signing(settings: Settings) -> Check:
    """The C2PA signing identity signs (the same load and trial signature as a worker's start)."""
    if not settings.content_credentials:
        return Check("signing", "ok", "Content Credentials are off (content_credentials)")
    cli = settings.brand.cli_name
    try:
        identity = load_identity(settings)
    except IdentityError as exc:
        return Check(
            "signing",
            "fail",
            f"{exc}; results are delivered without Content Credentials",
            f"install a certificate and its key that sign (`{cli} init --self-signed-cert` makes a test one)",
        )
    if identity is None:
        return Check(
            "signing",
            "warn",
            "no signing certificate installed: results carry no Content Credentials",
            f"install your CA's certificate and key, or `{cli} init --self-signed-cert` for a test one",
        )
    ends = time.strftime("%Y-%m-%d", time.gmtime(identity.not_after or 0))
    if identity.not_after is not None and identity.not_after - time.time() < RENEW_WITHIN_SECONDS:
        return Check("signing", "warn", f"the signing certificate ends on {ends}", "install a renewed one")
    return Check("signing", "ok", f"signs with {identity.algorithm}, valid until {ends}")


def _files(settings: Settings) -> Check:
    """The file store's folder takes a new file (the photos and results live there; the database can be fine)."""
    refused = FileStore(settings.files_dir).write_problem()
    if refused:
        return Check(
            "files",
            "fail",
            f"{settings.files_dir}: {refused}",
            "make it writable by the appliance's user (chown/chmod), or remount it read-write",
        )
    return Check("files", "ok", f"{settings.files_dir} writable")


def _database_file(settings: Settings) -> list[Check]:
    """The files on disk are the ones the running processes use, and only their owner can read them."""
    checks = []
    for name, path, fix in (
        (
            "database",
            settings.app_db,
            "stop the appliance, restore app.db from a backup if it was deleted, then start it again",
        ),
        ("queue", settings.queue_db, "restart the appliance (queued jobs are kept: the jobs table is their record)"),
    ):
        held = held_elsewhere(path)
        if held:
            pids = ", ".join(f"pid {pid} {what}" for pid, what in held)
            checks.append(
                Check(f"{name} file", "fail", f"{path} is not the {name} the running appliance uses ({pids})", fix)
            )
    loose = []
    for path in (
        settings.home,
        *(db.with_name(db.name + s) for db in (settings.app_db, settings.queue_db) for s in ("", "-wal", "-shm")),
    ):
        if path.exists() and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            loose.append(f"{path.name or path} {stat.filemode(path.stat().st_mode)}")
    if loose:
        checks.append(
            Check(
                "permissions",
                "warn",
                "readable by other users (the database holds webhook secrets): " + ", ".join(loose),
                f"chmod 700 {settings.home} && chmod 600 {settings.app_db}* {settings.queue_db}*",
            )
        )
    return checks


def _database(settings: Settings) -> list[Check]:
    try:
        db = connect(settings.app_db, create=False)  # doctor never creates a database: it reports a missing one
        result = quick_check(db)
        workers_sql.probe_write(db, time.time())
        beat = workers_sql.latest_heartbeat(db)
    except DatabaseBusy:
        return [_busy(settings)]
    except Exception as exc:  # the point of doctor is to report, not to crash
        return [Check("database", "fail", f"{settings.app_db}: {exc}", "check permissions and disk")]
    checks = [
        Check(
            "database",
            "ok" if result == "ok" else "fail",
            f"{settings.app_db}: {result}",
            "" if result == "ok" else "restore app.db from a backup",
        )
    ]
    # The same rule as readiness (breaker17 B17-9: doctor "a worker is alive" while /readyz said "no worker
    # heartbeat for 42 s").
    limit = worker_timeout(settings.sweep_seconds)
    if beat is None:
        checks.append(Check("worker", "warn", "no worker has ever started", "start `serve` or `worker`"))
    elif time.time() - beat > limit:
        checks.append(
            Check(
                "worker",
                "warn",
                f"last worker heartbeat {time.time() - beat:.0f} s ago",
                "start a worker (serve starts one) or check its logs",
            )
        )
    else:
        alive, problems = workers_sql.live_problems(db, time.time() - limit)
        if problems:
            checks.append(
                Check(
                    "worker",
                    "fail" if len(problems) == alive else "warn",
                    f"{len(problems)} of {counted(alive, 'live worker')} cannot run jobs: {problems[0]}",
                    "see the worker log; `doctor` checks the queue below",
                )
            )
        else:
            checks.append(Check("worker", "ok", "a worker is alive"))
    return checks


def _busy(settings: Settings) -> Check:
    """The database's write lock is held by another process (an operator's ``sqlite3`` session, a backup, a
    VACUUM): name it where the kernel's lock table says who it is."""
    holders = write_lock_holders(settings.app_db)
    who = ", ".join(f"pid {pid} ({cmd or 'command line not readable'})" for pid, cmd in holders)
    return Check(
        "database",
        "fail",
        f"{settings.app_db} is busy: {who or 'another process'} holds its write lock (requests answer 503 meanwhile)",
        "let that process finish (a backup, VACUUM or an open sqlite3 session: end its transaction), or stop it",
    )


def _queue(settings: Settings) -> Check:
    from ..jobs.queue import JobQueue

    if not settings.queue_db.exists():  # doctor never creates it: the appliance does when it starts
        return Check("queue", "warn", f"{settings.queue_db} does not exist yet", "start the appliance (`serve`)")
    try:
        with closing(JobQueue(str(settings.queue_db))) as queue:
            pending = queue.pending()
    except Exception as exc:  # report, don't crash
        return Check("queue", "fail", f"{settings.queue_db}: {exc}", "check permissions and disk")
    return Check("queue", "ok", f"{counted(pending, 'job')} waiting")


def _models_and_gpu(settings: Settings) -> list[Check]:
    from ..inference.sessions import probe
    from ..inference.store import ModelStore

    report = probe()
    checks = []
    if report.device == "cuda":
        checks.append(Check("gpu", "ok", f"{report.provider}: {report.reason}"))
    elif settings.require_gpu:
        checks.append(
            Check(
                "gpu",
                "fail",
                f"{report.provider}: {report.reason}",
                "install the NVIDIA driver, CUDA 13 and cuDNN 9 runtime libraries, or unset require_gpu",
            )
        )
    else:
        checks.append(
            Check(
                "gpu",
                "warn",
                f"models run on {report.provider}: {report.reason}",
                "fine for cut-outs; diffusion scenes need a GPU to be fast",
            )
        )
    store = ModelStore(settings.models_dir, shared=settings.shared_models_dirs)  # data folder + install level
    results = store.verify()
    if not results:
        checks.append(Check("models", "ok", "no models installed (every style still renders: see below)"))
    for result in results:
        checks.append(
            Check(
                f"model {result.id}",
                "ok" if result.ok else "fail",
                "checksums match" if result.ok else "; ".join(result.problems),
                "" if result.ok else f"reinstall it: `models remove {result.id}` then `models install`",
            )
        )
    return checks


# What each engine is, for someone deciding whether to install a model (engines.py names them).
_ENGINE_NOTES = {
    "classical": "classical cut-out, no model; the default cut-out model is far better on real photos (`models setup`)",
    "procedural": "procedural sets, no model; an inpainting model gives photographic scenes (`models install PATH`)",
    "onnx:": "the installed cut-out model",
    "diffusion:": "the installed inpainting model over a procedural layout",
}


def _styles(settings: Settings) -> list[Check]:
    """One line per style: the engine that renders it here (what a generation's ``engine`` will say)."""
    from ..engines import Engines

    checks = []
    for status in Engines(settings).all_status():
        note = _ENGINE_NOTES.get(status.engine) or _ENGINE_NOTES[status.engine.split(":")[0] + ":"]
        checks.append(Check(f"style {status.style}", "ok", f"engine {status.engine}: {note}"))
    return checks


def run_checks(settings: Settings) -> list[Check]:
    """Every check, in the order shown; one failed check alone when the data folder does not exist."""
    if not settings.home.is_dir():
        # A check never writes (breaker17 B17-11: doctor run from another folder made ./data and called it
        # writable).
        cli = settings.brand.cli_name
        return [
            Check(
                "data folder",
                "fail",
                f"{settings.home.resolve()} does not exist",
                f"set {settings.brand.env_prefix}HOME (or --home) to the appliance's data folder, "
                f"or make one with `{cli} init`",
            )
        ]
    checks = [
        _disk(settings),
        _files(settings),
        *_database(settings),
        *_database_file(settings),
        _queue(settings),
        *_models_and_gpu(settings),
        *_styles(settings),
        _signing(settings),
    ]
    if settings.allow_private_network:
        checks.append(
            Check(
                "network",
                "warn",
                "private networks are allowed for image URLs and webhooks",
                "leave off unless this appliance serves a trusted LAN",
            )
        )
    return checks


def _doctor(args: argparse.Namespace) -> int:
    checks = run_checks(settings_from(args))
    if args.json:
        print(json.dumps([asdict(c) for c in checks]))
    else:
        for c in checks:
            print(f"{c.level.upper():5} {c.name:<22} {c.detail}" + (f"\n      fix: {c.fix}" if c.fix else ""))
    return 1 if any(c.level == "fail" for c in checks) else 0
