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
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from .errors import Forbidden, InvalidRequest
from .imaging.options import AUTO_CUTOUT, CLASSICAL_CUTOUT, STYLES, RenderOptions
from .imaging.result import RenderResult
from .imaging.review import assess
from .inference.store import REGISTRY
from .settings import Settings

if TYPE_CHECKING:
    import numpy as np

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
        self._stamp: tuple[int | None, ...] | None = None
        self._models: dict[str, Any] = {}  # id -> InstalledModel
        self._cpu_planned = False

    # ---- what is installed ---------------------------------------------------------------------------

    def _registry_stamp(self) -> tuple[int | None, ...]:
        stamps: list[int | None] = []
        for folder in (self.settings.models_dir, *self.settings.shared_models_dirs):
            try:
                stamps.append(os.stat(folder / REGISTRY).st_mtime_ns)
            except FileNotFoundError:
                stamps.append(None)
        return tuple(stamps)

    def _all(self) -> dict[str, Any]:
        """Every installed model by id (data folder, then install level), re-read when a registry changes.

        On a change (an install or removal by any process) this process's cached sessions of models that are
        gone or were reinstalled are dropped.
        """
        stamp = self._registry_stamp()
        if stamp != self._stamp:
            from .inference.store import evict_stale

            models: dict[str, Any] = {}
            if any(s is not None for s in stamp):
                models = {m.id: m for m in self._store().list()}
            if self._stamp is not None:
                evict_stale(models.values())
            self._models, self._stamp = models, stamp
        return self._models

    def _store(self) -> Any:
        from .inference.store import ModelStore

        return ModelStore(self.settings.models_dir, shared=self.settings.shared_models_dirs)

    def _installed(self) -> dict[str, Any]:
        """Best installed model per role (highest priority; the store lists them best first)."""
        best: dict[str, Any] = {}
        for model in self._all().values():
            best.setdefault(model.role, model)
        return best

    def installed_models(self) -> list[dict[str, Any]]:
        """Every installed model, as ``GET /v1/models`` shows it."""
        return [m.as_dict() for m in self._all().values()]

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

    def check_cutout_engine(self, choice: str) -> None:
        """Raise Forbidden when ``choice`` names a cut-out model that is not installed here."""
        if choice in (AUTO_CUTOUT, CLASSICAL_CUTOUT):
            return
        model = self._all().get(choice)
        if model is None or model.role != "segmentation":
            raise Forbidden(
                f"Cut-out engine '{choice}' is not installed here: use auto or classical, or install the model "
                f"(`models pull {choice}` or `models install PATH`)."
            )

    def segmenter(self, choice: str = AUTO_CUTOUT) -> Any:
        """The cut-out model ``choice`` names (loaded once): auto = the best installed one, or None for classical.

        Raises:
            Forbidden: ``choice`` is a model id that is not installed.
        """
        if choice == CLASSICAL_CUTOUT:
            return None
        from .inference.segmenters import load_default_segmenter, load_segmenter

        if choice == AUTO_CUTOUT:
            if self._installed().get("segmentation") is None:
                return None
            return load_default_segmenter(self.settings.models_dir, **self._load_args())
        self.check_cutout_engine(choice)
        return load_segmenter(self.settings.models_dir, choice, **self._load_args())

    def _load_args(self) -> dict[str, Any]:
        """Keyword arguments of the model loaders; sets this process's CPU plan before any session is built."""
        if not self._cpu_planned:
            from .inference.sessions import cpu_plan, set_cpu_plan

            concurrent = self.settings.worker_processes * self.settings.worker_threads
            set_cpu_plan(cpu_plan(concurrent, self.settings.inference_threads))
            self._cpu_planned = True
        return {"require_gpu": self.settings.require_gpu, "shared": self.settings.shared_models_dirs}

    def find_product(self, image: Image.Image) -> np.ndarray:
        """uint8 (H, W) alpha of the product in ``image`` (its own alpha, else the installed cut-out): how the
        compliance check finds the product in an image it did not make."""
        from .imaging.cutout import cutout

        return cutout(image, self.segmenter()).alpha8

    def render(
        self,
        image: Image.Image,
        options: RenderOptions,
        progress: ProgressFn | None = None,
        hint: np.ndarray | None = None,
    ) -> RenderResult:
        """Run the engine for ``options.style`` on a decoded, normalised image.

        ``hint``: a canonical mask hint of the image (``imaging.hint``) that the cut-out must respect.
        """
        status = self.status(options.style)
        self.check_options(options)
        if progress:
            progress(0.02)
        segmenter = self.segmenter(options.cutout_engine)
        cutter = segmenter
        if hint is not None:
            from .imaging.hint import HintedSegmenter
            from .imaging.segment import default_segmenter

            cutter = HintedSegmenter(segmenter or default_segmenter(), hint)
        if options.style == "studio_packshot":
            from .imaging.packshot import render_packshot

            result = render_packshot(image, options, segmenter=cutter)
        else:
            result = self._render_scene(image, options, status, cutter, progress)
        cutout_engine = str(result.meta.get("cutout_source", ""))
        if segmenter is not None and cutout_engine == segmenter.name:
            cutout_engine = f"onnx:{segmenter.name}"
        if options.style == "studio_packshot":
            result = replace(result, engine=cutout_engine if cutout_engine != "alpha" else "classical")
        result = replace(result, meta={**result.meta, "cutout_engine": cutout_engine})
        if progress:
            progress(1.0)
        return assess(result, self.settings.review_threshold)

    def _render_scene(
        self,
        image: Image.Image,
        options: RenderOptions,
        status: StyleStatus,
        segmenter: Any,
        progress: ProgressFn | None,
    ) -> RenderResult:
        from .imaging import scenes

        inpainter = None
        if status.engine.startswith("diffusion:"):
            from .inference.diffusion import load_inpaint_pipeline

            inpainter = load_inpaint_pipeline(self.settings.models_dir, **self._load_args())
        result: RenderResult = scenes.render_scene(
            image, options, inpainter=inpainter, segmenter=segmenter, progress=progress
        )
        return result
