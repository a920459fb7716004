"""The product's shadow on a plate, cast from its own matte (the placed layer's alpha) — never from the photo:
whatever shadow the product photo had stays behind with its background.

Two parts, as a multiply layer (float32 H x W, 1 = untouched):

- **contact**: ambient occlusion along the floor line under the product (its silhouette flattened onto the
  floor and blurred: the studio's ``soft`` shadow on the floor line), darkest where it touches: what grounds
  a product under any light.
- **cast**: the silhouette projected onto the floor away from the key light (``plate.Light``): a point at
  height h above the floor line moves h·``CAST_LENGTH``·(−sin θ) sideways and h·``CAST_LENGTH``·cos θ·
  ``FLOOR_FORESHORTENING`` up the picture (back), θ the light's azimuth. Its edge softens and its darkness
  fades with the height of the point that casts it (penumbra), more so the softer the light. An overhead
  light (θ None) casts none.

Built on a low-resolution copy of the canvas like the studio shadows (``imaging/shadow.py``) and upsampled.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image
from scipy import ndimage

from ..colour import luminance, to_linear
from ..compose import ProductLayer
from ..shadow import LOW_RES_SIDE, shadow_layer, silhouette
from .plate import Light

CAST_LENGTH = 0.7  # shadow length on the floor per unit of height (a key light about 55° up)
FLOOR_FORESHORTENING = 0.35  # how much depth on the floor shrinks in the picture (a camera ~20° above it)
MIN_DEPTH = 0.06  # a sideways light still throws its shadow a little back (the picture's floor is not a line)
CONTACT_STRENGTH = 1.5  # of the studio soft shadow: a plate's floor is busier than a sweep, the contact must show
CAST_DARKNESS = 0.8  # at softness 0, next to the product
FOOTPRINT = 0.6  # the product's depth on the floor, share of its width (a bottle's is about its width)


def ground_strength(plate: np.ndarray, floor_y: int, x0: int, x1: int) -> float:
    """Shadow strength for the plate's floor under the product: light floors take darker shadows, dark ones
    a little lighter (a full multiply on a dark floor reads as a hole). Gentler than the generated scenes' rule
    (``scenes.generative.ground_strength``): a photographed floor already carries its own dark texture."""
    height = plate.shape[0]
    band = plate[max(0, min(height - 1, floor_y)) : min(height, floor_y + max(2, height // 40)), max(0, x0) : x1]
    if band.size == 0:
        return 1.0
    y = float(luminance(to_linear(band)).mean())
    return float(np.clip(0.75 + 0.5 * y, 0.75, 1.1))


def plate_shadow(
    layer: ProductLayer,
    canvas: tuple[int, int],
    product_box: tuple[int, int, int, int],
    floor_y: int,
    light: Light,
    strength: float = 1.0,
) -> np.ndarray:
    """Multiply layer (float32 H x W) of the contact and cast shadows of ``layer`` standing on ``floor_y``.

    The contact part is the studio's ``soft`` shadow laid on the floor line (``imaging/shadow.py``), so a
    product above its contact line (a floating one) gets a fainter, wider one.
    """
    x0, y0, x1, _y1 = product_box
    contact = shadow_layer("soft", layer, canvas, (x0, y0, x1, floor_y), strength=strength * CONTACT_STRENGTH)
    if contact is None or light.azimuth is None or light.softness >= 1.0:
        return contact if contact is not None else np.ones((canvas[1], canvas[0]), np.float32)
    width, height = canvas
    factor = max(1.0, max(width, height) / LOW_RES_SIDE)
    mask = silhouette(layer, canvas, factor)
    left, top, right, _bottom = (v / factor for v in product_box)
    floor = floor_y / factor
    cast = np.clip(_cast(mask, floor, max(floor - top, 1.0), max(right - left, 1.0), light) * strength, 0.0, 0.85)
    plane = Image.fromarray((1.0 - cast).astype(np.float32), mode="F")
    return contact * np.asarray(plane.resize((width, height), Image.Resampling.BILINEAR), dtype=np.float32)


def _cast(mask: np.ndarray, floor: float, ph: float, pw: float, light: Light) -> np.ndarray:
    """Darkness (0..1) of the cast shadow on the low-resolution grid (see the module docstring).

    Each silhouette pixel is splatted (bilinear) to where its shadow falls, so a strong foreshortening does
    not alias into stripes; the coverage is the splatted sum times the mapping's area factor |depth|. The
    shadow is then thickened backwards by the product's footprint (its width, foreshortened): a sideways
    shadow lies on the floor as a band as deep as the product, not as a line.
    """
    theta = math.radians(light.azimuth or 0.0)
    sideways = -math.sin(theta) * CAST_LENGTH
    depth = math.cos(theta) * CAST_LENGTH * FLOOR_FORESHORTENING
    if abs(depth) < MIN_DEPTH:
        depth = MIN_DEPTH if depth >= 0 else -MIN_DEPTH
    rows, cols = np.nonzero(mask > 1e-3)
    weight = mask[rows, cols].astype(np.float64)
    rise = floor - rows.astype(np.float64)  # height above the floor line, in rows
    coverage = _splat(mask.shape, floor - rise * depth, cols + rise * sideways, weight)
    heights = _splat(mask.shape, floor - rise * depth, cols + rise * sideways, weight * np.clip(rise / ph, 0, 1))
    reach = np.where(coverage > 1e-6, heights / np.maximum(coverage, 1e-6), 0.0)
    cast = np.clip(coverage * abs(depth), 0.0, 1.0)
    footprint = round(FOOTPRINT * FLOOR_FORESHORTENING * pw)
    base_cast, base_reach = cast.copy(), reach.copy()
    for shift in range(1, footprint + 1):  # row r is in shadow when the floor point ``shift`` rows nearer is
        cast[:-shift] = np.maximum(cast[:-shift], base_cast[shift:])
        reach[:-shift] = np.maximum(reach[:-shift], base_reach[shift:])
    size = max(pw, ph)
    soft = light.softness
    near = ndimage.gaussian_filter(cast, max(0.5, (0.004 + 0.02 * soft) * size))
    far = ndimage.gaussian_filter(cast, max(1.0, (0.03 + 0.1 * soft) * size))
    spread = np.clip(ndimage.gaussian_filter(reach, max(1.0, 0.02 * size)), 0.0, 1.0)
    shadow = near * (1 - spread) + far * spread
    return np.clip(shadow * CAST_DARKNESS * (1 - soft) * (1 - 0.5 * spread), 0.0, 1.0).astype(np.float32)


def _splat(shape: tuple[int, ...], ys: np.ndarray, xs: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Sum of ``values`` splatted bilinearly at (``ys``, ``xs``) onto a zero grid of ``shape`` (float64)."""
    height, width = shape
    out = np.zeros((height + 1, width + 1), np.float64)
    y0, x0 = np.floor(ys), np.floor(xs)
    fy, fx = ys - y0, xs - x0
    inside = (y0 >= 0) & (y0 < height) & (x0 >= 0) & (x0 < width)
    y0, x0, fy, fx, v = y0[inside].astype(int), x0[inside].astype(int), fy[inside], fx[inside], values[inside]
    for dy, dx, w in ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx), (1, 0, fy * (1 - fx)), (1, 1, fy * fx)):
        np.add.at(out, (y0 + dy, x0 + dx), v * w)
    return out[:height, :width]
