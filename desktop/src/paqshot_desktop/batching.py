"""The Create page's logic: adding files, validating options, submitting the batch, following its jobs."""

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
from .labels import counted
from .model import Batch, BatchItem
from .options import check_file, collect_images, explicit_values, validate_values
from .session import Session
from .wire import Job, Limits
from .workers import Runner

if TYPE_CHECKING:
    from .views.create import CreateView

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
    """Connects the Create view to the :class:`Batch` model and the workers.

    Args:
        view: the Create page.
        session: the connection (client and capabilities at the time of each action).
        bulk: the worker pool for uploads and decoding.
        remember: called with each accepted job and its file name (the queue watches it from then on).
        notify: a desktop notification (title-less sentence) when a submitted batch has finished.
    """

    def __init__(
        self,
        view: CreateView,
        session: Session,
        bulk: Runner,
        remember: Callable[[Job, str], None],
        notify: Callable[[str], None],
    ) -> None:
        self.view, self.session, self.bulk = view, session, bulk
        self._remember, self._notify = remember, notify
        self.batch = Batch()
        self._in_flight = 0  # files queued or uploading
        self._sent = [0, 0]  # files these sends got accepted, and that could not be sent: the line counts them
        self._round: set[str] = set()  # job ids of the batch being followed, for the "finished" notification
        view.files_dropped.connect(self.add_files)
        view.remove_requested.connect(self.batch.remove)
        view.clear_sent_requested.connect(self.batch.clear_sent)
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
        for item in items:
            self.view.update_item(item)
        if not self._summary.isActive():
            self._summary.start()

    def _item_changed(self, item: Any) -> None:
        self.view.update_item(item)
        if not self._summary.isActive():
            self._summary.start()

    def add_files(self, paths: list[Path]) -> None:
        """Add dropped files/folders: scanned and checked on a worker, thumbnails decoded on workers."""
        limits = self.session.caps.limits
        self.bulk.submit(lambda: scan(paths, limits), self._scanned)

    def _scanned(self, found: Any) -> None:
        if not found:
            self.view.show_message("No JPEG, PNG or WebP files were found there.", "warn")
            return
        fresh = [(p, problem) for p, problem in found if self.batch.get(p) is None]
        in_chunks(fresh, CHUNK, self._add_chunk)

    def _add_chunk(self, chunk: list[tuple[Path, str | None]]) -> None:
        self.batch.add([p for p, _ in chunk], dict(chunk))
        for path, problem in chunk:
            if not problem:
                self.bulk.submit(partial(transfers.load_thumbnail, path, THUMB_PX), partial(self._thumbnail, path))

    def _thumbnail(self, path: Path, image: Any) -> None:
        if isinstance(image, QImage) and not image.isNull():
            self.view.set_thumbnail(path, image)
            return
        # Right magic bytes but undecodable: don't upload it only to have the server refuse it.
        current = self.batch.get(path)
        if current is not None and current.state == "ready":
            self.batch.update(path, state="invalid", message=UNREADABLE)

    def validate(self, values: dict[str, Any]) -> dict[str, str]:
        """Check the form against the appliance's rules and show the problems."""
        problems = validate_values(values, self.session.caps)
        self.view.show_form_problems(problems)
        return problems

    def revalidate(self) -> None:
        """Re-check the form after connecting to a (possibly different) appliance."""
        self.validate(self.view.form.values())

    def submit(self, values: dict[str, Any]) -> bool:
        """Upload every sendable file with the chosen options, each on a worker; False when nothing was sent."""
        client = self.session.client
        if client is None or self.validate(values):
            return False
        items = self.batch.sendable()
        if not items:
            return False
        caps = self.session.caps
        values = explicit_values(values, caps, self.session.presets)
        self._in_flight += len(items)

        def send(chunk: list[BatchItem]) -> None:
            for item in chunk:
                key = str(uuid.uuid4())  # one key per file, reused by every retry of that file
                self.batch.update(item.path, state="sending", message="")
                self.bulk.submit_reporting(
                    partial(transfers.submit_file, client, item.path, values, caps, key),
                    partial(self._submitted, item.path),
                    partial(self._failed, item.path),
                    partial(self._waiting, item.path),
                )

        in_chunks(items, CHUNK, send)
        self.view.show_message(f"Sending {counted(len(items), 'photo')}…")
        return True

    def _waiting(self, path: Path, wait: Any) -> None:
        reason, seconds = wait
        self.batch.update(path, state="waiting", message=f"{reason} ({seconds:.0f} s)")

    def _submitted(self, path: Path, job: Any) -> None:
        assert isinstance(job, Job)
        self.batch.update(path, state="submitted", message="", job_id=job.id, progress=0.0)
        self._round.add(job.id)
        self._remember(job, path.name)
        self._sent[0] += 1
        self._one_done()

    def _one_done(self) -> None:
        self._in_flight -= 1
        if not self._in_flight:  # what these sends did: not the batch's older failures nor its unsendable files
            (accepted, failed), self._sent = self._sent, [0, 0]
            sent = counted(accepted, "photo")
            text = f"Sent {sent}. Each tile shows its progress; double-click a finished one to open it."
            if failed:
                tile = "its tile" if failed == 1 else "each tile"
                text = f"Sent {sent}; {failed} could not be sent (the reason is on {tile})."
            self.view.show_message(text, "warn" if failed else "ok")

    def _failed(self, path: Path, exc: BaseException) -> None:
        if isinstance(exc, ApiError) and exc.code in FILE_ERRORS:
            self.batch.update(path, state="invalid", message=str(exc))
        else:
            self.batch.update(path, state="failed", message=describe(exc))
        self.view.show_message(f"{path.name}: {describe(exc)}", "error")
        self._sent[1] += 1
        self._one_done()  # last, so the batch summary replaces the single error when all are done

    def follow(self, job: Job) -> None:
        """A job's new state from the queue's polling: the file's tile shows it; a finished batch is announced."""
        if self.batch.follow(job) is None or not job.finished or job.id not in self._round:
            return
        pending = [i for i in self.batch.items if i.job_id in self._round and not i.finished]
        if pending or self._in_flight:
            return
        done = [i for i in self.batch.items if i.job_id in self._round]
        self._round.clear()
        counts = {
            s: sum(1 for i in done if i.state == s) for s in ("completed", "review", "cancelled", "failed", "refused")
        }
        parts = [f"{counts['completed']} ready"]  # "1 ready", "2 ready": no noun to agree
        if counts["review"]:
            parts.append(f"{counts['review']} to review")
        if counts["cancelled"]:
            parts.append(f"{counts['cancelled']} cancelled")
        if counts["failed"]:
            parts.append(f"{counts['failed']} failed")
        if counts["refused"]:
            parts.append(f"{counts['refused']} refused (the reason is on each tile)")
        self._notify(f"Batch finished: {', '.join(parts)}.")
