"""Job rows → wire objects (signed URLs are made here; a link is signed once and remembered)."""

from __future__ import annotations

import functools
import time
from typing import Any

import msgspec

from ..ids import parse_iso
from ..signing import file_url as _file_url
from ..storage.jobs import Job, JobResult
from .state import ApiState
from .wire import ComplianceReport, Generation, ImageLinks, JobError, ProductBox, ReviewReason

INPUT_LINK_SECONDS = 3600  # a processing job's photo link lasts at least this long ...
LINK_GRID_SECONDS = 600  # ... and ends on this grid, so that polls in between share one signed URL


@functools.lru_cache(maxsize=16384)
def file_url(base: str, secret: bytes, name: str, expires: int) -> str:
    """``signing.file_url``, remembered: a polled job's links are signed once, not on every poll."""
    return _file_url(base, secret, name, expires)


def input_link_expiry(now: float) -> int:
    """Expiry of a processing job's photo link: at least :data:`INPUT_LINK_SECONDS` away, on the grid."""
    return -(-int(now + INPUT_LINK_SECONDS) // LINK_GRID_SECONDS) * LINK_GRID_SECONDS


def live(job: Job, api: ApiState) -> tuple[float | None, int] | None:
    """What a job's view takes from the clock while its row stays the same: a processing job's live ETA
    (``eta_seconds``) and its photo link's expiry (:func:`input_link_expiry`); None for a job that has ended.
    Two equal answers for the same row give the same :func:`generation` (``api.pollcache`` relies on it)."""
    if job.status != "processing":
        return None
    return api.jobs.eta.seconds(job), input_link_expiry(time.time())


def generation(job: Job, api: ApiState, now: tuple[float | None, int] | None = None) -> Generation:
    """The public view of a job; ``now`` is :func:`live`'s answer for it when the caller has it already."""
    base, secret = api.settings.base_url, api.secret
    out = Generation(
        id=job.id,
        status=job.status,
        style=job.style,
        aspect_ratio=job.aspect_ratio,
        created_at=job.created_at,
        seed=job.seed,
        options=job.options,
        engine=job.engine,
        filename=job.filename,
        rerun_of=job.rerun_of,
        mask_hint=True if job.hint_file else None,
        priority=job.priority,
    )
    if job.status == "processing":
        out.eta_seconds, photo_expires = now or live(job, api)  # type: ignore[misc]
        out.progress = round(job.progress, 3)
        out.estimated_seconds = job.estimated_seconds
        if not job.purged:
            out.input_url = file_url(base, secret, job.input_file, photo_expires)
        return out
    out.completed_at = job.completed_at
    if job.status == "failed":
        out.error = JobError(code=job.error_code or "server_error", message=job.error_message or "")
        if job.result is not None:  # refused after the cut-out ran (jobs.ending.fail): how sure it was, and which
            _cutout_fields(out, job.result)
        return out
    if job.result and job.expires_at:
        expires = int(parse_iso(job.expires_at))
        links = [
            ImageLinks(
                image_url=file_url(base, secret, img.file, expires),
                thumbnail_url=file_url(base, secret, img.thumb, expires),
                width=img.width,
                height=img.height,
            )
            for img in job.result.images
        ]
        first = links[0]
        out.width, out.height, out.expires_at = first.width, first.height, job.expires_at
        if job.purged:  # past retention the sweeper deleted the files: no links that answer 404 (breaker14 B14-6)
            out.expired = True
        else:
            out.image_url, out.thumbnail_url, out.images = first.image_url, first.thumbnail_url, links
        meta = job.result.meta
        if out.seed is None and isinstance(meta.get("seed"), int):
            out.seed = meta["seed"]  # the seed the engine picked: send it back to reproduce the image
        if isinstance(meta.get("prompt"), str):  # what the generative/procedural engine was told
            out.prompts = {"prompt": meta["prompt"], "negative_prompt": str(meta.get("negative_prompt") or "")}
        if isinstance(meta.get("scene"), dict):
            out.scene = meta["scene"]
        if isinstance(meta.get("backdrop"), dict):  # the plate it stands on, and the gains applied to the product
            out.backdrop = meta["backdrop"]
        out.product_box = _product_box(out.scene or meta)
        _cutout_fields(out, job.result)
        out.notes = job.result.notes or None
        if job.result.compliance:
            out.compliance = msgspec.convert(job.result.compliance, list[ComplianceReport])
        out.progress = 1.0
        if not job.purged:
            out.input_url = file_url(base, secret, job.input_file, expires)
            if job.result.matte:
                out.matte_url = file_url(base, secret, job.result.matte, expires)
    return out


def _cutout_fields(out: Generation, result: JobResult) -> None:
    """The cut-out's ``confidence`` and ``cutout_engine`` of a stored result (a completed job's, or the image-less
    one a refused job keeps), and its review (a completed job's; a refused one's when it was refused for it)."""
    out.confidence = result.confidence
    if isinstance(result.meta.get("cutout_engine"), str):
        out.cutout_engine = result.meta["cutout_engine"]
    if result.images or result.needs_review:
        out.needs_review = result.needs_review
        out.review_reasons = [ReviewReason(code=r.code, message=r.message) for r in result.review_reasons]


def _product_box(meta: dict[str, Any]) -> ProductBox | None:
    """The product's box in the photo and in the (first) image, ``[x, y, w, h]`` px, from the engine's boxes."""
    boxes = meta.get("source_box"), meta.get("product_box")
    if not all(isinstance(b, list) and len(b) == 4 for b in boxes):
        return None
    (x0, y0, x1, y1), (u0, v0, u1, v1) = boxes  # type: ignore[misc]
    return ProductBox(input=[x0, y0, x1 - x0, y1 - y0], output=[u0, v0, u1 - u0, v1 - v0])
