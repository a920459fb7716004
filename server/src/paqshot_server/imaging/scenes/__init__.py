"""Scenes: the scene styles (``styles/``) in their kinds of scene (``kinds.py``), procedural without weights,
generative with an inpainting model. See ``docs/scenes.md`` for what each request field does here.

Importing this package loads nothing heavy: the style and kind tables are plain data; ``render_scene`` and
``validate`` load the renderer on first use.
"""

from __future__ import annotations

from typing import Any

from .styles import SCENE_STYLES as _TABLE

SCENE_STYLES = tuple(_TABLE)
__all__ = ["SCENE_STYLES", "Inpainter", "render_scene", "validate"]


def __getattr__(name: str) -> Any:
    if name in ("render_scene", "validate"):
        from . import render

        return getattr(render, name)
    if name == "Inpainter":
        from .generative import Inpainter

        return Inpainter
    raise AttributeError(name)
