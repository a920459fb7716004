"""A small linear-light painting surface for the procedural scenes.

Scenes are painted at a working resolution (long side ``WORK_SIDE``) where blurs and shading are cheap,
then upscaled once and given a fine film grain at full resolution (the grain hides banding in the smooth
gradients). Shapes are anti-aliased by drawing them at twice the working size with Pillow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from ..colour import to_srgb8
from .palettes import RGB

WORK_SIDE = 512
Shape = tuple[str, *tuple[float, ...]]
SUPERSAMPLE = 2


def lin(colour: RGB | Sequence[float], gain: float = 1.0) -> np.ndarray:
    """Linear-light float32 RGB of an 8-bit sRGB colour (times ``gain``)."""
    c = np.asarray(colour, np.float32) / 255
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return (c * gain).astype(np.float32)


def srgb_unit_to_linear(rgb: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] (float array) to linear light; a cheap power curve is enough for textures."""
    return np.power(np.clip(rgb, 0, 1), np.float32(2.2)).astype(np.float32)


class Canvas:
    """Linear-light RGB at the working resolution of a (width, height) output.

    Attributes:
        size: the full output size (width, height).
        f: full-resolution pixels per working pixel.
        w, h: working size.
        rgb: float32 (h, w, 3) linear light (may exceed 1 before lighting).
        xs, ys: working-pixel centre coordinates, shaped for broadcasting ((1, w) and (h, 1)).
    """

    def __init__(self, size: tuple[int, int], work_side: int = WORK_SIDE) -> None:
        self.size = size
        self.f = max(1.0, max(size) / work_side)
        self.w = max(8, round(size[0] / self.f))
        self.h = max(8, round(size[1] / self.f))
        self.rgb = np.zeros((self.h, self.w, 3), np.float32)
        self.xs = (np.arange(self.w, dtype=np.float32) + 0.5)[None, :]
        self.ys = (np.arange(self.h, dtype=np.float32) + 0.5)[:, None]

    def work(self, full_px: float) -> float:
        """A full-resolution length in working pixels."""
        return full_px / self.f

    def mask(self, draw: Callable[[ImageDraw.ImageDraw, float], None]) -> np.ndarray:
        """Anti-aliased coverage (float32 h x w in [0, 1]) of shapes drawn by ``draw(d, k)``, where ``k``
        converts working pixels to the supersampled drawing's pixels."""
        k = float(SUPERSAMPLE)
        img = Image.new("L", (self.w * SUPERSAMPLE, self.h * SUPERSAMPLE), 0)
        draw(ImageDraw.Draw(img), k)
        small = img.resize((self.w, self.h), Image.Resampling.BOX)
        return np.asarray(small, np.float32) * np.float32(1 / 255)

    def cover(self, *shapes: Shape) -> np.ndarray:
        """Anti-aliased coverage of shapes in working pixels, drawn in order: ``("rect", x0, y0, x1, y1)``,
        ``("ellipse", x0, y0, x1, y1)``, ``("rrect", x0, y0, x1, y1, radius)``, ``("poly", x0, y0, x1, y1, ...)``;
        a kind prefixed with ``-`` erases instead of drawing."""

        def draw(d: ImageDraw.ImageDraw, k: float) -> None:
            for kind, *coords in shapes:
                fill = 0 if kind.startswith("-") else 255
                name = kind.lstrip("-")
                pts = [c * k for c in coords]
                if name in ("rect", "ellipse", "rrect"):
                    # Degenerate boxes (a tiny canvas, a set squeezed by the frame) are drawn, not refused.
                    x0, y0, x1, y1 = pts[:4]
                    pts[:4] = [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]
                if name == "rect":
                    d.rectangle(pts[:4], fill=fill)
                elif name == "ellipse":
                    d.ellipse(pts[:4], fill=fill)
                elif name == "rrect":
                    d.rounded_rectangle(pts[:4], radius=pts[4], fill=fill)
                elif name == "poly":
                    d.polygon(list(zip(pts[0::2], pts[1::2], strict=True)), fill=fill)
                else:
                    raise ValueError(f"unknown shape {kind!r}")

        return self.mask(draw)

    def over(self, colour: np.ndarray, alpha: np.ndarray) -> None:
        """Paint ``colour`` (linear, (3,) or (h, w, 3)) with coverage ``alpha`` (h, w) over the canvas."""
        a = alpha[..., None]
        self.rgb *= 1 - a
        self.rgb += colour * a

    def shade(self, factor: np.ndarray) -> None:
        """Multiply the canvas by ``factor`` ((h, w) or (h, w, 3))."""
        self.rgb *= factor if factor.ndim == 3 else factor[..., None]

    def blurred_mask(self, mask: np.ndarray, sigma: float) -> np.ndarray:
        """``mask`` blurred by ``sigma`` working pixels (computed at half resolution when wide)."""
        return soft_blur(mask, sigma)

    def finish(self, rng: np.random.Generator, grain: float = 1.6) -> np.ndarray:
        """uint8 sRGB (H, W, 3) at full resolution, with luminance grain of ``grain`` 8-bit levels."""
        small = Image.fromarray(to_srgb8(self.rgb), "RGB")
        full = small.resize(self.size, Image.Resampling.BILINEAR) if small.size != self.size else small
        out = np.asarray(full).astype(np.int16)
        # Grain on a quarter-size tile repeated with offsets: cheap, and no visible repetition at this amplitude.
        th, tw = (self.size[1] + 3) // 4 + 1, (self.size[0] + 3) // 4 + 1
        tile = np.round(rng.standard_normal((th, tw), dtype=np.float32) * grain).astype(np.int16)
        noise = np.tile(tile, (4, 4))[: self.size[1], : self.size[0]]
        out += noise[..., None]
        return np.clip(out, 0, 255).astype(np.uint8)


def soft_blur(array: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur over the first two axes; large blurs run at reduced resolution (they look the same)."""
    if sigma <= 0.3:
        return array
    if sigma < 4:
        axes = (sigma, sigma, 0) if array.ndim == 3 else sigma
        return ndimage.gaussian_filter(array, axes, mode="nearest")
    k = int(min(8, sigma // 2))
    h, w = array.shape[:2]
    small = _downsample(array, k)
    sig = sigma / k
    axes = (sig, sig, 0) if array.ndim == 3 else sig
    small = ndimage.gaussian_filter(small, axes, mode="nearest")
    return resize_float(small, (w, h))


def resize_float(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a float (h, w) or (h, w, c) array to ``size`` = (width, height)."""
    if array.ndim == 2:
        img = Image.fromarray(np.ascontiguousarray(array, np.float32), mode="F")
        return np.asarray(img.resize(size, Image.Resampling.BILINEAR), np.float32)
    return np.dstack([resize_float(array[..., c], size) for c in range(array.shape[2])])


def _downsample(array: np.ndarray, k: int) -> np.ndarray:
    h, w = array.shape[:2]
    size = (max(1, w // k), max(1, h // k))
    if array.ndim == 2:
        img = Image.fromarray(np.ascontiguousarray(array, np.float32), mode="F")
        return np.asarray(img.resize(size, Image.Resampling.BOX), np.float32)
    return np.dstack([_downsample(array[..., c], k) for c in range(array.shape[2])])
