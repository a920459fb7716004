"""Helpers shared by the imaging tests (importable by name; conftest modules are not)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def product_photo(
    size: tuple[int, int] = (320, 320),
    box: tuple[int, int, int, int] = (90, 70, 230, 260),
    colour: tuple[int, int, int] = (200, 40, 40),
    background: tuple[int, int, int] = (250, 250, 250),
    noise: float = 1.5,
    seed: int = 0,
) -> Image.Image:
    """A flat-coloured 'product' (rounded rectangle with a lighter stripe) on a plain background."""
    w, h = size
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:h, 0:w]
    x0, y0, x1, y1 = box
    inside = (xs >= x0) & (xs < x1) & (ys >= y0) & (ys < y1)
    img = np.empty((h, w, 3), np.float32)
    img[:] = background
    img[inside] = colour
    stripe = inside & (xs >= x0 + (x1 - x0) // 4) & (xs < x0 + (x1 - x0) // 4 + 8)
    img[stripe] = np.minimum(np.array(colour) + 50, 255)
    img += rng.normal(0, noise, img.shape)
    return Image.fromarray(np.clip(np.round(img), 0, 255).astype(np.uint8))


def to_bytes(img: Image.Image, fmt: str = "PNG", **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()
