"""Cut-out: the product's alpha matte and clean foreground colours, from whichever source is best.

``cutout(image)`` uses the image's own alpha channel when it has a meaningful one that outlines the product, else
a segmenter (the classical one by default), inside the region an alpha that frames a photo leaves visible
(:mod:`.photo_region`). The result is at the input's full resolution.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from PIL import Image

from ..errors import CutoutRefused, UnsupportedImage
from .matting import decontaminate
from .options import CLASSICAL_CUTOUT
from .photo_region import backdrop_filled, frames_a_photo, plain_ground, visible_part
from .review import ReviewReason
from .segment import OutputScale, PhotoShadow, Segmenter, default_segmenter


@dataclass(frozen=True)
class Cutout:
    """A product cut out of its photo, at the photo's resolution.

    Only the region holding the product is stored (``rgba`` covers ``box``); everything outside it has
    alpha 0. The full-size views (:attr:`alpha`, :meth:`matte_image`) are built on demand.

    Attributes:
        rgba: uint8 (h, w, 4) over ``box``: decontaminated foreground colours (the original pixels
            wherever alpha is 255; background removed from edge colours where it is partial) + alpha.
        box: (left, top, right, bottom) of the source image that ``rgba`` covers.
        source_size: (width, height) of the source image.
        confidence: the segmenter's certainty in [0, 1] (1.0 for an alpha channel supplied by the user).
        source: ``"alpha"`` (the input's own alpha), ``"classical"`` or the segmenter's ``name``.
        bbox: (left, top, right, bottom) of the pixels with alpha > 0, in source coordinates.
        notes: user-facing remarks (why confidence is low, ...).
        shadow: the photo's own shadow (:class:`.segment.PhotoShadow`: a multiply layer on a grid covering the
            whole source, measured when read), when the segmenter measures it (:attr:`.segment.Matte.shadow`),
            else None.
        reasons: why the cut-out should be looked at before use (see :attr:`.segment.Matte.reasons`).
        facts: what the confidence was computed from (see :attr:`.segment.Matte.facts`).
    """

    rgba: np.ndarray
    box: tuple[int, int, int, int]
    source_size: tuple[int, int]
    confidence: float
    source: str
    bbox: tuple[int, int, int, int]
    notes: tuple[str, ...] = ()
    shadow: PhotoShadow | None = field(default=None, repr=False)
    reasons: tuple[ReviewReason, ...] = ()
    facts: dict[str, float] = field(default_factory=dict)

    @property
    def alpha8(self) -> np.ndarray:
        """uint8 (H, W) alpha of the whole source image (a new array)."""
        out = np.zeros((self.source_size[1], self.source_size[0]), np.uint8)
        x0, y0, x1, y1 = self.box
        out[y0:y1, x0:x1] = self.rgba[..., 3]
        return out

    @property
    def alpha(self) -> np.ndarray:
        """float32 (H, W) alpha of the whole source image in [0, 1] (a new array)."""
        return self.alpha8.astype(np.float32) * np.float32(1 / 255)

    def crop(self, box: tuple[int, int, int, int]) -> np.ndarray:
        """uint8 RGBA of ``box`` (source coordinates, inside the image); transparent outside ``self.box``."""
        x0, y0, x1, y1 = box
        bx0, by0, bx1, by1 = self.box
        if bx0 <= x0 and by0 <= y0 and x1 <= bx1 and y1 <= by1:
            return self.rgba[y0 - by0 : y1 - by0, x0 - bx0 : x1 - bx0]
        out = np.zeros((y1 - y0, x1 - x0, 4), np.uint8)
        ix0, iy0, ix1, iy1 = max(x0, bx0), max(y0, by0), min(x1, bx1), min(y1, by1)
        if ix0 < ix1 and iy0 < iy1:
            out[iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0] = self.rgba[iy0 - by0 : iy1 - by0, ix0 - bx0 : ix1 - bx0]
        return out

    def matte_image(self) -> Image.Image:
        """The matte as an 8-bit greyscale ("L") PIL image at the source's resolution."""
        return Image.fromarray(self.alpha8, mode="L")

    def rgba_image(self) -> Image.Image:
        """The cut-out as a straight-alpha RGBA image at the source's resolution."""
        return Image.fromarray(np.ascontiguousarray(self.crop((0, 0, *self.source_size))), mode="RGBA")


MEANINGFUL_ALPHA = 0.005  # share of non-opaque pixels from which an alpha channel is taken as the cut-out


def alpha_bbox(alpha: np.ndarray, floor: float = 0) -> tuple[int, int, int, int] | None:
    """Bounding box (left, top, right, bottom) of ``alpha > floor`` (any dtype), or None when empty."""
    mask = alpha > floor
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def own_alpha(image: Image.Image) -> np.ndarray | None:
    """uint8 (H, W) alpha channel of ``image`` when the cut-out may take it as the product's matte (an RGBA image
    with at least ``MEANINGFUL_ALPHA`` of its pixels not opaque), else None (a few stray translucent pixels: a
    photo, not a cut-out; the segmenter decides). An alpha that frames a photo
    (:func:`.photo_region.frames_a_photo`) is taken only where the segmenter confirms it (:func:`cutout`)."""
    if image.mode != "RGBA":
        return None
    alpha = np.asarray(image.getchannel("A"))
    return alpha if float((alpha < 255).mean()) >= MEANINGFUL_ALPHA else None


def outline_alpha(image: Image.Image) -> np.ndarray | None:
    """:func:`own_alpha` when it outlines the product, None when there is none or it frames a photo."""
    alpha = own_alpha(image)
    return alpha if alpha is not None and _outlines(alpha) else None


def _outlines(alpha: np.ndarray) -> bool:
    return alpha.max() == 0 or not frames_a_photo(alpha)  # fully transparent: refused as a cut-out (_from_alpha)


def cutout(
    image: Image.Image,
    segmenter: Segmenter | None = None,
    output_scale: OutputScale | None = None,
    *,
    consume: bool = False,
) -> Cutout:
    """Cut the product out of a decoded image (RGB or RGBA, 8-bit sRGB).

    ``output_scale``: what the output makes of a product box (photo px -> output px per photo px). A segmenter
    that takes it (``takes_output_scale``) may cut the product out on a grid reduced to the detail the output
    needs: the cut-out's ``source_size`` is then that grid's (smaller than ``image.size``), and every box of
    it is on that grid.

    ``consume``: the caller hands ``image`` over. When the segmenter reads a numpy copy of the pixels (a model's
    cut-out), the image is closed (``Image.close``: its memory goes) once they are copied, so the two copies are
    never both alive while the model runs (a 40 MP photo's ~10 MP working image: 40 MB of Pillow RGB beside 30 MB
    of numpy; issue-14.md, "Memory at 40 MP, session 6"). Only its ``size`` may be read afterwards.

    Raises:
        UnsupportedImage: the image is fully transparent.
        CutoutRefused: the cut-out ran and no product can be told from its background (or the segmenter refused
            what it found); it names the segmenter (``seg.name``) and its confidence.
    """
    alpha = own_alpha(image)
    if alpha is not None and _outlines(alpha):
        return _from_alpha(np.asarray(image))
    seg = segmenter or default_segmenter()
    if alpha is not None:
        rgba = np.array(image)
        if consume:
            image.close()
        return _in_frame(rgba, seg, output_scale)
    return _segmented(image if image.mode == "RGB" else image.convert("RGB"), seg, output_scale, consume=consume)


AGREES = 0.95  # IoU of the segmenter's product (alpha >= 0.5) with a framing alpha's visible part from which
# the alpha is the product's own outline after all (a box or a phone seen square on, a plate from above)


def _in_frame(rgba: np.ndarray, seg: Segmenter, output_scale: OutputScale | None) -> Cutout:
    """The cut-out of a photo whose alpha frames it (uint8 (H, W, 4)): the segmenter's, inside the frame.

    First the visible part is set on a plain ground (:func:`.photo_region.plain_ground`): a model that finds the
    whole of it there (IoU >= ``AGREES``) says the alpha is the product's own outline (a phone or a printed box
    seen square on), and it is taken. The classical cut-out is not asked (it models the backdrop from the
    image's border, so it finds the whole visible part of every framed photo on a plain ground: IoU 0.965-1.000
    on 6 framed real photos, issue-10-quality.md). Then the segmenter sees the photo with its fully transparent
    pixels in the backdrop's colour; its matte is limited to the pixels the alpha leaves visible (alpha > 0; the
    photo's own colours and the segmenter's alpha there, never the frame's partial opacity: a 99 % layer is no
    translucent product) and its confidence is the cut-out's. Where it finds the whole visible part, or nothing
    at all, the alpha is the outline (a flat-coloured box, a logo) and is taken as today."""
    has_ground = bool((rgba[..., 3] == 0).any())
    if has_ground and seg.name != CLASSICAL_CUTOUT and _finds_whole(rgba, seg, output_scale):
        return _from_alpha(rgba)
    try:
        cut = _segmented(Image.fromarray(backdrop_filled(rgba)), seg, output_scale, consume=True)
    except CutoutRefused:
        return _from_alpha(rgba)
    alpha = _on_grid(rgba[..., 3], cut)
    if _agrees(cut, alpha):
        return _from_alpha(rgba)
    x0, y0, x1, y1 = cut.box
    rgba_in = np.array(cut.rgba)
    rgba_in[..., 3][alpha[y0:y1, x0:x1] == 0] = 0  # the photo's transparent pixels are never product
    inside = _checked(rgba_in, cut.box, cut.source_size, cut.confidence, cut.source, cut.notes)
    return replace(inside, shadow=cut.shadow, reasons=cut.reasons, facts=cut.facts)


def _finds_whole(rgba: np.ndarray, seg: Segmenter, output_scale: OutputScale | None) -> bool:
    """Whether ``seg`` finds the whole visible part of ``rgba`` set on a plain ground."""
    try:
        cut = _segmented(Image.fromarray(plain_ground(rgba)), seg, output_scale, consume=True)
    except CutoutRefused:
        return False
    return _agrees(cut, _on_grid(rgba[..., 3], cut))


def _on_grid(alpha: np.ndarray, cut: Cutout) -> np.ndarray:
    """``alpha`` (uint8 (H, W)) on the cut-out's grid (a reduced one where the segmenter chose it)."""
    if cut.source_size == (alpha.shape[1], alpha.shape[0]):
        return alpha
    return np.asarray(Image.fromarray(alpha).resize(cut.source_size, Image.Resampling.NEAREST))


def _agrees(cut: Cutout, alpha: np.ndarray) -> bool:
    product, frame = cut.alpha8 >= 128, visible_part(alpha)
    return float((product & frame).sum() / max(int((product | frame).sum()), 1)) >= AGREES


def _segmented(
    image: Image.Image, seg: Segmenter, output_scale: OutputScale | None, *, consume: bool = False
) -> Cutout:
    """The segmenter's cut-out of an RGB image (:func:`cutout`'s arguments)."""
    by_image = getattr(seg, "segment_image", None)  # optional: see segment.Segmenter
    rgb: np.ndarray | None = None
    reduces = output_scale is not None and getattr(seg, "takes_output_scale", False)
    try:
        if by_image is not None and not reduces:
            matte = by_image(image)
        else:
            rgb = np.asarray(image)
            if consume:
                image.close()
            matte = seg.segment(rgb, output_scale=output_scale) if reduces else seg.segment(rgb)  # type: ignore[call-arg]
    except CutoutRefused:
        raise
    except UnsupportedImage as exc:  # the cut-out ran and found nothing to deliver: say which one (confidence 0)
        raise CutoutRefused(exc.message, engine=seg.name, confidence=0.0) from exc
    size = image.size
    if reduces and matte.alpha.shape[0] <= size[1] and matte.alpha.shape[1] <= size[0]:
        size = matte.alpha.shape[1], matte.alpha.shape[0]  # a reduced grid (the segmenter's own colours)
    if matte.alpha.shape != (size[1], size[0]):
        raise ValueError(f"segmenter {seg.name} returned a {matte.alpha.shape} matte for a {size[::-1]} image")
    if matte.rgba is not None:
        rgba, box = matte.rgba, matte.box or (0, 0, *size)
    else:
        rgb = np.asarray(image) if rgb is None else rgb
        alpha = np.clip(matte.alpha.astype(np.float32, copy=False), 0.0, 1.0)
        box = alpha_bbox(alpha, 0) or (0, 0, 1, 1)
        x0, y0, x1, y1 = box
        sub_alpha = alpha[y0:y1, x0:x1]
        colours = decontaminate(rgb[y0:y1, x0:x1], sub_alpha)
        rgba = np.dstack([colours, np.round(sub_alpha * 255).astype(np.uint8)])
    cut = _checked(rgba, box, size, float(matte.confidence), seg.name, matte.notes)
    return replace(cut, shadow=matte.shadow, reasons=matte.reasons, facts=matte.facts)


def _checked(
    rgba: np.ndarray,
    box: tuple[int, int, int, int],
    size: tuple[int, int],
    confidence: float,
    source: str,
    notes: tuple[str, ...] = (),
) -> Cutout:
    inner = alpha_bbox(rgba[..., 3], 0)
    if inner is None or int(rgba[..., 3].max()) < 26:
        if source == "alpha":
            raise UnsupportedImage("no product found: the image is fully transparent.")
        raise CutoutRefused("no product found: the image looks like background.", engine=source, confidence=0.0)
    x0, y0 = box[:2]
    bbox = (inner[0] + x0, inner[1] + y0, inner[2] + x0, inner[3] + y0)
    return Cutout(rgba, box, size, confidence, source, bbox, notes)


def _from_alpha(rgba: np.ndarray) -> Cutout:
    """The cut-out that is the image's own alpha (``rgba``: uint8 (H, W, 4))."""
    box = alpha_bbox(rgba[..., 3], 0)
    if box is None:
        raise UnsupportedImage("no product found: the image is fully transparent.")
    x0, y0, x1, y1 = box
    return _checked(np.array(rgba[y0:y1, x0:x1]), box, (rgba.shape[1], rgba.shape[0]), 1.0, "alpha")
