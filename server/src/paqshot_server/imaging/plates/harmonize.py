"""Light and colour of the product nudged toward the plate: ONE global diagonal transform of the product layer.

The fidelity promise when harmonising (``harmonize: true``, the default on plates): every product pixel is
the photo's pixel (resampled by the layout's scale, as in every style) multiplied in linear light by the same
three gains, ``out = srgb(g ⊙ linear(in))``, with ``g`` recorded in the result (``backdrop.harmonize.gains``).
Nothing local is changed (no relighting, no retouching, no generated pixels on the product); hue shifts are at
most :data:`WB_LIMIT` per channel and brightness at most :data:`EV_LIMIT` stops, so dividing by the recorded
gains gives the photo's pixels back to within 8-bit rounding (except where a channel clipped at 255).
``harmonize: false`` keeps the product pixels exact, bit for bit, as in every other style.

How the gains are measured (``measure``):

- **White balance**: the illuminant colour of the plate and of the product photo, each by the "shades of grey"
  estimate (Finlayson & Trezzi 2004, "Shades of Gray and Colour Constancy", CIC 12: the Minkowski p-norm mean
  of linear RGB, p = 6), the photo's over its background (alpha 0) only — the product's own colour is not the
  light's. The gains move the product's white point ``WB_STRENGTH`` of the way (in log space) toward the
  plate's, normalised to keep luminance, each clipped to ±:data:`WB_LIMIT`.
- **Exposure**: ``EV_STRENGTH`` of the log2 ratio between the plate's mean luminance around where the product
  stands and the photo background's, clipped to ±:data:`EV_LIMIT` stops.
- A photo with no background to measure (an RGBA cut-out, a product filling the frame) gets gains of 1 and
  says so (``reference: none``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..colour import luminance, to_linear, to_srgb8
from ..compose import ProductLayer

MINKOWSKI_P = 6.0
WB_STRENGTH = 0.5
WB_LIMIT = 0.06  # ± per channel (relative), after the luminance-preserving normalisation
EV_STRENGTH = 0.2
EV_LIMIT = 1.0 / 3.0  # stops
GAIN_DIGITS = 6
MIN_BACKGROUND_SHARE = 0.05  # of the photo's pixels: less and the background says too little about the light
SAMPLE_SIDE = 256  # measures run on pixels sampled on a grid at most this many per side
_CLIP = 0.98  # linear values above this are clipped highlights: they say nothing of the light's colour
_RGB_Y = np.array([0.2126729, 0.7151522, 0.0721750])


@dataclass(frozen=True)
class Harmony:
    """The transform and what it was measured from (JSON-friendly through :meth:`describe`)."""

    gains: tuple[float, float, float]  # linear-light multipliers of R, G, B (white balance x exposure)
    white_balance: tuple[float, float, float]
    exposure_ev: float
    reference: str  # "photo background" or "none"
    applied: bool

    def describe(self) -> dict[str, object]:
        return {
            "applied": self.applied,
            "gains": list(self.gains),
            "white_balance": [round(g, 4) for g in self.white_balance],
            "exposure_ev": round(self.exposure_ev, 3),
            "reference": self.reference,
        }


IDENTITY = Harmony((1.0, 1.0, 1.0), (1.0, 1.0, 1.0), 0.0, "none", applied=False)


def _samples(rgb8: np.ndarray, keep: np.ndarray | None) -> np.ndarray:
    """Linear RGB (n, 3) of pixels on a coarse grid (where ``keep``, if given)."""
    step = max(1, max(rgb8.shape[:2]) // SAMPLE_SIDE)
    grid = rgb8[::step, ::step]
    lin = to_linear(grid).reshape(-1, 3)
    if keep is not None:
        lin = lin[keep[::step, ::step].reshape(-1)]
    return lin


def illuminant(linear: np.ndarray) -> np.ndarray | None:
    """Shades-of-grey illuminant colour (3,) of linear RGB samples (n, 3), luminance 1; None without samples."""
    usable = linear[(linear.max(axis=1) < _CLIP) & (linear.max(axis=1) > 0.002)]
    if usable.shape[0] < 16:
        return None
    colour = np.power(np.mean(np.power(usable.astype(np.float64), MINKOWSKI_P), axis=0), 1.0 / MINKOWSKI_P)
    y = float(colour @ _RGB_Y)
    return colour / y if y > 0 else None


def measure(
    photo: np.ndarray, photo_alpha: np.ndarray, plate: np.ndarray, around: tuple[int, int, int, int]
) -> Harmony:
    """The gains for a product from ``photo`` (uint8 H x W x 3, its matte ``photo_alpha`` uint8 H x W) placed on
    ``plate`` (uint8 canvas) at ``around`` (canvas box where the product stands)."""
    background = photo_alpha == 0
    if background.mean() < MIN_BACKGROUND_SHARE:
        return IDENTITY
    photo_bg = _samples(photo, background)
    source = illuminant(photo_bg)
    target = illuminant(_samples(plate, None))
    if source is None or target is None:
        return IDENTITY
    wb = np.exp(WB_STRENGTH * (np.log(target) - np.log(source)))
    wb = wb / float(wb @ _RGB_Y)
    wb = np.clip(wb, 1 - WB_LIMIT, 1 + WB_LIMIT)
    height, width = plate.shape[:2]
    x0, y0, x1, y1 = around
    pad_x, pad_y = (x1 - x0) // 2, (y1 - y0) // 2
    near = plate[max(0, y0 - pad_y) : min(height, y1 + pad_y), max(0, x0 - pad_x) : min(width, x1 + pad_x)]
    y_plate = float(luminance(to_linear(near)).mean()) if near.size else float(luminance(_samples(plate, None)).mean())
    y_photo = float(luminance(photo_bg).mean())
    ev = float(np.clip(EV_STRENGTH * np.log2(max(y_plate, 1e-4) / max(y_photo, 1e-4)), -EV_LIMIT, EV_LIMIT))
    gains = [round(float(g), GAIN_DIGITS) for g in wb * 2.0**ev]  # recorded as applied, to the last digit
    return Harmony(
        gains=(gains[0], gains[1], gains[2]),
        white_balance=(float(wb[0]), float(wb[1]), float(wb[2])),
        exposure_ev=ev,
        reference="photo background",
        applied=True,
    )


def apply(layer: ProductLayer, harmony: Harmony) -> ProductLayer:
    """``layer`` with its colours multiplied by the gains in linear light (alpha and position unchanged); the
    same layer when the harmony is not applied."""
    if not harmony.applied:
        return layer
    gains = np.asarray(harmony.gains, np.float32)
    return ProductLayer(to_srgb8(to_linear(layer.rgb) * gains), layer.alpha, layer.x, layer.y)
