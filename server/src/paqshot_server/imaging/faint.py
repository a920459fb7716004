"""Faint parts: wide parts of the product the model was unsure of that carry the product's structure, and that
the clean-up cut away or left see-through; on a pale set, made solid.

A white product part on a light backdrop (white on white: a cake's white stand on a pale grey set) is one the
cut-out model half believes (p 0.4-0.9), and the clean-up then removes much of it as backdrop-coloured or as a
shadow, or leaves it half transparent: the packshot shows a ghostly stand with its pedestal gone, at a confidence
that says nothing of it (0.70). Its colour cannot tell it from the backdrop; its edges can (a stand's rim, its
shading): the backdrop around the product is smooth. And a white part is lighter than a pale set in places, where
a cast shadow, striped as a fork's tines' may be, only darkens it. The measure is evidence for a review reason
(:data:`.review.FAINT_PART`), counted before the repair: on a plain pale set the clean-up makes the parts solid
where the model more than half believed them (:func:`firmed`), which brings back most of the stand's plate but not
all of its rim and pedestal (docs/progress/issue-10-quality.md, "White on white, session 11").
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
PALE = 60.0  # a pale set: the backdrop model's median CIE L over the ring from this (on a dark set a white part is no
# white on white; the two dark-set composites of the real-photo set with a faint part over LARGE: L 16 and 24, the
# cake's set 76)
LARGE = 0.02  # only parts each of at least this share of the product's area (p > 0.5) are made solid: a lost part,
# not a sliver beside a thin product (two forks' light streaks of paper beside the handle: 0.8-0.9 %, made more
# solid when repaired; the largest part on a pale set other than the cake's: 1.5 %; the stand's plate: 4.9 %)
FIRM = (0.3, 0.5)  # the repair's alpha rises from 0 at this model probability to 1 at this (the model's halo of
# 0.2-0.3 around the stand is the set; on forks' handles a ramp from 0.2 left a light fringe of paper)
EIGHT = ndimage.generate_binary_structure(2, 2)


def faint_parts(before: np.ndarray, grad: np.ndarray, ring: np.ndarray, lighter: np.ndarray) -> np.ndarray:
    """bool (h, w): the faint parts, whole: 8-connected regions where ``before`` is within :data:`UNSURE`, wide
    (:data:`WIDE`), with at least :data:`STRUCTURED` of their pixels on an edge (``grad`` >= max(:data:`EDGE_MIN`,
    :data:`EDGE_RING` x the 90th percentile of ``grad`` over ``ring``)) and at least :data:`LIT` of them ``lighter``.
    All False without a ``ring`` or such a part.

    Args:
        before: float32 (h, w) in [0, 1], the model's map as the clean-up received it (analysis grid).
        grad: float32 (h, w), the lightness gradient (:func:`.backdrop.gradient` of CIE L) on the same grid.
        ring: bool (h, w), the sure backdrop around the product that the backdrop model was fitted to.
        lighter: bool (h, w), lighter than the backdrop model by more than its noise (CIE L over its ΔE threshold).
    """
    low, high = UNSURE
    unsure = (before > low) & (before < high)
    wide = dilate8(erode8(unsure, WIDE), WIDE)  # an opening: inside ``unsure``
    labels, count = ndimage.label(wide, EIGHT)
    if count == 0 or not ring.any():
        return np.zeros_like(wide)
    edges = grad >= max(EDGE_MIN, EDGE_RING * float(np.percentile(grad[ring], 90)))

    def per_part(mask: np.ndarray) -> np.ndarray:  # pixels of ``mask`` in each part (bincount: ~10x sum_labels)
        return np.bincount(labels[wide & mask], minlength=count + 1)[1:]

    size = per_part(wide)
    structured = (per_part(edges) >= STRUCTURED * size) & (per_part(lighter) >= LIT * size)
    return np.concatenate([[False], structured])[labels]


def faint_share(before: np.ndarray, after: np.ndarray, parts: np.ndarray) -> float:
    """Share of the product's area (``before`` > 0.5, float32 h x w) in ``parts`` (bool h x w, :func:`faint_parts`)
    where ``after`` (float32 h x w, the clean-up's output) is under :data:`OPAQUE`: cut away or see-through; 0.0
    without a product.

    Measured on the 79 real photos of ``bench/eval_real.py`` with a modelled backdrop or not
    (docs/progress/issue-10-quality.md, "White on white, session 11"): the cake on its white stand 0.044, the good
    cut-outs at most 0.021 (a red extinguisher's handle on a dark set). Without the :data:`LIT` test the forks'
    tines' shadows, cut away rightly, counted 0.08-0.22.
    """
    area = int((before > 0.5).sum())
    return float((parts & (after < OPAQUE)).sum() / area) if area else 0.0


def firmed(before: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """float32 (h, w) alpha that the repair gives the large faint parts (each of at least :data:`LARGE` of the
    product's area, ``before`` > 0.5) of ``parts`` (bool h x w, :func:`faint_parts`), 0 elsewhere: from the model's
    map ``before`` (float32 h x w), 0 up to ``FIRM[0]``, 1 from ``FIRM[1]``, linear between. The clean-up keeps the
    larger of this and its own answer."""
    if not parts.any():  # no part (most photos: the set is not pale, or nothing faint): no labelling to do
        return np.zeros(before.shape, np.float32)
    labels, count = ndimage.label(parts, EIGHT)
    size = np.bincount(labels.ravel(), minlength=count + 1)
    large = size >= LARGE * float((before > 0.5).sum())
    large[0] = False
    low, high = FIRM
    ramp = np.clip((before - np.float32(low)) * np.float32(1 / (high - low)), 0.0, 1.0)
    return np.where(large[labels], ramp, np.float32(0)).astype(np.float32)
