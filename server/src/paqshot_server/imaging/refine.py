"""From a cut-out model's probability map to a packshot-ready matte: the refinement around any model.

A salient-object model (U²-Net, IS-Net, BiRefNet …) sees the photo squashed to its input size (320² for
U²-Net) and answers a blurry probability map; resizing that map to the photo (what rembg does) loses small
products, thin parts and edges, keeps the photo's own cast shadow as half-transparent product and fills
holes. The steps, each switchable in :class:`RefineConfig` so that ``bench/eval_real.py`` measures it:

1. First pass: the model on the whole photo.
2. Product selection on the model's grid (:func:`select_products`): confident regions (p > 0.5); the one
   with the most probability mass is the product; others are kept when they carry at least ``keep_ratio``
   of its mass (two apples, a pair of shoes) unless they touch the frame and are small (a sliver of
   another object, a dark corner: clutter). Soft output far from a kept region is dropped, and so are
   undecided blobs reaching the frame (:func:`drop_frame_ghosts`: a plank of the boardwalk under a bike).
3. Second pass on a crop around the kept product (with a margin) when the crop covers at most
   ``max_crop_share`` of the photo: the model sees the product at a higher resolution. Its answer replaces
   the first pass inside the crop; outside the crop alpha is 0. Not when the first pass already sees the
   product large and is sure of it (:func:`first_pass_suffices`): the closer look adds nothing there.
4. Backdrop clean-up on an analysis grid over the crop (:mod:`.cleanup`): cast shadows and
   backdrop-coloured ghosts in the model's soft zone get alpha 0; enclosed holes that show the backdrop open.
5. Edges that follow the photo: each model answer is brought to the analysis grid, and the analysis grid
   to the photo's resolution (over the crop only), with the fast guided filter (bilinear when off). (A
   colour-line alpha solve in the edge band, as the classical segmenter does, lowered IoU on the real
   photos with a reference: 0.870 against 0.885; it is not used.)
6. Edge colours unmixed from the backdrop (:func:`.matting.decontaminate`).

A mask hint (uint8, 255 = product, 0 = background, anything else = unknown) constrains every stage:
:func:`constrain` clamps a probability map to it on any grid covering the same view, and :func:`undecided` keeps
its forced values out of each smoothing step (the hint's cut is made at the photo's resolution).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from PIL import Image
from scipy import ndimage, special

from .cleanup import SHADOW_HIGH, SOFT_HIGH, CleanupReport, clean_backdrop, surround_share
from .matting import SNAP, decontaminate, grey, guided_filter, guided_upsample
from .morphology import dilate4, erode4, grey_dilate8, grey_erode8, within
from .planes import copy_channels
from .segment import OutputScale, PhotoShadow

Predict = Callable[[np.ndarray], np.ndarray]  # uint8 H x W x 3 (maybe a view) -> float32 (h, w) in [0, 1], model grid
Tone = Callable[[np.ndarray], np.ndarray]  # uint8 h x w x 3 -> uint8 h x w x 3: how the refinement sees the photo
Box = tuple[int, int, int, int]  # left, top, right, bottom in photo pixels

EIGHT = ndimage.generate_binary_structure(2, 2)
FAINT = 0.1  # faint first-pass output near the product (a thin part) is inside the second pass's crop
REGULARISE_EPS = 1e-3
THIN = 2  # parts of the first pass narrower than 2 x 2 + 1 analysis pixels are thin
GHOST_MAX_SHARE = 0.3  # a "ghost" holding more of the map's mass than this is the product itself
GHOST_WIDTH = 3  # undecided blobs at the frame are at least 2 x 3 + 1 analysis pixels wide
# The matte's grid keeps this many of its pixels per output pixel (the layout then reduces by 1 / 1.5 at least:
# its premultiplied bicubic still has 1.5 source pixels per output pixel to average, as from the photo).
DETAIL_MARGIN = 1.5
DETAIL_WORTH = 0.8  # a grid reduced by less than this (linear) is not worth the extra resampling of the crop


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
    fusion: str = "second"  # "second": the crop pass decides; "mean" of both; "adaptive": "second"
    # while the passes agree (IoU >= trust_agreement), else "mean" (the closer look found another object)
    trust_agreement: float = 0.8
    keep_thin: bool = True  # step 3: thin parts of the first pass survive the second
    # step 3: no second pass for a product the first pass holds on at least this share of its grid ...
    sure_share: float = 0.15
    sure_soft: float = 0.12  # ... with less than this undecided share (see first_pass_suffices)
    cleanup: bool = True  # step 4 (shadows, ghosts)
    soft_high: float = SOFT_HIGH  # step 4: backdrop-coloured pixels are not product below this probability
    shadow_high: float = SHADOW_HIGH  # step 4: cast shadows are not product below this probability
    remove_shadows: bool = False  # step 4: cast shadows are never product, however sure the model is (a repair)
    firm_faint: bool = True  # step 4: on a plain pale set, white-on-white parts the model half believed made solid
    holes: bool = True  # step 4 (holes)
    guided: bool = True  # step 5: model answers to the analysis grid edge-aware (else bilinear)
    stretch: float = 0.1  # step 5: model answers are stretched so that [stretch, 1 - stretch] spans [0, 1]
    regularise: bool = True  # step 4: a guided filter evens out the clean-up's per-pixel decisions
    unmix: bool = True  # step 6
    analysis_side: int = 640  # long side of the analysis grid over the crop
    # The model's input side for each pass (0: the size it was trained at, its manifest's); read by the segmenter
    # that runs the passes (inference.segmenters: a u2net graph takes any multiple of 32).
    first_side: int = 0  # step 1
    crop_side: int = 0  # step 3, at most ...
    crop_native: bool = False  # ... and no more than the crop's own long side (rounded up to the model's step)


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
        box: the box of the final matte's pixels that are not 0 in 8 bits (photo pixels).
        crop: the crop the matte was computed in (photo pixels; holds ``box``).
        first: float32 first-pass probability on the model's grid (whole photo).
        passes: model runs (1 or 2).
        agreement: IoU of the two passes' products (p > 0.5) on the analysis grid; None with one pass.
        pieces: separate product regions kept.
        dropped_mass: share of the first pass's confident mass dropped (clutter, strays).
        soft_share: share of the product's area (p > 0.5) where the final model map is undecided
            (0.15 < p < 0.85): blurry or unsure edges, glass.
        first_soft: the same share for the first pass (the model's own doubt about the whole photo).
        entropy: the model's doubt in bits per product pixel: the binary entropy of the deciding pass's map
            (the second when it ran, else the first) summed over its grid, over that map's product area
            (p > 0.5) (:func:`map_entropy`).
        doubt_width: the same bits over the number of that map's product outline pixels: how wide, in model
            pixels, the undecided band around the product would be if all the doubt lay along its outline
            (:func:`map_doubt_width`).
        area_ratio: the final product's area over the first pass's (both p > 0.5, in photo pixels).
        crop_touch: share of the crop's border (sides inside the photo only) where the product reaches it:
            the closer look found more than the first pass saw.
        sure_pieces: separate regions the first pass is sure of (p > 0.9, each with 5 % of the main one's
            mass): two objects that the looser selection merged.
        cleanup: what the backdrop clean-up found and removed.
        surround: share of the photo around the product that is the backdrop's own textured surface
            (:func:`.cleanup.surround_share`; 0 for a plain or busy backdrop).
        shadow: the photo's own cast shadow as a multiply layer on a grid covering the whole photo, or None.

    ``alpha``, ``rgba``, ``box``, ``crop``, ``area_ratio`` are on the matte's grid: the photo's, or the photo
    reduced to the detail the output needs (``refine(output_scale=)``; :attr:`size`).
    """

    alpha: np.ndarray
    rgba: np.ndarray
    box: Box
    crop: Box
    first: np.ndarray = field(repr=False)
    passes: int
    agreement: float | None
    pieces: int
    dropped_mass: float
    soft_share: float
    first_soft: float
    entropy: float
    doubt_width: float
    area_ratio: float
    crop_touch: float
    sure_pieces: int
    cleanup: CleanupReport
    surround: float = 0.0
    shadow: PhotoShadow | None = field(default=None, repr=False)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the matte's grid: the photo's, or the photo reduced (``refine(output_scale=)``)."""
        return self.alpha.shape[1], self.alpha.shape[0]


def constrain(prob: np.ndarray, hint: np.ndarray | None) -> np.ndarray:
    """``prob`` (float h x w) with the hint's sure regions forced: 1 where the hint says product (255),
    0 where it says background (0); ``hint`` (uint8, any resolution covering the same view) is resampled
    to ``prob``'s grid with nearest-neighbour sampling. Returns ``prob`` itself when there is no hint."""
    if hint is None:
        return prob
    hint = _hint_on(prob.shape, hint)
    return np.where(hint == 255, np.float32(1), np.where(hint == 0, np.float32(0), prob)).astype(np.float32)


def _hint_on(shape: tuple[int, ...], hint: np.ndarray) -> np.ndarray:
    """``hint`` (uint8) resampled to a grid of ``shape`` (h, w) covering the same view (nearest neighbour)."""
    h, w = shape[:2]
    if hint.shape == (h, w):
        return hint
    return np.asarray(Image.fromarray(hint, "L").resize((w, h), Image.Resampling.NEAREST))


def undecided(prob: np.ndarray, hint: np.ndarray | None) -> np.ndarray:
    """``prob`` (float32 h x w) with each pixel the hint decides (0 or 255 on ``prob``'s grid) given the value of
    the nearest pixel it leaves undecided: what a smoothing step (the guided upsampling) reads before
    :func:`constrain` applies the hint again on the finer grid. Smoothing the constrained map instead lets the
    hint's forced 0 (or 1) bleed a grid pixel or two into the part the hint leaves to the model, so that the
    product beside a hint's cut came out half transparent, by how the cut fell on the analysis grid (u2netp, half
    a box hinted away: 0.62 three pixels from the cut at 2400 x 1800, 1.0 at 2000 x 1500; a one-pixel move of
    the crop flipped either). Returns ``prob`` itself without a hint or with nothing undecided."""
    if hint is None:
        return prob
    decided = np.isin(_hint_on(prob.shape, hint), (0, 255))
    if not decided.any() or decided.all():
        return prob
    rows, cols = ndimage.distance_transform_edt(decided, return_distances=False, return_indices=True)
    return prob[rows, cols]


def select_products(prob: np.ndarray, config: RefineConfig) -> Selection | None:
    """Keep the product(s) in a probability map (float h x w); None when nothing is confident (p > 0.5)."""
    core = prob > 0.5
    labels, count = ndimage.label(core, EIGHT)
    bridges = _bridges(core, labels, count)
    if bridges.any():  # else the regions are those of ``core`` alone: its labelling stands
        labels, count = ndimage.label(core | bridges, EIGHT)
    if count == 0:
        return None
    labels[~core] = 0
    mass = _masses(prob, labels, count)
    main = int(np.argmax(mass))
    edge = np.zeros(count + 1, bool)
    edge[np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))] = True
    kept = mass >= config.keep_ratio * mass[main]
    kept &= ~(edge[1:] & (mass < config.clutter_ratio * mass[main]))
    kept[main] = True
    keep = np.concatenate([[False], kept])[labels]
    reach = max(1.0, config.soft_reach * max(prob.shape))
    near = within(keep, reach)
    out = np.where(near, prob, np.float32(0)).astype(np.float32)
    out[core & ~keep] = 0.0
    return Selection(keep, out, int(kept.sum()), float(mass[~kept].sum() / mass.sum()))


def _bridges(core: np.ndarray, labels: np.ndarray, count: int) -> np.ndarray:
    """The pixels outside ``core`` (bool h x w) between two of its 8-connected regions (8-neighbours of both): a
    thin part's neck at p ~ 0.5 (a 2 px antenna wire on the 640 px analysis grid) falls either side of 0.5 with
    any resampling of the photo, and a wire cut off there by one pixel was dropped as a stray region
    (issue-14.md, "Memory at 40 MP, session 5"). Regions two pixels apart stay apart. ``labels``, ``count``:
    ``core``'s 8-connected labelling (``ndimage.label(core, EIGHT)``), which the caller keeps when there is no
    bridge."""
    if count < 2:
        return np.zeros_like(core)
    highest = grey_dilate8(labels)
    lowest = grey_erode8(np.where(core, labels, count + 1))
    return ~core & (lowest <= count) & (lowest < highest)


def map_entropy(prob: np.ndarray) -> float:
    """Binary entropy (bits) of a model's probability map (float h x w in [0, 1]) summed over the map, per pixel
    of its product (p > 0.5); 0.0 when it has none. A sure answer scores near 0 whatever the product's size; a
    map undecided about a shadow, a second object or glass scores high (Shannon entropy, H(p) = -p log2 p -
    (1 - p) log2 (1 - p))."""
    product = int((prob > 0.5).sum())
    return _map_bits(prob) / product if product else 0.0


def _map_bits(prob: np.ndarray) -> float:
    return float((special.entr(prob) + special.entr(1.0 - prob)).sum() / np.log(2.0))


def map_doubt_width(prob: np.ndarray) -> float:
    """Binary entropy (bits) of a model's probability map (float h x w in [0, 1]) summed over the map, per pixel
    of its product's outline (product pixels, p > 0.5, with a 4-neighbour outside it); 0.0 when it has none.

    A sure model still blurs its answer over a pixel or two along the outline, so the doubt of a sure answer
    grows with the outline's length, not the product's area: per product pixel (:func:`map_entropy`) a thin
    product (scissors, a chair's legs, a rifle) looks as unsure as a half-seen shadow does on a compact one.
    Per outline pixel, a sure answer scores about the bits of its blurred band whatever the shape (~1.6 for a
    pixel each side at p 0.25 / 0.75); a shadow the model half believes, a second object or glass score
    several times that (on the labelled photos: good cut-outs mostly 2-5, glass 7-11)."""
    product = prob > 0.5
    outline = int((product & ~erode4(product)).sum())
    return _map_bits(prob) / outline if outline else 0.0


def _doubt(prob: np.ndarray) -> tuple[float, float]:
    """(:func:`map_entropy`, :func:`map_doubt_width`) of ``prob``, its bits summed once."""
    product = prob > 0.5
    area, outline = int(product.sum()), int((product & ~erode4(product)).sum())
    bits = _map_bits(prob) if area else 0.0
    return (bits / area if area else 0.0), (bits / outline if outline else 0.0)


def drop_frame_ghosts(prob: np.ndarray, width: int = GHOST_WIDTH) -> np.ndarray:
    """``prob`` (float h x w) without the undecided blobs that reach the frame: soft regions (0 < p < 0.9)
    wider than ``2 width + 1`` pixels (a binary opening keeps blobs, not the thin soft band along every
    outline) that touch the border of the grid. A real product cut by the frame is confident there; a
    half-seen plank or rail entering the photo is not."""
    zone = (prob > 0.02) & (prob < 0.9)
    blobs = dilate4(erode4(zone, width, border=False), width)
    labels, count = ndimage.label(blobs, EIGHT)
    if count == 0:
        return prob
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    edge = edge[edge > 0]
    if edge.size == 0:
        return prob
    ghost = dilate4(np.isin(labels, edge), width) & zone
    if float(prob[ghost].sum()) > GHOST_MAX_SHARE * float(prob.sum()):
        return prob  # most of what the model found: an unsure product, not a ghost beside one
    return np.where(ghost, np.float32(0), prob).astype(np.float32)


def _sure_pieces(prob: np.ndarray) -> int:
    labels, count = ndimage.label(prob > 0.9, EIGHT)
    if count == 0:
        return 0
    mass = _masses(prob, labels, count)
    return int((mass >= 0.05 * mass.max()).sum())


def _masses(prob: np.ndarray, labels: np.ndarray, count: int) -> np.ndarray:
    """float64 (count,): the sum of ``prob`` (float h x w) over each of the regions 1 .. ``count`` of ``labels``
    (int h x w; 0 is no region). The sums ``scipy.ndimage.sum_labels`` gives (it calls this bincount for such
    labels), without its counts and checks: ~1.5 -> ~0.6 ms on a 640 x 480 grid."""
    return np.bincount(labels.ravel(), weights=prob.ravel(), minlength=count + 1)[1:]


def _crop_touch(product: np.ndarray, box: Box, photo: tuple[int, int]) -> float:
    """Share of the crop's border pixels inside the photo (not on its frame) that are product."""
    x0, y0, x1, y1 = box
    sides = [
        (x0 > 0, product[:, 0]),
        (x1 < photo[0], product[:, -1]),
        (y0 > 0, product[0]),
        (y1 < photo[1], product[-1]),
    ]
    edges = [edge for inside, edge in sides if inside]
    return float(np.concatenate(edges).mean()) if edges else 0.0


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


def _whole_objects(seen: np.ndarray, keep: np.ndarray, hint: np.ndarray | None) -> np.ndarray | bool:
    """The objects the model saw (p > 0.5 before the hint) that hold a kept region, when a hint constrains the
    map (else False): the second pass must see them whole. A hint that removes part of an object would
    otherwise crop it through the middle, and a salient-object model shown half an object cut by the frame
    may drop more of it; an object the hint removes entirely stays out of the crop."""
    if hint is None:
        return False
    labels, _count = ndimage.label(seen > 0.5, EIGHT)
    held = np.unique(labels[keep])
    return np.isin(labels, held[held > 0])


def _mask_box(mask: np.ndarray) -> Box | None:
    """(left, top, right, bottom) of the True pixels of a bool (h, w) mask, or None when there are none."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def _union(box: Box, other: Box | None) -> Box:
    if other is None:
        return box
    return min(box[0], other[0]), min(box[1], other[1]), max(box[2], other[2]), max(box[3], other[3])


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


def _to_grid(
    prob: np.ndarray, rgb: np.ndarray, guided: bool, stretch: float = 0.0, guide: np.ndarray | None = None
) -> np.ndarray:
    """A model's probability map (covering the same view as ``rgb``) on ``rgb``'s grid: edge-aware (the
    fast guided filter, radius 2 model pixels; ``guide``: its guide on ``prob``'s grid, see
    :func:`.matting.guided_upsample`) or bilinear; then stretched so that ``[stretch, 1 - stretch]`` spans
    [0, 1] (the guided filter's local linear fit keeps a blurred answer short of 0 and 1 beside an edge; a
    product's interior is solid)."""
    if guided:
        out = guided_upsample(prob, rgb, guide_small=guide)
    else:
        h, w = rgb.shape[:2]
        out = _resample(prob, (0, 0, prob.shape[1], prob.shape[0]), (w, h))
    if not out.flags.writeable:  # Pillow's result, read-only
        out = out.copy()
    # In place: at a working image's crop the planes are tens of MB each (same values as the new arrays).
    if stretch > 0:
        out -= stretch
        out *= 1.0 / (1.0 - 2.0 * stretch)
    return np.clip(out, 0.0, 1.0, out=out)


def first_pass_suffices(product_share: float, first_soft: float, sure_pieces: int, config: RefineConfig) -> bool:
    """Whether the second (crop) pass can be left out: the first pass's product (p > 0.5 after selection) covers
    at least ``config.sure_share`` of the model's grid (about 124 px across at U²-Net's 320²), its undecided
    share (:attr:`Refined.first_soft`) is under ``config.sure_soft``, and it is one object the first pass is sure
    of (``sure_pieces`` 1, :attr:`Refined.sure_pieces`).

    Measured with ``bench/eval_real.py`` on the real photos (u2netp-int8; session 10,
    docs/progress/issue-10-quality.md, "Fewer crop passes"). Of the 38 with a reference, the crop pass gains
    +0.005 to +0.024 IoU on every product under 0.14 of the grid even when the first pass is sure
    (comp_white_robot 0.139: +0.012; robot_paper0 0.090: +0.024, its thin parts; their thin-part share,
    0.0009-0.0036, does not set them apart from products it does not help), and at most +0.003 on the sure,
    single ones from 0.153 up (6 of 38; on one pass their mean IoU is higher: genshin_teapot_photo1 +0.027).
    Two sure objects need the closer look between them: on car_3 (two cars, ``sure_pieces`` 2) one pass keeps the
    backdrop in the gap between the cars (comp_triposr_robot_wall_table1, 2: -0.004). ``first_soft`` 0.12 is where
    that evidence ends (the 8 real photos the rule changes have 0.03-0.10); less sure ones gain or lose too much
    either way (session 9, 0.12-0.2)."""
    return product_share >= config.sure_share and first_soft < config.sure_soft and sure_pieces == 1


def detail_scale(output_scale: OutputScale, product: Box, crop: Box, analysis_side: int) -> float:
    """The matte's grid per photo pixel (<= 1) for a product of box ``product`` (photo px) that the output lays
    out at ``output_scale(product)``: :data:`DETAIL_MARGIN` grid pixels per output pixel, and never so few that
    the ``crop`` (photo px) it is computed in has fewer pixels than the analysis grid (``analysis_side``, its
    long side). 1.0 when that saves less than :data:`DETAIL_WORTH` of the crop's side."""
    long_side = max(crop[2] - crop[0], crop[3] - crop[1])
    k = max(DETAIL_MARGIN * output_scale(product), analysis_side / max(1, long_side))
    return 1.0 if k > DETAIL_WORTH else k


def _detail(output_scale: OutputScale, keep: np.ndarray, crop: Box, photo: tuple[int, int], cfg: RefineConfig) -> float:
    """:func:`detail_scale` for the kept regions (bool on a grid covering the whole photo of size ``photo``)."""
    kept = _mask_box(keep)
    if kept is None:
        return 1.0
    (w, h), (gh, gw) = photo, keep.shape
    product = (kept[0] * w // gw, kept[1] * h // gh, -(-kept[2] * w // gw), -(-kept[3] * h // gh))
    return detail_scale(output_scale, product, crop, cfg.analysis_side)


def _reduced(rgb: np.ndarray, box: Box, k: float) -> tuple[np.ndarray, Box, tuple[int, int]]:
    """``box`` (photo px) of the photo ``rgb`` (uint8 H x W x 3) on a grid ``k`` (< 1) times the photo's size:
    (that part as uint8 h x w x 3, where it lies on the reduced grid, the reduced grid's (width, height)). The
    part shows exactly ``box`` (the analysis grid's view); its place on the reduced grid is rounded (< 0.5 px).
    Pillow's bilinear, whose support widens with the reduction, so every photo pixel counts."""
    h, w = rgb.shape[:2]
    size = max(1, round(w * k)), max(1, round(h * k))
    kx, ky = size[0] / w, size[1] / h
    x0, y0, x1, y1 = box
    left, top = min(size[0] - 1, round(x0 * kx)), min(size[1] - 1, round(y0 * ky))
    width = max(1, min(size[0] - left, round((x1 - x0) * kx)))
    height = max(1, min(size[1] - top, round((y1 - y0) * ky)))
    part = Image.fromarray(np.ascontiguousarray(rgb[y0:y1, x0:x1, :3]), "RGB")
    return (
        np.asarray(part.resize((width, height), Image.Resampling.BILINEAR)),
        (left, top, left + width, top + height),
        size,
    )


def refine(
    rgb: np.ndarray,
    predict: Predict,
    config: RefineConfig | None = None,
    hint: np.ndarray | None = None,
    output_scale: OutputScale | None = None,
    tone: Tone | None = None,
    crop_predict: Predict | None = None,
) -> Refined | None:
    """Run the refinement (module docstring) on ``rgb`` (uint8 H x W x 3) with the model ``predict``
    (``crop_predict`` for the second pass, when given: the model at another input size).

    ``output_scale``: what the output makes of a product box (photo px): its px per photo px. When given (and
    no ``hint``), the last steps at the photo's resolution (the upsampling to it, the colours' unmixing) run on
    the photo reduced to the detail that output needs (:func:`detail_scale`), and the result is on that grid
    (:attr:`Refined.size`); the steps before (model passes, analysis grid, clean-up) are the same. A hint's
    matte stays on the photo's grid (it must honour the hint to the pixel).

    ``tone``: the photo's levels as the refinement's decisions see them (the clean-up's backdrop colours and the
    guides of the matte's edges: a hazy photo's stretched range, :func:`.exposure.levels`); the output's colours
    are always the photo's own. Under a veil of haze the backdrop's colour distances shrink with the contrast and
    the clean-up cut a lamp's arm away as backdrop (breaker12, B12-2: IoU 0.79 with the photo's own cut-out; with
    the stretched view 0.99). ``predict`` sees the photo as given (the caller decides what the model sees).

    Returns None when the model finds no confident product anywhere.
    """
    cfg = config or RefineConfig()
    h, w = rgb.shape[:2]
    seen = predict(rgb)
    first = constrain(seen, hint)
    sel = select_products(first, cfg) if cfg.select else None
    if sel is None:
        if not (first > 0.5).any():
            return None
        sel = Selection(first > 0.5, first, 1, 0.0)
    if hint is not None:  # what the hint calls product is kept, however small or far from the rest
        forced = constrain(np.zeros_like(first), hint) > 0.5
        sel = replace(sel, keep=sel.keep | forced, prob=np.maximum(sel.prob, forced.astype(np.float32)))
    first_core = sel.prob > 0.5
    first_soft = float(((sel.prob > 0.15) & (sel.prob < 0.85)).sum() / max(1, first_core.sum()))
    first_area = float(first_core.sum()) * (w * h) / first.size
    box = crop_box(sel.keep | (sel.prob > FAINT) | _whole_objects(seen, sel.keep, hint), (w, h), cfg.crop_margin)
    if hint is not None:  # a stroke thinner than a model pixel is missed on the model's grid: its own box
        box = _union(box, _mask_box(hint == 255))
    x0, y0, x1, y1 = box
    small = _analysis_rgb(rgb, box, cfg.analysis_side)
    if tone is not None:
        small = tone(small)
    gh, gw = first.shape
    src = (x0 * gw / w, y0 * gh / h, x1 * gw / w, y1 * gh / h)
    native = (max(2, round(src[2] - src[0])), max(2, round(src[3] - src[1])))
    hint_crop = hint[y0:y1, x0:x1] if hint is not None else None
    first_grid = _resample(undecided(sel.prob, hint), src, native)
    prob = constrain(_to_grid(first_grid, small, cfg.guided, cfg.stretch), hint_crop)
    passes, agreement, decisive = 1, None, first
    share = (x1 - x0) * (y1 - y0) / (w * h)
    # A hint's repair keeps its closer look: the rule was measured without hints.
    sure_pieces = _sure_pieces(sel.prob)
    sure = hint is None and first_pass_suffices(float(first_core.mean()), first_soft, sure_pieces, cfg)
    if cfg.second_pass and share <= cfg.max_crop_share and not sure:
        # A view: the model's preprocessing copies what it resizes and lets it go, so no copy of the crop stays alive
        # through the run (a 40 MP job's peak; issue-14.md, "Memory at 40 MP, session 6").
        second = decisive = constrain((crop_predict or predict)(rgb[y0:y1, x0:x1, :3]), hint_crop)
        fine = constrain(_to_grid(undecided(second, hint_crop), small, cfg.guided, cfg.stretch), hint_crop)
        both = (prob > 0.5) | (fine > 0.5)
        agreement = float(((prob > 0.5) & (fine > 0.5)).sum() / max(1, both.sum()))
        if cfg.fusion == "second" or (cfg.fusion == "adaptive" and agreement >= cfg.trust_agreement):
            # Thin parts the first pass saw (edge-aware, at the photo's own detail) can fall between the
            # second pass's pixels (a 2 px antenna on a 300 px crop): they are kept.
            core = prob > 0.5
            thin = core & ~dilate4(erode4(core, THIN, border=False), THIN) if cfg.keep_thin else None
            prob = fine if thin is None else np.where(thin, np.maximum(prob, fine), fine)
        else:
            prob = 0.5 * (prob + fine)
        passes = 2
        if cfg.select:
            again = select_products(prob, cfg)
            if again is not None:
                prob = again.prob
    if cfg.select:
        prob = drop_frame_ghosts(prob)
    report = clean_backdrop(
        small,
        prob,
        holes=cfg.holes,
        cleanup=cfg.cleanup,
        soft_high=cfg.soft_high,
        shadow_high=cfg.shadow_high,
        remove_shadows=cfg.remove_shadows,
        firm_faint=cfg.firm_faint,
    )
    prob = report.prob
    small_grey = grey(small)
    if cfg.regularise and report.prob is not report.input:
        # The clean-up decides per pixel; a guided filter along the photo evens its new edges out.
        guided = guided_filter(small_grey, prob, 1, REGULARISE_EPS)
        prob = np.where((prob > 0) & (prob < 1) | (report.prob != report.input), np.clip(guided, 0, 1), prob)
    prob = constrain(prob, hint_crop)
    product = prob > 0.5
    soft = (prob > 0.15) & (prob < 0.85)
    soft_share = float(soft.sum() / max(1, product.sum()))
    k = 1.0 if output_scale is None or hint is not None else _detail(output_scale, sel.keep, box, (w, h), cfg)
    if k < 1.0:
        # The analysis grid and the model passes above are the photo's; only the photo-resolution steps shrink.
        crop_rgb, box, size = _reduced(rgb, box, k)
        first_area *= size[0] * size[1] / (w * h)  # in the reduced grid's pixels, as the final matte's area
        w, h = size
        x0, y0, x1, y1 = box
    else:
        crop_rgb = np.ascontiguousarray(rgb[y0:y1, x0:x1, :3])
    alpha = np.zeros((h, w), np.float32)
    # The analysis grid is the guide's grid: its grey, not the crop's grey box-averaged to it again.
    guide_rgb = crop_rgb if tone is None else tone(crop_rgb)
    alpha_crop = constrain(_to_grid(undecided(prob, hint_crop), guide_rgb, cfg.guided, guide=small_grey), hint_crop)
    del guide_rgb
    alpha_crop[alpha_crop < SNAP] = 0.0
    alpha_crop[alpha_crop > 1.0 - SNAP] = 1.0
    alpha[y0:y1, x0:x1] = alpha_crop
    alpha_crop = alpha[y0:y1, x0:x1]  # a view: the separate plane goes (the crop's size, up to the whole photo's)
    # The cut-out's box is where the final matte is, not the crop it was computed in: whatever took product
    # out of the crop (a hint, the clean-up) takes it out of the layout too, and later steps touch less.
    alpha255 = alpha_crop * np.float32(255)
    matte_box = _mask_box(alpha255 > 0.5) or (0, 0, 1, 1)  # 8-bit alpha > 0: rounds to 1 or more
    mx0, my0, mx1, my1 = matte_box
    colours = decontaminate(crop_rgb[my0:my1, mx0:mx1], alpha_crop[my0:my1, mx0:mx1]) if cfg.unmix else None
    rgba = np.empty((my1 - my0, mx1 - mx0, 4), np.uint8)
    copy_channels(rgba[..., :3], crop_rgb[my0:my1, mx0:mx1] if colours is None else colours)
    # A plane copy, not a strided cast; rounded in place (alpha255 is not read again).
    rgba[..., 3] = np.round(alpha255[my0:my1, mx0:mx1], out=alpha255[my0:my1, mx0:mx1]).astype(np.uint8)
    gx0, gy0 = int(src[0]), int(src[1])
    gx1, gy1 = max(gx0 + 1, int(np.ceil(src[2]))), max(gy0 + 1, int(np.ceil(src[3])))

    def on_grid(layer: np.ndarray) -> np.ndarray:  # the analysis crop's shadow on the whole image's grid
        whole = np.ones((gh, gw), np.float32)
        whole[gy0:gy1, gx0:gx1] = np.asarray(
            Image.fromarray(layer, "F").resize((gx1 - gx0, gy1 - gy0), Image.Resampling.BILINEAR)
        )
        return whole

    shadow = report.shadow.mapped(on_grid) if report.shadow is not None else None
    entropy, doubt_width = _doubt(decisive)
    return Refined(
        alpha=alpha,
        rgba=rgba,
        box=(x0 + mx0, y0 + my0, x0 + mx1, y0 + my1),
        crop=box,
        first=first,
        passes=passes,
        agreement=agreement,
        pieces=sel.pieces,
        dropped_mass=sel.dropped_mass,
        soft_share=soft_share,
        first_soft=first_soft,
        entropy=entropy,
        doubt_width=doubt_width,
        area_ratio=float((alpha_crop > 0.5).sum()) / max(1.0, first_area),  # alpha is 0 outside the crop
        crop_touch=_crop_touch(alpha_crop > 0.5, box, (w, h)),
        sure_pieces=sure_pieces,
        cleanup=report,
        surround=surround_share(rgb, first, report.threshold),
        shadow=shadow,
    )
