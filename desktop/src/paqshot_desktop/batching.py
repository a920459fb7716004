"""The Create page's logic: adding files, validating options, submitting the batch, generating again."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QTimer
from PySide6.QtGui import QImage

from . import transfers
from .client import ApiError, describe
from .model import Batch, BatchItem
from .options import build_request, check_file, collect_images, validate_values
from .wire import Job, Limits

if TYPE_CHECKING:
    from .controller import Controller

THUMB_PX = 112
CHUNK = 40  # files handled per turn of the event loop
T = TypeVar("T")
UNREADABLE = "This image cannot be read: the file is damaged or not a JPEG, PNG or WebP image."
# Server answers that mean "this file will never be accepted": show them on the file, don't retry.
FILE_ERRORS = frozenset({"image_too_large", "unsupported_image"})


def scan(paths: list[Path], limits: Limits) -> list[tuple[Path, str | None]]:
    """Expand folders and check each file (runs on a worker: folders can be large)."""
    return [(path, check_file(path, limits)) for path in collect_images(paths)]


def in_chunks(items: list[T], size: int, handle: Callable[[list[T]], None]) -> None:
    """Call ``handle`` on slices of ``items``, one slice per turn of the event loop.

    Creating thousands of tiles or tasks in one go would freeze the window; slices keep it drawing.
    """
    if not items:
        return
    handle(items[:size])
    if len(items) > size:
        QTimer.singleShot(0, lambda: in_chunks(items[size:], size, handle))


class BatchController:
    """Connects the Create view to the :class:`Batch` model and the workers."""

    def __init__(self, owner: Controller) -> None:
        self.owner = owner
        self.batch = Batch()
        self._in_flight = 0  # files queued or uploading
        view = owner.window.create_view
        view.files_dropped.connect(self.add_files)
        view.remove_requested.connect(self.batch.remove)
        view.clear_sent_requested.connect(self.batch.clear_sent)
        view.submit_requested.connect(self.submit)
        view.values_changed.connect(self.validate)
        self.batch.changed.connect(lambda: view.set_batch(self.batch.items))
        self.batch.item_changed.connect(self._item_changed)
        self.batch.added.connect(self._items_added)
        # Counting the whole batch after every file's update is O(n²) for big batches: coalesce it.
        self._summary = QTimer(view)  # dies with the view, never fires into a deleted one
        self._summary.setSingleShot(True)
        self._summary.setInterval(50)
        self._summary.timeout.connect(lambda: view.summarise(self.batch.items))

    def _items_added(self, items: list[BatchItem]) -> None:
        view = self.owner.window.create_view
        for item in items:
            view.update_item(item)
        if not self._summary.isActive():
            self._summary.start()

    def _item_changed(self, item: Any) -> None:
        self.owner.window.create_view.update_item(item)
        if not self._summary.isActive():
            self._summary.start()

    def add_files(self, paths: list[Path]) -> None:
        """Add dropped files/folders: scanned and checked on a worker, thumbnails decoded on workers."""
        limits = self.owner.caps.limits
        self.owner.bulk.submit(lambda: scan(paths, limits), self._scanned)

    def _scanned(self, found: Any) -> None:
        if not found:
            self.owner.window.create_view.show_message("No JPEG, PNG or WebP files were found there.", "warn")
            return
        fresh = [(p, problem) for p, problem in found if self.batch.get(p) is None]
        in_chunks(fresh, CHUNK, self._add_chunk)

    def _add_chunk(self, chunk: list[tuple[Path, str | None]]) -> None:
        self.batch.add([p for p, _ in chunk], dict(chunk))
        for path, problem in chunk:
            if not problem:
                self.owner.bulk.submit(
                    partial(transfers.load_thumbnail, path, THUMB_PX), partial(self._thumbnail, path)
                )

    def _thumbnail(self, path: Path, image: Any) -> None:
        if isinstance(image, QImage) and not image.isNull():
            self.owner.window.create_view.set_thumbnail(path, image)
            return
        # Right magic bytes but undecodable: don't upload it only to have the server refuse it.
        current = self.batch.get(path)
        if current is not None and current.state == "ready":
            self.batch.update(path, state="invalid", message=UNREADABLE)

    def validate(self, values: dict[str, Any]) -> dict[str, str]:
        """Check the form against the appliance's rules and show the problems."""
        problems = validate_values(values, self.owner.caps)
        self.owner.window.create_view.show_form_problems(problems)
        return problems

    def revalidate(self) -> None:
        """Re-check the form after connecting to a (possibly different) appliance."""
        self.validate(self.owner.window.create_view.form.values())

    def submit(self, values: dict[str, Any]) -> None:
        """Upload every sendable file with the chosen options, each on a worker."""
        owner = self.owner
        client = owner.client
        if client is None or self.validate(values):
            return
        owner.settings.set("last_options", {k: v for k, v in values.items() if k != "seed"})
        items = self.batch.sendable()
        caps = owner.caps
        self._in_flight += len(items)

        def send(chunk: list[BatchItem]) -> None:
            for item in chunk:
                key = str(uuid.uuid4())  # one key per file, reused by every retry of that file
                self.batch.update(item.path, state="sending", message="")
                owner.bulk.submit_reporting(
                    partial(transfers.submit_file, client, item.path, values, caps, key),
                    partial(self._submitted, item.path),
                    partial(self._failed, item.path),
                    partial(self._waiting, item.path),
                )

        in_chunks(items, CHUNK, send)
        owner.window.create_view.show_message(f"Sending {len(items)} photo(s)…")

    def _waiting(self, path: Path, wait: Any) -> None:
        reason, seconds = wait
        self.batch.update(path, state="waiting", message=f"{reason} ({seconds:.0f} s)")

    def _submitted(self, path: Path, job: Any) -> None:
        assert isinstance(job, Job)
        self.batch.update(path, state="submitted", message=f"Job {job.id}", job_id=job.id)
        self.owner.remember_source(job.id, path.name)
        self.owner.watch(job)
        self._one_done()

    def _one_done(self) -> None:
        self._in_flight -= 1
        if not self._in_flight:
            failed = [i for i in self.batch.items if i.state in ("failed", "invalid")]
            text = "All photos were submitted. Follow them in the queue."
            if failed:
                text = f"Submitted; {len(failed)} photo(s) need attention (hover them for why)."
            self.owner.window.create_view.show_message(text, "warn" if failed else "ok")

    def _failed(self, path: Path, exc: BaseException) -> None:
        if isinstance(exc, ApiError) and exc.code in FILE_ERRORS:
            self.batch.update(path, state="invalid", message=str(exc))
        else:
            self.batch.update(path, state="failed", message=describe(exc))
        self.owner.window.create_view.show_message(f"{path.name}: {describe(exc)}", "error")
        self._one_done()  # last, so the batch summary replaces the single error when all are done

    def generate_again(self, job: Job, source: str | None) -> None:
        """Submit ``job`` again with the same settings and a new seed (original fetched on a worker)."""
        owner = self.owner
        client = owner.client
        if client is None:
            return
        caps = owner.caps
        view = owner.window.queue_view

        def run() -> Job:
            values, image = transfers.again_request(client, job, caps)
            return client.generate(build_request(values, image, caps), str(uuid.uuid4()))

        def done(new_job: Any) -> None:
            owner.remember_source(new_job.id, source or job.id)
            owner.watch(new_job)
            owner.window.show_page("queue")
            view.show_message("Generating again with a new seed.", "ok")

        owner.runner.submit(
            run, done, lambda exc: view.show_message(f"Could not generate again: {describe(exc)}", "error")
        )
