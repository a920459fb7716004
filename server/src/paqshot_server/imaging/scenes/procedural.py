"""The procedural scene engine: draws a plan's set with no model weights, then composites the product.

Deterministic: every random choice comes from the variant's seed. The product layer is pasted last by
:func:`~paqshot_server.imaging.compose.composite`, so its pixels are exact wherever its alpha is 1, and
nothing drawn here (hands, figures, props) can cover it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compose import ProductLayer, composite, reflection_layer
from ..layout import Placement
from ..shadow import FLOAT_LIFT, shadow_layer
from .backdrop import Stage, apply_light, paint_environment, paint_surface, paint_wall
from .canvas import Canvas, soft_blur
from .kinds import KINDS
from .plan import ScenePlan
from .props import lifestyle_props
from .sets import figures, hand_holding, pedestal, plinth, podium, reaching_hand, shelf, table_edge
from .shapes import ground_shadow
from .styles import scene_style
from .textures import Noise


@dataclass(frozen=True)
class Backdrop:
    """A drawn set without the product: pixels plus what was drawn (for ``meta["scene"]``)."""

    pixels: np.ndarray  # uint8 (H, W, 3)
    stage: Stage
    drawn: tuple[str, ...]


def shadow_kind(plan: ScenePlan, requested: str) -> str:
    """The product's shadow: scenes that lift the product (action) turn a soft shadow into a floating one."""
    if KINDS[plan.kind].lifted and plan.set_piece != "hand" and requested == "soft":
        return "floating"
    return requested


def make_stage(plan: ScenePlan, cv: Canvas, dest_box: tuple[int, int, int, int], shadow: str) -> Stage:
    """Horizon and contact line (working pixels) for the plan's set under the placed product."""
    box = tuple(v / cv.f for v in dest_box)
    product = (box[0], box[1], box[2], box[3])
    base, ph, h = product[3], product[3] - product[1], cv.h
    piece = plan.set_piece
    if piece in ("podium", "pedestal"):
        floor = min(base + h * 0.2, h * 0.95)
        horizon = floor - h * (0.12 if plan.backdrop == "room" else 0.2)
    elif piece == "plinth":
        floor = base + h * 0.06
        horizon = floor - h * 0.2
    elif piece == "shelf":
        floor, horizon = base, h * 2.0  # a wall shelf: no floor in frame
    elif piece == "hand":
        floor, horizon = float(h), h * 0.8
    else:
        floor = base + (FLOAT_LIFT * h if shadow == "floating" else 0.0)
        horizon = floor - max(ph * 0.33, h * 0.1) - h * KINDS[plan.kind].horizon_drop
    horizon = float(np.clip(horizon, h * 0.25, h * 0.92)) if piece != "shelf" else horizon
    return Stage(horizon=horizon, floor_y=float(floor), product=product)


def draw_backdrop(plan: ScenePlan, size: tuple[int, int], placement: Placement, seed: int, shadow: str) -> Backdrop:
    """Paint the set for ``plan`` on a ``size`` canvas around the product's ``placement``."""
    rng = np.random.default_rng(seed)
    noise = Noise(rng)
    kind = KINDS[plan.kind]
    cv = Canvas(size)
    stage = make_stage(plan, cv, placement.dest_box, shadow)
    drawn: list[str] = [f"backdrop:{plan.backdrop}"]
    paint_wall(cv, plan, noise)
    paint_environment(cv, plan, stage, rng, noise)
    if plan.environment != "none":
        drawn.append(f"environment:{plan.environment}")
    people_in_scene = plan.people and plan.set_piece != "hand"
    if people_in_scene and kind.figures and plan.set_piece != "shelf":
        n = figures(cv, plan, stage, rng)
        drawn += ["figure"] * n
    if plan.set_piece != "shelf":
        edge = None
        if plan.set_piece == "tabletop":
            edge = min(stage.product[3] + cv.h * 0.2, cv.h * 0.94)
        paint_surface(cv, plan, stage, noise, bottom=edge)
        drawn.append(f"surface:{plan.surface}")
        if edge is not None:
            table_edge(cv, plan, edge)
    if plan.set_piece in ("surface", "tabletop") and not kind.lifted:
        # Ambient occlusion where the product meets the surface: grounds it before any cast shadow.
        ground_shadow(cv, stage.centre_x, stage.product[3], stage.product_w * 0.62, max(1.5, cv.h * 0.012), 0.35)
    if plan.set_piece == "hand":
        cv.rgb[:] = soft_blur(cv.rgb, plan.depth_blur * max(cv.w, cv.h))  # the hand is near: all else is soft
    if kind.decorate is not None:
        drawn += kind.decorate(cv, plan, stage, rng)
    if kind.props and scene_style(plan.style).props and plan.set_piece == "surface":
        room_left, room_right = stage.product[0], cv.w - stage.product[2]
        hand_side = (-1 if room_left > room_right else 1) if people_in_scene else 0
        drawn += lifestyle_props(cv, plan, stage, rng, hand_side)
    drawn += _draw_set(cv, plan, stage, noise, rng, people_in_scene and kind.reaching_hand)
    apply_light(cv, plan, stage, noise, rng)
    if kind.finish is not None:
        drawn += kind.finish(cv, plan, stage, rng)
    return Backdrop(cv.finish(rng), stage, tuple(drawn))


def _draw_set(
    cv: Canvas, plan: ScenePlan, stage: Stage, noise: Noise, rng: np.random.Generator, people: bool
) -> list[str]:
    """The set piece under the product and the hands; returns what was drawn."""
    drawn = []
    piece = plan.set_piece
    if piece == "podium":
        radius = min(max(stage.product_w * 0.7, cv.w * 0.14), cv.w * 0.46)
        podium(cv, plan, stage, radius, stage.floor_y)
    elif piece == "pedestal":
        pedestal(cv, plan, stage, stage.floor_y)
    elif piece == "plinth":
        plinth(cv, plan, stage)
    elif piece == "shelf":
        shelf(cv, plan, stage, noise)
    if piece != "surface":
        drawn.append(f"set:{piece}")
    if piece == "hand":
        hand_holding(cv, plan, stage, rng)
    elif people and plan.set_piece != "shelf" and reaching_hand(cv, plan, stage, rng):
        drawn.append("hand")
    return drawn


CAST_STRENGTH = {"dramatic": 0.75, "natural": 0.3}  # a key-light cast shadow on top of the contact shadow


def cast_shadow_layer(
    layer: ProductLayer, size: tuple[int, int], box: tuple[int, int, int, int], light_side: int, strength: float
) -> np.ndarray | None:
    """The product's shadow cast away from the key light, across the surface.

    The studio ``hard`` shadow always falls to the right; for a key light from the right the layer is
    mirrored, shadowed and mirrored back.
    """
    if light_side < 0:
        return shadow_layer("hard", layer, size, box, strength=strength)
    width = size[0]
    mirrored = ProductLayer(layer.rgb[:, ::-1], layer.alpha[:, ::-1], width - (layer.x + layer.alpha.shape[1]), layer.y)
    mbox = (width - box[2], box[1], width - box[0], box[3])
    shade = shadow_layer("hard", mirrored, size, mbox, strength=strength)
    return None if shade is None else np.ascontiguousarray(shade[:, ::-1])


def composite_scene(
    backdrop: np.ndarray,
    layer: ProductLayer,
    placement: Placement,
    plan: ScenePlan,
    *,
    shadow: str,
    reflection: bool,
    strength: float = 1.0,
) -> np.ndarray:
    """The product over a backdrop with its shadow (and reflection): exact product pixels where alpha is 1.

    With the default ``soft`` shadow on a surface, the key light also casts a longer shadow (strong under
    dramatic light, faint under natural light).
    """
    size = placement.canvas
    kind_strength = scene_style(plan.style).shadow_strength * strength
    shade = shadow_layer(shadow, layer, size, placement.dest_box, strength=kind_strength)
    cast = CAST_STRENGTH.get(plan.light, 0.0) * strength
    if shadow == "soft" and cast > 0 and plan.set_piece in ("surface", "tabletop"):
        extra = cast_shadow_layer(layer, size, placement.dest_box, plan.light_side, cast)
        if extra is not None:
            shade = extra if shade is None else shade * extra
    # On a set (podium, pedestal, ...) the reflection stays on its shallow top; on a floor it runs longer.
    depth = 0.35 if plan.set_piece in ("surface", "tabletop") else 0.08
    under = (reflection_layer(layer, placement.dest_box[3], depth=depth),) if reflection else ()
    return composite(backdrop, layer, shadow=shade, under=under)
