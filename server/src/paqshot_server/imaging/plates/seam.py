"""The optional seam pass: with an inpainting model installed, a low-strength repaint of the contact band only.

A window around where the product meets the floor (:func:`contact_window`) is given to the model with a mask
that covers a band along the floor line under and beside the product, never the product itself (its matte is
dilated by :data:`PRODUCT_GUARD` and kept out), at ``strength`` :data:`SEAM_STRENGTH` (the plate, with the
drawn shadow, is noised only that far, so the model blends the contact rather than inventing a new floor).
The result is feathered back into the canvas (the plate with its shadows); the product layer is pasted over it
afterwards, once, so the product's pixels are the same with or without this pass.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from ..compose import ProductLayer
from ..result import ProgressFn
from ..scenes.generative import Inpainter

SEAM_STRENGTH = 0.3
SEAM_STEPS = 8
PRODUCT_GUARD = 0.012  # matte dilation, share of the window's side: the model never touches the product's edge
BAND_ABOVE, BAND_BELOW = 0.06, 0.1  # the band's reach above and below the floor line, shares of product height
WINDOW_MIN, WINDOW_MAX = 256, 768  # px: the model's working window
SEAM_PROMPT = "a photograph of a product standing on the surface, natural soft contact shadow, seamless"
SEAM_NEGATIVE = "floating, cut-out edge, halo, outline, text"


@dataclass(frozen=True)
class Seam:
    """What the pass did (for the result)."""

    engine: str
    window: tuple[int, int, int, int]
    strength: float

    def describe(self) -> dict[str, object]:
        return {"engine": self.engine, "window": list(self.window), "strength": self.strength}


def accepts_strength(inpainter: Inpainter) -> bool:
    """Whether the inpainter takes ``strength`` (partial denoising); without it there is no low-strength pass."""
    try:
        return "strength" in inspect.signature(inpainter.inpaint).parameters
    except (TypeError, ValueError):
        return False


def contact_window(box: tuple[int, int, int, int], floor_y: int, canvas: tuple[int, int]) -> tuple[int, int, int, int]:
    """A square window (left, top, right, bottom) centred on the product's contact, inside the canvas."""
    width, height = canvas
    x0, y0, x1, y1 = box
    side = int(np.clip(1.4 * max(x1 - x0, 0.5 * (y1 - y0)), WINDOW_MIN, WINDOW_MAX))
    side = min(side, width, height)
    cx = (x0 + x1) // 2
    left = int(np.clip(cx - side // 2, 0, width - side))
    top = int(np.clip(floor_y - side // 2, 0, height - side))
    return left, top, left + side, top + side


def seam_pass(
    inpainter: Inpainter,
    canvas: np.ndarray,
    context: np.ndarray,
    layer: ProductLayer,
    box: tuple[int, int, int, int],
    floor_y: int,
    seed: int,
    progress: ProgressFn | None = None,
) -> Seam:
    """``canvas`` (uint8 H x W x 3, the plate with its shadows, no product) with the contact band repainted, in
    place; the model sees ``context`` (the same with the product composited). The caller pastes the product
    afterwards, once."""
    height, width = canvas.shape[:2]
    window = contact_window(box, floor_y, (width, height))
    wx0, wy0, wx1, wy1 = window
    side = wx1 - wx0
    x0, y0, x1, y1 = box
    ph = max(1, y1 - y0)
    band = np.zeros((side, side), bool)
    ry0, ry1 = floor_y - round(BAND_ABOVE * ph) - wy0, floor_y + round(BAND_BELOW * ph) - wy0
    cx0, cx1 = x0 - round(0.15 * (x1 - x0)) - wx0, x1 + round(0.15 * (x1 - x0)) - wx0
    band[max(0, ry0) : max(0, ry1), max(0, cx0) : max(0, cx1)] = True
    product = np.zeros((side, side), bool)
    lx0, ly0 = max(wx0, layer.x), max(wy0, layer.y)
    lx1, ly1 = min(wx1, layer.x + layer.alpha.shape[1]), min(wy1, layer.y + layer.alpha.shape[0])
    if lx0 < lx1 and ly0 < ly1:
        product[ly0 - wy0 : ly1 - wy0, lx0 - wx0 : lx1 - wx0] = (
            layer.alpha[ly0 - layer.y : ly1 - layer.y, lx0 - layer.x : lx1 - layer.x] > 0
        )
    product = ndimage.binary_dilation(product, iterations=max(1, round(PRODUCT_GUARD * side)))
    repaint = band & ~product
    out = inpainter.inpaint(
        Image.fromarray(np.ascontiguousarray(context[wy0:wy1, wx0:wx1]), "RGB"),
        Image.fromarray(np.where(repaint, 255, 0).astype(np.uint8), "L"),
        SEAM_PROMPT,
        SEAM_NEGATIVE,
        steps=SEAM_STEPS,
        seed=seed,
        progress=progress,
        strength=SEAM_STRENGTH,
    )
    painted = np.asarray(out.convert("RGB").resize((side, side), Image.Resampling.LANCZOS), dtype=np.float32)
    feather = ndimage.gaussian_filter(repaint.astype(np.float32), max(1.0, side / 128)) * repaint  # never outside
    crop = canvas[wy0:wy1, wx0:wx1]
    crop[:] = np.round(crop * (1 - feather[..., None]) + painted * feather[..., None]).astype(np.uint8)
    return Seam(f"diffusion:{inpainter.id}", window, SEAM_STRENGTH)
