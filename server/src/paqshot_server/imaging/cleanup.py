"""Backdrop clean-up of a cut-out model's probability map, on an analysis grid around the product.

The backdrop around the product is modelled (:mod:`.backdrop`: a quadratic CIE Lab surface fitted to the
ring of sure background around the product, with its own noise level). Then:

- in the model's soft zone, pixels the backdrop model explains, as its colour (p < ``SOFT_HIGH``) or as a
  smooth chromaticity-preserving darkening of it (a cast shadow, p < ``SHADOW_HIGH``), get probability 0:
  the photo's own shadow and backdrop-coloured ghosts are not product;
- enclosed regions inside the product that are exactly backdrop, hold nothing and have a sharp rim (a
  scissor handle's loop, the gap in a mug handle, grass between a chair's bars) open (probability 0);
- enclosed regions the model cut out that do not show the backdrop (fewer than ``LOST_MATCH`` of their pixels
  are near its colour or a darkening of it) are counted as evidence (``lost``: a highlight or reflection on the
  product taken for a hole, such as a patent toe cap mirroring the set); on a plain set, those that clearly do
  not (under ``LOST_REPAIR``) are put back as product;
- on a plain set, the photo's cast shadow along the product's outer outline that the model is sure of (the
  grey fringe beside a fork's tines or a scissor handle) gets probability 0 where it is a smooth darkening of
  the backdrop that fades into it, lies against the product on the shadow's side and stops at the product's
  edge (a step): see ``_shadow_fringe``;
- the photo's own shadow is measured against the same model (for ``shadow: "natural"``).

Nothing is done where the backdrop is too busy for a smooth model to describe (a street, a room): a colour
test would then eat product. Thresholds follow the classical segmenter's (:mod:`.classical`), where they
were tuned on the synthetic evaluation set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import numpy as np
from PIL import Image
from scipy import ndimage

from .backdrop import backdrop_distance, fit_background, gradient, shade, shadow_candidates
from .colour import linear_to_lab, to_linear
from .faint import PALE, faint_parts, faint_share, firmed
from .matting import box, box_reduced
from .morphology import (
    depth_at_least,
    dilate4,
    dilate8,
    erode8,
    filled,
    squared_bound,
    squared_distances,
    within,
)
from .seethrough import backdrop_kept, backdrop_seen
from .segment import PhotoShadow
from .shadow import estimate_photo_shadow

SOFT_HIGH = 0.85  # the model's soft zone: below this, backdrop-coloured pixels are not product
SHADOW_HIGH = 0.97  # cast shadows are not product below this (a model is often half sure of a shadow)
SURE_BG = 0.05  # probability under which a pixel is sure background (for the backdrop model)
RING = 0.12  # the backdrop model is fitted within this share of the grid's long side around the product
MIN_THRESHOLD = 6.0  # ΔE76 below which a pixel always matches the backdrop (classical segmenter)
NOISE_FACTOR = 2.2  # threshold = NOISE_FACTOR x 95th percentile of the backdrop's residuals (same)
DARK_WEIGHT = 0.7  # lightness weight when darker than the backdrop (shading; same)
SHADOW_MIN_RATIO = 0.2  # deepest cast shadow accepted, luminance ratio to the backdrop (same)
BUSY_THRESHOLD = 40.0  # a backdrop whose own variation needs a larger ΔE is not modelled
TEXTURED = 20.0  # a backdrop needing a ΔE threshold from here to BUSY_THRESHOLD is a textured surface (a
# garment's folds: 29, grass: 28), not a plain set (paper, sweep, wall: 6-15)
MIN_INLIERS = 0.5  # nor one the smooth surface fits for less than this share of its pixels
MAX_REMOVED = 0.15  # removing more of the product than this means it looks like the backdrop (glass): keep it
MIN_HOLE = 0.004  # smallest hole, as a share of the product's area
HOLE_MATCH = 0.8  # a hole matches the backdrop: median ΔE under this share of the threshold (not a shadow)
HOLE_MAX_DE = 12.0  # ... and under this ΔE whatever the threshold (grass between a chair's bars: ~5; the dark
# spots of a butterfly's wing against a blurred busy backdrop: ~19)
HOLE_MIN_RADIUS = 3.0  # a hole is at least this wide inside (analysis pixels from its middle to its rim): a
# highlight along a polished bar is a streak a few pixels thin (fork_10's handle: 2.0; the narrowest real
# holes of the photo cases, a chair's curl and the gap in an earphone's band: 4.0 and more)
HOLE_MIN_STEP = 12.0  # a hole's rim is the product's edge: the product around it differs from it by at least
# this much CIE L (the least among the holes of the photo cases and realeval photos: 14, between tulip stems;
# a highlight along a fork's bright handle: 8)
RIM_SHARE = 0.25  # ... over at least this share of its ring (2-4 px beyond it)
HOLE_HOLDS = 0.03  # a region holding more than this share of its area in enclosed specks holds something
# (printing on a label); a scissor loop's paper holds 1-1.1 % of specks (grain, the edge of the blade's shade)
INLET_MOUTH = 0.5  # a region open to the outside through a mouth narrower than this x sqrt(its area) is an
# inlet (the gap between a fork's tines, filled by the model) and is tested as a hole; a band along the outline
# touches the outside all along
HOLE_GROW = 6  # an accepted hole grows this many pixels into backdrop-like or shaded pixels (the shade a
# handle casts inside its own loop), never across the product's outline
SHADE_TINT = 2.0  # ... and into a shade tinted by a coloured handle (light off it): up to this x the threshold
# in a*/b* from a neutral shade, towards the colour of the product around the hole, itself further than that
# (a blue handle on paper, azure_scissors_6: its shade 9-13 ΔE bluer at threshold 7.3, the handle 26-30)
TINT_COSINE = 0.7  # "towards": the cosine between the shade's a*/b* shift and the product's
COLOUR_BINS = 8  # per CIE Lab axis, for the colour histograms of product and backdrop
LAB_LOW, LAB_HIGH = np.array([0.0, -64.0, -64.0]), np.array([100.0, 64.0, 64.0])
LIKE_PRODUCT = 2.0  # a colour belongs to the product when at least this many times as frequent there
FRINGE_TINT = 1.0  # a cast-shadow fringe the model is sure of: a smooth darkening of the backdrop within this x the
# threshold in a*/b* of it (scaled to its lightness); the photos' own shadows outside the matte: 1.2-3.9 ΔE median,
# often a little bluer than the paper (skylight); fork_10's steel tines, bluer still, lie beyond it at threshold 6
FRINGE_DEPTH = 20  # ... within this many analysis pixels of the product's outer outline (a thin product's shadow
# on the paper it lies on: 5-20 px on the forks' and scissors' grids)
FRINGE_EXPOSED = 0.5  # ... in a region that makes up at least this share of the outer outline along it: the
# shadow fades into the backdrop all along (no edge), while a polished blade reflecting the paper has an outline
# (a step) that a shade test only leaks through here and there (scissors_10's blades)
FRINGE_PENUMBRA = 0.96  # ... and goes on outside the matte: the backdrop within 3 px outside it is at most this
# x the backdrop's lightness at the median (the model cuts a shadow in its fade: forks 0.75-0.955; the lit paper
# beside a white chair seat's shaded side: 0.977)
FRINGE_FADE = 0.01  # ... and it is no lighter than that (a shadow is deepest against its caster and fades
# outwards; a robot's light grey neck between its head and body: 0.958 inside, 0.932 outside)
FRINGE_STEP = 0.4  # ... and meets the rest of the product at an edge: at least this share of the product pixels
# bordering it are a step (gradient over the clean-up's limit); the forks' and scissors' fringes 0.44-1.0, a
# product's own shading turning into its lit part 0.02-0.35 (a white cake stand, a robot's underside, the
# painted steel of a treasure chest on a vignetted backdrop)
FRINGE_CAST = 0.5  # ... on the shadow's side: this share of it has the product within FRINGE_DEPTH towards the light
FRINGE_DIRECTED = 0.25  # the photo's own shadow has a direction when the mean of its unit vectors from the product
# is at least this long (the forks' and scissors' 0.31-0.83; a shadow all around a product averages to ~0)
LOST_MATCH = 0.5  # an enclosed region cut out as background less than this share of which is like the backdrop
# (within 2 x the threshold of its model, or a darkening of it: the shade a handle casts inside its loop) does not
# show it: the real holes of the photo cases and realeval photos 0.61-1.0 (a scissors' loop, azure_scissors_15:
# 0.97, though only 0.44 within the threshold); a steel fork handle's highlight 0.0, the grey reflection of the set
# in a black shoe's patent toe cap 0.14
LOST_REPAIR = 0.25  # ... and is put back as product when also under this share is the backdrop's colour itself
# (within the threshold, or a cast shadow: shoe 0.08, fork 0.0; the holes 0.44-1.0), on a plain set
LOST_RIM = 3  # ... with this many pixels of its rim inside the product's outline (the model's soft edge around it)
LOST_MIN = 0.004  # ... counted (``CleanupReport.lost``) from this share of the product's area (``MIN_HOLE``)
COLOUR_TELLS = 0.4  # a cast shadow is told from the product by its colour (the backdrop's, darker) only where at
# least this share of the product's pixels as dark as a shadow have a colour no shadow of the backdrop has; under it
# the photo has no colour to tell them by. Greyscale copies of the 80 real photos: 0.00 on every one with such
# pixels; their colour originals: 0.01-1.0, under 0.4 on 14 of 79 (grey or steel products: a black patent shoe
# 0.01, glass 0.03-0.25, scissors, a sword, grey chairs and robots 0.28-0.32, a lamp, a burger on grey 0.37-0.39).
# 0.4 is where bench/fit_confidence.py's fit is likeliest (tried 0.1-0.6, chosen inside each leave-one-out fold
# too: docs/progress/issue-10-quality.md, session 11)
COLOUR_MIN_DIM = 0.02  # ... counted where such pixels make at least this share of the product (else 1.0: it is
# lighter than or far darker than its backdrop, and lightness alone tells it from a shadow)
SHADOW_PIECE = 0.5  # a separate piece this much darkened backdrop is a shard of cast shadow ...
SHADOW_PIECE_AREA = (0.01, 0.12)  # ... and from 1 % to 12 % of the main piece (refine.RefineConfig.keep_ratio);
# smaller pieces are kept: the dark tips of thin parts that the grid cut off look the same (a robot's antennas:
# 0.1-0.8 %; the shard of a fork's tines' shadow: 2.3 %)
FOUR = ndimage.generate_binary_structure(2, 1)
EIGHT = ndimage.generate_binary_structure(2, 2)


@dataclass(frozen=True)
class CleanupReport:
    """The cleaned probability map and what was found.

    Attributes:
        prob: float32 (h, w), the cleaned probability map (``input`` itself when nothing was done).
        input: the probability map given.
        modelled: whether the backdrop could be modelled (False: busy backdrop, nothing was changed).
        threshold: ΔE76 under which a pixel matches the backdrop (its noise level); inf when not modelled.
        removed: share of the product's probability mass (p > 0.5) that the backdrop model explains in the
            soft zone; removed when at most ``MAX_REMOVED`` (else the product looks like its backdrop: glass,
            and it is kept).
        holes: share of the product's area opened as holes.
        unopened: share of the product's area in enclosed backdrop-coloured regions that were not opened
            (a hole that failed a test, or product parts the colour of the backdrop).
        attached: share of the product's area, in product-coloured blobs beside the product that neither
            match the backdrop nor darken it, left out as background (the model lost a part: a chair's rocker
            base on grass); see ``_left_out``.
        colour_tells: share of the product's pixels as dark as a cast shadow may be whose colour no shadow of the
            backdrop has (:func:`_colour_tells`); under ``COLOUR_TELLS`` the photo has no colour
            to tell a shadow from the product by (greyscale, or a grey product on a grey or white set), and
            ``shadow_kept`` and the shadow-coloured part of ``unopened`` are not measured (0).
        shadow_kept: share of the product (p > 0.5, the cleaned product plus the cast-shadow fringe removed
            from the model's product) that the backdrop model explains as a cast shadow: shadow the model was too
            sure of for the soft-zone test (the grey ghosts of a fork's tines' shadow; removed when it is a fringe,
            ``_shadow_fringe``, and still counted: where the model was sure of the photo's shadow, more of it is
            often left than the clean-up can tell), or a product that darkens like one (glass, a mirror).
        lost: share of the product's area (with these regions) in enclosed regions cut out as background
            that do not look like the backdrop (``_lost_inside``): a highlight or reflection on the product
            that the model took for a hole (a patent toe cap reflecting the set).
        repaired: the part of ``lost`` put back as product (probability 1): regions on a plain set that its
            model explains (its colour or a cast shadow) for less than ``LOST_REPAIR`` of their pixels; still
            counted in ``lost`` (the user checks).
        backdrop_kept: share of the product's area that is the colour of a strongly coloured plain backdrop
            (:func:`.seethrough.backdrop_kept`: an opening left filled, which shows on any new background); 0 on a
            neutral or textured set.
        faint: share of the product's area in wide parts the model was unsure of that carry edges, are lighter than
            the backdrop in places and came out cut away or see-through (:func:`.faint.faint_share`: a white stand
            on a pale set), before ``firm_faint`` made them solid.
        shadow: the photo's cast shadow as a multiply layer on the grid (1 = none; measured when read), or None.
    """

    prob: np.ndarray
    input: np.ndarray = field(repr=False)
    modelled: bool
    threshold: float
    removed: float = 0.0
    holes: float = 0.0
    unopened: float = 0.0
    attached: float = 0.0
    shadow_kept: float = 0.0
    colour_tells: float = 1.0
    lost: float = 0.0
    repaired: float = 0.0
    faint: float = 0.0
    backdrop_kept: float = 0.0
    shadow: PhotoShadow | None = field(default=None, repr=False)


def clean_backdrop(
    rgb: np.ndarray,
    prob: np.ndarray,
    *,
    holes: bool = True,
    cleanup: bool = True,
    soft_high: float = SOFT_HIGH,
    shadow_high: float = SHADOW_HIGH,
    remove_shadows: bool = False,
    firm_faint: bool = True,
) -> CleanupReport:
    """Clean ``prob`` (float32 h x w) against the backdrop of ``rgb`` (uint8 h x w x 3, same grid); the soft
    zone's limits are ``soft_high`` (backdrop colours) and ``shadow_high`` (cast shadows).

    ``remove_shadows`` (the user says the photo's cast shadow is not product: a repair): every cast-shadow
    region that reaches the sure backdrop gets probability 0 however sure the model was and however much of the
    product that is (no ``MAX_REMOVED`` cap); shadow-like parts enclosed by the product stay.

    ``firm_faint``: on a plain pale set, the faint parts (:mod:`.faint`: what the model half believed that carries
    edges and is lighter than the set in places, a white stand) are made solid where the model more than half
    believed them (:func:`.faint.firmed`)."""
    product = prob > 0.5
    if not (cleanup or holes) or not product.any():
        return CleanupReport(prob, prob, False, float("inf"))
    h, w = prob.shape
    near = within(product, RING * max(h, w))
    ring = (prob < SURE_BG) & near
    if ring.sum() < 50:
        return CleanupReport(prob, prob, False, float("inf"))
    linear = to_linear(rgb)
    smooth = box(linear, 1)
    lab = linear_to_lab(smooth)
    model = fit_background(lab, ring)
    threshold = max(MIN_THRESHOLD, NOISE_FACTOR * model.noise)
    if threshold > BUSY_THRESHOLD or model.inliers < MIN_INLIERS:
        return CleanupReport(prob, prob, False, threshold)
    expected = model.evaluate(h, w)
    diff = lab - expected
    dist = backdrop_distance(diff, DARK_WEIGHT)
    grad = gradient(lab[..., 0])
    # The model already says where the product is: a penumbra may be a little sharper than the classical
    # segmenter (which has no model) can afford.
    max_grad = 2 * max(4.0, 0.5 * threshold)
    shadow, darkening = shadow_candidates(diff, lab, expected, grad, threshold, SHADOW_MIN_RATIO, max_grad)
    backdrop = (dist < threshold) | shadow
    out = prob.copy()
    mass = float(prob[product].sum())
    removed = 0.0
    if cleanup:
        ghost = ((dist < threshold) & (prob < soft_high)) | (shadow & (prob < shadow_high))
        if threshold <= TEXTURED:  # a plain set: a streak of its colour may be its reflection (a textured one's
            # colour is weak evidence: a gap between two parts, cartoon_dinosaur_photo0's BF -0.02)
            ghost &= ~_enclosed_streaks(ghost & product, product, lab, threshold)
        removed = float(prob[ghost & product].sum()) / max(mass, 1e-6)
        if removed <= MAX_REMOVED:
            out[ghost] = 0.0
        if remove_shadows:
            out[_reaching(shadow, prob < SURE_BG)] = 0.0
    opened = 0.0
    rejected = np.zeros(prob.shape, bool)
    hole = np.zeros(prob.shape, bool)
    if holes:
        hole, rejected = _opened(
            out, product, backdrop, diff, lab, expected, dist, darkening, grad, threshold, max_grad
        )
        out[hole] = 0.0
        opened = float(hole.sum() / max(1, product.sum()))
    sure_shadow = 0  # product pixels removed as a cast-shadow fringe the model was sure of
    if cleanup and threshold <= TEXTURED:  # a plain set: paper, a sweep, a wall
        fringe = _shadow_fringe(out > 0.5, darkening, diff, lab, expected, grad, threshold, max_grad)
        if fringe.sum() <= MAX_REMOVED * max(1, product.sum()):
            # with what is left just beyond it: the model's soft rim and slivers of the penumbra's outer edge
            # (a pixel or two wide: they do not survive an opening), a faint outline of the shadow otherwise
            beside = dilate8(fringe, 3)
            out[fringe] = 0.0
            kept = out > 0.5
            out[beside & (~kept | (kept & ~dilate8(erode8(kept))))] = 0.0
            sure_shadow = int((fringe & (prob > 0.5)).sum())
    out[_shadow_pieces(out > 0.5, darkening)] = 0.0
    kept = out > 0.5
    area = max(1, int(kept.sum()))
    left_out = _left_out(kept, (prob < 0.5) & (dist >= threshold) & ~darkening, lab, ring, near)
    attached = float(left_out.sum() / area)
    shadow_kept = float(((shadow & kept).sum() + sure_shadow) / (area + sure_shadow))
    ratio = lab[..., 0] / np.maximum(expected[..., 0], 1e-3)
    tells = _colour_tells(kept, shade(diff, ratio, SHADOW_MIN_RATIO), darkening)
    if tells < COLOUR_TELLS:  # no colour: a grey part of the product is as much a "shadow" as a shadow is
        shadow_kept = 0.0
        rejected &= dist < threshold  # enclosed regions of the backdrop's own colour, not of its shade
    unopened = float(rejected.sum() / max(1, product.sum()))
    chroma = float(np.median(np.hypot(expected[..., 1][ring], expected[..., 2][ring])))  # the backdrop's CIE C*ab
    # what was opened shows the backdrop by the tests that opened it (a slot's shade is neither its colour nor a
    # darkening of it: azure_fork_18 turned 90 degrees, whose slots close at the tips, was called cut out inside)
    lost_inside, clear = _lost_inside(kept, backdrop, (dist < 2 * threshold) | darkening | hole)
    lost = float(lost_inside.sum() / (area + lost_inside.sum()))
    repaired = 0.0
    if holes and threshold <= TEXTURED and clear.any():  # a plain set: what it does not explain is not it
        # with the model's soft rim around it (a guided filter would leave a faint ring of half product)
        out[dilate8(clear, LOST_RIM) & filled(kept)] = 1.0
        repaired = float(clear.sum() / (area + lost_inside.sum()))
    parts = faint_parts(prob, grad, ring, diff[..., 0] > threshold)
    faint = faint_share(prob, out, parts)  # before the repair: the user checks what the model could hardly see
    # White on white, on a plain pale set only (no branch: clean_backdrop is at its complexity limit).
    pale = firm_faint and threshold <= TEXTURED and float(np.median(expected[..., 0][ring])) >= PALE
    np.maximum(out, firmed(prob, parts & pale), out=out)
    # a textured set's darkenings are its texture (grain, blades, ripples), not a shadow
    # measured when read (shadow natural): ``out`` is the report's alpha, which no later step writes to
    photo_shadow = (
        PhotoShadow(partial(estimate_photo_shadow, smooth, expected, out, darkening)) if threshold <= TEXTURED else None
    )
    return CleanupReport(
        out,
        prob,
        True,
        threshold,
        removed,
        opened,
        unopened,
        attached,
        shadow_kept=shadow_kept,
        colour_tells=tells,
        lost=lost,
        repaired=repaired,
        faint=faint,
        backdrop_kept=backdrop_kept(kept, (dist < threshold) | darkening, chroma) if threshold <= TEXTURED else 0.0,
        shadow=photo_shadow,
    )


def _opened(
    out: np.ndarray,
    product: np.ndarray,
    backdrop: np.ndarray,
    diff: np.ndarray,
    lab: np.ndarray,
    expected: np.ndarray,
    dist: np.ndarray,
    darkening: np.ndarray,
    grad: np.ndarray,
    threshold: float,
    max_grad: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The pixels to open as see-through (bool h x w) in the cleaned map ``out`` (float32 h x w; ``product``: the
    model's p > 0.5), and the enclosed backdrop regions of hole size that failed the hole tests (bool h x w): the
    holes (``_holes``) grown ``HOLE_GROW`` px into the backdrop's shade (``darkening`` or within 2 x the threshold,
    or tinted by a coloured handle: ``_tinted_shade``); on a plain set also the backdrop seen in their shade beyond
    that and in the slots between the product's solid parts (:func:`.seethrough.backdrop_seen`). The other
    arguments are :func:`clean_backdrop`'s planes (CIE Lab ``lab``, the backdrop model's ``expected``, their
    ``diff``, its ``dist``, the lightness gradient ``grad``) and limits."""
    hole, rejected = _holes(out > 0.5, backdrop, dist, threshold, lab[..., 0], grad)
    accepted = hole
    if hole.any():
        shaded = (dist < 2 * threshold) | darkening
        tinted = _tinted_shade(hole, out > 0.5, diff, lab, expected, grad, threshold, max_grad)
        hole = ndimage.binary_dilation(hole, EIGHT, iterations=HOLE_GROW, mask=(shaded | tinted) & (out > 0)) | hole
    if threshold <= TEXTURED:  # a plain set: paper, a sweep, a wall
        limits = (max(12.0, MIN_HOLE * float(product.sum())), HOLE_MIN_STEP)
        kept = (out > 0.5) & ~hole
        smooth = grad < max_grad
        hole |= backdrop_seen(kept, hole, accepted, diff, expected[..., 0], dist, lab, smooth, threshold, limits)
    return hole, rejected


def _lost_inside(product: np.ndarray, backdrop: np.ndarray, like: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The enclosed regions (bool h x w) of what ``product`` (bool h x w) leaves out inside its outline that do
    not show the backdrop: fewer than ``LOST_MATCH`` of their pixels are ``like`` it (bool h x w: near its colour or
    a darkening of it), each at least ``LOST_MIN`` of the product's area; and those of them where fewer than
    ``LOST_REPAIR`` are ``backdrop`` (bool h x w: its colour under the model's threshold, or a cast shadow on it):
    clearly not the backdrop.

    A see-through hole shows the backdrop the product stands on (paper in a scissors' loop, grass between a
    chair's bars, the shade inside a mug's handle); a glossy highlight or reflection the model cut out shows
    something else (the grey of the set mirrored in a black patent toe cap). The backdrop model is a smooth
    surface fitted around the product: a reflection of the set can have the set's colours, but not the ones the
    set has right behind it.
    """
    whole = filled(product)
    inside = whole & ~product
    none = np.zeros_like(product)
    if not inside.any():
        return none, none
    labels, count = ndimage.label(inside, EIGHT)
    # Pixel counts per region by bincount (scipy's sum_labels gives the same sums as floats, ~1.5 ms slower each).
    area = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    near = np.bincount(labels[like], minlength=count + 1)[1:]
    same = np.bincount(labels[backdrop], minlength=count + 1)[1:]
    lost = (area >= max(12.0, LOST_MIN * float(whole.sum()))) & (near < LOST_MATCH * area)
    clear = lost & (same < LOST_REPAIR * area)
    return np.concatenate([[False], lost])[labels], np.concatenate([[False], clear])[labels]


def _enclosed_streaks(regions: np.ndarray, product: np.ndarray, lab: np.ndarray, threshold: float) -> np.ndarray:
    """The 8-connected regions of ``regions`` (bool h x w) that look like a highlight along a polished bar, the
    colour of the backdrop it reflects: inside ``product`` (bool h x w) without touching its outside, narrower
    than a hole (``HOLE_MIN_RADIUS``) and, against the product 2-4 px around them (medians of ``lab``, CIE Lab
    float h x w x 3), a lightness step under ``HOLE_MIN_STEP`` (the two tests by which :func:`_is_hole` refuses
    such a streak as a hole) and an a*/b* difference under ``FRINGE_TINT`` x ``threshold`` (the backdrop's ΔE
    noise: a neutral bar reflecting a neutral paper). The soft-zone test must not punch them out where the model
    is half sure of them: fork_10's handle (p 0.57-0.65 there for 6 of 14 crop boxes moved by 1-2 px, 0.92
    otherwise; its streaks differ from the steel around by 1.2-3.0 in a*/b* at threshold 6). Paper seen through
    a narrow gap has the product's colour or a darker rim around it, and the soft-zone test decides it as
    before: a cartoon's yellow arm against its body (27 in a*/b*, comp_instantmesh_pikachu_wall_table1 BF
    0.988 -> 0.976 without the a*/b* test), a white chair's seat against its back's rail (the step)."""
    labels, count = ndimage.label(regions, EIGHT)
    if count == 0:
        return regions
    # A region is as wide as a hole when one of its pixels lies HOLE_MIN_RADIUS from its rim: measured on the box
    # around the regions (exact: each one's rim is in it) by an erosion, not a distance transform (~1 against ~17 ms).
    rows, cols = np.flatnonzero(regions.any(axis=1)), np.flatnonzero(regions.any(axis=0))
    box = (slice(max(int(rows[0]) - 1, 0), int(rows[-1]) + 2), slice(max(int(cols[0]) - 1, 0), int(cols[-1]) + 2))
    deep = depth_at_least(regions[box], HOLE_MIN_RADIUS)
    streak = np.bincount(labels[box][deep], minlength=count + 1) == 0
    streak[0] = False  # the background
    streak[np.unique(labels[dilate8(~product) & regions])] = False  # open to the outside
    for i, sl in enumerate(ndimage.find_objects(labels), start=1):
        if not streak[i] or sl is None:
            continue
        sl = tuple(slice(max(s.start - 4, 0), s.stop + 4) for s in sl)
        region = labels[sl] == i
        near = dilate8(region, 2)
        around = dilate8(near, 2) & ~near & product[sl]
        if around.any():
            own, bar = np.median(lab[sl][region], axis=0), np.median(lab[sl][around], axis=0)
            step = abs(float(bar[0] - own[0]))
            tint = float(np.hypot(*(bar[1:] - own[1:])))
            streak[i] = step < HOLE_MIN_STEP and tint < FRINGE_TINT * threshold
    return streak[labels]


def _tinted_shade(
    hole: np.ndarray,
    product: np.ndarray,
    diff: np.ndarray,
    lab: np.ndarray,
    expected: np.ndarray,
    grad: np.ndarray,
    threshold: float,
    max_grad: float,
) -> np.ndarray:
    """Smooth darkenings of the backdrop (bool h x w) near each opened ``hole`` (bool h x w) whose a*/b* shift
    (against the backdrop model scaled to their lightness, as :func:`.backdrop.shadow_candidates`) is up to
    ``SHADE_TINT`` x ``threshold`` and points towards the colour of the product around the hole (the median
    shift of the ``product`` pixels, bool h x w, within ``HOLE_GROW`` + 4 px of it that are further than that
    from the backdrop; cosine >= ``TINT_COSINE``): the shade a coloured handle casts inside its loop, tinted by
    the light it reflects. Around a neutral or white product (no pixel that far from the backdrop's colour)
    nothing is tinted shade, and the handle itself is too far from the backdrop to be one."""
    tolerance = SHADE_TINT * threshold
    out = np.zeros_like(hole)
    labels, _ = ndimage.label(hole, EIGHT)
    reach = HOLE_GROW + 4
    for i, sl in enumerate(ndimage.find_objects(labels), start=1):
        sl = (
            slice(max(sl[0].start - reach, 0), sl[0].stop + reach),
            slice(max(sl[1].start - reach, 0), sl[1].stop + reach),
        )  # everything below is per pixel: measured around this hole only
        lab_, expected_ = lab[sl], expected[sl]
        ratio = lab_[..., 0] / np.maximum(expected_[..., 0], 1e-3)
        shift = lab_[..., 1:] - expected_[..., 1:] * ratio[..., None]  # a*/b* against the scaled backdrop
        strength = np.hypot(shift[..., 0], shift[..., 1])
        region = labels[sl] == i
        coloured = ndimage.binary_dilation(region, EIGHT, iterations=reach) & product[sl] & (strength > tolerance)
        if not coloured.any():
            continue  # no coloured product around this hole: no tint to expect
        towards = np.median(shift[coloured], axis=0)
        length = float(np.hypot(*towards))
        if length <= tolerance:
            continue
        smooth, _ = shadow_candidates(
            diff[sl], lab_, expected_, grad[sl], threshold, SHADOW_MIN_RATIO, max_grad, tolerance
        )
        cosine = (shift @ towards) / (strength * length + 1e-6)
        out[sl] |= smooth & (cosine >= TINT_COSINE)
    return out


def _shadow_fringe(
    product: np.ndarray,
    darkening: np.ndarray,
    diff: np.ndarray,
    lab: np.ndarray,
    expected: np.ndarray,
    grad: np.ndarray,
    threshold: float,
    max_grad: float,
) -> np.ndarray:
    """The photo's cast shadow kept along the outside of ``product`` (bool h x w) however sure the model was
    (bool h x w): the grey fringe beside a fork's tines or a scissor handle that the soft-zone test cannot reach
    (the model says p ~ 1 there).

    Candidates are smooth darkenings of the backdrop (:func:`.backdrop.shadow_candidates` with an a*/b*
    tolerance of ``FRINGE_TINT`` x ``threshold`` and the clean-up's ``max_grad``) inside the product, within
    ``FRINGE_DEPTH`` px of its outer outline (not a hole's rim: a loop's deep shade, partly removed, would be
    left ragged). A region of them is a cast shadow when
    - it is open to the backdrop along the outline without an edge: its pixels make up at least
      ``FRINGE_EXPOSED`` of the outer outline pixels within 2 px of it (a shadow fades into the paper it lies on;
      a product's edge is a step, even a polished blade's that reflects the paper, which a smooth path enters
      only at a few points), and it is no wider inside than that opening allows (area <= ``FRINGE_DEPTH`` x the
      open outline: not product seen through a narrow gap), and the shadow goes on outside it (the backdrop
      within 3 px outside is darker than ``FRINGE_PENUMBRA`` x the model's lightness at the median, and the
      region no lighter than that, give or take ``FRINGE_FADE``: a shadow is deepest against its caster), and
      it meets the rest of the product at the product's edge: at least ``FRINGE_STEP`` of the product pixels
      bordering it are a step (a product's own shading turns into its lit part smoothly);
    - it lies on the shadow's side of the rest of the product: at least ``FRINGE_CAST`` of its pixels have
      product that is not a candidate within ``FRINGE_DEPTH`` px towards the light, with only candidates between
      (a shadow lies against its caster), the light's direction being
      the mean direction, from the product, of the photo's own shadow outside it (``darkening``, bool h x w, the
      backdrop's chromaticity-preserving darkenings: :func:`_light_direction`). The shaded side of a white
      product facing away from its shadow (a chair's seat) is not its shadow. No direction (no shadow outside
      the product, or one all around it): no fringe.
    """
    smooth, _ = shadow_candidates(
        diff, lab, expected, grad, threshold, SHADOW_MIN_RATIO, max_grad, FRINGE_TINT * threshold
    )
    outside = ~filled(product)
    candidates = smooth & product
    rows, cols = np.flatnonzero(candidates.any(axis=1)), np.flatnonzero(candidates.any(axis=0))
    if rows.size == 0:
        return np.zeros_like(product)
    # Within FRINGE_DEPTH of the outside: the distance is exact up to FRINGE_DEPTH in a box that reaches that far
    # beyond every candidate (the nearest outside pixel lies in it), and the rest of the grid is not looked at.
    reach = FRINGE_DEPTH + 1
    around = (
        slice(max(int(rows[0]) - reach, 0), int(rows[-1]) + 1 + reach),
        slice(max(int(cols[0]) - reach, 0), int(cols[-1]) + 1 + reach),
    )
    near = np.zeros_like(product)
    if outside[around].any():
        near[around] = within(outside[around], FRINGE_DEPTH)
    candidates &= near
    outline = product & dilate8(outside)
    labels, count = ndimage.label(candidates, EIGHT)
    area = np.bincount(labels.ravel(), minlength=count + 1)
    opening = np.bincount(labels[outline], minlength=count + 1)
    maybe = (opening > 0) & (area <= FRINGE_DEPTH * opening)  # the counting tests first, for all regions at once
    maybe[0] = False
    towards = _light_direction(product, darkening, lab, expected) if maybe.any() else None
    if towards is None:
        return np.zeros_like(product)
    # Rays from the rest of the product away from the light, through candidates only: a shadow lies against its
    # caster (the backdrop between them would be lit).
    solid = product & ~candidates
    edges = solid & (grad >= max_grad)  # the product's edges
    reached = solid
    cast = np.zeros_like(reached)
    h, w = reached.shape
    for step in range(1, FRINGE_DEPTH + 1):
        dy = round(-step * towards[0]) - round(-(step - 1) * towards[0])
        dx = round(-step * towards[1]) - round(-(step - 1) * towards[1])
        moved = np.zeros_like(reached)
        moved[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = reached[
            max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
        ]
        reached = moved & candidates
        if not reached.any():
            break
        cast |= reached
    maybe &= np.bincount(labels[cast], minlength=count + 1) >= FRINGE_CAST * area
    ratio = lab[..., 0] / np.maximum(expected[..., 0], 1e-3)  # lightness against the backdrop's
    fringe = np.zeros(count + 1, bool)
    for i, sl in enumerate(ndimage.find_objects(labels), start=1):
        if not maybe[i] or sl is None:
            continue
        sl = tuple(slice(max(s.start - 3, 0), s.stop + 3) for s in sl)
        region = labels[sl] == i
        border = ndimage.binary_dilation(region, EIGHT) & solid[sl]
        if edges[sl][border].sum() < FRINGE_STEP * border.sum():
            continue  # it turns into the product smoothly: the product's own shading, not a shadow on it
        beyond = float(np.median(ratio[sl][ndimage.binary_dilation(region, EIGHT, iterations=3) & outside[sl]]))
        if beyond > FRINGE_PENUMBRA or float(np.median(ratio[sl][region])) > beyond + FRINGE_FADE:
            continue  # lit backdrop outside it, or it is lighter than that: the product's own shading
        exposed = int((ndimage.binary_dilation(region, EIGHT, iterations=2) & outline[sl]).sum())
        fringe[i] = opening[i] >= FRINGE_EXPOSED * exposed
    return fringe[labels]


def _light_direction(
    product: np.ndarray, darkening: np.ndarray, lab: np.ndarray, expected: np.ndarray
) -> tuple[float, float] | None:
    """Unit (dy, dx) pointing towards the light, or None: minus the mean direction from ``product`` (bool
    h x w) to the photo's shadow outside it (``darkening`` pixels, bool h x w, 2 to 2 x ``FRINGE_DEPTH`` px from
    the product; each the unit vector from its nearest product pixel, weighted by how much it darkens the
    backdrop); None when that mean is shorter than ``FRINGE_DIRECTED`` (no shadow, or one all around)."""
    rows, cols = np.flatnonzero(product.any(axis=1)), np.flatnonzero(product.any(axis=0))
    reach = 2 * FRINGE_DEPTH + 1  # the box around the product that holds every pixel looked at
    box = (
        slice(max(int(rows[0]) - reach, 0), int(rows[-1]) + 1 + reach),
        slice(max(int(cols[0]) - reach, 0), int(cols[-1]) + 1 + reach),
    )
    product, darkening, lab, expected = product[box], darkening[box], lab[box], expected[box]
    # The transform's distances squared, in integers: the same pixels, and the same float64 distances where read.
    squared, (iy, ix) = squared_distances(~product)
    seen = darkening & (squared > squared_bound(2)) & (squared <= squared_bound(2 * FRINGE_DEPTH))
    if not seen.any():
        return None
    ys, xs = np.nonzero(seen)
    distance = np.sqrt(squared[seen].astype(np.float64))
    vectors = np.stack([ys - iy[seen], xs - ix[seen]], axis=1) / distance[:, None]
    weight = np.clip(1.0 - lab[..., 0][seen] / np.maximum(expected[..., 0][seen], 1e-3), 0.0, None)
    if float(weight.sum()) <= 0:
        return None
    mean = (vectors * weight[:, None]).sum(axis=0) / float(weight.sum())
    length = float(np.hypot(*mean))
    if length < FRINGE_DIRECTED:
        return None
    return -float(mean[0]) / length, -float(mean[1]) / length


def _shadow_pieces(product: np.ndarray, darkening: np.ndarray) -> np.ndarray:
    """The pieces of ``product`` (bool h x w) apart from the main one (most area) that are mostly
    (``SHADOW_PIECE``) a chromaticity-preserving darkening of the backdrop (``darkening``, bool h x w) and
    from 1 % to 12 % of the main piece's area (``SHADOW_PIECE_AREA``): a shard of cast shadow standing apart (the
    shadow of a fork's tines), which the soft-zone test keeps where the model is sure of it."""
    labels, count = ndimage.label(product, EIGHT)
    if count < 2:
        return np.zeros_like(product)
    area = np.bincount(labels.ravel(), minlength=count + 1)[1:]  # pixel counts (as _lost_inside)
    dark = np.bincount(labels[darkening], minlength=count + 1)[1:] / np.maximum(area, 1)
    low, high = SHADOW_PIECE_AREA
    shard = (dark >= SHADOW_PIECE) & (area >= low * area.max()) & (area < high * area.max())
    return np.concatenate([[False], shard])[labels]


def _colour_tells(product: np.ndarray, dim: np.ndarray, darkening: np.ndarray) -> float:
    """Share (0-1) of the product's inner pixels (``product``, bool h x w, less its outline: the mixed colours
    there) that are as dark as a cast shadow (``dim``, bool h x w: :func:`.backdrop.shade`) and yet not a
    darkening of the backdrop (``darkening``, bool h x w: :func:`.backdrop.shadow_candidates`' colour test), of
    those that are as dark; 1.0 where under ``COLOUR_MIN_DIM`` of the product is that dark. The cast-shadow test
    tells the product from a shadow by colour alone: this says whether the photo has a colour to tell it by."""
    core = erode8(product)
    dim_core = core & dim
    n = int(dim_core.sum())
    if n == 0 or n < COLOUR_MIN_DIM * core.sum():
        return 1.0
    return 1.0 - float((dim_core & darkening).sum()) / n


def colour_bins(lab: np.ndarray) -> np.ndarray:
    """Each pixel's colour histogram bin (int32 h x w, 0 .. ``COLOUR_BINS``³ - 1) of CIE Lab ``lab`` (float h x w x 3):
    ``COLOUR_BINS`` equal bins per axis over ``LAB_LOW`` .. ``LAB_HIGH``, values beyond them in the end bins. One
    channel plane at a time, each scaled in float64 as the whole array was (the same bins): the broadcast over the
    interleaved channels took ~13 ms on a 640 x 480 grid, the planes ~4."""
    index = np.zeros(lab.shape[:2], np.int32)
    plane = np.empty(lab.shape[:2], np.float64)
    for c in range(3):
        np.subtract(lab[..., c], LAB_LOW[c], out=plane)
        plane /= LAB_HIGH[c] - LAB_LOW[c]
        plane *= COLOUR_BINS
        bins = plane.astype(np.int32)
        np.clip(bins, 0, COLOUR_BINS - 1, out=bins)
        index *= COLOUR_BINS
        index += bins
    return index


def _left_out(
    product: np.ndarray, foreign: np.ndarray, lab: np.ndarray, ring: np.ndarray, near: np.ndarray
) -> np.ndarray:
    """The blobs (bool h x w) left out next to ``product`` (bool h x w) that look like it: pixels of
    ``foreign`` (bool h x w: background the backdrop model does not explain) whose colour (``lab``, h x w x 3)
    is at least ``LIKE_PRODUCT`` times as frequent in the product as in the backdrop ``ring`` (colour
    histograms, as in histogram back-projection, Swain & Ballard 1991), in blobs (an opening drops the band
    of mixed colours along every outline) that come ``near`` the product (bool h x w: within the ring's reach,
    ``RING``); the blobs may reach further. A two-tone set or a table edge is foreign but not
    product-coloured; a cut-off chair base is both. (Adding these blobs back to the product was tried: it gave
    the chair half its base, in pieces, and added foliage to a green toy on a busy scene; evidence only.)"""
    core = erode8(product)  # not the mixed colours of the outline
    if not core.any() or not ring.any():
        return np.zeros_like(product)
    index = colour_bins(lab)
    size = COLOUR_BINS**3
    in_product = np.bincount(index[core], minlength=size) / core.sum()
    in_ring = np.bincount(index[ring], minlength=size) / ring.sum()
    like = (in_product > LIKE_PRODUCT * in_ring)[index]
    blobs = dilate8(erode8(foreign & like))
    labels, count = ndimage.label(blobs, EIGHT)
    close = np.unique(labels[near & blobs])
    return np.isin(labels, close[close > 0]) if count else blobs


def surround_share(rgb: np.ndarray, first: np.ndarray, threshold: float) -> float:
    """Share of the photo around the model's product that is the same surface as the backdrop next to it.

    ``rgb``: uint8 (H, W, 3), the photo; ``first``: float32 (h, w), the model's map of the whole photo;
    ``threshold``: the backdrop's ΔE76 noise threshold (:class:`CleanupReport`). Pixels the model calls
    background (p < ``SURE_BG``) are compared, on the model's grid, with the median CIE Lab colour of the
    ring around the product (darker lightness weighted less). Measured only for a textured backdrop
    (``TEXTURED`` < threshold <= ``BUSY_THRESHOLD``), else 0: a small detail on one textured surface that
    covers the whole photo is a product filling the frame (a logo on a hoodie), not a product on a backdrop."""
    if not TEXTURED < threshold <= BUSY_THRESHOLD:
        return 0.0
    gh, gw = first.shape
    product = first > 0.5
    outside = first < SURE_BG
    ring = outside & within(product, RING * max(gh, gw))
    if not product.any() or not ring.any():
        return 0.0
    factor = min(rgb.shape[1] // gw, rgb.shape[0] // gh) // 2
    # A cheap integer reduction first, a band of rows at a time: the photo is never copied whole into Pillow (4 bytes
    # a pixel at the refinement's end, the peak of a 40 MP photo's job: issue-14.md, "Memory at 40 MP, session 6").
    rgb = rgb[..., :3]
    img = Image.fromarray(box_reduced(rgb, factor) if factor > 1 else np.ascontiguousarray(rgb))
    thumb = np.asarray(img.resize((gw, gh), Image.Resampling.BILINEAR))
    lab = linear_to_lab(to_linear(thumb))
    dist = backdrop_distance(lab - np.median(lab[ring], axis=0), DARK_WEIGHT)
    return float((dist[outside] < threshold).mean())


def _reaching(regions: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The 8-connected regions of ``regions`` (bool h x w) that touch ``target`` (bool h x w) or lie next to it."""
    labels, _ = ndimage.label(regions, EIGHT)
    touching = np.unique(labels[dilate8(target) & regions])
    return np.isin(labels, touching[touching > 0])


def _holes(
    product: np.ndarray,
    backdrop: np.ndarray,
    dist: np.ndarray,
    threshold: float,
    lightness: np.ndarray,
    grad: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Enclosed backdrop regions inside ``product`` (or nearly enclosed: open to the outside through a mouth
    under ``INLET_MOUTH`` x the square root of their area) that hold nothing, are not a thin streak and have a
    sharp rim (a glossy highlight fades into the product, or runs along a bar as a streak; a hole's rim is the
    product's edge, a step within a pixel or two), and the enclosed backdrop regions of hole size that failed these
    tests (bool h x w each)."""
    whole = filled(product)
    inner = whole & backdrop
    labels, count = ndimage.label(inner, FOUR)
    out = np.zeros(product.shape, bool)
    rejected = np.zeros(product.shape, bool)
    if count == 0:
        return out, rejected
    outside = dilate4(~whole)
    areas = np.bincount(labels.ravel(), minlength=count + 1)
    mouths = np.bincount(labels[outside & inner], minlength=count + 1)
    touching = np.flatnonzero(mouths > INLET_MOUTH * np.sqrt(areas))
    inlet = mouths > 0
    min_area = max(12.0, MIN_HOLE * float(whole.sum()))
    objects = ndimage.find_objects(labels)
    looked = areas >= min_area  # the regions of hole size, not open to the outside: picked at once, not one by one
    looked[touching] = False
    for i in np.flatnonzero(looked[1:]) + 1:
        sl = objects[i - 1]
        if sl is None:
            continue
        sl = (slice(max(sl[0].start - 4, 0), sl[0].stop + 4), slice(max(sl[1].start - 4, 0), sl[1].stop + 4))
        region = labels[sl] == i
        if _is_hole(region, float(areas[i]), dist[sl], threshold, lightness[sl], grad[sl]):
            out[sl] |= region
        elif not inlet[i]:
            rejected[sl] |= region
    return out, rejected


def _is_hole(
    region: np.ndarray, area: float, dist: np.ndarray, threshold: float, lightness: np.ndarray, grad: np.ndarray
) -> bool:
    if float(np.median(dist[region])) > min(HOLE_MATCH * threshold, HOLE_MAX_DE):
        return False
    if not depth_at_least(region, HOLE_MIN_RADIUS).any():
        return False  # a streak: a highlight on the product, the colour of the backdrop it reflects
    if ndimage.binary_fill_holes(region).sum() - area > max(4.0, HOLE_HOLDS * area):
        return False  # holds something: printing on a label, not a see-through hole
    near = ndimage.binary_dilation(region, EIGHT, iterations=2)
    outer = ndimage.binary_dilation(near, EIGHT, iterations=2) & ~near
    rim = near & ~region
    if not outer.any() or not rim.any():
        return False
    own = float(np.median(lightness[region]))
    # Against the quarter of the ring that differs most: a loop's ring is the handle and the shade the handle casts
    # inside it, in shares that move with the JPEG's noise (azure_scissors_15's lower loop: median step 28.7
    # untouched, 8.6 re-saved at q95; its upper quartile 54 and 53).
    if float(np.percentile(np.abs(lightness[outer] - own), 100 * (1 - RIM_SHARE))) < HOLE_MIN_STEP:
        return False  # the product around it is as light: a highlight on a bright surface
    step = abs(float(np.median(lightness[outer])) - own)
    return float(np.percentile(grad[rim], 90)) >= 0.4 * step
