"""The working resolution of a job: a photo much larger than the output is decoded smaller, then what the result
says about the photo (its matte, the product's box in it) is put back on the photo's own pixel grid.

A 40 MP photo rendered to a 2048 px image needs neither 40 MP of decoding nor a 40 MP cut-out: libjpeg's DCT
scaling decodes it at 1/2, 1/4 or 1/8 for a fraction of the time and memory. The working image keeps a long side
of at least :data:`WORKING_FACTOR` times the output's, so a product filling half the frame or more is never
enlarged; when the layout would enlarge the product anyway (a small product in a big photo), the caller renders
again at the photo's full resolution (:func:`enlarged`), so no detail the photo has is lost: a studio packshot
from the part of the photo around the product only (:func:`product_crop`), so that the cut-out's arrays are the
product's size, not the photo's (a 40 MP photo of a small product: ~19 bytes per photo pixel from the whole photo),
reduced to the size the canvas shows the product at (:func:`crop_size`): a product filling most of the frame is not
cut out at 30 MP for a 2 MP canvas.
"""

from __future__ import annotations

import io
import math
from dataclasses import replace

from PIL import Image

from .result import RenderResult

WORKING_FACTOR = 1.5  # the working image's long side is at least this many times the output's long side
PRODUCT_MARGIN = 0.5  # the full-resolution crop: this share of the product box's long side around it, every side
# The crop is reduced so that the product is this many times its size on the canvas: the cut-out of the crop may
# find a slightly smaller box than the working image's (a few pixels of edge), and the layout must not enlarge.
CROP_HEADROOM = 1.1
CROP_BAND = 256  # output rows reduced at a time (:func:`reduced_crop`)

Box = tuple[int, int, int, int]


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


def product_crop(result: RenderResult, image_size: tuple[int, int], photo_size: tuple[int, int]) -> Box | None:
    """The part of the photo to render again at full resolution: the product's box (``meta["source_box"]`` of
    ``result``, a render of a working image of ``image_size``) on the grid of the photo of ``photo_size``, widened
    by :data:`PRODUCT_MARGIN` of its long side on every side (so the cut-out still sees backdrop all round, and
    the parts of the product the working cut-out may have missed), clipped to the photo. (x0, y0, x1, y1) in the
    photo's pixels, or None when the result has no box."""
    box = result.meta.get("source_box")
    if not (isinstance(box, list) and len(box) == 4):
        return None
    x0, y0, x1, y1 = _mapped(box, photo_size[0] / image_size[0], photo_size[1] / image_size[1], (0, 0), photo_size)
    pad = math.ceil(PRODUCT_MARGIN * max(x1 - x0, y1 - y0))
    return max(0, x0 - pad), max(0, y0 - pad), min(photo_size[0], x1 + pad), min(photo_size[1], y1 + pad)


def crop_size(
    result: RenderResult, image_size: tuple[int, int], photo_size: tuple[int, int], crop: Box
) -> tuple[int, int]:
    """The size to render ``crop`` (a box of the photo of ``photo_size``, from :func:`product_crop`) at: reduced
    so that the product is :data:`CROP_HEADROOM` times as large as the layout of ``result`` (a render of a working
    image of ``image_size``) needs it on the canvas (``meta["scale"]`` canvas px per working px), never larger
    than the crop itself. (width, height) in pixels: the output's need sizes the cut-out's arrays, not the photo."""
    scale = result.meta.get("scale")
    width, height = crop[2] - crop[0], crop[3] - crop[1]
    if not isinstance(scale, int | float) or scale <= 0:
        return width, height
    working = max(image_size[0] / photo_size[0], image_size[1] / photo_size[1])  # working px per photo px
    factor = min(1.0, CROP_HEADROOM * scale * working)
    return min(width, math.ceil(width * factor)), min(height, math.ceil(height * factor))


def reduced_crop(image: Image.Image, crop: Box, size: tuple[int, int]) -> Image.Image:
    """``crop`` (x0, y0, x1, y1) of ``image`` resized to ``size`` (Pillow's bicubic, which widens its support when
    reducing), :data:`CROP_BAND` output rows at a time: Pillow's one-pass resize of a box keeps a temporary of the
    output's width and all the box's rows (as large as the crop when reducing little); a band's box is the same
    stretch of the same pixels, so the rows are those of the one pass within a level or two (Pillow may run its
    two passes in the other order, rounding and clipping between them). ``image.crop(crop)`` when ``size`` is the
    crop's own."""
    width, height = crop[2] - crop[0], crop[3] - crop[1]
    if size == (width, height):
        return image.crop(crop)
    out = Image.new(image.mode, size)
    step = height / size[1]  # photo rows per output row
    for top in range(0, size[1], CROP_BAND):
        bottom = min(size[1], top + CROP_BAND)
        box = (crop[0], crop[1] + top * step, crop[2], min(crop[3], crop[1] + bottom * step))
        out.paste(image.resize((size[0], bottom - top), Image.Resampling.BICUBIC, box=box), (0, top))
    return out


def _mapped(box: list[int], kx: float, ky: float, origin: tuple[int, int], photo_size: tuple[int, int]) -> Box:
    x0, y0, x1, y1 = box
    return (
        math.floor(x0 * kx) + origin[0],
        math.floor(y0 * ky) + origin[1],
        min(photo_size[0], math.ceil(x1 * kx) + origin[0]),
        min(photo_size[1], math.ceil(y1 * ky) + origin[1]),
    )


def on_photo_grid(
    result: RenderResult, photo_size: tuple[int, int], image_size: tuple[int, int], region: Box | None = None
) -> RenderResult:
    """``result`` of an image of ``image_size`` showing ``region`` of the photo (x0, y0, x1, y1; default: the
    whole photo, e.g. a working image) put on the photo's grid: its matte (``meta["matte"]``, PIL "L") resized to
    the region (bilinear) and placed there on a photo-sized matte (0 outside), and every ``source_box``
    (x0, y0, x1, y1) in the photo's pixels: the result's, its scene's and each variant's."""
    meta = dict(result.meta)
    rx0, ry0, rx1, ry1 = region or (0, 0, *photo_size)
    kx, ky = (rx1 - rx0) / image_size[0], (ry1 - ry0) / image_size[1]

    def on_photo(facts: dict[str, object]) -> dict[str, object]:
        box = facts.get("source_box")
        if not (isinstance(box, list) and len(box) == 4):
            return facts
        return {**facts, "source_box": list(_mapped(box, kx, ky, (rx0, ry0), photo_size))}

    matte = meta.get("matte")
    if isinstance(matte, Image.Image) and matte.size != photo_size:
        if matte.size != (rx1 - rx0, ry1 - ry0):
            matte = matte.resize((rx1 - rx0, ry1 - ry0), Image.Resampling.BILINEAR)
        if matte.size != photo_size:
            whole = Image.new("L", photo_size, 0)
            whole.paste(matte, (rx0, ry0))
            matte = whole
        meta["matte"] = matte
    meta = on_photo(meta)
    scene, variants = meta.get("scene"), meta.get("variants")
    if isinstance(scene, dict):
        meta["scene"] = on_photo(scene)
    if isinstance(variants, list):
        meta["variants"] = [on_photo(v) if isinstance(v, dict) else v for v in variants]
    return replace(result, meta=meta)
