"""The working resolution of a job: a photo much larger than the output is decoded smaller, then what the result
says about the photo (its matte, the product's box in it) is put back on the photo's own pixel grid.

A 40 MP photo rendered to a 2048 px image needs neither 40 MP of decoding nor a 40 MP cut-out: libjpeg's DCT
scaling decodes it at 1/2, 1/4 or 1/8 for a fraction of the time and memory. The working image keeps a long side
of at least :data:`WORKING_FACTOR` times the output's, so a product filling half the frame or more is never
enlarged; when the layout would enlarge the product anyway (a small product in a big photo), the caller renders
again from the whole photo (:func:`enlarged`), so no detail the photo has is lost.
"""

from __future__ import annotations

import io
import math
from dataclasses import replace

from PIL import Image

from .result import RenderResult

WORKING_FACTOR = 1.5  # the working image's long side is at least this many times the output's long side


def working_size(photo: bytes, long_side: int) -> tuple[int, int] | None:
    """The least size to decode ``photo`` at for an output of ``long_side`` px, or None for the whole photo (not
    a JPEG, or not at least twice that size: DCT scaling halves at least). Reads the header only."""
    with Image.open(io.BytesIO(photo)) as header:
        if header.format != "JPEG":
            return None
        width, height = header.size
    need = WORKING_FACTOR * long_side
    if max(width, height) < 2 * need:
        return None
    k = need / max(width, height)
    return math.ceil(width * k), math.ceil(height * k)


def enlarged(result: RenderResult) -> bool:
    """The layout scaled the product up (``meta["scale"]`` > 1): the whole photo has more of it to give."""
    scale = result.meta.get("scale")
    return isinstance(scale, int | float) and scale > 1


def on_photo_grid(result: RenderResult, photo_size: tuple[int, int], image_size: tuple[int, int]) -> RenderResult:
    """``result`` of a working image of ``image_size`` with its matte (``meta["matte"]``, PIL "L") resized to
    ``photo_size`` (bilinear) and every ``source_box`` (x0, y0, x1, y1) in the photo's pixels: the result's, its
    scene's and each variant's."""
    meta = dict(result.meta)
    kx, ky = photo_size[0] / image_size[0], photo_size[1] / image_size[1]

    def on_photo(facts: dict[str, object]) -> dict[str, object]:
        box = facts.get("source_box")
        if not (isinstance(box, list) and len(box) == 4):
            return facts
        x0, y0, x1, y1 = box
        return {
            **facts,
            "source_box": [
                math.floor(x0 * kx),
                math.floor(y0 * ky),
                min(photo_size[0], math.ceil(x1 * kx)),
                min(photo_size[1], math.ceil(y1 * ky)),
            ],
        }

    matte = meta.get("matte")
    if isinstance(matte, Image.Image) and matte.size != photo_size:
        meta["matte"] = matte.resize(photo_size, Image.Resampling.BILINEAR)
    meta = on_photo(meta)
    scene, variants = meta.get("scene"), meta.get("variants")
    if isinstance(scene, dict):
        meta["scene"] = on_photo(scene)
    if isinstance(variants, list):
        meta["variants"] = [on_photo(v) if isinstance(v, dict) else v for v in variants]
    return replace(result, meta=meta)
