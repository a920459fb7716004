"""Scene planning: from the request to a :class:`ScenePlan` (what set, palette, light, layout), and the
product's placement on the canvas for that plan.

One plan feeds both engines: the procedural renderer draws it, the generative engine describes it in its
prompt and uses the procedural render as its starting structure.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..layout import Box, Placement, margin_px
from ..options import RenderOptions
from .palettes import COLOUR_WORDS, Palette, colour_words, match_palette, tinted, words
from .textures import MATERIALS

# Sets a mockup stands on, picked by palette when scene_type is auto (hand-held when people are wanted).
MOCKUP_SETS = {
    "studio": "podium",
    "office": "shelf",
    "cafe": "tabletop",
    "urban": "pedestal",
    "outdoor": "pedestal",
    "nature": "podium",
    "beach": "podium",
    "kitchen": "tabletop",
    "bathroom": "shelf",
    "bedroom": "tabletop",
    "night": "pedestal",
}
DARK_WORDS = {"dark", "moody", "dramatic", "night", "noir", "shadowy", "low"}
BRIGHT_WORDS = {"bright", "airy", "light", "clean", "fresh", "sunny", "high"}
WARM_WORDS = {"sunset", "golden", "warm", "autumn", "candle", "cosy", "cozy"}
COOL_WORDS = {"cool", "cold", "winter", "icy", "blue", "clinical"}


@dataclass(frozen=True)
class ScenePlan:
    """What the scene is made of; JSON-friendly through :meth:`describe`.

    ``kind`` is the resolved scene type: ``in_place`` (a surface in its location), ``packshot``
    (a clean seamless sweep), ``abstract`` (geometric props), ``action`` (motion, product in the air).
    ``set_piece`` is what the product stands on: ``surface``, ``podium``, ``pedestal``, ``shelf``,
    ``tabletop``, ``plinth`` or ``hand``. ``light`` is ``natural``, ``dramatic``, ``studio`` or ``dynamic``.
    """

    style: str
    scene_type: str
    kind: str
    palette: Palette
    palette_matched: bool
    surface: str
    set_piece: str
    backdrop: str  # "room" (wall + surface meeting at a horizon) or "sweep" (paper curving into the floor)
    environment: str
    light: str
    light_side: int  # -1: key light from the left, 1: from the right
    people: bool
    fill: float  # share of the canvas's limiting side the product fills
    anchor_x: float  # product centre, share of the width
    base_y: float  # product base, share of the height
    exposure: float
    warmth: float
    depth_blur: float  # environment blur, share of the long side
    tint: str | None

    def describe(self) -> dict[str, object]:
        """What was chosen, for ``meta["scene"]``."""
        return {
            "kind": self.kind,
            "palette": self.palette.name,
            "palette_matched": self.palette_matched,
            "surface": self.surface,
            "set": self.set_piece,
            "backdrop": self.backdrop,
            "environment": self.environment,
            "light": self.light,
            "light_from": "left" if self.light_side < 0 else "right",
            "people": self.people,
            "tint": self.tint,
            "layout": {
                "fill": round(self.fill, 3),
                "centre_x": round(self.anchor_x, 3),
                "base_y": round(self.base_y, 3),
            },
        }


def _resolve_kind(style: str, scene_type: str) -> str:
    if scene_type == "auto":
        return "in_place" if style in ("lifestyle", "editorial") else "set"
    return {"action": "action", "abstract": "abstract", "product_packshot": "packshot"}[scene_type]


def plan_scene(options: RenderOptions, background: tuple[int, int, int] | None, seed: int) -> ScenePlan:
    """Decide the scene for ``options`` (validated) and a variant's ``seed``.

    ``background`` is the parsed ``background`` colour (tints the backdrop) or None.
    """
    rng = np.random.default_rng(seed ^ 0x5CE7E)
    style = options.style
    palette, matched = match_palette(options.location)
    kind = _resolve_kind(style, options.scene_type)
    people = options.people == "with_people"
    said = set(words(options.prompt)) | set(words(options.location))
    tint_name = None
    colours = colour_words(options.location, options.prompt)
    if colours:
        tint_name = colours[0]
        palette = tinted(palette, COLOUR_WORDS[colours[0]], 0.4)
    if background is not None:
        tint_name = "#{:02x}{:02x}{:02x}".format(*background)
        palette = tinted(palette, background, 0.65)
    surface = next((w for w in words(options.prompt) if w in MATERIALS), palette.surface)
    exposure = 1.0 - 0.22 * bool(said & DARK_WORDS) + 0.12 * bool(said & BRIGHT_WORDS)
    warmth = palette.warmth + 0.5 * bool(said & WARM_WORDS) - 0.5 * bool(said & COOL_WORDS)
    side = -1 if rng.random() < 0.5 else 1
    jitter = float(rng.uniform(-0.06, 0.06))
    plan = ScenePlan(
        style=style,
        scene_type=options.scene_type,
        kind=kind,
        palette=palette,
        palette_matched=matched,
        surface=surface,
        set_piece="surface",
        backdrop="room",
        environment=palette.environment,
        light="natural",
        light_side=side,
        people=people,
        fill=0.5,
        anchor_x=0.5 + jitter,
        base_y=0.74,
        exposure=exposure,
        warmth=float(np.clip(warmth, -1, 1)),
        depth_blur=0.012,
        tint=tint_name,
    )
    if style == "editorial":
        # Off-centre with the light raking from the product's side; the far side is left for copy.
        plan = replace(
            plan,
            light="dramatic",
            fill=0.56,
            anchor_x=0.27 if side < 0 else 0.73,
            base_y=0.8,
            exposure=plan.exposure * 0.92,
            depth_blur=0.018,
        )
    elif style == "mockup":
        piece = "hand" if people else MOCKUP_SETS.get(palette.name, "podium")
        plan = replace(plan, set_piece=piece, light="studio", fill=0.42, anchor_x=0.5, base_y=0.6, depth_blur=0.02)
        if piece in ("podium", "pedestal"):
            plan = replace(plan, backdrop="sweep" if palette.environment == "none" else "room")
        if piece == "tabletop":
            # A display slab: marble unless the prompt names a material.
            named = next((w for w in words(options.prompt) if w in MATERIALS), None)
            plan = replace(plan, surface=named or "marble", base_y=0.7, fill=0.46)
        if piece == "hand":
            plan = replace(plan, base_y=0.56, fill=0.4, depth_blur=0.03)
    dramatic = style == "editorial"
    if kind == "packshot":
        # A clean sweep in the location's colours; editorial keeps its raking light and off-centre framing,
        # a mockup keeps its display set.
        plan = replace(
            plan,
            backdrop="sweep",
            environment="none",
            surface="paper",
            light="dramatic" if dramatic else "studio",
            fill=0.56 if dramatic else 0.66,
            anchor_x=plan.anchor_x if dramatic else 0.5,
            base_y=0.8 if dramatic else 0.85,
        )
        if style == "mockup" and plan.set_piece in ("shelf", "tabletop"):
            plan = replace(plan, set_piece="podium")
        if style == "mockup" and plan.set_piece != "hand":
            plan = replace(plan, fill=0.44, base_y=0.62)
        elif style == "mockup":
            plan = replace(plan, fill=0.4, base_y=0.56)
        else:
            plan = replace(plan, set_piece="surface")
    elif kind == "abstract":
        piece = "podium" if style == "mockup" and plan.set_piece != "hand" else plan.set_piece
        plan = replace(
            plan,
            backdrop="sweep",
            environment="none",
            set_piece="plinth" if piece == "surface" else piece,
            light="dramatic" if dramatic else "studio",
            fill=0.46 if piece != "podium" else 0.4,
            anchor_x=plan.anchor_x if dramatic else 0.5,
            base_y=0.7 if piece != "podium" else 0.58,
        )
    elif kind == "action":
        plan = replace(
            plan,
            light="dramatic" if dramatic else "dynamic",
            fill=0.5,
            base_y=0.66,
            depth_blur=0.02,
            set_piece="hand" if plan.set_piece == "hand" else "surface",
        )
    return plan


def place_product(plan: ScenePlan, bbox: Box, canvas: tuple[int, int], padding: float | None) -> Placement:
    """Scale and position the product box ``bbox`` (source pixels) on ``canvas`` for ``plan``.

    The product fills ``plan.fill`` of the limiting side (``padding``, when given, sets the margin
    instead, as in the studio style), its centre sits at ``anchor_x`` and its base at ``base_y``; it is
    kept inside the canvas with a small margin.
    """
    width, height = canvas
    bw, bh = bbox[2] - bbox[0], bbox[3] - bbox[1]
    if bw <= 0 or bh <= 0:
        raise ValueError(f"empty product box {bbox}")
    margin = margin_px(padding, canvas)
    if margin is None:
        scale = min(plan.fill * width / bw, plan.fill * height / bh)
        edge = 0.04 * min(width, height)
    else:
        scale = min((width - 2 * margin) / bw, (height - 2 * margin) / bh)
        edge = margin
    pw, ph = max(1, round(bw * scale)), max(1, round(bh * scale))
    left = round(plan.anchor_x * width - pw / 2)
    top = round(plan.base_y * height) - ph
    left = int(np.clip(left, edge, max(edge, width - edge - pw)))
    top = int(np.clip(top, edge, max(edge, height - edge - ph)))
    return Placement(canvas, bbox, float(scale), (left, top, left + pw, top + ph))
