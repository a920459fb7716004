"""Scene planning: from the request to a :class:`ScenePlan` (what set, palette, light, layout), and the
product's placement on the canvas for that plan. What differs between styles and kinds is data in their
tables (``styles/``, ``kinds.py``, applied by ``framing.py``); this module holds what every scene shares.

One plan feeds both engines: the procedural renderer draws it, the generative engine describes it in its
prompt and uses the procedural render as its starting structure.
"""

from __future__ import annotations

import numpy as np

from ..layout import Box, Placement, margin_px
from ..options import RenderOptions
from .framing import apply_framing
from .kinds import BY_SCENE_TYPE, KINDS, SceneKind
from .palettes import COLOUR_WORDS, colour_words, match_palette, tinted, words
from .plan import ScenePlan
from .styles import SceneStyle, scene_style
from .textures import MATERIALS

DARK_WORDS = {"dark", "moody", "dramatic", "night", "noir", "shadowy", "low"}
BRIGHT_WORDS = {"bright", "airy", "light", "clean", "fresh", "sunny", "high"}
WARM_WORDS = {"sunset", "golden", "warm", "autumn", "candle", "cosy", "cozy"}
COOL_WORDS = {"cool", "cold", "winter", "icy", "blue", "clinical"}
# Before any style or kind frames it: the product half the frame's limiting side, a little off centre
# (the variant's jitter), its base three quarters down, natural light in a room.
BASE_FILL, BASE_Y, BASE_DEPTH_BLUR, ANCHOR_JITTER = 0.5, 0.74, 0.012, 0.06


def scene_kind(style: SceneStyle, scene_type: str) -> SceneKind:
    """The kind of scene ``scene_type`` asks for (``auto``: the style's own)."""
    return KINDS[style.auto_kind] if scene_type == "auto" else BY_SCENE_TYPE[scene_type]


def plan_scene(options: RenderOptions, background: tuple[int, int, int] | None, seed: int) -> ScenePlan:
    """Decide the scene for ``options`` (validated) and a variant's ``seed``.

    ``background`` is the parsed ``background`` colour (tints the backdrop) or None. The palette, tint,
    surface, exposure and warmth come from the location and the prompt's words; the style and the kind then
    frame it (``framing.py``: the rows of ``styles/`` and ``kinds.py``).
    """
    rng = np.random.default_rng(seed ^ 0x5CE7E)
    style = scene_style(options.style)
    kind = scene_kind(style, options.scene_type)
    palette, matched = match_palette(options.location)
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
    named_material = next((w for w in words(options.prompt) if w in MATERIALS), None)
    exposure = 1.0 - 0.22 * bool(said & DARK_WORDS) + 0.12 * bool(said & BRIGHT_WORDS)
    warmth = palette.warmth + 0.5 * bool(said & WARM_WORDS) - 0.5 * bool(said & COOL_WORDS)
    side = -1 if rng.random() < 0.5 else 1
    jitter = float(rng.uniform(-ANCHOR_JITTER, ANCHOR_JITTER))
    plan = ScenePlan(
        style=style.name,
        scene_type=options.scene_type,
        kind=kind.name,
        palette=palette,
        palette_matched=matched,
        surface=named_material or palette.surface,
        set_piece=style.set_piece(palette.name, people),
        backdrop="room",
        environment=palette.environment,
        light="natural",
        light_side=side,
        people=people,
        fill=BASE_FILL,
        anchor_x=0.5 + jitter,
        base_y=BASE_Y,
        exposure=exposure,
        warmth=float(np.clip(warmth, -1, 1)),
        depth_blur=BASE_DEPTH_BLUR,
        tint=tint_name,
    )
    return apply_framing(plan, style.framing, kind.framing, (*style.piece_changes, *kind.piece_changes), named_material)


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
