"""Supporting props for lifestyle scenes: the small things that say where the product is (a cup and
saucer in a cafe, a notebook on an office desk, pebbles and a leaf outdoors).

They stand on the surface behind the product's base line, smaller with depth, and never in the product's
columns (nor in an editorial's empty half: editorial layouts get none).
"""

from __future__ import annotations

import numpy as np

from .backdrop import Stage
from .canvas import Canvas, lin
from .palettes import mix
from .plan import ScenePlan
from .shapes import box, capsule, cylinder, ellipse_cover, ground_shadow, lambert

PROPS_BY_PALETTE = {
    "cafe": "cup",
    "office": "notebook",
    "outdoor": "pebbles",
    "nature": "pebbles",
    "beach": "pebbles",
    "urban": "block",
    "kitchen": "fruit",
    "bathroom": "jar",
    "bedroom": "notebook",
}


def _slot(
    cv: Canvas, stage: Stage, rng: np.random.Generator, width: float, avoid_side: int
) -> tuple[float, float, float] | None:
    """(x, contact y, perspective scale) for a prop of ``width`` (at the product's depth) behind the product,
    on the side away from ``avoid_side`` (where a hand may reach in), or None when there is no room."""
    depth = rng.uniform(0.72, 0.88)  # just behind the product: props read at nearly its scale
    y = stage.horizon + (stage.floor_y - stage.horizon) * depth
    scale = (y - stage.horizon) / max(stage.floor_y - stage.horizon, 1.0)
    w = width * scale
    left_space, right_space = stage.product[0], cv.w - stage.product[2]
    side = -avoid_side if avoid_side else (-1 if left_space > right_space else 1)
    space = left_space if side < 0 else right_space
    if space < w * 1.6 + cv.w * 0.03:
        return None
    offset = rng.uniform(0.6, 0.9) * min(space - w, cv.w * 0.25) + w * 0.5
    x = stage.product[0] - offset if side < 0 else stage.product[2] + offset
    return x, y, scale


def lifestyle_props(cv: Canvas, plan: ScenePlan, stage: Stage, rng: np.random.Generator, hand_side: int) -> list[str]:
    """Draw the palette's prop (if any) on the surface; returns what was drawn."""
    kind = PROPS_BY_PALETTE.get(plan.palette.name)
    if kind is None:
        return []
    side = plan.light_side
    unit = cv.w * 0.2
    slot = _slot(cv, stage, rng, unit * (1.6 if kind == "notebook" else 1.0), hand_side)
    if slot is None:
        return []
    x, y, s = slot
    accent = lin(plan.palette.accents[0])
    if kind == "cup":
        ground_shadow(cv, x, y, unit * 0.75 * s, unit * 0.16 * s, 0.3)
        saucer = ellipse_cover(cv, x, y - unit * 0.02 * s, unit * 0.7 * s, unit * 0.14 * s)
        cv.over(lin((236, 232, 224)), saucer)
        cylinder(cv, x, y - unit * 0.55 * s, y - unit * 0.08 * s, unit * 0.38 * s, lin((240, 236, 228)), side, 0.2)
        coffee = ellipse_cover(cv, x, y - unit * 0.55 * s, unit * 0.31 * s, unit * 0.058 * s)
        cv.over(lin((70, 40, 22)), coffee)
    elif kind == "notebook":
        box(cv, x, y - unit * 0.06 * s, y, unit * 0.8 * s, unit * 0.35 * s, accent, side)
        capsule(
            cv,
            (x - unit * 0.5 * s, y - unit * 0.2 * s),
            (x + unit * 0.45 * s, y - unit * 0.32 * s),
            unit * 0.035 * s,
            unit * 0.03 * s,
            lin((228, 186, 60)),
            side,
        )
    elif kind == "block":
        box(
            cv,
            x,
            y - unit * 0.5 * s,
            y,
            unit * 0.45 * s,
            unit * 0.2 * s,
            lin(mix(plan.palette.surface_base, (90, 90, 96), 0.3)),
            side,
        )
    elif kind == "jar":
        cylinder(cv, x, y - unit * 0.7 * s, y, unit * 0.3 * s, lin(plan.palette.accents[1]), side, 0.2)
        cylinder(cv, x, y - unit * 0.85 * s, y - unit * 0.7 * s, unit * 0.3 * s, lin((236, 236, 232)), side, 0.2)
    else:  # pebbles / fruit: rounded, flattened balls
        colours = ((150, 146, 138), (120, 116, 110)) if kind == "pebbles" else ((236, 196, 60), (230, 120, 40))
        for k, (dx, rr) in enumerate(((0.0, 0.34), (0.55, 0.24))):
            cx, r = x + dx * unit * s, rr * unit * s
            squash = 0.6 if kind == "pebbles" else 0.95
            ground_shadow(cv, cx, y, r * 1.1, r * 0.25, 0.4)
            m = ellipse_cover(cv, cx, y - r * squash, r, r * squash)
            nx = np.clip((cv.xs - cx) / r, -1, 1)
            ny = np.clip((cv.ys - (y - r * squash)) / (r * squash), -1, 1)
            nz = np.sqrt(np.clip(1 - nx * nx - ny * ny, 0, 1))
            cv.over(lin(colours[k]) * lambert(nx, nz - 0.3 * ny, side)[..., None], m)
    return [f"prop:{kind}"]
