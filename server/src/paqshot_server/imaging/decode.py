"""Decode and validate untrusted image bytes; normalise to 8-bit sRGB with EXIF orientation applied.

This is the door check for every product image (API, CLI, worker). It trusts nothing: the format is
decided by magic bytes, Pillow only opens the three allowed formats, pixel count is checked from the
header before any pixel is decoded, and animated images give their first frame only.
"""

from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageCms, ImageOps, PngImagePlugin

from ..errors import ImageTooLarge, UnsupportedImage, megabytes
from .jpegstructure import read_structure

log = logging.getLogger(__name__)

FORMATS = ("JPEG", "PNG", "WEBP")
# Longest side over shortest side: beyond it a product is a line in any output canvas (16:9 at most).
MAX_ASPECT = 100
MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
NAMES = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
ORIENTATION_TAG = 0x0112  # the EXIF tag
# Pillow decompresses each PNG text chunk (XMP, comments) up to MAX_TEXT_CHUNK, 1 MiB, and refuses the file beyond;
# real files carry more (an editor's XMP with its document history; breaker16 B16-5: a valid PNG with a 2 MB zTXt
# was refused as damaged). Raised to 16 MB a chunk; Pillow's bound on all of a file's text, MAX_TEXT_MEMORY
# (64 MiB, fixed when it was imported), still stops a decompression bomb.
PNG_TEXT_CHUNK_BYTES = 16_000_000
PngImagePlugin.MAX_TEXT_CHUNK = max(PngImagePlugin.MAX_TEXT_CHUNK, PNG_TEXT_CHUNK_BYTES)
# libpng keeps at most 1000 ancillary chunks of a file (its default PNG_USER_CHUNK_CACHE_MAX) and refuses the file
# beyond; Pillow has no such bound and walks every chunk in Python when it opens the file (breaker17 B17-8: 600,000
# empty tEXt chunks in 9 MB cost 2.5 s of intake CPU a request). Real files hold a few dozen.
PNG_MAX_CHUNKS = 1000
# Orientations that show the stored rows as columns (EXIF 2.32, tag 0x0112: 5-8 transpose, 1-4 do not).
_TRANSPOSED = frozenset((5, 6, 7, 8))


@dataclass(frozen=True)
class DecodedImage:
    """A validated image: 8-bit sRGB ``RGB`` or ``RGBA`` (alpha kept only when it says something)."""

    image: Image.Image
    source_format: str
    source_size: tuple[int, int]
    notes: tuple[str, ...] = ()


def orientation(img: Image.Image) -> int:
    """The EXIF orientation of an opened image, 1..8 (1: stored as shown; also for a missing or invalid tag,
    which viewers ignore). Reads the header only."""
    value = img.getexif().get(ORIENTATION_TAG, 1)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def display_size(img: Image.Image) -> tuple[int, int]:
    """(width, height) in pixels of an opened image as shown, its EXIF orientation applied. Header only."""
    width, height = img.size
    return (height, width) if orientation(img) in _TRANSPOSED else (width, height)


def sniff_format(data: bytes) -> str | None:
    """Return ``JPEG``, ``PNG`` or ``WEBP`` from the magic bytes, else None."""
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _describe(data: bytes) -> str:
    head = data[:16]
    for magic, name in (
        (b"GIF8", "GIF"),
        (b"BM", "BMP"),
        (b"%PDF", "PDF"),
        (b"II*\x00", "TIFF"),
        (b"MM\x00*", "TIFF"),
    ):
        if head.startswith(magic):
            return name
    if head[4:12] in (b"ftypavif", b"ftypheic", b"ftypheix", b"ftypmif1"):
        return "AVIF/HEIC"
    return "unrecognised data"


def decode_image(
    data: bytes, *, max_bytes: int, max_pixels: int, at_least: tuple[int, int] | None = None
) -> DecodedImage:
    """Validate and decode ``data``; raise ImageTooLarge / UnsupportedImage with a message a user can act on.

    A JPEG whose only defect is a missing end marker (the image data is complete) decodes as libjpeg and
    browsers show it, with a note; one whose image data is cut short is refused (see :func:`_jpeg_end_restored`).

    ``at_least`` (width, height): a JPEG may be decoded smaller, by libjpeg's DCT scaling (1/2, 1/4, 1/8: a
    fraction of the time and memory), down to the smallest scale that still covers that size; ``at_least`` is in
    the file's orientation (as its header reads), the checks are the same, and ``source_size`` stays the photo's
    full size as shown (its EXIF orientation applied, as to the image). Other formats decode whole.
    """
    if len(data) > max_bytes:
        raise ImageTooLarge(f"Product image is {len(data) / 1e6:.1f} MB; the limit is {megabytes(max_bytes)}.")
    if not data:
        raise UnsupportedImage("Product image is empty.")
    fmt = sniff_format(data)
    if fmt is None:
        raise UnsupportedImage(f"Image format not supported ({_describe(data)}); use JPEG, PNG or WebP.")
    if fmt == "JPEG":
        read_structure(data)  # refuses a file of more markers than real ones have before Pillow parses them
    elif fmt == "PNG":
        _count_png_chunks(data)  # the same for a PNG's chunks
    try:
        return _decode(data, fmt, max_pixels, at_least)
    except UnsupportedImage:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        log.info("could not decode %s (%d bytes): %s", fmt, len(data), exc)
        cut_short = isinstance(exc, EOFError) or "truncated" in str(exc)
        if fmt == "JPEG" and cut_short and not data.endswith(_JPEG_END):
            restored = _jpeg_end_restored(data, max_pixels)
            if restored is not None:
                return restored
        name = NAMES[fmt]
        if "MAX_TEXT" in str(exc):  # PngImagePlugin's text bounds (above): the pixels may be fine, the metadata is not
            raise UnsupportedImage(
                f"Image could not be read: its text metadata (PNG text chunks: XMP, comments) is over "
                f"{megabytes(PNG_TEXT_CHUNK_BYTES)} a chunk or {megabytes(PngImagePlugin.MAX_TEXT_MEMORY)} in all "
                "once decompressed. Save the PNG again without its metadata."
            ) from exc
        reason = "the file is cut short" if cut_short else f"the file is damaged, cut short or not a {name} file"
        raise UnsupportedImage(f"Image could not be decoded as {name}: {reason}.") from exc


def _count_png_chunks(data: bytes) -> None:
    """Walk the chunks of the PNG ``data`` before its image data (lengths only, at most :data:`PNG_MAX_CHUNKS`).

    Raises:
        UnsupportedImage: more than :data:`PNG_MAX_CHUNKS` chunks before the first IDAT.
    """
    at = 8  # past the signature
    for _ in range(PNG_MAX_CHUNKS + 1):
        if at + 8 > len(data) or data[at + 4 : at + 8] in (b"IDAT", b"IEND"):
            return
        at += 12 + int.from_bytes(data[at : at + 4], "big")  # length, type, data, CRC
    raise UnsupportedImage(
        f"Image could not be read: the PNG holds more than {PNG_MAX_CHUNKS:,} metadata chunks before its image "
        "(real files hold a few dozen). Save the PNG again without its metadata."
    )


def _fitting(width: int, height: int, max_pixels: int) -> str:
    """The largest ``WxH`` of the same aspect (rounded down, whole pixels) within ``max_pixels``."""
    scale = (max_pixels / (width * height)) ** 0.5
    w, h = int(width * scale), int(height * scale)
    while w * h > max_pixels:  # float rounding may leave it a pixel row over
        w, h = w - 1, max(1, int((w - 1) * height / width))
    return f"{w}x{h}"


def _decode(data: bytes, fmt: str, max_pixels: int, at_least: tuple[int, int] | None = None) -> DecodedImage:
    try:
        with warnings.catch_warnings():
            # A decompression-bomb warning is an error here: the pixel cap below is ours to enforce.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=[fmt])
            width, height = display_size(img)  # the user's words and ``source_size`` are about the photo as shown
            if width < 1 or height < 1:
                raise UnsupportedImage("Image has no pixels.")
            if width * height > max_pixels:
                # Exact counts: rounded to whole megapixels, a photo just over the limit read as equal to it.
                raise UnsupportedImage(
                    f"Image is {width}x{height} ({width * height:,} pixels); the limit is {max_pixels:,} pixels "
                    f"({max_pixels / 1e6:g} MP): scale it down (e.g. to {_fitting(width, height, max_pixels)}) "
                    "and send it again."
                )
            if max(width, height) > MAX_ASPECT * min(width, height):
                raise UnsupportedImage(
                    f"Image is {width}x{height}: one side is {max(width, height) / min(width, height):.0f} times "
                    f"the other; the limit is {MAX_ASPECT} times (crop the photo closer to the product)."
                )
            notes: list[str] = []
            if getattr(img, "n_frames", 1) > 1:
                notes.append("animated image: first frame used")
                img.seek(0)
            if at_least is not None and fmt == "JPEG":
                img.draft(img.mode, at_least)
            img.load()
            if fmt == "PNG" and _PNG_END not in data:
                notes.append("the PNG end chunk was missing; the image data is complete and was used as is")
            normalised = _normalise(img, png_bit_depth(data) if fmt == "PNG" else 8)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UnsupportedImage(
            f"Image has too many pixels; the limit is {max_pixels:,} pixels ({max_pixels / 1e6:g} MP)."
        ) from exc
    return DecodedImage(normalised, fmt, (width, height), tuple(notes))


_JPEG_END = b"\xff\xd9"
_PNG_END = b"IEND\xaeB`\x82"  # the IEND chunk's type and CRC
# Bytes that are no JPEG marker and no valid end of an entropy-coded segment: see _jpeg_end_restored.
_FILLER = b"\x55" * 64


def _jpeg_end_restored(data: bytes, max_pixels: int) -> DecodedImage | None:
    """The image of a JPEG that lacks only its end marker (EOI), or None when its image data is incomplete.

    libjpeg and browsers insert the missing marker and show what was decoded; we do the same, but only when
    nothing is missing: with the image data complete, bytes placed before the restored marker are skipped as
    extraneous and the pixels do not change; with data missing, the decoder reads those bytes as image data
    and the pixels change. (A progressive JPEG cut exactly between two scans passes as complete, at lower
    detail: libjpeg cannot tell either.)
    """
    body = data[:-1] if data.endswith(b"\xff") else data  # a cut between the marker's two bytes
    try:
        restored = _decode(body + _JPEG_END, "JPEG", max_pixels)
        probe = _decode(body + _FILLER + _JPEG_END, "JPEG", max_pixels)
    except (OSError, SyntaxError, ValueError, EOFError):
        return None
    if restored.image.tobytes() != probe.image.tobytes():
        return None
    note = "the JPEG end marker was missing; the image data is complete and was used as is"
    return DecodedImage(restored.image, "JPEG", restored.source_size, (*restored.notes, note))


def png_bit_depth(data: bytes) -> int:
    """Bits per sample (1, 2, 4, 8 or 16) from a PNG's IHDR (byte 24 of the file); 8 for data too short."""
    return data[24] if len(data) > 24 else 8


def _to_srgb(img: Image.Image) -> Image.Image:
    icc = img.info.get("icc_profile")
    if not icc:
        return img
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        dst = ImageCms.createProfile("sRGB")
        out_mode = "RGBA" if img.mode == "RGBA" else "RGB"
        if img.mode not in ("RGB", "RGBA", "CMYK", "L"):
            img = img.convert("RGBA" if "A" in img.getbands() else "RGB")
        # In place when the mode stays: the same lcms transform row by row, without a second image's memory (a
        # 40 MP photo's 120 MB: stored JPEGs keep their profile, so every worker's decode converts).
        in_place = img.mode == out_mode
        converted = ImageCms.profileToProfile(img, src, dst, outputMode=out_mode, inPlace=in_place)
        return img if in_place or converted is None else converted
    except (ImageCms.PyCMSError, OSError):
        # A broken embedded profile is common in the wild; the pixels are still usable as sRGB.
        return img


COLOUR_KEY_MODES = ("1", "L", "I", "I;16", "I;16B", "I;16L", "RGB")


def has_colour_key(img: Image.Image) -> bool:
    """Whether an opened image's transparency is one colour key (a greyscale or RGB PNG's ``tRNS``)."""
    return "transparency" in img.info and img.mode in COLOUR_KEY_MODES


def with_trns_alpha(img: Image.Image, bit_depth: int) -> Image.Image:
    """An RGBA image from a greyscale or RGB image whose transparency is a colour key (PNG ``tRNS``).

    Pixels equal to the key get alpha 0, all others 255, as libpng's tRNS-to-alpha does. ``bit_depth``: the
    PNG's bits per sample (IHDR). 16-bit greyscale is compared at 16 bits (Pillow keeps them); 16-bit RGB reaches
    us as 8 bits per sample, so its key is compared on those 8 bits (a colour within 1/256 of the key is
    transparent too). 2- and 4-bit greyscale reaches us as ``L`` with its samples scaled to 0..255 while Pillow
    leaves the key in the file's 0..3 or 0..15, so the key is scaled the same way (exact: 255 is 85 x 3 and
    17 x 15); 1-bit reaches us as ``1`` (booleans) with the key as 0 or 255.
    """
    key = img.info["transparency"]
    pixels = np.asarray(img)
    if img.mode == "RGB":
        if bit_depth == 16:
            key = tuple(int(v) >> 8 for v in key)
        alpha = np.any(pixels != np.asarray(key, dtype=pixels.dtype), axis=2)
        rgb = pixels
    else:  # "1", "L", "I;16", "I": one sample per pixel
        if img.mode == "1":
            key = bool(key)
        elif img.mode == "L" and bit_depth < 8:
            levels = (1 << bit_depth) - 1  # the key's low bits are its value (PNG spec, tRNS)
            key = (int(key) & levels) * (255 // levels)
        alpha = pixels != key
        scale = 1 / 257 if img.mode.startswith("I") else (255 if img.mode == "1" else 1)
        grey = np.round(pixels.astype(np.float64) * scale).astype(np.uint8)
        rgb = np.repeat(grey[..., None], 3, axis=2)
    out = Image.fromarray(np.dstack([rgb, np.where(alpha, 255, 0).astype(np.uint8)]), mode="RGBA")
    if "icc_profile" in img.info:  # converted to sRGB next, as for any image
        out.info["icc_profile"] = img.info["icc_profile"]
    return out


def _normalise(img: Image.Image, bit_depth: int = 8) -> Image.Image:
    if orientation(img) != 1:  # exif_transpose copies the whole image even when upright
        img = ImageOps.exif_transpose(img) or img  # keeps info (the tRNS key) from the source
    if has_colour_key(img):
        img = with_trns_alpha(img, bit_depth)
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: scale to 8 bits (Pillow's convert("L") would clip instead of scale).
        img = img.point(lambda v: v / 257).convert("L")
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("LA", "PA"):
        img = img.convert("RGBA")
    img = _to_srgb(img)
    if img.mode == "RGBA":
        lo, _hi = img.getchannel("A").getextrema()
        if lo == 255:
            img = img.convert("RGB")
    elif img.mode != "RGB":
        img = img.convert("RGB")
    img.info.clear()  # no EXIF/XMP/ICC travels further: stored and served files carry no metadata
    return img
