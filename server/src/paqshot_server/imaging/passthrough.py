"""Fast path for the commonest upload: a plain 8-bit sRGB JPEG with no rotation.

Such a file is validated with a reduced-size decode (every entropy-coded byte is still read, so a
truncated or corrupt file is refused) and stored as its own bytes minus metadata segments. Re-encoding it
to PNG at the door would cost ~10x more and change nothing the worker sees.
"""

from __future__ import annotations

import io
import re
import warnings

from PIL import Image

from .decode import MAX_ASPECT

# APPn segments to drop: everything but APP0 (JFIF) and APP14 (Adobe: tells the decoder the colour transform).
_KEEP_APP = {0xE0, 0xEE}
_ORIENTATION = 0x0112
_FF_RUN = re.compile(rb"\xff+")


def strip_jpeg_metadata(data: bytes) -> bytes | None:
    """Remove EXIF/XMP/IPTC/ICC/comment segments (and fill bytes between segments); None when the marker structure
    is not plain JPEG. A file with nothing to remove is returned as it is (the same object: a 1 MB copy costs
    ~1.5 ms at the door, mostly page faults); otherwise the kept parts go into one buffer made at the first byte
    dropped. Memory is at most one copy of ``data`` whatever its structure (a run of fill bytes is skipped in one
    step; a Python object per dropped part made a 7 MB run of fill bytes cost 1.9 GB)."""
    if data[:2] != b"\xff\xd8":
        return None
    view = memoryview(data)
    out: bytearray | None = None  # the kept bytes before ``pos``, once something was dropped
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        run = _FF_RUN.match(data, pos)
        assert run is not None  # data[pos] is 0xFF
        if run.end() - pos > 1:  # fill bytes before the marker's own 0xFF: dropped
            out = bytearray(view[:pos]) if out is None else out
            pos = run.end() - 1
            continue
        marker = data[pos + 1]
        if marker == 0xDA:  # start of scan: the rest is image data
            if out is None:
                return data
            out += view[pos:]
            return bytes(out)
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2 or pos + 2 + length > len(data):
            return None
        end = pos + 2 + length
        if (0xE0 <= marker <= 0xEF and marker not in _KEEP_APP) or marker == 0xFE:
            out = bytearray(view[:pos]) if out is None else out
        elif out is not None:
            out += view[pos:end]
        pos = end
    return None


_FULL_PATH = (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning, Image.DecompressionBombError)


class Passthrough:
    """A JPEG that needs no normalisation by its headers: the bytes to store (``data``: metadata removed), its
    ``size``, and :meth:`verify`, the reduced-size decode that reads every entropy-coded byte. Only a verified
    file may be kept; the two steps are apart so that the caller can store ``data`` while it is verified."""

    def __init__(self, data: bytes, size: tuple[int, int], image: Image.Image) -> None:
        self.data, self.size, self._image = data, size, image  # size: the file's (the image is drafted smaller)

    def verify(self) -> bool:
        """Whether the whole file decodes (False for truncated or corrupt data: the full path says why)."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                self._image.load()
        except _FULL_PATH:
            return False
        return True


def jpeg_passthrough_plan(data: bytes, max_pixels: int) -> Passthrough | None:
    """The JPEG as it would be stored if its data decodes (headers read, nothing decoded yet), or None when it
    needs the full path (another format, CMYK, an ICC profile, a rotation, too many pixels, broken markers)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=["JPEG"])
            if img.mode not in ("RGB", "L") or img.info.get("icc_profile") or img.width * img.height > max_pixels:
                return None
            if max(img.size) > MAX_ASPECT * min(img.size):  # refused by the full path, in its words
                return None
            if img.getexif().get(_ORIENTATION, 1) != 1:
                return None
            size = img.size
            img.draft(img.mode, (max(1, size[0] // 8), max(1, size[1] // 8)))
    except _FULL_PATH:
        return None  # the full path reports the precise error
    stripped = strip_jpeg_metadata(data)
    return Passthrough(stripped, size, img) if stripped is not None else None


def jpeg_passthrough(data: bytes, max_pixels: int) -> tuple[bytes, tuple[int, int]] | None:
    """Metadata-free bytes and size of a JPEG needing no normalisation, else None (take the full path)."""
    plan = jpeg_passthrough_plan(data, max_pixels)
    return (plan.data, plan.size) if plan is not None and plan.verify() else None
