"""The generative scene engine: an inpainting model paints the scene around the laid-out product.

The procedural render is the starting image (its layout, set and light are the structure); the mask is
everything outside the product's dilated matte. After the model runs, the original product pixels are
composited back over the result with a shadow whose strength follows the generated ground, so the model
can never alter the product. A mild low-frequency colour pull towards the procedural render keeps the
palette the request asked for.
"""

from __future__ import annotations

import inspect
from typing import Any, Protocol

import numpy as np
from PIL import Image
from scipy import ndimage

from ..colour import luminance, to_linear, to_srgb8
from ..compose import ProductLayer
from ..result import ProgressFn

DILATE_SHARE = 0.012  # matte dilation, share of the canvas's long side: room for the model's edge blending
PALETTE_PULL = 0.35  # share of the mean colour difference to the procedural render that is pulled back
INIT_STRENGTH = 0.8  # used only by inpainters that accept ``strength`` (start from a noised init image)


class Inpainter(Protocol):
    """What the generative engine needs from a diffusion pipeline (``inference.diffusion`` provides it)."""

    @property
    def id(self) -> str: ...

    def inpaint(
        self,
        image: Image.Image,
        mask: Image.Image,
        prompt: str,
        negative_prompt: str | None = None,
        steps: int | None = None,
        guidance: float | None = None,
        seed: int | None = None,
        progress: ProgressFn | None = None,
        **options: Any,
    ) -> Image.Image: ...


def product_mask(layer: ProductLayer, size: tuple[int, int]) -> np.ndarray:
    """bool (H, W): where the product is (alpha > 0) on the canvas, dilated by ``DILATE_SHARE``."""
    width, height = size
    mask = np.zeros((height, width), bool)
    x0, y0 = max(layer.x, 0), max(layer.y, 0)
    x1, y1 = min(layer.x + layer.alpha.shape[1], width), min(layer.y + layer.alpha.shape[0], height)
    if x0 < x1 and y0 < y1:
        mask[y0:y1, x0:x1] = layer.alpha[y0 - layer.y : y1 - layer.y, x0 - layer.x : x1 - layer.x] > 0
    radius = max(1, round(DILATE_SHARE * max(size)))
    return ndimage.binary_dilation(mask, iterations=radius)


def _accepts_strength(inpainter: Inpainter) -> bool:
    try:
        params = inspect.signature(inpainter.inpaint).parameters
    except (TypeError, ValueError):
        return False
    return "strength" in params


def generate_background(
    inpainter: Inpainter,
    init: np.ndarray,
    keep: np.ndarray,
    prompt: str,
    negative_prompt: str,
    seed: int,
    progress: ProgressFn | None = None,
) -> np.ndarray:
    """Inpaint everything outside ``keep`` (bool H x W) of the procedural render ``init`` (uint8 RGB).

    Returns uint8 (H, W, 3): the model's scene, colour-pulled towards ``init`` in low frequencies.
    """
    image = Image.fromarray(init, "RGB")
    mask = Image.fromarray(np.where(keep, 0, 255).astype(np.uint8), "L")
    extra: dict[str, Any] = {"strength": INIT_STRENGTH} if _accepts_strength(inpainter) else {}
    out = inpainter.inpaint(image, mask, prompt, negative_prompt, seed=seed, progress=progress, **extra)
    gen = np.asarray(
        out.convert("RGB").resize(image.size, Image.Resampling.LANCZOS)
        if out.size != image.size
        else out.convert("RGB")
    )
    return harmonise(gen, init, ~keep)


def harmonise(gen: np.ndarray, reference: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Pull ``gen``'s mean colour over ``region`` part-way towards ``reference``'s (linear light)."""
    if not region.any():
        return np.array(gen)
    g = to_linear(gen)
    diff = to_linear(reference)[region].mean(axis=0) - g[region].mean(axis=0)
    return to_srgb8(g + PALETTE_PULL * diff)


def ground_strength(background: np.ndarray, dest_box: tuple[int, int, int, int]) -> float:
    """Shadow strength for the generated ground under the product: lighter grounds take darker shadows
    (a multiply shadow on a dark ground would otherwise read as a black hole)."""
    height, width = background.shape[:2]
    x0, y0, x1, y1 = dest_box
    band = background[
        max(0, min(height - 1, y1)) : min(height, y1 + max(2, (y1 - y0) // 8)), max(0, x0) : min(width, x1)
    ]
    if band.size == 0:
        return 1.0
    y = float(luminance(to_linear(band)).mean())
    return float(np.clip(0.55 + 0.8 * y, 0.5, 1.1))
