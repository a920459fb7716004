"""Chooses and runs the engine for a style from what is installed (decision 7 in ARCHITECTURE.md).

Used by the worker, by ``paqshot generate`` and by the API (to answer 403 before a job is queued).
A style with no engine raises Forbidden naming what to install; nothing here fakes an image.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

from .errors import Forbidden
from .imaging.options import STYLES, RenderOptions
from .imaging.result import RenderResult
from .settings import Settings

ProgressFn = Callable[[float], None]


@dataclass(frozen=True)
class StyleStatus:
    """Whether a style can run here, with which engine, or why not."""

    style: str
    available: bool
    engine: str | None
    reason: str | None


class Engines:
    """The engines available under one settings object. Build once per worker; cheap to query."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def status(self, style: str) -> StyleStatus:
        """Report the engine that would serve ``style``."""
        if style == "studio_packshot":
            return StyleStatus(style, True, "classical", None)
        return StyleStatus(
            style,
            False,
            None,
            f"Style '{style}' needs a scene engine that is not installed on this appliance "
            "(an inpainting model via 'models install', or the procedural scene engine).",
        )

    def providers(self) -> list[str]:
        """Execution providers the loaded models run on (empty while no model is installed)."""
        return []

    def all_status(self) -> list[StyleStatus]:
        return [self.status(style) for style in STYLES]

    def check(self, style: str) -> None:
        """Raise Forbidden when ``style`` cannot run here."""
        status = self.status(style)
        if not status.available:
            raise Forbidden(status.reason or f"Style '{style}' is not available.")

    def render(self, image: Image.Image, options: RenderOptions, progress: ProgressFn | None = None) -> RenderResult:
        """Run the engine for ``options.style`` on a decoded, normalised image."""
        self.check(options.style)
        from .imaging.packshot import render_packshot  # imported lazily: numpy/scipy load once, when used

        if progress:
            progress(0.05)
        result = render_packshot(image, options)
        if progress:
            progress(1.0)
        return result
