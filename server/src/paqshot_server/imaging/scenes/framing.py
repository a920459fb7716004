"""Framing rules as data: where a scene's product sits, how it is lit, and what it stands on, as rows of a
table that scene styles (``styles/``) and scene kinds (``kinds.py``) contribute to.

A :class:`Framing` row names where it applies (style, kind, set pieces) and the plan fields it sets; unset
fields (None) leave the plan as it is. :func:`apply_framing` applies, in this order: the style's rows for
every kind (matched on the set piece the style chose), the kind's piece changes, the kind's own rows, then the
style's rows for that kind (matched on the final set piece). Later rows win. The numbers are shares of the
canvas (``fill`` of the limiting side, ``anchor_x`` of the width, ``base_y`` of the height, ``depth_blur`` of
the long side), tuned by eye on the contact sheets in ``docs/scenes.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    from .plan import ScenePlan

ANY = "*"
SIDE: Final = "side"  # anchor_x: off-centre on the key light's side, leaving the other side empty (for copy)
SWEEP_IF_BARE: Final = "sweep_if_bare"  # backdrop: a paper sweep when the palette has no environment, else the room
# Where an off-centre product sits (share of the width) for a key light from the left / the right.
SIDE_ANCHORS = (0.27, 0.73)


@dataclass(frozen=True)
class Framing:
    """One row: where it applies, and the plan fields it sets (None: unchanged)."""

    style: str = ANY
    kind: str = ANY
    pieces: tuple[str, ...] = ()  # set pieces it applies to (empty: any)
    not_pieces: tuple[str, ...] = ()  # set pieces it never applies to
    light: str | None = None
    fill: float | None = None
    anchor_x: float | Literal["side"] | None = None
    base_y: float | None = None
    depth_blur: float | None = None
    exposure_scale: float | None = None
    backdrop: str | None = None
    environment: str | None = None
    surface: str | None = None
    surface_unless_named: str | None = None  # a material, unless the prompt names one

    def applies(self, style: str, kind: str, piece: str) -> bool:
        return (
            self.style in (ANY, style)
            and self.kind in (ANY, kind)
            and (not self.pieces or piece in self.pieces)
            and piece not in self.not_pieces
        )


@dataclass(frozen=True)
class PieceChange:
    """For scenes of ``kind``: the set piece ``to`` replaces those in ``pieces`` (or all but ``not_pieces``)."""

    kind: str
    to: str
    style: str = ANY
    pieces: tuple[str, ...] = ()
    not_pieces: tuple[str, ...] = ()

    def applies(self, style: str, kind: str, piece: str) -> bool:
        return Framing(self.style, self.kind, self.pieces, self.not_pieces).applies(style, kind, piece)


def _set(plan: ScenePlan, row: Framing, named_material: str | None) -> ScenePlan:
    changes: dict[str, object] = {}
    for name in ("light", "fill", "base_y", "depth_blur", "environment", "surface"):
        value = getattr(row, name)
        if value is not None:
            changes[name] = value
    if row.anchor_x == SIDE:
        changes["anchor_x"] = SIDE_ANCHORS[0] if plan.light_side < 0 else SIDE_ANCHORS[1]
    elif row.anchor_x is not None:
        changes["anchor_x"] = row.anchor_x
    if row.exposure_scale is not None:
        changes["exposure"] = plan.exposure * row.exposure_scale
    if row.backdrop == SWEEP_IF_BARE:
        changes["backdrop"] = "sweep" if plan.palette.environment == "none" else "room"
    elif row.backdrop is not None:
        changes["backdrop"] = row.backdrop
    if row.surface_unless_named is not None:
        changes["surface"] = named_material or row.surface_unless_named
    return replace(plan, **changes) if changes else plan  # type: ignore[arg-type]


def apply_framing(
    plan: ScenePlan,
    style_rows: Iterable[Framing],
    kind_rows: Iterable[Framing],
    piece_changes: Iterable[PieceChange],
    named_material: str | None,
) -> ScenePlan:
    """``plan`` framed by the rows of its style and kind (order in the module docstring)."""
    style_rows = tuple(style_rows)
    for row in style_rows:
        if row.kind == ANY and row.applies(plan.style, plan.kind, plan.set_piece):
            plan = _set(plan, row, named_material)
    for change in piece_changes:
        if change.applies(plan.style, plan.kind, plan.set_piece):
            plan = replace(plan, set_piece=change.to)
    for row in (*kind_rows, *(r for r in style_rows if r.kind != ANY)):
        if row.applies(plan.style, plan.kind, plan.set_piece):
            plan = _set(plan, row, named_material)
    return plan
