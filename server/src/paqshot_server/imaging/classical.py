"""The classical segmenter: product cut-out with no model weights, for photos on plain-ish backgrounds.

Steps, all at analysis resolution (long side ``analysis_side``) except the last:

1. Background model from the border: a quadratic surface in x, y per Lab channel, fitted robustly
   (iteratively re-weighted, outliers such as a product touching the frame dropped), so flat colours,
   sweeps, gradients and vignettes are modelled. The border residuals give the noise/texture level.
2. Perceptual distance (CIE76 in Lab, lightness weighted less when darker: shading, not a new colour)
   of every (lightly smoothed) pixel to the model; threshold adapted to the border's noise.
3. Shadow tolerance: pixels that are a smooth, chromaticity-preserving darkening of the model (a cast
   shadow) count as background, as long as they are reached without crossing an edge.
4. Background = candidate regions connected to the frame (4-connectivity); enclosed regions stay
   product (a white label on a white product survives) unless they look exactly like the background
   and hold nothing (a hole through a mug handle).
5. Clean-up (specks, tiny components), trimap, and the edge-band matting solve of :mod:`.matting`.
6. Full-resolution alpha: bilinear upsampling plus the colour-line solve on the full-resolution pixels
   of the edge band.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..errors import UnsupportedImage
from .colour import linear_to_lab, to_linear
from .matting import (
    LocalColours,
    analysis_image,
    guided_filter,
    local_colours,
    project_alpha,
    snap,
    sure_regions,
    upsample_refine,
)
from .segment import Matte

FOUR = ndimage.generate_binary_structure(2, 1)
EIGHT = ndimage.generate_binary_structure(2, 2)


@dataclass(frozen=True)
class ClassicalConfig:
    """Tuning of the classical segmenter (defaults chosen on the synthetic evaluation set)."""

    analysis_side: int = 640
    border_ratio: float = 0.02
    min_threshold: float = 6.0  # ΔE76 below which a pixel always matches the background model
    noise_factor: float = 2.2  # threshold = noise_factor * 95th percentile of border residuals
    dark_weight: float = 0.7  # lightness weight when a pixel is darker than the model (shading)
    shadow_min_ratio: float = 0.3  # deepest cast shadow accepted (luminance ratio to the model)
    shadow_chroma_tol: float = 0.025  # chromaticity change a cast shadow may cause
    punch_holes: bool = True
    band_radius: int = 2
    guided_eps: float = 2e-3


@dataclass(frozen=True)
class BackgroundModel:
    """Quadratic Lab surface fitted to the frame, with its residual statistics."""

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
    """Robust (iteratively re-weighted) quadratic fit of Lab over the border pixels."""
    h, w = lab.shape[:2]
    ys, xs = np.nonzero(border)
    design = _design(ys / max(h - 1, 1) * 2 - 1, xs / max(w - 1, 1) * 2 - 1).astype(np.float64)
    values = lab[ys, xs].astype(np.float64)
    keep = np.ones(len(ys), bool)
    coeffs = np.zeros((6, 3))
    resid = np.zeros(len(ys))
    for _ in range(5):
        if keep.sum() < 12:
            # Too few inliers for a surface: a flat colour (median) is the best we can say.
            coeffs = np.zeros((6, 3))
            coeffs[0] = np.median(values[keep] if keep.any() else values, axis=0)
        else:
            coeffs, *_ = np.linalg.lstsq(design[keep], values[keep], rcond=None)
        resid = np.linalg.norm(values - design @ coeffs, axis=1)
        cut = max(4.0, 3.0 * float(np.median(resid[keep])) + 1.0)
        new_keep = resid < cut
        if (new_keep == keep).all():
            break
        keep = new_keep
    noise = float(np.percentile(resid[keep], 95)) if keep.any() else 0.0
    return BackgroundModel(coeffs, noise, float(keep.mean()))


class ClassicalSegmenter:
    """Border-model segmenter (see module docstring). Implements :class:`.segment.Segmenter`."""

    name = "classical"

    def __init__(self, config: ClassicalConfig | None = None) -> None:
        self.config = config or ClassicalConfig()

    def segment(self, rgb: np.ndarray) -> Matte:
        cfg = self.config
        if min(rgb.shape[:2]) < 8:
            raise UnsupportedImage(
                f"no product found: the image is only {rgb.shape[1]}x{rgb.shape[0]} pixels."
            )
        small, scale = analysis_image(rgb, cfg.analysis_side)
        alpha_small, colours, confidence, notes = self.segment_small(small)
        alpha = upsample_refine(rgb, alpha_small, colours, scale)
        return Matte(alpha, confidence, notes)

    def segment_small(self, small: np.ndarray) -> tuple[np.ndarray, LocalColours, float, tuple[str, ...]]:
        """Matte of an analysis-size image; also returns the local colours for full-resolution work."""
        cfg = self.config
        h, w = small.shape[:2]
        linear = to_linear(small)
        smooth = np.empty_like(linear)
        for c in range(3):
            smooth[..., c] = ndimage.gaussian_filter(linear[..., c], 1.0, mode="nearest")
        lab = linear_to_lab(smooth)
        border = border_mask(h, w, cfg.border_ratio)
        model = fit_background(lab, border)
        expected = model.evaluate(h, w)
        threshold = max(cfg.min_threshold, cfg.noise_factor * model.noise)
        dist = self._distance(lab, expected)
        shadow = self._shadow_candidates(smooth, expected, lab, threshold)
        candidates = (dist < threshold) | shadow

        labels, count = ndimage.label(candidates, FOUR)
        edge_labels = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
        is_bg = np.zeros(count + 1, bool)
        is_bg[edge_labels] = True
        is_bg[0] = False
        background = is_bg[labels]
        if cfg.punch_holes:
            background |= self._holes(labels, count, is_bg, dist, threshold)
        fg = self._clean(~background)
        if not fg.any():
            raise UnsupportedImage(
                "no product found: the image looks like plain background "
                "(nothing stands out from the colour at its edges)."
            )
        alpha, colours = self._matte(fg, linear, smooth)
        confidence, notes = self._confidence(model, fg, colours, alpha, threshold)
        return alpha, colours, confidence, notes

    def _distance(self, lab: np.ndarray, expected: np.ndarray) -> np.ndarray:
        diff = lab - expected
        dl = diff[..., 0]
        dl = np.where(dl < 0, dl * self.config.dark_weight, dl)
        return np.sqrt(dl * dl + diff[..., 1] ** 2 + diff[..., 2] ** 2)

    def _shadow_candidates(
        self, linear: np.ndarray, expected_lab: np.ndarray, lab: np.ndarray, threshold: float
    ) -> np.ndarray:
        """Smooth darkenings of the background that keep its chromaticity: cast shadows."""
        cfg = self.config
        lab_l = lab[..., 0]
        ratio_l = lab_l / np.maximum(expected_lab[..., 0], 1e-3)
        # Lab lightness ratio of the deepest accepted shadow (luminance ratio shadow_min_ratio).
        min_l = 116 * np.cbrt(cfg.shadow_min_ratio) - 16
        darker = (ratio_l < 1.0) & (lab_l > min_l * expected_lab[..., 0] / 100)
        # A multiplicative shadow scales a* and b* roughly with lightness: compare against that.
        exp_ab = expected_lab[..., 1:] * ratio_l[..., None]
        ab_err = np.linalg.norm(lab[..., 1:] - exp_ab, axis=2)
        neutral_ok = ab_err < max(3.0, 0.5 * threshold)
        gy = ndimage.sobel(lab_l, axis=0) / 8
        gx = ndimage.sobel(lab_l, axis=1) / 8
        smooth = np.hypot(gx, gy) < max(2.5, 0.35 * threshold)
        return darker & neutral_ok & smooth

    def _holes(
        self, labels: np.ndarray, count: int, is_bg: np.ndarray, dist: np.ndarray, threshold: float
    ) -> np.ndarray:
        """Enclosed candidate regions that are exactly background and hold nothing: see-through holes."""
        if count == 0:
            return np.zeros(labels.shape, bool)
        idx = np.arange(1, count + 1)
        areas = ndimage.sum_labels(np.ones_like(dist), labels, idx)
        medians = ndimage.median(dist, labels, idx)
        min_area = max(12.0, 3e-4 * labels.size)
        picked = np.zeros(count + 1, bool)
        objects = ndimage.find_objects(labels)
        for i, (area, med) in enumerate(zip(areas, medians, strict=True), start=1):
            if is_bg[i] or area < min_area or med > 0.45 * threshold:
                continue
            sl = objects[i - 1]
            if sl is None:
                continue
            region = labels[sl] == i
            filled = ndimage.binary_fill_holes(region)
            if filled.sum() - area <= max(4.0, 0.01 * area):  # holds nothing (no printed text inside)
                picked[i] = True
        return picked[labels]

    def _clean(self, fg: np.ndarray) -> np.ndarray:
        labels, count = ndimage.label(fg, EIGHT)
        if count == 0:
            return fg
        areas = ndimage.sum_labels(np.ones(fg.shape, np.float32), labels, np.arange(1, count + 1))
        keep_min = max(6e-4 * fg.size, 0.03 * float(areas.max()))
        keep = np.concatenate([[False], areas >= keep_min])
        return keep[labels]

    def _matte(self, fg: np.ndarray, linear: np.ndarray, smooth: np.ndarray) -> tuple[np.ndarray, LocalColours]:
        cfg = self.config
        binary = fg.astype(np.float32)
        sure_fg, sure_bg = sure_regions(binary, cfg.band_radius)
        unknown = ~(sure_fg | sure_bg)
        colours = local_colours(linear, sure_fg, sure_bg, sigma=cfg.band_radius + 1.5)
        proj, reliable = project_alpha(linear, colours.fg, colours.bg)
        prior = ndimage.gaussian_filter(binary, 0.7)
        alpha = np.where(sure_fg, 1.0, np.where(sure_bg, 0.0, np.where(reliable, proj, prior)))
        alpha = alpha.astype(np.float32)
        grey = smooth.mean(axis=2) * 0.3 + linear.mean(axis=2) * 0.7
        refined = np.clip(guided_filter(grey, alpha, 1, cfg.guided_eps), 0, 1)
        alpha = np.where(unknown, refined, alpha).astype(np.float32)
        return snap(alpha), colours

    def _confidence(
        self,
        model: BackgroundModel,
        fg: np.ndarray,
        colours: LocalColours,
        alpha: np.ndarray,
        threshold: float,
    ) -> tuple[float, tuple[str, ...]]:
        notes: list[str] = []
        score = 1.0
        if model.inliers < 0.85:
            score *= max(0.2, model.inliers)
            notes.append("the background at the frame is not uniform")
        if threshold > 15:
            score *= max(0.3, 15 / threshold)
            notes.append("the background is textured or noisy")
        area = float(fg.mean())
        if area > 0.85:
            score *= 0.3
            notes.append("the product seems to fill the frame")
        elif area < 0.005:
            score *= 0.5
            notes.append("the product is very small in the frame")
        edge = np.concatenate([fg[0], fg[-1], fg[:, 0], fg[:, -1]])
        touching = float(edge.mean())
        if touching > 0.02:
            score *= max(0.4, 1 - 2 * touching)
            notes.append("the product touches the frame")
        band = (alpha > 0) & (alpha < 1)
        if band.any():
            contrast = np.linalg.norm(colours.fg[band] - colours.bg[band], axis=1)
            low = float((contrast < 0.04).mean())
            if low > 0.25:
                score *= max(0.3, 1 - low)
                notes.append("parts of the product are close to the background colour")
        return float(np.clip(score, 0.0, 1.0)), tuple(notes)
