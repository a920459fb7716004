"""Image ↔ array conventions of diffusers' VaeImageProcessor, size snapping, and run timings.

Kept apart from the diffusion loop so the loop reads as the algorithm and these as the plumbing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image


def snap(value: float, multiple: int) -> int:
    """Nearest multiple of ``multiple`` (at least one multiple)."""
    return max(multiple, round(value / multiple) * multiple)


@dataclass
class Timings:
    """Where the last run spent its time (milliseconds); benchmarks print these."""

    text_ms: float = 0.0
    vae_encode_ms: float = 0.0
    unet_ms: list[float] = field(default_factory=list)
    vae_decode_ms: float = 0.0
    total_ms: float = 0.0

    @property
    def unet_ms_per_step(self) -> float:
        return float(np.mean(self.unet_ms)) if self.unet_ms else 0.0


def image_to_array(image: Image.Image, width: int, height: int) -> np.ndarray:
    """RGB → float32 [1,3,H,W] in [-1,1] (Lanczos resize when the size differs)."""
    img = image.convert("RGB")
    if img.size != (width, height):
        img = img.resize((width, height), Image.Resampling.LANCZOS)
    arr = np.asarray(img, dtype=np.float32) / 255.0
    return (arr.transpose(2, 0, 1)[None] * 2.0 - 1.0).astype(np.float32)


def mask_to_array(mask: Image.Image, width: int, height: int) -> np.ndarray:
    """L mask → binarised float32 [1,1,H,W] (1 = regenerate)."""
    m = mask.convert("L")
    if m.size != (width, height):
        m = m.resize((width, height), Image.Resampling.LANCZOS)
    arr = np.asarray(m, dtype=np.float32) / 255.0
    return (arr >= 0.5).astype(np.float32)[None, None]


def array_to_image(array: np.ndarray, size: tuple[int, int]) -> Image.Image:
    """Float [1,3,h,w] in [0,1] → RGB, resized (Lanczos) to ``size``."""
    pixels = (array[0].transpose(1, 2, 0) * 255).round().astype(np.uint8)
    img = Image.fromarray(pixels, "RGB")
    return img if img.size == tuple(size) else img.resize(size, Image.Resampling.LANCZOS)


def nearest(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    """torch.nn.functional.interpolate(mode="nearest") of a [1,1,H,W] mask to (height, width)."""
    h, w = mask.shape[-2:]
    rows = np.minimum(np.floor(np.arange(height) * (h / height)).astype(np.int64), h - 1)
    cols = np.minimum(np.floor(np.arange(width) * (w / width)).astype(np.int64), w - 1)
    return np.ascontiguousarray(mask[:, :, rows][:, :, :, cols]).astype(np.float32)
