"""What a plate says about its light and its floor, measured on a small copy of it (no model).

- **Light direction**: the key light brightens the side it comes from. The measure is the difference of mean
  log luminance between the right and the left third of the plate, Δ (natural log units); ln 2 (one stop)
  is taken as a fully sideways light. Azimuth = ``MAX_SIDE_AZIMUTH`` · clip(Δ / ln 2, −1, 1): 0 (a light from
  the camera, the shadow falls behind the product) when both sides are equally lit. The method cannot tell a
  light from behind from one from the front; the plate's ``light_from`` says so when it matters.
- **Softness**: hard light makes deep shadows and strong fall-off. With d = min(|Δ| / ln 2, 1) and
  c = 1 − P5/P50 of the floor region's luminance (0 for an evenly lit floor, towards 1 with deep shadows),
  softness = clip(1 − 0.5·d − 0.5·c, 0.2, 1).
- **Floor line**: the horizon where the back wall meets the surface is the strongest change of the rows'
  colour (CIE Lab, each row's median, ΔE over a 3 %-of-height step) between 25 % and 90 % of the height; the
  product stands ``FLOOR_DEPTH`` of the way from it to the bottom. No change above ``MIN_HORIZON_DELTA_E`` (a
  seamless sweep, a flat photo): :data:`~.geometry.DEFAULT_FLOOR`. Measured on 99 procedural plates (11
  locations x 3 styles x 3 seeds): the horizon within 3 % of the height on 65 %; it fails on bright window
  shafts across the wall and takes a table's front edge for the horizon. Give ``floor_y`` when it matters.

The constants were chosen on the project's procedural plates (``tests/fixtures/plates``), where the light side
and horizon are known; ``tests/server/plates/test_plate_light.py`` holds the estimates to them.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from ..colour import luminance, srgb8_to_lab, to_linear
from .geometry import DEFAULT_FLOOR
from .plate import Light

ANALYSIS_SIDE = 160  # long side of the copy the measures run on
MAX_SIDE_AZIMUTH = 75.0  # degrees: a fully one-sided light still casts its shadow a little backwards
STOP = math.log(2.0)
FLOOR_DEPTH = 0.4  # the product's base sits this share of the way from the horizon to the bottom
HORIZON_BAND = (0.25, 0.9)
HORIZON_STEP = 0.03  # share of the height over which the rows' colour change is measured
MIN_HORIZON_DELTA_E = 4.0


def _small(image: Image.Image) -> np.ndarray:
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    factor = max(1.0, max(rgb.size) / ANALYSIS_SIDE)
    size = (max(8, round(rgb.width / factor)), max(8, round(rgb.height / factor)))
    return np.asarray(rgb.resize(size, Image.Resampling.BOX), dtype=np.uint8)


def estimate_horizon(image: Image.Image) -> float | None:
    """The horizon (fraction of the height) where the back wall meets the surface, or None when no row change
    is strong enough to be one."""
    small = _small(image)
    rows = np.median(srgb8_to_lab(small), axis=1)  # (h, 3); the median ignores props standing on the line
    h = rows.shape[0]
    step = max(1, round(HORIZON_STEP * h))
    lo, hi = round(HORIZON_BAND[0] * h), round(HORIZON_BAND[1] * h)
    if hi - lo <= 2 * step:
        return None
    change = np.linalg.norm(rows[step:] - rows[:-step], axis=1)  # change[i]: rows i .. i + step
    band = change[lo - step // 2 : hi - step // 2]
    best = int(np.argmax(band))
    if band[best] < MIN_HORIZON_DELTA_E:
        return None
    return float((lo - step // 2 + best + step / 2) / h)


def estimate_floor(image: Image.Image) -> float:
    """The floor line (fraction of the height) a product should stand on (see the module docstring)."""
    horizon = estimate_horizon(image)
    if horizon is None:
        return DEFAULT_FLOOR
    return float(min(horizon + FLOOR_DEPTH * (1.0 - horizon), 0.95))


def estimate_light(image: Image.Image, floor_y: float | None = None) -> Light:
    """The plate's key light (see the module docstring); ``floor_y`` bounds the floor region (default: the
    lower 40 %)."""
    small = _small(image)
    y = luminance(to_linear(small))
    log_y = np.log(y + 0.01)
    w = log_y.shape[1]
    third = max(1, w // 3)
    delta = float(log_y[:, -third:].mean() - log_y[:, :third].mean())
    side = float(np.clip(delta / STOP, -1.0, 1.0))
    top = round((floor_y if floor_y is not None else 0.6) * y.shape[0] * 0.85)
    floor = y[min(top, y.shape[0] - 1) :]
    p5, p50 = np.percentile(floor, [5, 50])
    contrast = float(np.clip(1.0 - p5 / max(p50, 1e-4), 0.0, 1.0))
    softness = float(np.clip(1.0 - 0.5 * abs(side) - 0.5 * contrast, 0.2, 1.0))
    return Light(azimuth=MAX_SIDE_AZIMUTH * side, softness=softness, source="estimated")
