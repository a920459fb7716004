"""The Results page's logic: finished jobs, thumbnails, search, saving, deleting, the viewer and its repairs."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from . import transfers
from .client import ApiClient, ClientError, describe
from .jobstate import job_state
from .labels import PACKSHOT, counted, sentence
from .model import image_extension, render_name
from .options import build_request, explicit_values, form_inputs, sendable_values
from .session import Session
from .settings import Settings
from .views.repair import RepairDialog
from .views.rerun import RerunDialog
from .views.results import ResultsView
from .views.viewer import ViewerDialog
from .wire import Job
from .workers import Runner

RESULTS_PAGE = 40
THUMB_PX = 168
# Request fields that are not options of the look (never copied into a re-run's form).
NOT_OPTIONS = frozenset({"product_image", "webhook_url", "mask_hint", "filename"})


@dataclass(frozen=True)
class ResultsDeps:
    """What the results logic needs, passed in (never the whole controller)."""

    parent: QWidget  # owner of the dialogs
    view: ResultsView
    session: Session
    runner: Runner  # interactive calls
    bulk: Runner  # downloads
    settings: Settings
    features: dict[str, bool]  # the brand's switches (copy_url, generate_again, extensions)
    app_name: str
    remember: Callable[[Job, str], None]  # a new job to follow (re-run, again)
    forget: Callable[[str], None]  # a deleted job
    message: Callable[[str, str], None]  # a line of feedback where the user looks next (text, role)


class ResultsController:
    """Connects the Results view (and the viewer, re-run and repair dialogs) to the appliance."""

    def __init__(self, deps: ResultsDeps) -> None:
        self.deps = deps
        self._results: list[Job] = []
        self._results_more = False
        self._thumbs: dict[str, QImage] = {}
        self.viewer: ViewerDialog | None = None
        self._load_seq = 0  # only the newest list request's answer is shown (filters change quickly)
        self._deleted: set[str] = set()  # never shown again, even by an answer that left before the delete
        self.dialog: RerunDialog | RepairDialog | None = None  # the open re-run/repair dialog (tests drive it)
        view = deps.view
        view.open_requested.connect(self.open_viewer)
        view.save_requested.connect(self.save)
        view.delete_requested.connect(self.delete)
        view.more_requested.connect(lambda: self.load_results(len(self._results)))
        view.refresh_requested.connect(lambda: self.load_results(0))
        view.filter_changed.connect(lambda _text, _review: self.load_results(0))
        view.set_save_defaults(str(deps.settings.get("save_folder")), str(deps.settings.get("name_pattern")))

    # -- grid ---------------------------------------------------------------------------------------

    def _wanted(self, job: Job) -> bool:
        """The page's filters, applied here too (an appliance may not know the list filters)."""
        text = self.deps.view.search_text.lower()
        if job.id in self._deleted or (text and text not in self.deps.session.name_of(job).lower()):
            return False
        return job.status == "completed" and (job.flagged or not self.deps.view.review_only)

    def add_finished(self, job: Job) -> None:
        """A job that just completed goes to the top of the grid."""
        if all(r.id != job.id for r in self._results) and self._wanted(job):
            self._results.insert(0, job)
            self._show_results()

    def remove(self, job_id: str) -> None:
        """Take a deleted job off the grid."""
        self._deleted.add(job_id)
        self._results = [r for r in self._results if r.id != job_id]
        self._show_results()

    def load_results(self, offset: int) -> None:
        """Fetch completed jobs for the grid (``offset`` 0 reloads from the newest) with the page's filters."""
        client = self.deps.session.client
        if client is None:
            return
        view = self.deps.view
        search, review = view.search_text or None, (True if view.review_only else None)
        self._load_seq += 1
        seq = self._load_seq

        def done(page: Any) -> None:
            if seq != self._load_seq:
                return  # a newer request (another filter, a refresh) is on its way
            found = [job for job in page.data if self._wanted(job)]
            self._results = found if offset == 0 else self._results + found
            self._results_more = bool(page.has_more)
            self._show_results()

        self.deps.runner.submit(
            lambda: client.list_jobs(RESULTS_PAGE, offset, "completed", filename=search, needs_review=review),
            done,
            lambda exc: view.show_message(describe(exc), "error"),
        )

    def _show_results(self) -> None:
        view, session = self.deps.view, self.deps.session
        view.set_jobs(self._results, {job.id: session.name_of(job) for job in self._results})
        view.set_has_more(self._results_more)
        client = session.client
        for job in self._results:
            if job.id in self._thumbs:
                view.set_thumbnail(job.id, self._thumbs[job.id])
                continue
            url = job.thumbnail_url or job.image_url
            if client is None or not url:
                continue
            self._thumbs[job.id] = QImage()  # placeholder: one download per job
            self.deps.bulk.submit(
                partial(transfers.download_image, client, url, THUMB_PX),
                partial(self._thumb_loaded, job.id),
                partial(self._thumb_failed, job.id),
            )

    def _thumb_failed(self, job_id: str, _exc: BaseException) -> None:
        # Forget the placeholder so the next refresh tries again; the grid keeps a blank tile meanwhile.
        self._thumbs.pop(job_id, None)

    def _thumb_loaded(self, job_id: str, image: QImage) -> None:
        self._thumbs[job_id] = image
        self.deps.view.set_thumbnail(job_id, image)

    # -- save and delete ----------------------------------------------------------------------------

    def save(self, jobs: list[Job], folder: str, pattern: str) -> None:
        """Download the images of ``jobs`` into ``folder`` on a worker."""
        client = self.deps.session.client
        if client is None:
            return
        self.deps.settings.set("save_folder", folder)
        self.deps.settings.set("name_pattern", pattern)
        view = self.deps.view
        view.show_message("Saving…")
        sources = {job.id: self.deps.session.name_of(job) for job in jobs}
        self.deps.bulk.submit_reporting(
            lambda report: transfers.save_jobs(client, jobs, Path(folder), pattern, sources, report),
            lambda paths: view.show_message(f"Saved {counted(len(paths), 'image')} to {folder}.", "ok"),
            lambda exc: view.show_message(f"Saving failed: {describe(exc)}", "error"),
            lambda step: view.show_message(f"Saving {step[0]} of {step[1]}…"),
        )

    def save_as(self, job: Job, variant: int, target: Path) -> None:
        """Download one image of ``job`` to ``target`` (chosen in a save-as dialog)."""
        client = self.deps.session.client
        images = job.all_images
        if client is None or not images:
            return
        url = images[min(variant, len(images) - 1)].image_url
        view = self.deps.view

        def run() -> Path:
            target.write_bytes(client.download(url))
            return target

        self.deps.bulk.submit(
            run,
            lambda path: view.show_message(f"Saved {path}.", "ok"),
            lambda exc: view.show_message(f"Saving failed: {describe(exc)}", "error"),
        )

    def ask_save_as(self, job: Job, variant: int) -> None:
        """The platform's save-as dialog with a suggested name (the naming pattern) and the last folder."""
        images = job.all_images
        if not images:
            return
        image = images[min(variant, len(images) - 1)]
        ext = image_extension(job, image)
        pattern = self.deps.view.pattern.text().strip() or str(self.deps.settings.get("name_pattern"))
        name = render_name(pattern, job, variant, self.deps.session.name_of(job), ext)
        folder = str(self.deps.settings.get("save_folder")) or str(Path.home())
        chosen, _ = QFileDialog.getSaveFileName(
            self.deps.parent, "Save image as", str(Path(folder) / name), f"{ext.upper()} image (*.{ext})"
        )
        if chosen:
            target = Path(chosen)
            self.deps.settings.set("save_folder", str(target.parent))
            self.save_as(job, variant, target)

    def delete(self, jobs: list[Job], confirm: bool = True) -> None:
        """Delete jobs on the appliance (their files and URLs go too), after asking."""
        client = self.deps.session.client
        if client is None or not jobs:
            return
        if confirm:
            names = ", ".join(self.deps.session.name_of(j) for j in jobs[:3]) + (" …" if len(jobs) > 3 else "")
            answer = QMessageBox.question(
                self.deps.parent,
                "Delete",
                f"Delete {counted(len(jobs), 'job')} and their images from the appliance?\n{names}\n"
                "This cannot be undone.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        ids = [job.id for job in jobs]

        def run() -> tuple[list[str], list[str]]:
            """Each job in turn: one the appliance refuses leaves the others to go (B16-9's kind: a failure half
            way said "Could not delete" while the jobs before it were gone)."""
            deleted, problems = [], []
            for job_id in ids:
                try:
                    client.delete(job_id)
                except ClientError as exc:
                    problems.append(describe(exc))
                else:
                    deleted.append(job_id)
            return deleted, problems

        def done(outcome: Any) -> None:
            deleted, problems = outcome
            for job_id in deleted:
                self.remove(job_id)
                self.deps.forget(job_id)
            text = f"Deleted {counted(len(deleted), 'job')}"
            if problems:  # what happened, counted: the ones deleted, then why the others were not
                text += f"; {len(problems)} could not be: {problems[0]}"
            self.deps.view.show_message(sentence(text), "error" if problems else "ok")

        self.deps.runner.submit(
            run, done, lambda exc: self.deps.view.show_message(f"Could not delete: {describe(exc)}", "error")
        )

    # -- viewer ---------------------------------------------------------------------------------------

    @property
    def repairs(self) -> bool:
        """Whether the appliance re-renders a stored photo (``rerun``, ``mask_hint`` and ``DELETE`` land
        together; ``mask_hint`` among the capabilities' fields says so)."""
        return self.deps.session.offers("mask_hint")

    def open_viewer(self, job: Job) -> None:
        """Open the before/after viewer on a result that is there (``jobstate``: an expired one has no images, and
        the page it came from says so); images load on a worker."""
        client = self.deps.session.client
        if client is None or not job_state(job).has_result or not job.image_url:
            return
        title = f"{self.deps.session.name_of(job)} — {self.deps.app_name}"
        features = dict(self.deps.features)
        features.update(rerun=self.repairs and bool(job.input_url), delete=self.repairs)
        features["repair"] = features["rerun"] and job.style == PACKSHOT
        # A packshot has no seed: "again" would render the same image.
        features["generate_again"] = features.get("generate_again", True) and job.style != PACKSHOT
        viewer = ViewerDialog(job, title, features, self.deps.parent, self.deps.session.preset_titles())
        self.viewer = viewer
        viewer.finished.connect(lambda _r: self._viewer_closed(viewer))
        viewer.variant_requested.connect(lambda index: self._load_viewer(viewer, client, index))
        viewer.side_by_side_requested.connect(lambda: self._load_variants(viewer, client))
        viewer.open()
        self._load_viewer(viewer, client, 0)

    def _load_viewer(self, viewer: ViewerDialog, client: ApiClient, variant: int) -> None:
        self.deps.runner.submit(  # interactive: must not queue behind a batch's uploads
            lambda: transfers.viewer_images(client, viewer.job, variant),
            lambda pair: viewer.set_images(*pair),
            lambda exc: viewer.show_error(describe(exc)),
        )

    def _load_variants(self, viewer: ViewerDialog, client: ApiClient) -> None:
        urls = [image.image_url for image in viewer.job.all_images]
        self.deps.runner.submit(
            lambda: [transfers.download_image(client, url) for url in urls],
            viewer.set_variants,
            lambda exc: viewer.show_error(describe(exc)),
        )

    def _viewer_closed(self, viewer: ViewerDialog) -> None:
        job, action = viewer.job, viewer.action
        self.viewer = None
        if action == "save":
            self.ask_save_as(job, viewer.variant_index)
        elif action == "again":
            self.generate_again(job)
        elif action == "rerun":
            self.ask_rerun(job)
        elif action == "repair":
            self.ask_repair(job)
        elif action == "delete":
            self.delete([job])

    # -- again, re-run, repair ----------------------------------------------------------------------------

    def _submit_new(self, run: Callable[[], Job], job: Job, done_text: str) -> None:
        def done(new_job: Any) -> None:
            self.deps.remember(new_job, self.deps.session.name_of(job))
            self.deps.message(done_text, "ok")

        self.deps.runner.submit(
            run, done, lambda exc: self.deps.message(f"Could not start it: {describe(exc)}", "error")
        )

    def generate_again(self, job: Job) -> None:
        """The same settings and a new seed: a re-run when the appliance has one, else a fresh upload."""
        client, caps = self.deps.session.client, self.deps.session.caps
        if client is None:
            return
        if self.repairs:
            values = sendable_values(transfers.again_values(job, caps), caps)
            self._submit_new(lambda: client.rerun(job.id, values, str(uuid.uuid4())), job, "Generating again.")
            return

        def run() -> Job:
            values, image = transfers.again_request(client, job, caps)
            return client.generate(build_request(values, image, caps), str(uuid.uuid4()))

        self._submit_new(run, job, "Generating again with a new seed.")

    def ask_rerun(self, job: Job) -> None:
        """Edit the job's options in a form, then re-render the stored photo with them."""
        client, caps = self.deps.session.client, self.deps.session.caps
        if client is None:
            return
        current = {k: v for k, v in job.options.items() if k not in NOT_OPTIONS}
        current.setdefault("style", job.style)
        current.setdefault("aspect_ratio", job.aspect_ratio)
        dialog = RerunDialog(
            form_inputs(caps, self.deps.features.get("extensions", True), self.deps.session.presets),
            caps.styles,
            caps.limits.max_prompt_chars,
            current,
            f"Change options — {self.deps.session.name_of(job)}",
            self.deps.parent,
        )
        self.dialog = dialog

        def accepted() -> None:
            values = sendable_values(explicit_values(dialog.values(), caps, self.deps.session.presets), caps)
            self._submit_new(lambda: client.rerun(job.id, values, str(uuid.uuid4())), job, "Rendering again.")

        dialog.accepted.connect(accepted)
        dialog.open()

    def ask_repair(self, job: Job) -> None:
        """Download the stored photo (and matte), open the brush, and re-render with the strokes as the hint."""
        client = self.deps.session.client
        if client is None:
            return
        self.deps.message("Loading the photo to repair…", "muted")
        self.deps.runner.submit(
            lambda: transfers.repair_images(client, job),
            lambda pair: self._open_repair(job, *pair),
            lambda exc: self.deps.message(f"Cannot repair: {describe(exc)}", "error"),
        )

    def _open_repair(self, job: Job, photo: QImage, matte: QImage | None) -> None:
        client = self.deps.session.client
        if client is None:
            return
        can_shadow = self.deps.session.offers("remove_photo_shadow")
        title = f"Repair the cut-out — {self.deps.session.name_of(job)}"
        dialog = RepairDialog(photo, matte, can_shadow, title, self.deps.parent)
        self.dialog = dialog

        def accepted() -> None:
            changes: dict[str, Any] = {}
            hint = dialog.hint()
            if hint is not None:
                changes["mask_hint"] = transfers.png_data_uri(hint)
            if dialog.shadow.isChecked():
                changes["remove_photo_shadow"] = True
            self._submit_new(lambda: client.rerun(job.id, changes, str(uuid.uuid4())), job, "Rendering the repair.")

        dialog.accepted.connect(accepted)
        dialog.open()
