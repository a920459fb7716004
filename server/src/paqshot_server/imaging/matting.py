"""Matting helpers shared by every segmenter: local colour estimates, the edge-band alpha solve,
guided-filter refinement, full-resolution upsampling and foreground-colour decontamination.

The alpha solve is the colour-line projection of the compositing equation ``I = a F + (1 - a) B``
(linear light) with ``F`` and ``B`` estimated locally from the sure foreground / sure background around
each edge pixel (normalised Gaussian convolution), then regularised with a guided filter (He et al.).
Everything heavy runs at analysis resolution; at full resolution only the thin edge band is touched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from PIL import Image
from scipy import ndimage

from .colour import to_linear, to_srgb8
from .morphology import erode4
from .planes import copy_channels
from .spill import product_sample, spill_strength, suppress_spill

MIN_ANALYSIS_SIDE = 32  # pixels: see analysis_image
SNAP = 0.02  # alpha within SNAP of 0 or 1 is snapped: removes JPEG/sensor noise from flat regions


def analysis_image(rgb: np.ndarray | Image.Image, max_side: int) -> tuple[np.ndarray, float]:
    """Downscale ``rgb`` (uint8 H x W x C, or the decoded PIL image itself: no copy of the whole photo into numpy
    and back) so its long side is <= ``max_side``; return it (uint8 numpy) and the scale.

    The short side stays at least :data:`MIN_ANALYSIS_SIDE` (or the photo's own, if smaller): a very wide or
    tall photo (a belt, a ruler) would otherwise become a strip too thin for the half- and quarter-size grids
    of :func:`local_colours`; its long side then exceeds ``max_side`` (at most 100x, the door's aspect limit).
    An integer box reduction first (fast), then a bilinear resize for the rest.
    """
    w, h = rgb.size if isinstance(rgb, Image.Image) else (rgb.shape[1], rgb.shape[0])
    short = min(h, w)
    max_side = max(max_side, math.ceil(max(h, w) * min(short, MIN_ANALYSIS_SIDE) / short))
    if max(h, w) <= max_side:
        return np.asarray(rgb), 1.0
    factor = max(h, w) // max_side
    if isinstance(rgb, Image.Image):
        img = rgb.reduce(factor) if factor > 1 else rgb
    elif factor > 1:
        img = Image.fromarray(box_reduced(rgb, factor))
    else:
        img = Image.fromarray(rgb)
    if max(img.size) > max_side:
        k = max_side / max(img.size)
        img = img.resize((max(1, round(img.width * k)), max(1, round(img.height * k))), Image.Resampling.BILINEAR)
    return np.asarray(img), img.width / w


def box_reduced(rgb: np.ndarray, factor: int) -> np.ndarray:
    """Pillow's box reduction by ``factor`` of uint8 H x W x C, a band of rows at a time (each a multiple of
    ``factor`` rows: the same boxes, the same values): the whole array is never copied into a Pillow image (a
    10 MP crop's view: 3 + 4 bytes a pixel at once)."""
    rows = factor * max(1, BAND_CHUNK // max(1, rgb.shape[1] * factor))
    bands = [
        np.asarray(Image.fromarray(np.ascontiguousarray(rgb[y : y + rows])).reduce(factor))
        for y in range(0, rgb.shape[0], rows)
    ]
    return np.concatenate(bands) if len(bands) > 1 else bands[0]


def resize_plane(plane: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a float32 (H, W) plane to ``size`` = (width, height), pixel centres aligned."""
    if plane.shape[1] == size[0] and plane.shape[0] == size[1]:
        return plane.astype(np.float32, copy=True)
    img = Image.fromarray(plane.astype(np.float32, copy=False), mode="F")
    resample = Image.Resampling.BILINEAR if size[0] > plane.shape[1] else Image.Resampling.BOX
    return np.array(img.resize(size, resample), dtype=np.float32)


SHIFTED_BOX_MAX = 3  # radius up to which box() sums shifted copies (k adds per axis) instead of calling scipy
SMALL_BOX = 1 << 14  # values below which scipy is faster (the copies cost more than its per-line set-up)


def box(img: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2 radius + 1)² window (per channel for H x W x C), edges replicated; float32 in, float32 out
    (other dtypes: scipy's ``uniform_filter``, same result type as it gives).

    Small windows on float32 sum shifted copies of each channel plane (the result may be a channel-last view
    of channel planes): scipy's running sum walks the interleaved channels line by line and took ~3x longer
    for the matting's windows (radius 1-2 on 192² x 4). The sums are in float32, equal to scipy's
    (double-precision running sum) within float32 rounding.
    """
    k = 2 * radius + 1
    if radius > SHIFTED_BOX_MAX or img.dtype != np.float32 or img.ndim not in (2, 3) or img.size < SMALL_BOX:
        return ndimage.uniform_filter(img, size=(k, k, 1)[: img.ndim], mode="nearest")
    planes = np.moveaxis(img, 2, 0) if img.ndim == 3 else img
    out = _box_sum(_box_sum(planes, radius, -2), radius, -1)
    out *= np.float32(1 / (k * k))
    return np.moveaxis(out, 0, 2) if img.ndim == 3 else out


def _box_sum(planes: np.ndarray, radius: int, axis: int) -> np.ndarray:
    """Sum over 2 radius + 1 neighbours along ``axis`` (edges replicated), as a new C-contiguous array."""
    n = planes.shape[axis]
    widths = [(0, 0)] * planes.ndim
    widths[axis] = (radius, radius)
    padded = np.pad(planes, widths, mode="edge")
    pick = [slice(None)] * planes.ndim
    pick[axis] = slice(0, n)
    out = padded[tuple(pick)].copy()
    for i in range(1, 2 * radius + 1):
        pick[axis] = slice(i, i + n)
        out += padded[tuple(pick)]
    return out


def smooth(plane: np.ndarray, sigma: float) -> np.ndarray:
    """Approximate Gaussian blur (two box passes, cost independent of ``sigma``), edges replicated."""
    radius = max(1, round(np.sqrt(1.5 * sigma * sigma + 0.25) - 0.5))
    return box(box(plane, radius), radius)


def _half(plane: np.ndarray) -> np.ndarray:
    """2x2 mean of a float (H, W[, C]) array (odd last row/column dropped).

    Row pairs first (whole rows: contiguous), then column pairs as the two halves of each pair of pixels:
    ~35% faster than four 2-D strided views; equal within float32 rounding (another order of the sums).
    """
    h, w = plane.shape[0] // 2, plane.shape[1] // 2
    rows = plane[0 : 2 * h : 2, : 2 * w] + plane[1 : 2 * h : 2, : 2 * w]
    channels = math.prod(plane.shape[2:])
    pairs = rows.reshape(h, w, 2 * channels)
    out = pairs[..., :channels] + pairs[..., channels:]
    out *= 0.25
    return out.reshape(h, w, *plane.shape[2:])


@dataclass(frozen=True)
class LocalColours:
    """Foreground and background colour estimates (linear light) near every pixel, on a coarse grid
    (half the resolution of the image they were estimated from); sample them with :meth:`at`."""

    fg: np.ndarray  # (h, w, 3)
    bg: np.ndarray  # (h, w, 3)
    source_shape: tuple[int, int]  # (H, W) of the image the estimates describe

    @cached_property
    def _both(self) -> np.ndarray:
        """F and B side by side (h, w, 6): one bilinear sample gives both (built once: :meth:`at` runs ~6 times)."""
        return np.concatenate([self.fg, self.bg], axis=2)

    def at(self, ys: np.ndarray, xs: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """(F, B) at pixel coordinates ``ys``, ``xs`` of an image of ``shape`` covering the same view."""
        ch, cw = self.fg.shape[:2]
        sy = (ys + 0.5) * (ch / shape[0]) - 0.5
        sx = (xs + 0.5) * (cw / shape[1]) - 0.5
        both = sample(self._both, sy, sx)
        return both[:, :3], both[:, 3:]


def _weighted_mean(image: np.ndarray, weight: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """The ``weight``-weighted local mean of ``image`` (float32 (h, w, C) and (h, w)), Gaussian-like of ``sigma``
    (:func:`smooth`), and the blurred weight; the mean is a channel-last view of channel planes.

    Built and divided plane by plane (:func:`box` sums planes; a product or a quotient broadcast over the
    channels ran per pixel): 2.6 against 3.3 ms on a 192² grid, the same values."""
    channels = image.shape[2]
    stacked = np.empty((channels + 1, *weight.shape), np.float32)
    for k in range(channels):
        np.multiply(image[..., k], weight, out=stacked[k])
    stacked[channels] = weight
    blurred = np.moveaxis(smooth(np.moveaxis(stacked, 0, 2), sigma), 2, 0)
    wsum = blurred[channels]
    return np.moveaxis(blurred[:channels] / np.maximum(wsum, 1e-6), 0, 2), wsum


class ColourGrids:
    """A linear-light image (float32 H x W x 3) on :func:`local_colours`' grids, each computed once, when first read:
    the classical matte estimates its colours twice on the same image (its band widened once)."""

    def __init__(self, linear: np.ndarray) -> None:
        self.linear = linear
        # Half-size grid; a strip one pixel across keeps its own (LocalColours.at maps any grid onto the image).
        self.shrink = _half if min(linear.shape[:2]) >= 2 else np.asarray

    @cached_property
    def coarse(self) -> np.ndarray:
        """The half-size grid."""
        return self.shrink(self.linear)

    @cached_property
    def far(self) -> np.ndarray:
        """The half-size grid halved twice (the wide estimate's)."""
        return _half(_half(self.coarse))


def local_colours(
    linear: np.ndarray | ColourGrids,
    sure_fg: np.ndarray,
    sure_bg: np.ndarray,
    sigma: float,
    where: np.ndarray | None = None,
) -> LocalColours:
    """Estimate F and B near every pixel of ``linear`` (float32 H x W x 3, or its :class:`ColourGrids`) from the
    sure regions (bool H x W; normalised convolution on a half-size grid), widening the kernel where no sure pixel is
    near (only inside ``where``, when given). Any size works, down to a strip one pixel across."""
    grids = linear if isinstance(linear, ColourGrids) else ColourGrids(linear)
    shrink, coarse = grids.shrink, grids.coarse
    need = shrink(where.astype(np.float32)) > 0 if where is not None else None
    out = []
    for sure in (sure_fg, sure_bg):
        weight = shrink(sure.astype(np.float32))
        mean, wsum = _weighted_mean(coarse, weight, sigma / 2)
        thin = wsum < 0.02
        if need is not None:
            thin &= need
        if thin.any() and weight.any():
            # The wide estimate varies slowly: compute it on a grid 4x coarser and sample it (a strip a few
            # pixels across has no coarser grid: there, a kernel 4x wider on this one).
            if min(coarse.shape[:2]) >= 4:
                far, _ = _weighted_mean(grids.far, _half(_half(weight)), sigma / 2)
            else:
                far, _ = _weighted_mean(coarse, weight, 2 * sigma)
            ty, tx = np.nonzero(thin)
            fh, fw = far.shape[:2]
            sy = (ty + 0.5) * (fh / thin.shape[0]) - 0.5
            sx = (tx + 0.5) * (fw / thin.shape[1]) - 0.5
            mean[ty, tx] = sample(far, sy, sx)
        out.append(mean)
    return LocalColours(out[0], out[1], grids.linear.shape[:2])


def project_alpha(
    pixels: np.ndarray, fg: np.ndarray, bg: np.ndarray, min_contrast: float = 0.02, max_residual: float = 0.4
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``I = a F + (1 - a) B`` for ``a`` by projection on the F-B colour line (any leading shape).

    Returns (alpha clipped to [0, 1], reliable). Not reliable: F and B too close for the colour line to
    say anything (white on white), or the pixel far off the line (a highlight or a colour neither F nor
    B explains, relative to ``max_residual`` x |F - B|): callers keep their prior alpha there.
    """
    d = fg - bg
    denom = np.einsum("...c,...c->...", d, d)
    rel = pixels - bg
    num = np.einsum("...c,...c->...", rel, d)
    alpha = np.clip(num / np.maximum(denom, 1e-8), 0.0, 1.0).astype(np.float32)
    off = rel - alpha[..., None] * d
    resid = np.einsum("...c,...c->...", off, off)
    reliable = (denom > min_contrast**2) & (resid < max_residual**2 * denom + 1e-5)
    return alpha, reliable


def guided_coefficients(guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """The guided filter's box-averaged local linear model ``src ≈ A·guide + B`` (He, Sun, Tang 2010): (A, B),
    float32 on the grid of ``guide`` and ``src`` (float H x W each), fitted in (2 radius + 1)² windows."""
    guide = guide.astype(np.float32, copy=False)
    src = src.astype(np.float32, copy=False)
    mean_i = box(guide, radius)
    mean_p = box(src, radius)
    cov_ip = box(guide * src, radius) - mean_i * mean_p
    var_i = box(guide * guide, radius) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return box(a, radius), box(b, radius)


def guided_filter(
    guide: np.ndarray, src: np.ndarray, radius: int, eps: float, guide_full: np.ndarray | None = None
) -> np.ndarray:
    """Grey-guide guided filter (He, Sun, Tang 2010): edge-preserving smoothing of ``src`` along ``guide``.

    The local linear model (:func:`guided_coefficients`) is fitted on ``guide`` and ``src`` (float H x W,
    same grid). With ``guide_full`` (the same view at a higher resolution, float H' x W') A and B are
    upsampled bilinearly and applied to it: the fast guided filter (He & Sun 2015), which brings a
    low-resolution matte to full resolution with its edges on the photo's edges. Returns float32 on
    ``guide_full``'s grid when given, else on ``guide``'s.
    """
    a, b = guided_coefficients(guide, src, radius, eps)
    if guide_full is None:
        return a * guide.astype(np.float32, copy=False) + b
    size = (guide_full.shape[1], guide_full.shape[0])
    return resize_plane(a, size) * guide_full + resize_plane(b, size)


GUIDED_RADIUS = 2  # window radius (low-resolution pixels) of the matte upsampling
GUIDED_EPS = 1e-3  # regularisation: larger keeps the matte as it is, smaller follows the photo harder
SURE = 0.01  # upsampled matte values within this of 0 or 1 are kept as they are


# Edge-band pixels handled at once (guided_upsample, decontaminate): the per-pixel arrays of a 40 MP photo's
# working image, where a scrappy matte leaves millions of pixels unsure, stayed over 100 MB at once.
BAND_CHUNK = 1 << 18


def grey(rgb: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of uint8 RGB (..., 3) as float32 in [0, 1] (the guided filter's guide)."""
    return (rgb[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)) * np.float32(1 / 255)


def guided_upsample(
    alpha_small: np.ndarray,
    rgb: np.ndarray,
    radius: int = GUIDED_RADIUS,
    eps: float = GUIDED_EPS,
    guide_small: np.ndarray | None = None,
) -> np.ndarray:
    """Edge-aware upsampling of a low-resolution matte (float h x w in [0, 1]) to ``rgb``'s resolution
    (uint8 H x W x 3 covering the same view): the fast guided filter (He & Sun 2015; :func:`guided_filter`
    with ``guide_full``), so the matte's edges land on the photo's edges instead of between them.

    Where the plain upsampled matte is sure (within :data:`SURE` of 0 or 1) it stands: the linear model
    would otherwise dent solid interiors where the product's own colours change (a cap on a bottle). So the
    linear model is evaluated only at the unsure pixels (bilinear samples of its box-averaged coefficients,
    what the dense filter's upsampling computes there), and the plain upsampling only inside the box where
    the matte is not 0: at a 2000 x 1500 photo the dense version spent ~90 ms on full-resolution planes that
    were thrown away. ``guide_small``: the guide on ``alpha_small``'s grid (float32 h x w, e.g. :func:`grey` of
    an image already reduced to that grid); by default ``rgb``'s grey box-averaged to it, a full-resolution
    pass (~17 ms at 2000 x 1500). Returns float32 H x W in [0, 1].
    """
    h, w = rgb.shape[:2]
    sh, sw = alpha_small.shape
    alpha_small = alpha_small.astype(np.float32, copy=False)
    if sh >= h and sw >= w:
        return np.clip(resize_plane(alpha_small, (w, h)), 0.0, 1.0)
    plain = np.zeros((h, w), np.float32)
    rows = np.flatnonzero(alpha_small.max(axis=1) > 0)
    if rows.size == 0:
        return plain
    cols = np.flatnonzero(alpha_small.max(axis=0) > 0)
    ky, kx = h / sh, w / sw  # bilinear support: a non-zero small pixel reaches one small pixel around it
    y0, y1 = max(0, int(rows[0] * ky - ky)), min(h, int(np.ceil((rows[-1] + 2) * ky)))
    x0, x1 = max(0, int(cols[0] * kx - kx)), min(w, int(np.ceil((cols[-1] + 2) * kx)))
    img = Image.fromarray(alpha_small, mode="F")
    src = (x0 / kx, y0 / ky, x1 / kx, y1 / ky)
    inner = np.array(img.resize((x1 - x0, y1 - y0), Image.Resampling.BILINEAR, box=src), np.float32)
    np.clip(inner, 0.0, 1.0, out=inner)
    plain[y0:y1, x0:x1] = inner
    # The unsure pixels by their flat index in the box (contiguous: no strided view of the plane), their photo
    # pixels and their place in the plane by flat index too (take, put): 2-D fancy indexing cost ~3x more.
    unsure = inner > SURE
    unsure &= inner < 1.0 - SURE
    at = np.flatnonzero(unsure)
    if at.size == 0:
        return plain
    if guide_small is None:
        guide_small = resize_plane(grey(rgb), (sw, sh))
    a, b = guided_coefficients(guide_small, alpha_small, radius, eps)
    coefficients = np.dstack([a, b])
    pixels = rgb.reshape(h * w, rgb.shape[2]) if rgb.flags.c_contiguous else None
    flat_plain = plain.reshape(-1)
    for start in range(0, at.size, BAND_CHUNK):  # per-pixel arrays stay small however many pixels are unsure
        cy, cx = np.divmod(at[start : start + BAND_CHUNK], x1 - x0)
        cy += y0
        cx += x0
        coef = sample(coefficients, (cy + 0.5) / ky - 0.5, (cx + 0.5) / kx - 0.5)
        flat = cy * w + cx
        colours = rgb[cy, cx] if pixels is None else pixels.take(flat, axis=0)
        flat_plain.put(flat, np.clip(coef[:, 0] * grey(colours) + coef[:, 1], 0.0, 1.0))
    return plain


def snap(alpha: np.ndarray) -> np.ndarray:
    """Snap near-0/near-1 alpha to exact 0/1 in place; returns ``alpha``."""
    alpha[alpha < SNAP] = 0.0
    alpha[alpha > 1.0 - SNAP] = 1.0
    return alpha


def sure_regions(alpha: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """Sure foreground / sure background of an analysis-resolution alpha (eroded by ``radius``)."""
    fg = erode4(alpha > 0.95, radius)
    bg = erode4(alpha < 0.05, radius)
    return fg, bg


def sample(plane: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Bilinear samples (float32) of an (h, w[, c]) array at float coordinates (clamped to the edges)."""
    h, w = plane.shape[:2]
    flat = plane.reshape(h * w, -1).astype(np.float32, copy=False)
    y = np.clip(ys, 0, h - 1).astype(np.float32)
    x = np.clip(xs, 0, w - 1).astype(np.float32)
    y0 = np.minimum(y.astype(np.intp), max(h - 2, 0))
    x0 = np.minimum(x.astype(np.intp), max(w - 2, 0))
    fy = (y - y0)[:, None]
    fx = (x - x0)[:, None]
    dy = w if h > 1 else 0
    dx = 1 if w > 1 else 0
    i00 = y0 * w + x0
    # take, not flat[i]: the same rows, ~4x faster than fancy indexing for rows this narrow; the lerps in place
    # (a + (b - a) f: no temporaries), ~2x faster than (1 - f) a + f b, equal to it within float32 rounding
    top = flat.take(i00, axis=0)
    right = flat.take(i00 + dx, axis=0)
    right -= top
    right *= fx
    top += right
    bot = flat.take(i00 + dy, axis=0)
    right = flat.take(i00 + dy + dx, axis=0)
    right -= bot
    right *= fx
    bot += right
    bot -= top
    bot *= fy
    top += bot
    return top if plane.ndim == 3 else top[:, 0]


def upsample_alpha8(
    alpha_small: np.ndarray, size: tuple[int, int], box: tuple[int, int, int, int] | None = None
) -> np.ndarray:
    """Bilinear upsampling of a float alpha to ``size`` (width, height), as uint8 (0..255).

    With ``box`` (left, top, right, bottom in the ``size`` grid) only that part is computed.
    """
    a8 = Image.fromarray(np.round(alpha_small * 255).astype(np.uint8), mode="L")
    if box is None:
        return np.array(a8.resize(size, Image.Resampling.BILINEAR))
    kx, ky = alpha_small.shape[1] / size[0], alpha_small.shape[0] / size[1]
    src = (box[0] * kx, box[1] * ky, box[2] * kx, box[3] * ky)
    return np.array(a8.resize((box[2] - box[0], box[3] - box[1]), Image.Resampling.BILINEAR, box=src))


@dataclass(frozen=True)
class FullMatte:
    """Full-resolution alpha (float32, whole image) and, over ``box`` only, decontaminated colours +
    alpha as uint8 RGBA."""

    alpha: np.ndarray
    rgba: np.ndarray
    box: tuple[int, int, int, int]


def _unmix(pix: np.ndarray, alpha: np.ndarray, f_loc: np.ndarray, b_loc: np.ndarray) -> np.ndarray:
    """Foreground colour of partially covered pixels (linear light): ``F = B + (I - B) / a``, blended
    towards the local foreground estimate where ``a`` is too small for the division to be stable."""
    a = alpha[:, None]
    solved = np.clip(b_loc + (pix - b_loc) / np.maximum(a, 1e-3), 0.0, 1.0)
    weight = np.clip((a - 0.15) / 0.35, 0.0, 1.0)
    return weight * solved + (1 - weight) * f_loc


def _with_room(image: Image.Image) -> np.ndarray:
    """uint8 (h, w, 4), writable: an RGB image's pixels with a fourth channel to fill (its values unspecified).

    Pillow keeps RGB as 4 bytes a pixel: copied out as they are (raw "RGBX"), not unpacked to 3 bytes a pixel and
    copied into 4 plane by plane (1.5 against 4.2 ms for the packshot bench's 553 x 1527 box, one core)."""
    data = bytearray(image.tobytes("raw", "RGBX"))
    return np.frombuffer(data, np.uint8).reshape(image.height, image.width, 4)


def refine_full(rgb: np.ndarray | Image.Image, alpha_small: np.ndarray, colours: LocalColours) -> FullMatte:
    """Full-resolution matte and foreground from an analysis-resolution alpha and its local colours.

    Bilinear upsampling, then, in the edge band only (0 < a < 1), the colour-line projection with the
    full-resolution pixels (edges get full-resolution detail) and the unmixing of their colours. Only
    the product's box (plus a margin) is touched at full resolution: of a PIL image (mode RGB) only that box
    is read.
    """
    w, h = rgb.size if isinstance(rgb, Image.Image) else (rgb.shape[1], rgb.shape[0])
    sh, sw = alpha_small.shape
    rows = np.flatnonzero(alpha_small.max(axis=1) > 0)
    cols = np.flatnonzero(alpha_small.max(axis=0) > 0)
    alpha = np.zeros((h, w), np.float32)
    if rows.size == 0:
        return FullMatte(alpha, np.zeros((0, 0, 4), np.uint8), (0, 0, 0, 0))
    ky, kx = h / sh, w / sw
    y0, y1 = max(0, int((rows[0] - 1) * ky)), min(h, int(np.ceil((rows[-1] + 2) * ky)))
    x0, x1 = max(0, int((cols[0] - 1) * kx)), min(w, int(np.ceil((cols[-1] + 2) * kx)))
    a8 = upsample_alpha8(alpha_small, (w, h), (x0, y0, x1, y1))
    band = a8 > 0
    band &= a8 < 255
    # Band pixels by their flat index in the box (flatnonzero, take, put): 2-D nonzero and fancy indexing
    # cost ~3x more.
    at = np.flatnonzero(band)
    if isinstance(rgb, Image.Image):
        rgba = _with_room(rgb.crop((x0, y0, x1, y1)))
    else:
        rgba = np.empty((y1 - y0, x1 - x0, 4), np.uint8)
        copy_channels(rgba[..., :3], rgb[y0:y1, x0:x1])
    if at.size:
        ys, xs = np.divmod(at, x1 - x0)
        pixels = rgba.reshape(-1, 4)
        fg, bg = colours.at(ys + y0, xs + x0, (h, w))
        pix = to_linear(pixels.take(at, axis=0)[:, :3])
        prior = a8.reshape(-1).take(at).astype(np.float32) / 255
        proj, ok = project_alpha(pix, fg, bg)
        # The projection decides; the prior bounds how far it may move (a band pixel cannot jump from
        # "mostly background" to solid product because of a stray colour).
        refined = np.where(ok, np.clip(proj, prior - 0.5, prior + 0.5), prior)
        refined[refined < SNAP] = 0.0
        refined[refined > 1 - SNAP] = 1.0
        np.put(a8, at, np.round(refined * 255).astype(np.uint8))
        part = np.flatnonzero(refined < 1)
        fg, bg = fg.take(part, axis=0), bg.take(part, axis=0)
        pixels[at.take(part), :3] = to_srgb8(_unmix(pix.take(part, axis=0), refined.take(part), fg, bg))
    rgba[..., 3] = a8
    alpha[y0:y1, x0:x1] = a8
    alpha[y0:y1, x0:x1] *= np.float32(1 / 255)
    return FullMatte(alpha, rgba, (x0, y0, x1, y1))


def partial_pixels(alpha: np.ndarray) -> np.ndarray:
    """Flat indices (int64, row-major, ascending) of the pixels of ``alpha`` (float H x W in [0, 1]) whose 8-bit
    value is neither 0 nor 255, found a block of rows at a time: no whole-plane temporaries (a 10 MP matte's
    ``alpha * 255`` and masks were 70 MB at once)."""
    h, w = alpha.shape
    rows = max(1, BAND_CHUNK // max(1, w))
    found = []
    for y in range(0, h, rows):
        a8 = alpha[y : y + rows] * np.float32(255)
        found.append(np.flatnonzero((a8 >= 0.5) & (a8 < 254.5)) + y * w)
    return np.concatenate(found) if found else np.zeros(0, np.int64)


def decontaminate(rgb: np.ndarray, alpha: np.ndarray, analysis_side: int = 512) -> np.ndarray:
    """Foreground colours for compositing, for a matte from any segmenter: the original pixels where
    alpha == 1; in the edge band the unmixed colour ``F = B + (I - B) / a`` (linear light) with ``B``
    the local background; on a strongly coloured backdrop (a green screen) the backdrop's hue is then limited in
    them (:mod:`.spill`). No background colour fringes onto a new background. Returns uint8 (H, W, 3).
    """
    out = rgb.copy()
    # Only where the 8-bit alpha is partial: elsewhere it rounds to 0 (never seen) or 255 (the original pixel
    # stands). A model's soft matte is rarely exactly 0 far from the product, and `alpha > 0` took in most of the
    # photo: 0.8 GB of per-pixel arrays for a 2000 x 1500 photo with u2netp (bench/bench_worker_rss.py).
    band = partial_pixels(alpha)
    if band.size == 0:
        return out
    small_rgb, _scale = analysis_image(out, analysis_side)  # ``out`` is still ``rgb``, contiguous
    sh, sw = small_rgb.shape[:2]
    small_alpha = resize_plane(alpha, (sw, sh))
    sure_fg, sure_bg = sure_regions(small_alpha, 1)
    if not sure_fg.any():
        sure_fg = small_alpha > 0.5
    unknown = ~(sure_fg | sure_bg)
    linear = to_linear(small_rgb)
    colours = local_colours(linear, sure_fg, sure_bg, sigma=2.5, where=unknown)
    own = None  # the product's sure colours, for spill suppression (only on a strongly coloured backdrop)
    # Band pixels by flat index (rows of the contiguous copy): 2-D fancy indexing cost ~3x more. A chunk reads
    # its pixels before it writes them, and the chunks are disjoint: each reads the photo's own colours.
    pixels = out.reshape(-1, out.shape[2])
    flat_alpha = alpha.reshape(-1) if alpha.flags.c_contiguous else None
    for start in range(0, band.size, BAND_CHUNK):  # per-pixel float arrays stay ~50 MB however wide the band
        at = band[start : start + BAND_CHUNK]
        cy, cx = np.divmod(at, alpha.shape[1])
        f_loc, b_loc = colours.at(cy, cx, alpha.shape)
        partial = alpha[cy, cx] if flat_alpha is None else flat_alpha.take(at)
        unmixed = _unmix(to_linear(pixels.take(at, axis=0)), partial, f_loc, b_loc)
        # A strongly coloured backdrop: its hue is taken out of the edge colours. Looked for in every 64th pixel first
        # (the CIE conversion of a 60,000-pixel band took ~14 ms; a neutral set, nearly every photo, pays ~0.1).
        if spill_strength(b_loc[::64]).any():
            own = product_sample(linear, sure_fg) if own is None else own
            unmixed = suppress_spill(unmixed, b_loc, own, spill_strength(b_loc))
        pixels[at] = to_srgb8(unmixed)
    return out
