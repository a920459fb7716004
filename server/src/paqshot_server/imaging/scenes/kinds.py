"""The scene kinds, registered in :data:`KINDS` (the one table a new kind joins): what each is in the request
(``scene_type``) and the prompt, how it frames the product, what the procedural engine draws for it.

A kind's drawing lives in the modules that draw (``sets.py``, ``props.py``); its entry names the functions.
To add a kind: its drawing functions, an entry here, and (when clients may ask for it) its ``scene_type`` in
``imaging.options.SceneType``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .backdrop import Stage
from .canvas import Canvas
from .framing import Framing, PieceChange
from .plan import ScenePlan
from .sets import abstract_props, motion, particles
from .shapes import ground_shadow

Draw = Callable[[Canvas, ScenePlan, Stage, np.random.Generator], list[str]]


@dataclass(frozen=True)
class SceneKind:
    """One scene kind (see the module docstring)."""

    name: str
    scene_type: str | None  # the request's scene_type that asks for it; None: only through a style's auto
    summary: str = ""  # a few words for the API's documentation of scene_type
    prompt: str = ""  # the kind's phrase in the generative prompt
    names_place: bool = True  # the prompt says where (a clean sweep or an abstract set is nowhere)
    framing: tuple[Framing, ...] = ()
    piece_changes: tuple[PieceChange, ...] = ()
    figures: bool = True  # passers-by behind the set when people are wanted
    reaching_hand: bool = True  # a hand reaching for the product when people are wanted
    props: bool = False  # the palette's supporting prop on a plain surface
    lifted: bool = False  # the product is in the air: no contact shadow, a soft shadow floats
    horizon_drop: float = 0.0  # share of the height the horizon sits lower (a seamless sweep shows more floor)
    decorate: Draw | None = None  # drawn after the surface, before the set piece
    finish: Draw | None = None  # drawn last, over the light


def _abstract(cv: Canvas, plan: ScenePlan, stage: Stage, rng: np.random.Generator) -> list[str]:
    return abstract_props(cv, plan, stage, rng)


def _action(cv: Canvas, plan: ScenePlan, stage: Stage, rng: np.random.Generator) -> list[str]:
    if plan.set_piece != "hand":  # the lifted product's shadow on the surface below it
        ground_shadow(cv, stage.centre_x, stage.floor_y, stage.product_w * 0.5, max(2.0, cv.h * 0.018), 0.4)
    motion(cv, plan, stage, rng)
    return ["motion-streaks"]


def _particles(cv: Canvas, plan: ScenePlan, stage: Stage, rng: np.random.Generator) -> list[str]:
    particles(cv, plan, stage, rng)
    return ["particles"]


KINDS: dict[str, SceneKind] = {
    k.name: k
    for k in (
        SceneKind("in_place", None, props=True),  # a surface in its location (lifestyle, editorial)
        SceneKind("set", None),  # a display set (mockup)
        SceneKind(
            "packshot",
            "product_packshot",
            summary="clean seamless backdrop in the location's colours",
            prompt="clean product packshot on a seamless backdrop, centred, even light",
            names_place=False,
            framing=(  # a clean sweep in the location's colours
                Framing(
                    backdrop="sweep",
                    environment="none",
                    surface="paper",
                    light="studio",
                    fill=0.66,
                    anchor_x=0.5,
                    base_y=0.85,
                ),
            ),
            horizon_drop=0.05,
        ),
        SceneKind(
            "abstract",
            "abstract",
            summary="geometric props",
            prompt="abstract set of geometric shapes, an arch, a sphere, a column and a cube in matching colours",
            names_place=False,
            framing=(
                Framing(backdrop="sweep", environment="none", light="studio", fill=0.46, anchor_x=0.5, base_y=0.7),
                Framing(pieces=("podium",), fill=0.4, base_y=0.58),
            ),
            piece_changes=(PieceChange(kind="abstract", pieces=("surface",), to="plinth"),),
            figures=False,
            reaching_hand=False,
            decorate=_abstract,
        ),
        SceneKind(
            "action",
            "action",
            summary="motion lines, droplets, product lifted",
            prompt="dynamic action shot, motion, flying droplets and particles, energetic diagonal light",
            framing=(Framing(light="dynamic", fill=0.5, base_y=0.66, depth_blur=0.02),),
            piece_changes=(PieceChange(kind="action", not_pieces=("hand",), to="surface"),),
            lifted=True,
            decorate=_action,
            finish=_particles,
        ),
    )
}
BY_SCENE_TYPE = {k.scene_type: k for k in KINDS.values() if k.scene_type}


def scene_type_doc() -> str:
    """What each scene_type asks for (the API's description of ``scene_type``)."""
    kinds = " | ".join(f"{k.scene_type} ({k.summary})" for k in BY_SCENE_TYPE.values())
    return f"auto (from style and location) | {kinds}. Scene styles only."
