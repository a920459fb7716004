"""Plate geometry: the plate fitted to the output canvas (cover, floor line kept in frame) and where the product
stands on it (base on the floor line, scaled by the layout rules or the request's ``placement``).

Pure arithmetic on boxes and one resample; property-tested in ``tests/server/plates/test_plate_geometry.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..layout import Box, Placement, margin_px
from ..options import ProductPlacement

EDGE_SHARE = 0.04  # the product keeps this share of the short side from the canvas's edges (as the scenes' layout)
# Where the floor line may sit in the cropped frame (fractions of the height): a crop that would push it
# further out is moved, so a product standing on it stays in the picture with room above.
FLOOR_IN_FRAME = (0.3, 0.92)
FLOOR_SLACK = 0.005  # the fit's float arithmetic and a pixel's rounding: a floor on the band's edge is inside
DEFAULT_FLOOR = 0.78  # a plate whose floor line is neither given nor found: three quarters down, like the scenes
MAX_SILENT_PLATE_UPSCALE = 1.25  # a plate enlarged more than this gets a note (it will look soft)


@dataclass(frozen=True)
class PlateFit:
    """How a plate covers the canvas.

    Attributes:
        crop: (left, top, right, bottom) of the plate, in plate pixels (floats), that fills the canvas.
        scale: canvas pixels per plate pixel.
        floor_y: the floor line on the canvas (row, float).
        area: (left, right) on the canvas (columns, floats) where the product may stand.
    """

    crop: tuple[float, float, float, float]
    scale: float
    floor_y: float
    area: tuple[float, float]

    def describe(self) -> dict[str, object]:
        return {"crop": [round(v, 1) for v in self.crop], "scale": round(self.scale, 4)}


def fit_plate(
    plate_size: tuple[int, int], canvas: tuple[int, int], floor_y: float, area: tuple[float, float]
) -> PlateFit:
    """Cover ``canvas`` with the plate (``plate_size`` px): the largest centred crop of the canvas's ratio, moved
    up or down only as far as keeps the floor line (``floor_y``, a fraction of the plate's height) within
    :data:`FLOOR_IN_FRAME` of the crop. ``area`` is (left, right), fractions of the plate's width."""
    pw, ph = plate_size
    cw, ch = canvas
    scale = max(cw / pw, ch / ph)
    crop_w, crop_h = cw / scale, ch / scale
    left = (pw - crop_w) / 2
    floor_px = floor_y * ph
    top = (ph - crop_h) / 2
    lowest, highest = FLOOR_IN_FRAME
    top = min(max(top, floor_px - highest * crop_h), floor_px - lowest * crop_h)
    top = min(max(top, 0.0), ph - crop_h)
    a0 = (area[0] * pw - left) * scale
    a1 = (area[1] * pw - left) * scale
    return PlateFit(
        crop=(left, top, left + crop_w, top + crop_h),
        scale=scale,
        floor_y=(floor_px - top) * scale,
        area=(max(0.0, a0), min(float(cw), a1)) if a1 > max(0.0, a0) else (0.0, float(cw)),
    )


def floor_outside_frame(fit: PlateFit, canvas: tuple[int, int]) -> float | None:
    """The floor line's height on the canvas (a fraction, 0 top .. 1 bottom) when :func:`fit_plate` could not
    bring it inside :data:`FLOOR_IN_FRAME` (the plate's floor line is too near its own top or bottom for this
    frame: a product standing on it is shrunk to nothing, or stands on the frame's edge), else None."""
    share = fit.floor_y / canvas[1]
    low, high = FLOOR_IN_FRAME
    return None if low - FLOOR_SLACK <= share <= high + FLOOR_SLACK else share


def plate_pixels(image: Image.Image, fit: PlateFit, canvas: tuple[int, int]) -> np.ndarray:
    """uint8 (H, W, 3): the plate's crop resampled to ``canvas`` (Lanczos; the resample reads only the crop)."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    return np.asarray(rgb.resize(canvas, Image.Resampling.LANCZOS, box=fit.crop), dtype=np.uint8).copy()


@dataclass(frozen=True)
class Stand:
    """Where the product stands: its placement, and the floor row its shadow lies on."""

    placement: Placement
    floor_y: int

    def describe(self) -> dict[str, object]:
        width, height = self.placement.canvas
        x0, _y0, x1, y1 = self.placement.dest_box
        return {
            "x": round((x0 + x1) / 2 / width, 4),
            "y": round(y1 / height, 4),
            "scale": round(_fill(self.placement), 4),
            "floor_y": round(self.floor_y / height, 4),
        }


def _fill(placement: Placement) -> float:
    """The share of the limiting side the placed product fills (the inverse of the fill rule)."""
    width, height = placement.canvas
    x0, y0, x1, y1 = placement.dest_box
    return max((x1 - x0) / width, (y1 - y0) / height)


def stand_product(
    bbox: Box,
    fit: PlateFit,
    canvas: tuple[int, int],
    *,
    fill: float,
    centre_x: float,
    placement: ProductPlacement | None = None,
    padding: float | None = None,
) -> Stand:
    """Scale and place the product box ``bbox`` (source pixels) on the plate.

    Layout rules (what ``placement`` leaves out): the product fills ``fill`` of the limiting side (or keeps
    ``padding`` as margin), its centre at ``centre_x`` (fraction of the width) moved into the plate's
    placement area, its base exactly on the floor line; it is shrunk, never moved off the floor, when it would
    reach within :data:`EDGE_SHARE` of the top or the sides.

    ``placement`` fields given win, exactly: ``scale`` is the fill, ``x`` the centre, ``y`` the base row,
    ``floor_y`` the shadow's contact line (default: the base; ``y`` defaults to ``floor_y`` when only that is
    given). An explicit placement may put part of the product outside the canvas (compositing clips).

    Raises:
        ValueError: an empty ``bbox``.
        InvalidRequest: a ``padding`` that leaves no room (as the studio layout).
    """
    width, height = canvas
    bw, bh = bbox[2] - bbox[0], bbox[3] - bbox[1]
    if bw <= 0 or bh <= 0:
        raise ValueError(f"empty product box {bbox}")
    asked = placement or ProductPlacement()
    edge = EDGE_SHARE * min(width, height)
    margin = margin_px(padding, canvas) if asked.scale is None else None
    if asked.y is not None:
        base = asked.y * height
    elif asked.floor_y is not None:
        base = asked.floor_y * height
    else:
        base = fit.floor_y
    floor = asked.floor_y * height if asked.floor_y is not None else base
    if asked.scale is not None:
        scale = min(asked.scale * width / bw, asked.scale * height / bh)
    elif margin is not None:
        scale = min((width - 2 * margin) / bw, (height - 2 * margin) / bh)
    else:
        scale = min(fill * width / bw, fill * height / bh)
    if asked.scale is None:  # keep room above and beside it: shrink rather than lift it off the floor
        room = margin if margin is not None else edge
        scale = min(scale, max(base - room, 1.0) / bh, (width - 2 * room) / bw)
    pw, ph = max(1, round(bw * scale)), max(1, round(bh * scale))
    if asked.x is not None:
        left = round(asked.x * width - pw / 2)
    else:
        a0, a1 = fit.area
        centre = min(max(centre_x * width, a0 + pw / 2), a1 - pw / 2) if a1 - a0 >= pw else (a0 + a1) / 2
        left = int(np.clip(round(centre - pw / 2), edge, max(edge, width - edge - pw)))
    bottom = round(base)
    return Stand(Placement(canvas, bbox, float(scale), (left, bottom - ph, left + pw, bottom)), round(floor))


def outside(placement: Placement) -> bool:
    """Whether part of the placed product box lies outside the canvas."""
    width, height = placement.canvas
    x0, y0, x1, y1 = placement.dest_box
    return x0 < 0 or y0 < 0 or x1 > width or y1 > height
