"""The backdrop seen through a product: the paper in the slots between a fork's tines, the shade in a loop.

A cut-out model sees the photo at a few hundred pixels: it fills the slots between a fork's tines (it is sure of
them: p 1.0 on azure_fork_18) and leaves the shaded paper along the inside of a scissors' loop as product where the
clean-up (:mod:`.cleanup`) opened the loop's middle. Those pixels are the backdrop in the product's shade: darker than
the paper and bluer (azure_fork_18's slots: 0.6-0.8 of the paper's lightness, b* 4-10 lower) or lit otherwise than
the paper around the product (inside azure_scissors_15's loop: b* +5), so neither the backdrop's colour test nor its
chromaticity-preserving shadow test explains them, and they stayed: invisible on white, plain on a coloured
background (breaker11, B11-6).

Both are found against the product's *solid* part, the pixels no shade of the backdrop explains (the black tines
and handles; :func:`like_backdrop`), on a plain set only (the caller's test):

- :func:`seen_through`: a gap between solid walls, at most ``2 x GAP`` wide, of pixels like the backdrop, open to
  the backdrop beside the product through a smooth mouth (paper running on into the slot, no outline between), with
  hardly any other product around it, mostly smooth (paper, not print), and as unlike its walls in lightness as a
  hole is unlike its rim;
- :func:`shade_beside`: around an opened hole, inside what the solid part encloses, the smooth pixels that are a
  shade of the paper *the hole shows*.

A product with no solid part (white on white) is not touched, nor a pale part of a product that no solid part
encloses (a white robot's shaded torso beside the hole under its arm: tried without that limit, -0.026 IoU).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .morphology import dilate8, erode8, filled
from .spill import SPILL_FROM

GAP = 5  # analysis pixels: a gap up to 2 x GAP wide between solid walls is a slot (azure_fork_18's: 6-8 wide)
SHADE_MIN = 0.55  # a shade of the backdrop keeps at least this share of its lightness (CIE L); the deepest shade in
# azure_fork_18's slots: 0.59; the black plastic of forks and handles: under 0.3
SHADE_TINT = 2.0  # ... and lies within this x the backdrop's ΔE threshold of it in a*/b* (the slots' shade: up to
# 10.5 at threshold 6, bluer than the paper)
LIGHTER = 0.02  # ... and is no lighter than it but for its noise: the paper in a gap gets less light, never more
WALLS = 0.6  # a slot's border is at least this share solid product (its walls; azure_fork_18's: 0.89-0.93) ...
OTHER = 0.15  # ... and at most this share other product (its mouth is the rest; a pale part of a product between
# dark details has more of the product around it: the arms of a robot)
SMOOTH = 0.35  # ... and at least this share of its pixels smooth: paper, not print (azure_fork_18's slots: 0.47;
# the white letters between a label's black and red print: 0.16)
REACH = 24  # analysis pixels: how far from an opened hole its shade is looked for (azure_scissors_15's lower loop:
# a crescent up to ~20 wide)
MOUTH_REACH = 16  # analysis pixels: how far a slot's mouth may lie along smooth paper the model kept as product
# beyond the slot's end (azure_fork_18 turned 90 degrees: 9-16 px; at its own orientation 0)
KEPT_DEPTH = 2  # analysis pixels: the outline's mixed colours are not counted as backdrop kept ...
KEPT_MIN = 12  # ... nor specks under this many pixels (grain, a JPEG block)
EIGHT = ndimage.generate_binary_structure(2, 2)


def like_backdrop(diff: np.ndarray, expected_lightness: np.ndarray, dist: np.ndarray, threshold: float) -> np.ndarray:
    """Pixels (bool h x w) that may be the backdrop or a shade of it: its colour (``dist`` under ``threshold``), or
    from ``SHADE_MIN`` to 1 of its lightness within ``SHADE_TINT`` x ``threshold`` of it in a*/b*; never lighter than
    it beyond ``LIGHTER``. ``diff``: float h x w x 3, CIE Lab minus the backdrop model's; ``expected_lightness``:
    float h x w, the model's CIE L; ``dist``: float h x w, :func:`.backdrop.backdrop_distance`; ``threshold``: its
    ΔE76 noise threshold."""
    # Products and squares, no division or root: the lightness ratio 1 + dL / L between SHADE_MIN and 1 + LIGHTER.
    dl = diff[..., 0]
    tint2 = np.square(diff[..., 1]) + np.square(diff[..., 2])
    shade = (dl >= (SHADE_MIN - 1.0) * expected_lightness) & (tint2 < (SHADE_TINT * threshold) ** 2)
    return ((dist < threshold) | shade) & (dl <= LIGHTER * expected_lightness)


def seen_through(
    product: np.ndarray,
    solid: np.ndarray,
    like: np.ndarray,
    opened: np.ndarray,
    lightness: np.ndarray,
    smooth: np.ndarray,
    limits: tuple[float, float],
) -> np.ndarray:
    """The slots (bool h x w): product pixels like the backdrop between solid walls (module docstring).

    ``product``: bool h x w, what the clean-up keeps (p > 0.5); ``solid``: bool h x w, its pixels not
    :func:`like_backdrop` (``like``); ``opened``: bool h x w, what was opened inside its outline (a slot may open onto
    that or onto the backdrop beside the product, where smooth and like it); ``lightness``: float h x w, CIE L;
    ``smooth``: bool h x w, no edge (gradient under the clean-up's limit); ``limits``: (the smallest slot in pixels,
    the least CIE L between a slot and its walls), the clean-up's smallest hole and step between a hole and its rim.
    """
    min_area, min_step = limits
    candidates = erode8(dilate8(solid, GAP), GAP) & product & ~solid
    labels, count = ndimage.label(candidates, EIGHT)
    inside = labels[candidates]
    area = np.bincount(inside, minlength=count + 1)
    even = np.bincount(inside[smooth[candidates]], minlength=count + 1)
    # The cheap tests first, on the gaps' own pixels: big enough, and paper (smooth), not print.
    slot = (area >= min_area) & (even >= SMOOTH * area)
    slot[0] = False
    if not slot.any():
        return np.zeros_like(candidates)
    # Each gap's border (the pixels beside it, each given to one gap): walls of solid product, a mouth on the
    # backdrop, hardly any other product. Measured in the box of the gaps still in question (and as far around
    # as a mouth may lie).
    held = slot[labels]
    rows, cols = np.flatnonzero(held.any(axis=1)), np.flatnonzero(held.any(axis=0))
    m = MOUTH_REACH + 1
    box = (slice(max(rows[0] - m, 0), rows[-1] + 1 + m), slice(max(cols[0] - m, 0), cols[-1] + 1 + m))
    paper = like[box] & smooth[box]
    opening = _paper_reached((~filled(product)[box] | opened[box]) & paper, paper & ~candidates[box])
    border = ndimage.grey_dilation(labels[box], footprint=EIGHT)
    border[candidates[box]] = 0
    edge = border > 0
    beside, is_wall = border[edge], solid[box][edge]
    walls = np.bincount(beside[is_wall], minlength=count + 1)
    mouth = np.bincount(beside[opening[edge]], minlength=count + 1)
    around = np.bincount(beside, minlength=count + 1)
    # Other product: the border's product pixels neither wall nor mouth (the backdrop beside the product, smooth
    # or not, is no product: counted as other, it shut azure_fork_18's mirrored slot at 0.20).
    other = np.bincount(beside[product[box][edge] & ~is_wall & ~opening[edge]], minlength=count + 1)
    slot &= (walls >= WALLS * around) & (mouth > 0) & (other <= OTHER * around)
    # The backdrop seen between walls is as unlike them as a hole is unlike its rim; a part of the product in the
    # backdrop's shade between others is as dark as they are (a chest's wood between its frame and strap: 1 L apart).
    wall_l = np.bincount(beside[is_wall], lightness[box][edge][is_wall], minlength=count + 1) / np.maximum(walls, 1)
    gap_l = np.bincount(inside, lightness[candidates], minlength=count + 1) / np.maximum(area, 1)
    slot &= np.abs(gap_l - wall_l) >= min_step
    return slot[labels]


def _paper_reached(seed: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """The backdrop's smooth paper (bool h x w) that ``seed`` (bool h x w: smooth paper beside the product or in an
    opened hole) runs on into within ``MOUTH_REACH`` px through ``paper`` (bool h x w), product or not: the paper a
    model kept beyond a slot's end is still the slot's mouth."""
    return ndimage.binary_dilation(seed, EIGHT, iterations=MOUTH_REACH, mask=paper) | seed


def shade_beside(
    hole: np.ndarray, shows: np.ndarray, enclosed: np.ndarray, lab: np.ndarray, smooth: np.ndarray, threshold: float
) -> np.ndarray:
    """The shade of the backdrop beside each opened hole (bool h x w, the holes not included): pixels of
    ``enclosed`` within ``REACH`` of a hole, joined to it through smooth pixels that are a shade of the backdrop *as
    that hole shows it*: from ``SHADE_MIN`` to 1 of the lightness of its median CIE Lab over ``shows``, within
    ``SHADE_TINT`` x ``threshold`` of it in a*/b*.

    ``hole``: bool h x w, the opened holes; ``shows``: bool h x w, the part of them that showed the backdrop itself
    (before they grew into shade); ``enclosed``: bool h x w, the product pixels the solid part encloses; ``lab``:
    float h x w x 3, CIE Lab; ``smooth``: bool h x w, no edge; ``threshold``: the backdrop's ΔE76 noise threshold.
    """
    out = np.zeros_like(hole)
    labels, _count = ndimage.label(hole, EIGHT)
    for i, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is None:
            continue
        box = tuple(slice(max(s.start - REACH, 0), s.stop + REACH) for s in sl)
        inside = labels[box] == i
        seen = inside & shows[box]
        paper = np.median(lab[box][seen if seen.any() else inside], axis=0)
        ratio = lab[box][..., 0] / max(float(paper[0]), 1e-3)
        tint = np.hypot(lab[box][..., 1] - paper[1], lab[box][..., 2] - paper[2])
        shade = (ratio >= SHADE_MIN) & (ratio <= 1.0 + LIGHTER) & (tint < SHADE_TINT * threshold)
        allowed = shade & smooth[box] & enclosed[box]
        out[box] |= ndimage.binary_dilation(inside, EIGHT, iterations=REACH, mask=allowed) & ~inside
    return out


def backdrop_seen(
    product: np.ndarray,
    hole: np.ndarray,
    shows: np.ndarray,
    diff: np.ndarray,
    expected_lightness: np.ndarray,
    dist: np.ndarray,
    lab: np.ndarray,
    smooth: np.ndarray,
    threshold: float,
    limits: tuple[float, float],
) -> np.ndarray:
    """The backdrop seen through the product beyond the opened holes (bool h x w): the shade beside them
    (:func:`shade_beside`) and the slots (:func:`seen_through`).

    ``product``: bool h x w, what the clean-up keeps (p > 0.5, the holes out); ``hole``, ``shows``: bool h x w, the
    opened holes and what of them showed the backdrop; ``diff``, ``expected_lightness``, ``dist``: as
    :func:`like_backdrop` takes them; ``lab``: float h x w x 3, CIE Lab; ``smooth``: bool h x w, no edge;
    ``threshold``: the backdrop's ΔE76 noise threshold; ``limits``: (the smallest slot in pixels, the least CIE L
    between a slot and its walls), the clean-up's smallest hole and hole rim step. Only the product's box (and
    ``REACH`` around it) is looked at."""
    out = np.zeros_like(product)
    rows, cols = np.flatnonzero(product.any(axis=1)), np.flatnonzero(product.any(axis=0))
    if rows.size == 0:
        return out
    box = (
        slice(max(int(rows[0]) - REACH, 0), int(rows[-1]) + 1 + REACH),
        slice(max(int(cols[0]) - REACH, 0), int(cols[-1]) + 1 + REACH),
    )
    product, hole, shows, lab, smooth = product[box], hole[box], shows[box], lab[box], smooth[box]
    like = like_backdrop(diff[box], expected_lightness[box], dist[box], threshold)
    solid = product & ~like
    if not solid.any():
        return out  # a pale product (white on white): nothing tells its parts from the backdrop's shade
    found = np.zeros_like(product)
    if hole.any():
        found |= shade_beside(hole, shows, filled(solid) & product, lab, smooth, threshold)
    found |= seen_through(product & ~found, solid, like, hole | found, lab[..., 0], smooth, limits)
    out[box] = found
    return out


def backdrop_kept(kept: np.ndarray, backdrop: np.ndarray, chroma: float) -> float:
    """Share of the product's area (0-1) that is the backdrop's own colour, on a strongly coloured backdrop: the
    backdrop left in an opening (a chair's gap between back and seat, the slot between a horse's leg and tail, a
    scissors' loop on a coloured paper). 0.0 when the backdrop's CIE chroma ``chroma`` is under
    :data:`.spill.SPILL_FROM`: on paper, a sweep or a wall the product's pale parts have its colour too.

    ``kept``: bool h x w, the product (p > 0.5); ``backdrop``: bool h x w, the backdrop's colour (within its ΔE76
    noise threshold) or a chromaticity-preserving darkening of it; ``chroma``: CIE C*ab of the backdrop around the
    product. Counted ``KEPT_DEPTH`` px inside the product's outline (its mixed colours), in regions of at least
    ``KEPT_MIN`` px."""
    area = int(kept.sum())
    if chroma < SPILL_FROM or area == 0:
        return 0.0
    inner = erode8(kept, KEPT_DEPTH) & backdrop
    labels, count = ndimage.label(inner, EIGHT)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    return float(sizes[sizes >= KEPT_MIN].sum() / area)
