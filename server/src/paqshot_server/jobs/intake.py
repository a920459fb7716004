"""Turns a generate request's ``product_image`` into validated, normalised, stored bytes (at the door).

Used by the jobs service before a job is inserted; nothing here knows HTTP."""

from __future__ import annotations

import base64
import binascii
import io
import re

import anyio.to_thread

from ..errors import ImageTooLarge, InvalidRequest, megabytes
from ..imaging.decode import decode_image
from ..imaging.passthrough import jpeg_passthrough
from ..net.fetch import fetch_image, resolve_async
from ..net.post import check_sendable
from ..resources import Resources

_DATA_URI = re.compile(r"^data:(?P<mime>[\w.+/-]*)(?P<params>(;[\w.+-]+=[\w.+-]+)*)(?P<b64>;base64)?,", re.I)


def decode_base64(text: str, max_bytes: int) -> bytes:
    """Strict base64 (plain or ``data:`` URI); the decoded size is checked before decoding."""
    match = _DATA_URI.match(text)
    if match:
        if not match.group("b64"):
            raise InvalidRequest("data: URIs must be base64-encoded (';base64,').")
        text = text[match.end() :]
    if len(text) * 3 // 4 > max_bytes * 1.05 + 3:  # generous for line breaks; the exact check follows
        raise ImageTooLarge(f"Product image exceeds {megabytes(max_bytes)}.")
    if any(c in text for c in " \n\r\t"):  # only rebuild the string when it has line breaks (costly on MBs)
        text = "".join(text.split())
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequest("product_image is neither an http(s) URL nor valid base64 image data.") from exc
    if len(decoded) > max_bytes:
        raise ImageTooLarge(f"Product image is {len(decoded) / 1e6:.1f} MB; the limit is {megabytes(max_bytes)}.")
    return decoded


def normalise(data: bytes, max_bytes: int, max_pixels: int) -> tuple[bytes, str]:
    """Validated, metadata-free bytes to store and their extension (``jpg`` fast path or ``png``)."""
    if len(data) <= max_bytes:
        fast = jpeg_passthrough(data, max_pixels)
        if fast is not None:
            return fast[0], "jpg"
    decoded = decode_image(data, max_bytes=max_bytes, max_pixels=max_pixels)
    out = io.BytesIO()
    # compress_level=1: the stored input is read once by the worker; speed matters more than size.
    decoded.image.save(out, "PNG", compress_level=1)
    return out.getvalue(), "png"


async def load_product_image(res: Resources, product_image: str) -> bytes:
    """Fetch (URL) or decode (base64) the raw bytes of the product image."""
    settings = res.settings
    if re.match(r"^https?://", product_image, re.I):
        return await fetch_image(
            product_image, res.policy, max_bytes=settings.max_image_bytes, user_agent=settings.brand.user_agent
        )
    return decode_base64(product_image, settings.max_image_bytes)


async def store_input(res: Resources, job_id: str, raw: bytes) -> str:
    """Validate/normalise off the event loop and store; returns the stored file name."""
    settings = res.settings
    data, ext = await anyio.to_thread.run_sync(normalise, raw, settings.max_image_bytes, settings.max_image_pixels)
    name = f"{job_id}_input.{ext}"
    await anyio.to_thread.run_sync(res.files.put, name, data)
    return name


async def check_webhook_url(res: Resources, url: str) -> None:
    """https only (http too when private networks are allowed) and a public address, checked now and at delivery."""
    schemes = ("http", "https") if res.settings.allow_private_network else ("https",)
    try:
        check_sendable(url, schemes)  # the same check delivery makes: a URL no request can carry is refused now
    except InvalidRequest as exc:
        raise InvalidRequest(f"webhook_url refused: {exc.message}") from exc
    try:
        await resolve_async(url, res.policy)
    except InvalidRequest as exc:
        raise InvalidRequest(f"webhook_url refused: {exc.message}") from exc
