"""The Results page's logic: completed jobs, thumbnails, saving, and the before/after viewer."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog

from . import transfers
from .client import ApiClient, describe
from .views.viewer import ViewerDialog
from .wire import Job

if TYPE_CHECKING:
    from .controller import Controller

RESULTS_PAGE = 40
THUMB_PX = 168


class ResultsController:
    """Connects the Results view (and the viewer dialog) to the server through the owner's workers."""

    def __init__(self, owner: Controller) -> None:
        self.owner = owner
        self._results: list[Job] = []
        self._results_more = False
        self._thumbs: dict[str, QImage] = {}
        self.viewer: ViewerDialog | None = None
        view = owner.window.results_view
        view.open_requested.connect(self.open_viewer)
        view.save_requested.connect(self.save)
        view.more_requested.connect(lambda: self.load_results(len(self._results)))
        view.refresh_requested.connect(lambda: self.load_results(0))
        owner.window.queue_view.open_requested.connect(self.open_viewer)
        view.set_save_defaults(str(owner.settings.get("save_folder")), str(owner.settings.get("name_pattern")))

    def add_finished(self, job: Job) -> None:
        """A job that just completed goes to the top of the grid."""
        if all(r.id != job.id for r in self._results):
            self._results.insert(0, job)
            self._show_results()

    def load_results(self, offset: int) -> None:
        """Fetch completed jobs for the results grid (``offset`` 0 reloads from the newest)."""
        client = self.owner.client
        if client is None:
            return

        def done(page: Any) -> None:
            self._results = list(page.data) if offset == 0 else self._results + list(page.data)
            self._results_more = bool(page.has_more)
            self._show_results()

        self.owner.runner.submit(
            lambda: client.list_jobs(RESULTS_PAGE, offset, "completed"),
            done,
            lambda exc: self.owner.window.results_view.show_message(describe(exc), "error"),
        )

    def _show_results(self) -> None:
        view = self.owner.window.results_view
        view.set_jobs(self._results, self.owner.sources)
        view.set_has_more(self._results_more)
        client = self.owner.client
        for job in self._results:
            if job.id in self._thumbs:
                view.set_thumbnail(job.id, self._thumbs[job.id])
                continue
            url = job.thumbnail_url or job.image_url
            if client is None or not url:
                continue
            self._thumbs[job.id] = QImage()  # placeholder: one download per job
            self.owner.bulk.submit(
                partial(transfers.download_image, client, url, THUMB_PX),
                partial(self._thumb_loaded, job.id),
                partial(self._thumb_failed, job.id),
            )

    def _thumb_failed(self, job_id: str, _exc: BaseException) -> None:
        # Forget the placeholder so the next refresh tries again; the grid keeps a blank tile meanwhile.
        self._thumbs.pop(job_id, None)

    def _thumb_loaded(self, job_id: str, image: QImage) -> None:
        self._thumbs[job_id] = image
        self.owner.window.results_view.set_thumbnail(job_id, image)

    def save(self, jobs: list[Job], folder: str, pattern: str) -> None:
        """Download the images of ``jobs`` into ``folder`` on a worker."""
        client = self.owner.client
        if client is None:
            return
        self.owner.settings.set("save_folder", folder)
        self.owner.settings.set("name_pattern", pattern)
        view = self.owner.window.results_view
        view.show_message("Saving…")
        sources = dict(self.owner.sources)
        self.owner.bulk.submit_reporting(
            lambda report: transfers.save_jobs(client, jobs, Path(folder), pattern, sources, report),
            lambda paths: view.show_message(f"Saved {len(paths)} image(s) to {folder}.", "ok"),
            lambda exc: view.show_message(f"Saving failed: {describe(exc)}", "error"),
            lambda step: view.show_message(f"Saving {step[0]} of {step[1]}…"),
        )

    def open_viewer(self, job: Job) -> None:
        """Open the before/after viewer; images load on a worker."""
        client = self.owner.client
        if client is None or not job.image_url:
            return
        title = f"{self.owner.sources.get(job.id, job.id)} — {self.owner.brand.app_name}"
        viewer = ViewerDialog(
            job,
            title,
            self.owner.brand.feature("copy_url"),
            self.owner.brand.feature("generate_again"),
            self.owner.window,
        )
        self.viewer = viewer
        viewer.finished.connect(lambda _r: self._viewer_closed(viewer))
        viewer.variant_requested.connect(lambda index: self._load_viewer(viewer, client, index))
        viewer.open()
        self._load_viewer(viewer, client, 0)

    def _load_viewer(self, viewer: ViewerDialog, client: ApiClient, variant: int) -> None:
        self.owner.runner.submit(  # interactive: must not queue behind a batch's uploads
            lambda: transfers.viewer_images(client, viewer.job, variant),
            lambda pair: viewer.set_images(*pair),
            lambda exc: viewer.show_error(describe(exc)),
        )

    def _viewer_closed(self, viewer: ViewerDialog) -> None:
        if viewer.action == "save":
            folder = QFileDialog.getExistingDirectory(
                self.owner.window, "Save image to", str(self.owner.settings.get("save_folder"))
            )
            if folder:
                self.save([viewer.job], folder, self.owner.window.results_view.pattern.text().strip())
        elif viewer.action == "again":
            self.owner.batch.generate_again(viewer.job, self.owner.sources.get(viewer.job.id))
        self.viewer = None
