"""Sets and props: what the product stands on (podium, pedestal, shelf, tabletop edge, plinth, a hand),
abstract geometric props, motion cues for action scenes, and people.

People never cover the product: everything here is painted into the background before the product is
composited, figures stay clear of the product's columns, and reaching hands stop short of its box.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from .backdrop import Stage
from .canvas import Canvas, lin, resize_float, soft_blur, srgb_unit_to_linear
from .palettes import mix
from .plan import ScenePlan
from .shapes import box, capsule, cast_shadow, cylinder, ellipse_cover, ground_shadow, sphere
from .styles import scene_style
from .textures import Noise, texture

SKIN_TONES = ((241, 200, 170), (224, 172, 138), (198, 140, 104), (150, 100, 70), (100, 66, 46))


def _accent(plan: ScenePlan, i: int, gain: float = 1.0) -> np.ndarray:
    return lin(plan.palette.accents[i % len(plan.palette.accents)], gain)


def podium(cv: Canvas, plan: ScenePlan, stage: Stage, radius: float, height_bottom: float) -> None:
    """A cylinder podium whose top carries the product's base."""
    # Display podiums are pale: the wall's colour lifted towards white, with a touch of the accent.
    pale = mix(plan.palette.wall_bottom, (255, 255, 255), 0.35)
    colour = lin(mix(pale, plan.palette.accents[0], 0.2))
    top = stage.product[3] - radius * 0.14 * 0.2
    cylinder(cv, stage.centre_x, top, height_bottom, radius, colour, plan.light_side)


def plinth(cv: Canvas, plan: ScenePlan, stage: Stage) -> None:
    """A low, wide disc under the product (abstract sets)."""
    radius = max(stage.product_w * 0.75, cv.w * 0.14)
    top = stage.product[3] - radius * 0.16 * 0.2
    cylinder(cv, stage.centre_x, top, top + cv.h * 0.06, radius, _accent(plan, 2), plan.light_side, 0.16)


def pedestal(cv: Canvas, plan: ScenePlan, stage: Stage, bottom: float) -> None:
    """A block pedestal: the product stands in the middle of its top face."""
    depth = cv.h * 0.05
    half = min(max(stage.product_w * 0.68, cv.w * 0.13), cv.w * 0.45)
    colour = lin(mix(plan.palette.surface_base, plan.palette.accents[1], 0.3))
    box(cv, stage.centre_x, stage.product[3] + depth * 0.5, bottom, half, depth, colour, plan.light_side)


def shelf(cv: Canvas, plan: ScenePlan, stage: Stage, noise: Noise) -> None:
    """A wall shelf across the frame: a wooden board whose top carries the product, its shadow on the wall."""
    base = stage.product[3]
    depth, thick = cv.h * 0.045, cv.h * 0.028
    y0, y1, y2 = int(base - depth * 0.75), int(base + depth * 0.25), int(base + depth * 0.25 + thick)
    shadow = np.zeros((cv.h, cv.w), np.float32)
    shadow[y1 : min(cv.h, y2 + int(cv.h * 0.05))] = 1.0
    cast_shadow(cv, shadow, -plan.light_side * cv.w * 0.01, cv.h * 0.02, cv.h * 0.025, 0.4)
    rows = cv.ys[y0:y1]
    u = np.broadcast_to(cv.xs / cv.w * 8, (rows.shape[0], cv.w))
    v = np.broadcast_to((rows - y0) / max(y1 - y0, 1) * 1.0 + 0.3, u.shape)
    tex = srgb_unit_to_linear(texture("wood", noise, u, v, plan.palette.surface_base, plan.palette.surface_detail))
    cv.rgb[y0:y1] = tex * np.float32(1.08)
    front = srgb_unit_to_linear(
        texture(
            "wood",
            noise,
            u[: max(1, y2 - y1)] * 1.0,
            v[: max(1, y2 - y1)] + 5.0,
            plan.palette.surface_base,
            plan.palette.surface_detail,
        )
    )
    cv.rgb[y1:y2] = front[: y2 - y1] * np.float32(0.72)
    cv.rgb[y1 : y1 + 1] *= np.float32(1.3)  # the board's front edge catches the light


def table_edge(cv: Canvas, plan: ScenePlan, edge: float) -> None:
    """The table's front edge and the dim room under it, below row ``edge``."""
    y = int(edge)
    if y >= cv.h:
        return
    thick = max(2, int(cv.h * 0.03))
    base = lin(plan.palette.surface_detail)
    cv.rgb[y : y + thick] = base * np.float32(0.55)
    cv.rgb[y : y + 1] *= np.float32(1.6)
    under = lin(mix(plan.palette.wall_bottom, (20, 18, 16), 0.7))
    cv.rgb[y + thick :] = under


def hand_holding(cv: Canvas, plan: ScenePlan, stage: Stage, rng: np.random.Generator) -> None:
    """An open hand from the bottom of the frame, the product resting on its palm, fingers curling up
    behind the product's sides (the product is pasted over them)."""
    skin = lin(SKIN_TONES[int(rng.integers(len(SKIN_TONES)))])
    side = plan.light_side
    cx, base = stage.centre_x, stage.product[3]
    rx = min(max(stage.product_w * 0.62, cv.w * 0.09), cv.w * 0.15)  # a hand, however wide the product
    ry = rx * 0.42
    sleeve = _accent(plan, 1, 0.8)
    wrist = (cx - side * rx * 0.25, base + ry * 1.2)
    elbow = (cx - side * cv.w * 0.16, cv.h * 1.1)
    capsule(cv, elbow, wrist, rx * 0.8, rx * 0.58, skin, side)
    # A sleeve over the lower forearm: the arm belongs to someone, it does not end in the frame's edge.
    cuff = (wrist[0] + (elbow[0] - wrist[0]) * 0.55, wrist[1] + (elbow[1] - wrist[1]) * 0.55)
    capsule(cv, (elbow[0], elbow[1] + rx), cuff, rx * 1.05, rx * 0.9, sleeve, side)
    ground_shadow(cv, cx, base + ry * 0.2, rx * 0.9, ry * 0.7, 0.25)
    palm = ellipse_cover(cv, cx, base + ry * 0.35, rx, ry)
    cv.over(skin * np.float32(0.92), palm)
    # Fingers curl up the product's far side in two segments each, stacked (index highest), tips just
    # outside its silhouette; the thumb rises along the near side.
    edge = stage.product_w / 2
    for i in range(4):
        lift = stage.product_h * (0.05 + 0.06 * (3 - i))
        root = (cx + side * rx * (0.62 + 0.08 * i), base + ry * (0.25 - 0.12 * i))
        knuckle = (cx + side * (edge + rx * 0.3), base - lift * 0.45)
        tip = (cx + side * (edge + rx * 0.12), base - lift)
        capsule(cv, root, knuckle, rx * 0.17, rx * 0.15, skin, side)
        capsule(cv, knuckle, tip, rx * 0.15, rx * 0.12, skin * np.float32(0.97), side)
    thumb_root = (cx - side * rx * 0.6, base + ry * 0.5)
    thumb_mid = (cx - side * (edge + rx * 0.22), base - stage.product_h * 0.04)
    capsule(cv, thumb_root, thumb_mid, rx * 0.2, rx * 0.17, skin, side)
    capsule(
        cv, thumb_mid, (cx - side * (edge + rx * 0.08), base - stage.product_h * 0.13), rx * 0.17, rx * 0.13, skin, side
    )


def reaching_hand(cv: Canvas, plan: ScenePlan, stage: Stage, rng: np.random.Generator) -> bool:
    """A hand resting on the surface, reaching towards the product from the roomier side; it stops at
    least 3% of the width short of the product. Returns False when there is no room for it."""
    left_room = stage.product[0]
    right_room = cv.w - stage.product[2]
    side = -1 if left_room > right_room else 1  # the side the hand comes from
    room = max(left_room, right_room)
    if room < cv.w * 0.2:
        return False
    skin = lin(SKIN_TONES[int(rng.integers(len(SKIN_TONES)))])
    gap = cv.w * 0.04
    tip_x = stage.product[0] - gap if side < 0 else stage.product[2] + gap
    y = stage.product[3] + cv.h * 0.03
    r = cv.w * 0.035
    wrist = (tip_x + side * r * 4.2, y + r * 0.6)
    sleeve = _accent(plan, 1, 0.85)
    light = plan.light_side
    cover = capsule(cv, (wrist[0] + side * cv.w * 0.6, y + cv.h * 0.12), wrist, r * 1.2, r * 0.95, skin, light)
    cover = np.maximum(
        cover,
        capsule(
            cv,
            (wrist[0] + side * cv.w * 0.7, y + cv.h * 0.15),
            (wrist[0] + side * r * 3.5, y + r * 1.3),
            r * 1.5,
            r * 1.35,
            sleeve,
            light,
        ),
    )
    # Seen from above, lying flat: a palm as long as it is wide, four fingers fanning slightly (the middle
    # ones longest), a thumb angled forward on the far side.
    knuckles = tip_x + side * r * 1.95
    palm_back = knuckles + side * r * 1.5
    cover = np.maximum(cover, capsule(cv, (palm_back, y), (knuckles, y), r * 1.0, r * 1.02, skin, light))
    for i, length in enumerate((1.45, 1.9, 1.8, 1.35)):
        spread = (i - 1.5) * r * 0.5
        base = (knuckles - side * r * 0.2, y + spread)
        tip = (knuckles - side * r * length, y + spread * 1.25)
        cover = np.maximum(cover, capsule(cv, base, tip, r * 0.27, r * 0.22, skin, light))
    thumb = ((palm_back + knuckles) / 2, y - r * 0.75)
    cover = np.maximum(
        cover, capsule(cv, thumb, (knuckles - side * r * 0.5, y - r * 1.45), r * 0.32, r * 0.25, skin, light)
    )
    cast_shadow(cv, cover, -plan.light_side * r * 0.6, r * 0.5, r * 0.5, 0.35)
    return True


def figures(cv: Canvas, plan: ScenePlan, stage: Stage, rng: np.random.Generator) -> int:
    """Out-of-focus people behind the set, clear of the product's columns. Returns how many.

    They are painted on a third-resolution canvas: they end up heavily blurred anyway.
    """
    small = Canvas(cv.size, work_side=max(24, max(cv.w, cv.h) // 3))
    k = cv.f / small.f  # working pixels -> small-canvas pixels
    head = cv.h * 0.05
    # A style that keeps its empty half for copy (editorial): at most one passer-by, pushed to the far edge.
    if scene_style(plan.style).copy_space:
        slots = [0.93] if plan.anchor_x < 0.5 else [0.07]
    else:
        slots = [0.12, 0.88, 0.27, 0.73]
    alpha = np.zeros((small.h, small.w), np.float32)
    placed = 0
    for fx_share in slots:
        fx = fx_share * cv.w + rng.uniform(-0.03, 0.03) * cv.w
        if abs(fx - stage.centre_x) < stage.product_w / 2 + head * 2.6 or placed >= 2:
            continue
        r = head * (1.0 if placed == 0 else 0.8) * k
        x, hy = fx * k, (stage.horizon - cv.h * 0.3 * (1.0 if placed == 0 else 0.8)) * k
        skin = lin(SKIN_TONES[int(rng.integers(len(SKIN_TONES)))])
        cloth = _accent(plan, int(rng.integers(3)), 0.9)
        parts = (
            (skin * 0.8, small.cover(("rect", x - 0.35 * r, hy + 0.6 * r, x + 0.35 * r, hy + 1.5 * r))),
            (cloth, small.cover(("rrect", x - 1.8 * r, hy + 1.25 * r, x + 1.8 * r, small.h * 2.0, 1.2 * r))),
            (skin, ellipse_cover(small, x, hy, r * 0.85, r)),
            (lin((50, 36, 28)), ellipse_cover(small, x, hy - r * 0.25, r * 0.92, r * 0.85) * 0.9),
        )
        for colour, m in parts:
            small.over(colour, m)
            alpha = np.maximum(alpha, m)
        placed += 1
    if placed:
        sigma = plan.depth_blur * max(small.w, small.h) * 1.6
        layer = resize_float(soft_blur(small.rgb * alpha[..., None], sigma), (cv.w, cv.h))
        cover = resize_float(soft_blur(alpha, sigma), (cv.w, cv.h))
        cv.rgb[:] = cv.rgb * (1 - cover[..., None]) + layer * np.float32(0.8)
    return placed


def abstract_props(cv: Canvas, plan: ScenePlan, stage: Stage, rng: np.random.Generator) -> list[str]:
    """An arch behind the product, and a ball, a column and a cube beside it. Returns the props drawn."""
    side = plan.light_side
    drawn = ["arch"]
    cx, pw = stage.centre_x, stage.product_w
    half = min(max(pw * 0.95, cv.w * 0.16), cv.w * 0.42)
    arch_bottom = stage.horizon + cv.h * 0.02
    arch_top = max(cv.h * 0.06, stage.product[1] - cv.h * 0.1)
    half = min(half, (arch_bottom - arch_top) / 2.6)  # an arch, not a disc: taller than wide
    colour = _accent(plan, 0, 0.75)

    m = cv.cover(
        ("rect", cx - half, arch_top + half, cx + half, arch_bottom),
        ("ellipse", cx - half, arch_top, cx + half, arch_top + 2 * half),
    )
    cast_shadow(cv, m, -side * cv.w * 0.018, 0, cv.w * 0.012, 0.35)
    ramp = 0.8 + 0.2 * np.clip(0.5 + side * (cv.xs - cx) / (2 * half), 0, 1)
    cv.over(colour * np.broadcast_to(ramp, m.shape)[..., None], m)
    left_space, right_space = stage.product[0], cv.w - stage.product[2]
    ball_side = -1 if left_space > right_space else 1
    if rng.random() < 0.5 and min(left_space, right_space) > cv.w * 0.12:
        ball_side = -ball_side
    gap = cv.w * 0.03
    room = left_space if ball_side < 0 else right_space
    r = min(cv.w * rng.uniform(0.06, 0.1), room * 0.45)
    if r > cv.w * 0.025:
        bx = (stage.product[0] - gap - r) if ball_side < 0 else (stage.product[2] + gap + r)
        sphere(cv, bx, stage.floor_y - r * 0.98, r, _accent(plan, 1), side)
        drawn.append("sphere")
    other = -ball_side
    room = left_space if other < 0 else right_space
    cw = min(cv.w * 0.07, room * 0.35)
    if cw > cv.w * 0.02:
        colx = (stage.product[0] - gap - cw) if other < 0 else (stage.product[2] + gap + cw)
        colx = float(np.clip(colx, cw, cv.w - cw))
        cylinder(
            cv,
            colx,
            stage.horizon - cv.h * rng.uniform(0.15, 0.3),
            stage.horizon + cv.h * 0.05,
            cw,
            _accent(plan, 2),
            side,
        )
        drawn.append("column")
        s = min(cw * 1.1, cv.h - stage.floor_y)
        cubex = colx - other * cw * 0.2
        if s > cv.h * 0.02 and stage.floor_y + cv.h * 0.08 < cv.h:
            box(
                cv,
                cubex,
                stage.floor_y + cv.h * 0.08 - s,
                stage.floor_y + cv.h * 0.08,
                s * 0.7,
                s * 0.3,
                _accent(plan, 1, 0.9),
                side,
            )
            drawn.append("cube")
    return drawn


def motion(cv: Canvas, plan: ScenePlan, stage: Stage, rng: np.random.Generator) -> None:
    """Speed lines trailing the product (action scenes): thin streaks leaving its trailing side at the
    heights of its body, fading with distance, plus a few faint ones across the backdrop."""
    heading = plan.light_side  # the product moves towards the light; its wake trails the other way
    angle = np.deg2rad(-8.0 * heading)
    dx, dy = -heading * float(np.cos(angle)), float(np.sin(angle))  # from the product, away along the wake
    img = Image.new("L", (cv.w, cv.h), 0)
    draw = ImageDraw.Draw(img)
    px0, py0, px1, py1 = stage.product
    edge = px0 if heading > 0 else px1
    span = float(np.hypot(cv.w, cv.h))
    pieces = 10
    for k in range(30):
        trailing = k < 22
        if trailing:
            x, y = edge + rng.uniform(-0.02, 0.04) * cv.w * -heading, rng.uniform(py0, py1)
            length, peak = span * rng.uniform(0.15, 0.5), rng.uniform(0.35, 0.9)
        else:
            x, y = rng.uniform(0, cv.w), rng.uniform(0, cv.h)
            length, peak = span * rng.uniform(0.1, 0.3), rng.uniform(0.1, 0.3)
        width = max(1, round(cv.w * rng.uniform(0.002, 0.008)))
        for j in range(pieces):
            t0, t1 = j / pieces, (j + 1) / pieces
            fade = (1 - t0) ** 1.5 if trailing else float(np.sin(np.pi * (j + 0.5) / pieces))
            draw.line(
                [(x + dx * length * t0, y + dy * length * t0), (x + dx * length * t1, y + dy * length * t1)],
                fill=round(255 * peak * fade),
                width=width,
            )
    acc = soft_blur(np.asarray(img, np.float32) / 255, 0.9)
    light = lin(mix(plan.palette.light, plan.palette.accents[0], 0.3), 1.0)
    cv.rgb += light * acc[..., None] * 0.55


def particles(cv: Canvas, plan: ScenePlan, stage: Stage, rng: np.random.Generator) -> None:
    """Droplets / specks in the air around the product (drawn behind it, none over its box)."""
    px0, py0, px1, py1 = stage.product
    colour = lin(mix(plan.palette.light, plan.palette.accents[0], 0.2), 1.2)
    for _ in range(34):
        r = cv.w * rng.uniform(0.004, 0.016)
        x, y = rng.uniform(0, cv.w), rng.uniform(0, stage.floor_y)
        if px0 - r < x < px1 + r and py0 - r < y < py1 + r:
            continue
        ys = slice(max(0, int(y - r - 2)), min(cv.h, int(y + r + 2)))
        xs = slice(max(0, int(x - r - 2)), min(cv.w, int(x + r + 2)))
        nx = (cv.xs[:, xs] - x) / r
        ny = (cv.ys[ys] - y) / r
        d2 = nx * nx + ny * ny
        m = np.clip((1 - np.sqrt(d2)) * r + 0.5, 0, 1) * 0.85
        glint = np.exp(-(((nx + 0.35 * plan.light_side) ** 2 + (ny + 0.35) ** 2) / 0.05))
        drop = colour * (0.55 + 0.35 * np.clip(d2, 0, 1) + 0.9 * glint)[..., None]
        cv.rgb[ys, xs] = cv.rgb[ys, xs] * (1 - m[..., None]) + drop * m[..., None]
        ground_shadow(cv, x, stage.floor_y + cv.h * 0.01, r * 1.2, r * 0.3, 0.15)
