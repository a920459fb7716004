"""Whether an image's own alpha channel is a product's outline (a cut-out) or only frames a photo.

Design tools and phones export photos with alpha channels that are no cut-out: the photo pasted on a larger
transparent canvas, a transparent border, rounded corners, an oval vignette, a feathered edge, a layer at 99 %
or 50 % opacity, a semi-transparent watermark. Their alpha frames the whole photo, backdrop included; taken as
the matte, the backdrop would become "product" (issue-10-quality.md, "An alpha that frames a photo, session 11").
Such a photo is cut out by the segmenter inside the region its alpha leaves visible (:func:`.cutout.cutout`).
"""

from __future__ import annotations

import numpy as np

TRANSPARENT_BELOW = 8  # alpha levels < 8 (3 %) are invisible: a cut-out's background (some tools leave 1-7 there)
SHAPE_ROWS = 0.99  # share of the visible part's rows and columns that must be one unbroken run (a convex frame)
SHAPE_MIRROR = 0.97  # IoU of the visible part with its left-right and its top-bottom mirror image (a frame is
# symmetric both ways; 0.97 keeps a one-pixel rounding of odd sizes and anti-aliased corners: rectangle, rounded
# rectangle and ellipse masks of 40-4000 px measure >= 0.99, the 36 realeval reference cut-outs <= 0.88)


def frames_a_photo(alpha: np.ndarray) -> bool:
    """Whether ``alpha`` (uint8 (H, W), not fully transparent) frames a photo rather than outlining a product.

    It frames a photo when no pixel on the image's edge is transparent (< ``TRANSPARENT_BELOW``: a cut-out's
    background reaches the frame; a partial opacity everywhere or a watermark does not), or when the visible
    part (alpha >= half its maximum) is a convex shape symmetric about both of its axes: a rectangle, a
    rectangle with rounded corners, an ellipse, with or without a soft edge. A product whose own outline is
    such a shape (a box seen square on, a plate from above) is therefore segmented too; :func:`.cutout.cutout`
    keeps the alpha when the segmenter finds the whole region (or nothing inside it).
    """
    edge = np.concatenate([alpha[0], alpha[-1], alpha[:, 0], alpha[:, -1]])
    if int(edge.min()) >= TRANSPARENT_BELOW:
        return True
    visible = visible_part(alpha)
    rows = np.flatnonzero(visible.any(axis=1))
    cols = np.flatnonzero(visible.any(axis=0))
    part = visible[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    if min(_unbroken(part), _unbroken(part.T)) < SHAPE_ROWS:
        return False
    return min(_iou(part, part[:, ::-1]), _iou(part, part[::-1])) >= SHAPE_MIRROR


def visible_part(alpha: np.ndarray) -> np.ndarray:
    """bool (H, W): the pixels of ``alpha`` (uint8 (H, W)) at least half as opaque as its most opaque one (a
    frame's shape whatever its opacity: 254, 128 or a feathered edge)."""
    return alpha.astype(np.uint16) * 2 >= max(int(alpha.max()), 1)


def backdrop_filled(rgba: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3): the colours of ``rgba`` (uint8 (H, W, 4), straight alpha) with every fully transparent
    pixel (alpha 0) set to the median colour of the visible pixels bordering them: the photo's backdrop at its
    frame, so the segmenter sees the photo, not the frame's edge, as the scene to cut the product out of. Every
    pixel with alpha > 0 keeps its colour exactly."""
    rgb = np.array(rgba[..., :3])
    clear = rgba[..., 3] == 0
    if not clear.any():
        return rgb
    near = np.zeros_like(clear)  # 4-neighbours of a clear pixel
    near[1:] |= clear[:-1]
    near[:-1] |= clear[1:]
    near[:, 1:] |= clear[:, :-1]
    near[:, :-1] |= clear[:, 1:]
    ring = near & ~clear
    rgb[clear] = np.median(rgb[ring], axis=0).astype(np.uint8) if ring.any() else 0
    return rgb


def plain_ground(rgba: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3): the colours of ``rgba`` (as :func:`backdrop_filled`) with every fully transparent pixel
    black or white, whichever is farther from the colour bordering them: the visible part set on a plain ground
    that contrasts with its edge, as a product cut-out is seen on a studio backdrop."""
    rgb = backdrop_filled(rgba)
    clear = rgba[..., 3] == 0
    if clear.any():
        rgb[clear] = 0 if int(rgb[clear][0].astype(np.int32).sum()) > 3 * 127 else 255
    return rgb


def _unbroken(mask: np.ndarray) -> float:
    """Share of ``mask``'s rows (bool (h, w)) whose True pixels form one non-empty run."""
    count = mask.sum(axis=1)
    first = mask.argmax(axis=1)
    last = mask.shape[1] - 1 - mask[:, ::-1].argmax(axis=1)
    return float(((count > 0) & (count == last - first + 1)).mean())


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(int((a | b).sum()), 1))
