"""The scene styles: one module each, registered in :data:`SCENE_STYLES` (the one table a new style joins).

A :class:`SceneStyle` says everything that differs between scene styles: what it is (for the API's
documentation), its photography in the prompt, the kind of scene ``scene_type: auto`` gives, what the product
stands on, how strong its shadow is, whether supporting props and passers-by fill the frame, and its
framing rows (``framing.py``). To add a style: a module here defining ``STYLE``, its entry below, and its name
in ``imaging.options.Style`` (the API's contract; a test fails until the two agree).
"""

from __future__ import annotations

from . import editorial, lifestyle, mockup
from .base import SceneStyle

SCENE_STYLES: dict[str, SceneStyle] = {s.name: s for s in (lifestyle.STYLE, editorial.STYLE, mockup.STYLE)}


def scene_style(name: str) -> SceneStyle:
    """The scene style ``name`` (KeyError for a name that is not a scene style)."""
    return SCENE_STYLES[name]
