"""Encoding of finished images: JPEG (quality ~92, sRGB, no metadata), PNG, WebP, and thumbnails."""

from __future__ import annotations

import io
import math
from collections.abc import Callable

import numpy as np
from PIL import Image

from . import mapseal
from .productmap import MAX_TEXT
from .result import RenderedImage

THUMBNAIL_SIDE = 256
MIME = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
# The qualities a lossy file steps down through to fit a byte limit, and the floor. Measured on 34 images at 2200
# px (27 real photos, 7 fashion_packshot outputs of which 2 noise-textured; bench/jpeg_quality_steps.py, figures in
# docs/progress/issue-14.md): the file at 85 is a median 0.63 of its size at 90 (the step below 90 also halves the
# colour resolution), at 70 0.46 (at most 0.54); 65 saves only 0.03 of the size at 90 more while the error keeps
# growing: 70 is the floor.
QUALITY_STEPS = (85, 80, 75, 70)
# Bytes kept free under a byte limit for what finishing adds to the main image: the XMP packet and the signed C2PA
# manifest (measured 4.6 kB with the self-signed EC certificate, bench/jpeg_quality_steps.py; 16 KiB leaves room for
# an operator's longer certificate chain) and the product map in the XMP (at most productmap.MAX_TEXT; 14-23 KB for
# real products at 2000 px). Finishing still measures the labelled file and flags one over the limit.
LABEL_RESERVE = 16 * 1024 + MAX_TEXT


def output_format(requested: str | None, transparent: bool) -> str:
    """The format to write: the request's, else PNG for a transparent canvas and JPEG otherwise.

    JPEG cannot carry alpha: a transparent canvas asked as JPEG is written as PNG.
    """
    fmt = (requested or ("png" if transparent else "jpeg")).lower()
    if fmt == "jpg":
        fmt = "jpeg"
    if fmt not in MIME:
        raise ValueError(f"unknown output format {requested!r}")
    if transparent and fmt == "jpeg":
        return "png"
    return fmt


def encode(image: Image.Image, fmt: str, quality: int = 92) -> bytes:
    """Encode ``image`` with no metadata (no EXIF, no ICC: sRGB is implied)."""
    buf = io.BytesIO()
    if fmt == "jpeg":
        rgb = image if image.mode == "RGB" else image.convert("RGB")  # convert() copies even an RGB image
        rgb.save(buf, "JPEG", quality=quality, subsampling=0 if quality >= 90 else 2)
    elif fmt == "png":
        image.save(buf, "PNG", compress_level=3)
    elif fmt == "webp":
        image.save(buf, "WEBP", quality=quality, method=3)
    else:
        raise ValueError(f"unknown output format {fmt!r}")
    return buf.getvalue()


def encode_within(image: Image.Image, fmt: str, quality: int, max_bytes: int | None) -> tuple[bytes, int]:
    """(file, quality used): ``image`` encoded at ``quality`` or, when that file is over ``max_bytes`` (bytes),
    at the first of :data:`QUALITY_STEPS` below ``quality`` that fits; at the floor when none does (the caller
    measures the file and says so). PNG is lossless: encoded once, whatever its size."""
    data = encode(image, fmt, quality)
    if max_bytes is None or fmt == "png":
        return data, quality
    for step in (q for q in QUALITY_STEPS if q < quality):
        if len(data) <= max_bytes:
            break
        data, quality = encode(image, fmt, step), step
    return data, quality


def thumbnail(image: Image.Image, side: int = THUMBNAIL_SIDE) -> Image.Image:
    """A copy whose long side is at most ``side`` pixels (``Image.thumbnail``'s size and resampling, without
    copying the full-size image first)."""
    if image.width <= side and image.height <= side:
        return image.copy()
    aspect = image.width / image.height
    # Pillow's Image.thumbnail rounding: the whole size whose aspect ratio is closest.
    if aspect >= 1:
        size = (side, _closest(side / aspect, lambda n: 0 if n == 0 else abs(aspect - side / n)))
    else:
        size = (_closest(side * aspect, lambda n: abs(aspect - n / side)), side)
    return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)


def _closest(number: float, error: Callable[[int], float]) -> int:
    return max(min(math.floor(number), math.ceil(number), key=error), 1)


def render_image(pixels: np.ndarray, fmt: str, quality: int = 92, max_file_bytes: int | None = None) -> RenderedImage:
    """Encode a finished canvas (uint8 RGB or RGBA) and its thumbnail into a RenderedImage.

    ``max_file_bytes``: the labelled file's limit (a preset's rule); a JPEG or WebP over it less
    :data:`LABEL_RESERVE` steps its quality down (:func:`encode_within`), recorded in ``quality_lowered``."""
    image = Image.fromarray(pixels, mode="RGBA" if pixels.shape[2] == 4 else "RGB")
    budget = None if max_file_bytes is None else max(max_file_bytes - LABEL_RESERVE, 1)
    data, used = encode_within(image, fmt, quality, budget)
    thumb_fmt = "jpeg" if fmt == "jpeg" else fmt
    thumb = encode(thumbnail(image), thumb_fmt, 85)
    lowered = (quality, used) if used != quality else None
    # A PNG decodes to exactly this image (lossless, same mode): the product map's seal needs no decode of it.
    digest = mapseal.digest(image) if fmt == "png" else None
    return RenderedImage(
        data, MIME[fmt], image.width, image.height, thumb, MIME[thumb_fmt], quality_lowered=lowered, pixel_digest=digest
    )
