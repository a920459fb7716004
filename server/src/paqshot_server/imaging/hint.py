"""Mask hints: a user's keep/remove strokes that the cut-out must respect (review and repair).

A hint is a PNG the size of the photo. Its grey level says, per pixel: product (the alpha matte is forced to 1),
background (forced to 0) or unknown (the segmenter decides). Levels are read with a margin so anti-aliased strokes
count: grey >= 192 is product, <= 63 is background, anything between is unknown; a pixel whose own alpha is
below 128 is unknown whatever its grey, so a client may send only its strokes on a transparent layer. Colour PNGs
are read as grey with Pillow's ITU-R 601-2 luma. The canonical stored form is 8-bit grey: 255 / 0 / 128.

The hint touches the matte and nothing else: every pixel it leaves unknown keeps the segmenter's alpha exactly,
and product pixels are still the photo's own (the cut-out re-composites them wherever alpha is 1). One exception,
made where a render takes the hint (``Engines.render``): a remove stroke in the backdrop's colour inside an opening
of the product marks the whole opening (:mod:`.removal`; breaker13 B13-15).

A photo with its own alpha channel (one outlining the product, ``cutout.outline_alpha``) is constrained the
same way (:func:`hint_own_alpha`): its alpha is the matte the hint corrects. Where the two disagree the hint
wins: it is a person's later, explicit word about this very result (a shadow or a prop the file's alpha kept,
a part it made transparent). "Keep" over a pixel the file made fully transparent shows the colour the file
stores there (often black in files that do not keep colours under alpha 0); the photo's colours are never
changed.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image

from ..errors import InvalidRequest
from .decode import has_colour_key, png_bit_depth, with_trns_alpha
from .segment import Matte, Segmenter

PRODUCT, UNKNOWN, BACKGROUND = 255, 128, 0
PRODUCT_FROM = 192  # grey at or above: product
BACKGROUND_UP_TO = 63  # grey at or below: background
OPAQUE_FROM = 128  # a pixel's own alpha below this: unknown
# The smallest preview a hint may be drawn on (long side, pixels), unless the photo itself is smaller: one
# nearest-neighbour pixel of a 128 px hint covers at most a 61 px square of a 40 MP photo (7,744 px long side),
# a coarse stroke still; a 2x2 "hint" has the photo's shape within a pixel and says nothing a person drew
# (breaker6, F1). A half-size preview of a 256 px photo is still accepted.
MIN_PREVIEW_SIDE = 128


def read_hint(data: bytes, photo_size: tuple[int, int]) -> np.ndarray:
    """The canonical hint of a photo from a client's PNG: uint8 (H, W) of PRODUCT, BACKGROUND or UNKNOWN.

    ``photo_size`` is the stored photo's (width, height). The PNG must have that size, or be the photo scaled
    down by one factor (each side within a pixel of it, e.g. drawn on a half-size preview) to a long side of at
    least :data:`MIN_PREVIEW_SIDE` pixels; it is then scaled to the photo with nearest neighbour, so no new grey
    levels appear.

    Raises:
        InvalidRequest: not a PNG, damaged, of another size or shape, a preview too small (the message gives the
            sizes), or every pixel marked background (nothing would be left of the photo).
    """
    width, height = photo_size
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data), formats=["PNG"])
            w, h = opened.size
            smallest = min(max(width, height), MIN_PREVIEW_SIDE)
            if abs(w * height - h * width) > max(width, height) or w * h > width * height or max(w, h) < smallest:
                raise InvalidRequest(
                    f"mask_hint is {w}x{h} px; it must be {width}x{height} px, the size of the photo "
                    f"(or that size scaled down by one factor, at least {smallest} px on its long side)."
                )
            opened.load()
    except InvalidRequest:
        raise
    except (OSError, ValueError, Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise InvalidRequest("mask_hint must be a PNG image (base64), white = product, black = background.") from exc
    image: Image.Image = opened
    if has_colour_key(image):  # a tRNS colour key: those pixels are transparent, so unknown (as for any alpha)
        image = with_trns_alpha(image, png_bit_depth(data))
    if image.mode not in ("L", "LA", "RGBA"):
        image = image.convert("RGBA" if "transparency" in image.info or image.mode in ("PA", "RGBa") else "L")
    grey = np.asarray(image.convert("L"))
    hint = np.full(grey.shape, UNKNOWN, np.uint8)
    hint[grey >= PRODUCT_FROM] = PRODUCT
    hint[grey <= BACKGROUND_UP_TO] = BACKGROUND
    if image.mode in ("LA", "RGBA"):
        hint[np.asarray(image.getchannel("A")) < OPAQUE_FROM] = UNKNOWN
    if (hint == BACKGROUND).all():
        raise InvalidRequest(
            "mask_hint marks the whole photo as background (black), so nothing of it would be left: paint the "
            "product white, or leave the parts the cut-out should decide grey or transparent."
        )
    if (w, h) != (width, height):
        hint = np.asarray(Image.fromarray(hint, "L").resize((width, height), Image.Resampling.NEAREST))
    return hint


def encode_hint(hint: np.ndarray) -> bytes:
    """The canonical hint as an 8-bit grey PNG (what is stored beside the photo)."""
    out = io.BytesIO()
    Image.fromarray(hint, "L").save(out, "PNG", optimize=True)
    return out.getvalue()


def decode_stored_hint(data: bytes) -> np.ndarray:
    """A stored canonical hint (written by :func:`encode_hint`) back to uint8 (H, W)."""
    with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
        return np.asarray(image.convert("L"))


def apply_hint(alpha: np.ndarray, hint: np.ndarray) -> np.ndarray:
    """``alpha`` (H, W) — float32 in [0, 1], or uint8 in [0, 255] — with full opacity where the hint says
    product and 0 where it says background.

    A new array of the same kind; every pixel the hint leaves unknown is unchanged.
    """
    if alpha.shape != hint.shape:
        raise ValueError(f"hint {hint.shape} and matte {alpha.shape} differ in size")
    whole = alpha.dtype == np.uint8
    out = np.array(alpha, dtype=np.uint8 if whole else np.float32, copy=True)
    out[hint == PRODUCT] = 255 if whole else 1.0
    out[hint == BACKGROUND] = 0
    return out


def hint_own_alpha(image: Image.Image, hint: np.ndarray) -> Image.Image:
    """``image`` with ``hint`` applied to its own alpha channel when the cut-out takes that channel as the matte;
    otherwise ``image`` itself (a segmenter makes the matte, and :class:`HintedSegmenter` constrains it).

    Every pixel the hint leaves unknown keeps the photo's alpha exactly; colours are untouched.

    Raises:
        ValueError: the hint is not the image's size.
    """
    from .cutout import outline_alpha

    alpha = outline_alpha(image)
    if alpha is None:
        return image
    out = image.copy()
    out.putalpha(Image.fromarray(apply_hint(alpha, hint), "L"))
    return out


@dataclass(frozen=True)
class HintedSegmenter:
    """A segmenter whose matte is constrained by a hint.

    A segmenter that takes the hint itself (``takes_hint``, e.g. the ONNX one: the hint then steers the
    product selection, the second pass's crop and the clean-up) gets it and its matte is used as it is. Any
    other segmenter's matte is constrained after the fact; its own foreground colours (``Matte.rgba``) are
    then dropped, so the cut-out decontaminates the colours again for the constrained alpha (where alpha is 1
    they are the photo's pixels either way).
    """

    inner: Segmenter
    hint: np.ndarray

    @property
    def name(self) -> str:
        return self.inner.name

    def segment(self, rgb: np.ndarray) -> Matte:
        if self.hint.shape != rgb.shape[:2]:
            raise ValueError(f"hint {self.hint.shape} does not match the photo {rgb.shape[:2]}")
        if getattr(self.inner, "takes_hint", False):
            return self.inner.segment(rgb, hint=self.hint)  # type: ignore[call-arg]
        matte = self.inner.segment(rgb)
        return replace(matte, alpha=apply_hint(matte.alpha, self.hint), rgba=None, box=None)
