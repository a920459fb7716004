"""Badly exposed photos: the levels of the copy a cut-out model sees, and what a clipped photo hides.

An under-exposed photo (every pixel dark) or an over-exposed one (every pixel lifted, the light parts clipped to
white) squeezes the product and its backdrop into a few levels at one end of the range. A salient-object model
trained on well-exposed photos then loses the parts closest to the backdrop's tone: a white polka dot becomes a
hole in a dark photo, a cream body is cut away in a bright one (breaker11, B11-B; docs/progress/issue-10-quality.md,
"Exposure and frame-cut products, session 12").

Two remedies, each for what it can do:

- :func:`levels` and :meth:`Levels.apply`: the model's copy of the photo stretched back over the whole range
  (a linear map of the photo's own range to 0-255, measured on the whole photo once so that every model pass
  sees the same map). Only the model's input: the refinement, the backdrop model and the product's pixels in the
  output read the photo as it is. Photos whose range is not squeezed are left alone (the identity).
- :func:`clipping`: what no stretch can bring back. Where the backdrop is clipped (every channel at 255, or at
  0) and parts of the product are too, the photo holds no edge between them: the model guessed where the
  product ends, and parts as bright (or dark) as the backdrop may be lost (the teapot's cream body + 120: 3/4 of
  the photo pure white, the body cut away where it was, a tenth of what was kept pure white too). The share of the
  product that is clipped like its backdrop is evidence for the ``exposure`` review reason
  (:data:`.review.EXPOSURE`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from .cutout import alpha_bbox
from .morphology import dilate4, erode4
from .planes import darkest, lightest

# The photo's range: the 0.5th percentile of each pixel's darkest channel to the 99.5th of its lightest (a few
# specular highlights and deep shadows do not count), on a copy of at most SAMPLE_SIDE px.
TAIL = 0.5  # percent at either end
SAMPLE_SIDE = 512
# The range is squeezed (the model's copy is stretched) when the lightest pixels are under DARK_HI (an
# under-exposed photo) or the darkest over BRIGHT_LO (an over-exposed one). Measured on the 80 real photos of
# bench/eval_real.py (realeval comp + photos, shared/cases/photos, long side 512): the lowest 99.5th percentile
# 169, the highest 0.5th 83 (a composite of a chair on a pale wall and table, range 79-169, and a flamingo on a
# pale sweep, 83-245): none is stretched, so their cut-outs are unchanged. The exposure variants that lost parts
# (the teapot x 0.15: 99.5th 38; + 120: 0.5th 120) are.
DARK_HI = 128.0
BRIGHT_LO = 110.0
# ... and only when the photo spans at least MIN_RANGE levels: a flat or nearly flat photo (one grey, a blank
# frame) holds no tones to spread, and mapping its one value to 0 or 255 would erase what little it shows. The
# squeezed variants above span 38 (x 0.15) and 135 (+ 120) levels.
MIN_RANGE = 16.0

CLIPPED = 250  # a pixel is clipped white with every channel at least this (JPEG leaves 250-255 of a flat 255)
CRUSHED = 5  # ... and crushed black with every channel at most this
SIDE = 640  # clipping is measured on the product's box reduced to at most this long side (the analysis grid's)
GAP, RING = 2, 8  # the backdrop around the product: a band RING px wide, GAP px off it (on that grid)
RING_CLIPPED = 0.5  # the backdrop is clipped when at least this share of that band is
# ... and the clipped share counts only where the matte's edge runs through flat clipping (clipped for FLAT px on
# every side) along at least GUESSED of its length: there the photo holds no edge and the model guessed. A white
# product cut out cleanly on a pure-white backdrop has an edge to follow (breaker12, B12-10: the white robot on 255,
# clipped share 0.063, and apples brightened x 1.2, 0.200, both with an edge share of 0.000), where the over-exposed
# variants that lost parts run 0.019-0.11 along it (robot, boat, fork, shoe, blue cat; the teapot + 120, 0.005, is
# told by its washed-out photo instead). Measured at the matte's grid on the variants of
# docs/progress/issue-10-quality.md, "Exposure and frame-cut products, session 12", and breaker12's high-key photos.
FLAT = 2
GUESSED = 0.01


@dataclass(frozen=True)
class Levels:
    """A linear map of the photo's values ``[low, high]`` onto ``[0, 255]`` for the model's copy.

    Attributes:
        low: value mapped to 0 (0 for an under-exposed photo: its blacks stay black).
        high: value mapped to 255 (255 for an over-exposed photo: its clipped whites stay white).
    """

    low: float = 0.0
    high: float = 255.0

    @property
    def identity(self) -> bool:
        """Whether the map changes nothing (a photo whose range is not squeezed)."""
        return self.low == 0.0 and self.high == 255.0

    @property
    def kind(self) -> str | None:
        """``"under"`` or ``"over"`` (the photo's exposure the map corrects), or None for the identity."""
        if self.identity:
            return None
        return "under" if self.low == 0.0 else "over"

    def apply(self, rgb: np.ndarray) -> np.ndarray:
        """``rgb`` (uint8 H x W x C) mapped (a new uint8 array), or ``rgb`` itself for the identity."""
        if self.identity:
            return rgb
        table = np.clip(np.round((np.arange(256) - self.low) * (255.0 / (self.high - self.low))), 0, 255)
        return table.astype(np.uint8)[rgb]


def levels(rgb: np.ndarray) -> Levels:
    """The map that stretches a squeezed photo (uint8 H x W x 3) back over the whole range (module docstring);
    the identity for a photo whose range is not squeezed (:data:`DARK_HI`, :data:`BRIGHT_LO`) or is too narrow to
    spread (:data:`MIN_RANGE`)."""
    low, high = photo_range(rgb)
    if high - low < MIN_RANGE:
        return Levels()
    if high < DARK_HI:
        return Levels(0.0, max(high, 1.0))
    if low > BRIGHT_LO:
        return Levels(min(low, 254.0), 255.0)
    return Levels()


def photo_range(rgb: np.ndarray) -> tuple[float, float]:
    """(low, high): the :data:`TAIL` percentiles of ``rgb``'s (uint8 H x W x 3) darkest and lightest channel
    per pixel, on every n-th pixel (at most :data:`SAMPLE_SIDE` per side)."""
    step = max(1, -(-max(rgb.shape[:2]) // SAMPLE_SIDE))
    sample = rgb[::step, ::step, :3]
    return float(np.percentile(darkest(sample), TAIL)), float(np.percentile(lightest(sample), 100 - TAIL))


@dataclass(frozen=True)
class Clipping:
    """Shares of the product's area (matte > 0.5) that are clipped like the backdrop around it (0 when the
    backdrop there is not clipped: then a clipped highlight cannot be mistaken for it).

    Attributes:
        white: share clipped to pure white (:data:`CLIPPED`) on a backdrop clipped white (over-exposed, or a
            white part on a blown-out white backdrop).
        black: share crushed to pure black (:data:`CRUSHED`) on a backdrop crushed black.
        washed_out: 1.0 when the whole photo is washed out (its darkest pixels over :data:`BRIGHT_LO`:
            :attr:`Levels.kind` "over") and the backdrop around the product clipped white, else 0.0: white parts of
            the product may be lost whole, leaving nothing clipped in what was kept (a cake's cream layers + 120).
    """

    white: float = 0.0
    black: float = 0.0
    washed_out: float = 0.0


def clipping(rgb: np.ndarray, alpha: np.ndarray, view: Levels | None = None) -> Clipping:
    """How much of the product in ``alpha`` (float (h, w) in [0, 1], on a grid covering the same view as ``rgb``,
    uint8 H x W x 3) the photo shows clipped like its backdrop (:class:`Clipping`), measured over the product's
    box reduced to at most :data:`SIDE` px. The backdrop is the band :data:`RING` px wide outside the product
    (:data:`GAP` px off it: its edge is mixed); it is clipped when at least :data:`RING_CLIPPED` of it is.
    ``view``: the photo's :func:`levels` (says whether it is washed out; :func:`levels` of ``rgb`` when None)."""
    box = alpha_bbox(alpha, 0.5)
    if box is None:
        return Clipping()
    h, w = alpha.shape
    margin = max(2, round(0.05 * max(box[2] - box[0], box[3] - box[1])))
    x0, y0 = max(0, box[0] - margin), max(0, box[1] - margin)
    x1, y1 = min(w, box[2] + margin), min(h, box[3] + margin)
    sx, sy = rgb.shape[1] / w, rgb.shape[0] / h
    top, left = int(y0 * sy), int(x0 * sx)
    part = rgb[top : max(top + 1, round(y1 * sy)), left : max(left + 1, round(x1 * sx)), :3]
    k = min(1.0, SIDE / max(x1 - x0, y1 - y0))
    size = max(1, round((x1 - x0) * k)), max(1, round((y1 - y0) * k))
    matte = Image.fromarray(np.ascontiguousarray(alpha[y0:y1, x0:x1], np.float32), "F")
    product = np.asarray(matte.resize(size, Image.Resampling.BOX) if matte.size != size else matte) > 0.5
    photo = Image.fromarray(np.ascontiguousarray(part), "RGB")
    grid = np.asarray(photo.resize(size, Image.Resampling.BOX) if photo.size != size else photo)
    # The cross's shifted ORs and ANDs: scipy's binary_dilation / binary_erosion bit for bit, ~2 ms a call less.
    near = dilate4(product, GAP)
    ring = dilate4(near, RING) & ~near
    area = int(product.sum())
    if area == 0 or not ring.any():
        return Clipping()

    white, black = darkest(grid) >= CLIPPED, lightest(grid) <= CRUSHED
    edge = product & ~erode4(product)

    def share(clipped: np.ndarray) -> float:
        if float(clipped[ring].mean()) < RING_CLIPPED:
            return 0.0
        flat = erode4(clipped, FLAT)
        if (edge & flat).sum() < GUESSED * edge.sum():
            return 0.0
        return float((clipped & product).sum() / area)

    blown = float(white[ring].mean()) >= RING_CLIPPED
    washed = blown and (view or levels(rgb)).kind == "over"
    return Clipping(share(white), share(black), float(washed))
