"""Synthetic shadows as multiply layers (float32 H x W, 1 = no darkening) for the background.

Built from the placed product's silhouette on a low-resolution copy of the canvas (blurs are cheap
there) and upsampled. Kinds: ``soft`` (contact + ambient occlusion under the base, the default),
``hard`` (a crisper cast shadow falling back and to the right), ``floating`` (the product lifted, a
diffuse shadow below the gap), ``none``; and ``natural``: the photo's own shadow, measured against the
background model by the classical segmenter (:func:`estimate_photo_shadow`) and re-applied through the
same layout (:func:`natural_shadow_layer`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image
from scipy import ndimage

from .compose import ProductLayer, Shade
from .layout import Placement
from .morphology import dilate8

LOW_RES_SIDE = 256
FLOAT_LIFT = 0.06  # share of the canvas height a floating product is lifted by
NATURAL_REACH = 0.12  # the photo's shadow is kept within this share of the image size from the product
# The photo's own shadow against the backdrop's shading (measured on the real photos, docs/progress/issue-10-quality.md,
# "Natural shadow, session 11"): levels 1/25 of the darkness apart (1/100 changes no layer by more than 0.03, 0.0013 on
# average, for four times the label passes); darkness left above the shading under SHADOW_FLOOR is texture and noise;
# shading making up more than SHADING_SHARE of the darkness beside the product hides the shadow (the cake on its stand:
# 0.65; every other plain-backdrop photo: 0.26 or less); edges blurred over NATURAL_SOFTNESS of the grid's long side
# (twice as much takes the apples' contact shadow from 0.51 to 0.47 deep).
SHADING_STEP = 0.04
SHADOW_FLOOR = 0.05
SHADING_SHARE = 0.5
BESIDE = 0.03  # "beside the product": within this share of the grid's long side
NATURAL_SOFTNESS = 0.004
# Darkening below this is not drawn: multiplying white (255, the brightest background) by 1 - 0.004 in linear
# light still encodes as 255 (measured with colour.to_srgb8; 0.00445 gives 254), darker colours move less.
VISIBLE_DARKENING = 0.004


def silhouette(layer: ProductLayer, canvas: tuple[int, int], factor: float) -> np.ndarray:
    """The layer's alpha on a canvas ``factor`` times smaller than ``canvas`` (float32)."""
    width, height = canvas
    return _mask_on(layer, factor, (0, 0, max(1, round(width / factor)), max(1, round(height / factor))))


def _cells(layer: ProductLayer, factor: float) -> tuple[int, int, int, int]:
    """The layer's box on the grid ``factor`` times coarser than the canvas (cells; may reach past the canvas)."""
    h, w = layer.alpha.shape
    x0, y0 = round(layer.x / factor), round(layer.y / factor)
    return x0, y0, x0 + max(1, round(w / factor)), y0 + max(1, round(h / factor))


def _mask_on(layer: ProductLayer, factor: float, grid: tuple[int, int, int, int]) -> np.ndarray:
    """The layer's alpha box-averaged onto the cells ``grid`` (left, top, right, bottom) of the canvas's grid
    ``factor`` times coarser (float32; cells of the grid the layer does not cover are 0)."""
    gx0, gy0, gx1, gy1 = grid
    out = np.zeros((gy1 - gy0, gx1 - gx0), np.float32)
    x0, y0, x1, y1 = _cells(layer, factor)
    cx0, cy0, cx1, cy1 = max(x0, gx0), max(y0, gy0), min(x1, gx1), min(y1, gy1)
    if cx0 < cx1 and cy0 < cy1:
        alpha = Image.fromarray(layer.alpha, mode="F")
        small = np.asarray(alpha.resize((x1 - x0, y1 - y0), Image.Resampling.BOX), dtype=np.float32)
        out[cy0 - gy0 : cy1 - gy0, cx0 - gx0 : cx1 - gx0] = small[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
    return out


def squash_onto_floor(
    mask: np.ndarray, base: float, squash: float, shear: float = 0.0, shift: float = 0.0
) -> np.ndarray:
    """Flatten ``mask`` vertically about the row ``base`` (factor ``squash``; negative mirrors it below the
    base), shear the flattened part sideways (``shear`` px per px above the base), and move it down by ``shift``
    rows: a silhouette laid onto the floor. Same grid as ``mask``."""
    out_base = base + shift
    matrix = np.array([[1 / squash, 0.0], [shear / squash, 1.0]])
    offset = np.array([base - out_base / squash, -shear * out_base / squash])
    return ndimage.affine_transform(mask, matrix, offset=offset, order=1, mode="constant", cval=0.0)


def blur_support(plane: np.ndarray, sigma: float, mode: str = "constant") -> np.ndarray:
    """``scipy.ndimage.gaussian_filter(plane, sigma, mode=mode)`` (float32 H x W), filtered only over the box where
    ``plane`` is not 0, widened by twice the kernel's reach: the same values (outside, the blur is 0 either way, and
    every sample the box's own reflected edges bring in is 0 as it is in the whole plane). The synthetic shadows use
    ``"constant"``: a shadow goes on past the canvas's edge unseen, where scipy's default ``"reflect"`` folded its
    tail back onto the canvas (and made the drawn shadow differ from :func:`shadow_extent`'s, which sees no edge).
    A squashed silhouette fills a fifth of the low-resolution canvas or less: ~2 ms -> ~0.5 ms for the soft
    shadow's ambient blur."""
    rows = np.flatnonzero(plane.any(axis=1))
    out = np.zeros_like(plane)
    if rows.size == 0:
        return out
    cols = np.flatnonzero(plane.any(axis=0))
    margin = 2 * int(4.0 * sigma + 0.5) + 1  # scipy's kernel radius at its default truncate (4 sigma)
    y0, y1 = max(int(rows[0]) - margin, 0), min(int(rows[-1]) + 1 + margin, plane.shape[0])
    x0, x1 = max(int(cols[0]) - margin, 0), min(int(cols[-1]) + 1 + margin, plane.shape[1])
    out[y0:y1, x0:x1] = ndimage.gaussian_filter(plane[y0:y1, x0:x1], sigma, mode=mode)
    return out


@dataclass(frozen=True)
class Cast:
    """One darkening of a synthetic shadow: the product's silhouette laid onto the floor about its bottom
    (:func:`squash_onto_floor`), blurred and weighted. Lengths in low-resolution px unless said otherwise."""

    weight: float  # darkness where the blurred silhouette is whole
    squash: float  # the silhouette's height on the floor, per px of its height
    blur: float  # Gaussian sigma, as a share of the product's longer side ...
    least_blur: float  # ... and at least this
    shear: float = 0.0  # px sideways per px of height above the floor line
    drop: float = 0.0  # moved down by this share of the product's height
    base: float | None = None  # only the product's bottom this share of its height casts it (a contact shadow)
    lifted: bool = False  # moved down by the floating product's lift as well


# The kinds' looks, as drawn before session 12 (unchanged constants, now in one table); a layout keeps them inside
# the frame and may shorten them (their reach past the product: :func:`_lengthened`).
CASTS = {
    "soft": (  # ambient occlusion and a contact shadow under the base
        Cast(0.45, 0.07, blur=0.035, least_blur=1.0, drop=0.035),
        Cast(0.45, 0.08, blur=0.008, least_blur=0.6, drop=0.01, base=0.15),
    ),
    "hard": (Cast(0.42, 0.35, blur=0.004, least_blur=0.5, shear=0.9),),  # falling back and to the right
    "floating": (Cast(0.32, 0.06, blur=0.05, least_blur=1.5, lifted=True),),  # below the gap
}


def shadow_layer(
    kind: str,
    layer: ProductLayer,
    canvas: tuple[int, int],
    product_box: tuple[int, int, int, int],
    strength: float = 1.0,
    length: float = 1.0,
) -> np.ndarray | None:
    """Multiply layer (float32 H x W) for ``kind`` under the product whose canvas box is ``product_box``; None for
    none. ``length``: the shadow's reach past the product (:func:`_lengthened`) as a share of the kind's.

    Darkening below :data:`VISIBLE_DARKENING` is dropped (the layer is exactly 1 there), so the layer's extent
    is its visible extent, the one :func:`shadow_extent` measures for the layout. :func:`shadow_shade` is its part
    that darkens.
    """
    if kind == "none" or strength <= 0:
        return None
    width, height = canvas
    out = np.ones((height, width), np.float32)
    part = shadow_shade(kind, layer, canvas, product_box, strength, length)
    if part is not None:
        out[part.y : part.y + part.values.shape[0], part.x : part.x + part.values.shape[1]] = part.values
    return out


def shadow_shade(
    kind: str,
    layer: ProductLayer,
    canvas: tuple[int, int],
    product_box: tuple[int, int, int, int],
    strength: float = 1.0,
    length: float = 1.0,
) -> Shade | None:
    """The part of :func:`shadow_layer` (same arguments) that darkens: its box on the canvas (the darkening's own, a
    low-resolution pixel wider for the bilinear upsampling, within the canvas) and its values there, the same; None
    where it darkens nothing (``none``, no visible darkening)."""
    if kind == "none" or strength <= 0:
        return None
    width, height = canvas
    factor = low_res_factor(canvas)
    mask = silhouette(layer, canvas, factor)
    box = tuple(v / factor for v in product_box)
    dark = _darkening(_lengthened(CASTS[kind], length), mask, box, strength, _lift(height, factor, length))
    found = _dark_box(dark, (width, height))
    if found is None:
        return None
    (x0, y0, x1, y1), src = found
    plane = Image.fromarray((1.0 - dark).astype(np.float32), mode="F")
    return Shade(np.asarray(plane.resize((x1 - x0, y1 - y0), Image.Resampling.BILINEAR, box=src)), x0, y0)


def shadow_extent(
    kind: str,
    layer: ProductLayer,
    canvas: tuple[int, int],
    product_box: tuple[int, int, int, int],
    strength: float = 1.0,
    length: float = 1.0,
) -> tuple[int, int, int, int] | None:
    """Canvas box (left, top, right, bottom; px, may reach past the canvas's edges) where
    :func:`shadow_layer` darkens (with the same arguments), as it would on a canvas without edges; None when it
    draws nothing.

    The darkening is computed once, on the cells of the canvas's low-resolution grid (extended past its edges
    where need be) that hold the layer and every cast's reach (:func:`_reach`): the values :func:`shadow_layer`
    computes there, where the canvas has them. The box is widened by one low-resolution pixel for the rounding of
    the bilinear upsampling.
    """
    if kind == "none" or strength <= 0:
        return None
    width, height = canvas
    factor = low_res_factor(canvas)
    casts, gap = _lengthened(CASTS[kind], length), _lift(height, factor, length)
    cells = tuple(v / factor for v in product_box)
    layer_cells = _cells(layer, factor)
    reaches = [_reach(cast, layer_cells, cells, gap) for cast in casts]
    gx0, gy0 = (math.floor(min(r[i] for r in [*reaches, layer_cells])) - 1 for i in (0, 1))
    gx1, gy1 = (math.ceil(max(r[i] for r in [*reaches, layer_cells])) + 1 for i in (2, 3))
    mask = _mask_on(layer, factor, (gx0, gy0, gx1, gy1))
    box = (cells[0] - gx0, cells[1] - gy0, cells[2] - gx0, cells[3] - gy0)
    dark = _darkening(casts, mask, box, strength, gap)
    rows = np.flatnonzero(dark.max(axis=1) > 0)
    if rows.size == 0:
        return None
    cols = np.flatnonzero(dark.max(axis=0) > 0)
    kx, ky = width / max(1, round(width / factor)), height / max(1, round(height / factor))  # as shadow_layer's
    grow = math.ceil(factor)
    return (
        round((gx0 + cols[0] - 1) * kx) - grow,
        round((gy0 + rows[0] - 1) * ky) - grow,
        round((gx0 + cols[-1] + 2) * kx) + grow,
        round((gy0 + rows[-1] + 2) * ky) + grow,
    )


def low_res_factor(canvas: tuple[int, int]) -> float:
    """Canvas pixels per pixel of the low-resolution grid the synthetic shadows are drawn on."""
    return max(1.0, max(canvas) / LOW_RES_SIDE)


def _lengthened(casts: tuple[Cast, ...], length: float) -> tuple[Cast, ...]:
    """``casts`` with what carries them past the product times ``length``: their height on the floor (squash), shear,
    drop and blur (not its floor, a pixel or so), so their reach scales with ``length`` (a floating product's lift
    as well: :func:`_lift`)."""
    if length == 1.0:
        return casts
    return tuple(
        replace(
            cast,
            squash=cast.squash * length,
            shear=cast.shear * length,
            drop=cast.drop * length,
            blur=cast.blur * length,
        )
        for cast in casts
    )


def _lift(height: int, factor: float, length: float) -> float:
    """Low-resolution rows a floating product's shadow is moved down by for its lift, on a canvas ``height`` px high
    drawn on a grid ``factor`` times coarser, in a shadow drawn at ``length`` of its own (:func:`_lengthened`)."""
    return FLOAT_LIFT * height / factor * length


def _product_size(box: tuple[float, ...]) -> tuple[float, float]:
    """(height, longer side) of a product box (low-resolution px), at least 1."""
    left, top, right, bottom = box
    ph = max(bottom - top, 1.0)
    return ph, max(max(right - left, 1.0), ph)


def _shift(cast: Cast, ph: float, gap: float) -> float:
    """Rows ``cast`` moves its silhouette down by, for a product ``ph`` high lifted by ``gap`` (px)."""
    return cast.drop * ph + gap if cast.lifted else cast.drop * ph


def _sigma(cast: Cast, size: float) -> float:
    return max(cast.least_blur, cast.blur * size)


def _reach(
    cast: Cast, layer: tuple[int, int, int, int], product_box: tuple[float, ...], gap: float
) -> tuple[float, float, float, float]:
    """Box (low-resolution px) outside which ``cast`` of a layer covering ``layer`` stays 0: the layer's corners
    laid onto the floor, widened by the blur's kernel (4 sigma, scipy's) and the linear interpolation's support
    (a pixel, and the shear's move over a pixel of height)."""
    ph, size = _product_size(product_box)
    bottom, out_base = product_box[3], product_box[3] + _shift(cast, ph, gap)
    corners = [(x, y) for x in (layer[0], layer[2]) for y in (layer[1], layer[3])]
    xs = [x + cast.shear * (bottom - y) for x, y in corners]
    ys = [out_base + cast.squash * (y - bottom) for _, y in corners]
    pad = int(4.0 * _sigma(cast, size) + 0.5) + 2 + math.ceil(abs(cast.shear))
    return min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad


def _darkening(
    casts: tuple[Cast, ...], mask: np.ndarray, product_box: tuple[float, ...], strength: float, gap: float
) -> np.ndarray:
    """The shadow's darkening (float32 like ``mask``, 0 = none, invisible values dropped) of the silhouette
    ``mask`` whose product box is ``product_box`` (px of the same low-resolution grid); ``gap``: px a floating
    product is lifted by."""
    ph, size = _product_size(product_box)
    bottom = product_box[3]
    dark: np.ndarray | None = None
    for cast in casts:
        source = mask
        if cast.base is not None:
            source = mask.copy()
            source[: max(0, int(bottom - cast.base * ph))] = 0  # only the bottom of the product
        laid = squash_onto_floor(source, bottom, cast.squash, shear=cast.shear, shift=_shift(cast, ph, gap))
        part = cast.weight * blur_support(laid, _sigma(cast, size))
        dark = part if dark is None else dark + part
    assert dark is not None  # every kind has a cast
    dark = np.clip(dark * strength, 0.0, 0.85)
    dark[dark < VISIBLE_DARKENING] = 0.0
    return dark


def _dark_box(
    dark: np.ndarray, canvas: tuple[int, int]
) -> tuple[tuple[int, int, int, int], tuple[float, float, float, float]] | None:
    """(canvas box, low-resolution source box) that the upsampled darkening covers: the darkening's own box
    plus a low-resolution pixel for the bilinear support; None when there is no darkening."""
    rows = np.flatnonzero(dark.max(axis=1) > 0)
    if rows.size == 0:
        return None
    cols = np.flatnonzero(dark.max(axis=0) > 0)
    width, height = canvas
    ly0, ly1 = max(rows[0] - 1, 0), min(rows[-1] + 2, dark.shape[0])
    lx0, lx1 = max(cols[0] - 1, 0), min(cols[-1] + 2, dark.shape[1])
    ky, kx = height / dark.shape[0], width / dark.shape[1]
    y0, y1 = round(ly0 * ky), min(height, round(ly1 * ky))
    x0, x1 = round(lx0 * kx), min(width, round(lx1 * kx))
    return (x0, y0, x1, y1), (x0 / kx, y0 / ky, x1 / kx, y1 / ky)


def estimate_photo_shadow(
    linear: np.ndarray, expected_lab: np.ndarray, alpha: np.ndarray, darkening: np.ndarray
) -> np.ndarray | None:
    """The photo's own cast shadow as a multiply layer (float32 on a half-size grid of the inputs, 1 = no shadow),
    or None where it cannot be told from the backdrop's own shading.

    ``linear``: the (smoothed) photo in linear light (float32 h x w x 3); ``expected_lab``: the backdrop model in
    Lab (float32 h x w x 3); ``alpha``: the product's matte (float32 h x w); ``darkening``: pixels that are a
    chromaticity-preserving darkening of the model (bool h x w). The darkness (1 - observed / modelled
    luminance) is kept where it (1) stands deeper than the shading that reaches the grid's frame (a vignette, a
    gradient the model does not follow, light fall-off, paper folds), (2) up to the depth at which it joins the
    product's rim (:func:`joined_levels`), (3) within ``NATURAL_REACH`` of the product; faint values (texture,
    noise) are dropped, the edges softened and the shadow carried a few pixels under the product's edge (where
    the product hides its darkest part). None when frame-reaching shading makes up more than ``SHADING_SHARE``
    of the darkness beside the product. Callers skip textured backdrops (grass, wood, water), whose darkenings
    are texture, not shadow.
    """
    y_obs = linear @ np.array([0.2126729, 0.7151522, 0.0721750], np.float32)
    y_bg = ((np.maximum(expected_lab[..., 0], 0) + 16) / 116) ** 3
    dark = 1.0 - np.clip(y_obs / np.maximum(y_bg, 1e-4), 0.0, 1.0).astype(np.float32)
    dark[~darkening | (alpha > 0.5)] = 0.0
    # Shadows are smooth: the rest runs on a half-size grid (any grid covering the image will do).
    dark = _half(dark)
    product = _half((alpha > 0.5).astype(np.float32)) > 0.5
    dark[product] = 0.0
    frame = np.zeros(dark.shape, bool)
    frame[[0, -1], :] = True
    frame[:, [0, -1]] = True
    ring = dilate8(product, 2) & ~product
    shading, attached = joined_levels(dark, (frame, ring))
    beside = dilate8(product, max(2, round(BESIDE * max(dark.shape)))) & ~product
    if float(shading[beside].sum()) > SHADING_SHARE * max(float(dark[beside].sum()), 1e-6):
        return None
    # A cast shadow lies next to what casts it, darkest there: what is darker away from the product (a vignette
    # rising towards the corners) or far from it is the backdrop's own texture or shading.
    reach = 2 * round(NATURAL_REACH * max(product.shape)) + 1
    near = ndimage.uniform_filter(product.astype(np.float32), reach, mode="constant") > 1e-4
    cast = np.where(near, np.maximum(attached - shading - SHADOW_FLOOR, 0.0), 0.0)
    cast = blur_support(cast, max(1.0, NATURAL_SOFTNESS * max(cast.shape)), mode="reflect")  # as measured
    cast = np.where(product, ndimage.maximum_filter(cast, size=5), cast)
    return (1.0 - cast).astype(np.float32)


def joined_levels(dark: np.ndarray, markers: tuple[np.ndarray, ...]) -> list[np.ndarray]:
    """For each marker (bool h x w), the deepest level of ``dark`` (float32 h x w, 0 = not darker than the backdrop
    model; multiples of ``SHADING_STEP``) at which each pixel still joins the marker through pixels at least that
    dark, else 0 (float32 h x w): a grey-level reconstruction of ``dark`` from the marker, by level sets.

    From the grid's frame it is the backdrop's shading, which reaches the frame; from the product's rim, the darkness
    that falls off away from the product. A cast shadow is what stands above the first within the second."""
    outs = [np.zeros_like(dark) for _ in markers]
    y0, y1, x0, x1 = 0, dark.shape[0], 0, dark.shape[1]
    for level in np.arange(SHADING_STEP, 1.0, SHADING_STEP, dtype=np.float32):
        # Each level's set lies inside the last one's box: the labelling shrinks with it (the same values).
        at = dark[y0:y1, x0:x1] >= level
        rows, cols = np.flatnonzero(at.any(axis=1)), np.flatnonzero(at.any(axis=0))
        if rows.size == 0:
            break
        at = at[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        y0, y1, x0, x1 = y0 + rows[0], y0 + rows[-1] + 1, x0 + cols[0], x0 + cols[-1] + 1
        live = [(out[y0:y1, x0:x1], m[y0:y1, x0:x1]) for out, m in zip(outs, markers, strict=True)]
        live = [(out, m) for out, m in live if (at & m).any()]
        if not live:
            break
        labels, count = ndimage.label(at)
        for out, marker in live:
            joined = np.zeros(count + 1, bool)
            joined[labels[marker]] = True
            joined[0] = False
            out[joined[labels]] = level
    return outs


def _half(plane: np.ndarray) -> np.ndarray:
    """2x2 mean; an odd last row/column is kept by edge replication."""
    h, w = plane.shape
    if h < 2 or w < 2:
        return plane.astype(np.float32)
    p = np.pad(plane, ((0, h % 2), (0, w % 2)), mode="edge").astype(np.float32)
    return (p[0::2, 0::2] + p[1::2, 0::2] + p[0::2, 1::2] + p[1::2, 1::2]) * 0.25


def natural_shadow_layer(photo_shadow: np.ndarray, source_size: tuple[int, int], placement: Placement) -> np.ndarray:
    """Map the photo's shadow (any grid covering the whole source image) onto the canvas with the same
    mapping as the product; canvas parts outside the source photo get no shadow."""
    width, height = placement.canvas
    out = np.ones((height, width), np.float32)
    sx0, sy0, sx1, sy1 = placement.source_box
    dx0, dy0, dx1, dy1 = placement.dest_box
    kx, ky = (dx1 - dx0) / (sx1 - sx0), (dy1 - dy0) / (sy1 - sy0)
    src_w, src_h = source_size
    # canvas box covered by the source photo
    cx0, cy0 = max(0, int(np.ceil(dx0 - sx0 * kx))), max(0, int(np.ceil(dy0 - sy0 * ky)))
    cx1, cy1 = min(width, int(dx0 + (src_w - sx0) * kx)), min(height, int(dy0 + (src_h - sy0) * ky))
    if cx0 >= cx1 or cy0 >= cy1:
        return out
    gh, gw = photo_shadow.shape
    gx, gy = gw / src_w, gh / src_h
    box = (
        (sx0 + (cx0 - dx0) / kx) * gx,
        (sy0 + (cy0 - dy0) / ky) * gy,
        (sx0 + (cx1 - dx0) / kx) * gx,
        (sy0 + (cy1 - dy0) / ky) * gy,
    )
    plane = Image.fromarray(photo_shadow.astype(np.float32), mode="F")
    out[cy0:cy1, cx0:cx1] = np.asarray(plane.resize((cx1 - cx0, cy1 - cy0), Image.Resampling.BILINEAR, box=box))
    return np.minimum(out, 1.0)


def natural_shadow_extent(
    photo_shadow: np.ndarray, source_size: tuple[int, int], placement: Placement
) -> tuple[int, int, int, int] | None:
    """Canvas box (px, may reach past the canvas's edges) where :func:`natural_shadow_layer` darkens by
    :data:`VISIBLE_DARKENING` or more, widened by one cell of the shadow's grid (the bilinear support); None
    when the photo's shadow is nowhere visible."""
    ys, xs = np.nonzero(photo_shadow < 1.0 - VISIBLE_DARKENING)
    if ys.size == 0:
        return None
    gh, gw = photo_shadow.shape
    cell_x, cell_y = source_size[0] / gw, source_size[1] / gh
    box = (
        int(xs.min() * cell_x),
        int(ys.min() * cell_y),
        int(np.ceil((xs.max() + 1) * cell_x)),
        int(np.ceil((ys.max() + 1) * cell_y)),
    )
    left, top, right, bottom = placement.map_box(box)
    grow = int(np.ceil(max(cell_x, cell_y) * placement.scale)) + 1
    return left - grow, top - grow, right + grow, bottom + grow
