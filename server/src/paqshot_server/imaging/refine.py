"""From a cut-out model's probability map to a packshot-ready matte: the refinement around any model.

A salient-object model (U²-Net, IS-Net, BiRefNet …) sees the photo squashed to its input size (320² for
U²-Net) and answers a blurry probability map; resizing that map to the photo (what rembg does) loses small
products, thin parts and edges, keeps the photo's own cast shadow as half-transparent product and fills
holes. The steps, each switchable in :class:`RefineConfig` so that ``bench/eval_real.py`` measures it:

1. First pass: the model on the whole photo.
2. Product selection on the model's grid (:func:`select_products`): confident regions (p > 0.5); the one
   with the most probability mass is the product; others are kept when they carry at least ``keep_ratio``
   of its mass (two apples, a pair of shoes) unless they touch the frame and are small (a sliver of
   another object, a dark corner: clutter). Soft output far from a kept region is dropped.
3. Second pass on a crop around the kept product (with a margin) when the crop covers at most
   ``max_crop_share`` of the photo: the model sees the product at a higher resolution. Its answer replaces
   the first pass inside the crop; outside the crop alpha is 0.
4. Backdrop clean-up on an analysis grid over the crop (:mod:`.cleanup`): cast shadows and
   backdrop-coloured ghosts in the model's soft zone get alpha 0; enclosed holes that show the backdrop open.
5. Edges that follow the photo: each model answer is brought to the analysis grid with the fast guided
   filter (bilinear when off); in the edge band the alpha is solved on the colour line between the local
   foreground and backdrop colours (:func:`.matting.solve_band`), then again at full resolution over the
   crop (:func:`.matting.refine_full`).
6. Edge colours unmixed from the backdrop (``F = B + (I - B) / a``, in :func:`.matting.refine_full`).

A mask hint (uint8, 255 = product, 0 = background, anything else = unknown) constrains every stage:
:func:`constrain` clamps a probability map to it on any grid covering the same view.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image
from scipy import ndimage

from .cleanup import CleanupReport, clean_backdrop
from .colour import to_linear
from .matting import guided_upsample, refine_full, solve_band

Predict = Callable[[np.ndarray], np.ndarray]  # uint8 H x W x 3 -> float32 (h, w) in [0, 1] on the model's grid
Box = tuple[int, int, int, int]  # left, top, right, bottom in photo pixels

EIGHT = ndimage.generate_binary_structure(2, 2)
FAINT = 0.1  # faint first-pass output near the product (a thin part) is inside the second pass's crop


@dataclass(frozen=True)
class RefineConfig:
    """The refinement steps and their tuning (defaults measured with ``bench/eval_real.py``)."""

    select: bool = True  # step 2
    keep_ratio: float = 0.12  # a separate region is a product of its own from this share of the main mass
    clutter_ratio: float = 0.5  # ... but one touching the frame must reach this share, else it is clutter
    soft_reach: float = 0.03  # soft output is kept within this share of the grid's long side of a product
    second_pass: bool = True  # step 3
    max_crop_share: float = 0.7  # second pass when the crop covers at most this share of the photo's area
    crop_margin: float = 0.12  # margin around the product's box, as a share of its long side
    fusion: str = "adaptive"  # "second": the crop pass decides; "mean" of both; "adaptive": "second"
    # while the passes agree (IoU >= trust_agreement), else "mean" (the closer look found another object)
    trust_agreement: float = 0.8
    cleanup: bool = True  # step 4 (shadows, ghosts)
    holes: bool = True  # step 4 (holes)
    guided: bool = True  # step 5: model answers to the analysis grid edge-aware (else bilinear)
    matting: bool = True  # steps 5-6: colour-line alpha in the edge band, full resolution, unmixed colours
    analysis_side: int = 640  # long side of the analysis grid over the crop


@dataclass(frozen=True)
class Selection:
    """What :func:`select_products` kept, on the grid it was given."""

    keep: np.ndarray  # bool (h, w): the kept confident regions
    prob: np.ndarray  # float32 (h, w): the probability map with everything not kept set to 0
    pieces: int  # kept regions
    dropped_mass: float  # share of the confident mass dropped as clutter or stray regions


@dataclass(frozen=True)
class Refined:
    """The refined matte and the evidence the confidence is computed from.

    Attributes:
        alpha: float32 (H, W) in [0, 1] at the photo's resolution.
        rgba: uint8 (h, w, 4) over ``box``: unmixed colours + alpha (alpha 0 outside ``box``).
        box: the crop the matte was computed in (photo pixels).
        first: float32 first-pass probability on the model's grid (whole photo).
        passes: model runs (1 or 2).
        agreement: IoU of the two passes' products (p > 0.5) on the analysis grid; None with one pass.
        pieces: separate product regions kept.
        dropped_mass: share of the first pass's confident mass dropped (clutter, strays).
        soft_share: share of the product's area (p > 0.5) where the final model map is undecided
            (0.15 < p < 0.85): blurry or unsure edges, glass.
        cleanup: what the backdrop clean-up found and removed.
        shadow: the photo's own cast shadow as a multiply layer on a grid covering the whole photo, or None.
    """

    alpha: np.ndarray
    rgba: np.ndarray
    box: Box
    first: np.ndarray = field(repr=False)
    passes: int
    agreement: float | None
    pieces: int
    dropped_mass: float
    soft_share: float
    cleanup: CleanupReport
    shadow: np.ndarray | None = field(default=None, repr=False)


def constrain(prob: np.ndarray, hint: np.ndarray | None) -> np.ndarray:
    """``prob`` (float h x w) with the hint's sure regions forced: 1 where the hint says product (255),
    0 where it says background (0); ``hint`` (uint8, any resolution covering the same view) is resampled
    to ``prob``'s grid with nearest-neighbour sampling. Returns ``prob`` itself when there is no hint."""
    if hint is None:
        return prob
    h, w = prob.shape
    if hint.shape != prob.shape:
        hint = np.asarray(Image.fromarray(hint, "L").resize((w, h), Image.Resampling.NEAREST))
    return np.where(hint == 255, np.float32(1), np.where(hint == 0, np.float32(0), prob)).astype(np.float32)


def select_products(prob: np.ndarray, config: RefineConfig) -> Selection | None:
    """Keep the product(s) in a probability map (float h x w); None when nothing is confident (p > 0.5)."""
    core = prob > 0.5
    labels, count = ndimage.label(core, EIGHT)
    if count == 0:
        return None
    index = np.arange(1, count + 1)
    mass = np.asarray(ndimage.sum_labels(prob, labels, index), np.float64)
    main = int(np.argmax(mass))
    edge = np.zeros(count + 1, bool)
    edge[np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))] = True
    kept = mass >= config.keep_ratio * mass[main]
    kept &= ~(edge[1:] & (mass < config.clutter_ratio * mass[main]))
    kept[main] = True
    keep = np.concatenate([[False], kept])[labels]
    reach = max(1.0, config.soft_reach * max(prob.shape))
    near = ndimage.distance_transform_edt(~keep) <= reach
    out = np.where(near, prob, np.float32(0)).astype(np.float32)
    out[core & ~keep] = 0.0
    return Selection(keep, out, int(kept.sum()), float(mass[~kept].sum() / mass.sum()))


def _resample(plane: np.ndarray, src: tuple[float, float, float, float], size: tuple[int, int]) -> np.ndarray:
    """Bilinear resample of the ``src`` box (in ``plane``'s pixel units) of a float plane to ``size``."""
    img = Image.fromarray(plane.astype(np.float32, copy=False), mode="F")
    return np.asarray(img.resize(size, Image.Resampling.BILINEAR, box=src), np.float32)


def crop_box(keep: np.ndarray, photo: tuple[int, int], margin: float) -> Box:
    """Box (photo pixels) around the kept regions of a grid covering the whole photo, plus the margin."""
    w, h = photo
    gh, gw = keep.shape
    rows = np.flatnonzero(keep.any(axis=1))
    cols = np.flatnonzero(keep.any(axis=0))
    x0, x1 = cols[0] * w / gw, (cols[-1] + 1) * w / gw
    y0, y1 = rows[0] * h / gh, (rows[-1] + 1) * h / gh
    pad = margin * max(x1 - x0, y1 - y0) + 2 * max(w / gw, h / gh)
    return (
        max(0, int(x0 - pad)),
        max(0, int(y0 - pad)),
        min(w, int(np.ceil(x1 + pad))),
        min(h, int(np.ceil(y1 + pad))),
    )


def _analysis_rgb(rgb: np.ndarray, box: Box, side: int) -> np.ndarray:
    x0, y0, x1, y1 = box
    crop = np.ascontiguousarray(rgb[y0:y1, x0:x1, :3])
    k = min(1.0, side / max(x1 - x0, y1 - y0))
    if k >= 1.0:
        return crop
    size = (max(1, round((x1 - x0) * k)), max(1, round((y1 - y0) * k)))
    img = Image.fromarray(crop, "RGB")
    factor = int(1 / k) // 2
    if factor > 1:
        img = img.reduce(factor)  # a cheap integer reduction first
    return np.asarray(img.resize(size, Image.Resampling.BILINEAR))


def _to_grid(prob: np.ndarray, rgb: np.ndarray, guided: bool) -> np.ndarray:
    """A model's probability map (covering the same view as ``rgb``) on ``rgb``'s grid: edge-aware (the
    fast guided filter, radius 2 model pixels) or bilinear."""
    if guided:
        return guided_upsample(prob, rgb)
    h, w = rgb.shape[:2]
    return np.clip(_resample(prob, (0, 0, prob.shape[1], prob.shape[0]), (w, h)), 0.0, 1.0)


def refine(
    rgb: np.ndarray, predict: Predict, config: RefineConfig | None = None, hint: np.ndarray | None = None
) -> Refined | None:
    """Run the refinement (module docstring) on ``rgb`` (uint8 H x W x 3) with the model ``predict``.

    Returns None when the model finds no confident product anywhere.
    """
    cfg = config or RefineConfig()
    h, w = rgb.shape[:2]
    first = constrain(predict(rgb), hint)
    sel = select_products(first, cfg) if cfg.select else None
    if sel is None:
        if not (first > 0.5).any():
            return None
        sel = Selection(first > 0.5, first, 1, 0.0)
    box = crop_box(sel.keep | (sel.prob > FAINT), (w, h), cfg.crop_margin)
    x0, y0, x1, y1 = box
    small = _analysis_rgb(rgb, box, cfg.analysis_side)
    size = (small.shape[1], small.shape[0])
    gh, gw = first.shape
    src = (x0 * gw / w, y0 * gh / h, x1 * gw / w, y1 * gh / h)
    native = (max(2, round(src[2] - src[0])), max(2, round(src[3] - src[1])))
    prob = _to_grid(_resample(sel.prob, src, native), small, cfg.guided)
    passes, agreement = 1, None
    share = (x1 - x0) * (y1 - y0) / (w * h)
    if cfg.second_pass and share <= cfg.max_crop_share:
        hint_crop = hint[y0:y1, x0:x1] if hint is not None else None
        second = constrain(predict(np.ascontiguousarray(rgb[y0:y1, x0:x1, :3])), hint_crop)
        fine = _to_grid(second, small, cfg.guided)
        both = (prob > 0.5) | (fine > 0.5)
        agreement = float(((prob > 0.5) & (fine > 0.5)).sum() / max(1, both.sum()))
        if cfg.fusion == "second" or (cfg.fusion == "adaptive" and agreement >= cfg.trust_agreement):
            prob = fine
        else:
            prob = 0.5 * (prob + fine)
        passes = 2
        if cfg.select:
            again = select_products(prob, cfg)
            if again is not None:
                prob = again.prob
    report = clean_backdrop(small, prob, holes=cfg.holes, cleanup=cfg.cleanup)
    prob = constrain(report.prob, None if hint is None else hint[y0:y1, x0:x1])
    product = prob > 0.5
    soft = (prob > 0.15) & (prob < 0.85)
    soft_share = float(soft.sum() / max(1, product.sum()))
    crop_rgb = np.ascontiguousarray(rgb[y0:y1, x0:x1, :3])
    hint_crop = None if hint is None else hint[y0:y1, x0:x1]
    alpha = np.zeros((h, w), np.float32)
    if cfg.matting:
        solved, colours = solve_band(to_linear(small), prob)
        full = refine_full(crop_rgb, constrain(solved, hint_crop), colours)
        alpha_crop = constrain(full.alpha, hint_crop)
        fx0, fy0, fx1, fy1 = full.box
        rgba = np.zeros((y1 - y0, x1 - x0, 4), np.uint8)
        rgba[fy0:fy1, fx0:fx1] = full.rgba
        rgba[..., 3] = np.round(alpha_crop * 255).astype(np.uint8)
    else:
        alpha_crop = constrain(np.clip(_resample(prob, (0, 0, *size), (x1 - x0, y1 - y0)), 0, 1), hint_crop)
        rgba = np.dstack([crop_rgb, np.round(alpha_crop * 255).astype(np.uint8)])
    alpha[y0:y1, x0:x1] = alpha_crop
    shadow = None
    if report.shadow is not None:
        shadow = np.ones((gh, gw), np.float32)
        gx0, gy0 = int(src[0]), int(src[1])
        gx1, gy1 = max(gx0 + 1, int(np.ceil(src[2]))), max(gy0 + 1, int(np.ceil(src[3])))
        shadow[gy0:gy1, gx0:gx1] = np.asarray(
            Image.fromarray(report.shadow, "F").resize((gx1 - gx0, gy1 - gy0), Image.Resampling.BILINEAR)
        )
    return Refined(
        alpha=alpha,
        rgba=rgba,
        box=box,
        first=first,
        passes=passes,
        agreement=agreement,
        pieces=sel.pieces,
        dropped_mass=sel.dropped_mass,
        soft_share=soft_share,
        cleanup=report,
        shadow=shadow,
    )
