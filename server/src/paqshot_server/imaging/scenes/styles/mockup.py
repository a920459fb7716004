"""mockup: the product on a display set (podium, pedestal, shelf, tabletop) or held in a hand."""

from __future__ import annotations

from ..framing import SWEEP_IF_BARE, Framing, PieceChange
from .base import SceneStyle

STYLE = SceneStyle(
    name="mockup",
    summary="the product on a display set (podium, pedestal, shelf, tabletop) or held in a hand.",
    prompt="product mockup photograph on a display set, clean and precise, soft studio light",
    auto_kind="set",
    # The set a mockup stands on, by palette (a hand when people are wanted).
    set_pieces={
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
    },
    default_piece="podium",
    hand_with_people=True,
    framing=(
        Framing(light="studio", fill=0.42, anchor_x=0.5, base_y=0.6, depth_blur=0.02),
        Framing(pieces=("podium", "pedestal"), backdrop=SWEEP_IF_BARE),
        Framing(pieces=("tabletop",), surface_unless_named="marble", base_y=0.7, fill=0.46),  # a display slab
        Framing(pieces=("hand",), base_y=0.56, fill=0.4, depth_blur=0.03),
        Framing(kind="packshot", not_pieces=("hand",), fill=0.44, base_y=0.62),
        Framing(kind="packshot", pieces=("hand",), fill=0.4, base_y=0.56),
    ),
    piece_changes=(
        PieceChange(kind="packshot", pieces=("shelf", "tabletop"), to="podium"),  # a sweep has no wall or table
        PieceChange(kind="abstract", not_pieces=("hand",), to="podium"),
    ),
    shadow_strength=0.9,
)
