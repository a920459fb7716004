"""Encoding of finished images: JPEG (quality ~92, sRGB, no metadata), PNG, WebP, and thumbnails."""

from __future__ import annotations

import io
import math
from collections.abc import Callable

import numpy as np
from PIL import Image

from .result import RenderedImage

THUMBNAIL_SIDE = 256
MIME = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


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


def render_image(pixels: np.ndarray, fmt: str, quality: int = 92) -> RenderedImage:
    """Encode a finished canvas (uint8 RGB or RGBA) and its thumbnail into a RenderedImage."""
    image = Image.fromarray(pixels, mode="RGBA" if pixels.shape[2] == 4 else "RGB")
    data = encode(image, fmt, quality)
    thumb_fmt = "jpeg" if fmt == "jpeg" else fmt
    thumb = encode(thumbnail(image), thumb_fmt, 85)
    return RenderedImage(data, MIME[fmt], image.width, image.height, thumb, MIME[thumb_fmt])
