"""What a scene is made of: :class:`ScenePlan`, decided by ``layout_rules.plan_scene`` and read by the
procedural engine (which draws it), the prompt builder (which describes it) and ``meta["scene"]``."""

from __future__ import annotations

from dataclasses import dataclass

from .palettes import Palette


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
