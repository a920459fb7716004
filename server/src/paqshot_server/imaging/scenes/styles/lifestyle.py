"""lifestyle: the product in place in a real setting, natural light, about half the frame."""

from __future__ import annotations

from .base import SceneStyle

STYLE = SceneStyle(
    name="lifestyle",
    summary="the product in place in a real setting, natural light, about half the frame.",
    prompt="lifestyle product photograph, the product in use in a real place, natural light, shallow depth of field",
    auto_kind="in_place",
)
