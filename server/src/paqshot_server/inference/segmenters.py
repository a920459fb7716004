"""ONNX cut-out models behind the imaging layer's :class:`~paqshot_server.imaging.segment.Segmenter` protocol.

One runner serves every manifest-described model (BiRefNet contract first; IS-Net and U2-Net too): the
manifest's ``[segmentation]`` table says the input name and size, the normalisation (mean/std on 0..1 RGB)
and the output activation (``sigmoid`` for logits, ``minmax`` for U2-Net-style outputs, ``none``).

The model's matte comes back at its own resolution (e.g. 1024²); it is brought to the photo's resolution
edge-aware with the fast guided filter (He & Sun 2015) guided by the full-resolution grey image, so the
matte's edges follow the photo's edges instead of the upsampling's blur.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from ..imaging.matting import box, resize_plane
from ..imaging.segment import Matte, Segmenter
from .manifests import Manifest, SegmentationContract
from .sessions import load_graph, probe

if TYPE_CHECKING:
    from .store import InstalledModel

GUIDED_EPS = 1e-3  # regularisation: larger keeps the model's matte, smaller follows the photo harder
GUIDED_RADIUS = 2  # window radius in model pixels
SURE = 0.01  # upsampled matte values within this of 0 or 1 are kept as they are


def _activate(raw: np.ndarray, activation: str) -> np.ndarray:
    if activation == "sigmoid":
        return (1.0 / (1.0 + np.exp(-np.clip(raw, -60.0, 60.0)))).astype(np.float32)
    if activation == "minmax":
        lo, hi = float(raw.min()), float(raw.max())
        return ((raw - lo) / (hi - lo) if hi > lo else np.zeros_like(raw)).astype(np.float32)
    return np.clip(raw, 0.0, 1.0).astype(np.float32)


def upsample_alpha(
    alpha_small: np.ndarray, rgb: np.ndarray, radius: int = GUIDED_RADIUS, eps: float = GUIDED_EPS
) -> np.ndarray:
    """Edge-aware upsampling of a model-resolution matte to ``rgb``'s resolution (float32 in [0,1]).

    The fast guided filter (He & Sun 2015): the local linear model alpha ≈ A·grey + B is fitted at the
    model's resolution (window ``radius`` model pixels), A and B are upsampled bilinearly, and applied to
    the full-resolution grey image, so the matte's edges land on the photo's edges, not between them.
    """
    h, w = rgb.shape[:2]
    sh, sw = alpha_small.shape
    alpha_small = alpha_small.astype(np.float32)
    if sh >= h and sw >= w:
        return np.clip(resize_plane(alpha_small, (w, h)), 0.0, 1.0)
    grey = (rgb[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)) / 255.0
    grey_small = resize_plane(grey, (sw, sh))
    mean_i = box(grey_small, radius)
    mean_p = box(alpha_small, radius)
    cov = box(grey_small * alpha_small, radius) - mean_i * mean_p
    var = box(grey_small * grey_small, radius) - mean_i * mean_i
    a = cov / (var + eps)
    b = mean_p - a * mean_i
    big_a = resize_plane(box(a, radius), (w, h))
    big_b = resize_plane(box(b, radius), (w, h))
    guided = np.clip(big_a * grey + big_b, 0.0, 1.0)
    # Where the model is sure (the upsampled matte is ~0 or ~1) its answer stands: the linear model would
    # otherwise dent solid interiors where the product's own colours change (a cap on a bottle).
    plain = resize_plane(alpha_small, (w, h))
    unsure = (plain > SURE) & (plain < 1.0 - SURE)
    return np.where(unsure, guided, np.clip(plain, 0.0, 1.0)).astype(np.float32)


def confidence_of(alpha: np.ndarray) -> tuple[float, tuple[str, ...]]:
    """How decisive a matte is: mean |2a − 1| (1 = every pixel surely in or out), with notes."""
    notes: list[str] = []
    coverage = float((alpha > 0.5).mean())
    if coverage < 0.002:
        return 0.0, ("the cut-out model found no product",)
    if coverage > 0.98:
        notes.append("the cut-out model kept almost the whole frame")
    decisive = float(np.abs(2.0 * alpha - 1.0).mean())
    border = np.concatenate([alpha[0], alpha[-1], alpha[:, 0], alpha[:, -1]])
    if float((border > 0.5).mean()) > 0.05:
        notes.append("product touches the frame")
    return round(decisive, 4), tuple(notes)


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
        self.graph = load_graph(self.folder / onnx_files[0], device=device, require_gpu=require_gpu)
        self.input = self.contract.input or next(iter(self.graph.inputs))
        if self.input not in self.graph.inputs:
            raise ValueError(
                f"{self.manifest.id}: the graph has no input {self.input!r} (it has {', '.join(self.graph.inputs)})"
            )
        self.output = self.contract.output or self.graph.outputs[0]
        self.provider = self.graph.provider
        self._mean = np.array(self.contract.mean, np.float32).reshape(1, 3, 1, 1)
        self._std = np.array(self.contract.std, np.float32).reshape(1, 3, 1, 1)

    def preprocess(self, rgb: np.ndarray) -> np.ndarray:
        """uint8 H×W×3 → normalised float32 [1,3,h,w] at the contract's size (bilinear resize)."""
        height, width = self.contract.size
        img = Image.fromarray(np.ascontiguousarray(rgb[..., :3]), "RGB")
        if img.size != (width, height):
            img = img.resize((width, height), Image.Resampling.BILINEAR)
        x = np.asarray(img, np.float32).transpose(2, 0, 1)[None] / 255.0
        return ((x - self._mean) / self._std).astype(np.float32)

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        """The model's matte at its own resolution (float32 h×w in [0,1])."""
        # No lock: InferenceSession.run is thread-safe, and so is a fresh IOBinding per call.
        raw = np.asarray(self.graph.run({self.input: self.preprocess(rgb)}, [self.output])[self.output], np.float32)
        while raw.ndim > 2:
            raw = raw[0]
        return _activate(raw, self.contract.activation)

    def segment(self, rgb: np.ndarray) -> Matte:
        if rgb.ndim != 3 or rgb.shape[2] < 3 or rgb.dtype != np.uint8:
            raise ValueError("segment() takes uint8 H x W x 3 RGB")
        alpha = upsample_alpha(self.predict(rgb), rgb)
        confidence, notes = confidence_of(alpha)
        return Matte(alpha=alpha, confidence=confidence, notes=notes)


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
