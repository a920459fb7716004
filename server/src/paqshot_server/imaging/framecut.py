"""A product cut by the photo's frame: the photo holds only part of it (a shoe whose toe leaves the frame).

The packshot lays the cut-out out as if whole, so the frame's straight cut floats mid-canvas (breaker11, B11-F;
docs/progress/issue-10-quality.md, "Exposure and frame-cut products, session 12"). Such a cut shows in the matte as
product solid up to the frame along runs of it, whose ends leave the frame steeply: the product's outline goes
on past the frame. A product that merely comes close does not reach the frame; one that touches it with a rounded
side (a tangent) reaches it along a short run whose ends leave at a glancing angle, and the run widens inward.

A frame may cut a product in several places (three wheels, the rails of a chair's back: breaker12, B12-4), and a
cut through a round part (a toe) leaves it steeply on one end and at a slant on the other: every cut run counts,
and a run is a cut when its two ends together stay within twice the steep reach. A loop cut by the frame (an
armrest) is solid at the frame and opens inward: its outline is its arms' outer sides (breaker13 B13-18).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from .cutout import alpha_bbox

SIDE = 640  # measured on the matte reduced to at most this long side (the refinement's analysis grid)
# A run leaves the frame steeply when, DEPTH inward, the product reaches at most 2 x STEEP times that depth past
# its two ends together (34° from the frame or steeper on average); the depth is DEPTH of the run's length, at
# least MIN_DEPTH px (the matte's edge wavers by a pixel). Measured on 15 real photos cropped so that the frame cuts
# 8-15 % of the product off one side, 1 px into it, or 3 px short of it (docs/progress/issue-10-quality.md,
# "Exposure and frame-cut products, session 12"): a quarter of the run inward (45°) missed a cat and a skate cut
# through their round sides; at 1 px into the product, flat sides (a robot's, a car's) are cut too (up to 0.15 of
# their extent), round ones are not.
STEEP = 1.5
DEPTH = 0.05
MIN_DEPTH = 3
# Runs of product along the frame (and inward) apart by at most BRIDGE px are one run: a sliver of backdrop between
# two wheels, or a seam the matte opened, split the skate cut at 80 % of its height into runs of 42 and 376 px whose
# inner ends each ran on into the other (breaker12, B12-4: frame_cut 0.0 before, 0.88 bridged; session 13).
BRIDGE = 3


def frame_cut(alpha: np.ndarray) -> float:
    """The total length of the runs of product (``alpha`` > 0.5; float (h, w) in [0, 1], the photo's matte on any
    grid) along one side of the frame that leave the frame steeply (module docstring; :data:`STEEP`,
    :data:`DEPTH`), as a share of the product's extent along that side (its box's width for the top and bottom
    sides, its height for the left and right); the largest of the four sides. 0.0 when the product does not reach
    the frame or only touches it at a glancing angle. Measured on a grid of at most :data:`SIDE` px."""
    h, w = alpha.shape
    k = min(1.0, SIDE / max(h, w))
    if k < 1.0:
        size = max(1, round(w * k)), max(1, round(h * k))
        alpha = np.asarray(Image.fromarray(np.asarray(alpha, np.float32), "F").resize(size, Image.Resampling.BOX))
    box = alpha_bbox(alpha, 0.5)
    if box is None:
        return 0.0
    product = alpha > 0.5
    width, height = box[2] - box[0], box[3] - box[1]
    sides = ((product, width), (product[::-1], width), (product.T, height), (product.T[::-1], height))
    return max(_cut_length(view) / extent for view, extent in sides)


def _cut_length(product: np.ndarray) -> int:
    """Total length of the runs of ``product`` (bool (h, w)) in its first row that leave steeply, or 0."""
    edge = _bridged(product[0])
    if not edge.any():
        return 0
    padded = np.concatenate([[False], edge, [False]])
    starts = np.flatnonzero(padded[1:] & ~padded[:-1])
    ends = np.flatnonzero(~padded[1:] & padded[:-1])  # exclusive
    total = 0
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        depth = max(MIN_DEPTH, round(DEPTH * (end - start)))
        if depth < product.shape[0] and _steep(_bridged(product[depth]), start, end, depth):
            total += end - start
    return total


def _bridged(row: np.ndarray) -> np.ndarray:
    """``row`` (bool) with its gaps of at most :data:`BRIDGE` px between product closed (a new array)."""
    inside = np.flatnonzero(row)
    out = row.copy()
    for i in np.flatnonzero((np.diff(inside) > 1) & (np.diff(inside) <= BRIDGE + 1)).tolist():
        out[inside[i] : inside[i + 1]] = True
    return out


def _steep(row: np.ndarray, start: int, end: int, depth: int) -> bool:
    """Whether the product in ``row`` (bool, ``depth`` px inward) under the frame's run [``start``, ``end``) reaches
    at most ``2 * STEEP * depth`` past the run's two ends together (a run at a corner is cut by the other side of the
    frame there: steep). The outline is the outer edges of the runs in ``row`` that overlap the frame's run, so a
    loop cut by the frame (a chair's armrest: solid at the frame, two arms with the loop's opening between them
    inward; breaker13 B13-18) is measured by its arms' outer sides, as a solid part is."""
    under = np.flatnonzero(row[start:end])
    if not under.size:
        return False  # a sliver: the product does not reach that deep anywhere under the run
    outside = np.flatnonzero(~row)
    left = outside[outside < start + int(under[0])]
    right = outside[outside > start + int(under[-1])]
    inner_start = int(left[-1]) + 1 if left.size else 0
    inner_end = int(right[0]) if right.size else row.size
    return (start - inner_start) + (inner_end - end) <= 2 * STEEP * depth
