"""A photo on a plain canvas: padded with plain bars (to a square, a border), or pasted into a long plain strip; and
a matte of the photo put back on the whole image's grid (:func:`framed`).

A photo padded with plain bars is the same photo: its cut-out, confidence and review should not change. They did,
because the model saw another picture: padding ``bike.jpg`` (a bike on a boardwalk, 800 x 533) to a white square
showed u2netp the bike unsquashed, its map came back sharper (doubt per outline pixel 3.95 -> 3.45, undecided share
0.24 -> 0.21) and the confidence rose from 0.55, flagged, to 0.62, unflagged, with the same plank kept (breaker16,
B16-4). So the segmenter cuts out the photo inside the bars, and the matte is framed back (:func:`framed`).

A bar is told from a plain backdrop by where it ends: a padded photo's edge is a straight line across the bar (a
row or column mostly unlike the bar), where a product on a plain backdrop begins with its silhouette (a few pixels
of the row). A photo on a plain backdrop is therefore never trimmed to its product.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .segment import Matte

Box = tuple[int, int, int, int]  # left, top, right, bottom in image pixels

# A pixel belongs to a bar when every channel is within this (0-255) of the bar's colour: above JPEG's noise on a
# plain colour at quality 75-92 (a few levels), below a photo's contrast with it.
BAR_TOLERANCE = 24
# The photo's edge: a line with at least this share of its pixels unlike the bar, within EDGE_SEARCH lines of the
# bar's end (a JPEG block's ringing may end the bar up to 7 lines before the photo).
EDGE_SHARE = 0.85
EDGE_SEARCH = 8
# Opposite bars of padding are alike: the narrower at least this share of the wider (a centred photo's differ by a
# pixel of rounding and the JPEG seam; breaker16's pads and a real letterboxed thumbnail, rembg_car-1: 43 and 42 px).
BAR_BALANCE = 0.5
CHUNK = 64  # lines read at a time
STRIDE = 4  # pixels of a line read to find the bar's end
# Bars thinner than this share of the image's side, or than MIN_BAR_PX pixels, are not trimmed (a scanner's or
# camera's dark line, a frame, the 1 px margin of a 12 px strip).
MIN_BAR = 0.02
MIN_BAR_PX = 4


def _bar(lines: np.ndarray, side: int) -> int:
    """How many of ``lines`` (uint8 (n, length, 3): the image's rows or columns from one side inward, of the ``side``
    it has across them) are a plain bar that ends at a photo's straight edge; 0 when they are not one. Read a chunk
    at a time up to the bar's end, by the extremes of every STRIDE-th pixel of each line (a photo on a white backdrop
    scanned to its product's silhouette on each side: ~5 ms at 1536 x 1536, one core)."""
    if len(lines) < MIN_BAR_PX:  # a photo a few pixels across has no room for bars
        return 0
    colour = np.median(lines[0], axis=0).astype(np.int16)
    low = np.clip(colour - BAR_TOLERANCE, 0, 255).astype(np.uint8)
    high = np.clip(colour + BAR_TOLERANCE, 0, 255).astype(np.uint8)
    first = lines[0, ::STRIDE]
    if (first.max(axis=0) > high).any() or (first.min(axis=0) < low).any():
        return 0  # the usual photo: its first line is no bar
    for start in range(0, len(lines), CHUNK):
        block = lines[start : start + CHUNK, ::STRIDE]  # every STRIDE-th pixel: the edge test below reads them all
        plain = ((block.max(axis=1) <= high) & (block.min(axis=1) >= low)).all(axis=1)
        if not plain.all():
            end = start + int(np.argmin(plain))
            break
    else:
        return 0  # plain all the way to the middle: a plain backdrop, no photo's edge
    if end < max(MIN_BAR * side, MIN_BAR_PX):
        return 0
    near = lines[end : end + EDGE_SEARCH].astype(np.int16)
    unlike = (np.abs(near - colour) > BAR_TOLERANCE).any(axis=2).mean(axis=1)
    return end if (unlike >= EDGE_SHARE).any() else 0


def photo_inside_bars(rgb: np.ndarray) -> Box | None:
    """The box (left, top, right, bottom) of the photo inside plain bars on two opposite sides of ``rgb`` (uint8
    (H, W, 3)) or on all four, or None (the usual case). Padding centres the photo: a bar on one side only, or two
    of very different widths (under :data:`BAR_BALANCE`), is no padding; a product's soft shadow on a white backdrop
    made a straight enough "edge" under a skate (``instantmesh_skating_shoe``), with no bar above it."""
    h, w = rgb.shape[:2]
    half_h, half_w = h // 2, w // 2
    top, bottom = _paired(_bar(rgb[:half_h, :, :3], h), _bar(rgb[::-1][:half_h, :, :3], h))
    left, right = _paired(
        _bar(rgb[:, :half_w, :3].transpose(1, 0, 2), w), _bar(rgb[:, ::-1][:, :half_w, :3].transpose(1, 0, 2), w)
    )
    if not (top or left):
        return None
    return left, top, w - right, h - bottom


def _paired(one: int, other: int) -> tuple[int, int]:
    """Two opposite bars' widths, or (0, 0) when they are not a centred pair."""
    return (one, other) if min(one, other) >= BAR_BALANCE * max(one, other) > 0 else (0, 0)


def photo_in_strip(rgb: np.ndarray, limit: float) -> Box | None:
    """The part of a strip longer than ``limit``:1 (uint8 (H, W, 3)) holding every pixel unlike its backdrop (the
    median colour of its two long edges, as the letterbox fills), widened by half its short side at each end (the
    model sees some backdrop around what it is to find) and to at least a square; None when the photo is not that long
    or the part is itself longer than ``limit``:1 (a belt, a ruler: then letterboxed whole, as before; cut to its
    span, a drawn bar's ends came within a margin of the frame and its cut-out lost them, IoU 1.00 -> 0.17).

    A photo pasted into a plain strip need not end at a straight edge (a fork photographed on paper of the strip's
    colour), so past the letterbox's limit the strip's plain ends are cut off whatever the photo's edge. Letterboxed
    whole, such a photo reached the model stretched 4 times and a few pixels long, and the strip's plain ends ruled
    its levels (a fork's 95:1 strip judged over-exposed): the model kept the whole pasted rectangle (a rifle, 0.937,
    unflagged) or a speck (refused; breaker16, B16-13).
    """
    h, w = rgb.shape[:2]
    tall = h > limit * w
    if not tall and w <= limit * h:
        return None
    edges = np.concatenate([rgb[:, 0, :3], rgb[:, -1, :3]]) if tall else np.concatenate([rgb[0, :, :3], rgb[-1, :, :3]])
    backdrop = np.median(edges, axis=0).astype(np.int16)
    unlike = (np.abs(rgb[..., :3].astype(np.int16) - backdrop) > BAR_TOLERANCE).any(axis=2).any(axis=1 if tall else 0)
    where = np.flatnonzero(unlike)
    length, short = (h, w) if tall else (w, h)
    if where.size == 0:
        return None
    start, stop = int(where[0]) - short // 2, int(where[-1]) + 1 + short // 2
    if stop - start < short:
        grow = short - (stop - start)
        start, stop = start - grow // 2, stop + grow - grow // 2
    start, stop = max(0, start), min(length, stop)
    if stop - start > limit * short:  # a long product (a belt, a bar): letterboxed whole, its ends kept in view
        return None
    return (0, start, w, stop) if tall else (start, 0, stop, h)


def framed(matte: Matte, box: Box, size: tuple[int, int]) -> Matte:
    """``matte``, a segmenter's answer for the part ``box`` of an image of ``size`` (height, width), on the whole
    image's grid: alpha 0 and no shadow over the bars. A matte on a reduced grid (``output_scale``) stays on it: the
    whole image is reduced by the same factor. Confidence, reasons and facts are the photo's."""
    alpha, (ox, oy) = _on_whole(matte.alpha, box, size, 0.0)
    inner = matte.box or (0, 0, matte.alpha.shape[1], matte.alpha.shape[0])
    shadow = None if matte.shadow is None else matte.shadow.mapped(lambda layer: _on_whole(layer, box, size, 1.0)[0])
    return replace(matte, alpha=alpha, box=(inner[0] + ox, inner[1] + oy, inner[2] + ox, inner[3] + oy), shadow=shadow)


def _on_whole(plane: np.ndarray, box: Box, size: tuple[int, int], fill: float) -> tuple[np.ndarray, tuple[int, int]]:
    """A plane (float32) on a grid covering ``box`` put on a grid covering the whole image of ``size`` (height,
    width) at the same cell size, ``fill`` over the bars; (the whole plane, the part's offset (x, y) in it)."""
    x0, y0, x1, y1 = box
    h, w = size
    sy, sx = plane.shape[0] / (y1 - y0), plane.shape[1] / (x1 - x0)  # cells per image pixel (1 unless reduced)
    oy, ox = round(y0 * sy), round(x0 * sx)
    shape = (max(oy + plane.shape[0], round(h * sy)), max(ox + plane.shape[1], round(w * sx)))
    whole = np.full(shape, fill, np.float32)
    whole[oy : oy + plane.shape[0], ox : ox + plane.shape[1]] = plane
    return whole, (ox, oy)
