"""Studio packshot: cut the product out, lay it out on a studio background with a shadow, encode.

``render_packshot`` is the engine behind ``style: "studio_packshot"`` (see ``engines.py``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import reduce

import numpy as np
from PIL import Image

from .background import parse_background, solid_canvas
from .compose import (
    REFLECTION_DEPTH,
    ProductLayer,
    Shade,
    alpha_on_canvas,
    composite,
    layer_from_cutout,
    outline_from_cutout,
    reflection_layer,
    visible_box,
)
from .cutout import Cutout, cutout
from .encode import output_format, render_image
from .layout import (
    Box,
    Placement,
    effects_area,
    exact_canvas_size,
    inside,
    padded_area,
    place,
    place_with_effects,
    shortening,
    union,
)
from .options import RenderOptions
from .product import layout_box, product_notes
from .result import BACKGROUND_REMOVED, PRODUCT_ALPHA, RenderResult
from .segment import Segmenter
from .shadow import (
    FLOAT_LIFT,
    low_res_factor,
    natural_shadow_extent,
    natural_shadow_layer,
    shadow_extent,
    shadow_shade,
)
from .working import on_photo_grid

NATURAL = "natural"  # extension value of ``shadow``: keep the photo's own shadow
UNCLEAR_SHADOW = (
    "the photo's own shadow could not be told from its backdrop (texture, or shading such as a vignette or a "
    "gradient): a soft shadow was used"
)
# Re-placements tried for the product's shadow and reflection to fit: each fits them at the last round's
# reach, which only the parts that do not scale with the product (blur floors, a floating product's lift,
# the measuring grid's pixel) can exceed; on the breaker's 4 photos x 3 ratios x 3 shadows 1 round did.
FIT_ROUNDS = 4
# Below this share of the scale the product alone would get, the result says its effects made it smaller: on the
# breaker's 4 photos (1:1, 9:16, 16:9) soft and floating shadows cost 4-11 % of the scale, hard ones 8-54 %.
EFFECT_SHRINK_NOTE = 0.85
# A shadow or a reflection that would make the product smaller than this share of the scale it gets alone is
# shortened instead: marketplaces ask the product to fill 85 % of the frame (Amazon's main image), and a user asking
# for a shadow asks for the product as large as without one (breaker12's B12-3: soft and floating shadows at padding
# 0 took it to 0.80-0.84).
KEEP_SCALE = 0.85
# A hard shadow that fits only at less than this share of its length is drawn as the soft shadow instead: its height
# on the floor (0.35 of the product's, ``shadow.CASTS``) is then under 0.105 of the product's, within what the soft
# shadow darkens below its base anyway (its ambient cast: 0.07 high, moved down 0.035), and its crisp squashed
# silhouette reads as grey streaks beside the base, not as a cast shadow (breaker12's B12-14: a wooden chair and a
# lamp in 9:16 at 13-21 %; pack13's sweep of lengths, docs/progress/issue-10-quality.md, "Effects that keep the
# product large, session 13").
HARD_LEAST_LENGTH = 0.3
SYNTHETIC = ("soft", "hard", "floating")  # the shadow kinds drawn from the product's silhouette (``shadow.CASTS``)


@dataclass(frozen=True)
class Layout:
    """Where the product goes (``placement``), its layer there, the shadow kind drawn (``shadow``: ``none``,
    ``natural`` or one of :data:`SYNTHETIC`), the scale (canvas px per source px) the product gets without effects
    (``alone``), and the share of its own length its synthetic shadow (:func:`~.shadow.shadow_layer`'s ``length``)
    and its reflection (its depth) are drawn at."""

    placement: Placement
    layer: ProductLayer
    shadow: str
    alone: float
    shadow_length: float = 1.0
    reflection_length: float = 1.0


def placement_for(box: Box, options: RenderOptions) -> Placement:
    """Where the canvas asked for by ``options`` puts a product of ``box`` (source px)."""
    canvas = exact_canvas_size(options.aspect_ratio, options.long_side)
    offset = (0.0, -FLOAT_LIFT * canvas[1] / 2) if options.shadow == "floating" else (0.0, 0.0)
    return place(box, canvas, padding=options.padding, offset=offset)


def layout_product(cut: Cutout, options: RenderOptions, *, effects: bool = True) -> Layout:
    """Place the cut-out on the canvas asked for by ``options`` and resample it there.

    ``effects``: the shadow and reflection ``options`` ask for are drawn (an opaque background): the product
    is then moved and, if need be, scaled down until it keeps its padding and they keep clear of the frame
    (:func:`~.layout.place_with_effects`), so the frame never cuts them. Where that would take the product under
    ``KEEP_SCALE`` of the scale it gets alone, they are shortened (:func:`~.layout.shortening`) to fit at that scale:
    the reflection alone first (the shadow keeps its look where that is enough), else the synthetic shadow and the
    reflection by one factor; a hard shadow shortened under ``HARD_LEAST_LENGTH`` is laid out and drawn as the soft
    one. They are measured on the shadows' low-resolution grid (the cut-out's alpha alone resampled there:
    :func:`~.compose.outline_from_cutout`), so only the final placement resamples the product at full size.
    """
    kind = _shadow_kind(options.shadow, cut)
    box = layout_box(cut)  # read once: a pass over the cut-out's alpha
    placement, shadow_length, reflection_length = _fitted(cut, box, options, kind, effects)
    if kind == "hard" and shadow_length < HARD_LEAST_LENGTH:
        kind = "soft"
        placement, shadow_length, reflection_length = _fitted(cut, box, options, kind, effects)
    layer = layer_from_cutout(cut, placement)
    return Layout(placement, layer, kind, placement_for(box, options).scale, shadow_length, reflection_length)


def _fitted(cut: Cutout, box: Box, options: RenderOptions, kind: str, effects: bool) -> tuple[Placement, float, float]:
    """The product's placement for ``options`` with a shadow of ``kind``, and the share of their length its shadow and
    its reflection are drawn at (as :func:`layout_product` says); ``box``: the cut-out's
    :func:`~.product.layout_box`."""
    if not (effects and options.reflection):
        placement, length = _fit(cut, box, options, kind, effects, None, reflection=False)
        return placement, length, 1.0
    # The shadow at the length it gets without the reflection; the reflection shortened to fit with it, the product
    # re-placed (as before session 13) or else where the shadow alone put it; else both by one factor.
    alone = placement_for(box, options).scale
    start, shadow_length = _fit(cut, box, options, kind, effects, None, reflection=False)
    if kind not in SYNTHETIC:
        shadow_length = 1.0
    placement, length = _fit(cut, box, options, kind, effects, shadow_length, reflection=True)
    if round(placement.scale / alone, 3) >= KEEP_SCALE:
        return placement, shadow_length, length
    depth = _reflection_room(cut, options, kind, start, shadow_length)
    if depth is not None:
        return start, shadow_length, depth
    placement, length = _fit(cut, box, options, kind, effects, None, reflection=True)
    return placement, length if kind in SYNTHETIC else 1.0, length


def _reflection_room(
    cut: Cutout, options: RenderOptions, kind: str, placement: Placement, shadow_length: float
) -> float | None:
    """The share of its depth at which the reflection fits the frame with the product at ``placement`` and its shadow of
    ``kind`` at ``shadow_length`` (which fits there), without moving the product; None where it does not fit."""
    allowed = effects_area(placement.canvas, options.padding)
    factor = low_res_factor(placement.canvas)
    bottom = placement.dest_box[3]
    length = 1.0
    for _ in range(FIT_ROUNDS):
        mirrored, shadow = _effects_boxes(cut, placement, kind, factor, length, shadow_length, True)
        reach = _joined(mirrored, shadow)
        if reach is None or inside(reach, allowed):
            return length
        if mirrored is None or mirrored[3] <= allowed[3] or mirrored[3] <= bottom:
            return None  # what leaves the frame is not the reflection's depth
        # the depth it reaches below the product scales with its length (but for the grid's pixel: the next round)
        length *= max(0.0, allowed[3] - bottom) / (mirrored[3] - bottom)
        if length <= 0:
            return None
    return None


def _fit(
    cut: Cutout,
    box: Box,
    options: RenderOptions,
    kind: str,
    effects: bool,
    shadow_length: float | None,
    *,
    reflection: bool,
) -> tuple[Placement, float]:
    """The product's placement for ``options`` with a shadow of ``kind`` drawn at ``shadow_length`` of its own
    (None: at the length returned) and, where ``reflection``, a reflection, and the length at which what is drawn
    at it keeps the product at ``KEEP_SCALE`` of its size alone (``box``: as :func:`_fitted`)."""
    placement = placement_for(box, options)
    length = 1.0
    if not effects:
        return placement, length
    area = padded_area(placement.canvas, options.padding)
    allowed = effects_area(placement.canvas, options.padding)
    factor = low_res_factor(placement.canvas)
    keep = KEEP_SCALE * placement.scale
    # A reach is measured on the low-resolution grid and widened by one of its pixels, which a re-placement
    # scales with the product although it does not: aiming this much inside the area, one round fits
    # (without it each round missed by a few pixels and shrank the product by ~1 %).
    aim = 3 * factor + 1
    for _ in range(FIT_ROUNDS):
        scaling, fixed = _effects_boxes(cut, placement, kind, factor, length, shadow_length, reflection)
        reach = _joined(scaling, fixed)
        if reach is None or (inside(reach, allowed) and inside(placement.dest_box, area)):
            break
        moved = place_with_effects(placement, reach, options.padding, inset=aim)
        if scaling is not None and moved.scale < keep:
            # Their reach past the product scales with their length (but for the blur's floor, which the next
            # round measures): the length at which the product keeps ``keep``. 0 where nothing fits at that scale
            # (a canvas of a few dozen px, narrower than the aim's margins): the product is made smaller.
            cut_by = shortening(placement, scaling, keep, options.padding, inset=aim)
            if cut_by > 0:
                length *= cut_by
                shorter = _scaled_reach(placement.dest_box, scaling, cut_by)
                moved = place_with_effects(placement, _joined(shorter, fixed) or shorter, options.padding, inset=aim)
        placement = moved
    return placement, length


def _joined(*boxes: Box | None) -> Box | None:
    found = [box for box in boxes if box is not None]
    return reduce(union, found) if found else None


def _scaled_reach(product: Box, effects: Box, factor: float) -> Box:
    """``effects``' box with its reach past the ``product``'s box times ``factor`` (to whole px towards the product:
    rounding out made the product a pixel smaller than aimed at)."""
    return (
        product[0] - math.floor(max(0, product[0] - effects[0]) * factor),
        product[1] - math.floor(max(0, product[1] - effects[1]) * factor),
        product[2] + math.floor(max(0, effects[2] - product[2]) * factor),
        product[3] + math.floor(max(0, effects[3] - product[3]) * factor),
    )


def _shadow_kind(kind: str, cut: Cutout) -> str:
    """The synthetic shadow drawn for ``kind``: ``natural`` without a measured photo shadow falls back to soft."""
    return "soft" if kind == NATURAL and (cut.shadow is None or cut.shadow.layer is None) else kind


def _effects_boxes(
    cut: Cutout,
    placement: Placement,
    kind: str,
    factor: float,
    length: float,
    shadow_length: float | None,
    reflection: bool,
) -> tuple[Box | None, Box | None]:
    """Canvas boxes (px, may reach past the canvas) of the visible effects drawn with the product under
    ``placement``: those drawn at ``length`` (the reflection where ``reflection``, a synthetic shadow of ``kind``
    where ``shadow_length`` is None) and the others (the photo's own shadow, a synthetic one at ``shadow_length``),
    measured with the product's outline resampled to the grid ``factor`` times coarser than the canvas (the
    synthetic shadows' own grid, :func:`~.shadow.low_res_factor`)."""
    width, height = placement.canvas
    small = (max(1, round(width / factor)), max(1, round(height / factor)))
    kx, ky = width / small[0], height / small[1]
    left, top, right, bottom = placement.dest_box
    coarse = (math.floor(left / kx), math.floor(top / ky), math.ceil(right / kx), math.ceil(bottom / ky))
    here = outline_from_cutout(cut, Placement(small, placement.source_box, placement.scale / kx, coarse))
    shadow = None
    if kind == NATURAL:
        assert cut.shadow is not None and cut.shadow.layer is not None  # as _shadow_kind keeps natural
        shadow = natural_shadow_extent(cut.shadow.layer, cut.source_size, placement)
    elif kind in SYNTHETIC:
        drawn = shadow_extent(kind, here, small, coarse, length=length if shadow_length is None else shadow_length)
        shadow = _on_canvas(drawn, kx, ky)
    mirror = reflection_layer(here, coarse[3], depth=REFLECTION_DEPTH * length) if reflection else None
    mirrored = _on_canvas(visible_box(mirror), kx, ky) if mirror is not None else None
    if shadow_length is None and kind in SYNTHETIC:
        return _joined(shadow, mirrored), None
    return mirrored, shadow


def _on_canvas(box: Box | None, kx: float, ky: float) -> Box | None:
    """A box on the coarse grid as canvas px, widened by one coarse pixel (the resampling between the grids)."""
    if box is None:
        return None
    return (
        math.floor((box[0] - 1) * kx),
        math.floor((box[1] - 1) * ky),
        math.ceil((box[2] + 1) * kx),
        math.ceil((box[3] + 1) * ky),
    )


def _shadow(kind: str, cut: Cutout, laid: Layout, notes: list[str]) -> np.ndarray | Shade | None:
    """The multiply layer (or its part that darkens) for the shadow ``laid`` out for the ``kind`` asked for (notes
    say why when they differ); ``natural`` re-applies the photo's own shadow when it is known."""
    placement = laid.placement
    if kind == NATURAL and laid.shadow != NATURAL:
        if cut.source == "alpha":  # the photo came cut out: nothing of its backdrop is left to measure
            notes.append("the photo's own shadow is not known for this cut-out: a soft shadow was used")
        else:
            notes.append(UNCLEAR_SHADOW)
    elif kind != laid.shadow:  # a hard shadow too short to read (HARD_LEAST_LENGTH)
        notes.append(
            f"the hard shadow would fit the frame at the product's size only under {HARD_LEAST_LENGTH:.0%} of its "
            f"length, too short to read as a cast shadow: a {laid.shadow} shadow was drawn instead"
        )
    if laid.shadow != NATURAL:
        return shadow_shade(laid.shadow, laid.layer, placement.canvas, placement.dest_box, length=laid.shadow_length)
    assert cut.shadow is not None and cut.shadow.layer is not None  # as _shadow_kind keeps natural
    return natural_shadow_layer(cut.shadow.layer, cut.source_size, placement)


def _shortened_notes(laid: Layout, reflection: bool) -> list[str]:
    """The notes saying which effects ``laid`` draws shorter than their own length (one for both when the same)."""
    shortened = []
    if laid.shadow in SYNTHETIC and laid.shadow_length < 1:
        shortened.append((f"{laid.shadow} shadow", "its", laid.shadow_length))
    if reflection and laid.reflection_length < 1:
        shortened.append(("reflection", "its", laid.reflection_length))
    if len(shortened) == 2 and laid.shadow_length == laid.reflection_length:
        shortened = [(f"{laid.shadow} shadow and reflection", "their", laid.shadow_length)]
    return [
        f"the {what} drawn at {length:.0%} of {whose} length to fit the frame at the product's size"
        for what, whose, length in shortened
    ]


def render_packshot(
    image: Image.Image, options: RenderOptions, segmenter: Segmenter | None = None, *, consume: bool = False
) -> RenderResult:
    """Render a studio packshot of the product in ``image`` (decoded, 8-bit sRGB RGB or RGBA).

    ``consume``: the caller hands ``image`` over; the cut-out may close it once it has copied its pixels
    (:func:`~.cutout.cutout`).

    The result's ``meta`` holds ``"matte"``: the cut-out's alpha as a PIL "L" image at the input's
    resolution (for ``--save-matte`` and debugging; not JSON), plus JSON-friendly facts
    (``cutout_source``, ``scale`` (canvas px per input px), ``canvas``, ``source_box`` (input px),
    ``timings_ms``). A segmenter that can (``takes_output_scale``) cuts the product out at the detail the canvas
    needs, not at the input's resolution; the matte and boxes are then brought back to the input's grid.

    Raises:
        UnsupportedImage: no product in the image (fully transparent, or nothing but background).
        InvalidRequest: a bad background value or padding.
    """
    t0 = time.perf_counter()
    colour = parse_background(options.background)
    cut = cutout(image, segmenter, output_scale=lambda box: placement_for(box, options).scale, consume=consume)
    t1 = time.perf_counter()
    laid = layout_product(cut, options, effects=colour is not None)
    placement, layer = laid.placement, laid.layer
    transparent = colour is None
    size = placement.canvas
    extra_notes: list[str] = []
    if colour is None:
        pixels = composite(None, layer, size=size)
    else:
        shadow = _shadow(options.shadow, cut, laid, extra_notes)
        depth = REFLECTION_DEPTH * laid.reflection_length
        under = (reflection_layer(layer, placement.dest_box[3], depth=depth),) if options.reflection else ()
        pixels = composite(solid_canvas(size, colour), layer, shadow=shadow, under=under, copy=False)
        alone = laid.alone
        if round(placement.scale / alone, 3) < EFFECT_SHRINK_NOTE:  # a layout kept at KEEP_SCALE says nothing
            drawn = [f"{laid.shadow} shadow"] * (laid.shadow != "none") + ["reflection"] * options.reflection
            extra_notes.append(
                f"the product was made {1 - placement.scale / alone:.0%} smaller to keep its {' and '.join(drawn)} "
                "inside the frame"
            )
        extra_notes += _shortened_notes(laid, options.reflection)
    t2 = time.perf_counter()
    fmt = output_format(options.output_format, transparent)
    rendered = render_image(pixels, fmt, options.jpeg_quality, options.max_file_bytes)
    t3 = time.perf_counter()

    notes = product_notes(cut, placement, extra_notes)
    if options.output_format == "jpeg" and transparent:
        notes.append("transparent background written as PNG (JPEG has no alpha)")
    if options.num_variants > 1:
        notes.append("studio packshots are deterministic: every variant is the same image")
    meta: dict[str, object] = {
        "matte": cut.matte_image(),
        "cutout_source": cut.source,
        "cutout_facts": cut.facts,
        "scale": round(placement.scale, 4),
        "canvas": list(size),
        "source_box": list(placement.source_box),  # where the product is in the photo and in the image (as scenes)
        "product_box": list(placement.dest_box),
        PRODUCT_ALPHA: alpha_on_canvas(layer, size),
        BACKGROUND_REMOVED: transparent,
        "timings_ms": {
            "cutout": round((t1 - t0) * 1000, 1),
            "compose": round((t2 - t1) * 1000, 1),
            "encode": round((t3 - t2) * 1000, 1),
        },
    }
    result = RenderResult(
        images=(rendered,) * max(1, options.num_variants),
        engine=cut.source if cut.source != "alpha" else "classical",
        confidence=round(cut.confidence, 3),
        notes=tuple(notes),
        review_reasons=cut.reasons,
        meta=meta,
    )
    if cut.source_size == image.size:
        return result
    # Cut out on a reduced grid: the matte and boxes on the input's, the scale per input pixel.
    meta["scale"] = round(placement.scale * cut.source_size[0] / image.size[0], 4)
    return on_photo_grid(result, image.size, cut.source_size)
