"""Turns a request's image (``product_image``, ``background_image``, a backdrop's or a check's ``image``) into
validated, normalised, stored bytes (at the door): every image field gets the same checks and SSRF rules.

Used by the jobs service before a job is inserted and by the backdrop library; nothing here knows HTTP."""

from __future__ import annotations

import binascii
import io
import math
import os
import re
import threading
from collections.abc import Iterator
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import anyio.to_thread
import pybase64
from PIL import Image

from ..errors import ImageTooLarge, InvalidRequest, megabytes
from ..imaging.decode import decode_image, display_size
from ..imaging.hint import encode_hint, read_hint
from ..imaging.passthrough import jpeg_passthrough, jpeg_passthrough_plan
from ..imaging.smallest import MIN_PIXELS, check_photo_size
from ..net.fetch import BlockedAddress, fetch_image, resolve_async
from ..net.post import check_sendable
from ..net.urls import IMAGE_URL_SCHEMES, url_shape_error, webhook_schemes
from ..resources import Resources
from . import allocator, trip

_URL_START = re.compile(r"^https?:", re.I)
_DATA_URI = re.compile(r"^data:(?P<mime>[\w.+/-]*)(?P<params>(;[\w.+-]+=[\w.+-]+)*)(?P<b64>;base64)?,", re.I)


def max_base64_chars(max_bytes: int) -> int:
    """Longest ``product_image`` text accepted for ``max_bytes`` of image: its base64 (line breaks, if any, count)
    and room for a ``data:`` prefix. The served schema states it as ``maxLength`` (``api.openapi``)."""
    return 4 * math.ceil(max_bytes / 3) + 256


def decode_base64(text: str, max_bytes: int, field: str = "product_image") -> bytes:
    """Strict base64 (plain or ``data:`` URI); the text's length is checked before anything is decoded. Errors
    name ``field``."""
    if len(text) > max_base64_chars(max_bytes):
        raise ImageTooLarge(f"{field} exceeds {megabytes(max_bytes)}.")
    match = _DATA_URI.match(text)
    if match:
        if not match.group("b64"):
            raise InvalidRequest("data: URIs must be base64-encoded (';base64,').")
        text = text[match.end() :]
    try:
        decoded = _strict_base64(text)
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequest(f"{field} is neither an http(s) URL nor valid base64 image data.") from exc
    if len(decoded) > max_bytes:
        raise ImageTooLarge(f"{field} is {len(decoded) / 1e6:.1f} MB; the limit is {megabytes(max_bytes)}.")
    return decoded


def _strict_base64(text: str) -> bytes:
    """Strict base64 with line breaks allowed; raises ``binascii.Error``/``ValueError`` like the standard library."""
    try:
        return pybase64.b64decode(text, validate=True)  # the standard library's semantics, SIMD speed
    except (binascii.Error, ValueError):
        # Looked for only now: four scans of a megabyte of text cost every plain submission ~0.1 ms of the GIL
        if not any(c in text for c in " \n\r\t"):
            raise
    return pybase64.b64decode("".join(text.split()), validate=True)


def normalise(data: bytes, max_bytes: int, max_pixels: int, min_pixels: int = 0) -> tuple[bytes, str, tuple[str, ...]]:
    """Validated, metadata-free bytes to store, their extension (``jpg`` fast path or ``png``), and the notes
    decoding made (animated image, end marker missing) for the job's result. ``min_pixels``: the fewest pixels
    taken (:func:`~..imaging.smallest.check_photo_size`; 0 for any)."""
    if len(data) <= max_bytes:
        fast = jpeg_passthrough(data, max_pixels)
        if fast is not None:
            check_photo_size(fast[1], min_pixels)
            return fast[0], "jpg", ()
    decoded = decode_image(data, max_bytes=max_bytes, max_pixels=max_pixels)
    check_photo_size(decoded.source_size, min_pixels)
    out = io.BytesIO()
    # compress_level=1: the stored input is read once by the worker; speed matters more than size.
    decoded.image.save(out, "PNG", compress_level=1)
    return out.getvalue(), "png", decoded.notes


async def load_image(res: Resources, text: str, field: str = "product_image") -> bytes:
    """Fetch (URL, SSRF-safe) or decode (base64) the raw bytes of the image in request field ``field``.

    Text that starts like a URL is a URL (the served schema says the same: ``api.openapi``); its shape and
    length are checked before anything is fetched. Errors name ``field``.
    """
    settings = res.settings
    if _URL_START.match(text):
        problem = url_shape_error(text, IMAGE_URL_SCHEMES)
        if problem is not None:
            raise InvalidRequest(f"{field} {problem}.")
        try:
            return await fetch_image(
                text, res.policy, max_bytes=settings.max_image_bytes, user_agent=settings.brand.user_agent, field=field
            )
        except BlockedAddress as exc:  # the SSRF rule's words, naming the field as every other refusal here does
            raise BlockedAddress(f"{field} refused: {exc.message}") from exc
    return decode_base64(text, settings.max_image_bytes, field)


# Stores a passthrough JPEG the marker walk was unsure of while it is decoded (the write and fsync wait on the disk,
# the decode on the CPU).
_WRITER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="intake-write")
# Full decodes (every photo the JPEG fast path does not take) at once, at most: a 40 MP photo's decode holds ~660 MB
# until it is stored or refused (breaker, session 2: 150 concurrent truncated 40 MP JPEGs peaked the API process at
# 11.2 GB); further requests wait their turn in their threads. More than the CPUs would not decode faster.
FULL_DECODES = threading.BoundedSemaphore(max(1, min(4, os.cpu_count() or 1)))


@contextmanager
def full_decode() -> Iterator[None]:
    """Hold one of :data:`FULL_DECODES` for a full decode (and what is measured on it, ``POST /v1/check``); waits
    in the calling thread while all are held. A trip's lane goes to the next meanwhile (``trip.slow``)."""
    with trip.slow(), FULL_DECODES:
        try:
            yield
        finally:  # a full decode's freed blocks (up to a 40 MP photo's) go back to the kernel, not kept per arena
            allocator.hand_back()


def store_image(res: Resources, job_id: str, raw: bytes, role: str = "input") -> tuple[str, tuple[str, ...]]:
    """Validate/normalise ``raw`` and store it as ``<job_id>_<role>.<ext>``; returns the stored file name and the
    decoding's notes. A refused image leaves no file behind; a product photo (role ``input``) under the cut-out's
    smallest size is refused (InvalidRequest, ``imaging.smallest``). Blocking (CPU and disk): call it from a
    thread."""
    settings = res.settings
    min_pixels = MIN_PIXELS if role == "input" else 0
    plan = jpeg_passthrough_plan(raw, settings.max_image_pixels) if len(raw) <= settings.max_image_bytes else None
    if plan is not None:
        check_photo_size(plan.size, min_pixels)
        name = f"{job_id}_{role}.jpg"
        if plan.certain:  # nothing left to verify: written here, not handed to another thread and waited for
            res.files.put(name, plan.data)
            return name, ()
        written = _WRITER.submit(res.files.put, name, plan.data)
        try:
            with trip.slow():
                verified = plan.verify()  # a decode: the file's write and fsync go on meanwhile
        except BaseException:
            _discard(res, name, written)
            raise
        if verified:
            written.result()  # its error (a full disk) is the request's; put leaves nothing behind
            return name, ()
        _discard(res, name, written)  # the full path below says what is wrong with it
    with full_decode():
        data, ext, notes = normalise(raw, settings.max_image_bytes, settings.max_image_pixels, min_pixels)
    name = f"{job_id}_{role}.{ext}"
    res.files.put(name, data)
    return name, notes


async def store_input(res: Resources, job_id: str, raw: bytes, role: str = "input") -> tuple[str, tuple[str, ...]]:
    """:func:`store_image` off the event loop."""
    return await anyio.to_thread.run_sync(store_image, res, job_id, raw, role)


def _discard(res: Resources, name: str, written: Future[Path]) -> None:
    """Delete a file stored for an image that is not kept, once its write has ended (whichever way)."""
    futures.wait([written])
    res.files.delete(name)


async def check_webhook_url(res: Resources, url: str) -> None:
    """https only (http too when private networks are allowed) and a public address, checked now and at delivery."""
    schemes = webhook_schemes(res.settings.allow_private_network)
    problem = url_shape_error(url, schemes)  # in the words the served schema's pattern has
    if problem is not None:
        raise InvalidRequest(f"webhook_url {problem}.")
    try:
        check_sendable(url, schemes)  # the same check delivery makes: a URL no request can carry is refused now
    except InvalidRequest as exc:
        raise InvalidRequest(f"webhook_url refused: {exc.message}") from exc
    try:
        await resolve_async(url, res.policy)
    except InvalidRequest as exc:
        raise InvalidRequest(f"webhook_url refused: {exc.message}") from exc


def _photo_size(res: Resources, input_file: str) -> tuple[int, int]:
    with Image.open(io.BytesIO(res.files.read(input_file))) as photo:  # reads the header only
        return display_size(photo)  # a stored JPEG may keep its EXIF orientation: the hint is drawn on it as shown


def store_hint(res: Resources, job_id: str, mask_hint: str, input_file: str) -> str:
    """Check a request's ``mask_hint`` against the stored photo, store it in canonical form; returns its file name.
    Blocking (call it from a thread).

    Raises:
        InvalidRequest: not base64 PNG data, or not the photo's size (see ``imaging.hint.read_hint``).
        ImageTooLarge: over ``max_image_bytes``.
    """
    try:
        raw = decode_base64(mask_hint, res.settings.max_image_bytes)
    except ImageTooLarge as exc:
        raise ImageTooLarge(f"mask_hint is larger than {megabytes(res.settings.max_image_bytes)}.") from exc
    except InvalidRequest as exc:
        raise InvalidRequest("mask_hint must be a PNG image in base64 (plain or a data: URI).") from exc
    with trip.slow():  # a PNG the photo's size: up to 40 MP to decode
        hint = read_hint(raw, _photo_size(res, input_file))
    name = f"{job_id}_hint.png"
    res.files.put(name, encode_hint(hint))
    return name
