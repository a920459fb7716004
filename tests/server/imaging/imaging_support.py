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


BACKDROP = (225, 218, 205)  # warm paper


class FakeModel:
    """A stand-in for a salient-object model with U²-Net's habits, computed from the pixels it is given
    (so crops work like with a real model): everything that is not the paper backdrop is product, a
    chromaticity-preserving darkening of the paper (a cast shadow) is kept as half product (p = 0.6), enclosed
    holes are filled, and the answer comes back blurred on a small square grid (the model's input size).
    """

    def __init__(self, size: int = 64, shadow_p: float = 0.6) -> None:
        self.size = size
        self.shadow_p = shadow_p  # how sure it is that a cast shadow is product
        self.calls: list[tuple[int, int]] = []

    def __call__(self, rgb: np.ndarray, side: int = 0, *, letterbox: bool = False) -> np.ndarray:
        """``side``, ``letterbox``: what a segmenter asks a pass with (``OnnxSegmenter.predict``); the stand-in
        answers on its own grid covering ``rgb`` whatever they are, as a model of one size does."""
        from scipy import ndimage

        self.calls.append(rgb.shape[:2])
        px = rgb.astype(np.float32)
        paper = np.array(BACKDROP, np.float32)
        ratio = px.sum(axis=2) / paper.sum()
        chroma = np.abs(px / np.maximum(px.sum(axis=2, keepdims=True), 1) - paper / paper.sum()).sum(axis=2)
        product = np.abs(px - paper).max(axis=2) > 30
        shadow = product & (ratio > 0.3) & (ratio < 0.97) & (chroma < 0.03)
        product &= ~shadow
        prob = ndimage.binary_fill_holes(product).astype(np.float32)
        prob[shadow] = self.shadow_p
        small = np.asarray(Image.fromarray(prob, "F").resize((self.size, self.size), Image.Resampling.BOX))
        return ndimage.uniform_filter(small, 3, mode="nearest").astype(np.float32).clip(0, 1)


def paper_scene(
    size: tuple[int, int] = (480, 360),
    products: tuple[tuple[int, int, int, int], ...] = ((170, 110, 310, 250),),
    colour: tuple[int, int, int] = (40, 60, 150),
    shadow: tuple[int, int] | None = None,
    ring: bool = False,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 RGB photo, exact float32 alpha): flat products on paper, optionally a soft cast shadow offset by
    ``shadow`` (dx, dy) and, with ``ring``, each product a frame with a see-through hole in its middle third."""
    from scipy import ndimage

    w, h = size
    alpha = np.zeros((h, w), np.float32)
    for x0, y0, x1, y1 in products:
        alpha[y0:y1, x0:x1] = 1.0
        if ring:
            dx, dy = (x1 - x0) // 3, (y1 - y0) // 3
            alpha[y0 + dy : y1 - dy, x0 + dx : x1 - dx] = 0.0
    img = np.empty((h, w, 3), np.float32)
    img[:] = BACKDROP
    if shadow is not None:
        cast = ndimage.gaussian_filter(np.roll(alpha, shadow, axis=(1, 0)), 6)
        img *= (1 - 0.45 * cast)[..., None]
    img = alpha[..., None] * np.array(colour, np.float32) + (1 - alpha[..., None]) * img
    img += np.random.default_rng(seed).normal(0, 1.5, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8), alpha
