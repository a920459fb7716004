"""Faint parts: wide parts of the product the model was unsure of that carry the product's structure, and that
the clean-up cut away or left see-through.

A white product part on a light backdrop (white on white: a cake's white stand on a pale grey set) is one the
cut-out model half believes (p 0.4-0.9), and the clean-up then removes much of it as backdrop-coloured or as a
shadow, or leaves it half transparent: the packshot shows a ghostly stand with its pedestal gone, at a confidence
that says nothing of it (0.70). Its colour cannot tell it from the backdrop; its edges can (a stand's rim, its
shading): the backdrop around the product is smooth. And a white part is lighter than a pale set in places, where
a cast shadow, striped as a fork's tines' may be, only darkens it. The measure is evidence for a review reason
(:data:`.review.FAINT_PART`); it changes no pixel.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .morphology import dilate8, erode8

UNSURE = (0.2, 0.9)  # the model's map between these is a part it is unsure of
WIDE = 2  # ... that survives an opening by a (2 x 2 + 1)-pixel square on the analysis grid: not the 1-4 px soft
# band along every outline
EDGE_MIN = 2.0  # a pixel is on an edge where the lightness gradient (per 2 px, CIE L) is at least this and at least
EDGE_RING = 3.0  # ... this many times the 90th percentile of the backdrop ring's (session 4's ``textured_cut``:
# docs/progress/issue-10-quality.md, "Evidence tried")
STRUCTURED = 0.3  # a part carries structure when at least this share of its pixels is on an edge
LIT = 0.1  # ... and is no cast shadow when at least this share of it is lighter than the backdrop (a shadow only
# darkens): the cake's stand 0.26; the forks' and scissors' shadow parts, cut away rightly, at most 0.07 (one of
# 0.9 % of a fork's area at 0.51)
OPAQUE = 0.75  # alpha under this is see-through (the ``translucent`` evidence's limit, :mod:`.confidence`)
EIGHT = ndimage.generate_binary_structure(2, 2)


def faint_share(
    before: np.ndarray, after: np.ndarray, grad: np.ndarray, ring: np.ndarray, lighter: np.ndarray
) -> float:
    """Share of the product's area (``before`` > 0.5) in faint parts: 8-connected regions where ``before`` is
    within :data:`UNSURE`, wide (:data:`WIDE`), with at least :data:`STRUCTURED` of their pixels on an edge
    (``grad`` >= max(:data:`EDGE_MIN`, :data:`EDGE_RING` x the 90th percentile of ``grad`` over ``ring``)) and at
    least :data:`LIT` of them ``lighter``, counting their pixels where ``after`` < :data:`OPAQUE`.

    Args:
        before: float32 (h, w) in [0, 1], the model's map as the clean-up received it (analysis grid).
        after: float32 (h, w) in [0, 1], the clean-up's output on the same grid.
        grad: float32 (h, w), the lightness gradient (:func:`.backdrop.gradient` of CIE L) on the same grid.
        ring: bool (h, w), the sure backdrop around the product that the backdrop model was fitted to.
        lighter: bool (h, w), lighter than the backdrop model by more than its noise (CIE L over its ΔE threshold).

    Returns 0.0 when there is no product, no ring or no such part. Measured on the 79 real photos of
    ``bench/eval_real.py`` with a modelled backdrop or not (docs/progress/issue-10-quality.md, "White on white,
    session 11"): the cake on its white stand 0.044, the good cut-outs at most 0.021 (a red extinguisher's handle
    on a dark set). Without the :data:`LIT` test the forks' tines' shadows, cut away rightly, counted 0.08-0.22.
    """
    area = int((before > 0.5).sum())
    if area == 0 or not ring.any():
        return 0.0
    low, high = UNSURE
    unsure = (before > low) & (before < high)
    wide = dilate8(erode8(unsure, WIDE), WIDE)  # an opening: inside ``unsure``
    labels, count = ndimage.label(wide, EIGHT)
    if count == 0:
        return 0.0
    edges = grad >= max(EDGE_MIN, EDGE_RING * float(np.percentile(grad[ring], 90)))

    def per_part(mask: np.ndarray) -> np.ndarray:  # pixels of ``mask`` in each part (bincount: ~10x sum_labels)
        return np.bincount(labels[wide & mask], minlength=count + 1)[1:]

    size = per_part(wide)
    structured = (per_part(edges) >= STRUCTURED * size) & (per_part(lighter) >= LIT * size)
    return float(per_part(after < OPAQUE)[structured].sum() / area)
