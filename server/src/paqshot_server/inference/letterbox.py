"""A photo far longer than the model's input set in a letterbox, so the model sees it stretched at most ``MAX_STRETCH``.

A segmentation model takes a fixed size (U²-Net: 320 x 320). A photo of another shape is resized to it, and its
two axes are scaled by different factors: a 40 x 2500 strip is widened 62 times against its height. The model's
answer on such a squashed picture is no longer about the photo: on breaker15's strips (B15-5; a blue block on 80 %
of a 2500 x 40 and a 40 x 2500 JPEG) u2netp kept 69 % of the wide one and 0.7 % of the tall one, though the two
squashed pictures are the same pixels transposed. So past ``MAX_STRETCH`` the photo is resized keeping its stretch
at that limit, centred on a model-sized canvas filled with the colour of the photo's edges beside it (the
backdrop, as :func:`~paqshot_server.imaging.photo_region.backdrop_filled` fills a framed photo's corners), and
the model's map is cut back to the photo's part: the map then covers exactly the photo, as every caller expects.
The segmenter letterboxes only the passes of a photo that is itself past the limit (its crop pass is as long).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

# The most the model's input may stretch one axis against the other. Measured on 48 drawn strips (a block on 80 % of
# the strip or a bar on 24-40 % of it; short sides 12, 40, 100 px; aspects 10, 25, 62.5, 100; both orientations;
# u2netp-int8, ``segment`` at the strip's size; docs/progress/issue-14.md, "Tall strips, …, session 16"). Of the 44
# the door lets in, with no limit 3 were refused, 13 more came out at confidence < 0.05, 9 had IoU < 0.8 with the
# drawn product (mean 0.83); with 4: none refused or under 0.05, 4 under 0.8 (mean 0.96). A first trial (whole-border
# fill) gave with 8 fewer refusals but worse 12 px strips, and with 2 or 1 the long strips too thin on the model's
# grid (IoU down to 0.02). Photos up to 4:1 (every real photo measured: at most 1.78:1) are resized as before.
MAX_STRETCH = 4.0


@dataclass(frozen=True)
class Placement:
    """Where a photo goes on the model's canvas: ``box`` (left, top, right, bottom) in model pixels, and
    ``size`` (height, width), the model's input size."""

    box: tuple[int, int, int, int]
    size: tuple[int, int]

    def crop(self, prob: np.ndarray) -> np.ndarray:
        """The photo's part of the model's map ``prob`` (float (h, w) at ``size``): float (box height, box width)."""
        x0, y0, x1, y1 = self.box
        return np.ascontiguousarray(prob[y0:y1, x0:x1])


def placement(photo: tuple[int, int], model: tuple[int, int], limit: float = MAX_STRETCH) -> Placement | None:
    """Where a photo of ``photo`` (height, width) px goes on a ``model`` (height, width) input so that one axis is
    stretched at most ``limit`` times the other; None when plain resizing stretches it no more (the usual case)."""
    (h, w), (mh, mw) = photo, model
    sx, sy = mw / w, mh / h
    if sx > limit * sy:  # tall: its width would be stretched most
        width = min(mw, max(1, round(limit * sy * w)))
        left = (mw - width) // 2
        return Placement((left, 0, left + width, mh), model)
    if sy > limit * sx:  # wide
        height = min(mh, max(1, round(limit * sx * h)))
        top = (mh - height) // 2
        return Placement((0, top, mw, top + height), model)
    return None


def letterboxed(rgb: np.ndarray, place: Placement) -> np.ndarray:
    """uint8 (model height, model width, 3): ``rgb`` (uint8 (H, W, 3)) resized into ``place.box`` (Lanczos, as the
    model's own preprocessing) on a canvas of the median colour of the photo's two edges that face the fill."""
    x0, y0, x1, y1 = place.box
    mh, mw = place.size
    tall = x1 - x0 < mw
    edges = np.concatenate([rgb[:, 0, :3], rgb[:, -1, :3]]) if tall else np.concatenate([rgb[0, :, :3], rgb[-1, :, :3]])
    canvas = np.empty((mh, mw, 3), np.uint8)
    canvas[:] = np.median(edges, axis=0).astype(np.uint8)
    img = Image.fromarray(np.ascontiguousarray(rgb[..., :3]), "RGB")
    canvas[y0:y1, x0:x1] = np.asarray(img.resize((x1 - x0, y1 - y0), Image.Resampling.LANCZOS, reducing_gap=3.0))
    return canvas
