"""Runs the engine for a style (decision 7 in ARCHITECTURE.md): :class:`Engines` is the catalogue of what is
installed (``catalog.py``) plus the running part, used by workers and ``paqshot generate``.

Heavy modules (numpy pipelines, onnxruntime) load on first use, once per process; the API process never
imports this module (``tests/server/test_layering.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np
from PIL import Image

from .catalog import EngineCatalog, StyleStatus
from .errors import CutoutRefused
from .imaging.options import AUTO_CUTOUT, CLASSICAL_CUTOUT, RenderOptions
from .imaging.plates.plate import PlateSource
from .imaging.result import ProgressFn, RenderResult
from .imaging.review import PARTIAL_REPAIR, assess, reason
from .imaging.styles import family
from .resources import Resources


class Engines(EngineCatalog):
    """The catalogue plus the engines themselves. Build once per process."""

    def providers(self) -> list[str]:
        """Execution providers models run on here (empty while no model is installed)."""
        if not any(self._installed().values()):
            return []
        from .inference.sessions import probe

        return [probe().provider]

    # ---- running ----------------------------------------------------------------------------------------

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

    _cpu_planned = False

    def _load_args(self) -> dict[str, Any]:
        """Keyword arguments of the model loaders; sets this process's CPU plan before any session is built."""
        if not self._cpu_planned:
            from .inference.sessions import cpu_plan, set_cpu_plan

            concurrent = self.settings.worker_processes * self.settings.worker_threads
            set_cpu_plan(cpu_plan(concurrent, self.settings.inference_threads))
            self._cpu_planned = True
        return {"require_gpu": self.settings.require_gpu, "shared": self.settings.shared_models_dirs}

    def finder_name(self) -> str:
        """Name of what :meth:`find_product` cuts out with: the installed model's, else ``"classical"``."""
        return str(getattr(self.segmenter(), "name", CLASSICAL_CUTOUT))

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
        plates: PlateSource | None = None,
        *,
        consume: bool = False,
    ) -> RenderResult:
        """Run the engine for ``options.style`` on a decoded, normalised image.

        ``hint``: a canonical mask hint of the image (``imaging.hint``) that the cut-out must respect.
        ``plates``: the request's own background image and the backdrop library it may use (``jobs.backdrops``);
        a studio packshot with a background image, or a scene a library plate fits, is rendered on the plate.
        ``consume``: the caller hands ``image`` over and reads nothing of it afterwards but its ``size``: a studio
        packshot's cut-out closes it once its pixels are copied for the model (:func:`~.imaging.cutout.cutout`),
        so the decoded image's memory goes before the model runs.
        """
        status = self.status(options.style)
        self.check_options(options)
        if progress:
            progress(0.02)
        segmenter = self.segmenter(options.cutout_engine)
        if options.remove_photo_shadow and segmenter is not None:  # the classical cut-out always drops cast shadows
            segmenter = segmenter.removing_cast_shadows()
        cutter = segmenter
        removals = None
        if hint is not None:  # the hint constrains whichever matte the cut-out takes: the photo's alpha, a segmenter's
            from .imaging.hint import BACKGROUND, UNKNOWN, HintedSegmenter, hint_own_alpha
            from .imaging.removal import grow_removals
            from .imaging.segment import default_segmenter

            removals = grow_removals(hint, image, BACKGROUND, UNKNOWN)
            hint = removals.hint
            image = hint_own_alpha(image, hint)
            cutter = HintedSegmenter(segmenter or default_segmenter(), hint)
        studio = self.studio(options, plates)
        try:
            if studio:
                from .imaging.packshot import render_packshot

                result = render_packshot(image, options, segmenter=cutter, consume=consume)
            else:
                call = SceneCall(image, options, status, cutter, progress, plates)
                engine = next(e for e in SCENE_ENGINES if e.applies(call))
                result = engine.run(self, call)
        except CutoutRefused as exc:  # named as a result's engine is (below): the job records what ran
            if segmenter is None or exc.engine != segmenter.name:
                raise
            name = f"onnx:{segmenter.name}"
            raise CutoutRefused(exc.message, engine=name, confidence=exc.confidence) from exc
        cutout_engine = str(result.meta.get("cutout_source", ""))
        if segmenter is not None and cutout_engine == segmenter.name:
            cutout_engine = f"onnx:{segmenter.name}"
        if studio:
            result = replace(result, engine=cutout_engine if cutout_engine != "alpha" else "classical")
        result = replace(result, meta={**result.meta, "cutout_engine": cutout_engine})
        if removals is not None and removals.partly > 0:  # a swipe across an opening removes only its band
            left = reason(PARTIAL_REPAIR, f"{removals.partly * 100:.0f} % of that opening is left as it was")
            result = replace(result, review_reasons=(*result.review_reasons, left))
        if progress:
            progress(1.0)
        return assess(result, self.settings.review_threshold)

    def render_releasing(self, image: Image.Image, options: RenderOptions, **kwargs: Any) -> RenderResult:
        """:meth:`render` (same arguments) whose model runs all hand the CPU arena back at their end, whatever the
        image's size (:func:`~paqshot_server.inference.sessions.releasing_arena`): a worker's warm-up, so that an
        idle worker holds no arena, and a large photo's full-resolution pass on a crop, whose arrays follow."""
        from .inference.sessions import releasing_arena

        with releasing_arena():
            return self.render(image, options, **kwargs)

    @staticmethod
    def releases_arena(size: tuple[int, int]) -> bool:
        """Whether a model cut-out of an image of ``size`` (width, height in pixels) hands the CPU arena back after
        each run (:func:`~paqshot_server.inference.segmenters.releases_arena`)."""
        from .inference.segmenters import releases_arena

        return releases_arena(size[1], size[0])

    @staticmethod
    def studio(options: RenderOptions, plates: PlateSource | None = None) -> bool:
        """Whether ``options`` are rendered as a studio packshot: the cut-out on a plain background, nothing else of
        the photo used (a studio style without a background image of the request's own)."""
        return family(options.style) == "studio" and (plates is None or plates.given() is None)

    def inpainter(self, status: StyleStatus) -> Any:
        """The installed inpainting pipeline (loaded once) when ``status`` names a diffusion engine, else None."""
        if not status.engine.startswith("diffusion:"):
            return None
        return self.seam_model()

    def seam_model(self) -> Any:
        """The installed inpainting pipeline (loaded once), whatever the style, or None: what blends a plate's
        contact band."""
        installed = self._installed()
        if installed.get("inpainting") is None and installed.get("text2image") is None:
            return None
        from .inference.diffusion import load_inpaint_pipeline

        return load_inpaint_pipeline(self.settings.models_dir, **self._load_args())


@dataclass(frozen=True)
class SceneCall:
    """What a scene engine is asked to render: the photo, the options, the style's status, the cut-out to use,
    the progress callback, and the plates the request may stand on."""

    image: Image.Image
    options: RenderOptions
    status: StyleStatus
    segmenter: Any
    progress: ProgressFn | None
    plates: PlateSource | None


@dataclass(frozen=True)
class SceneEngine:
    """One way of rendering a scene (and a studio packshot on a plate); a render uses the first entry of
    :data:`SCENE_ENGINES` that applies.

    ``run(engines, call)`` returns the result with its ``engine`` named. To add a scene engine: its module, and
    an entry here ahead of those it should win over.
    """

    name: str
    applies: Callable[[SceneCall], bool]
    run: Callable[[Engines, SceneCall], RenderResult]


def _plate_fits(call: SceneCall) -> bool:
    """A plate is named by the request, or (scenes) a library plate's tags fit it (``imaging.plates.select``)."""
    if call.plates is None:
        return False
    if call.plates.given() is not None:
        return True
    from .imaging.plates.select import eligible

    return family(call.options.style) == "scene" and bool(eligible(call.plates.candidates(), call.options))


def _on_plates(engines: Engines, call: SceneCall) -> RenderResult:
    """The product on the request's plate, or on the library plate each variant's seed picks among the best."""
    import secrets

    from .imaging.options import MAX_SEED
    from .imaging.plates.render import render_on_plate
    from .imaging.plates.select import choose
    from .imaging.scenes.render import variant_seeds

    assert call.plates is not None
    seed = call.options.seed if call.options.seed is not None else secrets.randbelow(MAX_SEED + 1)
    options = replace(call.options, seed=seed)
    given = call.plates.given()
    if given is not None:
        plates = [given]
    else:
        candidates = call.plates.candidates()
        picks = [choose(candidates, options, s) for s in variant_seeds(seed, options.num_variants)]
        plates = [call.plates.load(p) for p in picks if p is not None]
    return render_on_plate(
        call.image, options, plates, segmenter=call.segmenter, inpainter=engines.seam_model(), progress=call.progress
    )


def _generated_set(engines: Engines, call: SceneCall) -> RenderResult:
    """The procedural set, repainted by the installed inpainting model when there is one (``scenes.render``)."""
    from .imaging.scenes.render import render_scene

    return render_scene(
        call.image,
        call.options,
        inpainter=engines.inpainter(call.status),
        segmenter=call.segmenter,
        progress=call.progress,
    )


SCENE_ENGINES: tuple[SceneEngine, ...] = (
    SceneEngine("plate", applies=_plate_fits, run=_on_plates),
    SceneEngine("procedural or diffusion", applies=lambda _call: True, run=_generated_set),
)


@dataclass
class LocalResources(Resources):
    """The process resources plus the engines that render here: workers and the CLI (never the API process,
    which has only the catalogue)."""

    @cached_property
    def engines(self) -> Engines:
        return Engines(self.settings)

    @property
    def catalog(self) -> Engines:  # one object answers both here
        return self.engines
