"""Backdrops: the wall or seamless sweep, the surface in perspective, the place behind it, and the light.

Order of painting (each step in linear light on a :class:`~.canvas.Canvas`): wall gradient → the
environment (window, lights, sky, foliage, city; painted on its own layer and blurred, as a lens focused
on the product would) → the surface from the horizon down, textured in perspective with haze towards the
horizon → light (key-light pool, side fall-off, window gobo for dramatic light, dappled light outdoors,
vignette, exposure and colour temperature).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .canvas import Canvas, lin, resize_float, soft_blur, srgb_unit_to_linear
from .palettes import RGB, mix
from .plan import ScenePlan
from .textures import MATERIAL_COLOURS, Noise, texture


@dataclass(frozen=True)
class Stage:
    """Working-pixel geometry shared by the backdrop and the sets.

    ``horizon`` is where the wall meets the surface; ``floor_y`` is where the product (or the set it stands
    on) touches the surface; ``product`` is the product's box in working pixels.
    """

    horizon: float
    floor_y: float
    product: tuple[float, float, float, float]

    @property
    def centre_x(self) -> float:
        return (self.product[0] + self.product[2]) / 2

    @property
    def product_w(self) -> float:
        return self.product[2] - self.product[0]

    @property
    def product_h(self) -> float:
        return self.product[3] - self.product[1]


def paint_wall(cv: Canvas, plan: ScenePlan, noise: Noise) -> None:
    """Vertical gradient from the palette's top to bottom colour, with a faint plaster mottle."""
    pal = plan.palette
    t = np.clip(cv.ys / cv.h, 0, 1)
    top, bottom = lin(pal.wall_top), lin(pal.wall_bottom)
    cv.rgb[:] = top + (bottom - top) * t[..., None]
    # Plaster mottle: low-frequency, so a small random field upscaled is enough (and cheap).
    small = noise.grids[0][:10, :10]
    cv.shade(0.94 + 0.12 * resize_float(small, (cv.w, cv.h)))


def paint_environment(cv: Canvas, plan: ScenePlan, stage: Stage, rng: np.random.Generator, noise: Noise) -> None:
    """The place behind the set, out of focus. Nothing for ``environment: none``."""
    env = plan.environment
    if env == "none":
        return
    layer = np.zeros_like(cv.rgb)
    alpha = np.zeros((cv.h, cv.w), np.float32)
    pal = plan.palette
    w, h = cv.w, cv.h
    top = min(stage.horizon, h)
    if env == "window":
        # A tall window on the key-light side, with mullions; overexposed, as daylight is against a wall.
        x0 = w * (0.58 if plan.light_side > 0 else 0.06)
        x1 = x0 + w * 0.36
        y0, y1 = h * 0.04, max(h * 0.2, min(top, stage.product[3]) - h * 0.06)
        bars = max(2.0, w * 0.012)

        xm, ym = x0 + (x1 - x0) / 2, y0 + (y1 - y0) * 0.42
        m = cv.cover(
            ("rect", x0, y0, x1, y1),
            ("-rect", xm - bars / 2, y0, xm + bars / 2, y1),
            ("-rect", x0, ym - bars / 2, x1, ym + bars / 2),
        )
        sky = lin(mix(pal.light, (200, 224, 246), 0.35), 1.9)
        layer += sky * m[..., None]
        alpha = np.maximum(alpha, m)
    elif env == "lights":
        _bokeh(cv, layer, alpha, rng, pal.bokeh, 26, (0, 0, w, top), (0.012, 0.04), 1.6)
        # Warm panelled wall: vertical boards, darker seams.
        seams = (np.abs(((cv.xs / w) * 9 + 0.3) % 1 - 0.5) > 0.48).astype(np.float32)
        cv.shade(1 - 0.25 * np.broadcast_to(seams, (h, w)) * (cv.ys < top))
    elif env == "sky":
        glow_x = w * (0.85 if plan.light_side > 0 else 0.15)
        r2 = ((cv.xs - glow_x) ** 2 + (cv.ys - h * 0.05) ** 2) / (w * 0.45) ** 2
        cv.rgb += lin(pal.light, 0.55) * np.exp(-r2)[..., None]
        # A distant horizon: low hills / sea line just above the surface.
        ridge = top - h * (0.05 + 0.06 * noise.fbm(cv.xs / w * 3, np.zeros_like(cv.xs), 3))
        band = np.clip((cv.ys - ridge) / 2.0, 0, 1) * (cv.ys < top + 2)
        far = lin(mix(pal.accents[1], pal.wall_top, 0.45), 0.85)
        layer += far * band[..., None]
        alpha = np.maximum(alpha, band)
    elif env == "foliage":
        _blobs(
            cv,
            layer,
            alpha,
            rng,
            (0, 0, w, top + h * 0.02),
            90,
            lin((50, 80, 40), 0.6),
            (0.02, 0.07),
            palette=[lin(c, 0.7) for c in ((62, 98, 48), (90, 128, 60), (40, 66, 36), (120, 150, 70))],
        )
        _bokeh(cv, layer, alpha, rng, pal.bokeh, 24, (0, 0, w, top * 0.8), (0.008, 0.025), 1.4)
    elif env == "city":
        x = 0.0
        while x < w:
            bw = w * rng.uniform(0.06, 0.14)
            bh = top * rng.uniform(0.35, 0.95)
            sl = (slice(int(max(0, top - bh)), int(top + 2)), slice(int(x), int(min(w, x + bw))))
            layer[sl] = lin(mix(pal.wall_top, (20, 22, 30), rng.uniform(0.3, 0.6)))
            alpha[sl] = 1.0
            x += bw + w * rng.uniform(0.0, 0.03)
        _bokeh(cv, layer, alpha, rng, pal.bokeh, 30, (0, top * 0.2, w, top), (0.008, 0.03), 2.2)
    sigma = plan.depth_blur * max(w, h)
    layer = soft_blur(layer, sigma)
    alpha = soft_blur(alpha, sigma)
    cv.rgb *= (1 - alpha)[..., None]
    cv.rgb += layer


def _bokeh(
    cv: Canvas,
    layer: np.ndarray,
    alpha: np.ndarray,
    rng: np.random.Generator,
    colours: tuple[RGB, ...],
    count: int,
    box: tuple[float, float, float, float],
    radius: tuple[float, float],
    gain: float,
) -> None:
    """Out-of-focus highlights: soft-edged discs with a slightly brighter rim, added to ``layer``."""
    x0, y0, x1, y1 = box
    if y1 - y0 < 2:
        return
    for _ in range(count):
        r = max(cv.w, cv.h) * rng.uniform(*radius)
        cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
        colour = lin(colours[int(rng.integers(len(colours)))], gain * rng.uniform(0.4, 1.0))
        ys = slice(max(0, int(cy - r - 2)), min(cv.h, int(cy + r + 2)))
        xs = slice(max(0, int(cx - r - 2)), min(cv.w, int(cx + r + 2)))
        d = np.sqrt((cv.xs[:, xs] - cx) ** 2 + (cv.ys[ys] - cy) ** 2) / r
        disc = np.clip((1 - d) * r * 0.6, 0, 1) * (0.75 + 0.25 * np.clip(d, 0, 1) ** 3)
        layer[ys, xs] += colour * disc[..., None]
        alpha[ys, xs] = np.maximum(alpha[ys, xs], disc * 0.15)


def _blobs(
    cv: Canvas,
    layer: np.ndarray,
    alpha: np.ndarray,
    rng: np.random.Generator,
    box: tuple[float, float, float, float],
    count: int,
    colour: np.ndarray,
    radius: tuple[float, float],
    palette: list[np.ndarray] | None = None,
) -> None:
    """Leaf-like ellipses at random angles (out-of-focus foliage)."""
    x0, y0, x1, y1 = box
    if y1 - y0 < 2:
        return
    for _ in range(count):
        r = max(cv.w, cv.h) * rng.uniform(*radius)
        cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
        ang = rng.uniform(0, np.pi)
        ys = slice(max(0, int(cy - r - 2)), min(cv.h, int(cy + r + 2)))
        xs = slice(max(0, int(cx - r - 2)), min(cv.w, int(cx + r + 2)))
        dx, dy = cv.xs[:, xs] - cx, cv.ys[ys] - cy
        a = (dx * np.cos(ang) + dy * np.sin(ang)) / r
        b = (-dx * np.sin(ang) + dy * np.cos(ang)) / (r * 0.45)
        m = np.clip((1 - np.sqrt(a * a + b * b)) * r * 0.5, 0, 1)
        c = palette[int(rng.integers(len(palette)))] if palette else colour
        layer[ys, xs] = layer[ys, xs] * (1 - m[..., None]) + c * m[..., None]
        alpha[ys, xs] = np.maximum(alpha[ys, xs], m)


def surface_colours(plan: ScenePlan) -> tuple[RGB, RGB]:
    """The surface's (base, detail) colours: the palette's for its own material, else the material's own
    colours lightly tinted by the palette's."""
    pal = plan.palette
    if plan.surface == pal.surface:
        return pal.surface_base, pal.surface_detail
    base, detail = MATERIAL_COLOURS[plan.surface]
    return mix(base, pal.surface_base, 0.15), mix(detail, pal.surface_detail, 0.15)


def paint_surface(cv: Canvas, plan: ScenePlan, stage: Stage, noise: Noise, bottom: float | None = None) -> None:
    """The surface from the horizon down (to ``bottom``), textured in perspective.

    Plane coordinates: depth z = 1 at the product's base row, growing towards the horizon; u spans about
    eight units across the canvas at the base row. Texture contrast fades with depth (haze), and a sweep
    curves into the wall through a soft cove instead of a hard edge.
    """
    pal = plan.palette
    h, w = cv.h, cv.w
    y0 = int(max(0, np.floor(stage.horizon)))
    y1 = int(h if bottom is None else min(h, np.ceil(bottom)))
    if y0 >= y1:
        return
    rows = cv.ys[y0:y1]
    depth_rows = np.maximum(rows - stage.horizon, 0.35)
    z = np.maximum(stage.floor_y - stage.horizon, 1.0) / depth_rows
    u = (cv.xs - stage.centre_x) / (w / 8) * z
    v = np.broadcast_to(z * 3.2, u.shape)
    base, detail = surface_colours(plan)
    tex = srgb_unit_to_linear(texture(plan.surface, noise, u, v, base, detail))
    haze = (1 - np.exp(-np.maximum(z - 1, 0) * 0.22))[..., None]
    far = lin(mix(base, pal.wall_bottom, 0.35))
    tex = tex + (far - tex) * np.clip(haze, 0, 0.92)
    if plan.backdrop == "sweep":
        cove = h * 0.1
        t = np.clip((rows - stage.horizon + cove) / (2 * cove), 0, 1)[..., None]
        t = t * t * (3 - 2 * t)
        region = cv.rgb[y0:y1]
        cv.rgb[y0:y1] = region + (tex - region) * t
        # The cove starts above the horizon too, so blend the rows just above it.
        ya = int(max(0, stage.horizon - cove))
        if ya < y0:
            ta = np.clip((cv.ys[ya:y0] - stage.horizon + cove) / (2 * cove), 0, 1)[..., None]
            ta = ta * ta * (3 - 2 * ta)
            cv.rgb[ya:y0] += (far - cv.rgb[ya:y0]) * ta
    else:
        cv.rgb[y0:y1] = tex
        # The surface's far edge catches a little light; the wall just above it is in its shade.
        edge = np.exp(-(((cv.ys - stage.horizon) / 1.2) ** 2))
        cv.shade(1 + 0.25 * np.broadcast_to(edge, (h, w)))
        occl = np.clip(1 - (stage.horizon - cv.ys) / (h * 0.05), 0, 1) * (cv.ys < stage.horizon)
        cv.shade(1 - 0.18 * np.broadcast_to(occl, (h, w)))


def apply_light(cv: Canvas, plan: ScenePlan, stage: Stage, noise: Noise, rng: np.random.Generator) -> None:
    """Key-light pool, side fall-off, gobo (dramatic), dappling (outdoor palettes), vignette, exposure."""
    h, w = cv.h, cv.w
    nx = cv.xs / w - 0.5
    ny = cv.ys / h - 0.5
    side = plan.light_side
    if plan.light == "dramatic":
        ramp = np.clip(0.5 + side * nx * 1.6, 0, 1)
        light = 0.32 + 1.05 * ramp**1.5
        # Window-pane gobo: a slanted grid of light falling across wall and surface.
        slant = cv.xs / w + side * 0.45 * cv.ys / h
        panes = np.abs(((slant * 4.5 + 0.2) % 1) - 0.5) < 0.37
        rows_lit = np.abs(((cv.ys / h * 2.2 + 0.15) % 1) - 0.5) < 0.42
        gobo = soft_blur((panes & rows_lit).astype(np.float32), 0.006 * max(w, h))
        patch = np.exp(-((nx - side * 0.18) ** 2 / 0.09 + (ny + 0.05) ** 2 / 0.12))
        light = light * (0.75 + 0.55 * gobo * patch)
    elif plan.light == "dynamic":
        light = 0.7 + 0.55 * np.clip(0.5 + side * (nx * 0.9 - ny * 0.6), 0, 1)
    else:
        gain = 0.22 if plan.light == "natural" else 0.14
        light = 1 - gain + 2 * gain * np.clip(0.5 + side * nx, 0, 1)
    px, py = stage.centre_x / w - 0.5, stage.floor_y / h - 0.5
    pool = np.exp(-((nx - px) ** 2 / 0.08 + (ny - py) ** 2 / 0.05))
    light = light * (0.86 + 0.3 * pool)
    if plan.environment == "foliage" and plan.light != "dramatic":
        # Sun through leaves: soft patches of light on the surface only.
        dapple = noise.fbm(cv.xs / w * 5 + 3.1, cv.ys / h * 9, 3)
        patches = soft_blur(np.clip((dapple - 0.5) * 4, 0, 1), 0.01 * w) * (cv.ys > stage.horizon)
        light = light * (0.9 + 0.25 * patches)
    vignette = {"dramatic": 0.75, "dynamic": 0.45, "studio": 0.3, "natural": 0.32}[plan.light]
    light = light * (1 - vignette * (nx**2 + ny**2))
    warm = plan.warmth
    tint = lin(plan.palette.light) * np.asarray([1 + 0.05 * warm, 1.0, 1 - 0.07 * warm], np.float32)
    cv.shade(np.broadcast_to(light, (h, w))[..., None] * tint * np.float32(plan.exposure))
