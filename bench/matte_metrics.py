"""Matte quality metrics shared by the evaluation scripts and the tests.

- IoU of the binary masks ``alpha > 0.5``.
- Alpha MAE: mean absolute alpha error over the whole image (reported in units of 1/255).
- Boundary F-measure: the contour accuracy F of Perazzi et al., "A Benchmark Dataset and Evaluation
  Methodology for Video Object Segmentation" (DAVIS, CVPR 2016), as in its reference code
  (``db_eval_boundary``): boundaries of the two binary masks, a boundary pixel counts as matched when a
  boundary pixel of the other mask lies within ``ceil(0.008 x image diagonal)`` pixels; precision and recall
  are the matched shares, F = 2PR / (P + R). The tolerance is a disk (Euclidean distance transform).
- Edge-colour error ("fringe"): the cut-out and the reference, each composited on white in linear light,
  compared by CIE76 ΔE over the reference's edge band (0.05 < alpha < 0.95, grown by one pixel): backdrop
  colour left in the edges shows up as a fringe on the new background.
- AUROC: probability that a random success scores higher than a random failure (ties count half), i.e.
  the Mann-Whitney U statistic over n_pos x n_neg (Hanley & McNeil 1982).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

BOUNDARY_TOLERANCE = 0.008  # share of the image diagonal (DAVIS)


def iou(alpha: np.ndarray, truth: np.ndarray) -> float:
    """IoU of ``alpha > 0.5`` and ``truth > 0.5`` (float arrays in [0, 1]); 1.0 when both are empty."""
    a, b = alpha > 0.5, truth > 0.5
    union = int((a | b).sum())
    return 1.0 if union == 0 else float((a & b).sum()) / union


def mae255(alpha: np.ndarray, truth: np.ndarray) -> float:
    """Mean absolute alpha error over the whole image, in units of 1/255."""
    return float(np.abs(alpha.astype(np.float32) - truth.astype(np.float32)).mean()) * 255


def _boundary(mask: np.ndarray) -> np.ndarray:
    """One-pixel inner boundary of a binary mask (pixels of the mask with a 4-neighbour outside it)."""
    return mask & ~ndimage.binary_erosion(mask, border_value=0)


def boundary_f(alpha: np.ndarray, truth: np.ndarray, tolerance: float = BOUNDARY_TOLERANCE) -> float:
    """DAVIS boundary F-measure of ``alpha > 0.5`` against ``truth > 0.5`` (see the module docstring)."""
    a, b = alpha > 0.5, truth > 0.5
    ba, bb = _boundary(a), _boundary(b)
    na, nb = int(ba.sum()), int(bb.sum())
    if na == 0 and nb == 0:
        return 1.0
    if na == 0 or nb == 0:
        return 0.0
    h, w = a.shape
    radius = math.ceil(tolerance * math.hypot(h, w))
    near_b = ndimage.distance_transform_edt(~bb) <= radius
    near_a = ndimage.distance_transform_edt(~ba) <= radius
    precision = float((ba & near_b).sum()) / na
    recall = float((bb & near_a).sum()) / nb
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def auroc(scores: list[float], positive: list[bool]) -> float:
    """Area under the ROC curve of ``scores`` for telling positives (True) from negatives (see above)."""
    pos = [s for s, p in zip(scores, positive, strict=True) if p]
    neg = [s for s, p in zip(scores, positive, strict=True) if not p]
    if not pos or not neg:
        return float("nan")
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def fringe(alpha: np.ndarray, colours: np.ndarray, ref_alpha: np.ndarray, ref_colours: np.ndarray) -> float:
    """Mean ΔE76 on white over the reference's edge band (see the module docstring); alphas float in [0, 1],
    colours uint8 H x W x 3 sRGB."""
    from paqshot_server.imaging.colour import linear_to_lab, to_linear

    band = ndimage.binary_dilation((ref_alpha > 0.05) & (ref_alpha < 0.95))
    if not band.any():
        return 0.0

    def on_white(a: np.ndarray, c: np.ndarray) -> np.ndarray:
        a = a[band][:, None]
        return linear_to_lab(a * to_linear(c[band]) + (1 - a))

    diff = on_white(alpha, colours) - on_white(ref_alpha, ref_colours)
    return float(np.sqrt((diff * diff).sum(axis=1)).mean())
