"""Fast path for the commonest upload: an 8-bit RGB or greyscale JPEG (with or without an ICC profile: every
phone photo has one; with or without an EXIF rotation: every phone photo taken upright has one).

Such a file is validated by walking its whole marker structure (``jpegstructure``: every segment checked as
libjpeg would check it, the entropy-coded data skipped, since libjpeg decodes any entropy-coded bytes) or, where
the walk is unsure, by a reduced-size decode that reads every entropy-coded byte; either way a truncated or
broken file is refused. It is stored as its own bytes minus metadata, but for its ICC profile and its EXIF
orientation (alone, in a minimal APP1): the worker's decode (``decode.decode_image``) converts to sRGB from the
one and turns the image by the other, to exactly the pixels the door's conversion would have stored. Re-encoding
it at the door (a lossless PNG) would cost ~10x more and change nothing the worker sees: for a 40 MP photo with a
profile, seconds of the API's CPU, ~300 MB of its memory and an 80 MB file (breaker, session 4); for a turned
12 MP photo, ~380 ms of the API's CPU against ~1 ms (lead, session 7).
"""

from __future__ import annotations

import io
import warnings

from PIL import Image

from .decode import MAX_ASPECT, ORIENTATION_TAG, display_size, orientation
from .jpegstructure import read_structure, with_icc_profile, with_segments


def strip_jpeg_metadata(data: bytes) -> bytes | None:
    """``data`` as it is stored (``jpegstructure.Structure.data``: APPn other than APP0/APP14, COM, fill bytes
    between segments and anything after EOI removed; the same object when there is nothing to remove), or None
    when its markers are not plain JPEG. Raises UnsupportedImage as ``read_structure`` does."""
    structure = read_structure(data)
    return structure.data if structure is not None else None


_FULL_PATH = (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning, Image.DecompressionBombError)


class Passthrough:
    """A JPEG that needs no normalisation at the door: the bytes to store (``data``: metadata but for its ICC
    profile removed), its ``size``, and :meth:`verify`. Only a verified file may be kept; the two steps are apart
    so that the caller can store ``data`` while it is verified (when the marker walk was unsure, a decode)."""

    def __init__(self, data: bytes, size: tuple[int, int], image: Image.Image, *, certain: bool) -> None:
        self.data, self.size, self._image = data, size, image  # size: the photo's as shown (the image is drafted)
        self.certain = certain  # the marker walk vouches that libjpeg decodes it

    def verify(self) -> bool:
        """Whether the whole file decodes (False for truncated or corrupt data: the full path says why): the
        marker walk's word, else a reduced-size decode (libjpeg draft 1/8) that reads every entropy-coded byte."""
        if self.certain:
            return True
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                self._image.load()
        except _FULL_PATH:
            return False
        return True


def jpeg_passthrough_plan(data: bytes, max_pixels: int) -> Passthrough | None:
    """The JPEG as it would be stored if its data decodes (headers read, nothing decoded yet), or None when it
    needs the full path (another format, CMYK, too many pixels, broken markers). The stored bytes keep the ICC
    profile (as Pillow read it: ``jpegstructure.with_icc_profile``) and the EXIF orientation (2..8, alone in a
    minimal APP1) and no other metadata; ``size`` is the photo's as shown.

    Raises:
        UnsupportedImage: more markers than real files have (``jpegstructure.MAX_MARKERS``), before Pillow parses
            them.
    """
    structure = read_structure(data)  # first: it bounds the markers Pillow's slower header parser will meet
    if structure is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=["JPEG"])
            if img.mode not in ("RGB", "L") or img.width * img.height > max_pixels:
                return None
            if max(img.size) > MAX_ASPECT * min(img.size):  # refused by the full path, in its words
                return None
            turn, size, profile = orientation(img), display_size(img), img.info.get("icc_profile")
            img.draft(img.mode, (max(1, img.width // 8), max(1, img.height // 8)))
    except _FULL_PATH:
        return None  # the full path reports the precise error
    stored = with_icc_profile(structure.data, profile) if profile else structure.data
    if turn != 1:
        exif = Image.Exif()
        exif[ORIENTATION_TAG] = turn
        stored = with_segments(stored, [(b"\xe1", exif.tobytes())])  # tobytes: the "Exif\0\0" header and TIFF
    return Passthrough(stored, size, img, certain=structure.certain)


def jpeg_passthrough(data: bytes, max_pixels: int) -> tuple[bytes, tuple[int, int]] | None:
    """The bytes to store (no metadata but the ICC profile) and size of a JPEG needing no normalisation at the door,
    else None (take the full path)."""
    plan = jpeg_passthrough_plan(data, max_pixels)
    return (plan.data, plan.size) if plan is not None and plan.verify() else None
