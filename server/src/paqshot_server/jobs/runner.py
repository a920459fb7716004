"""Runs one job: claim with a lease, heartbeat, render, store, publish (state + webhook event at once)."""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import replace
from typing import Any, TypeVar

import numpy as np
from PIL import Image

from .. import logs
from ..errors import AppError, CutoutRefused, DatabaseBusy, ServerError, UnsupportedImage
from ..finishing import Finished
from ..imaging.decode import decode_image
from ..imaging.hint import decode_stored_hint
from ..imaging.options import RenderOptions
from ..imaging.plates.plate import PlateSource
from ..imaging.presets import PresetCatalogue
from ..imaging.result import RenderResult
from ..imaging.review import with_whole_photo
from ..imaging.working import crop_size, enlarged, on_photo_grid, product_crop, reduced_crop, working_size
from ..settings import Settings
from ..storage import jobs as jobs_sql
from ..storage.faults import is_database_busy, is_storage_full, storage_refusal
from ..storage.jobs import Job, JobResult, StoredImage, StoredReason
from . import allocator, ending
from .backdrops import StoredPlates
from .context import WorkerContext

log = logging.getLogger(__name__)

# Fields of RenderOptions that the job's stored options may carry.
_RENDER_FIELDS = set(RenderOptions.__dataclass_fields__)
# What a large photo's render from its working image is read for once the photo is rendered again at full
# resolution (``working.product_crop``, ``working.crop_size``; ``review.with_whole_photo`` reads its review).
_READ_AFTER = ("source_box", "scale")


# Fewest seconds between two reads of the job's cancel request from the progress callback: an engine may report
# progress as often as it likes (a diffusion step, a row of pixels) and a job still reads the row at most 4 times
# a second; a cancel is then noticed within 0.25 s plus one progress step, and always at the checks after the
# render and before the result is stored (``_Lease.check``, ``jobs.begin_store``).
_CANCEL_READ_SECONDS = 0.25


class Cancelled(Exception):
    """Raised inside the engine (through the progress callback) when the client cancelled the job."""


class LeaseLapsed(Exception):
    """app.db stayed busy (another process held its write lock) until this worker's lease on the job ran out: the
    attempt gives the job up, unended, and the sweeper re-queues it once the lock is let go (an attempt counted)."""


T = TypeVar("T")


class _Lease:
    """Background heartbeat that keeps the lease and records progress; the job's own thread reads the cancel
    request at its progress steps (:meth:`report`) and at its checks (:meth:`check`)."""

    def __init__(self, ctx: WorkerContext, job: Job) -> None:
        self.ctx, self.job_id = ctx, job.id
        # When the lease ends unless a heartbeat renews it (seconds since the epoch): the claim's, then each beat's.
        self.until = job.lease_until if job.lease_until is not None else time.time() + ctx.settings.lease_seconds
        self.progress: float | None = None
        self.lost = False
        self.cancelled = False
        self._read_at = -_CANCEL_READ_SECONDS  # monotonic time of the last read: the first report reads
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{job.id}", daemon=True)

    def __enter__(self) -> _Lease:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def beat(self) -> None:
        until = time.time() + self.ctx.settings.lease_seconds
        ours, cancel = jobs_sql.heartbeat(self.ctx.db.get(), self.job_id, self.ctx.worker_id, until, self.progress)
        if ours:
            self.until = until
        self.lost = self.lost or not ours
        self.cancelled = self.cancelled or cancel

    def _run(self) -> None:
        while not self._stop.wait(self.ctx.settings.heartbeat_seconds):
            try:
                self.beat()
            except Exception:  # a missed beat is retried next tick; the lease outlives several ticks
                log.exception("heartbeat failed for %s", self.job_id)

    def report(self, fraction: float) -> None:
        """Progress callback handed to engines (``fraction`` 0-1 of the render done); raises Cancelled when the
        client asked to stop (read from the job's row at most every ``_CANCEL_READ_SECONDS``)."""
        self.progress = max(0.0, min(1.0, fraction))
        self.check(force=False)

    def check(self, *, force: bool = True) -> None:
        """Raise Cancelled when the client asked the job to stop: the heartbeat's last answer, else one read of
        the row (with ``force`` False only when the last read is ``_CANCEL_READ_SECONDS`` old)."""
        now = time.monotonic()
        if not self.cancelled and (force or now - self._read_at >= _CANCEL_READ_SECONDS):
            self._read_at = now
            self.cancelled = jobs_sql.cancel_requested(self.ctx.db.get(), self.job_id) or self.cancelled
        if self.cancelled:
            raise Cancelled

    def keep_trying(self, write: Callable[[], T]) -> T:
        """``write()``, a write of this job to app.db, tried again while another process holds the database's write
        lock (:class:`~paqshot_server.errors.DatabaseBusy`, after each try's own wait for it) and the lease lasts.
        A busy database is no fault of the job's, so it never ends the job (breaker14's lock on app.db failed a
        finished job "unavailable"; issue-14.md, session 16). Its other errors are raised as they come.

        Raises:
            LeaseLapsed: the lease ran out while the database was still busy.
        """
        while True:
            try:
                return write()
            except DatabaseBusy as exc:
                if time.time() >= self.until:
                    raise LeaseLapsed(self.job_id) from exc
                log.warning("job %s: %s Trying again while the lease lasts.", self.job_id, exc.message)

    def begin_store(self) -> bool:
        """The last cancellation check (``storage.jobs.begin_store``; from here a cancel is answered too late):
        True to store the result, False when this worker no longer holds the job; raises Cancelled."""
        verdict = jobs_sql.begin_store(self.ctx.db.get(), self.job_id, self.ctx.worker_id)
        if verdict == "cancelled":
            self.cancelled = True
            raise Cancelled
        return verdict == "store"


def render_options(job: Job, settings: Settings, presets: PresetCatalogue) -> RenderOptions:
    """The engine's options from the stored request."""
    return options_for_engine(job.options, job.style, job.aspect_ratio, job.seed, settings, presets=presets)


def options_for_engine(
    options: dict[str, Any],
    style: str,
    aspect_ratio: str,
    seed: int | None,
    settings: Settings,
    *,
    presets: PresetCatalogue,
) -> RenderOptions:
    """RenderOptions from stored options (the worker) or a catalogue row (``paqshot generate --manifest``);
    ``presets`` (those in force) give the file size limit of the options' preset and compliance_check.
    Raises InvalidRequest for a preset id not in ``presets``."""
    values = {k: v for k, v in options.items() if k in _RENDER_FIELDS}
    values.update(style=style, aspect_ratio=aspect_ratio, seed=seed)
    values.setdefault("long_side", settings.output_long_side)  # a preset may have set these
    values.setdefault("jpeg_quality", settings.jpeg_quality)
    values["max_file_bytes"] = presets.max_file_bytes(compliance_checks(options))
    return RenderOptions(**values)


def compliance_checks(options: dict[str, Any]) -> list[str]:
    """Preset ids a job's compliance report covers: its preset, then its compliance_check list."""
    preset = options.get("preset")
    return list(dict.fromkeys([*([preset] if preset else []), *(options.get("compliance_check") or [])]))


def _store(ctx: WorkerContext, job: Job, finished: Finished, duration_ms: float, written: list[str]) -> JobResult:
    """Write the images; every name written is appended to ``written`` (so a failure can remove them)."""
    result = finished.result
    ext = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
    images = []
    for index, image in enumerate(result.images, start=1):
        stem = f"{job.id}_a{job.attempts}_{index}"
        name = f"{stem}.{ext[image.mime]}"
        thumb = f"{stem}_thumb.{ext[image.thumbnail_mime]}"
        for file, data in ((name, image.data), (thumb, image.thumbnail)):
            written.append(file)
            ctx.files.put(file, data)
        images.append(StoredImage(file=name, thumb=thumb, width=image.width, height=image.height))
    meta = {k: v for k, v in result.meta.items() if isinstance(v, str | int | float | bool | list | dict)}
    meta["duration_ms"] = round(duration_ms, 1)
    matte, matte_image = None, result.meta.get("matte")
    if isinstance(matte_image, Image.Image):  # what a mask hint is drawn against (review and repair)
        matte = f"{job.id}_a{job.attempts}_matte.png"
        buffer = io.BytesIO()
        matte_image.save(buffer, "PNG", compress_level=1)  # a matte is mostly flat: small even so
        written.append(matte)
        ctx.files.put(matte, buffer.getvalue())
    return JobResult(
        images=images,
        confidence=result.confidence,
        needs_review=result.needs_review,
        review_reasons=[StoredReason(code=r.code, message=r.message) for r in result.review_reasons],
        notes=[*job.input_notes, *result.notes],  # what the door noticed about the photo comes first
        meta=meta,
        compliance=finished.compliance or None,
        matte=matte,
    )


def store_failure_message(exc: BaseException) -> str:
    """What a client is told when its finished image could not be saved (a storage problem, not the input)."""
    if is_storage_full(exc):
        cause = "the appliance's disk is full"
    elif isinstance(exc, OSError) and exc.strerror:
        cause = f"the appliance's file store refused the write ({exc.strerror.lower()})"
    else:
        cause = "the appliance's file store failed"
    return f"Storage error: the image was generated but could not be saved: {cause}. Retry later."


def unrecorded_message(job: Job, exc: BaseException) -> str:
    """What a client is told when its job's finished result could not be recorded on any attempt."""
    return (
        f"The generation finished but its result could not be recorded on any of its {job.attempts} attempts "
        f"({type(exc).__name__}); see the server log for {job.id}."
    )


def refused_for_review(job: Job, result: RenderResult) -> str | None:
    """The failure message when the request asked ``on_low_confidence: fail`` and the result needs review."""
    if not result.needs_review or job.options.get("on_low_confidence") != "fail":
        return None
    reasons = "; ".join(r.message for r in result.review_reasons)
    return f"The result needs review and the request asked to fail in that case (on_low_confidence: fail): {reasons}."


def _render(
    ctx: WorkerContext,
    raw: bytes,
    options: RenderOptions,
    lease: _Lease,
    hint: np.ndarray | None,
    plates: PlateSource | None = None,
) -> RenderResult:
    """Render from a working image sized to the output (``imaging.working``), or at full resolution when the
    photo is not much larger or the product would be enlarged (a studio packshot then from the part of the photo
    around the product: ``working.product_crop``); the matte and boxes are on the photo's grid. A photo whose
    cut-out hands the model's arena back is rendered inside ``allocator.large_job``."""
    with allocator.large_job() if _large(ctx, raw) else nullcontext():
        max_pixels = ctx.settings.max_image_pixels
        at_least = working_size(raw, options.long_side)
        decoded = decode_image(raw, max_bytes=len(raw), max_pixels=max_pixels, at_least=at_least)
        image = decoded.image
        if image.size != decoded.source_size:
            small_hint = None if hint is None else _resized_hint(hint, image.size)
            # Handed over (``consume``): the cut-out closes the decoded image once the model has its pixels.
            result = ctx.engines.render(
                image, options, progress=lease.report, hint=small_hint, plates=plates, consume=True
            )
            if not enlarged(result):
                return on_photo_grid(result, decoded.source_size, image.size)
            # From here only its review and the product's box and scale are read: its matte and images go before
            # the whole photo is decoded.
            result = replace(result, images=(), meta={k: result.meta[k] for k in _READ_AFTER if k in result.meta})
            working = image.size
            del decoded, image  # the working image's memory goes before the whole photo's is taken
            image = decode_image(raw, max_bytes=len(raw), max_pixels=max_pixels).image
            crop = product_crop(result, working, image.size) if ctx.engines.studio(options, plates) else None
            if crop is not None:
                photo_size = image.size
                size = crop_size(result, working, photo_size, crop)
                # No full-resolution crop, and the whole photo's memory goes: the cut-out's arrays are the size
                # the output needs of the product.
                image = reduced_crop(image, crop, size)
                part_hint = None if hint is None else _resized_hint(hint[crop[1] : crop[3], crop[0] : crop[2]], size)
                try:
                    # A large photo's crop, however small: the arena goes back (issue-14.md, "Arena release by
                    # size").
                    release = ctx.engines.render_releasing
                    part = release(image, options, progress=lease.report, hint=part_hint, plates=plates, consume=True)
                except UnsupportedImage:  # e.g. a busy backdrop all round the crop: the whole photo, as before
                    log.info("no product found around the working image's box: rendering from the whole photo")
                    image = decode_image(raw, max_bytes=len(raw), max_pixels=max_pixels).image
                else:
                    part = with_whole_photo(part, result, ctx.settings.review_threshold)
                    return on_photo_grid(part, photo_size, image.size, region=crop)
        return ctx.engines.render(image, options, progress=lease.report, hint=hint, plates=plates, consume=True)


def _stored_photo(ctx: WorkerContext, job: Job) -> bytes:
    """The photo the door stored after validating it. Gone, no longer an image, or refused by the file system
    (permissions, I/O) on disk since (an operator's clean-up, a disk fault: breaker16 B16-12) is the file store's
    fault and said so, not "failed unexpectedly"; a file cut short past its header is refused by the decode, in its
    words.

    Raises:
        ServerError: the file is missing, refused or its header is unreadable.
    """
    try:
        raw = ctx.files.read(job.input_file)
        with Image.open(io.BytesIO(raw)):  # parses the header only
            pass
    except (OSError, ValueError, SyntaxError) as exc:
        refusal = storage_refusal(exc)
        if refusal is not None:  # there, but the file system will not give it (breaker17 B17-1): not the client's
            raise ServerError(
                f"The appliance's file store refused to read the photo stored for this generation ({refusal}). "
                "The operator must make the data folder's files/ readable by the appliance's user; then run it "
                "again (rerun)."
            ) from exc
        cause = "not found" if isinstance(exc, FileNotFoundError) else "no longer an image"
        raise ServerError(
            f"The photo stored for this generation is missing or damaged in the appliance's file store ({cause}); "
            "submit it again. The operator should check the data folder's disk."
        ) from exc
    return raw


def _large(ctx: WorkerContext, raw: bytes) -> bool:
    try:
        with Image.open(io.BytesIO(raw)) as header:
            size = header.size
    except (OSError, ValueError):  # the decode says what is wrong, in words
        return False
    return ctx.engines.releases_arena(size)


def _resized_hint(hint: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A canonical hint (or a box of one) on a grid of ``size`` (nearest neighbour: no new hint values)."""
    return np.asarray(Image.fromarray(np.ascontiguousarray(hint)).resize(size, Image.Resampling.NEAREST))


def _drop(ctx: WorkerContext, stored: JobResult) -> None:
    """Delete the files of a result that was stored but not published."""
    for image in stored.images:
        ctx.files.delete(image.file)
        ctx.files.delete(image.thumb)
    if stored.matte:
        ctx.files.delete(stored.matte)


def _fail(ctx: WorkerContext, job: Job, code: str, message: str) -> None:
    ending.fail(ctx, job, code, message, owner=ctx.worker_id)


def process(ctx: WorkerContext, woken_by: str) -> str:
    """Claim the next queued job by the fair policy and run it; returns what happened (for logs and tests).

    ``woken_by``: the job id of the queue message that woke this worker (one message per queued job). "busy":
    app.db's write lock was held by another process past the busy timeout, so nothing was claimed; the message is
    the caller's to send again. "lapsed" and "unrecorded": the attempt left the job running, unended (app.db busy past
    the lease; its result could not be recorded and attempts are left), for the sweeper to re-queue.
    """
    token = logs.job_id.set(woken_by)
    try:
        return _process(ctx, woken_by)
    finally:
        logs.job_id.reset(token)


def _process(ctx: WorkerContext, woken_by: str) -> str:
    db = ctx.db.get()
    claiming = time.monotonic()  # the job's slot begins with its claim (see ``slot_ms``)
    # The message is a wake-up: the job that runs is the next by the fair policy, not necessarily ``woken_by``.
    try:
        job = jobs_sql.claim_next(db, ctx.worker_id, time.time(), ctx.settings.lease_seconds)
    except Exception as exc:  # nothing was claimed; the caller sends the wake-up again (breaker16 B16-8: it was
        if not (isinstance(exc, DatabaseBusy) or is_database_busy(exc)):  # lost, the job idle till resend_lost)
            raise
        log.warning("app.db stayed busy at the claim; the wake-up is sent again")
        return "busy"
    if job is None:
        return "not-claimed"
    logs.job_id.set(job.id)
    if job.cancel_requested:
        _fail(ctx, job, "cancelled", "The generation was cancelled before it finished.")
        return "cancelled"
    with _Lease(ctx, job) as lease:
        try:
            return _attempt(ctx, job, lease, claiming)
        except (LeaseLapsed, DatabaseBusy):
            log.warning("job %s: app.db stayed busy past this worker's lease; the job is left to be retried", job.id)
            return "lapsed"


def _attempt(ctx: WorkerContext, job: Job, lease: _Lease, claiming: float) -> str:
    """Run, store and publish ``job`` under ``lease`` (:func:`process`'s outcomes); every write of the job's state
    goes through :meth:`_Lease.keep_trying`."""

    def fail(code: str, message: str, refused: CutoutRefused | None = None) -> None:
        lease.keep_trying(lambda: ending.fail(ctx, job, code, message, owner=ctx.worker_id, refused=refused))

    started = time.monotonic()
    try:
        raw = _stored_photo(ctx, job)  # validated at the door; decoding again normalises it
        hint = decode_stored_hint(ctx.files.read(job.hint_file)) if job.hint_file else None
        plates = StoredPlates(
            ctx, job.key_id, background_file=job.background_file, backdrop=job.options.get("backdrop")
        )
        result = _render(ctx, raw, render_options(job, ctx.settings, ctx.presets), lease, hint, plates)
        refusal = refused_for_review(job, result)
        if refusal is not None:
            cutout_engine = result.meta.get("cutout_engine")
            raise CutoutRefused(
                refusal,
                engine=result.engine,
                confidence=result.confidence,
                cutout_engine=cutout_engine if isinstance(cutout_engine, str) else None,
                review_reasons=tuple((r.code, r.message) for r in result.review_reasons),
            )
        lease.check()  # before the finishing's compliance runs (another cut-out), not only at a progress step
        finished = ctx.finisher.finish(
            result,
            product_photo=raw,
            title=job.id,
            checks=compliance_checks(job.options),
            find_product=ctx.engines.find_product,
        )
        if not lease.keep_trying(lease.begin_store):  # another attempt holds the job, or it ended (deleted)
            return "superseded"
    except (LeaseLapsed, DatabaseBusy):  # the database's fault, not the job's: never ended for it
        raise
    except Cancelled:
        fail("cancelled", "The generation was cancelled before it finished.")
        return "cancelled"
    except CutoutRefused as exc:  # refused after the cut-out ran: the job says which engine and how sure
        fail(exc.code, exc.message, refused=exc)
        return "failed"
    except AppError as exc:
        fail(exc.code, exc.message)
        return "failed"
    except Exception:
        log.exception("job %s failed unexpectedly", job.id)
        fail("server_error", f"Generation failed unexpectedly; see the server log for {job.id}.")
        return "failed"
    written: list[str] = []
    try:
        stored = _store(ctx, job, finished, (time.monotonic() - started) * 1000, written)
    except Exception as exc:  # a full disk, a read-only folder: fail now, with the cause, and keep nothing
        for name in written:
            ctx.files.delete(name)
        log.exception("job %s: the result could not be stored", job.id)
        fail("server_error", store_failure_message(exc))
        return "failed"
    # What the ETA plans with (``storage.jobs.recent_durations``): the time the job kept its worker from the next
    # one, claim and store included. ``duration_ms`` leaves out the store (the matte's encoding, each file's
    # fsyncs) and the claim: 50-60 ms of a 0.4-0.5 s packshot with 2 workers in session 14, so a plan from it
    # started every queued job that much too early (issue-14.md, "ETA with 2 workers, session 14").
    stored.meta["slot_ms"] = round((time.monotonic() - claiming) * 1000, 1)
    return _complete(ctx, job, lease, stored, result.engine)


def _complete(ctx: WorkerContext, job: Job, lease: _Lease, stored: JobResult, engine: str) -> str:
    """Publish ``job``'s stored result (:func:`process`'s outcomes); its files go when it is not published."""
    try:
        published = lease.keep_trying(lambda: ending.complete(ctx, job, stored, engine, owner=ctx.worker_id))
    except Exception as exc:
        _drop(ctx, stored)  # the retry stores its own
        if isinstance(exc, LeaseLapsed) or ending.busy(exc):
            raise
        # Raised the same on every attempt, the job would stay running for good (breaker16 B16-10's kind): the
        # attempts left retry it (the lease runs out, the sweeper re-queues it), the last one fails it in words.
        log.exception("job %s: its result could not be recorded (attempt %d)", job.id, job.attempts)
        if job.attempts < ctx.settings.max_attempts:
            return "unrecorded"
        message = unrecorded_message(job, exc)
        lease.keep_trying(lambda: ending.fail(ctx, job, "server_error", message, owner=ctx.worker_id))
        return "failed"
    if not published:  # another attempt published first: drop our copies, keep theirs
        _drop(ctx, stored)
        return "superseded"
    log.info("job %s completed", job.id)
    return "completed"
