"""The Create page's logic: adding files, validating options, submitting the batch, generating again."""

from __future__ import annotations

import uuid
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QImage

from . import transfers
from .client import ApiError, describe
from .model import Batch
from .options import build_request, check_file, collect_images, validate_values
from .wire import Job, Limits

if TYPE_CHECKING:
    from .controller import Controller

THUMB_PX = 112
UNREADABLE = "This image cannot be read: the file is damaged or not a JPEG, PNG or WebP image."
# Server answers that mean "this file will never be accepted": show them on the file, don't retry.
FILE_ERRORS = frozenset({"image_too_large", "unsupported_image"})


def scan(paths: list[Path], limits: Limits) -> list[tuple[Path, str | None]]:
    """Expand folders and check each file (runs on a worker: folders can be large)."""
    return [(path, check_file(path, limits)) for path in collect_images(paths)]


class BatchController:
    """Connects the Create view to the :class:`Batch` model and the workers."""

    def __init__(self, owner: Controller) -> None:
        self.owner = owner
        self.batch = Batch()
        view = owner.window.create_view
        view.files_dropped.connect(self.add_files)
        view.remove_requested.connect(self.batch.remove)
        view.submit_requested.connect(self.submit)
        view.values_changed.connect(self.validate)
        self.batch.changed.connect(lambda: view.set_batch(self.batch.items))
        self.batch.item_changed.connect(lambda item: view.update_item(item, self.batch.items))

    def add_files(self, paths: list[Path]) -> None:
        """Add dropped files/folders: scanned and checked on a worker, thumbnails decoded on workers."""
        limits = self.owner.caps.limits
        self.owner.bulk.submit(lambda: scan(paths, limits), self._scanned)

    def _scanned(self, found: Any) -> None:
        view = self.owner.window.create_view
        before = {item.path for item in self.batch.items}
        self.batch.add([p for p, _ in found], dict(found))
        for path, problem in found:
            if path in before or problem:
                continue
            self.owner.bulk.submit(partial(transfers.load_thumbnail, path, THUMB_PX), partial(self._thumbnail, path))
        if not found:
            view.show_message("No JPEG, PNG or WebP files were found there.", "warn")

    def _thumbnail(self, path: Path, image: Any) -> None:
        if isinstance(image, QImage) and not image.isNull():
            self.owner.window.create_view.set_thumbnail(path, image)
            return
        # Right magic bytes but undecodable: don't upload it only to have the server refuse it.
        current = next((i for i in self.batch.items if i.path == path), None)
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
        for item in items:
            path = item.path
            key = str(uuid.uuid4())  # one key per file, reused by every retry of that file
            self.batch.update(path, state="sending", message="")
            owner.bulk.submit_reporting(
                partial(transfers.submit_file, client, path, values, caps, key),
                partial(self._submitted, path),
                partial(self._failed, path),
                partial(self._waiting, path),
            )
        owner.window.create_view.show_message(f"Sending {len(items)} photo(s)…")

    def _waiting(self, path: Path, wait: Any) -> None:
        reason, seconds = wait
        self.batch.update(path, state="waiting", message=f"{reason} ({seconds:.0f} s)")

    def _submitted(self, path: Path, job: Any) -> None:
        assert isinstance(job, Job)
        self.batch.update(path, state="submitted", message=f"Job {job.id}", job_id=job.id)
        self.owner.remember_source(job.id, path.name)
        self.owner.watch(job)
        pending = [i for i in self.batch.items if i.state in ("sending", "waiting")]
        if not pending:
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
