"""What a scene style is (the registry is ``styles/__init__.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..framing import Framing, PieceChange


@dataclass(frozen=True)
class SceneStyle:
    """One scene style (see the module docstring)."""

    name: str
    summary: str  # one sentence for the API's documentation of ``style``
    prompt: str  # the style's photography, first in the generative prompt
    auto_kind: str  # the scene kind ``scene_type: auto`` gives (``kinds.KINDS``)
    framing: tuple[Framing, ...] = ()
    piece_changes: tuple[PieceChange, ...] = ()
    set_pieces: Mapping[str, str] = field(default_factory=dict)  # palette -> set piece (default "surface")
    default_piece: str = "surface"
    hand_with_people: bool = False  # with_people: the product is held in a hand instead
    shadow_strength: float = 1.0
    props: bool = True  # the palette's supporting prop beside the product
    copy_space: bool = False  # keep the empty side clear: at most one passer-by, at the far edge

    def set_piece(self, palette: str, people: bool) -> str:
        """What the product stands on for a palette (before the scene kind changes it)."""
        if people and self.hand_with_people:
            return "hand"
        return self.set_pieces.get(palette, self.default_piece)
