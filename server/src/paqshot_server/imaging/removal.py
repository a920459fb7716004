"""A "remove" stroke across backdrop the cut-out kept marks the whole of that backdrop region, not only its own
pixels (breaker13 B13-15).

A person repairing a cut-out paints across the paper a loop kept (a scissors' handle); they cannot paint every
pixel of it at the dialog's scale. Forcing only the painted band to background left a white stroke-shaped hole in
the loop's paper, which looked worse than before, while the confidence rose (0.709 -> 0.777, loop paper kept
1.00 -> 0.31 on azure_scissors_9). So before the cut-out, each stroke whose colour is the backdrop's grows to the
region of the photo connected to it in that colour: the opening's paper up to the product's edges around it.
A region that reaches the frame is the open backdrop (the cut-out's to decide): it does not grow.

Only backdrop-coloured strokes grow (a stroke over a strap of the product's own leather removes only the strap's
painted pixels, as it always did), and only over a region they already mostly cover (:data:`COVERED`: a patch
painted on a white label removes that patch, not the label); a "keep" stroke is never overridden, and the grown
region stops a pixel of the analysis grid short of where the colour changes, so the product's rim is left to the
cut-out. A stroke that covers less of such a region (one swipe or a dot across a loop's paper, breaker14 B14-10)
cannot be told from a patch on a label by colour: it removes its own pixels, and the result is flagged
(:attr:`Removals.partly`), since the rest of an opening's old backdrop may be kept around a painted band.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from .colour import srgb8_to_lab

SIDE = 1024  # the region is found on the photo reduced to at most this long side (nearest-neighbour back up)
# ΔE76 from the stroke's median colour within which a pixel is the same backdrop: the paper inside azure_scissors_9's
# loops sits within 6 of its median (p95, shading and JPEG noise), the scissors' grey blades and black handles
# 20 and more away.
SAME = 10.0
# ΔE76 from the backdrop (the median of the photo's border band, BORDER of its short side) within which a stroke's
# median colour is the backdrop's: the loop's paper is 3 from the border's, a brown strap on cream 30 and more.
BACKDROP = 12.0
BORDER = 0.02
MIN_STROKE = 9  # strokes of fewer grid pixels say nothing about a colour
# Share of the region the remove strokes already cover for the rest of it to go (the person painted most of the
# opening; what is left is what the dialog's scale let them miss): breaker13's strokes across scissors_9's big loop
# cover 0.56 of its region; a stroke across a white label on a red box (tests/server/api/test_repair.py, "remove a
# patch of the product") 0.33 of the label, which keeps the rest (session 14, /tmp/fix14b/share.py).
COVERED = 0.45
# What a region with no edge in it (an opening's paper, shaded as it may be) is bounded by: a step of more than EDGE
# ΔE76 between neighbouring grid pixels. Inside scissors_9's big loop the paper steps by less (JPEG noise and
# shading); its dark rim by 30 and more. At 6 the loop's region is the whole opening (7,237 px, looked at); at 8 it
# leaks out to the open backdrop through the rim's thinnest highlight, at 3-4 it breaks into shades.
EDGE = 6.0
# Share of an opening the hint's removal must take for the repair to count as whole (else it is flagged): the five
# strokes across the test's opening take all of it; breaker14's one swipe across scissors_9's loop 0.56.
WHOLE = 0.9


@dataclass(frozen=True)
class Removals:
    """What :func:`grow_removals` made of a hint: ``hint`` (uint8 (H, W)) with the grown regions, and ``partly``:
    the largest share (0-1) of an enclosed backdrop-coloured region that a remove stroke crossed without covering
    most of it and that is therefore not removed (0.0 when there is none)."""

    hint: np.ndarray
    partly: float = 0.0


def grow_removals(hint: np.ndarray, photo: Image.Image, background: int, unknown: int) -> Removals:
    """``hint`` (uint8 (H, W): ``background`` where a person painted "remove", ``unknown`` where the cut-out decides,
    anything else kept as it is) with every backdrop-coloured remove stroke grown to the enclosed region of
    ``photo`` (RGB or RGBA, 8-bit, (W, H) px) connected to it in its colour, where the strokes already cover most
    of that region (module docstring; :data:`SAME`, :data:`BACKDROP`, :data:`COVERED`). A region that reaches the
    frame is the open backdrop, not an opening: it does not grow. The hint is a new array; only ``unknown`` pixels
    change, to ``background``. A region crossed but not mostly covered is reported in :attr:`Removals.partly`.

    Raises:
        ValueError: ``hint`` is not the photo's size.
    """
    height, width = hint.shape
    if photo.size != (width, height):
        raise ValueError(f"hint {hint.shape} does not match the photo {photo.size[::-1]}")
    if not (hint == background).any():
        return Removals(hint)
    k = min(1.0, SIDE / max(height, width))
    size = max(1, round(width * k)), max(1, round(height * k))
    rgb = photo if photo.mode == "RGB" else photo.convert("RGB")  # no copy of a big RGB photo: only the reduced one
    lab = srgb8_to_lab(np.asarray(rgb.resize(size, Image.Resampling.BOX) if k < 1 else rgb))
    strokes = np.asarray(Image.fromarray(hint).resize(size, Image.Resampling.NEAREST)) == background
    backdrop = np.median(lab[_border(lab.shape[:2])], axis=0)
    frame = _border(lab.shape[:2], 1)
    labels, count = ndimage.label(strokes, structure=np.ones((3, 3), bool))
    grown = np.zeros(strokes.shape, bool)
    crossing = np.zeros(strokes.shape, bool)  # the backdrop-coloured strokes
    for stroke in range(1, count + 1):
        painted = labels == stroke
        if painted.sum() < MIN_STROKE:
            continue
        colour = np.median(lab[painted], axis=0)
        if np.linalg.norm(colour - backdrop) > BACKDROP:
            continue
        same = np.linalg.norm(lab - colour, axis=2) <= SAME
        same = ndimage.binary_erosion(same, border_value=1)  # a grid pixel short of every colour change
        regions, _ = ndimage.label(same | painted)
        touched = np.setdiff1d(np.unique(regions[painted]), np.unique(regions[frame]))
        for region in touched[touched > 0].tolist():
            inside = regions == region
            if strokes[inside].mean() >= COVERED:
                grown |= inside
        crossing |= painted
    partly = _crossed(lab, backdrop, crossing, strokes | grown, frame) if crossing.any() else 0.0
    if not grown.any():
        return Removals(hint, partly)
    if k < 1:
        grown = np.asarray(Image.fromarray(grown).resize((width, height), Image.Resampling.NEAREST))
    out = hint.copy()
    out[grown & (hint == unknown)] = background
    return Removals(out, partly)


def _crossed(
    lab: np.ndarray, backdrop: np.ndarray, painted: np.ndarray, removed: np.ndarray, frame: np.ndarray
) -> float:
    """The largest share of an opening that the ``painted`` stroke crosses and the hint's removal (``removed``:
    strokes and grown regions) leaves more than :data:`WHOLE` of (0.0 when none). An opening is a region of the
    photo (``lab``) with no edge in it (:func:`_edges`) that does not reach the frame and
    whose median colour is the ``backdrop``'s (within :data:`BACKDROP`; not the product's own plastic): its colour
    may shade far from the stroke's (scissors_9's loop, bluish white under its rim and grey below, ΔE over 30 within
    the loop), which the colour regions of the growth do not follow."""
    edges = _edges(lab)
    regions, _ = ndimage.label(~edges)
    crossed = np.setdiff1d(np.unique(regions[painted & ~edges]), np.unique(regions[frame]))
    share = 0.0
    for region in crossed[crossed > 0].tolist():
        inside = regions == region
        if np.linalg.norm(np.median(lab[inside], axis=0) - backdrop) > BACKDROP:
            continue
        left = float(1.0 - removed[inside].mean())
        if left > 1.0 - WHOLE and int((inside & ~removed).sum()) >= MIN_STROKE:
            share = max(share, left)
    return share


def _edges(lab: np.ndarray) -> np.ndarray:
    """bool (h, w): the pixels of ``lab`` (float (h, w, 3) CIELAB) more than :data:`EDGE` ΔE76 from a 4-neighbour."""
    step = np.zeros(lab.shape[:2], np.float32)
    across = np.linalg.norm(np.diff(lab, axis=1), axis=2)
    down = np.linalg.norm(np.diff(lab, axis=0), axis=2)
    step[:, 1:] = np.maximum(step[:, 1:], across)
    step[:, :-1] = np.maximum(step[:, :-1], across)
    step[1:] = np.maximum(step[1:], down)
    step[:-1] = np.maximum(step[:-1], down)
    return step > EDGE


def _border(shape: tuple[int, int], band: int | None = None) -> np.ndarray:
    """bool (H, W): the frame's band, ``band`` px wide (default :data:`BORDER` of the short side, at least 1 px)."""
    band = band or max(1, round(BORDER * min(shape)))
    out = np.zeros(shape, bool)
    out[:band], out[-band:], out[:, :band], out[:, -band:] = True, True, True, True
    return out
