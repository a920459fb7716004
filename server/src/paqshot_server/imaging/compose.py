"""Compositing: product layers over a background, blended in linear light.

The contract every engine relies on: wherever a product layer's alpha is exactly 1, the output pixel
is the layer's pixel, bit for bit (the product's own pixels, resampled only by the layout's scale).
Partial alpha is blended in linear light with decontaminated foreground colours.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from .colour import to_linear, to_srgb8
from .cutout import Cutout
from .layout import Box, Placement
from .matting import BAND_CHUNK
from .planes import as_pixels, rgb_of

REFLECTION_DEPTH = 0.35  # a reflection fades out at this share of the product's height below it (its look)
# Below this alpha a pasted layer moves no 8-bit value by half a level or more (0.5 / 255 of any difference).
VISIBLE_ALPHA = 0.5 / 255
# A layer shrunk by more than this factor is first box-reduced by a whole factor (Pillow's ``reducing_gap``), leaving
# at least this factor to the bicubic kernel: Pillow's documentation gives 3.0 and up as indistinguishable from the
# full kernel "in most cases". The layout's outlines onto the 256-px grid shrink ~8x (the packshot bench's bottle:
# 5.9 -> 2.4 ms a call, two calls a render); a product layer changes only where it shrinks 6x or more (the whole
# factor is int(shrink / 3)): from a photo over ~6x the canvas (issue-14.md, "Packshot speed, session 16").
REDUCING_GAP = 3.0


@dataclass(frozen=True)
class ProductLayer:
    """A product (or reflection) ready to paste: sRGB colours, alpha, canvas position of its top-left."""

    rgb: np.ndarray  # uint8 (h, w, 3)
    alpha: np.ndarray  # float32 (h, w) in [0, 1]
    x: int
    y: int

    @property
    def box(self) -> Box:
        return self.x, self.y, self.x + self.alpha.shape[1], self.y + self.alpha.shape[0]


@dataclass(frozen=True)
class Shade:
    """The part of a multiply layer that darkens: float32 (h, w) ``values`` (1 = untouched) whose top-left is at
    canvas px (``x``, ``y``), inside the canvas; the rest of the canvas is untouched. A synthetic shadow darkens a box
    of the canvas (the 2048² packshot bench's soft shadow: 372 x 780 px), which a canvas-sized plane held with 4 M
    ones around it, and each use scanned whole."""

    values: np.ndarray
    x: int = 0
    y: int = 0


def layer_from_cutout(cut: Cutout, placement: Placement) -> ProductLayer:
    """Resample the cut-out (full resolution) to its place on the canvas.

    Colours and alpha are resampled together with premultiplied alpha (bicubic; shrunk more than
    :data:`REDUCING_GAP` times: a whole-factor box reduction first), so no background colour bleeds into edges.
    At scale 1 the pixels are copied, not resampled.
    """
    return _placed(cut, placement, colours=True)


def outline_from_cutout(cut: Cutout, placement: Placement) -> ProductLayer:
    """:func:`layer_from_cutout`'s alpha alone (the same float32 values, bit for bit; the colours black): what
    the layout measures a shadow's or a reflection's extent on.

    Pillow resamples an RGBA image's alpha band exactly as an "L" image of that band (premultiplying changes
    only the colour bands; same kernel, same rounding), and reads the whole source whatever the size asked
    for: onto the layout's 256-px grid, 2.7 instead of 8.6 ms a call (the speed bench's cut-outs, one core;
    docs/progress/issue-10-quality.md, "Cut-out speed, session 12").
    """
    return _placed(cut, placement, colours=False)


def _placed(cut: Cutout, placement: Placement, *, colours: bool) -> ProductLayer:
    src = cut.bbox
    dest = placement.map_box(src)
    dw, dh = dest[2] - dest[0], dest[3] - dest[1]
    sw, sh = src[2] - src[0], src[3] - src[1]
    crop = cut.crop(src)
    if (dw, dh) == (sw, sh):
        alpha = crop[..., 3].astype(np.float32) * np.float32(1 / 255)
        return ProductLayer(_colours_of(crop, colours), alpha, dest[0], dest[1])
    # Only the part that can show: a faint matte far beyond the placed product would otherwise be resampled at
    # the layout's scale whole (a frame-filling photo at 4.8x: a 6539 x 5544 layer, 0.4 GB, for a 2048 canvas).
    # The margin keeps what casts a shadow or a reflection from just outside the canvas.
    cw, ch = placement.canvas
    margin = max(cw, ch) // 4
    vx0, vy0 = max(dest[0], -margin), max(dest[1], -margin)
    vx1, vy1 = min(dest[2], cw + margin), min(dest[3], ch + margin)
    if vx1 <= vx0 or vy1 <= vy0:
        return ProductLayer(np.zeros((1, 1, 3), np.uint8), np.zeros((1, 1), np.float32), dest[0], dest[1])
    kx, ky = sw / dw, sh / dh
    region = ((vx0 - dest[0]) * kx, (vy0 - dest[1]) * ky, (vx1 - dest[0]) * kx, (vy1 - dest[1]) * ky)
    source = Image.fromarray(np.ascontiguousarray(crop if colours else crop[..., 3]), mode="RGBA" if colours else "L")
    resized = np.asarray(
        source.resize((vx1 - vx0, vy1 - vy0), Image.Resampling.BICUBIC, box=region, reducing_gap=REDUCING_GAP)
    )
    out_alpha = (resized[..., 3] if colours else resized).astype(np.float32) * np.float32(1 / 255)
    return ProductLayer(_colours_of(resized, colours), out_alpha, vx0, vy0)


def _colours_of(pixels: np.ndarray, colours: bool) -> np.ndarray:
    """uint8 (h, w, 3): the colours of RGBA ``pixels`` (h x w x 4), or, without ``colours``, black (an outline)."""
    return rgb_of(pixels) if colours else np.zeros((*pixels.shape[:2], 3), np.uint8)


def alpha_on_canvas(layer: ProductLayer, size: tuple[int, int]) -> np.ndarray:
    """uint8 (H, W): ``layer``'s alpha placed on a canvas of ``size`` (width, height), clipped to it."""
    width, height = size
    out = np.zeros((height, width), np.uint8)
    clipped = _clip(layer.box, width, height)
    if clipped is not None:
        (cx0, cy0, cx1, cy1), (lx0, ly0, lx1, ly1) = clipped
        out[cy0:cy1, cx0:cx1] = np.round(layer.alpha[ly0:ly1, lx0:lx1] * 255).astype(np.uint8)
    return out


def visible_box(layer: ProductLayer, least: float = VISIBLE_ALPHA) -> Box | None:
    """Canvas box (may reach past the canvas's edges) of ``layer``'s pixels with alpha >= ``least``; None if none."""
    seen = layer.alpha >= least
    rows = np.flatnonzero(seen.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(seen[rows[0] : rows[-1] + 1].any(axis=0))
    return layer.x + int(cols[0]), layer.y + int(rows[0]), layer.x + int(cols[-1]) + 1, layer.y + int(rows[-1]) + 1


def reflection_layer(
    layer: ProductLayer, floor_y: int, opacity: float = 0.3, depth: float = REFLECTION_DEPTH
) -> ProductLayer:
    """Mirror of ``layer`` about the floor line ``floor_y`` (its product's bottom), fading with distance: out at
    ``depth`` times the layer's height below the floor."""
    h = layer.alpha.shape[0]
    rgb = layer.rgb[::-1]
    fade_len = max(1.0, depth * h)
    rows = np.arange(h, dtype=np.float32)
    fade = opacity * np.clip(1 - rows / fade_len, 0, 1) ** 1.5
    alpha = layer.alpha[::-1] * fade[:, None]
    top = 2 * floor_y - (layer.y + h)
    return ProductLayer(np.ascontiguousarray(rgb), alpha.astype(np.float32), layer.x, top)


def _clip(box: Box, width: int, height: int) -> tuple[Box, Box] | None:
    """(canvas slice box, layer slice box) of a layer box clipped to the canvas, or None if outside."""
    x0, y0, x1, y1 = box
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    if cx0 >= cx1 or cy0 >= cy1:
        return None
    return (cx0, cy0, cx1, cy1), (cx0 - x0, cy0 - y0, cx1 - x0, cy1 - y0)


def apply_shadow(canvas: np.ndarray, shadow: np.ndarray | Shade) -> None:
    """Multiply ``canvas`` (uint8 H x W x 3, in place) by ``shadow`` (float32 H x W, 1 = untouched, or the
    :class:`Shade` of such a plane), in linear light, touching only the rows/columns where the shadow is."""
    part = shadow if isinstance(shadow, Shade) else Shade(shadow)
    # Row minima over the whole part, column minima over the shadow's rows only (a full-plane mask cost more)
    rows = np.flatnonzero(part.values.min(axis=1) < 0.999)
    if rows.size == 0:
        return
    cols = np.flatnonzero(part.values[rows[0] : rows[-1] + 1].min(axis=0) < 0.999)
    shade = part.values[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    top, left = part.y + int(rows[0]), part.x + int(cols[0])
    sl = (slice(top, top + shade.shape[0]), slice(left, left + shade.shape[1]))
    region = canvas[sl]
    colour = region[0, 0].copy()
    if not _solid(region, colour):
        canvas[sl] = to_srgb8(to_linear(region) * shade[..., None])
        return
    # A solid background (a studio packshot's): the same products, one plane per distinct channel value (white: one
    # instead of three, and no lookup of the canvas's colours), ~4 ms of a 2048² packshot; each written into its
    # channel as a plane (a broadcast over the channels ran per pixel: ~3x slower).
    linear = to_linear(colour)
    planes: dict[int, np.ndarray] = {}
    for channel, value in enumerate(colour.tolist()):
        if value not in planes:
            planes[value] = to_srgb8(linear[channel] * shade)
        region[..., channel] = planes[value]


def _solid(region: np.ndarray, colour: np.ndarray) -> bool:
    """Whether every pixel of ``region`` (uint8 h x w x C) is ``colour`` (uint8 C): its rows compared with the colour
    repeated along a row (a comparison broadcast over the channels ran per pixel: ~5x slower)."""
    rows = region.reshape(region.shape[0], -1)  # a view where each row's pixels are contiguous (a canvas's box)
    return bool((rows == np.tile(colour, region.shape[1])).all())


def paste(canvas: np.ndarray, layer: ProductLayer) -> None:
    """Alpha-blend ``layer`` over an opaque canvas (uint8 H x W x 3, in place), linear light; exact
    copy where alpha == 1."""
    clipped = _clip(layer.box, canvas.shape[1], canvas.shape[0])
    if clipped is None:
        return
    (cx0, cy0, cx1, cy1), (lx0, ly0, lx1, ly1) = clipped
    alpha = layer.alpha[ly0:ly1, lx0:lx1]
    rgb = layer.rgb[ly0:ly1, lx0:lx1]
    region = canvas[cy0:cy1, cx0:cx1]
    solid = alpha >= 1.0
    # Whole pixels as items, masked by the alpha's own plane: a broadcast `where` (H, W, 1) took numpy's slow path
    # (~10x slower), and a mask stacked to (H, W, 3) 2.9 + 1.1 ms (stacking) against 0.7 for the bench's layer.
    np.copyto(as_pixels(region), as_pixels(rgb), where=solid)
    partial = alpha > 0
    partial &= ~solid
    # By flat index (flatnonzero, take, put): 2-D nonzero and fancy indexing cost ~3x more for a megapixel layer.
    found = np.flatnonzero(partial)
    if found.size == 0:
        return
    width = partial.shape[1]
    alphas, colours = alpha.reshape(-1), rgb.reshape(-1, 3)  # views, unless the layer is clipped (then copies)
    pixels = canvas.reshape(-1, 3)  # a view of a C-contiguous canvas (else a copy, written back below)
    cells = as_pixels(pixels)  # put by whole pixels: ~3x faster than assigning rows by fancy index
    for start in range(0, found.size, BAND_CHUNK):  # bounded memory when a faint matte covers the canvas
        at = found[start : start + BAND_CHUNK]
        ly, lx = np.divmod(at, width)
        on_canvas = (ly + cy0) * canvas.shape[1] + (lx + cx0)
        a = alphas.take(at)[:, None]
        mixed = to_linear(colours.take(at, axis=0)) * a + to_linear(pixels.take(on_canvas, axis=0)) * (1 - a)
        cells.put(on_canvas, as_pixels(to_srgb8(mixed)))
    if not np.shares_memory(pixels, canvas):
        canvas[...] = pixels.reshape(canvas.shape)


def composite(
    background: np.ndarray | None,
    product: ProductLayer,
    *,
    size: tuple[int, int] | None = None,
    shadow: np.ndarray | Shade | None = None,
    under: tuple[ProductLayer, ...] = (),
    copy: bool = True,
) -> np.ndarray:
    """Compose the final canvas.

    Args:
        background: uint8 (H, W, 3) background (a solid colour or a generated scene), or None for a
            transparent canvas (cut-out mode: shadows and ``under`` layers are not drawn).
        product: the product layer, pasted last; its pixels are exact where its alpha == 1.
        size: (width, height), required when ``background`` is None.
        shadow: float32 (H, W) multiply layer applied to the background (1 = no shadow), or its :class:`Shade`.
        under: layers drawn between the shadow and the product (reflections).
        copy: False draws into ``background`` itself (it must be a writable uint8 array).

    Returns:
        uint8 (H, W, 3) or, for a transparent background, (H, W, 4) with straight alpha.
    """
    if background is None:
        if size is None:
            raise ValueError("size is required for a transparent canvas")
        width, height = size
        out = np.zeros((height, width, 4), np.uint8)
        clipped = _clip(product.box, width, height)
        if clipped is not None:
            (cx0, cy0, cx1, cy1), (lx0, ly0, lx1, ly1) = clipped
            out[cy0:cy1, cx0:cx1, :3] = product.rgb[ly0:ly1, lx0:lx1]
            out[cy0:cy1, cx0:cx1, 3] = np.round(product.alpha[ly0:ly1, lx0:lx1] * 255).astype(np.uint8)
        return out
    out = np.array(background, dtype=np.uint8, copy=True) if copy else background
    if shadow is not None:
        apply_shadow(out, shadow)
    for layer in under:
        paste(out, layer)
    paste(out, product)
    return out
