"""Scenes: the lifestyle, editorial and mockup styles (procedural without weights, generative with an
inpainting model). See ``docs/scenes.md`` for what each request field does here.
"""

from __future__ import annotations

from .generative import Inpainter
from .render import SCENE_STYLES, render_scene, validate

__all__ = ["SCENE_STYLES", "Inpainter", "render_scene", "validate"]
