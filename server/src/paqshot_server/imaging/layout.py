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

Box = tuple[int, int, int, int]  # left, top, right (exclusive), bottom (exclusive)


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
    """Margin in pixels for a ``padding`` given as a ratio of the short side (< 1) or as pixels (>= 1)."""
    if padding is None:
        return None
    if padding < 0:
        raise InvalidRequest("padding must be >= 0.")
    short = min(canvas)
    margin = padding * short if padding < 1 else float(padding)
    if 2 * margin >= short - 1:
        raise InvalidRequest(f"padding {padding} leaves no room for the product on a {canvas[0]}x{canvas[1]} canvas.")
    return margin


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
    margin = margin_px(padding, canvas)
    if margin is None:
        if not 0 < fill <= 1:
            raise ValueError("fill must be in (0, 1]")
        avail_w, avail_h = fill * width, fill * height
        margin_x, margin_y = (width - avail_w) / 2, (height - avail_h) / 2
    else:
        avail_w, avail_h = width - 2 * margin, height - 2 * margin
        margin_x = margin_y = margin
    if scale is None:
        scale = min(avail_w / bw, avail_h / bh)
    pw = max(1, round(bw * scale))
    ph = max(1, round(bh * scale))
    left = round(margin_x + anchor[0] * (avail_w - pw) + offset[0])
    top = round(margin_y + anchor[1] * (avail_h - ph) + offset[1])
    return Placement(canvas, bbox, float(scale), (left, top, left + pw, top + ph))
