"""Chooses and runs the engine for a style from what is installed (decision 7 in ARCHITECTURE.md).

Used by the worker, by ``paqshot generate`` and by the API (option checks before a job is queued, the engine
in ``GET /v1/capabilities``). Every style always has an engine: the classical segmenter and the procedural
scene engine need no weights; installed models upgrade them. Heavy modules (numpy pipelines, onnxruntime)
load on first use, once per process.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from PIL import Image

from .errors import InvalidRequest
from .imaging.options import STYLES, RenderOptions
from .imaging.result import RenderResult
from .inference.store import REGISTRY
from .settings import Settings

ProgressFn = Callable[[float], None]
SCENE_STYLES = ("lifestyle", "editorial", "mockup")


@dataclass(frozen=True)
class StyleStatus:
    """The engine that serves a style here."""

    style: str
    engine: str


class Engines:
    """The engines available under one settings object. Build once per process; cheap to query."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._registry_mtime: float | None = None
        self._models: dict[str, Any] = {}

    # ---- what is installed ---------------------------------------------------------------------------

    def _installed(self) -> dict[str, Any]:
        """Best installed model per role, re-read only when the model registry file changes."""
        registry = self.settings.models_dir / REGISTRY
        try:
            mtime = os.stat(registry).st_mtime
        except FileNotFoundError:
            self._registry_mtime, self._models = None, {}
            return self._models
        if mtime != self._registry_mtime:
            from .inference.store import ModelStore

            store = ModelStore(self.settings.models_dir)
            self._models = {role: store.best(role) for role in ("segmentation", "inpainting", "text2image")}
            self._registry_mtime = mtime
        return self._models

    def installed_models(self) -> list[dict[str, Any]]:
        """Every installed model, as ``GET /v1/models`` shows it."""
        if not (self.settings.models_dir / REGISTRY).exists():
            return []
        from .inference.store import ModelStore

        return [m.as_dict() for m in ModelStore(self.settings.models_dir).list()]

    def providers(self) -> list[str]:
        """Execution providers models run on here (empty while no model is installed)."""
        if not any(self._installed().values()):
            return []
        from .inference.sessions import probe

        return [probe().provider]

    def status(self, style: str) -> StyleStatus:
        """Report the engine that would serve ``style``."""
        models = self._installed()
        if style == "studio_packshot":
            seg = models.get("segmentation")
            return StyleStatus(style, f"onnx:{seg.id}" if seg else "classical")
        # The procedural scene engine needs no weights; an installed inpainting model upgrades it.
        generator = models.get("inpainting") or models.get("text2image")
        if generator is not None:
            return StyleStatus(style, f"diffusion:{generator.id}")
        return StyleStatus(style, "procedural")

    def all_status(self) -> list[StyleStatus]:
        return [self.status(style) for style in STYLES]

    @staticmethod
    def check_options(options: RenderOptions) -> None:
        """Combinations no engine accepts, refused before any work (400 at the API, an error in the CLI)."""
        if options.style == "studio_packshot" and options.num_variants > 1:
            raise InvalidRequest("num_variants applies to scene styles; a studio packshot has one result.")
        if options.style != "studio_packshot" and options.shadow == "natural":
            raise InvalidRequest("shadow 'natural' keeps the photo's own shadow and applies to studio_packshot only.")

    # ---- running ----------------------------------------------------------------------------------------

    def segmenter(self) -> Any:
        """The installed cut-out model (loaded once), or None for the classical segmenter."""
        if self._installed().get("segmentation") is None:
            return None
        from .inference.segmenters import load_default_segmenter

        return load_default_segmenter(self.settings.models_dir, require_gpu=self.settings.require_gpu)

    def find_product(self, image: Image.Image) -> np.ndarray:
        """uint8 (H, W) alpha of the product in ``image`` (its own alpha, else the installed cut-out): how the
        compliance check finds the product in an image it did not make."""
        from .imaging.cutout import cutout

        return cutout(image, self.segmenter()).alpha8

    def render(self, image: Image.Image, options: RenderOptions, progress: ProgressFn | None = None) -> RenderResult:
        """Run the engine for ``options.style`` on a decoded, normalised image."""
        status = self.status(options.style)
        self.check_options(options)
        if progress:
            progress(0.02)
        if options.style == "studio_packshot":
            from .imaging.packshot import render_packshot

            segmenter = self.segmenter()
            result = render_packshot(image, options, segmenter=segmenter)
            if segmenter is not None and result.engine == segmenter.name:
                result = replace(result, engine=f"onnx:{segmenter.name}")
        else:
            result = self._render_scene(image, options, status, progress)
        if progress:
            progress(1.0)
        return result

    def _render_scene(
        self, image: Image.Image, options: RenderOptions, status: StyleStatus, progress: ProgressFn | None
    ) -> RenderResult:
        from .imaging import scenes

        inpainter = None
        if status.engine.startswith("diffusion:"):
            from .inference.diffusion import load_inpaint_pipeline

            inpainter = load_inpaint_pipeline(self.settings.models_dir, require_gpu=self.settings.require_gpu)
        result: RenderResult = scenes.render_scene(
            image, options, inpainter=inpainter, segmenter=self.segmenter(), progress=progress
        )
        return result
