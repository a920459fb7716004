"""Matting helpers shared by every segmenter: local colour estimates, the edge-band alpha solve,
guided-filter refinement, full-resolution upsampling and foreground-colour decontamination.

The alpha solve is the colour-line projection of the compositing equation ``I = a F + (1 - a) B``
(linear light) with ``F`` and ``B`` estimated locally from the sure foreground / sure background around
each edge pixel (normalised Gaussian convolution), then regularised with a guided filter (He et al.).
Everything heavy runs at analysis resolution; at full resolution only the thin edge band is touched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from .colour import to_linear, to_srgb8

SNAP = 0.02  # alpha within SNAP of 0 or 1 is snapped: removes JPEG/sensor noise from flat regions


def analysis_image(rgb: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Downscale ``rgb`` (uint8 H x W x C) so its long side is <= ``max_side``; return it and the scale."""
    h, w = rgb.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale >= 1.0:
        return rgb, 1.0
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    img = Image.fromarray(rgb)
    small = img.resize(size, Image.Resampling.BOX, reducing_gap=2.0)
    return np.asarray(small), size[0] / w


def resize_plane(plane: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a float32 (H, W) plane to ``size`` = (width, height), pixel centres aligned."""
    if plane.shape[1] == size[0] and plane.shape[0] == size[1]:
        return plane.astype(np.float32, copy=True)
    img = Image.fromarray(plane.astype(np.float32, copy=False), mode="F")
    resample = Image.Resampling.BILINEAR if size[0] > plane.shape[1] else Image.Resampling.BOX
    return np.asarray(img.resize(size, resample), dtype=np.float32)


def normalized_blur(
    values: np.ndarray, weights: np.ndarray, sigma: float
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted Gaussian average of ``values`` (H, W, C) with ``weights`` (H, W); returns (mean, weight)."""
    wsum = ndimage.gaussian_filter(weights.astype(np.float32), sigma, mode="nearest")
    out = np.empty(values.shape, np.float32)
    for c in range(values.shape[2]):
        out[..., c] = ndimage.gaussian_filter(values[..., c] * weights, sigma, mode="nearest")
    out /= np.maximum(wsum, 1e-6)[..., None]
    return out, wsum


@dataclass(frozen=True)
class LocalColours:
    """Foreground and background colour estimates (linear light, H x W x 3) around the edge band."""

    fg: np.ndarray
    bg: np.ndarray
    fg_weight: np.ndarray
    bg_weight: np.ndarray


def local_colours(
    linear: np.ndarray, sure_fg: np.ndarray, sure_bg: np.ndarray, sigma: float
) -> LocalColours:
    """Estimate F and B near every pixel from the sure regions, widening the kernel where none is near."""
    fg, fw = normalized_blur(linear, sure_fg.astype(np.float32), sigma)
    bg, bw = normalized_blur(linear, sure_bg.astype(np.float32), sigma)
    wide = 4 * sigma
    for est, weight, sure in ((fg, fw, sure_fg), (bg, bw, sure_bg)):
        thin = weight < 0.02
        if thin.any() and sure.any():
            far, _ = normalized_blur(linear, sure.astype(np.float32), wide)
            est[thin] = far[thin]
    return LocalColours(fg, bg, fw, bw)


def project_alpha(
    pixels: np.ndarray, fg: np.ndarray, bg: np.ndarray, min_contrast: float = 0.02
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``I = a F + (1 - a) B`` for ``a`` by projection on the F-B colour line (any leading shape).

    Returns (alpha clipped to [0, 1], reliable) where reliable is False when F and B are too close for
    the colour line to say anything (white on white): callers keep their prior alpha there.
    """
    d = fg - bg
    denom = np.einsum("...c,...c->...", d, d)
    num = np.einsum("...c,...c->...", pixels - bg, d)
    alpha = np.clip(num / np.maximum(denom, 1e-8), 0.0, 1.0).astype(np.float32)
    return alpha, denom > min_contrast**2


def box(img: np.ndarray, radius: int) -> np.ndarray:
    return ndimage.uniform_filter(img, size=2 * radius + 1, mode="nearest")


def guided_filter(guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """Grey-guide guided filter (He, Sun, Tang 2010): edge-preserving smoothing of ``src`` along ``guide``."""
    guide = guide.astype(np.float32, copy=False)
    src = src.astype(np.float32, copy=False)
    mean_i = box(guide, radius)
    mean_p = box(src, radius)
    cov_ip = box(guide * src, radius) - mean_i * mean_p
    var_i = box(guide * guide, radius) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return box(a, radius) * guide + box(b, radius)


def snap(alpha: np.ndarray) -> np.ndarray:
    """Snap near-0/near-1 alpha to exact 0/1 in place; returns ``alpha``."""
    alpha[alpha < SNAP] = 0.0
    alpha[alpha > 1.0 - SNAP] = 1.0
    return alpha


def sure_regions(alpha: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """Sure foreground / sure background of an analysis-resolution alpha (eroded by ``radius``)."""
    st = ndimage.generate_binary_structure(2, 1)
    fg = ndimage.binary_erosion(alpha > 0.95, st, iterations=radius, border_value=1)
    bg = ndimage.binary_erosion(alpha < 0.05, st, iterations=radius, border_value=1)
    return fg, bg


def _sample(plane: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Bilinear samples of an (h, w[, c]) array at float coordinates."""
    h, w = plane.shape[:2]
    y = np.clip(ys, 0, h - 1)
    x = np.clip(xs, 0, w - 1)
    y0 = np.minimum(y.astype(np.intp), h - 2) if h > 1 else np.zeros_like(y, np.intp)
    x0 = np.minimum(x.astype(np.intp), w - 2) if w > 1 else np.zeros_like(x, np.intp)
    fy = (y - y0) if h > 1 else np.zeros_like(y)
    fx = (x - x0) if w > 1 else np.zeros_like(x)
    y1 = y0 + (1 if h > 1 else 0)
    x1 = x0 + (1 if w > 1 else 0)
    if plane.ndim == 3:
        fy = fy[:, None]
        fx = fx[:, None]
    top = plane[y0, x0] * (1 - fx) + plane[y0, x1] * fx
    bot = plane[y1, x0] * (1 - fx) + plane[y1, x1] * fx
    return (top * (1 - fy) + bot * fy).astype(np.float32)


def upsample_refine(
    rgb: np.ndarray, alpha_small: np.ndarray, colours: LocalColours | None, scale: float
) -> np.ndarray:
    """Full-resolution alpha from an analysis-resolution one.

    Bilinear upsampling, then, in the edge band only (0 < a < 1), the colour-line projection with the
    full-resolution pixel and the locally estimated F/B (so edges get full-resolution detail).
    """
    h, w = rgb.shape[:2]
    alpha = resize_plane(alpha_small, (w, h))
    snap(alpha)
    if colours is None or scale >= 1.0:
        return alpha
    band = (alpha > 0) & (alpha < 1)
    ys, xs = np.nonzero(band)
    if ys.size == 0:
        return alpha
    sy = (ys + 0.5) * (alpha_small.shape[0] / h) - 0.5
    sx = (xs + 0.5) * (alpha_small.shape[1] / w) - 0.5
    fg = _sample(colours.fg, sy, sx)
    bg = _sample(colours.bg, sy, sx)
    pix = to_linear(rgb[ys, xs])
    proj, ok = project_alpha(pix, fg, bg)
    prior = alpha[ys, xs]
    # The projection decides the value; the prior bounds how far it may move (a band pixel cannot jump
    # from "mostly background" to solid product because of a stray colour).
    refined = np.where(ok, np.clip(proj, prior - 0.5, prior + 0.5), prior)
    alpha[ys, xs] = refined
    return snap(alpha)


def decontaminate(rgb: np.ndarray, alpha: np.ndarray, analysis_side: int = 512) -> np.ndarray:
    """Foreground colours for compositing: the original pixels where alpha == 1, and in the edge band
    ``F = B + (I - B) / a`` (linear light) with ``B`` the local background, blended towards the local
    foreground colour where alpha is too small for the division to be stable. No background colour
    fringes onto a new background. Returns uint8 (H, W, 3).
    """
    out = rgb.copy()
    band = (alpha > 0) & (alpha < 1)
    ys, xs = np.nonzero(band)
    if ys.size == 0:
        return out
    small_rgb, scale = analysis_image(rgb, analysis_side)
    sh, sw = small_rgb.shape[:2]
    small_alpha = resize_plane(alpha, (sw, sh))
    sure_fg, sure_bg = sure_regions(small_alpha, 1)
    if not sure_fg.any():
        sure_fg = small_alpha > 0.5
    colours = local_colours(to_linear(small_rgb), sure_fg, sure_bg, sigma=2.5)
    h, w = alpha.shape
    sy = (ys + 0.5) * (sh / h) - 0.5
    sx = (xs + 0.5) * (sw / w) - 0.5
    f_loc = _sample(colours.fg, sy, sx)
    b_loc = _sample(colours.bg, sy, sx)
    a = alpha[ys, xs][:, None]
    pix = to_linear(rgb[ys, xs])
    solved = np.clip(b_loc + (pix - b_loc) / np.maximum(a, 1e-3), 0.0, 1.0)
    weight = np.clip((a - 0.15) / 0.35, 0.0, 1.0)
    fg = weight * solved + (1 - weight) * f_loc
    out[ys, xs] = to_srgb8(fg)
    return out
