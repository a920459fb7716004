"""The backdrop model shared by the segmenters: a smooth colour surface fitted to sure-background pixels,
the perceptual distance of every pixel to it, and the cast-shadow test.

A quadratic surface in x, y per CIE Lab channel, fitted robustly (iteratively re-weighted least squares,
outliers dropped), models flat colours, sweeps, gradients and vignettes. The classical segmenter fits it to
the frame; the model refinement (:mod:`.refine`) fits it to the ring of sure background around the
product. Distances are CIE76 ΔE with darker lightness weighted less (shading is not a new colour).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BackgroundModel:
    """Quadratic Lab surface fitted to sure-background pixels, with its residual statistics."""

    coeffs: np.ndarray  # (6, 3)
    noise: float  # 95th percentile of inlier residuals, ΔE
    inliers: float  # fraction of border pixels that fit the model

    def evaluate(self, height: int, width: int) -> np.ndarray:
        ys = np.linspace(-1, 1, height, dtype=np.float32)
        xs = np.linspace(-1, 1, width, dtype=np.float32)
        out = np.empty((height, width, 3), np.float32)
        c = self.coeffs.astype(np.float32)
        for ch in range(3):
            k = c[:, ch]
            # k0 + k1 x + k2 y + k3 x² + k4 xy + k5 y², evaluated separably
            row = k[0] + k[1] * xs + k[3] * xs * xs
            out[..., ch] = row[None, :] + (k[2] * ys + k[5] * ys * ys)[:, None] + k[4] * np.outer(ys, xs)
        return out


def gradient(plane: np.ndarray) -> np.ndarray:
    """|d/dy| + |d/dx| by central differences (L1 gradient magnitude, per 2 px)."""
    grad = np.zeros_like(plane)
    grad[1:-1] = np.abs(plane[2:] - plane[:-2])
    grad[:, 1:-1] += np.abs(plane[:, 2:] - plane[:, :-2])
    return grad


def _design(ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    return np.stack([np.ones_like(xs), xs, ys, xs * xs, xs * ys, ys * ys], axis=1)


def border_mask(height: int, width: int, ratio: float) -> np.ndarray:
    """Frame strip used to learn the background."""
    b = max(2, round(ratio * min(height, width)))
    mask = np.zeros((height, width), bool)
    mask[:b] = mask[-b:] = True
    mask[:, :b] = mask[:, -b:] = True
    return mask


def fit_background(lab: np.ndarray, border: np.ndarray) -> BackgroundModel:
    """Robust (iteratively re-weighted) quadratic fit of Lab (H x W x 3) over the pixels of ``border``
    (bool H x W: the frame strip, or any sure-background mask)."""
    h, w = lab.shape[:2]
    ys, xs = np.nonzero(border)
    step = max(1, len(ys) // 2500)  # a few thousand samples pin six coefficients down
    ys, xs = ys[::step], xs[::step]
    design = _design(ys / max(h - 1, 1) * 2 - 1, xs / max(w - 1, 1) * 2 - 1).astype(np.float64)
    values = lab[ys, xs].astype(np.float64)
    # Start from the median colour (robust to a product covering part of the frame), then refit the
    # surface on the pixels that agree with the current model.
    coeffs = np.zeros((6, 3))
    coeffs[0] = np.median(values, axis=0)
    resid = np.linalg.norm(values - coeffs[0], axis=1)
    keep = resid < max(4.0, 2.5 * float(np.median(resid)) + 1.0)
    for _ in range(5):
        if keep.sum() < 12:
            break
        coeffs, *_ = np.linalg.lstsq(design[keep], values[keep], rcond=None)
        resid = np.linalg.norm(values - design @ coeffs, axis=1)
        cut = max(4.0, 3.0 * float(np.median(resid[keep])) + 1.0)
        new_keep = resid < cut
        if (new_keep == keep).all():
            break
        keep = new_keep
    noise = float(np.percentile(resid[keep], 95)) if keep.any() else 0.0
    return BackgroundModel(coeffs, noise, float(keep.mean()))


def backdrop_distance(diff: np.ndarray, dark_weight: float) -> np.ndarray:
    """ΔE76 of Lab differences ``diff`` (pixel - model), lightness scaled by ``dark_weight`` where the
    pixel is darker than the model (shading, not a new colour)."""
    dl = diff[..., 0]
    dl = np.where(dl < 0, dl * dark_weight, dl)
    return np.sqrt(dl * dl + diff[..., 1] * diff[..., 1] + diff[..., 2] * diff[..., 2])


def shade(diff: np.ndarray, ratio: np.ndarray, min_ratio: float) -> np.ndarray:
    """Pixels (bool h x w) as dark as a cast shadow on the backdrop may be: darker than the model (``diff``, Lab
    pixel - model, h x w x 3) and not darker than ``min_ratio`` (the deepest shadow, a luminance ratio) in Lab
    lightness ``ratio`` (h x w: pixel L / model L). Lightness alone: whether their colour is the backdrop's is
    :func:`shadow_candidates`' other test."""
    min_l_ratio = (116 * np.cbrt(min_ratio) - 16) / 100  # Lab L ratio of the deepest shadow
    return (diff[..., 0] < 0) & (ratio > min_l_ratio)


def shadow_candidates(
    diff: np.ndarray,
    lab: np.ndarray,
    expected: np.ndarray,
    grad: np.ndarray,
    threshold: float,
    min_ratio: float,
    max_grad: float | None = None,
    tolerance: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Smooth darkenings of the backdrop that keep its chromaticity (cast shadows), and all such
    darkenings, smooth or not.

    ``min_ratio``: the deepest shadow accepted, as a luminance ratio to the backdrop; the a*/b* tolerance
    scales with ``threshold`` (``tolerance``, ΔE, overrides it); ``grad`` is the L1 lightness gradient
    (:func:`gradient`); a smooth shadow has ``grad`` under ``max_grad`` (default
    ``2 max(2.5, 0.35 threshold)``: above it, an object's outline).
    A multiplicative shadow scales a* and b* roughly with lightness, so the chromaticity test compares
    against the scaled model.
    """
    ratio = lab[..., 0] / np.maximum(expected[..., 0], 1e-3)
    shadow = shade(diff, ratio, min_ratio)
    ea = lab[..., 1] - expected[..., 1] * ratio
    eb = lab[..., 2] - expected[..., 2] * ratio
    tol = max(3.0, 0.5 * threshold) if tolerance is None else tolerance
    shadow &= ea * ea + eb * eb < tol * tol
    darkening = shadow.copy()
    limit = 2 * max(2.5, 0.35 * threshold) if max_grad is None else max_grad
    shadow &= grad < limit  # no edge: a shadow, not an object's outline
    return shadow, darkening
