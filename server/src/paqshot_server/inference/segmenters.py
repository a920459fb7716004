"""ONNX cut-out models behind the imaging layer's :class:`~paqshot_server.imaging.segment.Segmenter` protocol.

One runner serves every manifest-described model (BiRefNet contract first; IS-Net and U2-Net too): the
manifest's ``[segmentation]`` table says the input name and size, the normalisation (mean/std on 0..1 RGB)
and the output activation (``sigmoid`` for logits, ``minmax`` for U2-Net-style outputs, ``none``).

The model's probability map comes back at its own resolution (e.g. 320² or 1024²); the imaging layer's
refinement (:mod:`~paqshot_server.imaging.refine`: product selection, a second pass on a crop, backdrop
clean-up, edge-aware upsampling, colour unmixing) turns it into the photo's matte, and
:mod:`~paqshot_server.imaging.confidence` says how far to trust it.
"""

from __future__ import annotations

import copy
import threading
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from ..errors import CutoutRefused
from ..imaging.confidence import assess_refined, refusal
from ..imaging.exposure import clipping, levels
from ..imaging.padding import Box, framed, photo_in_strip, photo_inside_bars
from ..imaging.refine import RefineConfig, refine
from ..imaging.segment import Matte, OutputScale, Segmenter
from .letterbox import MAX_STRETCH, letterboxed, placement
from .manifests import Manifest, SegmentationContract
from .sessions import Graph, load_graph, probe, releasing_arena

if TYPE_CHECKING:
    from .store import InstalledModel


# Cut-outs of images from this many pixels on hand onnxruntime's CPU arena back after each model run (issue 14).
# Released, the refinement's arrays reuse the arena's ~250 MB (u2netp-int8) instead of adding to it: a 40 MP
# photo's ~10 MP working image peaks at ~450 instead of ~565 MiB; but each run then faults the arena in again
# (~70 ms a run, one core: +11 % on the 2000x1500 speed bench). 4 MP lies between the two sizes that matter:
# the speed bench's 3 MP photo keeps the arena (a worker's peak on it: ~470 instead of ~397 MiB), the
# 40 MP photo's working image releases. Figures: docs/progress/issue-14.md, "Memory at 40 MP, session 4" and
# "Arena release by size, session 4".
RELEASE_FROM_PIXELS = 4_000_000

# Model families whose graphs also run at input sizes other than their manifest's (:mod:`.free_size`), and the step
# those sides take: U²-Net's five 2x poolings halve a side five times, so a multiple of 32 keeps every level's size
# a whole number (the manifest's ``size`` stays the trained one, the default).
FREE_SIDE_STEP = {"u2net": 32}


# A part of an image taken for a pasted photo whose cut-out touches this many of its sides was the product itself (a
# block on a plain backdrop: breaker15's strips, test_long_strips.py); a real photo's product seldom touches two.
PRODUCT_NOT_PHOTO_SIDES = 2
# The photo inside bars is cut out as the photo when the padded image's own cut-out overlaps it this much (IoU of the
# mattes past 0.5): a padded bike's (B16-4) 0.9+, a blue bar on white mistaken for a photo between bars 0.0-0.2
# (docs/progress/issue-14.md, session 17).
BARS_AGREE = 0.5


def overlap(one: np.ndarray, other: np.ndarray) -> float:
    """IoU of two mattes' products (alpha > 0.5; float (h, w) each, ``other`` brought to ``one``'s grid)."""
    if other.shape != one.shape:
        other = np.asarray(
            Image.fromarray(other.astype(np.float32), "F").resize(one.shape[::-1], Image.Resampling.NEAREST)
        )
    a, b = one > 0.5, other > 0.5
    return float((a & b).sum() / max(1, (a | b).sum()))


def releases_arena(height: int, width: int) -> bool:
    """Whether a cut-out of an image of ``height`` x ``width`` pixels hands the arena back after each model run
    (at or above :data:`RELEASE_FROM_PIXELS`)."""
    return height * width >= RELEASE_FROM_PIXELS


def _activate(raw: np.ndarray, activation: str) -> np.ndarray:
    if activation == "sigmoid":
        return (1.0 / (1.0 + np.exp(-np.clip(raw, -60.0, 60.0)))).astype(np.float32)
    if activation == "minmax":
        lo, hi = float(raw.min()), float(raw.max())
        return ((raw - lo) / (hi - lo) if hi > lo else np.zeros_like(raw)).astype(np.float32)
    return np.clip(raw, 0.0, 1.0).astype(np.float32)


class OnnxSegmenter:
    """A cut-out model from an installed folder; satisfies the imaging layer's ``Segmenter`` protocol."""

    def __init__(
        self,
        folder: Path,
        manifest: Manifest | None = None,
        *,
        device: str = "auto",
        require_gpu: bool = False,
    ) -> None:
        self.folder = Path(folder)
        self.manifest = manifest or Manifest.load(self.folder)
        if self.manifest.segmentation is None:
            raise ValueError(f"{self.manifest.id} is not a segmentation model")
        self.contract: SegmentationContract = self.manifest.segmentation
        self.name = self.manifest.id
        onnx_files = [f.path for f in self.manifest.files if f.path.endswith(".onnx")]
        if len(onnx_files) != 1:
            raise ValueError(f"{self.manifest.id}: expected one .onnx file, found {onnx_files}")
        self.graph_file = self.folder / onnx_files[0]
        self.device, self.require_gpu = device, require_gpu
        self.graph = load_graph(self.graph_file, device=device, require_gpu=require_gpu)
        self.input = self.contract.input or next(iter(self.graph.inputs))
        if self.input not in self.graph.inputs:
            raise ValueError(
                f"{self.manifest.id}: the graph has no input {self.input!r} (it has {', '.join(self.graph.inputs)})"
            )
        self.output = self.contract.output or self.graph.outputs[0]
        self.provider = self.graph.provider
        self._mean = np.array(self.contract.mean, np.float32).reshape(1, 3, 1, 1)
        self._std = np.array(self.contract.std, np.float32).reshape(1, 3, 1, 1)
        self.refine_config = RefineConfig()
        self.load_graphs()  # a worker loads its model at start-up: every graph its passes run, not in a job's time

    def preprocess(self, rgb: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
        """uint8 H×W×3 → normalised float32 [1,3,h,w] at ``size`` (height, width; default the contract's).

        Lanczos resampling (as rembg does): measured on the real photos of ``bench/eval_real.py``, a
        bilinear reduction blurs the input enough to leave three times as much of U²-Net's map undecided.
        ``reducing_gap`` lets Pillow reduce large photos by an integer factor first (fast, same result).
        """
        height, width = size or self.contract.size
        img = Image.fromarray(np.ascontiguousarray(rgb[..., :3]), "RGB")
        if img.size != (width, height):
            img = img.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
        x = np.asarray(img, np.float32).transpose(2, 0, 1)[None] / 255.0
        return ((x - self._mean) / self._std).astype(np.float32)

    def predict(self, rgb: np.ndarray, side: int = 0, *, letterbox: bool = False) -> np.ndarray:
        """The model's matte at its input's resolution (float32 side x side in [0,1]; ``side`` 0: the contract's
        size, h x w); the CPU arena goes back after the run when ``rgb`` is large (:func:`releases_arena`) or
        inside :func:`~.sessions.releasing_arena`. With ``letterbox`` (the passes of a photo far longer than the
        model's input), an ``rgb`` stretched past :mod:`.letterbox`'s limit is letterboxed and the matte is the
        part of the input it took (h or w is then smaller).

        Raises:
            ValueError: ``side`` is not the contract's and the model's family takes no other size, or ``side`` is
                not a positive multiple of its step (:data:`FREE_SIDE_STEP`).
        """
        size = self.contract.size if side == 0 else (side, side)
        # No lock: InferenceSession.run is thread-safe, and so is a fresh IOBinding per call.
        release = releases_arena(*rgb.shape[:2])
        graph = self.graph if size == self.contract.size else self._free_graph(side)
        place = placement(rgb.shape[:2], size) if letterbox else None  # a long strip's (B15-5)
        view = rgb if place is None else letterboxed(rgb, place)
        out = graph.run({self.input: self.preprocess(view, size)}, [self.output], release=release)
        raw = np.asarray(out[self.output], np.float32)
        while raw.ndim > 2:
            raw = raw[0]
        prob = _activate(raw, self.contract.activation)
        return prob if place is None else place.crop(prob)

    def _free_graph(self, side: int) -> Graph:
        """The graph taking any input size (loaded once per process, :func:`~.sessions.load_graph`)."""
        step = FREE_SIDE_STEP.get(self.manifest.family)
        if step is None:
            raise ValueError(f"{self.name} runs at {self.contract.size} only (family {self.manifest.family!r})")
        if side <= 0 or side % step:
            raise ValueError(f"{self.name}: an input side must be a positive multiple of {step}, not {side}")
        return load_graph(self.graph_file, device=self.device, require_gpu=self.require_gpu, free_size=self.input)

    def load_graphs(self) -> None:
        """Load now the graphs that the passes of :attr:`refine_config` need (a start-up, so that the first photo's
        time does not include a session's creation, ~0.2-0.4 s on one core)."""
        cfg, step = self.refine_config, FREE_SIDE_STEP.get(self.manifest.family)
        if step is None:
            return  # its passes run at its own size (pass_side)
        sides = {cfg.first_side, cfg.crop_side, step if cfg.crop_native else 0} - {0}
        for side in sides:
            if (side, side) != self.contract.size:
                self._free_graph(side)

    def pass_side(self, shape: tuple[int, ...], limit: int, native: bool) -> int:
        """The input side (0: the contract's size) for a pass on an image of ``shape`` (height, width, ...): ``limit``
        (0: the contract's), and with ``native`` never more than the image's long side rounded up to the family's
        step, so that the model never sees a small crop enlarged (a 200 px crop runs at 224², not 320²). A model
        whose family takes no other size (:data:`FREE_SIDE_STEP`) always runs at its own: the sides of
        :class:`RefineConfig` are choices for the models that have them."""
        step = FREE_SIDE_STEP.get(self.manifest.family)
        if step is None:
            return 0
        if not native:
            return limit
        own = -(-max(shape[:2]) // step) * step
        return limit if own >= (limit or max(self.contract.size)) else own

    def removing_cast_shadows(self) -> OnnxSegmenter:
        """This model (same session) with a refinement that gives every cast shadow reaching the backdrop alpha 0,
        however sure the model was of it (``remove_photo_shadow``: the user's repair)."""
        twin = copy.copy(self)
        twin.refine_config = replace(self.refine_config, remove_shadows=True)
        return twin

    takes_hint = True  # segment(rgb, hint=): see imaging.segment.Segmenter
    takes_output_scale = True  # segment(rgb, output_scale=): see imaging.segment.Segmenter

    def segment(
        self, rgb: np.ndarray, hint: np.ndarray | None = None, output_scale: OutputScale | None = None
    ) -> Matte:
        """The product's matte of ``rgb`` (uint8 H x W x 3) by the model and the refinement.

        ``hint``: a canonical mask hint (uint8 H x W, :mod:`~paqshot_server.imaging.hint`) that constrains every
        stage of the refinement (product selection, the second pass's crop, the clean-up), the matte included.
        ``output_scale``: what the output makes of a product box; the matte may then be on a reduced grid
        (:func:`~paqshot_server.imaging.refine.refine`), the photo's otherwise.

        Raises:
            CutoutRefused: the model finds no product, only a detail of one that fills the frame, or a negligible
                speck (:func:`~paqshot_server.imaging.confidence.refusal`; not with a hint); it carries this
                model's name and the confidence.
            ValueError: ``rgb`` is not uint8 RGB, or ``hint`` is not its size.
        """
        if rgb.ndim != 3 or rgb.shape[2] < 3 or rgb.dtype != np.uint8:
            raise ValueError("segment() takes uint8 H x W x 3 RGB")
        if hint is not None and hint.shape != rgb.shape[:2]:
            raise ValueError(f"hint {hint.shape} does not match the photo {rgb.shape[:2]}")
        return self._whole(rgb, output_scale) if hint is None else self._cut_out(rgb, hint, output_scale)

    def _whole(self, rgb: np.ndarray, output_scale: OutputScale | None) -> Matte:
        """:meth:`segment` without a hint: a photo on a plain canvas is cut out as the photo
        (:mod:`~paqshot_server.imaging.padding`). Pasted into a strip longer than the letterbox takes whole (B16-13:
        the pasted rectangle kept, a fork refused), the strip's plain ends are cut off. Padded with plain bars (B16-4:
        a flagged cut-out rose over the review threshold), the photo inside them is cut out and kept when the padded
        image's own cut-out agrees with it (:data:`BARS_AGREE`): a box or a bar on a plain backdrop has straight edges
        too, and cut out alone it is refused, touches two sides or more, or is some other part of it. That costs a
        second cut-out, for images with bars only."""
        strip = photo_in_strip(rgb, MAX_STRETCH)
        inside = None if strip is None else self._inside(rgb, strip, output_scale)
        if inside is not None:
            return inside
        bars = photo_inside_bars(rgb)
        inside = None if bars is None else self._inside(rgb, bars, output_scale)
        if inside is None:
            return self._cut_out(rgb, None, output_scale)
        try:
            whole = self._cut_out(rgb, None, output_scale)
        except CutoutRefused:
            return inside
        return inside if overlap(inside.alpha, whole.alpha) >= BARS_AGREE else whole

    def _inside(self, rgb: np.ndarray, box: Box, output_scale: OutputScale | None) -> Matte | None:
        """The cut-out of the part ``box`` of ``rgb`` framed back on its grid; None when it is refused or touches
        :data:`PRODUCT_NOT_PHOTO_SIDES` sides of the part (the part was the product itself)."""
        x0, y0, x1, y1 = box
        try:
            matte = self._whole(rgb[y0:y1, x0:x1], output_scale)
        except CutoutRefused:
            return None
        return framed(matte, box, rgb.shape[:2]) if matte.facts.get("sides", 0) < PRODUCT_NOT_PHOTO_SIDES else None

    def _cut_out(self, rgb: np.ndarray, hint: np.ndarray | None, output_scale: OutputScale | None) -> Matte:
        """:meth:`segment` of the image as given (its arguments, checked)."""
        # Decided by the whole image, whose refinement arrays follow the runs (the second pass's crop may be smaller).
        # A squeezed photo's levels stretched (both passes alike): a dark or washed-out one's for the model, a hazy
        # one's for the refinement's decisions only. Stretching both took a real chair on a pale wall and table
        # (range 79-169) from IoU 0.940 to 0.836; the refinement's view alone, 0.938, and the hazy lamp 0.79 -> 0.99
        # (docs/progress/issue-10-quality.md, "Haze, low contrast and cut products, session 13").
        view = levels(rgb)
        flat = view.kind == "flat"
        seen = (lambda part: part) if view.identity or flat else view.apply
        cfg = self.refine_config
        # A photo far longer than the model's input is letterboxed in both passes (its crop pass is as long); the
        # passes of any other photo are resized as before: the crop pass around the 2x3 px edge artefact of an
        # all-white JPEG is 600 x 102, and letterboxed the model kept a speck of it at confidence 0.48 (0.00 before).
        boxed = placement(rgb.shape[:2], self.contract.size) is not None

        def first(part: np.ndarray) -> np.ndarray:
            return self.predict(seen(part), self.pass_side(part.shape, cfg.first_side, False), letterbox=boxed)

        def crop(part: np.ndarray) -> np.ndarray:
            side = self.pass_side(part.shape, cfg.crop_side, cfg.crop_native)
            return self.predict(seen(part), side, letterbox=boxed)

        with releasing_arena() if releases_arena(*rgb.shape[:2]) else nullcontext():
            refined = refine(
                rgb,
                first,
                cfg,
                crop_predict=crop,
                hint=hint,
                output_scale=output_scale,
                tone=view.apply if flat else None,
            )
        if refined is None:
            raise CutoutRefused(
                "no product found: the cut-out model found nothing that stands out in the photo.",
                engine=self.name,
                confidence=0.0,
            )
        confidence, reasons, evidence = assess_refined(refined, refined.alpha.shape, clipping(rgb, refined.alpha, view))
        refused = refusal(evidence, confidence) if hint is None else None  # a hint says what the product is
        if refused:
            raise CutoutRefused(refused, engine=self.name, confidence=round(confidence, 4))
        return Matte(
            alpha=refined.alpha,
            confidence=confidence,
            rgba=refined.rgba,
            box=refined.box,
            shadow=refined.shadow,
            reasons=reasons,
            facts={k: round(v, 4) for k, v in evidence.as_dict().items()},
        )


_segmenters: dict[tuple[str, str, str, bool], OnnxSegmenter] = {}
_segmenters_lock = threading.Lock()


def load_default_segmenter(
    models_dir: Path, *, device: str = "auto", require_gpu: bool = False, shared: tuple[Path, ...] = ()
) -> Segmenter | None:
    """The installed cut-out model with the highest priority, or None (then the classical one serves).

    Loaded once per process (per install): the worker calls this per job at no cost. ``shared``: model
    folders read after ``models_dir`` (the install-level folder; see ``store.ModelStore``).
    """
    from .store import ModelStore

    model = ModelStore(Path(models_dir), device=device, shared=shared, runs_on=probe).best("segmentation")
    return None if model is None else _cached(model, device, require_gpu)


def load_segmenter(
    models_dir: Path,
    model_id: str,
    *,
    device: str = "auto",
    require_gpu: bool = False,
    shared: tuple[Path, ...] = (),
) -> Segmenter:
    """The installed cut-out model ``model_id`` (loaded once per process per install).

    Raises:
        ModelNotFound: no installed model has that id.
        ValueError: the model is not a cut-out (segmentation) model.
    """
    from .store import ModelStore

    model = ModelStore(Path(models_dir), device=device, shared=shared, runs_on=probe).get(model_id)
    if model.role != "segmentation":
        raise ValueError(f"{model_id} is a {model.role} model, not a cut-out model")
    return _cached(model, device, require_gpu)


def _cached(model: InstalledModel, device: str, require_gpu: bool) -> OnnxSegmenter:
    key = (str(model.path), model.installed_at, device, require_gpu)
    with _segmenters_lock:
        seg = _segmenters.get(key)
        if seg is None:
            seg = OnnxSegmenter(model.path, device=device, require_gpu=require_gpu)
            _segmenters[key] = seg
        return seg


def forget_except(keep: set[tuple[str, str]]) -> int:
    """Drop cached segmenters whose (folder, install time) is not in ``keep``; returns how many."""
    with _segmenters_lock:
        stale = [k for k in _segmenters if (k[0], k[1]) not in keep]
        for k in stale:
            del _segmenters[k]
    return len(stale)
