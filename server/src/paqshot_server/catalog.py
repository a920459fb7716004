"""What this appliance can run: the installed models, the engine that serves each style, the option
combinations no engine accepts. Cheap and import-light: the API process uses it (capabilities, submission
checks) and never loads an inference runtime; ``engines.Engines`` adds the running part for workers and the CLI.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from .errors import Forbidden, InvalidRequest
from .imaging.layout import exact_canvas_size, margin_px
from .imaging.options import AUTO_CUTOUT, CLASSICAL_CUTOUT, STYLES, RenderOptions
from .imaging.styles import family
from .inference.store import REGISTRY
from .settings import Settings


@dataclass(frozen=True)
class StyleStatus:
    """The engine that serves a style here."""

    style: str
    engine: str


@dataclass(frozen=True)
class EngineChoice:
    """One way a style can be rendered here, whether it is available, and in words why (or how to get it)."""

    name: str  # plate, diffusion, procedural, cutout
    available: bool
    detail: str


class EngineCatalog:
    """The engines available under one settings object. Build once per process; cheap to query."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._stamp: tuple[int | None, ...] | None = None
        self._models: dict[str, Any] = {}  # id -> InstalledModel

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

    def status(self, style: str) -> StyleStatus:
        """Report the engine that would serve ``style``."""
        models = self._installed()
        if family(style) == "studio":
            seg = models.get("segmentation")
            return StyleStatus(style, f"onnx:{seg.id}" if seg else "classical")
        # The procedural scene engine needs no weights; an installed inpainting model upgrades it.
        generator = models.get("inpainting") or models.get("text2image")
        if generator is not None:
            return StyleStatus(style, f"diffusion:{generator.id}")
        return StyleStatus(style, "procedural")

    def all_status(self) -> list[StyleStatus]:
        return [self.status(style) for style in STYLES]

    def choices(self, style: str, plates: int) -> list[EngineChoice]:
        """Every engine of ``style`` and whether it is available, for a caller with ``plates`` library plates
        (its own and the shared ones). A plate wins when the request names one or (scenes) one's tags fit; then
        diffusion, when a model is installed; the procedural set otherwise."""
        library = (
            f"{plates} backdrop plate{'s' if plates != 1 else ''} in the library"
            if plates
            else "no backdrop plates in the library yet (POST /v1/backdrops)"
        )
        if family(style) == "studio":
            return [
                EngineChoice(self.status(style).engine, True, "the cut-out on a plain background"),
                EngineChoice("plate", True, f"with background_image or backdrop; {library}"),
            ]
        generator = self._installed().get("inpainting") or self._installed().get("text2image")
        return [
            EngineChoice(
                "plate", plates > 0, f"{library}; a scene uses one when its tags fit, any request may send one"
            ),
            EngineChoice(
                "diffusion",
                generator is not None,
                f"diffusion:{generator.id}" if generator else "no inpainting model installed (`models install`)",
            ),
            EngineChoice("procedural", True, "sets drawn by code (preview quality): the fallback"),
        ]

    @staticmethod
    def check_options(options: RenderOptions, *, background_image: bool = False) -> None:
        """Combinations no engine accepts, refused before any work (400 at the API, an error in the CLI).

        ``background_image``: the request sends its own plate (the image itself is not an option). A ``padding``
        that leaves the product no room on the canvas ``options`` ask for is refused here too (the canvas is known
        before the photo is), unless ``placement.scale`` sizes the product instead (``imaging.plates``).
        """
        if options.padding is not None and (options.placement is None or options.placement.scale is None):
            margin_px(options.padding, exact_canvas_size(options.aspect_ratio, options.long_side))
        if background_image and options.backdrop is not None:
            raise InvalidRequest("Send background_image or backdrop, not both: each names the plate to stand on.")
        if (background_image or options.backdrop is not None) and options.shadow == "natural":
            raise InvalidRequest(
                "shadow 'natural' keeps the photo's own shadow, which does not belong on another background: use "
                "soft, hard, floating or none with background_image or backdrop."
            )
        if family(options.style) == "studio" and options.num_variants > 1:
            raise InvalidRequest("num_variants applies to scene styles; a studio packshot has one result.")
        if family(options.style) != "studio" and options.shadow == "natural":
            raise InvalidRequest("shadow 'natural' keeps the photo's own shadow and applies to studio_packshot only.")

    def check_cutout_engine(self, choice: str) -> None:
        """Refuse a ``cutout_engine`` that names no cut-out model installed here, in words that say what to do.

        Raises:
            Forbidden: ``choice`` is a cut-out model of the catalogue that is not installed here (403, the spec's
                "feature not available"): the message says how the operator installs it (``models pull`` only
                where the catalogue can fetch its files).
            InvalidRequest: ``choice`` names no cut-out model at all (a typo, or a model of another role): a
                mistake in the request (400), whose message names what can be used here. The served schema takes
                any id of the pattern, as what is installed changes while the appliance runs.
        """
        if choice in (AUTO_CUTOUT, CLASSICAL_CUTOUT):
            return
        installed = self._all()
        model = installed.get(choice)
        if model is not None and model.role == "segmentation":
            return
        ids = sorted(m.id for m in installed.values() if m.role == "segmentation")
        usable = (
            f"use auto, classical or a cut-out model installed here: {', '.join(ids)}"
            if ids
            else "use auto or classical (no cut-out model is installed here)"
        )
        catalogue = _catalogue_models()
        known = sorted(i for i, (role, _pull) in catalogue.items() if role == "segmentation")
        if model is None and choice in known:
            how = f"`models pull {choice}`" if catalogue[choice][1] else "`models install PATH` with its files"
            raise Forbidden(
                f"Cut-out engine '{choice}' is not installed here: {usable}, or have the operator install it "
                f"({how}; docs/models.md)."
            )
        role = model.role if model is not None else catalogue.get(choice, (None, False))[0]
        article = "an" if role and role[0] in "aeiou" else "a"
        what = f"{article} {role} model, not a cut-out model" if role else "no cut-out model known here"
        listed = f" The catalogue's cut-out models: {', '.join(known)}." if known else ""
        raise InvalidRequest(f"cutout_engine '{choice}' is {what}: {usable}.{listed}")


def _catalogue_models() -> dict[str, tuple[str, bool]]:
    """The catalogue's model ids, each with its role and whether ``models pull`` can fetch it; empty without a
    catalogue (a package installed without its source tree)."""
    from .inference.catalogue import CatalogueError, load_catalogue

    try:
        catalogue = load_catalogue()
    except (CatalogueError, OSError):
        return {}
    return {m.id: (m.role, bool(m.downloads)) for m in catalogue.values()}
