"""Layout: where the product goes on the canvas and at what scale.

Pure arithmetic on boxes (no pixels), so it is property-tested. A scene engine reuses :func:`place` with
``anchor``/``offset``/``scale`` to put the product off-centre or at a given size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import InvalidRequest
from .options import parse_aspect_ratio

DEFAULT_FILL = 0.82  # the product fills this share of the canvas's limiting side by default
MAX_SILENT_UPSCALE = 2.0  # beyond this, the result says the product was upscaled
# Share of the padding's margin that a shadow or reflection leaves clear at the frame (the rest it may use): a
# default soft shadow sits in the margin below the product as before; a long hard shadow stops short of the edge.
EFFECT_CLEARANCE = 0.25

Box = tuple[int, int, int, int]  # left, top, right (exclusive), bottom (exclusive)
FloatBox = tuple[float, float, float, float]


def exact_canvas_size(aspect_ratio: str, long_side: int) -> tuple[int, int]:
    """Canvas (width, height) for ``aspect_ratio`` whose long side is exactly ``long_side`` pixels.

    The size rule: the long side is exact, the short side is ``long_side * short / long`` rounded to the
    nearest pixel (halves up), so the ratio is off by less than half a pixel of the short side. ``"2:3"`` at
    1024 gives 683x1024, ``"16:9"`` at 2048 gives 2048x1152. Marketplaces state minimum long sides
    (docs/presets.md), so the long side must never shrink to keep a ratio exact.

    Raises:
        ValueError: ``long_side`` < 1.
    """
    if long_side < 1:
        raise ValueError(f"long side must be >= 1 px, got {long_side}")
    rw, rh = parse_aspect_ratio(aspect_ratio)
    short = max(1, math.floor(long_side * min(rw, rh) / max(rw, rh) + 0.5))
    return (long_side, short) if rw >= rh else (short, long_side)


def margin_px(padding: float | None, canvas: tuple[int, int]) -> float | None:
    """Margin in pixels for a ``padding`` given as a ratio of the short side (< 1) or as pixels (>= 1).

    The product keeps at least one pixel of the short side (two margins leave more than 0 px between them).

    Raises:
        InvalidRequest: ``padding`` < 0, or one that leaves no room on ``canvas`` (the message names the
            largest ratio and the largest whole number of pixels that fit).
    """
    if padding is None:
        return None
    if padding < 0:
        raise InvalidRequest("padding must be >= 0.")
    short = min(canvas)
    margin = padding * short if padding < 1 else float(padding)
    if 2 * margin >= short - 1:
        # the largest values with 2 * margin < short - 1, written down to 4 decimals / whole pixels
        most_ratio = math.floor((short - 1) / (2 * short) * 10_000 - 1e-9) / 10_000
        most_px = math.ceil((short - 1) / 2) - 1
        raise InvalidRequest(
            f"padding {padding:g} leaves no room for the product on the {canvas[0]}x{canvas[1]} canvas this request "
            f"asks for: use a share of its short side up to {most_ratio:g}, or up to {most_px} px."
        )
    return margin


def padded_area(canvas: tuple[int, int], padding: float | None, fill: float = DEFAULT_FILL) -> FloatBox:
    """(left, top, right, bottom) canvas px the product's box keeps inside: ``padding`` from every edge (see
    :func:`margin_px`), or for None the centred ``fill`` share of each side.

    Raises:
        InvalidRequest: a padding that leaves no room.
        ValueError: ``fill`` not in (0, 1].
    """
    width, height = canvas
    margin = margin_px(padding, canvas)
    if margin is not None:
        return margin, margin, width - margin, height - margin
    if not 0 < fill <= 1:
        raise ValueError("fill must be in (0, 1]")
    margin_x, margin_y = (1 - fill) * width / 2, (1 - fill) * height / 2
    return margin_x, margin_y, width - margin_x, height - margin_y


@dataclass(frozen=True)
class Placement:
    """The product's bounding box mapped onto a canvas.

    Attributes:
        canvas: (width, height) of the canvas.
        source_box: the product's box in the source image (left, top, right, bottom).
        scale: canvas pixels per source pixel.
        dest_box: integer box the product occupies on the canvas (may reach outside it when an engine
            asks for an offset or scale that does; compositing clips).
    """

    canvas: tuple[int, int]
    source_box: Box
    scale: float
    dest_box: Box

    def map_box(self, box: Box) -> Box:
        """Canvas box (integer) of another source box, in the same mapping (e.g. the whole cut-out)."""
        sx0, sy0 = self.source_box[:2]
        dx0, dy0 = self.dest_box[:2]
        sw = self.source_box[2] - sx0
        sh = self.source_box[3] - sy0
        kx = (self.dest_box[2] - dx0) / sw
        ky = (self.dest_box[3] - dy0) / sh
        left = dx0 + round((box[0] - sx0) * kx)
        top = dy0 + round((box[1] - sy0) * ky)
        right = dx0 + round((box[2] - sx0) * kx)
        bottom = dy0 + round((box[3] - sy0) * ky)
        return left, top, max(right, left + 1), max(bottom, top + 1)

    @property
    def upscaled(self) -> bool:
        return self.scale > MAX_SILENT_UPSCALE


def place(
    bbox: Box,
    canvas: tuple[int, int],
    *,
    padding: float | None = None,
    fill: float = DEFAULT_FILL,
    anchor: tuple[float, float] = (0.5, 0.5),
    offset: tuple[float, float] = (0.0, 0.0),
    scale: float | None = None,
) -> Placement:
    """Fit the product box ``bbox`` (source pixels) onto ``canvas``.

    Args:
        bbox: product bounding box in the source (crop-to-product).
        canvas: (width, height).
        padding: margin on every side, as a ratio of the canvas's short side (< 1) or in pixels (>= 1).
            None: the product fills ``fill`` of the limiting side.
        fill: share of the limiting side the product fills when ``padding`` is None.
        anchor: where the product sits in the free space, (0, 0) top-left .. (1, 1) bottom-right.
        offset: extra shift in canvas pixels (may push the product past the margin).
        scale: force this scale (canvas px per source px) instead of fitting.
    """
    width, height = canvas
    bw = bbox[2] - bbox[0]
    bh = bbox[3] - bbox[1]
    if bw <= 0 or bh <= 0 or width <= 0 or height <= 0:
        raise ValueError(f"empty box {bbox} or canvas {canvas}")
    margin_x, margin_y, right, bottom = padded_area(canvas, padding, fill)
    avail_w, avail_h = right - margin_x, bottom - margin_y
    if scale is None:
        scale = min(avail_w / bw, avail_h / bh)
    pw = max(1, round(bw * scale))
    ph = max(1, round(bh * scale))
    left = round(margin_x + anchor[0] * (avail_w - pw) + offset[0])
    top = round(margin_y + anchor[1] * (avail_h - ph) + offset[1])
    return Placement(canvas, bbox, float(scale), (left, top, left + pw, top + ph))


def effects_area(canvas: tuple[int, int], padding: float | None, fill: float = DEFAULT_FILL) -> FloatBox:
    """(left, top, right, bottom) canvas px the shadow and reflection drawn with the product must keep inside: the
    :func:`padded_area` widened into its margins by ``1 - EFFECT_CLEARANCE``. ``padding`` is the margin around
    the product (the API's definition); its effects may use part of it but never reach the frame."""
    width, height = canvas
    left, top, _, _ = padded_area(canvas, padding, fill)
    mx, my = EFFECT_CLEARANCE * left, EFFECT_CLEARANCE * top
    return mx, my, width - mx, height - my


def place_with_effects(
    placement: Placement, effects: Box, padding: float | None, fill: float = DEFAULT_FILL, inset: float = 0.0
) -> Placement:
    """The product re-placed at the largest scale where it fits :func:`padded_area` and ``effects`` fits
    :func:`effects_area` (made ``inset`` px smaller on every side), as near the padded area's centre as that allows.

    ``effects``: canvas box (px, may reach past the canvas) of what is drawn with the product under
    ``placement`` (its shadow, its reflection). Effects scale with the product, so their reach past the
    product's box is carried over in source pixels. A short shadow in the margin changes nothing; a long one
    (a hard shadow to the right) moves the product away from it and, when that is not enough, shrinks it.
    """
    axes = _axes(placement, effects, padding, fill, inset)
    k = min(
        min(
            (p1 - p0) / size,
            (e1 - p0) / (size + after),
            (p1 - e0) / (before + size),
            (e1 - e0) / (before + size + after),
        )
        for size, before, after, p0, p1, e0, e1 in axes
    )
    # Where nothing fits (a canvas of a few px, narrower than the effects area's inset: k <= 0) the product gets
    # one px on its longer side, as its box below does: a negative scale flipped its layer and the note said it
    # was made "471% smaller" (breaker12 B12-13, a 2x3 px canvas).
    k = max(k, 1 / max(axis[0] for axis in axes))
    box = []
    for size, before, after, p0, p1, e0, e1 in axes:
        length = max(1, round(size * k))
        lowest, highest = max(p0, e0 + before * k), min(p1 - length, e1 - after * k - length)
        start = round(min(max((p0 + p1 - length) / 2, lowest), highest))
        box.append((start, start + length))
    (left, right), (top, bottom) = box
    return Placement(placement.canvas, placement.source_box, k, (left, top, right, bottom))


def shortening(
    placement: Placement,
    effects: Box,
    scale: float,
    padding: float | None,
    fill: float = DEFAULT_FILL,
    inset: float = 0.0,
) -> float:
    """The factor in [0, 1] that ``effects``' reach past the product's box (canvas box under ``placement``, as for
    :func:`place_with_effects`) is to be multiplied by for :func:`place_with_effects` to keep the product at
    ``scale`` (canvas px per source px) or larger: 1 when it does already, 0 when no reach lets it."""
    factor = 1.0
    for size, before, after, p0, p1, e0, e1 in _axes(placement, effects, padding, fill, inset):
        room = size * scale  # the product's length at ``scale``; what each reach may take, in canvas px:
        for reach, free in ((after, e1 - p0), (before, p1 - e0), (before + after, e1 - e0)):
            if reach > 0:
                factor = min(factor, max(0.0, (free - room) / (reach * scale)))
    return factor


def _axes(
    placement: Placement, effects: Box, padding: float | None, fill: float, inset: float
) -> list[tuple[int, float, float, float, float, float, float]]:
    """Per axis (x, then y): the product's source size, the source px ``effects`` reach before and after it, the
    padded area's and the effects area's (made ``inset`` px smaller) start and end in canvas px."""
    src, dest, scale = placement.source_box, placement.dest_box, placement.scale
    product = padded_area(placement.canvas, padding, fill)
    a0, a1, a2, a3 = effects_area(placement.canvas, padding, fill)
    allowed = (a0 + inset, a1 + inset, a2 - inset, a3 - inset)
    axes = []
    for axis in (0, 1):
        size = src[axis + 2] - src[axis]
        before = max(0.0, (dest[axis] - effects[axis]) / scale)  # source px the effects reach before the product
        after = max(0.0, (effects[axis + 2] - dest[axis + 2]) / scale)
        axes.append((size, before, after, product[axis], product[axis + 2], allowed[axis], allowed[axis + 2]))
    return axes


def inside(box: Box, area: FloatBox, slack: float = 1.0) -> bool:
    """Whether ``box`` lies within ``area``, give or take ``slack`` px of rounding."""
    return (
        box[0] >= area[0] - slack
        and box[1] >= area[1] - slack
        and box[2] <= area[2] + slack
        and box[3] <= area[3] + slack
    )


def union(a: Box, b: Box) -> Box:
    """The smallest box holding ``a`` and ``b``."""
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])
