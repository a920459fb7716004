"""Studio packshot: cut the product out, lay it out on a studio background with a shadow, encode.

``render_packshot`` is the engine behind ``style: "studio_packshot"`` (see ``engines.py``).
"""

from __future__ import annotations

import time

import numpy as np
from PIL import Image

from .background import parse_background, solid_canvas
from .compose import ProductLayer, alpha_on_canvas, composite, layer_from_cutout, reflection_layer
from .cutout import Cutout, cutout
from .encode import output_format, render_image
from .layout import Box, Placement, exact_canvas_size, place
from .options import RenderOptions
from .product import layout_box, product_notes
from .result import PRODUCT_ALPHA, RenderResult
from .segment import Segmenter
from .shadow import FLOAT_LIFT, natural_shadow_layer, shadow_layer
from .working import on_photo_grid

NATURAL = "natural"  # extension value of ``shadow``: keep the photo's own shadow
UNCLEAR_SHADOW = (
    "the photo's own shadow could not be told from its backdrop (texture, or shading such as a vignette or a "
    "gradient): a soft shadow was used"
)


def placement_for(box: Box, options: RenderOptions) -> Placement:
    """Where the canvas asked for by ``options`` puts a product of ``box`` (source px)."""
    canvas = exact_canvas_size(options.aspect_ratio, options.long_side)
    offset = (0.0, -FLOAT_LIFT * canvas[1] / 2) if options.shadow == "floating" else (0.0, 0.0)
    return place(box, canvas, padding=options.padding, offset=offset)


def layout_product(cut: Cutout, options: RenderOptions) -> tuple[Placement, ProductLayer]:
    """Place the cut-out on the canvas asked for by ``options`` and resample it there."""
    placement = placement_for(layout_box(cut), options)
    return placement, layer_from_cutout(cut, placement)


def _shadow(kind: str, cut: Cutout, layer: ProductLayer, placement: Placement, notes: list[str]) -> np.ndarray | None:
    """The multiply layer for ``kind``; ``natural`` re-applies the photo's own shadow when it is known."""
    if kind != NATURAL:
        return shadow_layer(kind, layer, placement.canvas, placement.dest_box)
    if cut.shadow is None:
        if cut.source == "alpha":  # the photo came cut out: nothing of its backdrop is left to measure
            notes.append("the photo's own shadow is not known for this cut-out: a soft shadow was used")
        else:
            notes.append(UNCLEAR_SHADOW)
        return shadow_layer("soft", layer, placement.canvas, placement.dest_box)
    return natural_shadow_layer(cut.shadow, cut.source_size, placement)


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
    placement, layer = layout_product(cut, options)
    transparent = colour is None
    size = placement.canvas
    extra_notes: list[str] = []
    if colour is None:
        pixels = composite(None, layer, size=size)
    else:
        shadow = _shadow(options.shadow, cut, layer, placement, extra_notes)
        under = (reflection_layer(layer, placement.dest_box[3]),) if options.reflection else ()
        pixels = composite(solid_canvas(size, colour), layer, shadow=shadow, under=under, copy=False)
    t2 = time.perf_counter()
    fmt = output_format(options.output_format, transparent)
    rendered = render_image(pixels, fmt, options.jpeg_quality)
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
