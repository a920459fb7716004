"""Glue between the views, the model and the workers: connection, history, polling.

Every server call goes through :class:`~paqshot_desktop.workers.Runner`; results come back on the GUI thread
and are turned into plain data for the views. The batch (Create page) lives in ``batching.py``, the results and
the viewer in ``results_control.py``; both get the :class:`~paqshot_desktop.session.Session` and the few
callables they need, not this object.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QObject, QStandardPaths, QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox

from . import keystore
from .batching import BatchController
from .branding import Brand
from .catalogue import CatalogueRun, files_in_the_way
from .client import ApiClient, ApiError, ClientClosed, ConnectionFailed, describe, warm_up_http
from .labels import PACKSHOT, counted
from .local import LocalAppliance, LocalEndpoint
from .manifestrows import ManifestError
from .model import JobsModel
from .options import form_inputs, spec_capabilities
from .results_control import ResultsController, ResultsDeps
from .session import Session
from .settings import Settings
from .views.about import AboutDialog
from .views.catalogue import CatalogueDialog
from .views.mainwindow import MainWindow
from .wire import Capabilities, Job, PresetInfo
from .workers import Runner

POLL_MS = 2000
POLL_PAGE = 100
PROCEDURAL_HINT = (
    "<b>Scenes here are preview sets</b> (procedural engine). For photographic scenes, stand products on real "
    "photographs: add backdrop plates on the appliance (<code>{exe} backdrops add FILE --tags kitchen</code>), or "
    "install an inpainting model: <code>{exe} models install FOLDER</code> (an exported model, e.g. "
    "sd15-inpainting-lcm)."
)

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


def offered_presets(client: ApiClient, caps: Capabilities) -> tuple[PresetInfo, ...]:
    """The marketplace presets of an appliance whose request takes ``preset`` (``GET /v1/presets``); none when
    it has no such field or no such list (an older appliance: the field then stays a plain input)."""
    if caps.field("preset") is None:
        return ()
    try:
        return client.presets()
    except ApiError as exc:
        if exc.status != 404:
            raise
        return ()


class Controller(QObject):
    """Owns the session, the runners and the local appliance; drives the main window."""

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
        self.session = Session(sources=dict(settings.get("job_sources")))
        self._make_client = client_factory or (lambda url, key: ApiClient(url, key, user_agent=brand.user_agent))
        base = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation))
        # Uploads, downloads and decoding go to their own pool, so a batch of hundreds of files never
        # queues ahead of the quick calls (connect, poll, list) that keep the window current.
        self.bulk = Runner(max_threads=3)
        self.local = LocalAppliance(brand, (data_dir or base) / "appliance", runner)
        self.batch = BatchController(window.create_view, self.session, self.bulk, self.follow_new, self._notify)
        self.results = ResultsController(
            ResultsDeps(
                parent=window,
                view=window.results_view,
                session=self.session,
                runner=runner,
                bulk=self.bulk,
                settings=settings,
                features=dict(brand.features),
                app_name=brand.app_name,
                remember=self._follow_rerun,
                forget=self.jobs.remove,
                message=window.queue_view.show_message,
            )
        )
        self.catalogue: CatalogueDialog | None = None  # the last catalogue run's dialog (tests follow it)
        self._sources_dirty = False
        self._shut_down = False
        self._checks = itertools.count(1)
        self._check = 0  # the connection check whose answer is still wanted (0: none)
        self._checking: set[ApiClient] = set()  # clients of checks not answered yet (closed at shutdown)
        self._key_loaded = False
        self._restore_wanted = False
        self._watch: set[str] = set()
        self._polling = False
        self._where = ""  # the connected appliance's address, as the sidebar shows it
        self._answering = True  # whether it answered the last poll (the sidebar says so)
        self.poll_timer = QTimer(self)
        self.poll_timer.setInterval(POLL_MS)
        self.poll_timer.timeout.connect(self.poll)
        self._wire()

    @property
    def client(self) -> ApiClient | None:
        """The connected appliance's client (None while not connected)."""
        return self.session.client

    @property
    def caps(self) -> Capabilities:
        """What the connected appliance offers."""
        return self.session.caps

    @property
    def sources(self) -> dict[str, str]:
        """Job id -> the local file it was made from."""
        return self.session.sources

    def _wire(self) -> None:
        w = self.window
        w.connect_view.connect_requested.connect(self.connect_to)
        w.connect_view.cancel_requested.connect(self.cancel_check)
        w.connect_view.local_requested.connect(self.start_local)
        w.queue_view.page_requested.connect(self.load_page)
        w.queue_view.cancel_requested.connect(self.cancel)
        w.queue_view.open_requested.connect(self.results.open_viewer)
        w.create_view.submit_requested.connect(self.submit)
        w.create_view.open_requested.connect(self.open_from_batch)
        w.create_view.drop.catalogue_requested.connect(self.open_catalogue)
        w.create_view.hint_dismissed.connect(lambda: self.settings.set("procedural_hint_seen", True))
        w.about_requested.connect(self.show_about)
        w.closing.connect(self.shutdown)
        self.local.ready.connect(self._local_ready)
        self.local.failed.connect(w.connect_view.show_error)
        self.local.output.connect(w.connect_view.append_log)
        geometry = self.settings.get("geometry")
        if geometry:
            w.restoreGeometry(QByteArray(geometry))
        url = self.settings.server_url()
        w.connect_view.set_fields(url, str(self.settings.get("api_key")))
        # Once the event loop runs (after the first paint, so the window never waits for them): read the saved
        # key (keyring is slow to import and may talk D-Bus), and import httpx (~0.5 s) so that the first
        # connection check answers at once. Both on workers.
        QTimer.singleShot(0, lambda: self._warm_up(url))

    def _warm_up(self, url: str) -> None:
        if self._shut_down:
            return  # closed before the event loop ran: nothing to prepare
        self.runner.submit(
            lambda: keystore.read_key(self.settings.keyring_service, url),
            self._key_read,
            lambda _exc: self._key_read(None),
        )
        self.runner.submit(warm_up_http)

    def _key_read(self, key: Any) -> None:
        self._key_loaded = True
        if isinstance(key, str) and key and not self.window.connect_view.key.text():
            self.window.connect_view.key.setText(key)
        if self._restore_wanted:
            self.restore()

    # -- connection -------------------------------------------------------------------------------

    def restore(self) -> None:
        """Reconnect the way the user last connected (called once the window is shown)."""
        if not self._key_loaded:
            self._restore_wanted = True  # once the saved key is read
            return
        self._restore_wanted = False
        view = self.window.connect_view
        if self.settings.get("use_local") and self.brand.feature("local_server"):
            self.start_local()
        elif view.key.text():
            self.connect_to(view.url.text().strip(), view.key.text().strip())

    def connect_to(self, url: str, key: str, local: bool = False) -> None:
        """Check the address and key with one real request on a worker (no retries: a refused connection is
        reported at once), then switch to them. The user may cancel the check."""
        view = self.window.connect_view
        if not url.startswith(("http://", "https://")):
            view.show_error("Enter the full address, starting with http:// or https://.")
            return
        if not key:
            view.show_error("Enter the API key.")
            return
        check_id = self._check = next(self._checks)
        view.set_busy(f"Checking {url}…")
        client = self._make_client(url, key)
        self._checking.add(client)

        def check() -> tuple[Capabilities, tuple[PresetInfo, ...]]:
            try:
                caps = client.capabilities(retry=False)
            except ApiError as exc:
                if exc.status != 404:
                    raise
                # A plain v1 appliance has no capabilities endpoint: check the key with a list call instead.
                client.list_jobs(limit=1, retry=False)
                return spec_capabilities(), ()
            return caps, offered_presets(client, caps)

        def done(answer: Any) -> None:
            self._checking.discard(client)
            if check_id != self._check:
                client.close()  # cancelled, or superseded by a newer check
                return
            caps, presets = answer
            self._connected(client, caps, presets, local)

        def failed(exc: BaseException) -> None:
            self._checking.discard(client)
            client.close()
            if check_id == self._check:
                self._check = 0
                view.show_error(describe(exc))

        self.runner.submit(check, done, failed)

    def cancel_check(self) -> None:
        """Forget the connection check in progress (its answer, when it comes, is dropped)."""
        self._check = 0
        self.window.connect_view.show_error("Cancelled.")

    def _connected(self, client: ApiClient, caps: Capabilities, presets: tuple[PresetInfo, ...], local: bool) -> None:
        self._check = 0
        if self.session.client is not None:
            self.session.client.close()
        self.session.client, self.session.caps, self.session.presets = client, caps, presets
        self.settings.set("use_local", local)
        if not local:
            self.settings.set("server_url", client.base_url)
            self._store_key(client.base_url, client.api_key)
        where = "this computer" if local else client.base_url.split("://", 1)[-1]
        product = f"{caps.product} {caps.version}".strip() or "appliance"
        self.window.connect_view.show_connected(f"Connected to {product} on {where}.")
        self._where, self._answering = where, True
        self.window.set_connected(True, f"Connected to\n{where}")
        view = self.window.create_view
        inputs = form_inputs(caps, self.brand.feature("extensions"), presets)
        view.set_inputs(inputs, caps.styles, caps.limits.max_prompt_chars)
        view.set_values(dict(self.settings.get("last_options")))
        self.window.results_view.set_can_delete(self.results.repairs)
        self.batch.revalidate()
        self._procedural_hint(caps)
        self.window.show_page("create")
        self.load_page(0, self.window.queue_view.status_filter)
        self.results.load_results(0)
        self.poll_timer.start()

    def _store_key(self, url: str, key: str) -> None:
        """The key goes to the keyring; where there is none, to the private settings file."""
        service = self.settings.keyring_service

        def stored(in_keyring: Any) -> None:
            self.settings.set("api_key", "" if in_keyring else key)
            self.settings.sync()  # written now, and made private, rather than by Qt's lazy auto-save

        self.runner.submit(lambda: keystore.write_key(service, url, key), stored, lambda _exc: stored(False))

    def _procedural_hint(self, caps: Capabilities) -> None:
        scenes = [s for s in caps.styles if s.name != PACKSHOT and s.available]
        drawn = all(s.engine == "procedural" and not s.can("plate") for s in scenes)
        if scenes and drawn and not self.settings.get("procedural_hint_seen"):
            self.window.create_view.show_hint(
                PROCEDURAL_HINT.format(exe=self.brand.server_executable), scenes_only=True
            )

    def start_local(self) -> None:
        """Start (or reuse) the appliance on this computer."""
        self.window.connect_view.set_busy("Starting the appliance on this computer…", cancellable=False)
        self.local.start()

    def _local_ready(self, endpoint: LocalEndpoint) -> None:
        self.connect_to(endpoint.url, endpoint.api_key, local=True)

    # -- jobs -------------------------------------------------------------------------------------

    def submit(self, values: dict[str, Any]) -> None:
        """Send the batch with the form's options; the options are remembered for next time."""
        if self.batch.submit(values):
            self.settings.set(
                "last_options", {k: v for k, v in self.window.create_view.form.all_values().items() if k != "seed"}
            )

    def follow_new(self, job: Job, file_name: str) -> None:
        """Show a new job and poll it until it finishes; remember the local file it came from."""
        self.session.sources[job.id] = file_name
        self.jobs.remember_source(job.id, file_name)
        self._sources_dirty = True  # written by the next poll or at quit: not once per file of a batch
        self._watch.add(job.id)
        self.jobs.upsert(job)

    def _follow_rerun(self, job: Job, file_name: str) -> None:
        self.follow_new(job, file_name)
        self.window.show_page("queue")

    def open_from_batch(self, job_id: str) -> None:
        """Open a finished Create tile's result, as the appliance has it now: the tile and the queue first take the
        job's state (a result retention has deleted since reads "Expired" with why, and no viewer opens)."""
        client = self.session.client
        if client is None:
            return

        def done(job: Any) -> None:
            self.jobs.upsert(job)
            self.batch.follow(job)
            self.results.open_viewer(job)

        self.runner.submit(
            lambda: client.job(job_id), done, lambda exc: self.window.queue_view.show_message(describe(exc), "error")
        )

    def _save_sources(self) -> None:
        if self._sources_dirty:
            # Bounded so settings stay small; the newest names are the ones users save.
            self.settings.set("job_sources", dict(list(self.session.sources.items())[-500:]))
            self._sources_dirty = False

    def load_page(self, offset: int, status: str) -> None:
        """Fetch one page of ``GET /v1/generations`` into the table."""
        client = self.session.client
        if client is None:
            return
        view = self.window.queue_view
        view.show_message("Loading…")

        def done(page: Any) -> None:
            for job in page.data:
                if job.id in self.session.sources:
                    self.jobs.remember_source(job.id, self.session.sources[job.id])
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
        client = self.session.client
        ids = sorted(self._watch | set(self.jobs.unfinished_ids()))
        if client is None or self._polling:
            return
        self._polling = True
        if not ids:  # nothing to refresh: still ask whether the appliance answers, once, for the sidebar
            self.runner.submit(
                lambda: client.capabilities(retry=False), lambda _caps: self._answered(None), self._answered
            )
            return

        def done(found: Any) -> None:
            self._answered(None)
            for job in found:
                self.jobs.upsert(job)
                self.batch.follow(job)
                if job.finished:
                    self._watch.discard(job.id)
                    if job.status == "completed":
                        self.results.add_finished(job)

        def failed(exc: BaseException) -> None:
            self._answered(exc)
            if isinstance(exc, ClientClosed):
                return  # that connection was replaced or the app is quitting: nothing to tell
            if not self._lost_key(exc):
                self.window.queue_view.show_message(describe(exc), "error")

        self.runner.submit(lambda: poll_jobs(client, ids), done, failed)

    def _answered(self, exc: BaseException | None) -> None:
        """A poll's end: the sidebar says whether the appliance answers (breaker15 B15-4: it still said "Connected"
        25 s after the server had died). ``exc``: the poll's failure; only an unreachable server is "not answering"."""
        self._polling = False
        answering = not isinstance(exc, ConnectionFailed)
        if self.session.client is None or answering == self._answering:
            return
        self._answering = answering
        state = "Connected to" if answering else "Not answering (retrying):"
        self.window.set_connected(True, f"{state}\n{self._where}")

    def _lost_key(self, exc: BaseException) -> bool:
        """A key revoked mid-session: stop polling and send the user back to Connect with the reason."""
        if not (isinstance(exc, ApiError) and exc.code == "unauthorized") or self.session.client is None:
            return False
        self.poll_timer.stop()
        self.session.client.close()
        self.session.client = None
        self.window.set_connected(False, "Not connected")
        self.window.connect_view.show_error(describe(exc))
        self.window.show_page("connect")
        return True

    def _notify(self, text: str) -> None:
        self.window.notify(self.brand.app_name, text)

    def cancel(self, job_id: str) -> None:
        """Ask the server to cancel a job."""
        client = self.session.client
        if client is not None:
            self.runner.submit(
                lambda: client.cancel(job_id),
                lambda job: self.jobs.upsert(job),
                lambda exc: self.window.queue_view.show_message(describe(exc), "error"),
            )

    def open_catalogue(self, manifest: Path | None = None, out: Path | None = None) -> CatalogueDialog | None:
        """Render a catalogue manifest on the appliance into a folder (asked for when not given), in a dialog
        that follows the rows; the run itself is :class:`~paqshot_desktop.catalogue.CatalogueRun` on a worker."""
        client = self.session.client
        if client is None:
            return None
        if manifest is None:
            name, _ = QFileDialog.getOpenFileName(
                self.window, "Open a catalogue manifest", "", "Catalogue (*.csv *.json);;All files (*)"
            )
            if not name:
                return None
            manifest = Path(name)
        if out is None:
            folder = QFileDialog.getExistingDirectory(
                self.window, "Folder for the catalogue's images", str(manifest.parent)
            )
            if not folder:
                return None
            out = Path(folder)
        overwrite = self._replace_answer(manifest, out)
        if overwrite is None:
            return None
        run = CatalogueRun(client, self.session.caps, self.session.presets, manifest, out, overwrite=overwrite)
        dialog = CatalogueDialog(manifest, out, self.session.preset_titles(), self.window)
        dialog.stop_requested.connect(run.stop.set)
        dialog.finished.connect(lambda _result: run.stop.set())
        self.window.closing.connect(run.stop.set)  # quitting stops following (the jobs finish on the appliance)
        self.bulk.submit_reporting(
            run.run,
            dialog.finish,
            lambda exc: dialog.show_error(describe(exc)),
            dialog.show_step,
        )
        dialog.open()
        self.catalogue = dialog
        return dialog

    def _replace_answer(self, manifest: Path, out: Path) -> bool | None:
        """Ask before a catalogue replaces files in ``out`` it did not make (B17-5): True Replace, False Keep
        (those rows fail, the files stay), None Cancel. No question when there are none, or when the manifest
        cannot be read (the run says why)."""
        try:
            in_the_way = files_in_the_way(manifest, out)
        except (ManifestError, OSError):
            return False
        if not in_the_way:
            return False
        names = ", ".join(p.name for p in in_the_way[:3]) + (" …" if len(in_the_way) > 3 else "")
        one = len(in_the_way) == 1
        answer = QMessageBox.question(
            self.window,
            "Replace files?",
            f"{counted(len(in_the_way), 'file')} in {out} "
            f"{'has the name of an image' if one else 'have the names of images'} of this catalogue and "
            f"{'was' if one else 'were'} not made by it: {names}\nReplace {'it' if one else 'them'}? Keep: "
            f"{'that row fails and the file stays' if one else 'those rows fail and the files stay'}. The "
            "catalogue's own photos are never replaced.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.No,
        )
        if answer == QMessageBox.StandardButton.Cancel:
            return None
        return answer == QMessageBox.StandardButton.Yes

    # -- app --------------------------------------------------------------------------------------

    def show_about(self) -> None:
        """The brand's about dialog, with the connected appliance's identity."""
        from . import __version__  # the package metadata, read when first shown

        caps = self.session.caps
        where = f"Connected to {caps.product} {caps.version}".strip() if self.session.client else "Not connected"
        AboutDialog(self.brand, __version__, where, self.window).exec()

    def shutdown(self) -> None:
        """Stop polling, close connections, let running requests end, stop the local appliance (once).

        Closing first wakes retries waiting on a Retry-After and makes requests still queued fail at once
        (:class:`~paqshot_desktop.client.ClientClosed`); a request already in flight ends normally and its
        connection is closed then, by the client (closing under it would leak its socket)."""
        if self._shut_down:
            return
        self._shut_down = True
        self.poll_timer.stop()
        self.settings.set("geometry", QByteArray(self.window.saveGeometry()))
        self._save_sources()
        self.settings.sync()
        for client in (self.session.client, *self._checking):
            if client is not None:
                client.close()
        self.bulk.pool.clear()  # queued uploads/downloads that have not started are dropped
        self.runner.wait(3000)
        self.bulk.wait(3000)
        self.local.stop()
