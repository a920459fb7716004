"""Cut-out: the product's alpha matte and clean foreground colours, from whichever source is best.

``cutout(image)`` uses the image's own alpha channel when it has a meaningful one, else a segmenter
(the classical one by default). The result is at the input's full resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..errors import UnsupportedImage
from .matting import decontaminate
from .segment import Segmenter, default_segmenter

ALPHA_FLOOR = 0.5  # alpha above which a pixel counts as product for the bounding box


@dataclass(frozen=True)
class Cutout:
    """A product cut out of its photo, at the photo's resolution.

    Attributes:
        alpha: float32 (H, W) in [0, 1]; 1 = product.
        foreground: uint8 (H, W, 3) sRGB colours to composite: the original pixels wherever alpha == 1,
            decontaminated colours (background removed) where 0 < alpha < 1.
        confidence: the segmenter's certainty in [0, 1] (1.0 for an alpha channel supplied by the user).
        source: ``"alpha"`` (the input's own alpha), ``"classical"`` or the segmenter's ``name``.
        bbox: (left, top, right, bottom) of pixels with alpha > 0 (exclusive right/bottom).
        notes: user-facing remarks (why confidence is low, ...).
    """

    alpha: np.ndarray
    foreground: np.ndarray
    confidence: float
    source: str
    bbox: tuple[int, int, int, int]
    notes: tuple[str, ...] = ()

    @property
    def size(self) -> tuple[int, int]:
        return self.alpha.shape[1], self.alpha.shape[0]

    def matte_image(self) -> Image.Image:
        """The matte as an 8-bit greyscale ("L") PIL image at input resolution."""
        return Image.fromarray(np.round(self.alpha * 255).astype(np.uint8), mode="L")

    def rgba_image(self) -> Image.Image:
        """The cut-out as a straight-alpha RGBA image at input resolution."""
        a = np.round(self.alpha * 255).astype(np.uint8)
        return Image.fromarray(np.dstack([self.foreground, a]), mode="RGBA")


def alpha_bbox(alpha: np.ndarray, floor: float = 0.0) -> tuple[int, int, int, int] | None:
    """Bounding box (left, top, right, bottom) of alpha > floor, or None when empty."""
    mask = alpha > floor
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def cutout(image: Image.Image, segmenter: Segmenter | None = None) -> Cutout:
    """Cut the product out of a decoded image (RGB or RGBA, 8-bit sRGB).

    Raises:
        UnsupportedImage: the image is fully transparent, or no product can be told from its background.
    """
    if image.mode == "RGBA":
        return _from_alpha(image)
    if image.mode != "RGB":
        image = image.convert("RGB")
    rgb = np.asarray(image)
    seg = segmenter or default_segmenter()
    matte = seg.segment(rgb)
    alpha = np.clip(matte.alpha.astype(np.float32, copy=False), 0.0, 1.0)
    if alpha.shape != rgb.shape[:2]:
        raise ValueError(f"segmenter {seg.name} returned a {alpha.shape} matte for a {rgb.shape[:2]} image")
    bbox = alpha_bbox(alpha, 0.0)
    if bbox is None or float(alpha.max()) < ALPHA_FLOOR:
        raise UnsupportedImage("no product found: the cut-out is empty (the image looks like background).")
    return Cutout(alpha, decontaminate(rgb, alpha), float(matte.confidence), seg.name, bbox, matte.notes)


def _from_alpha(image: Image.Image) -> Cutout:
    rgba = np.asarray(image)
    alpha = rgba[..., 3].astype(np.float32) / 255.0
    bbox = alpha_bbox(alpha, 0.0)
    if bbox is None:
        raise UnsupportedImage("no product found: the image is fully transparent.")
    if float(alpha.max()) < 0.1:
        raise UnsupportedImage("no product found: the image is almost fully transparent.")
    return Cutout(alpha, np.ascontiguousarray(rgba[..., :3]), 1.0, "alpha", bbox)
