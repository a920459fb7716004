"""Health, readiness and capability endpoints."""

from __future__ import annotations

import logging
import shutil
import time

import anyio.to_thread
import sqlite_utils
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.response import Redirect
from litestar.status_codes import HTTP_307_TEMPORARY_REDIRECT

from .. import __version__
from ..errors import DatabaseBusy
from ..imaging.options import MAX_PROMPT_CHARS, MAX_VARIANTS
from ..jobs.eta import worker_timeout
from ..storage import backdrops as backdrops_sql
from ..storage import workers as workers_sql
from ..storage.db import ThreadLocalDB, quick_check
from ..storage.keys import ApiKey
from ..words import counted
from .docs import DOCS_PATH
from .openapi import ERROR_RESPONSES
from .query import strict_query
from .state import ApiState
from .wire import Capabilities, EngineInfo, Health, ModelList, StyleInfo, request_fields

log = logging.getLogger(__name__)


class MetaController(Controller):
    tags = ["meta"]  # noqa: RUF012 - Litestar reads class attributes

    @get("/", include_in_schema=False, sync_to_thread=False)
    def root(self) -> Redirect:
        """A person who opens the appliance's address lands on the API reference."""
        return Redirect(path=DOCS_PATH, status_code=HTTP_307_TEMPORARY_REDIRECT)

    @get("/healthz", operation_id="health", summary="Liveness", sync_to_thread=False)
    def health(self) -> Health:
        """The process answers."""
        return Health(status="ok", checks={})

    @get(
        "/readyz",
        operation_id="ready",
        summary="Readiness: DB writable, a worker alive",
        responses={503: ResponseSpec(data_container=Health, description="Not ready: see checks")},
    )
    async def ready(self, api: NamedDependency[ApiState]) -> Response[Health]:
        """503 while the database is not writable, the queue is not readable or no worker that can run jobs has
        sent a heartbeat recently. Each check is ``ok`` or what is wrong in a few words; the detail is in the
        appliance's log and its ``doctor`` command."""
        checks = await anyio.to_thread.run_sync(_checks, api)
        ok = all(v == "ok" for v in checks.values())
        return Response(Health(status="ok" if ok else "unavailable", checks=checks), status_code=200 if ok else 503)

    @get(
        "/v1/capabilities",
        operation_id="getCapabilities",
        summary="What this appliance can do (extension)",
        responses=ERROR_RESPONSES,
        security=[{"bearerAuth": []}],
        sync_to_thread=False,
    )
    def capabilities(self, key: NamedDependency[ApiKey], api: NamedDependency[ApiState]) -> Capabilities:
        """Styles with their engine (or why not) and every engine they could use here (plate, diffusion,
        procedural), every request field with its constraints, and limits."""
        plates = backdrops_sql.count_for_key(api.db.get(), key.id)
        styles = []
        for status in api.catalog.all_status():
            allowed = not key.styles or status.style in key.styles
            reason = None if allowed else "Not enabled for this API key."
            engines = [
                EngineInfo(name=c.name, available=c.available, detail=c.detail)
                for c in api.catalog.choices(status.style, plates)
            ]
            styles.append(
                StyleInfo(name=status.style, available=allowed, engine=status.engine, reason=reason, engines=engines)
            )
        return Capabilities(
            product=api.settings.brand.product_name,
            version=__version__,
            styles=styles,
            fields=request_fields(),
            limits={
                "max_image_bytes": api.settings.max_image_bytes,
                "max_prompt_chars": MAX_PROMPT_CHARS,
                "max_variants": MAX_VARIANTS,
                "rate_limit_per_minute": key.rate_limit,
            },
        )


class ModelsController(Controller):
    tags = ["meta"]  # noqa: RUF012 - Litestar reads class attributes

    @get(
        "/v1/models",
        operation_id="listModels",
        summary="Installed models (extension)",
        responses=ERROR_RESPONSES,
        security=[{"bearerAuth": []}],
        before_request=strict_query,
    )
    async def models(self, key: NamedDependency[ApiKey], api: NamedDependency[ApiState]) -> ModelList:
        """Each installed model: role, licence, commercial use, the styles it enables, where it runs."""
        data = await anyio.to_thread.run_sync(api.catalog.installed_models)
        return ModelList(data=data, providers=await anyio.to_thread.run_sync(_providers, api))


def _providers(api: ApiState) -> list[str]:
    """Where models run: what live workers report (the API process never loads an inference runtime)."""
    if not api.catalog.installed_models():
        return []
    return workers_sql.live_providers(api.db.get(), since=time.time() - _worker_timeout(api))


def _worker_timeout(api: ApiState) -> float:
    """A worker whose last heartbeat is older than this is taken for dead."""
    return worker_timeout(api.settings.sweep_seconds)


def _checks(api: ApiState) -> dict[str, str]:
    """Database writable, room on the disk, the file store writable, queue readable, a live worker that can run
    jobs: each check says what is wrong.

    Readiness answers anyone, so the checks are plain words; the detail (exception text, file names) goes to
    the log, and ``doctor`` shows it to the operator.
    """
    checks: dict[str, str] = {}
    change = api.db.identity_change()  # deleted or replaced under us: every write would be lost
    if change:
        log.error("not ready: %s", api.db.identity_problem())
    gone = f"the database file was {change} while the appliance was running" if change else None
    try:
        db = api.db.get()
        workers_sql.probe_write(db, time.time())
        checks["database"] = gone or _damage(api.db, db) or "ok"
    except DatabaseBusy as exc:
        log.warning("not ready: %s", exc.message)
        checks["database"] = gone or "busy: another process holds its write lock"
        return {**checks, "queue": "not checked", "worker": "not checked"}
    except Exception as exc:  # readiness reports, it does not raise
        log.warning("not ready: the database %s is not writable: %s", api.settings.app_db, exc)
        checks["database"] = gone or "not writable"
        return {**checks, "queue": "not checked", "worker": "not checked"}
    checks["disk"] = _disk_check(api)
    refused = api.files.write_problem()
    if refused:
        log.error("not ready: the file store %s cannot be written: %s", api.settings.files_dir, refused)
    checks["files"] = "not writable" if refused else "ok"
    try:
        api.queue.pending()
        problem = api.queue.identity_problem()
        if problem:
            log.error("not ready: %s", problem)
            checks["queue"] = "the queue file was deleted or replaced while the appliance was running"
        elif api.queue.write_locked(workers_sql.PROBE_WAIT_SECONDS):
            log.warning("not ready: another process holds the write lock of the queue %s", api.settings.queue_db)
            checks["queue"] = "busy: another process holds its write lock"
        else:
            checks["queue"] = "ok"
    except Exception as exc:  # a corrupt or unreadable queue.db: jobs could be accepted but never run
        log.warning("not ready: the queue %s is not readable: %s", api.settings.queue_db, exc)
        checks["queue"] = "not readable"
    checks["worker"] = _worker_check(api, db)
    return checks


def _disk_check(api: ApiState) -> str:
    """ "ok" while the data folder's disk has room for the largest upload (``max_image_bytes``); SQLite's write
    probe alone passes on a full disk once its pages are allocated (breaker7: 503 once, then 200 at 0 bytes free,
    while every submission was refused "disk is full")."""
    try:
        free = shutil.disk_usage(api.settings.home).free
    except OSError as exc:  # the folder is gone: the database check says so too
        log.warning("not ready: cannot read the free space of %s: %s", api.settings.home, exc)
        return "not readable"
    if free >= api.settings.max_image_bytes:
        return "ok"
    log.warning("not ready: %d bytes free in %s", free, api.settings.home)
    return "full: no room for another photo"


QUICK_CHECK_SECONDS = 60.0  # SQLite's quick_check reads every page: at most once a minute per process


def _damage(handle: ThreadLocalDB, db: sqlite_utils.Database) -> str | None:
    """A damaged database file, as a request found it (at once) or SQLite's ``quick_check`` (once a minute)."""
    if handle.damage is None and time.monotonic() - handle.checked_at >= QUICK_CHECK_SECONDS:
        handle.checked_at = time.monotonic()
        try:
            result = quick_check(db)
        except Exception as exc:  # a file too damaged to check is damaged
            result = str(exc)
        if result != "ok":
            handle.note_damage(result)
    if handle.damage is None:
        return None
    log.error("not ready: the database file is damaged: %s", handle.damage)
    return "the database file is damaged"


def _worker_check(api: ApiState, db: sqlite_utils.Database) -> str:
    now = time.time()
    limit = _worker_timeout(api)
    beat = workers_sql.latest_heartbeat(db)
    if beat is None:
        return "no worker has started"
    if now - beat > limit:
        return f"no worker heartbeat for {now - beat:.0f} s"
    alive, problems = workers_sql.live_problems(db, now - limit)
    if alive and len(problems) == alive:  # every live worker is stuck: none can run a job
        log.warning("not ready: no live worker can run jobs: %s", "; ".join(problems))
        return f"{counted(alive, 'worker')} alive but none can run jobs (the workers' log says why)"
    return "ok"
