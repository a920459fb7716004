"""Every style the appliance renders, in one table: the studio packshot (``packshot.py``) and the scene styles
(``scenes/styles/``). The API's documentation of ``style``, the engine catalogue and the engines read it.

The API's ``style`` values are the ``imaging.options.Style`` Literal (the public contract, kept static for the
type checker); ``tests/server/scenes/test_style_registry.py`` fails until it and this table agree.
"""

from __future__ import annotations

from typing import Literal

from .scenes.styles import SCENE_STYLES

STUDIO = "studio_packshot"
STUDIO_SUMMARY = "the product cut out on a plain background."
Family = Literal["studio", "scene"]

STYLE_SUMMARIES: dict[str, str] = {STUDIO: STUDIO_SUMMARY, **{s.name: s.summary for s in SCENE_STYLES.values()}}


def family(style: str) -> Family:
    """``studio`` (cut-out on a plain background: the cut-out engine) or ``scene`` (a set around the product)."""
    return "studio" if style == STUDIO else "scene"


def style_doc() -> str:
    """What each style does, in one paragraph (the API's description of ``style``)."""
    return " ".join(f"{name}: {summary}" for name, summary in STYLE_SUMMARIES.items())
