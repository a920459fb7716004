"""Synthetic evaluation set for product cut-outs, with exact ground-truth alpha.

Product-like objects (rendered with supersampled, optionally defocused edges; holes; thin parts; glossy
highlights; white-on-white) are composited in linear light over five background families (white, grey,
gradient, lightly textured, noisy) with a soft contact shadow, then JPEG-compressed. Deterministic for a
given seed. Used by ``bench/eval_cutout.py`` (as ``bench/evalset.py``), by the test suite's IoU floor, and as the
calibration set of the int8 cut-out model (:mod:`..inference.quantize`: no photo from anywhere is needed).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

FAMILIES = ("white", "grey", "gradient", "textured", "noisy")
OBJECTS = ("bottle", "mug", "ring", "lamp", "white_box", "ball", "plush")
SUPERSAMPLE = 2


@dataclass(frozen=True)
class Sample:
    """One evaluation image: the JPEG-compressed photo and its exact alpha."""

    name: str
    family: str
    obj: str
    image: Image.Image  # RGB, after JPEG round trip
    alpha: np.ndarray  # float32 (H, W) ground truth


def _lin(rgb: tuple[float, float, float] | np.ndarray) -> np.ndarray:
    v = np.asarray(rgb, np.float64) / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def _srgb(lin: np.ndarray) -> np.ndarray:
    v = np.clip(lin, 0, 1)
    s = np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055)
    return np.clip(np.round(s * 255), 0, 255).astype(np.uint8)


class Canvas:
    """Normalised coordinates (u right, v down, both in units of the width) on a supersampled grid.

    Shapes are evaluated only inside their bounding window, so rendering stays fast.
    """

    def __init__(self, width: int, height: int) -> None:
        self.w, self.h = width, height
        ss = SUPERSAMPLE
        self.shape = (height * ss, width * ss)
        self.u1 = (np.arange(width * ss, dtype=np.float32) + 0.5) / (width * ss)
        self.v1 = (np.arange(height * ss, dtype=np.float32) + 0.5) / (width * ss)

    @property
    def u(self) -> np.ndarray:
        return np.broadcast_to(self.u1[None, :], self.shape)

    @property
    def v(self) -> np.ndarray:
        return np.broadcast_to(self.v1[:, None], self.shape)

    def down(self, hi: np.ndarray) -> np.ndarray:
        """Box-average a supersampled plane (or H x W x C) to the output grid."""
        ss = SUPERSAMPLE
        shape = (self.h, ss, self.w, ss, *hi.shape[2:])
        return hi.reshape(shape).mean(axis=(1, 3)).astype(np.float32)

    def _window(self, u0: float, v0: float, u1: float, v1: float) -> tuple[slice, slice, np.ndarray, np.ndarray]:
        su = slice(int(np.searchsorted(self.u1, u0)), int(np.searchsorted(self.u1, u1)))
        sv = slice(int(np.searchsorted(self.v1, v0)), int(np.searchsorted(self.v1, v1)))
        return sv, su, self.v1[sv][:, None], self.u1[su][None, :]

    def _paint(
        self, fn: Callable[[np.ndarray, np.ndarray], np.ndarray], u0: float, v0: float, u1: float, v1: float
    ) -> np.ndarray:
        out = np.zeros(self.shape, bool)
        sv, su, vv, uu = self._window(u0, v0, u1, v1)
        if vv.size and uu.size:
            out[sv, su] = fn(uu, vv)
        return out

    def rect(self, u0: float, v0: float, u1: float, v1: float, r: float = 0.0) -> np.ndarray:
        cu, cv = (u0 + u1) / 2, (v0 + v1) / 2
        hu, hv = (u1 - u0) / 2 - r, (v1 - v0) / 2 - r

        def fn(uu: np.ndarray, vv: np.ndarray) -> np.ndarray:
            qu = np.abs(uu - cu) - hu
            qv = np.abs(vv - cv) - hv
            outside = np.hypot(np.maximum(qu, 0), np.maximum(qv, 0))
            inside = np.minimum(np.maximum(qu, qv), 0)
            return (outside + inside - r) <= 0

        return self._paint(fn, u0, v0, u1, v1)

    def ellipse(self, cu: float, cv: float, ru: float, rv: float) -> np.ndarray:
        return self._paint(
            lambda uu, vv: ((uu - cu) / ru) ** 2 + ((vv - cv) / rv) ** 2 <= 1, cu - ru, cv - rv, cu + ru, cv + rv
        )

    def annulus(self, cu: float, cv: float, r_out: float, r_in: float) -> np.ndarray:
        def fn(uu: np.ndarray, vv: np.ndarray) -> np.ndarray:
            d = np.hypot(uu - cu, vv - cv)
            return (d <= r_out) & (d >= r_in)

        return self._paint(fn, cu - r_out, cv - r_out, cu + r_out, cv + r_out)

    def poly(self, points: list[tuple[float, float]]) -> np.ndarray:
        """Convex polygon, points in order."""
        us = [p[0] for p in points]
        vs = [p[1] for p in points]
        n = len(points)
        (ax, ay), (bx, by), (cx, cy) = points[0], points[1], points[2]
        sign = 1 if (bx - ax) * (cy - ay) - (by - ay) * (cx - ax) > 0 else -1

        def fn(uu: np.ndarray, vv: np.ndarray) -> np.ndarray:
            inside = np.ones(np.broadcast_shapes(uu.shape, vv.shape), bool)
            for i in range(n):
                (x0, y0), (x1, y1) = points[i], points[(i + 1) % n]
                inside &= ((x1 - x0) * (vv - y0) - (y1 - y0) * (uu - x0)) * sign >= 0
            return inside

        return self._paint(fn, min(us), min(vs), max(us), max(vs))


def _shade_cylinder(c: Canvas, u0: float, u1: float, base: tuple[int, int, int], gloss: float) -> np.ndarray:
    """Colour (broadcast to the canvas) of a vertical cylinder between u0 and u1, with a specular stripe."""
    t = np.clip((c.u1 - u0) / max(u1 - u0, 1e-6), 0, 1) * 2 - 1  # -1..1 across
    diffuse = 0.35 + 0.75 * np.sqrt(np.clip(1 - t * t, 0, 1))
    col = _lin(base)[None, :] * diffuse[:, None]
    spec = gloss * np.exp(-(((t + 0.45) / 0.09) ** 2))
    row = (col + spec[:, None]).astype(np.float32)
    return np.broadcast_to(row[None, :, :], (*c.shape, 3))


def _render(obj: str, c: Canvas, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(colour linear hi-res H x W x 3, mask hi-res bool) of one object, jittered by ``rng``."""
    du, dv = rng.uniform(-0.05, 0.05, 2)
    col = np.zeros((*c.u.shape, 3), np.float32)
    if obj == "bottle":
        body = c.rect(0.37 + du, 0.38 + dv, 0.63 + du, 0.88 + dv, 0.05)
        shoulder = c.ellipse(0.5 + du, 0.40 + dv, 0.13, 0.08)
        neck = c.rect(0.455 + du, 0.2 + dv, 0.545 + du, 0.4 + dv, 0.01)
        cap = c.rect(0.445 + du, 0.14 + dv, 0.555 + du, 0.22 + dv, 0.01)
        mask = body | shoulder | neck | cap
        col[:] = _shade_cylinder(c, 0.37 + du, 0.63 + du, (40, 110, 60), 0.9)
        col[cap] = _shade_cylinder(c, 0.445 + du, 0.555 + du, (30, 30, 34), 0.4)[cap]
        label = c.rect(0.37 + du, 0.55 + dv, 0.63 + du, 0.75 + dv)
        col[label] = _shade_cylinder(c, 0.37 + du, 0.63 + du, (242, 238, 228), 0.1)[label]
        for k in range(4):
            bar = c.rect(0.42 + du, 0.59 + 0.035 * k + dv, 0.58 - 0.03 * k + du, 0.6 + 0.035 * k + dv)
            col[bar] = _lin((40, 40, 50))
    elif obj == "mug":
        body = c.rect(0.28 + du, 0.35 + dv, 0.62 + du, 0.8 + dv, 0.03)
        handle = c.annulus(0.62 + du, 0.575 + dv, 0.13, 0.075) & (c.u > 0.6 + du)
        mask = body | handle
        col[:] = _shade_cylinder(c, 0.28 + du, 0.62 + du, (185, 40, 40), 0.7)
        col[handle] = _lin((150, 30, 30))
    elif obj == "ring":
        mask = c.annulus(0.5 + du, 0.5 + dv, 0.3, 0.15)
        d = np.hypot(c.u - (0.5 + du), c.v - (0.5 + dv))
        ang = np.arctan2(c.v - 0.5 - dv, c.u - 0.5 - du)
        shade = 0.55 + 0.45 * np.cos(ang + 2.2)
        col[:] = _lin((205, 165, 60))[None, None, :] * shade[..., None]
        col += (0.8 * np.exp(-(((d - 0.225) / 0.02) ** 2)) * np.clip(np.cos(ang + 2.2), 0, 1) ** 8)[..., None]
    elif obj == "lamp":
        shade = c.poly([(0.36 + du, 0.14 + dv), (0.64 + du, 0.14 + dv), (0.72 + du, 0.36 + dv), (0.28 + du, 0.36 + dv)])
        stem = c.rect(0.496 + du, 0.35 + dv, 0.504 + du, 0.82 + dv)
        wire = (
            (np.abs(c.u - (0.56 + du) - 0.08 * np.sin((c.v - dv) * 9)) < 0.0025) & (c.v > 0.5 + dv) & (c.v < 0.84 + dv)
        )
        base = c.rect(0.36 + du, 0.8 + dv, 0.64 + du, 0.86 + dv, 0.02)
        mask = shade | stem | wire | base
        col[:] = _lin((60, 62, 68))
        col[shade] = _shade_cylinder(c, 0.28 + du, 0.72 + du, (235, 222, 185), 0.2)[shade]
    elif obj == "white_box":
        front = c.rect(0.3 + du, 0.38 + dv, 0.62 + du, 0.82 + dv)
        top = c.poly([(0.3 + du, 0.38 + dv), (0.62 + du, 0.38 + dv), (0.72 + du, 0.3 + dv), (0.4 + du, 0.3 + dv)])
        side = c.poly([(0.62 + du, 0.38 + dv), (0.72 + du, 0.3 + dv), (0.72 + du, 0.74 + dv), (0.62 + du, 0.82 + dv)])
        mask = front | top | side
        col[front] = _lin((236, 236, 233))
        col[top] = _lin((249, 249, 247))
        col[side] = _lin((214, 214, 210))
        label = c.rect(0.36 + du, 0.5 + dv, 0.56 + du, 0.66 + dv)
        col[label] = _lin((250, 250, 250))
        for k in range(3):
            bar = c.rect(0.39 + du, 0.54 + 0.03 * k + dv, 0.53 + du, 0.55 + 0.03 * k + dv)
            col[bar] = _lin((90, 90, 100))
    elif obj == "ball":
        d = np.hypot(c.u - (0.5 + du), c.v - (0.52 + dv))
        mask = d <= 0.27
        nz = np.sqrt(np.clip(1 - (d / 0.27) ** 2, 0, 1))
        light = 0.25 + 0.8 * np.clip(((0.5 + du - c.u) * 0.5 + (0.52 + dv - c.v) * 0.5) / 0.27 + nz * 0.7, 0, 1.2)
        col[:] = _lin((40, 80, 190))[None, None, :] * light[..., None]
        spot = np.exp(-((np.hypot(c.u - (0.42 + du), c.v - (0.43 + dv)) / 0.035) ** 2))
        col += (1.2 * spot)[..., None]
    elif obj == "plush":
        head = c.ellipse(0.5 + du, 0.58 + dv, 0.26, 0.24)
        ear1 = c.ellipse(0.32 + du, 0.36 + dv, 0.08, 0.08)
        ear2 = c.ellipse(0.68 + du, 0.36 + dv, 0.08, 0.08)
        mask = head | ear1 | ear2
        col[:] = _lin((150, 105, 70))
        col *= (0.8 + 0.4 * rng.random(c.u.shape).astype(np.float32))[..., None] ** 0.5
    else:
        raise ValueError(obj)
    return col, mask


def _background(family: str, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """Linear-light background (H x W x 3)."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    v = ys / height
    u = xs / width
    if family == "white":
        base = np.stack([np.full_like(u, 250.0)] * 3, axis=2) + (3 * (v - 0.5))[..., None]
    elif family == "grey":
        base = np.broadcast_to(np.array([158.0, 160.0, 164.0]), (height, width, 3)).copy()
    elif family == "gradient":
        top = np.array([120.0, 132.0, 155.0])
        bottom = np.array([226.0, 226.0, 230.0])
        base = top + (bottom - top) * (v[..., None] ** 0.8)
        vignette = 1 - 0.18 * ((u - 0.5) ** 2 + (v - 0.5) ** 2) * 2
        base = base * vignette[..., None]
    elif family == "textured":
        base = np.broadcast_to(np.array([226.0, 218.0, 204.0]), (height, width, 3)).copy()
        grain = ndimage.gaussian_filter(rng.normal(0, 1, (height, width)), 1.2) * 14
        mottle = ndimage.gaussian_filter(rng.normal(0, 1, (height, width)), 25) * 120
        weave = 3.0 * np.sin(xs * 2 * np.pi / 5) * np.sin(ys * 2 * np.pi / 5)
        base += (grain + mottle + weave)[..., None]
    elif family == "noisy":
        base = np.broadcast_to(np.array([200.0, 198.0, 195.0]), (height, width, 3)).copy()
        base += rng.normal(0, 7, (height, width, 3))
    else:
        raise ValueError(family)
    return _lin(np.clip(base, 0, 255))


def _contact_shadow(alpha: np.ndarray, strength: float) -> np.ndarray:
    """Multiply layer (1 = none) of a soft contact shadow under the object in ``alpha``."""
    rows = np.flatnonzero(alpha.max(axis=1) > 0.5)
    if rows.size == 0:
        return np.ones_like(alpha)
    bottom = float(rows[-1])
    h = alpha.shape[0]
    squash = 0.08
    matrix = np.array([[1 / squash, 0.0], [0.25 / squash, 1.0]])
    out_base = bottom + 0.02 * h
    offset = np.array([bottom - out_base / squash, -0.25 * out_base / squash])
    flat = ndimage.affine_transform(alpha, matrix, offset=offset, order=1)
    soft = ndimage.gaussian_filter(flat, 0.02 * h)
    tight = ndimage.gaussian_filter(
        ndimage.affine_transform(alpha, np.diag([1 / 0.02, 1.0]), offset=[bottom - bottom / 0.02, 0], order=1),
        0.004 * h,
    )
    return 1 - np.clip(strength * (0.6 * soft + 0.5 * tight), 0, 0.7)


def make_sample(
    obj: str, family: str, size: int = 800, seed: int = 0, jpeg_quality: int = 90, soft_edges: float | None = None
) -> Sample:
    """Render one sample. ``soft_edges`` (px) blurs the alpha like a defocused edge (plush: 3 px)."""
    rng = np.random.default_rng(_seed(obj, family, seed, size))
    width = height = size
    c = Canvas(width, height)
    col_hi, mask_hi = _render(obj, c, rng)
    alpha = c.down(mask_hi.astype(np.float32))
    colour = c.down(np.clip(col_hi, 0, 1) * mask_hi[..., None])
    colour = colour / np.maximum(alpha, 1e-6)[..., None]
    blur = soft_edges if soft_edges is not None else (0.004 * size if obj == "plush" else 0.0)
    if blur > 0:
        premult = ndimage.gaussian_filter(colour * alpha[..., None], (blur, blur, 0))
        alpha = ndimage.gaussian_filter(alpha, blur)
        colour = premult / np.maximum(alpha, 1e-6)[..., None]
    alpha = np.clip(alpha, 0, 1).astype(np.float32)
    bg = _background(family, width, height, rng)
    bg = bg * _contact_shadow(alpha, 0.55 if family != "grey" else 0.45)[..., None]
    img = colour * alpha[..., None] + bg * (1 - alpha[..., None])
    rgb = _srgb(img)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=jpeg_quality)
    image = Image.open(io.BytesIO(buf.getvalue()))
    image.load()
    return Sample(f"{obj}-{family}", family, obj, image.convert("RGB"), alpha)


def _seed(obj: str, family: str, seed: int, size: int) -> int:
    import zlib

    return zlib.crc32(f"{obj}|{family}|{seed}|{size}".encode())


def samples(
    size: int = 800, seed: int = 0, families: tuple[str, ...] = FAMILIES, objects: tuple[str, ...] = OBJECTS
) -> list[Sample]:
    """Every object on every background family."""
    return [make_sample(o, f, size, seed) for f in families for o in objects]


def iou(pred: np.ndarray, truth: np.ndarray, level: float = 0.5) -> float:
    a = pred > level
    b = truth > level
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def mae(pred: np.ndarray, truth: np.ndarray) -> float:
    return float(np.abs(pred.astype(np.float32) - truth).mean())


def edge_mae(pred: np.ndarray, truth: np.ndarray, width: int = 6) -> float:
    """Mean absolute alpha error within ``width`` px of the true edge (where matting quality shows)."""
    fg = truth > 0.5
    band = ndimage.binary_dilation(fg, iterations=width) & ~ndimage.binary_erosion(fg, iterations=width)
    band |= (truth > 0.01) & (truth < 0.99)
    return float(np.abs(pred[band] - truth[band]).mean()) if band.any() else 0.0


Metric = Callable[[np.ndarray, np.ndarray], float]
