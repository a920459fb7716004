"""Shaded primitives for sets, props and hands: capsules, cylinders, boxes, spheres, soft ground shadows.

Everything works in working pixels on a :class:`~.canvas.Canvas`, lit by one key light from the plan's
side (Lambert shading plus a soft highlight), so props read as solid objects on the same set.
"""

from __future__ import annotations

import numpy as np

from .canvas import Canvas, soft_blur


def _window(cv: Canvas, x0: float, y0: float, x1: float, y1: float) -> tuple[slice, slice] | None:
    ys = slice(max(0, int(np.floor(y0))), min(cv.h, int(np.ceil(y1)) + 1))
    xs = slice(max(0, int(np.floor(x0))), min(cv.w, int(np.ceil(x1)) + 1))
    if ys.start >= ys.stop or xs.start >= xs.stop:
        return None
    return ys, xs


def lambert(nx: np.ndarray, nz: np.ndarray, side: int, ambient: float = 0.38) -> np.ndarray:
    """Brightness of a surface whose normal is (nx, nz) (nz towards the camera) under a key light from
    ``side`` (up-front), with a soft specular sheen."""
    lx, lz = 0.55 * side, 0.83
    diffuse = np.clip(nx * lx + nz * lz, 0, 1)
    sheen = 0.22 * np.exp(-(((nx - 0.42 * side) / 0.16) ** 2))
    return (ambient + (1 - ambient) * diffuse + sheen).astype(np.float32)


def ground_shadow(cv: Canvas, cx: float, cy: float, rx: float, ry: float, strength: float = 0.45) -> None:
    """A soft elliptical contact shadow on the surface (multiplies the canvas)."""
    pad = max(rx, ry) * 1.2 + 4
    win = _window(cv, cx - rx - pad, cy - ry - pad, cx + rx + pad, cy + ry + pad)
    if win is None:
        return
    ys, xs = win
    d = ((cv.xs[:, xs] - cx) / max(rx, 1)) ** 2 + ((cv.ys[ys] - cy) / max(ry, 1)) ** 2
    dark = strength * np.exp(-1.6 * d)
    cv.rgb[ys, xs] *= (1 - dark)[..., None]


def capsule(
    cv: Canvas,
    p0: tuple[float, float],
    p1: tuple[float, float],
    r0: float,
    r1: float,
    colour: np.ndarray,
    side: int,
    *,
    shade_out: float = 1.0,
) -> np.ndarray:
    """A tapered capsule (a limb, a finger) from p0 (radius r0) to p1 (radius r1), shaded as a cylinder.

    Returns its coverage (h, w) so callers can cast its shadow.
    """
    (x0, y0), (x1, y1) = p0, p1
    r = max(r0, r1)
    cover = np.zeros((cv.h, cv.w), np.float32)
    win = _window(cv, min(x0, x1) - r - 2, min(y0, y1) - r - 2, max(x0, x1) + r + 2, max(y0, y1) + r + 2)
    if win is None:
        return cover
    ys, xs = win
    dx, dy = x1 - x0, y1 - y0
    length2 = max(dx * dx + dy * dy, 1e-6)
    px, py = cv.xs[:, xs] - x0, cv.ys[ys] - y0
    t = np.clip((px * dx + py * dy) / length2, 0, 1)
    cxs, cys = px - t * dx, py - t * dy
    dist = np.sqrt(cxs * cxs + cys * cys)
    rad = r0 + (r1 - r0) * t
    m = np.clip(rad - dist + 0.5, 0, 1)
    # Signed distance across the limb, on the axis perpendicular to it: the normal's x in screen space.
    across = (cxs * -dy + cys * dx) / np.sqrt(length2)
    nx = np.clip(across / np.maximum(rad, 1e-3), -1, 1) * np.sign(dy if abs(dy) > 1e-6 else 1.0)
    nz = np.sqrt(np.clip(1 - nx * nx, 0, 1))
    shade = lambert(nx, nz, side, 0.45) * shade_out
    cv.rgb[ys, xs] = cv.rgb[ys, xs] * (1 - m[..., None]) + colour * (shade * m)[..., None]
    cover[ys, xs] = m
    return cover


def ellipse_cover(cv: Canvas, cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
    """Anti-aliased coverage of an ellipse."""
    return cv.cover(("ellipse", cx - rx, cy - ry, cx + rx, cy + ry))


def cylinder(
    cv: Canvas,
    cx: float,
    top: float,
    bottom: float,
    radius: float,
    colour: np.ndarray,
    side: int,
    ry_ratio: float = 0.14,
) -> None:
    """A standing cylinder seen from slightly above: shaded body, lit top ellipse, soft ground shadow."""
    ry = radius * ry_ratio
    ground_shadow(cv, cx + side * -radius * 0.25, bottom + ry * 0.4, radius * 1.25, ry * 2.2, 0.5)

    m = cv.cover(
        ("rect", cx - radius, top, cx + radius, bottom), ("ellipse", cx - radius, bottom - ry, cx + radius, bottom + ry)
    )
    nx = np.clip((cv.xs - cx) / radius, -1, 1)
    nz = np.sqrt(1 - nx * nx)
    shade = lambert(nx, nz, side) * (1 - 0.12 * np.clip((cv.ys - top) / max(bottom - top, 1), 0, 1))
    cv.over(colour * np.broadcast_to(shade, m.shape)[..., None], m)
    cap = ellipse_cover(cv, cx, top, radius, ry)
    lit = 1.12 - 0.1 * np.clip((cv.ys - (top - ry)) / (2 * ry + 1), 0, 1)
    cv.over(colour * np.broadcast_to(lit, cap.shape)[..., None], cap)


def box(
    cv: Canvas,
    cx: float,
    top: float,
    bottom: float,
    half_w: float,
    depth: float,
    colour: np.ndarray,
    side: int,
) -> None:
    """A block (pedestal, cube) seen from the front and slightly above: front face and top face."""
    ground_shadow(cv, cx - side * half_w * 0.2, bottom + 2, half_w * 1.3, depth * 0.9 + 3, 0.5)
    back_half = half_w * 0.93
    front = cv.cover(("rect", cx - half_w, top, cx + half_w, bottom))
    ramp = np.clip(0.5 + side * (cv.xs - cx) / (2 * half_w), 0, 1)
    shade = (0.62 + 0.22 * ramp) * (1 - 0.1 * np.clip((cv.ys - top) / max(bottom - top, 1), 0, 1))
    cv.over(colour * shade[..., None], front)
    quad = [(cx - half_w, top), (cx + half_w, top), (cx + back_half, top - depth), (cx - back_half, top - depth)]
    top_face = cv.cover(("poly", *(c for point in quad for c in point)))
    cv.over(colour * np.float32(1.1), top_face)
    edge = np.exp(-(((cv.ys - top) / 0.8) ** 2)) * front.clip(0, 1)
    cv.rgb += (colour * 0.35) * edge[..., None]


def sphere(cv: Canvas, cx: float, cy: float, radius: float, colour: np.ndarray, side: int) -> None:
    """A ball resting on the surface at (cx, cy + radius)."""
    ground_shadow(cv, cx - side * radius * 0.3, cy + radius * 0.97, radius * 1.1, radius * 0.22, 0.55)
    m = ellipse_cover(cv, cx, cy, radius, radius)
    nx = np.clip((cv.xs - cx) / radius, -1, 1)
    ny = np.clip((cv.ys - cy) / radius, -1, 1)
    nz = np.sqrt(np.clip(1 - nx * nx - ny * ny, 0, 1))
    shade = lambert(nx, nz - 0.35 * ny, side)
    cv.over(colour * shade[..., None], m)


def cast_shadow(cv: Canvas, cover: np.ndarray, dx: float, dy: float, blur: float, strength: float) -> None:
    """Darken the canvas by ``cover`` shifted by (dx, dy) and blurred (a shadow cast on a near surface)."""
    shifted = np.roll(cover, (round(dy), round(dx)), axis=(0, 1))
    cv.shade(1 - strength * np.clip(soft_blur(shifted, blur), 0, 1))
