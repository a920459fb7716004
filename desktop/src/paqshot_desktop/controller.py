"""Glue between the views, the model and the workers: connection, history, polling and results.

Every server call goes through :class:`~paqshot_desktop.workers.Runner`; results come back on the GUI
thread and are turned into plain data for the views. The batch (Create page) lives in ``batching.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QObject, QStandardPaths, QTimer

from .batching import BatchController
from .branding import Brand
from .client import ApiClient, ApiError, describe
from .local import LocalAppliance, LocalEndpoint
from .model import JobsModel
from .options import form_inputs, spec_capabilities
from .results_control import ResultsController
from .settings import Settings
from .views.about import AboutDialog
from .views.mainwindow import MainWindow
from .wire import Capabilities, Job
from .workers import Runner

VERSION = "0.1.0"
POLL_MS = 2000
POLL_PAGE = 100

ClientFactory = Callable[[str, str], ApiClient]


def poll_jobs(client: ApiClient, ids: list[str]) -> list[Job]:
    """Current state of ``ids`` in few requests: one list of processing jobs, then one GET per job that
    left that list (it finished, or is beyond the first page). Jobs the server forgot are dropped."""
    wanted = set(ids)
    page = client.list_jobs(POLL_PAGE, 0, "processing")
    found = [job for job in page.data if job.id in wanted]
    still = {job.id for job in found}
    for job_id in ids:
        if job_id in still:
            continue
        try:
            found.append(client.job(job_id))
        except ApiError as exc:
            if exc.status != 404:
                raise
    return found


class Controller(QObject):
    """Owns the client, the runner and the local appliance; drives the main window."""

    def __init__(
        self,
        brand: Brand,
        window: MainWindow,
        settings: Settings,
        runner: Runner,
        jobs: JobsModel,
        client_factory: ClientFactory | None = None,
        data_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.brand, self.window, self.settings, self.runner, self.jobs = brand, window, settings, runner, jobs
        self.client: ApiClient | None = None
        self.caps: Capabilities = spec_capabilities()
        self._make_client = client_factory or (lambda url, key: ApiClient(url, key, user_agent=brand.user_agent))
        base = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation))
        # Uploads, downloads and decoding go to their own pool, so a batch of hundreds of files never
        # queues ahead of the quick calls (connect, poll, list) that keep the window current.
        self.bulk = Runner(max_threads=3)
        self.local = LocalAppliance(brand, (data_dir or base) / "appliance", runner)
        self.batch = BatchController(self)
        self.results = ResultsController(self)
        # job id -> local file name it was made from (shown in the queue, used when saving)
        self.sources: dict[str, str] = dict(settings.get("job_sources"))
        self._sources_dirty = False
        self._shut_down = False
        self._watch: set[str] = set()
        self._polling = False
        self.poll_timer = QTimer(self)
        self.poll_timer.setInterval(POLL_MS)
        self.poll_timer.timeout.connect(self.poll)
        self._wire()

    def _wire(self) -> None:
        w = self.window
        w.connect_view.connect_requested.connect(self.connect_to)
        w.connect_view.local_requested.connect(self.start_local)
        w.queue_view.page_requested.connect(self.load_page)
        w.queue_view.cancel_requested.connect(self.cancel)
        w.about_requested.connect(self.show_about)
        w.closing.connect(self.shutdown)
        self.local.ready.connect(self._local_ready)
        self.local.failed.connect(w.connect_view.show_error)
        self.local.output.connect(w.connect_view.append_log)
        geometry = self.settings.get("geometry")
        if geometry:
            w.restoreGeometry(QByteArray(geometry))
        w.connect_view.set_fields(self.settings.server_url(), str(self.settings.get("api_key")))

    # -- connection -------------------------------------------------------------------------------

    def restore(self) -> None:
        """Reconnect the way the user last connected (called once the window is shown)."""
        if self.settings.get("use_local") and self.brand.feature("local_server"):
            self.start_local()
        elif self.settings.get("api_key"):
            self.connect_to(self.settings.server_url(), str(self.settings.get("api_key")))

    def connect_to(self, url: str, key: str, local: bool = False) -> None:
        """Check the address and key with a real request on a worker, then switch to them."""
        view = self.window.connect_view
        if not url.startswith(("http://", "https://")):
            view.show_error("Enter the full address, starting with http:// or https://.")
            return
        if not key:
            view.show_error("Enter the API key.")
            return
        view.set_busy(f"Checking {url}…")
        client = self._make_client(url, key)

        def check() -> Capabilities:
            try:
                return client.capabilities()
            except ApiError as exc:
                if exc.status != 404:
                    raise
            # A plain v1 appliance has no capabilities endpoint: check the key with a list call instead.
            client.list_jobs(limit=1)
            return spec_capabilities()

        def failed(exc: BaseException) -> None:
            client.close()
            view.show_error(describe(exc))

        self.runner.submit(check, lambda caps: self._connected(client, caps, local), failed)

    def _connected(self, client: ApiClient, caps: Any, local: bool) -> None:
        assert isinstance(caps, Capabilities)
        if self.client is not None:
            self.client.close()
        self.client, self.caps = client, caps
        if local:
            self.settings.set("use_local", True)
        else:
            self.settings.set("use_local", False)
            self.settings.set("server_url", client.base_url)
            self.settings.set("api_key", client.api_key)
            self.settings.sync()  # written now, and made private, rather than by Qt's lazy auto-save
        where = "this computer" if local else client.base_url.split("://", 1)[-1]
        product = f"{caps.product} {caps.version}".strip() or "appliance"
        self.window.connect_view.show_connected(f"Connected to {product} on {where}.")
        self.window.set_connected(True, f"Connected to\n{where}")
        view = self.window.create_view
        view.set_inputs(form_inputs(caps, self.brand.feature("extensions")), caps.styles, caps.limits.max_prompt_chars)
        view.set_values(dict(self.settings.get("last_options")))
        self.batch.revalidate()
        self.window.show_page("create")
        self.load_page(0, self.window.queue_view.status_filter)
        self.results.load_results(0)
        self.poll_timer.start()

    def start_local(self) -> None:
        """Start (or reuse) the appliance on this computer."""
        self.window.connect_view.set_busy("Starting the appliance on this computer…")
        self.local.start()

    def _local_ready(self, endpoint: LocalEndpoint) -> None:
        self.connect_to(endpoint.url, endpoint.api_key, local=True)

    # -- queue and history ------------------------------------------------------------------------

    def remember_source(self, job_id: str, file_name: str) -> None:
        """Keep the local file name of a submitted job (used in the table and when saving)."""
        self.sources[job_id] = file_name
        self.jobs.remember_source(job_id, file_name)
        self._sources_dirty = True  # written by the next poll or at quit: not once per file of a batch

    def _save_sources(self) -> None:
        if self._sources_dirty:
            # Bounded so settings stay small; the newest names are the ones users save.
            self.settings.set("job_sources", dict(list(self.sources.items())[-500:]))
            self._sources_dirty = False

    def watch(self, job: Job) -> None:
        """Show a new job and poll it until it finishes."""
        self._watch.add(job.id)
        self.jobs.upsert(job)

    def load_page(self, offset: int, status: str) -> None:
        """Fetch one page of ``GET /v1/generations`` into the table."""
        client = self.client
        if client is None:
            return
        view = self.window.queue_view
        view.show_message("Loading…")

        def done(page: Any) -> None:
            for job in page.data:
                if job.id in self.sources:
                    self.jobs.remember_source(job.id, self.sources[job.id])
            self.jobs.status_filter = status
            self.jobs.limit = page.limit or self.jobs.limit
            self.jobs.set_page(list(page.data), page.total, page.offset)
            view.show_message("")

        self.runner.submit(
            lambda: client.list_jobs(self.jobs.limit, offset, status or None),
            done,
            lambda exc: view.show_message(describe(exc), "error"),
        )

    def poll(self) -> None:
        """Refresh unfinished jobs (one worker round at a time, so a slow server is not flooded)."""
        self._save_sources()
        client = self.client
        ids = sorted(self._watch | set(self.jobs.unfinished_ids()))
        if client is None or self._polling or not ids:
            return
        self._polling = True

        def fetch() -> list[Job]:
            return poll_jobs(client, ids)

        def done(found: Any) -> None:
            self._polling = False
            for job in found:
                self.jobs.upsert(job)
                if job.finished:
                    self._watch.discard(job.id)
                    self._finished(job)

        def failed(exc: BaseException) -> None:
            self._polling = False
            if not self._lost_key(exc):
                self.window.queue_view.show_message(describe(exc), "error")

        self.runner.submit(fetch, done, failed)

    def _lost_key(self, exc: BaseException) -> bool:
        """A key revoked mid-session: stop polling and send the user back to Connect with the reason."""
        if not (isinstance(exc, ApiError) and exc.code == "unauthorized") or self.client is None:
            return False
        self.poll_timer.stop()
        self.client.close()
        self.client = None
        self.window.set_connected(False, "Not connected")
        self.window.connect_view.show_error(describe(exc))
        self.window.show_page("connect")
        return True

    def _finished(self, job: Job) -> None:
        name = self.sources.get(job.id, job.id)
        if job.status == "completed":
            self.results.add_finished(job)
            self.window.notify(self.brand.app_name, f"{name} is ready.")
        elif job.error is None or job.error.code != "cancelled":
            self.window.notify(self.brand.app_name, f"{name} failed.")

    def cancel(self, job_id: str) -> None:
        """Ask the server to cancel a job."""
        client = self.client
        if client is not None:
            self.runner.submit(
                lambda: client.cancel(job_id),
                lambda job: self.jobs.upsert(job),
                lambda exc: self.window.queue_view.show_message(describe(exc), "error"),
            )

    # -- app --------------------------------------------------------------------------------------

    def show_about(self) -> None:
        """The brand's about dialog, with the connected appliance's identity."""
        caps = self.caps
        where = f"Connected to {caps.product} {caps.version}".strip() if self.client else "Not connected"
        AboutDialog(self.brand, VERSION, where, self.window).exec()

    def shutdown(self) -> None:
        """Stop polling, let running requests end, close connections, stop the local appliance (once)."""
        if self._shut_down:
            return
        self._shut_down = True
        self.poll_timer.stop()
        self.settings.set("geometry", QByteArray(self.window.saveGeometry()))
        self._save_sources()
        self.settings.sync()
        if self.client is not None:
            self.client.close()
        self.bulk.pool.clear()  # queued uploads/downloads that have not started are dropped
        self.runner.wait(3000)
        self.bulk.wait(3000)
        self.local.stop()
