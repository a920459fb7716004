"""editorial: off-centre with empty space for copy, dramatic light."""

from __future__ import annotations

from ..framing import SIDE, Framing
from .base import SceneStyle

STYLE = SceneStyle(
    name="editorial",
    summary="off-centre with empty space for copy, dramatic light.",
    prompt="editorial magazine photograph, off-centre composition with generous negative space for text, "
    "dramatic directional light, deep shadows",
    auto_kind="in_place",
    framing=(
        # Off-centre with the light raking from the product's side; the far side is left for copy.
        Framing(light="dramatic", fill=0.56, anchor_x=SIDE, base_y=0.8, exposure_scale=0.92, depth_blur=0.018),
        # Every kind keeps the raking light and the off-centre framing.
        Framing(kind="packshot", light="dramatic", fill=0.56, anchor_x=SIDE, base_y=0.8),
        Framing(kind="abstract", light="dramatic", anchor_x=SIDE),
        Framing(kind="action", light="dramatic"),
    ),
    shadow_strength=1.2,
    props=False,
    copy_space=True,
)
